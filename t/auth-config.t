# ngx_gw_auth: bad directive values fail the configuration, naming the
# value; good ones load.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

system('openssl', 'req', '-x509', '-new', '-key',
       "$ENV{TEST_NGINX_AUTH_DIR}/ec256.key", '-subj', '/CN=test',
       '-days', '1', '-out', "$ENV{TEST_NGINX_AUTH_DIR}/ec256.crt") == 0
    or die "openssl req failed\n";

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('config', $block->config . q{
        location /backend {
            return 200 "ok\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: unknown method
--- config
location /t { gw_auth jwt token; }
--- must_die
--- error_log
invalid gw_auth method "token"

=== TEST 2: "none" cannot be a key's algorithm
--- config
location /t { gw_auth_jwt_key none secret=$TEST_NGINX_HS_SECRET; }
--- must_die
--- error_log
invalid JWT algorithm "none"

=== TEST 3: "none" cannot be allowed
--- config
location /t { gw_auth_jwt_algs RS256 none; }
--- must_die
--- error_log
invalid JWT algorithm "none"

=== TEST 4: a HMAC secret shorter than the hash
--- config
location /t { gw_auth_jwt_key HS256 secret=too-short; }
--- must_die
--- error_log
secret is shorter than the hash of "HS256" (32 bytes)

=== TEST 5: a secret for an asymmetric algorithm
--- config
location /t { gw_auth_jwt_key RS256 secret=$TEST_NGINX_HS_SECRET; }
--- must_die
--- error_log
"RS256" needs file=, not a secret

=== TEST 6: a PEM file for HMAC
--- config
location /t { gw_auth_jwt_key HS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub; }
--- must_die
--- error_log
"HS256" needs secret= or secret_file=, not file=

=== TEST 7: an EC key used for RS256
--- config
location /t { gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/ec256.pub; }
--- must_die
--- error_log eval
qr{"\S+/ec256\.pub": key is not an RSA key, but is used for "RS256"}

=== TEST 8: an RSA key under 2048 bits
--- config
location /t { gw_auth_jwt_key PS256 file=$TEST_NGINX_AUTH_DIR/rsa1024.pub; }
--- must_die
--- error_log
RSA key is shorter than 2048 bits for "PS256"

=== TEST 9: a P-384 key used for ES256
--- config
location /t { gw_auth_jwt_key ES256 file=$TEST_NGINX_AUTH_DIR/ec384.pub; }
--- must_die
--- error_log
key is not an EC key of the curve of "ES256"

=== TEST 10: an RSA key used for EdDSA
--- config
location /t { gw_auth_jwt_key EdDSA file=$TEST_NGINX_AUTH_DIR/rsa.pub; }
--- must_die
--- error_log
key is not an Ed25519 or Ed448 key for "EdDSA"

=== TEST 11: a missing key file
--- config
location /t { gw_auth_jwt_key RS256 file=/nonexistent/key.pem; }
--- must_die
--- error_log
open() "/nonexistent/key.pem" failed

=== TEST 12: a file without a public key
--- user_files
>>> junk.pem
not a key
--- config
location /t { gw_auth_jwt_key RS256 file=$TEST_NGINX_HTML_DIR/junk.pem; }
--- must_die
--- error_log eval
qr{no public key or certificate in "\S+/junk\.pem"}

=== TEST 13: an unknown parameter of gw_auth_jwt_key
--- config
location /t { gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub use=sig; }
--- must_die
--- error_log
invalid parameter "use=sig"

=== TEST 14: gw_auth_jwt_key with both a file and a secret
--- config
location /t { gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET secret_file=$TEST_NGINX_AUTH_DIR/hs.secret file=$TEST_NGINX_AUTH_DIR/rsa.pub; }
--- must_die
--- error_log
gw_auth_jwt_key needs exactly one of file=, secret= or secret_file=

=== TEST 15: a JWKS file that is not JSON
--- user_files
>>> bad.json
{"keys": [
--- config
location /t { gw_auth_jwt_keys $TEST_NGINX_HTML_DIR/bad.json; }
--- must_die
--- error_log eval
qr{invalid JWKS "\S+/bad\.json": not valid JSON}

=== TEST 16: a JWKS without "keys"
--- user_files
>>> empty.json
{"kty": "RSA"}
--- config
location /t { gw_auth_jwt_keys $TEST_NGINX_HTML_DIR/empty.json; }
--- must_die
--- error_log
no "keys" array

=== TEST 17: a JWKS EC key whose alg does not match its curve
--- user_files
>>> ec.json
{"keys": [{"kty": "EC", "crv": "P-256", "alg": "ES384", "x": "AA", "y": "AA"}]}
--- config
location /t { gw_auth_jwt_keys $TEST_NGINX_HTML_DIR/ec.json; }
--- must_die
--- error_log
an EC key's "alg" does not match its curve

=== TEST 18: a JWKS EC key with a point of the wrong size
--- user_files
>>> ec.json
{"keys": [{"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}]}
--- config
location /t { gw_auth_jwt_keys $TEST_NGINX_HTML_DIR/ec.json; }
--- must_die
--- error_log
a key has invalid parameters

=== TEST 19: a JWKS oct key with a non-HMAC alg
--- user_files
>>> oct.json
{"keys": [{"kty": "oct", "alg": "RS256", "k": "c2VjcmV0"}]}
--- config
location /t { gw_auth_jwt_keys $TEST_NGINX_HTML_DIR/oct.json; }
--- must_die
--- error_log
an oct key has a non-HMAC "alg"

=== TEST 20: a JWKS with only encryption keys
--- user_files
>>> enc.json
{"keys": [{"kty": "RSA", "use": "enc", "n": "AQAB", "e": "AQAB"}]}
--- config
location /t { gw_auth_jwt_keys $TEST_NGINX_HTML_DIR/enc.json; }
--- must_die
--- error_log
no signature keys

=== TEST 21: unknown claim operator
--- config
location /t { gw_auth_jwt_claim role like admin; }
--- must_die
--- error_log
invalid claim operator "like"

=== TEST 22: empty element in a claim path
--- config
location /t { gw_auth_jwt_claim org..team eq x; }
--- must_die
--- error_log
invalid claim path "org..team"

=== TEST 23: gt needs a number
--- config
location /t { gw_auth_jwt_claim age gt eighteen; }
--- must_die
--- error_log
invalid number "eighteen"

=== TEST 24: match needs a valid regex
--- config
location /t { gw_auth_jwt_claim email match "(unclosed"; }
--- must_die
--- error_log
invalid regex "(unclosed"

=== TEST 25: eq needs exactly one value, exists none
--- config
location /t { gw_auth_jwt_claim role eq a b; }
--- must_die
--- error_log
wrong number of values for claim operator "eq"

=== TEST 26: exists takes no value
--- config
location /t { gw_auth_jwt_claim role exists yes; }
--- must_die
--- error_log
wrong number of values for claim operator "exists"

=== TEST 27: gw_auth_zone too small
--- http_config
gw_auth_zone tokens size=1k;
--- config
--- must_die
--- error_log
invalid gw_auth_zone size "size=1k"

=== TEST 28: gw_auth_zone without size=
--- http_config
gw_auth_zone tokens 1m;
--- config
--- must_die
--- error_log
invalid parameter "1m"

=== TEST 29: gw_auth_jwt_cache with a bad time
--- config
location /t { gw_auth_jwt_cache soon; }
--- must_die
--- error_log
invalid gw_auth_jwt_cache time "soon"

=== TEST 30: gw_auth_jwt_max_depth out of range
--- config
location /t { gw_auth_jwt_max_depth 0; }
--- must_die
--- error_log
"gw_auth_jwt_max_depth" directive must be between 1 and 64

=== TEST 31: gw_auth_apikey_from with an unknown source
--- config
location /t { gw_auth_apikey_from cookie=k; }
--- must_die
--- error_log
invalid gw_auth_apikey_from "cookie=k"

=== TEST 32: API key file: unknown field
--- user_files
>>> keys.txt
sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae consumer=a
sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9 consumer=b role=admin
--- config
location /t { gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt; }
--- must_die
--- error_log eval
qr{unknown field "role=admin" in "\S+/keys\.txt", line 2}

=== TEST 33: API key file: a key in clear is not a hash
--- user_files
>>> keys.txt
my-secret-key consumer=a
--- config
location /t { gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt; }
--- must_die
--- error_log eval
qr{unknown field "my-secret-key" in "\S+/keys\.txt", line 1}

=== TEST 34: API key file: bad hex, no consumer, bad date, duplicate
--- user_files
>>> k1.txt
sha256:zz26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae consumer=a
--- config
location /t { gw_auth_apikey_file $TEST_NGINX_HTML_DIR/k1.txt; }
--- must_die
--- error_log eval
qr{invalid sha256 hash in "\S+/k1\.txt", line 1}

=== TEST 35: API key file: no consumer
--- user_files
>>> k2.txt
sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae plan=a
--- config
location /t { gw_auth_apikey_file $TEST_NGINX_HTML_DIR/k2.txt; }
--- must_die
--- error_log eval
qr{no consumer= in "\S+/k2\.txt", line 1}

=== TEST 36: API key file: bad expiry date
--- user_files
>>> k3.txt
sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae consumer=a expires=31/12/2030
--- config
location /t { gw_auth_apikey_file $TEST_NGINX_HTML_DIR/k3.txt; }
--- must_die
--- error_log eval
qr{invalid expires= date in "\S+/k3\.txt", line 1}

=== TEST 37: API key file: the same hash twice
--- user_files
>>> k4.txt
sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae consumer=a
sha256:2C26B46B68FFC68FF99B453C1D30413413422D706483BFA0F98A5E886266E7AE consumer=b
--- config
location /t { gw_auth_apikey_file $TEST_NGINX_HTML_DIR/k4.txt; }
--- must_die
--- error_log eval
qr{duplicate key hash in "\S+/k4\.txt" \(consumers "a" and "b"\)}

=== TEST 38: gw_auth jwt without keys
--- config
location /t { gw_auth jwt; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend; }
--- must_die
--- error_log
"gw_auth jwt" needs gw_auth_jwt_key, gw_auth_jwt_keys or gw_auth_jwt_keys_url

=== TEST 39: gw_auth apikey without a key file
--- config
location /t { gw_auth apikey; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend; }
--- must_die
--- error_log
"gw_auth apikey" needs gw_auth_apikey_file

=== TEST 40: keys at server level are inherited, a location's own keys replace them
--- config
gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
location /t {
    gw_auth jwt;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /t2 {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t2"]
--- more_headers eval
["Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'a' }),
 "Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'a' })]
--- error_code eval
[200, 401]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 41: a certificate works as a key file
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key ES256 file=$TEST_NGINX_AUTH_DIR/ec256.crt;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request
GET /t
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('ES256', { sub => 'a' })
--- response_body
ok
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 42: gw_auth_jwt_keys_url needs a URI
--- config
location /t { gw_auth_jwt_keys_url idp.example.com/jwks; }
--- must_die
--- error_log
gw_auth_jwt_keys_url needs the URI of a location, not "idp.example.com/jwks"

=== TEST 43: gw_auth_jwt_keys_url with a bad refresh
--- config
location /t { gw_auth_jwt_keys_url /_jwks refresh=often; }
--- must_die
--- error_log
invalid time in "refresh=often"

=== TEST 44: gw_auth_jwt_keys_url with an unknown parameter
--- config
location /t { gw_auth_jwt_keys_url /_jwks every=1m; }
--- must_die
--- error_log
invalid parameter "every=1m"

=== TEST 45: gw_auth_introspect needs a URI
--- config
location /t { gw_auth_introspect https://idp/introspect; }
--- must_die
--- error_log
gw_auth_introspect needs the URI of a location, not "https://idp/introspect"

=== TEST 46: gw_auth_introspect with a bad cache time
--- config
location /t { gw_auth_introspect /_i cache=forever; }
--- must_die
--- error_log
invalid time in "cache=forever"

=== TEST 47: gw_auth_introspect with an unknown parameter
--- config
location /t { gw_auth_introspect /_i ttl=5m; }
--- must_die
--- error_log
invalid parameter "ttl=5m"

=== TEST 48: gw_auth introspect without gw_auth_introspect
--- config
location /t { gw_auth introspect; proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend; }
--- must_die
--- error_log
"gw_auth introspect" needs gw_auth_introspect

=== TEST 49: duplicate gw_auth
--- config
location /t { gw_auth jwt; gw_auth apikey; }
--- must_die
--- error_log
"gw_auth" directive is duplicate

=== TEST 50: duplicate gw_auth_zone name
--- http_config
gw_auth_zone a size=1m;
gw_auth_zone a size=1m;
--- config
--- must_die
--- error_log
"gw_auth_zone" directive is duplicate


=== TEST 51: gw_auth_zone worker_cache that is not a number
--- http_config
gw_auth_zone tokens size=1m worker_cache=lots;
--- config
--- must_die
--- error_log
invalid gw_auth_zone worker_cache "worker_cache=lots"

=== TEST 52: gw_auth_zone worker_cache above 1048576
--- http_config
gw_auth_zone tokens size=1m worker_cache=2000000;
--- config
--- must_die
--- error_log
invalid gw_auth_zone worker_cache "worker_cache=2000000"

=== TEST 53: gw_auth_zone with an unknown third parameter
--- http_config
gw_auth_zone tokens size=1m workers=4;
--- config
--- must_die
--- error_log
invalid parameter "workers=4"

=== TEST 54: gw_auth_zone with worker_cache=100 authenticates as usual
--- http_config
gw_auth_zone tokens size=1m worker_cache=100;
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["", "Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'w' }),
 "Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'w' })]
--- error_code eval
[401, 200, 200]
--- response_body eval
[qq{{"type":"about:blank","title":"Unauthorized","status":401,"detail":"authentication required"}\r\n},
 "ok\n", "ok\n"]
--- no_error_log
[error]
[emerg]

=== TEST 55: gw_auth_consumer_claim with an empty path step
--- config
location /t { gw_auth_consumer_claim client..id; }
--- must_die
--- error_log
invalid gw_auth_consumer_claim "client..id"

=== TEST 56: gw_auth_plan_claim ending with a dot
--- config
location /t { gw_auth_plan_claim account.; }
--- must_die
--- error_log
invalid gw_auth_plan_claim "account."

=== TEST 57: duplicate gw_auth_consumer_claim
--- config
location /t { gw_auth_consumer_claim a; gw_auth_consumer_claim b; }
--- must_die
--- error_log
"gw_auth_consumer_claim" directive is duplicate

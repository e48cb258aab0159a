# ngx_gw_auth: every JWS algorithm, keys from PEM files, secrets and JWKS.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('request', "GET /t\n") unless defined $block->request;
    $block->set_value('config', $block->config . q{
        location /backend {
            return 200 "consumer=$http_x_consumer\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: HS256 with a secret
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'alice' })
--- response_body
consumer=alice
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: HS384 with a secret file
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS384 secret_file=$TEST_NGINX_AUTH_DIR/hs.secret;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('HS384', { sub => 'bob' })
--- response_body
consumer=bob
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 3: HS512
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS512 secret_file=$TEST_NGINX_AUTH_DIR/hs.secret;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('HS512', { sub => 'carol' })
--- response_body
consumer=carol
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 4: RS256 from a PEM public key
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('RS256', { sub => 'rs256' })
--- response_body
consumer=rs256
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 5: RS384
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS384 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('RS384', { sub => 'rs384' })
--- response_body
consumer=rs384
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 6: RS512
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS512 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('RS512', { sub => 'rs512' })
--- response_body
consumer=rs512
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 7: PS256
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key PS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('PS256', { sub => 'ps256' })
--- response_body
consumer=ps256
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 8: PS384 and PS512 keys side by side
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key PS384 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_jwt_key PS512 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . GwAuth::jwt('PS384', { sub => 'ps384' }),
 "Authorization: Bearer " . GwAuth::jwt('PS512', { sub => 'ps512' })]
--- response_body eval
["consumer=ps384\n", "consumer=ps512\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 9: ES256
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key ES256 file=$TEST_NGINX_AUTH_DIR/ec256.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('ES256', { sub => 'es256' })
--- response_body
consumer=es256
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 10: ES384
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key ES384 file=$TEST_NGINX_AUTH_DIR/ec384.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('ES384', { sub => 'es384' })
--- response_body
consumer=es384
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 11: ES512 (P-521, 66-byte r and s)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key ES512 file=$TEST_NGINX_AUTH_DIR/ec521.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('ES512', { sub => 'es512' })
--- response_body
consumer=es512
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 12: EdDSA (Ed25519)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key EdDSA file=$TEST_NGINX_AUTH_DIR/ed25519.pub;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('EdDSA', { sub => 'ed' })
--- response_body
consumer=ed
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 13: JWKS file: RSA, EC, OKP and oct keys picked by kid
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys $TEST_NGINX_AUTH_DIR/jwks.json;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . GwAuth::jwt('RS256', { sub => 'j-rsa' }, kid => 'rsa'),
 "Authorization: Bearer " . GwAuth::jwt('ES256', { sub => 'j-ec' }, kid => 'ec256'),
 "Authorization: Bearer " . GwAuth::jwt('EdDSA', { sub => 'j-ed' }, kid => 'ed'),
 "Authorization: Bearer " . GwAuth::jwt('HS512', { sub => 'j-oct' }, kid => 'oct')]
--- response_body eval
["consumer=j-rsa\n", "consumer=j-ec\n", "consumer=j-ed\n", "consumer=j-oct\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 14: JWKS: a "use":"enc" key is never used to verify
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys $TEST_NGINX_AUTH_DIR/jwks.json;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('RS256', { sub => 'x' }, kid => 'enc', key => 'rsa2')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="unknown key"
Content-Type: application/problem+json
--- response_body eval
'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"unknown key"}' . "\r\n"
--- no_error_log
[error]
[alert]

=== TEST 15: a token signed by another RSA key: bad signature
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer " . GwAuth::jwt('RS256', { sub => 'x' }, key => 'rsa2')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="bad signature"
--- response_body eval
'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"bad signature"}' . "\r\n"
--- error_log eval
qr/gw_auth: token [0-9a-f]{12} rejected: bad signature/
--- no_error_log
[error]
[alert]

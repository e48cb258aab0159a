# ngx_gw_auth: API keys from a file of SHA-256 hashes, from a header or a
# query argument; expiry; scopes; a reload picks up a new file; keys made
# by scripts/gw-apikey.

BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

master_on();

our %Made;
{
    my $out = `$FindBin::Bin/../scripts/gw-apikey made-by-script plan=silver scopes=x,y`;
    die "gw-apikey failed\n" if $?;
    ($Made{key}) = $out =~ /^key:  (\S+)$/m;
    ($Made{line}) = $out =~ /^line: (.+)$/m;
}

our $Keys = join "\n",
    '# consumers of the shop API',
    GwAuth::apikey_hash('key-alice') . ' consumer=alice plan=gold scopes=orders:read,orders:write',
    '',
    GwAuth::apikey_hash('key-bob') . ' consumer=bob',
    GwAuth::apikey_hash('key-old') . ' consumer=old expires=2020-01-01',
    GwAuth::apikey_hash('key-later') . ' consumer=later expires=2999-12-31T23:59:59Z',
    $Made{line}, '';

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('request', "GET /t\n") unless defined $block->request;

    $block->set_value('user_files', ">>> keys.txt\n$Keys")
        unless defined $block->user_files;

    $block->set_value('config', ($block->config // q{
        location /t {
            gw_auth apikey;
            gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
            proxy_set_header X-C "$gw_auth_consumer;$gw_auth_plan;$gw_auth_scopes;$gw_auth_method;$gw_auth_result";
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        }
    }) . q{
        location /backend {
            return 200 "$http_x_c\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: a key from X-API-Key
--- more_headers
X-API-Key: key-alice
--- response_body
alice;gold;orders:read orders:write;apikey;OK
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: keys without plan or scopes; an expiry in the future
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-bob", "x-api-key: key-later"]
--- response_body eval
["bob;;;apikey;OK\n", "later;;;apikey;OK\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 3: an unknown key
--- log_level: info
--- more_headers
X-API-Key: key-mallory
--- error_code: 401
--- response_headers
WWW-Authenticate: ApiKey realm="api"
Content-Type: application/problem+json
--- response_body eval
'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"unknown API key"}' . "\r\n"
--- error_log eval
qr/gw_auth: API key [0-9a-f]{12} rejected: unknown/
--- no_error_log
key-mallory
[error]

=== TEST 4: an expired key
--- more_headers
X-API-Key: key-old
--- error_code: 401
--- response_body eval
'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"API key expired"}' . "\r\n"

=== TEST 5: no key
--- error_code: 401
--- response_headers
WWW-Authenticate: ApiKey realm="api"
--- response_body eval
'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"authentication required"}' . "\r\n"

=== TEST 6: a key from a query argument
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_auth_apikey_from query=api_key;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t?a=1&api_key=key-bob", "GET /t?api_key=nope", "GET /t"]
--- more_headers eval
["", "", "X-API-Key: key-bob"]
--- error_code eval
[200, 401, 401]
--- response_body_like eval
["^bob\$", "unknown API key", "authentication required"]

=== TEST 7: a key from another header
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_auth_apikey_from header=Api-Token;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers
Api-Token: key-alice
--- response_body
alice

=== TEST 8: scopes of API keys
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_auth_scope orders:write;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-alice", "X-API-Key: key-bob"]
--- error_code eval
[200, 403]
--- response_body eval
["alice\n",
 '{"type":"about:blank","title":"Forbidden","status":403,"detail":"insufficient scope"}' . "\r\n"]

=== TEST 9: jwt or apikey: either passes; a bad token does not block a good key
--- config
location /t {
    gw_auth jwt apikey;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    proxy_set_header X-C "$gw_auth_consumer;$gw_auth_method";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'jwt-user' }),
 "X-API-Key: key-bob",
 "Authorization: Bearer bad.token.x\nX-API-Key: key-bob",
 "Authorization: Bearer " . GwAuth::jwt('HS256', { sub => 'x', exp => time - 9 }) . "\nX-API-Key: key-mallory"]
--- error_code eval
[200, 200, 200, 401]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", "!WWW-Authenticate",
 'WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token expired"']

=== TEST 10: a key made by scripts/gw-apikey
--- more_headers eval
"X-API-Key: $main::Made{key}"
--- response_body
made-by-script;silver;x y;apikey;OK

=== TEST 11: the file changes: before the reload the new key is unknown
--- more_headers
X-API-Key: key-new
--- error_code: 401

=== TEST 12: after nginx -s reload the new key works, a removed one does not
--- user_files eval
">>> keys.txt\n" . GwAuth::apikey_hash('key-new') . " consumer=newcomer\n"
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-new", "X-API-Key: key-alice"]
--- error_code eval
[200, 401]
--- response_body_like eval
["^newcomer;", "unknown API key"]

# ngx_gw_auth: how keys are chosen: kids, several keys of one algorithm,
# JWKS keys without "alg", Ed448, skipped keys, and token sources.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

sub bearer { return "Authorization: Bearer $_[0]" }

sub challenge {
    return 'WWW-Authenticate: Bearer realm="api", error="invalid_token", '
           . qq{error_description="$_[0]"};
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('request', "GET /t\n") unless defined $block->request;

    $block->set_value('config', $block->config . q{
        location /backend {
            return 200 "$http_x_c\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: JWKS without "alg": P-384 binds to ES384, oct to HS256; Ed448; ES512
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys $TEST_NGINX_AUTH_DIR/jwks-more.json;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::jwt('ES384', { sub => 'p384' }, kid => 'ec384')),
 main::bearer(GwAuth::jwt('ES512', { sub => 'p521' }, kid => 'ec521')),
 main::bearer(GwAuth::jwt('EdDSA', { sub => 'ed448' }, kid => 'ed448', key => 'ed448')),
 main::bearer(GwAuth::jwt('HS256', { sub => 'oct' }, kid => 'hs')),
 main::bearer(GwAuth::jwt('HS384', { sub => 'oct384' }, kid => 'hs'))]
--- error_code eval
[200, 200, 200, 200, 401]
--- response_body eval
["p384\n", "p521\n", "ed448\n", "oct\n",
 '{"type":"about:blank","title":"Unauthorized","status":401,"detail":"unknown key"}' . "\r\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: a JWKS oct key bound to HS512 never verifies HS256
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys $TEST_NGINX_AUTH_DIR/jwks.json;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::jwt('HS256', { sub => 'x' }, kid => 'oct'))
--- error_code: 401
--- response_headers eval
main::challenge('unknown key')

=== TEST 3: several keys of one algorithm without kids: each is tried
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa2.pub;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::jwt('RS256', { sub => 'one' })),
 main::bearer(GwAuth::jwt('RS256', { sub => 'two' }, key => 'rsa2', kid => 'any'))]
--- response_body eval
["one\n", "two\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 4: a key with kid= is used only by tokens naming that kid (or none)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub kid=current;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::jwt('RS256', { sub => 'named' }, kid => 'current')),
 main::bearer(GwAuth::jwt('RS256', { sub => 'unnamed' })),
 main::bearer(GwAuth::jwt('RS256', { sub => 'other' }, kid => 'previous'))]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", main::challenge('unknown key')]

=== TEST 5: a kid that is not a string
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"alg":"HS256","kid":7}',
                            '{"sub":"a","exp":' . (time + 60) . '}'))
--- error_code: 401
--- response_headers eval
main::challenge('invalid kid')

=== TEST 6: the token from a query argument
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_token $arg_access_token;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
"GET /t?x=1&access_token=" . GwAuth::jwt('HS256', { sub => 'query' })
--- response_body
query
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 7: a missing alg
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"typ":"JWT"}',
                            '{"sub":"a","exp":' . (time + 60) . '}'))
--- error_code: 401
--- response_headers eval
main::challenge('missing alg')

=== TEST 8: a payload that is JSON but not an object
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"alg":"HS256"}', '["sub","exp"]'))
--- error_code: 401
--- response_headers eval
main::challenge('invalid JSON')

=== TEST 9: gw_auth_jwt_max_size and gw_auth_jwt_max_depth lowered
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_max_size 300;
    gw_auth_jwt_max_depth 2;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::jwt('HS256', { sub => 'a', pad => 'x' x 300 })),
 main::bearer(GwAuth::jwt('HS256', { sub => 'a', o => { p => { q => 1 } } })),
 main::bearer(GwAuth::jwt('HS256', { sub => 'a', o => { p => 1 } }))]
--- error_code eval
[401, 401, 200]
--- response_headers eval
[main::challenge('token too large'), main::challenge('JSON nested too deeply'),
 "!WWW-Authenticate"]

=== TEST 10: gw_auth_jwt_require_exp off accepts a token without exp
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_require_exp off;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::jwt('HS256', { sub => 'forever' }, no_exp => 1)),
 main::bearer(GwAuth::jwt('HS256', { sub => 'old', exp => time - 5 }))]
--- error_code eval
[200, 401]
--- response_headers eval
["!WWW-Authenticate", main::challenge('token expired')]

use Digest::SHA qw(sha256_hex);
use Test::Nginx::Socket 'no_plan';

# ngx_gw_cache behind ngx_gw_auth (API keys) and ngx_gw_ratelimit: no
# cached body without credentials, a consumer's response is shared only when
# it says public or gw_cache_private keys it per consumer, and a consumer's
# rate limit (PRECONTENT, like the lookup) wins in either load order.
no_shuffle();

my $keys = join "", map { "sha256:" . sha256_hex("key-$_") . " consumer=$_\n" } qw(alice bob);

add_block_preprocessor(sub {
    my $block = shift;
    $block->{user_files} //= [">>> keys.txt\n$keys"];
    $block->{http_config} //= [qq{gw_cache_zone c size=1m;\n}];
});

run_tests();

__DATA__

=== TEST 1: per-consumer entries; no credentials or a bad key get 401, never the cached body
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    gw_cache_private $gw_auth_consumer;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "orders of $http_x_consumer\n";
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-alice", "X-API-Key: key-bob", "X-API-Key: key-alice", "X-API-Key: key-bob", "", "X-API-Key: key-mallory"]
--- error_code eval
[200, 200, 200, 200, 401, 401]
--- response_body_like eval
["^orders of alice\n\$", "^orders of bob\n\$", "^orders of alice\n\$", "^orders of bob\n\$", "^(?!orders)", "^(?!orders)"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: HIT", "!X-Cache-Status", "!X-Cache-Status"]
--- no_error_log
[alert]
[emerg]



=== TEST 2: cache, auth, ratelimit loaded in this order: the consumer's 429 wins over a hit (public)
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_cache_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 1r/m burst=1 name=cache-auth-2;
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    add_header X-Status "[$gw_cache_status]" always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "public";
    return 200 "cached body\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-alice", "X-API-Key: key-bob", "X-API-Key: key-alice"]
--- error_code eval
[200, 200, 429]
--- response_body_like eval
["^cached body\n\$", "^cached body\n\$", "^(?!cached body)"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status\nX-Status: []"]
--- no_error_log
[alert]
[emerg]



=== TEST 3: ratelimit, auth, cache loaded in this order: the same
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_cache_module.so;
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 1r/m burst=1 name=cache-auth-3;
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    add_header X-Status "[$gw_cache_status]" always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "public";
    return 200 "cached body\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-alice", "X-API-Key: key-bob", "X-API-Key: key-alice"]
--- error_code eval
[200, 200, 429]
--- response_body_like eval
["^cached body\n\$", "^cached body\n\$", "^(?!cached body)"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status\nX-Status: []"]
--- no_error_log
[alert]
[emerg]



=== TEST 4: an API key counts as authentication: no sharing without public or gw_cache_private
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "orders of $http_x_consumer\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-alice", "X-API-Key: key-bob", "X-API-Key: key-alice"]
--- response_body eval
["orders of alice\n", "orders of bob\n", "orders of alice\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[alert]
[emerg]

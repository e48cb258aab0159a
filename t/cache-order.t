use Test::Nginx::Socket 'no_plan';

# A 429 wins over a cached response whichever module loads first, and the
# 429 is not reported as a cache hit.  Without ngx_gw_auth loaded,
# ngx_gw_ratelimit's default key is the address and its limit runs in
# PREACCESS; TEST 3 has a PRECONTENT handler that runs after the lookup.
no_shuffle();

run_tests();

__DATA__

=== TEST 1: cache loaded before ratelimit: the limited request gets 429, not the cached body
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_cache_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    gw_rate 1r/m burst=1 name=order1;
    add_header X-Status "[$gw_cache_status]" always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /u {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key httpGETlocalhost/t;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "cached body\n";
}
--- request eval
["GET /t", "GET /u", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_body_unlike eval
["^\$", "^\$", "cached body"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status\nX-Status: []"]
--- no_error_log
[alert]
[emerg]



=== TEST 2: ratelimit loaded before cache: the same
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_cache_module.so;
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    gw_rate 1r/m burst=1 name=order2;
    add_header X-Status "[$gw_cache_status]" always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /u {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key httpGETlocalhost/t;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "cached body\n";
}
--- request eval
["GET /t", "GET /u", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_body_unlike eval
["^\$", "^\$", "cached body"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status\nX-Status: []"]
--- no_error_log
[alert]
[emerg]



=== TEST 3: a PRECONTENT handler after the lookup (try_files =429) answers, not the hit it found
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key "K";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /limited {
    gw_cache c;
    gw_cache_key "K";
    add_header X-Status "[$gw_cache_status]" always;
    try_files /no-such-file =429;
}
location /backend {
    return 200 "cached body\n";
}
--- request eval
["GET /t", "GET /t", "GET /limited"]
--- error_code eval
[200, 200, 429]
--- response_body_unlike eval
["^\$", "^\$", "cached body"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status\nX-Status: []"]
--- no_error_log
[alert]
[emerg]

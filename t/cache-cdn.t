use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->{http_config} //= [qq{gw_cache_zone c size=1m;\n}];
});

run_tests();

__DATA__

=== TEST 1: CDN-Cache-Control targets the gateway: it wins over Cache-Control, and is not forwarded
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "no-store";
    add_header CDN-Cache-Control "max-age=60";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS\nCache-Control: no-store\n!CDN-Cache-Control", "X-Cache-Status: HIT\nCache-Control: no-store\n!CDN-Cache-Control"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: Surrogate-Control targets the gateway too, and is not forwarded
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "private, max-age=0";
    add_header Surrogate-Control "max-age=60";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS\nCache-Control: private, max-age=0\n!Surrogate-Control", "X-Cache-Status: HIT\n!Surrogate-Control"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: CDN-Cache-Control: no-store keeps the gateway from storing, whatever Cache-Control says
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "public, max-age=60";
    add_header CDN-Cache-Control "no-store";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS\n!CDN-Cache-Control", "X-Cache-Status: MISS\n!CDN-Cache-Control"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: gw_cache_cdn_control tells the CDN in front, on misses and hits
--- config
location /t {
    gw_cache c;
    gw_cache_cdn_control "max-age=$arg_ttl";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "max-age=10";
    add_header CDN-Cache-Control "max-age=60";
    return 200 "ok\n";
}
--- request eval
["GET /t?ttl=300", "GET /t?ttl=300"]
--- response_headers eval
["X-Cache-Status: MISS\nCDN-Cache-Control: max-age=300\nCache-Control: max-age=10", "X-Cache-Status: HIT\nCDN-Cache-Control: max-age=300\nCache-Control: max-age=10"]
--- no_error_log
[error]
[alert]
[emerg]

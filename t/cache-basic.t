use Test::Nginx::Socket 'no_plan';

no_shuffle();

# the backends count their requests in logs/backend*.log, empty at start
add_block_preprocessor(sub {
    my $block = shift;
    $block->{init} //= [q{truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";}];
});
run_tests();

__DATA__

=== TEST 1: a miss is stored, the next request is a hit with Age
--- http_config
gw_cache_zone c size=1m;
log_format cnt "x";
--- config
location /t {
    gw_cache c;
    gw_cache_valid 200 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend1.log cnt;
    add_header X-Backend yes;
    return 200 "hello\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend1.log;
}
--- request eval
["GET /t", "GET /t", "GET /count"]
--- response_body eval
["hello\n", "hello\n", "x\n"]
--- response_headers eval
["X-Cache-Status: MISS\nX-Backend: yes\n!Age", "X-Cache-Status: HIT\nX-Backend: yes\nContent-Type: text/plain\nContent-Length: 6", ""]
--- response_headers_like eval
["", "Age: ^[01]\$", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: HEAD is answered from the GET response
--- http_config
gw_cache_zone c size=1m;
log_format cnt "x";
--- config
location /t {
    gw_cache c;
    gw_cache_valid 200 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend2.log cnt;
    return 200 "hello\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend2.log;
}
--- request eval
["GET /t", "HEAD /t", "GET /count"]
--- response_body eval
["hello\n", "", "x\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Length: 6", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: the stored response is the original: status line, headers, body
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 404 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    default_type "application/x-thing; charset=koi8-r";
    add_header ETag '"v1"' always;
    add_header X-Multi a always;
    add_header X-Multi b always;
    add_header Link "</style.css>; rel=preload" always;
    return 404 "not here\n";
}
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[404, 404]
--- response_body eval
["not here\n", "not here\n"]
--- response_headers eval
["X-Cache-Status: MISS\nContent-Type: application/x-thing; charset=koi8-r\nETag: \"v1\"\nX-Multi: a, b\nLink: </style.css>; rel=preload", "X-Cache-Status: HIT\nContent-Type: application/x-thing; charset=koi8-r\nETag: \"v1\"\nX-Multi: a, b\nLink: </style.css>; rel=preload"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: a status without gw_cache_valid and without freshness is not stored
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 200 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 201 "made\n";
}
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[201, 201]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: gw_cache_valid any, and gw_cache off in a nested location
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid any 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;

    location /t/off {
        gw_cache off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
}
location /backend {
    return 202 "ok\n";
}
--- request eval
["GET /t/a", "GET /t/a", "GET /t/off", "GET /t/off"]
--- error_code eval
[202, 202, 202, 202]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status", "!X-Cache-Status"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: the variables, a custom key and a custom status header
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_key "k:$uri";
    gw_cache_status_header X-Gw;
    add_header X-Key $gw_cache_key;
    add_header X-Status $gw_cache_status;
    add_header X-Age "[$gw_cache_age]";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "ok\n";
}
--- request eval
["GET /t?a=1", "GET /t?a=2"]
--- response_headers eval
["X-Gw: MISS\nX-Key: k:/t\nX-Status: MISS\nX-Age: []\n!X-Cache-Status", "X-Gw: HIT\nX-Key: k:/t\nX-Status: HIT"]
--- response_headers_like eval
["", "X-Age: ^\\[[01]\\]\$"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: gw_cache_status_header off
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_status_header off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["!X-Cache-Status", "!X-Cache-Status"]
--- response_headers_like eval
["", "Age: ^[01]\$"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: methods: POST is not cached by default, and is when listed
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /p {
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_methods GET POST;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "ok\n";
}
--- request eval
["POST /t\nx", "POST /t\nx", "POST /p\nx", "POST /p\nx"]
--- response_headers eval
["!X-Cache-Status", "!X-Cache-Status", "X-Cache-Status: MISS", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: gw_cache_bypass skips the lookup and still stores
--- http_config
gw_cache_zone c size=1m;
log_format cnt "x";
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_key $uri;
    gw_cache_bypass $arg_fresh;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend$is_args$args;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend9.log cnt;
    return 200 "a=$arg_a\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend9.log;
}
--- request eval
["GET /t?a=1", "GET /t?a=2&fresh=1", "GET /t?a=3", "GET /t?a=4&fresh=0", "GET /count"]
--- response_body eval
["a=1\n", "a=2\n", "a=2\n", "a=2\n", "x\nx\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: BYPASS", "X-Cache-Status: HIT", "X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 10: gw_cache_no_store: looked up, not stored
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_key $uri;
    gw_cache_no_store $arg_nostore;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend$is_args$args;
}
location /backend {
    return 200 "a=$arg_a\n";
}
--- request eval
["GET /t?a=1&nostore=1", "GET /t?a=2", "GET /t?a=3&nostore=1"]
--- response_body eval
["a=1\n", "a=2\n", "a=2\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 11: an access check (auth_request) answers 401 before a cached body
--- http_config
gw_cache_zone c size=1m;
map $request_uri $token_ok {
    "/t?token=good"  1;
    default          0;
}
--- config
location /t {
    auth_request /auth;
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location = /auth {
    internal;
    if ($token_ok = 0) {
        return 401;
    }
    return 204;
}
location /backend {
    return 200 "secret\n";
}
--- request eval
["GET /t?token=good", "GET /t?token=good", "GET /t?token=bad", "GET /t"]
--- error_code eval
[200, 200, 401, 401]
--- response_body_unlike eval
["^\$", "^\$", "secret", "secret"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status", "!X-Cache-Status"]
--- no_error_log
[alert]
[emerg]



=== TEST 12: deny all answers 403 before a cached body, limit_req 429 too
--- http_config
gw_cache_zone c size=1m;
limit_req_zone $binary_remote_addr zone=one:1m rate=1r/m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /deny/t {
    deny all;
    gw_cache c;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /limited/t {
    limit_req zone=one;
    limit_req_status 429;
    gw_cache c;
    gw_cache_key "/t";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "secret\n";
}
--- request eval
["GET /t", "GET /limited/t", "GET /limited/t", "GET /deny/t"]
--- error_code eval
[200, 200, 429, 403]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status", "!X-Cache-Status"]
--- no_error_log
[alert]
[emerg]



=== TEST 13: a Range request: not stored on a miss, 206 from the stored body on a hit
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "0123456789";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Range: bytes=0-1", "", "Range: bytes=2-5"]
--- error_code eval
[200, 200, 206]
--- response_body eval
["0123456789", "0123456789", "2345"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Range: bytes 2-5/10"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 14: the default key is $scheme$request_method$host$request_uri, byte for byte (HEAD keyed as GET, the URI as sent, before any rewrite)
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    add_header X-Key $gw_cache_key;
    add_header X-Want "$scheme$request_method$host$request_uri";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /old {
    rewrite ^ /t last;
}
location /backend {
    return 200 "ok\n";
}
--- request eval
["GET /t?a=1&b=%20x", "HEAD /t/%7Ex?q", "GET /old/y?z=1", "GET /t/h"]
--- more_headers eval
["", "", "", "Host: WWW.Example.COM:8080"]
--- response_headers eval
["X-Key: httpGETlocalhost/t?a=1&b=%20x\nX-Want: httpGETlocalhost/t?a=1&b=%20x",
 "X-Key: httpGETlocalhost/t/%7Ex?q\nX-Want: httpHEADlocalhost/t/%7Ex?q",
 "X-Key: httpGETlocalhost/old/y?z=1\nX-Want: httpGETlocalhost/old/y?z=1",
 "X-Key: httpGETwww.example.com/t/h\nX-Want: httpGETwww.example.com/t/h"]
--- no_error_log
[error]
[alert]
[emerg]

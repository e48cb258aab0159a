use Test::Nginx::Socket 'no_plan';

no_shuffle();

# the backends count their requests in logs/backend*.log, empty at start
add_block_preprocessor(sub {
    my $block = shift;
    $block->{init} //= [q{truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";}];
    $block->{http_config} //= [qq{gw_cache_zone c size=1m;\nlog_format cnt "\$status";\n}];
});

run_tests();

__DATA__

=== TEST 1: If-None-Match on a hit: 304 with the validators, no body
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header ETag '"abc"';
    add_header Last-Modified "Mon, 02 Jan 2023 10:00:00 GMT";
    add_header Cache-Control "max-age=600";
    return 200 "body\n";
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["", "If-None-Match: \"abc\"", "If-None-Match: \"other\"", "If-None-Match: W/\"zzz\", \"abc\""]
--- error_code eval
[200, 304, 200, 304]
--- response_body eval
["body\n", "", "body\n", ""]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT\nETag: \"abc\"\nLast-Modified: Mon, 02 Jan 2023 10:00:00 GMT\nCache-Control: max-age=600\n!Content-Length", "X-Cache-Status: HIT\nContent-Length: 5", "X-Cache-Status: HIT\nETag: \"abc\""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: If-Modified-Since on a hit: 304
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Last-Modified "Mon, 02 Jan 2023 10:00:00 GMT";
    return 200 "body\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["", "If-Modified-Since: Mon, 02 Jan 2023 10:00:00 GMT", "If-Modified-Since: Sun, 01 Jan 2023 10:00:00 GMT"]
--- error_code eval
[200, 304, 200]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT\nLast-Modified: Mon, 02 Jan 2023 10:00:00 GMT", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: a stale entry is revalidated with its ETag; a 304 makes it fresh again
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/f.txt;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    add_header Cache-Control "max-age=2";
    alias $TEST_NGINX_HTML_DIR/;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend3.log;
}
--- user_files
>>> f.txt
file body
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /t", "GET /count"]
--- response_body eval
["file body\n", "slept\n", "file body\n", "file body\n", "200\n304\n"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: REVALIDATED\nContent-Length: 10\nCache-Control: max-age=2", "X-Cache-Status: HIT", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: revalidation: the backend changed, its new 200 replaces the entry
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend4.log cnt;
    add_header Cache-Control "max-age=2";
    add_header ETag '"v-$connection"';
    return 200 "version $connection\n";
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend4.log;
}
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /t", "GET /count"]
--- response_body_like eval
["^version \\d+\$", "slept", "^version \\d+\$", "^version \\d+\$", "^200\n200\n\$"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: EXPIRED", "X-Cache-Status: HIT", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: a client's own If-Modified-Since during a revalidation gets its 304
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/f.txt;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend5.log cnt;
    add_header Cache-Control "max-age=2";
    etag off;
    alias $TEST_NGINX_HTML_DIR/;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend5.log;
}
--- user_files
>>> f.txt
file body
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
utime 1672653600, 1672653600, "$ENV{TEST_NGINX_HTML_DIR}/f.txt";
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "", "If-Modified-Since: Mon, 02 Jan 2023 10:00:00 GMT", "", ""]
--- error_code eval
[200, 200, 304, 200, 200]
--- response_body eval
["file body\n", "slept\n", "", "file body\n", "200\n304\n"]
--- response_headers eval
["X-Cache-Status: MISS\nLast-Modified: Mon, 02 Jan 2023 10:00:00 GMT", "", "X-Cache-Status: REVALIDATED\nLast-Modified: Mon, 02 Jan 2023 10:00:00 GMT", "X-Cache-Status: HIT", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: a 304's fields replace the stored ones (RFC 9111 4.3.4), its freshness too
--- http_config
gw_cache_zone c size=1m;
log_format cnt "$status";
map $status $backend_cc {
    304      "max-age=60";
    default  "max-age=2";
}
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/f.txt;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend6.log cnt;
    add_header Cache-Control $backend_cc;
    add_header X-Served-As $status;
    alias $TEST_NGINX_HTML_DIR/;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend6.log;
}
--- user_files
>>> f.txt
file body
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /sleep", "GET /t", "GET /count"]
--- response_body eval
["file body\n", "slept\n", "file body\n", "slept\n", "file body\n", "200\n304\n"]
--- response_headers eval
["X-Cache-Status: MISS\nX-Served-As: 200\nCache-Control: max-age=2", "", "X-Cache-Status: REVALIDATED\nX-Served-As: 304\nCache-Control: max-age=60\nContent-Length: 10", "", "X-Cache-Status: HIT\nX-Served-As: 304\nCache-Control: max-age=60", ""]
--- timeout: 15
--- no_error_log
[error]
[alert]
[emerg]

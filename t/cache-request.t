use Test::Nginx::Socket 'no_plan';

no_shuffle();

# The request's own Cache-Control: max-age, max-stale and min-fresh
# (RFC 9111 5.2.1).  The backends count their requests in
# logs/backend*.log, empty at start.
add_block_preprocessor(sub {
    my $block = shift;
    $block->{init} //= [q{truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";}];
    $block->{http_config} //= [qq{gw_cache_zone c size=1m;\nlog_format cnt "\$status";\n}];
});

run_tests();

__DATA__

=== TEST 1: max-stale without a value: a stale entry answers (STALE, its Age), the backend is not asked
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend1.log cnt;
    add_header Cache-Control "max-age=1";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend1.log;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "", "Cache-Control: max-stale", "Cache-Control: no-transform, max-stale", ""]
--- response_body eval
["ok\n", "slept\n", "ok\n", "ok\n", "200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: STALE\nCache-Control: max-age=1\nContent-Length: 3", "X-Cache-Status: STALE", ""]
--- response_headers_like eval
["", "", "Age: ^[23]\$", "Age: ^[23]\$", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: max-stale=N: stale by at most N seconds answers; stale by more is fetched again (EXPIRED)
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend2.log cnt;
    add_header Cache-Control "max-age=1";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend2.log;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "", "Cache-Control: max-stale=1000", "Cache-Control: max-stale=\"1000\"", "Cache-Control: max-stale=0", ""]
--- response_body eval
["ok\n", "slept\n", "ok\n", "ok\n", "ok\n", "200\n200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: STALE", "X-Cache-Status: STALE", "X-Cache-Status: EXPIRED", ""]
--- response_headers_like eval
["", "", "Age: ^[23]\$", "Age: ^[23]\$", "", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: max-stale never answers with what the response forbids to serve stale: must-revalidate, proxy-revalidate, s-maxage, no-cache
--- config
location /t {
    gw_cache c;
    gw_cache_key $uri;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend$uri;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    return 200 "ok\n";
}
location /backend/t/mr {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    add_header Cache-Control "max-age=1, must-revalidate";
    return 200 "ok\n";
}
location /backend/t/pr {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    add_header Cache-Control "max-age=1, proxy-revalidate";
    return 200 "ok\n";
}
location /backend/t/sm {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    add_header Cache-Control "s-maxage=1";
    return 200 "ok\n";
}
location /backend/t/nc {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    add_header Cache-Control "no-cache";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend3.log;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t/mr", "GET /t/pr", "GET /t/sm", "GET /t/nc", "GET /sleep", "GET /t/mr", "GET /t/pr", "GET /t/sm", "GET /t/nc", "GET /count"]
--- more_headers eval
["", "", "", "", "", "Cache-Control: max-stale", "Cache-Control: max-stale=1000", "Cache-Control: max-stale", "Cache-Control: max-stale", ""]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n", "slept\n", "ok\n", "ok\n", "ok\n", "ok\n", "200\n200\n200\n200\n200\n200\n200\n200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: min-fresh=N: an entry fresh for at least N more seconds answers, one fresh for less is fetched again
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend4.log cnt;
    add_header Cache-Control "max-age=100";
    add_header Age "30";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend4.log;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "Cache-Control: min-fresh=60", "Cache-Control: min-fresh=80", "", ""]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n", "200\n200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: EXPIRED", "X-Cache-Status: HIT", ""]
--- response_headers_like eval
["", "Age: ^3[01]\$", "", "Age: ^3[01]\$", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: a request's max-age=N: an entry older than N is fetched again, even with max-stale; a younger one answers
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend5.log cnt;
    add_header Cache-Control "max-age=100";
    add_header Age "30";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend5.log;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "Cache-Control: max-age=60", "Cache-Control: max-age=10", "Cache-Control: max-age=10, max-stale", "", ""]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n", "ok\n", "200\n200\n200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: HIT", ""]
--- response_headers_like eval
["", "Age: ^3[01]\$", "", "", "Age: ^3[01]\$", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: malformed max-stale values are ignored: a stale entry is fetched again; a huge value counts as 2^31
--- config
location /t {
    gw_cache c;
    gw_cache_key $uri$args;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend6.log cnt;
    add_header Cache-Control "max-age=1";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend6.log;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t?a", "GET /t?b", "GET /t?c", "GET /t?d", "GET /t?e", "GET /sleep", "GET /t?a", "GET /t?b", "GET /t?c", "GET /t?d", "GET /t?e", "GET /count"]
--- more_headers eval
["", "", "", "", "", "", "Cache-Control: max-stale=abc", "Cache-Control: max-stale=", "Cache-Control: max-stale=-5", "Cache-Control: max-stale=1e3", "Cache-Control: max-stale=99999999999999999999999", ""]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n", "ok\n", "slept\n", "ok\n", "ok\n", "ok\n", "ok\n", "ok\n", "200\n200\n200\n200\n200\n200\n200\n200\n200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: STALE", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: malformed min-fresh values are ignored: a fresh entry answers
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend7.log cnt;
    add_header Cache-Control "max-age=100";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend7.log;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "Cache-Control: min-fresh=-1", "Cache-Control: min-fresh=abc", "Cache-Control: min-fresh", "Cache-Control: min-fresh=", "Cache-Control: min-fresh=5x, min-fresh = 10", ""]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n", "ok\n", "ok\n", "200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: HIT", "X-Cache-Status: HIT", "X-Cache-Status: HIT", "X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: a malformed request max-age counts as 0 (revalidate), as before; several min-fresh: the largest wins
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend8.log cnt;
    add_header Cache-Control "max-age=100";
    return 200 "ok\n";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend8.log;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "Cache-Control: max-age=abc", "Cache-Control: min-fresh=10, min-fresh=200", "Cache-Control: min-fresh=10", ""]
--- response_body eval
["ok\n", "ok\n", "ok\n", "ok\n", "200\n200\n200\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: EXPIRED", "X-Cache-Status: EXPIRED", "X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]

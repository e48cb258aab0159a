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

=== TEST 1: max-age alone makes a response storable (no gw_cache_valid)
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "max-age=60";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT\nCache-Control: max-age=60"]
--- response_headers_like eval
["", "Age: ^[01]\$"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: max-age=2 expires; the stale entry is fetched again (EXPIRED)
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Cache-Control "max-age=2";
    return 200 "ok\n";
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t", "GET /t", "GET /sleep", "GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "", "X-Cache-Status: EXPIRED", "X-Cache-Status: HIT"]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: s-maxage beats max-age
--- config
location /a {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/a;
}
location /b {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/b;
}
location /backend/a {
    add_header Cache-Control "max-age=0, s-maxage=60";
    return 200 "a\n";
}
location /backend/b {
    add_header Cache-Control "max-age=60, s-maxage=0";
    return 200 "b\n";
}
--- request eval
["GET /a", "GET /a", "GET /b", "GET /b"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: max-age beats Expires; Expires alone gives freshness
--- config
location /a {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/a;
}
location /b {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/b;
}
location /c {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/c;
}
location /backend/a {
    add_header Cache-Control "max-age=60";
    add_header Expires "Thu, 01 Jan 1970 00:00:01 GMT";
    return 200 "a\n";
}
location /backend/b {
    add_header Expires "Fri, 01 Jan 2100 00:00:00 GMT";
    return 200 "b\n";
}
location /backend/c {
    add_header Expires "Thu, 01 Jan 1970 00:00:01 GMT";
    return 200 "c\n";
}
--- request eval
["GET /a", "GET /a", "GET /b", "GET /b", "GET /c", "GET /c"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: an invalid Expires means already expired, even with gw_cache_valid
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Expires "0";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: no-store and private are not stored, even with gw_cache_valid
--- config
location /a {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/a;
}
location /b {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/b;
}
location /backend/a {
    add_header Cache-Control "max-age=60, no-store";
    return 200 "a\n";
}
location /backend/b {
    add_header Cache-Control "private, max-age=60";
    return 200 "b\n";
}
--- request eval
["GET /a", "GET /a", "GET /b", "GET /b"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: no-cache is stored and revalidated with the ETag each time
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/f.txt;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend7.log cnt;
    add_header Cache-Control "no-cache";
    alias $TEST_NGINX_HTML_DIR/;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend7.log;
}
--- user_files
>>> f.txt
file body
--- request eval
["GET /t", "GET /t", "GET /t", "GET /count"]
--- response_body eval
["file body\n", "file body\n", "file body\n", "200\n304\n304\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: REVALIDATED\nContent-Length: 10", "X-Cache-Status: REVALIDATED", ""]
--- response_headers_like eval
["", "Age: ^0\$", "Age: ^0\$", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: a request's Cache-Control: no-cache (or Pragma) revalidates
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/f.txt;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend8.log cnt;
    alias $TEST_NGINX_HTML_DIR/;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend8.log;
}
--- user_files
>>> f.txt
file body
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /count"]
--- more_headers eval
["", "Cache-Control: no-cache", "Pragma: no-cache", "", ""]
--- response_body eval
["file body\n", "file body\n", "file body\n", "file body\n", "200\n304\n304\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: REVALIDATED", "X-Cache-Status: REVALIDATED", "X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: Set-Cookie is not stored; with public the response is stored without it
--- config
location /a {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/a;
}
location /b {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/b;
}
location /backend/a {
    add_header Set-Cookie "session=alice";
    return 200 "a\n";
}
location /backend/b {
    add_header Set-Cookie "session=alice";
    add_header Cache-Control "public, max-age=60";
    return 200 "b\n";
}
--- request eval
["GET /a", "GET /a", "GET /b", "GET /b"]
--- response_headers eval
["X-Cache-Status: MISS\nSet-Cookie: session=alice", "X-Cache-Status: MISS\nSet-Cookie: session=alice", "X-Cache-Status: MISS\nSet-Cookie: session=alice", "X-Cache-Status: HIT\n!Set-Cookie"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 10: Authorization: not stored, not served a shared entry, unless the response allows
--- config
location /a {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/a;
}
location /b {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/b;
}
location /backend/a {
    return 200 "a for [$http_authorization]\n";
}
location /backend/b {
    add_header Cache-Control "public";
    return 200 "b for [$http_authorization]\n";
}
--- request eval
["GET /a", "GET /a", "GET /a", "GET /a", "GET /b", "GET /b", "GET /b"]
--- more_headers eval
["Authorization: Bearer alice", "Authorization: Bearer bob", "", "Authorization: Bearer bob", "Authorization: Bearer alice", "Authorization: Bearer bob", ""]
--- response_body eval
["a for [Bearer alice]\n", "a for [Bearer bob]\n", "a for []\n", "a for [Bearer bob]\n", "b for [Bearer alice]\n", "b for [Bearer alice]\n", "b for [Bearer alice]\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 11: gw_cache_private keys responses per identity
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    gw_cache_private $http_authorization;
    add_header X-Key $gw_cache_key;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "for [$http_authorization]\n";
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: alice", "Authorization: bob", "Authorization: alice", "Authorization: bob"]
--- response_body eval
["for [alice]\n", "for [bob]\n", "for [alice]\n", "for [bob]\n"]
--- response_headers eval
["X-Cache-Status: MISS\nX-Key: /t#alice", "X-Cache-Status: MISS\nX-Key: /t#bob", "X-Cache-Status: HIT", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 12: Vary: the named request headers keep variants apart
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Vary "Accept-Language";
    add_header Vary "X-Tenant";
    return 200 "lang [$http_accept_language] tenant [$http_x_tenant]\n";
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Accept-Language: en", "Accept-Language: fr", "Accept-Language: en", "Accept-Language:  fr ", "Accept-Language: en\nX-Tenant: t1", ""]
--- response_body eval
["lang [en] tenant []\n", "lang [fr] tenant []\n", "lang [en] tenant []\n", "lang [fr] tenant []\n", "lang [en] tenant [t1]\n", "lang [] tenant []\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT", "X-Cache-Status: HIT", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 13: Vary: * is not stored
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    add_header Vary "*";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 14: a request's no-store is not stored
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Cache-Control: no-store", "", ""]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 15: Age from the backend counts against freshness, and is sent on hits
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /stale {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/stale;
}
location /backend {
    add_header Cache-Control "max-age=100";
    add_header Age "30";
    return 200 "ok\n";
}
location /backend/stale {
    add_header Cache-Control "max-age=100";
    add_header Age "200";
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t", "GET /stale", "GET /stale"]
--- response_headers eval
["X-Cache-Status: MISS\nAge: 30", "X-Cache-Status: HIT\nAge: 30", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 16: a successful unsafe request invalidates the stored response, a failed one does not
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    if ($request_method = DELETE) {
        return 403;
    }
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t", "POST /t\nx", "GET /t", "GET /t", "DELETE /t", "GET /t", "PUT /t\nx", "GET /t"]
--- error_code eval
[200, 200, 200, 200, 200, 403, 200, 200, 200]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status", "X-Cache-Status: MISS", "X-Cache-Status: HIT", "", "X-Cache-Status: HIT", "", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 17: a request's only-if-cached: 504 when nothing is stored, the stored response otherwise
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "ok\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Cache-Control: only-if-cached", "", "Cache-Control: only-if-cached"]
--- error_code eval
[504, 200, 200]
--- response_body eval
["{\"type\":\"about:blank\",\"title\":\"Gateway Timeout\",\"status\":504,\"detail\":\"not in the cache (only-if-cached)\"}\r\n", "ok\n", "ok\n"]
--- response_headers eval
["X-Cache-Status: MISS\nContent-Type: application/problem+json", "X-Cache-Status: MISS", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]

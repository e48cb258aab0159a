BEGIN {
    # under valgrind the runner restarts nginx instead of reloading it
    if ($ENV{TEST_NGINX_USE_VALGRIND}) {
        print "1..0 # SKIP a reload needs the master process\n";
        exit 0;
    }

    $ENV{TEST_NGINX_USE_HUP} = 1;
}

use Test::Nginx::Socket 'no_plan';

master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: an entry is stored
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "first config\n";
}
--- request
GET /t
--- response_body
first config
--- response_headers
X-Cache-Status: MISS
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: after a reload (HUP) the entry is still there
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /other {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "second config\n";
}
--- request eval
["GET /t", "GET /other"]
--- response_body eval
["first config\n", "second config\n"]
--- response_headers eval
["X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]

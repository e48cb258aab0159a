use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: gw_cache_zone without size fails nginx -t
--- http_config
gw_cache_zone c;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid number of arguments in "gw_cache_zone" directive



=== TEST 2: gw_cache_zone without size= fails nginx -t
--- http_config
gw_cache_zone c max_object=1k;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
"gw_cache_zone" must have "size" parameter



=== TEST 3: gw_cache_zone with a bad size fails nginx -t
--- http_config
gw_cache_zone c size=lots;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid size "size=lots"



=== TEST 4: gw_cache_zone too small fails nginx -t
--- http_config
gw_cache_zone c size=8k;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
gw_cache_zone "c" is too small



=== TEST 5: gw_cache_zone with a bad max_object fails nginx -t
--- http_config
gw_cache_zone c size=1m max_object=big;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid max_object "max_object=big"



=== TEST 6: gw_cache_zone with max_object over half the zone fails nginx -t
--- http_config
gw_cache_zone c size=1m max_object=800k;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
max_object "819200" is more than half of gw_cache_zone "c"



=== TEST 7: gw_cache_zone with an unknown parameter fails nginx -t
--- http_config
gw_cache_zone c size=1m inactive=1h;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid parameter "inactive=1h"



=== TEST 8: gw_cache_zone twice fails nginx -t
--- http_config
gw_cache_zone c size=1m;
gw_cache_zone c size=2m;
--- config
location /t {
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
duplicate gw_cache_zone "c"



=== TEST 9: gw_cache naming an unknown zone fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache nope;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
unknown gw_cache_zone "nope"



=== TEST 10: gw_cache twice fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache off;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
"gw_cache" directive is duplicate



=== TEST 11: gw_cache_valid with a bad time fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 200 soon;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid time value "soon"



=== TEST 12: gw_cache_valid with a bad status fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 200 99 1m;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid status code "99"



=== TEST 13: gw_cache_valid with a status over 599 fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 600 1m;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid status code "600"



=== TEST 14: gw_cache_methods with an unknown method fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_methods GET PUT;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid value "PUT"



=== TEST 15: gw_cache_stale with a bad while_revalidate fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_stale while_revalidate=abc;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid while_revalidate value "abc"



=== TEST 16: gw_cache_stale with a bad if_error fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_stale if_error=-1;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid if_error value "-1"



=== TEST 17: gw_cache_stale with an unknown parameter fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_stale forever;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid parameter "forever"



=== TEST 18: gw_cache_status_header with a bad name fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_status_header "X Cache";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
invalid header name "X Cache"



=== TEST 19: gw_cache_purge naming an unknown zone fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache_purge nope;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
unknown gw_cache_zone "nope"



=== TEST 20: gw_cache_key with a bad variable fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_key $no_such_var;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
unknown "no_such_var" variable



=== TEST 21: gw_cache_lock_timeout with a bad time fails nginx -t
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_lock_timeout later;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
"gw_cache_lock_timeout" directive invalid value



=== TEST 22: gw_cache_zone inside a location fails nginx -t
--- config
location /t {
    gw_cache_zone c size=1m;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
"gw_cache_zone" directive is not allowed here



=== TEST 23: a full configuration passes
--- http_config
gw_cache_zone c size=1m max_object=64k;
--- config
location /t {
    gw_cache c;
    gw_cache_key "$scheme$host$uri$is_args$args";
    gw_cache_valid 200 301 5m;
    gw_cache_valid 404 1m;
    gw_cache_valid any 10s;
    gw_cache_methods GET HEAD POST;
    gw_cache_bypass $arg_nocache $http_x_bypass;
    gw_cache_no_store $arg_nostore;
    gw_cache_private $remote_user;
    gw_cache_status_header X-Gw-Cache;
    gw_cache_stale while_revalidate=30s if_error=1h;
    gw_cache_lock_timeout 2s;
    gw_cache_cdn_control "max-age=60";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
location /b {
    return 200 "ok\n";
}
location /purge {
    gw_cache_purge c;
}
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 24: a zone over 32768m fails nginx -t naming the size
--- http_config
gw_cache_zone c size=32769m;
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
--- must_die
--- error_log
gw_cache_zone "c": "size=32769m" is over 32768m, the largest zone

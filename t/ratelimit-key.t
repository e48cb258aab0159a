# Keys: the default key, the phases, both load orders.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: without an authenticated consumer the default key is the client address
--- config
location = /t {
    gw_rate 1r/m burst=2;
    echo ok;
}
location = /usage {
    gw_rate_usage;
}
--- request eval
["GET /t", "GET /usage?key=127.0.0.1"]
--- response_body_like eval
["^ok\n\$", '"name":"1r/m","type":"rate","zone":"gw_rate_default","limit":1,"capacity":2,"window":60,"used":1,"remaining":1,']
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: an address limit runs in PREACCESS, before access checks
--- config
location = /t {
    gw_rate 1r/m burst=1 key=$remote_addr;
    deny all;
    echo ok;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[403, 429, 429]
--- no_error_log
[alert]
[emerg]



=== TEST 3: a consumer key taken from a header counts each consumer apart
--- config
location = /t {
    gw_rate 1r/m burst=1 key=$http_x_consumer;
    echo "$gw_rate_status";
}
--- init
my @got = map { http_request('GET', '/t', { 'X-Consumer' => $_ })->{status} }
          qw(alice bob alice carol bob);
Test::More::is("@got", "200 200 429 200 429", 'per consumer');
--- request
GET /t
--- response_body
EXEMPT
--- no_error_log
[alert]
[emerg]



=== TEST 4: load order, ratelimit before auth
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;
--- config
location = /t {
    gw_rate 1r/m burst=1 key=$remote_addr;
    gw_rate 1r/m burst=1 key=$http_x_consumer name=consumer;
    deny all;
    echo ok;
}
--- init
my @got = map { http_request('GET', '/t', { 'X-Consumer' => $_ })->{status} }
          qw(alice alice);
Test::More::is("@got", "403 429", 'address limit before access');
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 5: load order, auth before ratelimit
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
--- config
location = /t {
    gw_rate 1r/m burst=1 key=$remote_addr;
    gw_rate 1r/m burst=1 key=$http_x_consumer name=consumer;
    deny all;
    echo ok;
}
--- init
my @got = map { http_request('GET', '/t', { 'X-Consumer' => $_ })->{status} }
          qw(alice alice);
Test::More::is("@got", "403 429", 'address limit before access');
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]

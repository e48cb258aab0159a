# The five modules together on one location, as the demo and most operators
# use them: authenticated, rate limited, composed, cached and measured.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

our $Keys = GwAuth::apikey_hash('key-alice')
            . " consumer=alice plan=gold scopes=orders:read\n"
            . GwAuth::apikey_hash('key-bob') . " consumer=bob\n";

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('user_files', ">>> keys.txt\n$Keys")
        unless defined $block->user_files;
});

run_tests();

__DATA__

=== TEST 1: a cache hit carries this request's rate-limit fields, once
--- http_config
gw_cache_zone pages size=1m;
gw_rate_zone limits size=1m;
--- config
location /t {
    gw_rate 1r/m burst=5 key=$remote_addr zone=limits;
    gw_cache pages;
    gw_cache_valid 200 1m;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "content\n";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- response_headers eval
["X-Cache-Status: MISS\nX-RateLimit-Remaining: 4\nRateLimit-Policy: \"1r/m\";q=1;w=60",
 "X-Cache-Status: HIT\nX-RateLimit-Remaining: 3\nRateLimit-Policy: \"1r/m\";q=1;w=60",
 "X-Cache-Status: HIT\nX-RateLimit-Remaining: 2\nRateLimit-Policy: \"1r/m\";q=1;w=60"]
--- response_body eval
["content\n", "content\n", "content\n"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: authenticated, limited, composed from cached parts, measured
--- http_config
gw_cache_zone parts size=1m;
gw_metrics_zone stats size=1m;
--- config
location = /page {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 1r/m burst=10;
    gw_metrics on route=page;
    gw_compose;
    gw_compose_part product /_part/product;
    gw_compose_part owner /_part/owner?who=$gw_auth_consumer;
}
location /_part/ {
    internal;
    gw_cache parts;
    gw_cache_valid 200 1m;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
}
location = /backend/product {
    return 200 '{"id":42}';
}
location = /backend/owner {
    return 200 '{"name":"$arg_who"}';
}
location = /metrics {
    gw_metrics_show;
}
--- request eval
["GET /page", "GET /page", "GET /page", "GET /metrics"]
--- more_headers eval
["", "X-API-Key: key-alice", "X-API-Key: key-alice", ""]
--- error_code eval
[401, 200, 200, 200]
--- response_headers eval
["Content-Type: application/problem+json\n!X-Gw-Compose-Parts",
 "X-Gw-Compose-Parts: product=200, owner=200\nX-RateLimit-Limit: 1\nX-RateLimit-Remaining: 9",
 "X-Gw-Compose-Parts: product=200, owner=200\nX-RateLimit-Remaining: 8",
 ""]
--- response_body_like eval
[qr/"status":401/,
 qr/^\{"product":\{"id":42\},"owner":\{"name":"alice"\}\}$/,
 qr/^\{"product":\{"id":42\},"owner":\{"name":"alice"\}\}$/,
 qr/(?=.*^\Qgw_http_requests_total{route="page",method="GET",code="200"} 2\E$)(?=.*^\Qgw_http_requests_total{route="page",method="GET",code="401"} 1\E$)(?=.*^\Qgw_auth_requests_total{route="page",method="apikey",result="OK"} 2\E$)(?=.*^\Qgw_ratelimit_requests_total{route="page",result="PASSED"} 2\E$)(?=.*^\Qgw_compose_parts_total{route="page",part="owner",result="200"} 2\E$)/ms]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: a cached body is never a way around authentication
--- http_config
gw_cache_zone pages size=1m;
--- config
location /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_cache pages;
    gw_cache_valid 200 1m;
    gw_cache_private $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "secret of $http_x_api_key\n";
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["X-API-Key: key-alice", "X-API-Key: key-alice", "", "X-API-Key: key-bob"]
--- error_code eval
[200, 200, 401, 200]
--- response_body eval
["secret of key-alice\n", "secret of key-alice\n",
 "{\"type\":\"about:blank\",\"title\":\"Unauthorized\",\"status\":401,\"detail\":\"authentication required\"}\r\n",
 "secret of key-bob\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT", "!X-Cache-Status",
 "X-Cache-Status: MISS"]

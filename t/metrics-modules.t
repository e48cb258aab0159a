# The families read from the other modules' variables, with the real
# modules: auth ($gw_auth_method, $gw_auth_result), ratelimit
# ($gw_rate_status), compose ($gw_compose_parts), cache ($gw_cache_status).

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Digest::SHA qw(sha256_hex);
use Test::More;
use Test::Nginx::Socket;

# the modules define these once they are built from their branches
my %need = (auth => 'gw_auth_apikey_file', ratelimit => 'gw_rate_status',
            compose => 'gw_compose_parts', cache => 'gw_cache_status');
for my $m (sort keys %need) {
    my $so = "$ENV{TEST_NGINX_GW_MODULES_DIR}/ngx_http_gw_${m}_module.so";
    my $bin = do { local (@ARGV, $/) = $so; <> } // '';
    plan skip_all => "the $m module does not define $need{$m} yet"
        unless index($bin, $need{$m}) >= 0;
}

plan 'no_plan';

our $Keys = join "\n", 'sha256:' . sha256_hex('key-alice') . ' consumer=alice',
                       'sha256:' . sha256_hex('key-bob') . ' consumer=bob', '';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('user_files', ">>> keys.txt\n$Keys");
});

run_tests();

__DATA__

=== TEST 1: auth, rate limit and compose outcomes, per route and consumer
--- http_config
gw_metrics_zone m size=1m;
--- config
location /api {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 2r/m burst=2;
    gw_metrics on route=api;
    gw_metrics_label consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo ok;
}
location = /shop {
    gw_compose;
    gw_compose_part product /_p;
    gw_compose_part reviews /_r optional;
    gw_metrics on route=shop;
}
location = /_p { return 200 '{"id":1}'; }
location = /_r { return 503; }
location /metrics {
    gw_metrics_show;
}
--- init
for my $h (["X-API-Key: key-alice"], ["X-API-Key: key-alice"],
           ["X-API-Key: key-alice"], ["X-API-Key: key-bob"],
           ["X-API-Key: wrong"]) {
    get_body('/api', $h);
}
get_body('/shop');
my $text = get_body('/metrics');
my ($rc, $out) = promtool_check($text);
Test::More::is($rc, 0, 'promtool accepts the output with every module');
Test::More::is($out, '', 'promtool says nothing');
--- request
GET /metrics
--- response_body_like eval
GwMetrics::has_lines(
 'gw_http_requests_total{route="api",method="GET",code="200",consumer="alice"} 2',
 'gw_http_requests_total{route="api",method="GET",code="429",consumer="alice"} 1',
 'gw_http_requests_total{route="api",method="GET",code="200",consumer="bob"} 1',
 'gw_http_requests_total{route="api",method="GET",code="401",consumer=""} 1',
 '# TYPE gw_auth_requests_total counter',
 'gw_auth_requests_total{route="api",method="apikey",result="OK",consumer="alice"} 3',
 'gw_auth_requests_total{route="api",method="apikey",result="OK",consumer="bob"} 1',
 'gw_auth_requests_total{route="api",method="apikey",result="FAILED",consumer=""} 1',
 '# TYPE gw_ratelimit_requests_total counter',
 'gw_ratelimit_requests_total{route="api",result="PASSED",consumer="alice"} 2',
 'gw_ratelimit_requests_total{route="api",result="REJECTED",consumer="alice"} 1',
 'gw_ratelimit_requests_total{route="api",result="PASSED",consumer="bob"} 1',
 '# TYPE gw_compose_parts_total counter',
 'gw_compose_parts_total{route="shop",part="product",result="200"} 1',
 'gw_compose_parts_total{route="shop",part="reviews",result="503"} 1',
)
--- no_error_log
[alert]
[emerg]



=== TEST 2: metrics loaded before the modules whose variables it reads
--- main_config
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_metrics_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;
load_module $TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_compose_module.so;
--- http_config
gw_metrics_zone m size=1m;
--- config
location /api {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 10r/m burst=10;
    gw_metrics on route=api;
    gw_metrics_label consumer $gw_auth_consumer;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /api", "GET /api", "GET /metrics"]
--- more_headers eval
["X-API-Key: key-bob", "X-API-Key: nope", ""]
--- error_code eval
[200, 401, 200]
--- response_body_like eval
[qr/ok/, qr/401|Unauthorized/,
GwMetrics::has_lines(
 'gw_auth_requests_total{route="api",method="apikey",result="OK",consumer="bob"} 1',
 'gw_auth_requests_total{route="api",method="apikey",result="FAILED",consumer=""} 1',
 'gw_ratelimit_requests_total{route="api",result="PASSED",consumer="bob"} 1',
)]
--- no_error_log
[alert]
[emerg]



=== TEST 3: cache lookups by status, and the dashboard's hit ratio source
--- http_config
gw_metrics_zone m size=1m;
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 200 10s;
    gw_metrics on route=cached;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "hello\n";
}
location /metrics {
    gw_metrics_show;
}
--- init
get_body('/t') for 1 .. 4;
my $j = JSON::PP::decode_json(scalar get_body('/metrics?format=json'));
my %st = map { $_->{labels}{status} => $_->{value} } @{ $j->{cache} };
Test::More::is_deeply(\%st, { MISS => 1, HIT => 3 }, 'cache in the JSON view');
--- request
GET /metrics
--- response_body_like eval
GwMetrics::has_lines(
 '# TYPE gw_cache_requests_total counter',
 'gw_cache_requests_total{route="cached",status="MISS"} 1',
 'gw_cache_requests_total{route="cached",status="HIT"} 3',
 'gw_http_requests_total{route="cached",method="GET",code="200"} 4',
)
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: all five modules: promtool on the output, the dashboard's cards
--- http_config
gw_metrics_zone m size=1m;
gw_cache_zone c size=1m;
--- config
location /api {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 3r/m burst=3;
    gw_cache c;
    gw_cache_valid 200 10s;
    gw_metrics on route=api;
    gw_metrics_label consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "hello\n";
}
location = /shop {
    gw_compose;
    gw_compose_part product /_p;
    gw_metrics on route=shop;
}
location = /_p { return 200 '{"id":1}'; }
location /metrics {
    gw_metrics_show;
}
--- timeout: 60
--- init
use File::Path qw(make_path);
get_body('/api', ["X-API-Key: key-alice"]) for 1 .. 4;
get_body('/api', ["X-API-Key: wrong"]);
get_body('/shop');
my ($rc, $out) = promtool_check(scalar get_body('/metrics'));
Test::More::is($rc, 0, 'promtool accepts the output of all five modules');
Test::More::is($out, '', 'with no warnings');
my $art = "$FindBin::Bin/artifacts";
make_path($art);
my ($dom, $err) = chromium(
    url => "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/metrics?format=html",
    budget => 5000, screenshot => "$art/metrics-dashboard-modules.png");
Test::More::like($dom, qr{<span id="status" data-state="live">ok:},
                 'the dashboard runs') or Test::More::diag($dom);
Test::More::like($dom, qr{<b id="c-cache">[\d.]+%</b>}, 'a cache hit ratio');
Test::More::like($dom, qr{<b id="c-rl">1</b>}, 'one rate-limit rejection');
Test::More::like($dom, qr{<b id="c-auth">1</b>}, 'one auth failure');
Test::More::unlike($err, qr/CONSOLE|Uncaught/, 'no console messages');
--- request
GET /metrics
--- response_body_like eval
GwMetrics::has_lines(
 'gw_ratelimit_requests_total{route="api",result="REJECTED",consumer="alice"} 1',
 'gw_auth_requests_total{route="api",method="apikey",result="FAILED",consumer=""} 1',
 'gw_compose_parts_total{route="shop",part="product",result="200"} 1',
)
--- no_error_log
[alert]
[emerg]

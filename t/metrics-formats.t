use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Test::Nginx::Socket 'no_plan';

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', <<'HTTP') unless $block->http_config;
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.01 0.1 1;
HTTP
    $block->set_value('config', <<'CONF') unless $block->config;
location /api {
    gw_metrics on route=api;
    gw_metrics_label consumer $http_x_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
CONF
});

run_tests();

__DATA__

=== TEST 1: promtool check metrics accepts the text output, with no warnings
--- init
get_body('/api', ["X-Consumer: a\"b\\c"]) for 1 .. 3;
get_body('/api', ["X-Consumer: plain"]);
my $text = get_body('/metrics');
my ($rc, $out) = promtool_check($text);
Test::More::is($rc, 0, 'promtool exit status');
Test::More::is($out, '', 'promtool says nothing');
my %type;
my @order;
for (split /\n/, $text) {
    if (/^# TYPE (\S+) (\S+)$/) {
        Test::More::ok(!$type{$1}++, "one TYPE for $1");
        push @order, $1;
        next;
    }
    next if /^#/;
    my ($name) = /^([a-z_]+)/;
    my $family = $order[-1];
    Test::More::ok(index($name, $family) == 0,
                   "$name is in the family $family, together") or last;
}
Test::More::ok((grep { /^gw_http_requests_total$/ } @order), 'a _total counter');
--- request
GET /metrics
--- response_body_like eval
qr/^gw_http_requests_total\{route="api",method="GET",code="200",consumer="a\\"b\\\\c"\} 3$/m
--- no_error_log
[error]
[alert]



=== TEST 2: OpenMetrics when the scraper asks for it: counters' families, EOF
--- request eval
["GET /api", "GET /metrics"]
--- more_headers eval
["X-Consumer: x", "Accept: application/openmetrics-text; version=1.0.0"]
--- response_headers eval
[undef, "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8"]
--- response_body_like eval
["ok",
GwMetrics::has_lines(
 '# TYPE gw_http_requests counter',
 '# HELP gw_http_requests HTTP requests by route, method and status code.',
 'gw_http_requests_total{route="api",method="GET",code="200",consumer="x"} 1',
 '# TYPE gw_http_request_duration_seconds histogram',
 '# UNIT gw_http_request_duration_seconds seconds',
 'gw_http_request_duration_seconds_bucket{route="api",consumer="x",le="+Inf"} 1',
 '# TYPE gw_http_request_bytes counter',
 '# UNIT gw_http_request_bytes bytes',
 '# TYPE gw_build info',
 'gw_build_info{version="0.1.0",nginx_version="1.22.1"} 1',
 '# UNIT process_start_time_seconds seconds',
 '# EOF')]
--- response_body_unlike eval
[undef, qr/# TYPE \w+_total |# EOF\n./s]
--- no_error_log
[error]
[alert]



=== TEST 3: Accept negotiation: quality values, wildcards, format= wins
--- request eval
["GET /metrics", "GET /metrics", "GET /metrics", "GET /metrics",
 "GET /metrics", "GET /metrics?format=prometheus",
 "GET /metrics?format=openmetrics", "GET /metrics?format=json",
 "GET /metrics?format=html"]
--- more_headers eval
["", "Accept: */*", "Accept: application/json",
 "Accept: text/plain;q=0.2, application/openmetrics-text;q=0.1",
 "Accept: text/html;q=0.5, application/*;q=0.9",
 "Accept: text/html", "", "", "Accept: application/json"]
--- response_headers eval
["Content-Type: text/plain; version=0.0.4; charset=utf-8",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8",
 "Content-Type: application/json",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8",
 "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8",
 "Content-Type: text/plain; version=0.0.4; charset=utf-8",
 "Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8",
 "Content-Type: application/json",
 "Content-Type: text/html; charset=utf-8"]
--- no_error_log
[error]



=== TEST 4: an unknown format is a 400 problem
--- request
GET /metrics?format=xml
--- error_code: 400
--- response_headers
Content-Type: application/problem+json
--- response_body eval
"{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"format must be prometheus, openmetrics, json or html\"}\r\n"



=== TEST 5: POST is a 405 problem; HEAD has the headers only
--- request eval
["POST /metrics\nx=1", "HEAD /metrics"]
--- error_code eval
[405, 200]
--- response_body eval
["{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\",\"status\":405,\"detail\":\"the metrics are read with GET or HEAD\"}\r\n", ""]



=== TEST 6: the JSON view parses and has every section
--- init
get_body('/api', ["X-Consumer: z"]);
--- request
GET /metrics?format=json
--- response_body_like eval
qr/\A\{"version":"0\.1\.0","nginx_version":"1\.22\.1","time":\d+\.\d{3},"start_time":\d+,"zone":\{"name":"m","series":2,"max_series":1000,"overflow_updates":0,"dropped_updates":0,"size":1048576,"used_bytes":\d+\},"connections":\{"active":\d+,"reading":\d+,"writing":\d+,"waiting":\d+,"accepted":\d+,"handled":\d+,"requests":\d+\},"buckets":\[0\.01,0\.1,1\.0\],"routes":\[\{"labels":\{"route":"api","consumer":"z"\},"requests":1,"errors_4xx":0,"errors_5xx":0,"request_bytes":\d+,"response_bytes":\d+,"last_seen":\d+,"duration":\{"buckets":\[\d,\d,\d,1\],"sum":\d\.\d{6},"count":1\},"upstream":\{"buckets":\[\d,\d,\d,1\],"sum":\d\.\d{6},"count":1\}\}\],"requests":\[\{"labels":\{"route":"api","method":"GET","code":"200","consumer":"z"\},"value":1\}\],"auth":\[\],"ratelimit":\[\],"cache":\[\],"compose":\[\],"consumers":\[\{"consumer":"z","requests":1,"errors":0,"request_bytes":\d+,"response_bytes":\d+,"last_seen":\d+\}\]\}\n\z/
--- no_error_log
[error]

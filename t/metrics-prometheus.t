use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Test::Nginx::Socket 'no_plan';
use Time::HiRes qw(time sleep);

run_tests();

__DATA__

=== TEST 1: a real Prometheus scrapes the endpoint and computes the rate
--- http_config
gw_metrics_zone m size=1m;
--- config
location /api {
    gw_metrics on route=api;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- timeout: 60
--- init
GwMetrics::prometheus_start(interval => '1s', path => '/metrics',
                            target_port => $ENV{TEST_NGINX_SERVER_PORT});

# wait for the first scrape, so that the rate has a starting point
my $deadline = time + 20;
sleep 0.2 until time > $deadline
                || (prometheus_query('up{job="gw"}') // 0) == 1;
Test::More::is(prometheus_query('up{job="gw"}'), 1, 'the target is up');

# 20 requests a second for 8 seconds, on a schedule
my ($rate, $secs) = (20, 8);
my $start = time;
for my $i (0 .. $rate * $secs - 1) {
    my $at = $start + $i / $rate;
    sleep($at - time) if $at > time;
    get_body('/api');
}
my $mid = $start + $secs / 2 + 1;
sleep 3;

my $sent = $rate * $secs;
Test::More::is(
    prometheus_query('sum(gw_http_requests_total{route="api",code="200"})'),
    $sent, "Prometheus has the $sent requests sent");

my $r = GwMetrics::prometheus_api(
    '/api/v1/query?query='
    . GwMetrics::uri_escape('sum(rate(gw_http_requests_total{route="api"}[4s]))')
    . "&time=$mid");
my $got = $r->{data}{result}[0]{value}[1] // 0;
Test::More::ok($got > $rate * 0.75 && $got < $rate * 1.25,
               "rate() is $rate/s give or take 25%: $got");

my $count = prometheus_query(
    'gw_http_request_duration_seconds_count{route="api"}');
Test::More::is($count, $sent, 'the histogram count');
my $inf = prometheus_query(
    'gw_http_request_duration_seconds_bucket{route="api",le="+Inf"}');
Test::More::is($inf, $sent, 'the +Inf bucket');
my $p99 = prometheus_query('histogram_quantile(0.99, '
    . 'sum by (le) (gw_http_request_duration_seconds_bucket{route="api"}))');
Test::More::ok(defined $p99 && $p99 > 0 && $p99 <= 10, "p99 is $p99");

my $t = GwMetrics::prometheus_targets();
my $target = $t->{data}{activeTargets}[0];
Test::More::is($target->{health}, 'up', 'target health');
Test::More::is($target->{lastError}, '', 'no scrape error');
Test::More::ok(defined prometheus_query('gw_build_info'), 'build info');
GwMetrics::prometheus_stop();
--- request
GET /metrics
--- more_headers
Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1
--- response_headers
Content-Type: application/openmetrics-text; version=1.0.0; charset=utf-8
--- response_body_like eval
qr/^# TYPE gw_http_requests counter\n# HELP gw_http_requests .*\ngw_http_requests_total\{route="api",method="GET",code="200"\} 160\n.*# EOF\n\z/s
--- no_error_log
[error]
[alert]

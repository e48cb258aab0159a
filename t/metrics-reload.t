BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Test::Nginx::Socket 'no_plan';

master_on();
workers(2);
run_tests();

__DATA__

=== TEST 1: counts before the reload
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.5 1;
--- config
location /api {
    gw_metrics on route=api;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /api", "GET /api", "GET /api", "GET /metrics"]
--- response_body_like eval
[qr/ok/, qr/ok/, qr/ok/,
 GwMetrics::has_lines(
   'gw_http_requests_total{route="api",method="GET",code="200"} 3',
   'gw_http_request_duration_seconds_count{route="api"} 3')]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: nginx -s reload keeps the counters (zone reused), new route too
--- http_config
gw_metrics_zone m size=1m max_series=500;
gw_metrics_buckets 0.5 1;
--- config
location /api {
    gw_metrics on route=api;
    echo ok;
}
location /new {
    gw_metrics on route=new;
    echo new;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /api", "GET /api", "GET /new", "GET /metrics"]
--- response_body_like eval
[qr/ok/, qr/ok/, qr/new/,
 GwMetrics::has_lines(
   'gw_http_requests_total{route="api",method="GET",code="200"} 5',
   'gw_http_requests_total{route="new",method="GET",code="200"} 1',
   'gw_http_request_duration_seconds_bucket{route="api",le="0.5"} 5',
   'gw_http_request_duration_seconds_count{route="api"} 5',
   'gw_metrics_series_max{zone="m"} 500')]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: a reload that changes the buckets of a zone is refused
--- http_config
gw_metrics_zone m size=1m max_series=500;
gw_metrics_buckets 0.25 1;
--- config
location /api {
    gw_metrics on route=api;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /api", "GET /metrics"]
--- response_body_like eval
[qr/ok/,
 GwMetrics::has_lines(
   'gw_http_requests_total{route="api",method="GET",code="200"} 6',
   'gw_http_request_duration_seconds_bucket{route="api",le="0.5"} 6')]
--- init
# the runner checks the log from after the reload; the refusal is before
open my $fh, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/error.log" or die $!;
my $log = do { local $/; <$fh> };
Test::More::like($log, qr/\[emerg\].*gw_metrics_zone "m" was created with other gw_metrics_buckets; use a new zone name to change them/,
                 'the reload was refused, naming the zone');
--- no_error_log
[alert]



=== TEST 4: a reload that resizes the zone carries the series over
--- http_config
gw_metrics_zone m size=2m max_series=500;
gw_metrics_buckets 0.5 1;
--- config
location /api {
    gw_metrics on route=api;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- init
open my $fh, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/error.log" or die $!;
my $log = do { local $/; <$fh> };
Test::More::like($log, qr/gw_metrics_zone "m" resized, 4 series carried over/,
                 'the resize is logged');
--- request eval
["GET /api", "GET /metrics?format=json", "GET /metrics"]
--- response_body_like eval
[qr/ok/, qr/"size":2097152,/,
 GwMetrics::has_lines(
   'gw_http_requests_total{route="api",method="GET",code="200"} 7',
   'gw_http_requests_total{route="new",method="GET",code="200"} 1',
   'gw_http_request_duration_seconds_count{route="api"} 7')]
--- no_error_log
[error]
[alert]
[emerg]

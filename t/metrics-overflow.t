use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: series beyond max_series are counted under __overflow__
--- http_config
gw_metrics_zone m size=1m max_series=3;
gw_metrics_buckets 0.5;
--- config
location /api {
    gw_metrics on route=api;
    gw_metrics_label consumer $http_x_consumer;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /api", "GET /api", "GET /api", "GET /api", "GET /api", "GET /metrics"]
--- more_headers eval
["X-Consumer: a", "X-Consumer: b", "X-Consumer: c", "X-Consumer: d",
 "X-Consumer: a", ""]
--- response_body_like eval
[qr/ok/, qr/ok/, qr/ok/, qr/ok/, qr/ok/,
GwMetrics::has_lines(
 'gw_http_requests_total{route="api",method="GET",code="200",consumer="a"} 2',
 'gw_http_requests_total{route="__overflow__",method="__overflow__",code="__overflow__",consumer="__overflow__"} 3',
 'gw_http_request_duration_seconds_count{route="api",consumer="a"} 2',
 'gw_http_request_duration_seconds_count{route="api",consumer="b"} 1',
 'gw_http_request_duration_seconds_count{route="__overflow__",consumer="__overflow__"} 2',
 'gw_http_request_duration_seconds_bucket{route="__overflow__",consumer="__overflow__",le="+Inf"} 2',
 'gw_metrics_series{zone="m"} 3',
 'gw_metrics_series_max{zone="m"} 3',
 'gw_metrics_overflow_updates_total{zone="m"} 5',
 'gw_metrics_updates_dropped_total{zone="m"} 0',
)]
--- error_log
gw_metrics_zone "m" holds max_series=3 series or is full; new series are counted under "__overflow__"
--- no_error_log
[error]
[alert]



=== TEST 2: many consumers past max_series: the zone stays bounded
--- http_config
gw_metrics_zone m size=1m max_series=10;
--- config
location /api {
    gw_metrics on route=api;
    gw_metrics_label consumer $arg_c;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- init
get_body("/api?c=$_") for 1 .. 300;
my $j = JSON::PP::decode_json(scalar get_body('/metrics?format=json'));
Test::More::is($j->{zone}{series}, 10, 'series stop at max_series');
my $total = 0;
$total += $_->{value} for @{ $j->{requests} };
Test::More::is($total, 300, 'no request lost');
Test::More::is($j->{zone}{dropped_updates}, 0, 'nothing dropped');
my $used = $j->{zone}{used_bytes};
get_body("/api?c=x$_") for 1 .. 300;
$j = JSON::PP::decode_json(scalar get_body('/metrics?format=json'));
Test::More::is($j->{zone}{used_bytes}, $used, 'the zone did not grow');
--- request
GET /metrics
--- response_body_like eval
qr/^gw_http_requests_total\{route="__overflow__",method="__overflow__",code="__overflow__",consumer="__overflow__"\} 595$/m
--- no_error_log
[error]
[alert]



=== TEST 3: a full slab never crashes: updates past it are counted as dropped
--- http_config
gw_metrics_zone m size=32k max_series=1000;
--- config
location /api {
    gw_metrics on route=$arg_c;
    gw_metrics_label consumer $arg_c;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- init
get_body("/api?c=" . ("c" x 100) . $_) for 1 .. 400;
my $j = JSON::PP::decode_json(scalar get_body('/metrics?format=json'));
Test::More::cmp_ok($j->{zone}{series}, '<', 400, 'the zone filled up');
Test::More::cmp_ok($j->{zone}{overflow_updates} + $j->{zone}{dropped_updates},
                   '>', 0, 'overflow or drops reported');
my $total = 0;
$total += $_->{value} for @{ $j->{requests} };
Test::More::ok($total <= 400 && $total > 0, "$total of 400 counted");
my ($rc, $out) = promtool_check(scalar get_body('/metrics'));
Test::More::is($rc, 0, 'promtool accepts the output of a full zone')
    or Test::More::diag($out);
--- request
GET /api?c=after
--- response_body
ok
--- error_log
gw_metrics_zone "m" is full, updates are dropped and counted in gw_metrics_updates_dropped_total
--- no_error_log
[error]
[emerg]

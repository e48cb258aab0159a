use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: a browser's Accept gets the dashboard: one page, nothing external
--- http_config
gw_metrics_zone m size=1m;
--- config
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /metrics", "GET /metrics?format=html"]
--- more_headers eval
["Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
 ""]
--- response_headers eval
["Content-Type: text/html; charset=utf-8\nVary: Accept",
 "Content-Type: text/html; charset=utf-8"]
--- response_body_like eval
[qr{\A<!DOCTYPE html>.*<canvas id="ch-rate".*<script>.*</html>\n\z}s,
 qr{\A<!DOCTYPE html>}]
--- response_body_unlike eval
[qr{\b(?:src|href)="(?!data:)|https?://|\@import|url\(}i,
 qr{\b(?:src|href)="(?!data:)|https?://}i]
--- no_error_log
[error]
[alert]



=== TEST 2: headless Chromium renders the charts with data, no console errors
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.005 0.01 0.025 0.05 0.1 0.25 0.5 1;
--- config
location /api {
    gw_metrics on route=api;
    gw_metrics_label consumer $arg_c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo_sleep 0.01;
    echo ok;
}
location /boom {
    gw_metrics on route=boom;
    return 502;
}
location /metrics {
    gw_metrics_show;
}
--- timeout: 60
--- init
use File::Path qw(make_path);
get_body("/api?c=" . (qw(alice bob carol))[$_ % 3]) for 1 .. 30;
get_body("/boom") for 1 .. 3;

# traffic while the page polls, so that the rate is not zero
my $child = fork // die "fork: $!";
if ($child == 0) {
    my $end = time + 25;
    while (time < $end) {
        get_body("/api?c=alice");
        select undef, undef, undef, 0.02;
    }
    POSIX::_exit(0);
}

my $art = "$FindBin::Bin/artifacts";
make_path($art);
my $url = "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/metrics?format=html";
my ($dom, $err) = chromium(url => $url, budget => 9000,
                           screenshot => "$art/metrics-dashboard.png");
kill 'TERM', $child;
waitpid $child, 0;

Test::More::like($dom, qr{<span id="status" data-state="live">ok: \d+ series, \d+ requests, charts drawn},
                 'the page fetched the JSON view and drew the charts')
    or Test::More::diag($dom);
my ($points) = $dom =~ /<canvas id="ch-rate"[^>]*data-points="(\d+)"/;
Test::More::cmp_ok($points // 0, '>=', 2, 'the rate chart has data points');
Test::More::like($dom, qr{<td>route=api,consumer=alice</td><td>[\d.]+</td><td>\d+</td><td>0</td><td>[\d.]+ ms</td>},
                 'a route row with p50 latency');
Test::More::like($dom, qr{<td>route=boom</td><td>[\d.]+</td><td>3</td><td class="bad">3</td>},
                 'the 5xx of a route');
Test::More::like($dom, qr{<tbody id="t-consumers"><tr><td>alice</td><td>\d+</td>},
                 'top consumer first');
Test::More::like($dom, qr{<b id="c-err">[\d.]+%</b>}, 'an error ratio');
Test::More::unlike($err, qr/CONSOLE|Uncaught/, 'no console messages')
    or Test::More::diag($err);
Test::More::ok(-s "$art/metrics-dashboard.png" > 10000,
               'a screenshot in t/artifacts');
--- request
GET /metrics?format=json
--- response_body_like eval
qr/"consumers":\[\{"consumer":"alice"/
--- no_error_log
[error]
[alert]

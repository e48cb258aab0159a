use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use GwMetrics;
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: counts and histograms match the requests sent, exactly
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.01 0.1 1;
--- config
location /api {
    gw_metrics on route=api;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /slow {
    gw_metrics on;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/sleepy;
}
location /fast {
    gw_metrics on route=fast;
    echo fast;
}
location /missing {
    gw_metrics on route=missing;
    return 404;
}
location /backend {
    echo_sleep 0.02;
    echo ok;
}
location /sleepy {
    echo_sleep 0.15;
    echo slow;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /api", "GET /api", "POST /api\nabc", "GET /slow", "GET /fast",
 "GET /fast", "GET /missing", "GET /metrics"]
--- error_code eval
[200, 200, 200, 200, 200, 200, 404, 200]
--- response_body_like eval
[qr/ok/, qr/ok/, qr/ok/, qr/slow/, qr/fast/, qr/fast/, qr/404/,
GwMetrics::has_lines(
 '# HELP gw_http_requests_total HTTP requests by route, method and status code.',
 '# TYPE gw_http_requests_total counter',
 'gw_http_requests_total{route="api",method="GET",code="200"} 2',
 'gw_http_requests_total{route="api",method="POST",code="200"} 1',
 'gw_http_requests_total{route="/slow",method="GET",code="200"} 1',
 'gw_http_requests_total{route="fast",method="GET",code="200"} 2',
 'gw_http_requests_total{route="missing",method="GET",code="404"} 1',
 '# TYPE gw_http_request_duration_seconds histogram',
 'gw_http_request_duration_seconds_bucket{route="api",le="0.01"} 0',
 'gw_http_request_duration_seconds_bucket{route="api",le="0.1"} 3',
 'gw_http_request_duration_seconds_bucket{route="api",le="1.0"} 3',
 'gw_http_request_duration_seconds_bucket{route="api",le="+Inf"} 3',
 'gw_http_request_duration_seconds_count{route="api"} 3',
 'gw_http_request_duration_seconds_bucket{route="/slow",le="0.1"} 0',
 'gw_http_request_duration_seconds_bucket{route="/slow",le="1.0"} 1',
 'gw_http_request_duration_seconds_count{route="/slow"} 1',
 'gw_http_request_duration_seconds_bucket{route="fast",le="0.01"} 2',
 'gw_http_request_duration_seconds_count{route="fast"} 2',
 'gw_http_request_duration_seconds_bucket{route="missing",le="0.01"} 1',
 '# TYPE gw_upstream_response_duration_seconds histogram',
 'gw_upstream_response_duration_seconds_bucket{route="api",le="0.01"} 0',
 'gw_upstream_response_duration_seconds_bucket{route="api",le="0.1"} 3',
 'gw_upstream_response_duration_seconds_count{route="api"} 3',
 'gw_upstream_response_duration_seconds_bucket{route="/slow",le="1.0"} 1',
 'gw_upstream_response_duration_seconds_count{route="/slow"} 1',
 '# TYPE gw_http_request_bytes_total counter',
 '# TYPE gw_http_response_bytes_total counter',
 'gw_metrics_series{zone="m"} 9',
 'gw_build_info{version="0.1.0",nginx_version="1.22.1"} 1',
 '# TYPE process_start_time_seconds gauge',
 '# TYPE gw_nginx_connections_active gauge',
 '# TYPE gw_nginx_connections_accepted_total counter',
)]
--- response_headers eval
[undef, undef, undef, undef, undef, undef, undef,
"Content-Type: text/plain; version=0.0.4; charset=utf-8\nVary: Accept"]
--- no_error_log
[error]
[alert]
[emerg]
[warn]



=== TEST 2: no upstream series for a route without upstream, sums in seconds
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.01 0.1 1;
--- config
location /fast {
    gw_metrics on route=fast;
    echo fast;
}
location /api {
    gw_metrics on route=api;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo_sleep 0.05;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- request eval
["GET /fast", "GET /api", "GET /metrics"]
--- response_body_like eval
[qr/fast/, qr/ok/,
 qr/^gw_http_request_duration_seconds_sum\{route="api"\} 0\.(?:0[5-9]|[1-4]\d)\d{4}$/m]
--- response_body_unlike eval
[undef, undef, qr/upstream_response_duration_seconds_\w+\{route="fast"/]
--- no_error_log
[error]
[alert]



=== TEST 3: labels from variables, escaped, cut, made UTF-8
--- http_config
gw_metrics_zone m size=1m;
--- config
location /api {
    gw_metrics on route=$arg_r;
    gw_metrics_label consumer $http_x_consumer;
    gw_metrics_label tier $arg_tier;
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- raw_request eval
["GET /api?r=users&tier=gold HTTP/1.0\r\nX-Consumer: alice\r\n\r\n",
 "GET /api?r=users&tier=gold HTTP/1.0\r\nX-Consumer: alice\r\n\r\n",
 "GET /api?r=users HTTP/1.0\r\nX-Consumer: b\"o\\b\r\n\r\n",
 "GET /api?r=users HTTP/1.0\r\nX-Consumer: caf\xc3\xa9 bad\xff\r\n\r\n",
 "GET /api?r=users HTTP/1.0\r\nX-Consumer: " . ("x" x 200) . "\r\n\r\n",
 "GET /metrics HTTP/1.0\r\n\r\n"]
--- response_body_like eval
[qr/ok/, qr/ok/, qr/ok/, qr/ok/, qr/ok/,
GwMetrics::has_lines(
 'gw_http_requests_total{route="users",method="GET",code="200",consumer="alice",tier="gold"} 2',
 'gw_http_requests_total{route="users",method="GET",code="200",consumer="b\\"o\\\\b",tier=""} 1',
 "gw_http_requests_total{route=\"users\",method=\"GET\",code=\"200\",consumer=\"caf\xc3\xa9 bad?\",tier=\"\"} 1",
 'gw_http_requests_total{route="users",method="GET",code="200",consumer="' . ("x" x 128) . '",tier=""} 1',
 'gw_http_request_duration_seconds_count{route="users",consumer="alice",tier="gold"} 2',
)]
--- no_error_log
[error]
[alert]



=== TEST 4: inheritance: on at server level, off in a location, unknown methods
--- http_config
gw_metrics_zone m size=1m;
--- config
gw_metrics on route=srv;
gw_metrics_label app demo;
location /a {
    echo a;
}
location /b {
    gw_metrics off;
    echo b;
}
location /c {
    gw_metrics on route=c;
    echo c;
}
location /metrics {
    gw_metrics off;
    gw_metrics_show;
}
--- raw_request eval
["GET /a HTTP/1.0\r\n\r\n", "GET /b HTTP/1.0\r\n\r\n",
 "GET /c HTTP/1.0\r\n\r\n", "BREW /c HTTP/1.0\r\n\r\n",
 "GET /metrics HTTP/1.0\r\n\r\n"]
--- response_body_like eval
[qr/a/, qr/b/, qr/c/, qr/c/,
GwMetrics::has_lines(
 'gw_http_requests_total{route="srv",method="GET",code="200",app="demo"} 1',
 'gw_http_requests_total{route="c",method="GET",code="200",app="demo"} 1',
 'gw_http_requests_total{route="c",method="OTHER",code="200",app="demo"} 1',
 'gw_metrics_series{zone="m"} 5',
)]
--- response_body_unlike eval
[undef, undef, undef, undef, qr/route="\/b"|BREW/]
--- no_error_log
[error]
[alert]



=== TEST 5: request and response bytes are the bytes on the wire
--- http_config
gw_metrics_zone m size=1m;
--- config
location /api {
    gw_metrics on route=api;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo "some body";
}
location /metrics {
    gw_metrics_show;
}
--- init
my $req = "POST /api HTTP/1.0\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                              PeerPort => $ENV{TEST_NGINX_SERVER_PORT});
print $s $req;
my $resp = do { local $/; <$s> };
close $s;
my $body = get_body('/metrics');
Test::More::like($body,
    GwMetrics::has_lines('gw_http_request_bytes_total{route="api"} ' . length($req),
              'gw_http_response_bytes_total{route="api"} ' . length($resp)),
    'bytes on the wire');
--- request
GET /metrics
--- response_body_like eval
qr/^gw_http_request_bytes_total\{route="api"\} 55$/m
--- no_error_log
[error]
[alert]



=== TEST 6: 5xx and 4xx, and the JSON view gives the same numbers
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.05 0.5;
--- config
location /api {
    gw_metrics on route=api;
    gw_metrics_label consumer $http_x_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    if ($http_x_fail) {
        return 503;
    }
    if ($http_x_deny) {
        return 403;
    }
    echo ok;
}
location /metrics {
    gw_metrics_show;
}
--- init
for my $h (["X-Consumer: alice"], ["X-Consumer: alice"],
           ["X-Consumer: alice", "X-Fail: 1"], ["X-Consumer: bob"],
           ["X-Consumer: bob", "X-Deny: 1"], ["X-Consumer: carol"],
           ["X-Consumer: alice"]) {
    get_body('/api', $h);
}
my $j = JSON::PP::decode_json(scalar get_body('/metrics?format=json'));
my $text = get_body('/metrics');
my %req;
for my $s (@{ $j->{requests} }) {
    my $l = $s->{labels};
    $req{"$l->{consumer} $l->{code}"} = $s->{value};
    Test::More::like($text, GwMetrics::has_lines(
        "gw_http_requests_total{route=\"api\",method=\"GET\",code=\"$l->{code}\",consumer=\"$l->{consumer}\"} $s->{value}"),
        "json and text agree for $l->{consumer} $l->{code}");
}
Test::More::is_deeply(\%req, { 'alice 200' => 3, 'alice 503' => 1,
                               'bob 200' => 1, 'bob 403' => 1,
                               'carol 200' => 1 }, 'json requests');
my @c = map { [$_->{consumer}, $_->{requests}, $_->{errors}] }
        @{ $j->{consumers} };
Test::More::is_deeply(\@c, [['alice', 4, 1], ['bob', 2, 1], ['carol', 1, 0]],
                      'consumers by requests');
my ($alice) = grep { $_->{labels}{consumer} eq 'alice' } @{ $j->{routes} };
Test::More::is($alice->{requests}, 4, 'route requests');
Test::More::is($alice->{errors_5xx}, 1, 'route 5xx');
Test::More::is_deeply($alice->{duration}{buckets}, [4, 4, 4],
                      'cumulative buckets');
Test::More::is($alice->{duration}{count}, 4, 'count');
Test::More::is_deeply($j->{buckets}, [0.05, 0.5], 'bucket bounds');
Test::More::ok($j->{consumers}[0]{last_seen} >= time - 60, 'last seen');
Test::More::ok($j->{consumers}[0]{request_bytes} > 0, 'request bytes');
Test::More::is($j->{zone}{series}, 8, 'series in the zone');
Test::More::like($text, GwMetrics::has_lines(
    'gw_http_request_duration_seconds_count{route="api",consumer="alice"} 4'),
    'histogram count in text');
--- request
GET /metrics?format=json
--- response_headers
Content-Type: application/json
--- response_body_like eval
qr/^\{"version":"0\.1\.0",.*"consumers":\[\{"consumer":"alice","requests":4,"errors":1,.*\]\}\n\z/s
--- no_error_log
[error]
[alert]

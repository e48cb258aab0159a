use FindBin;
use lib "$FindBin::Bin/helpers";
use GwMetrics;
use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: a zone without size fails nginx -t, naming the value
--- http_config
gw_metrics_zone m;
--- config
location /a { echo a; }
--- must_die
--- error_log
gw_metrics_zone "m" must have a "size" parameter



=== TEST 2: a bad zone size fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=abc;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_zone size "size=abc"



=== TEST 3: a zone too small fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1k;
--- config
location /a { echo a; }
--- must_die
--- error_log
gw_metrics_zone "size=1k" is too small



=== TEST 4: max_series zero fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m max_series=0;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_zone max_series "max_series=0"



=== TEST 5: max_series not a number fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m max_series=many;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_zone max_series "max_series=many"



=== TEST 6: an unknown zone parameter fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m buckets=3;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_zone parameter "buckets=3"



=== TEST 7: a duplicate zone fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_zone m size=1m;
--- config
location /a { echo a; }
--- must_die
--- error_log
duplicate gw_metrics_zone "m"



=== TEST 8: a zone too small for max_series fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=32k max_series=1000000;
--- config
location /a { echo a; }
--- must_die
--- error_log
gw_metrics_zone "m" is too small for max_series=1000000



=== TEST 9: gw_metrics neither on nor off fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics yes; echo a; }
--- must_die
--- error_log
invalid value "yes" in "gw_metrics", it must be "on" or "off"



=== TEST 10: an empty route fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on route=; echo a; }
--- must_die
--- error_log
invalid gw_metrics route "route="



=== TEST 11: a parameter after off fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics off route=x; echo a; }
--- must_die
--- error_log
invalid parameter "route=x" after "off"



=== TEST 12: an unknown gw_metrics parameter fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on rout=x; echo a; }
--- must_die
--- error_log
invalid gw_metrics parameter "rout=x"



=== TEST 13: an unknown zone fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on zone=n; echo a; }
--- must_die
--- error_log
unknown gw_metrics_zone "n"



=== TEST 14: gw_metrics without a zone fails nginx -t, naming the value
--- config
location /a { gw_metrics on; echo a; }
--- must_die
--- error_log
gw_metrics needs a gw_metrics_zone in the http block



=== TEST 15: a label name with a digit first fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on; gw_metrics_label 1x $uri; echo a; }
--- must_die
--- error_log
invalid gw_metrics_label name "1x"



=== TEST 16: a label name with a dash fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on; gw_metrics_label my-label $uri; echo a; }
--- must_die
--- error_log
invalid gw_metrics_label name "my-label"



=== TEST 17: a label name with two underscores first fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on; gw_metrics_label __name $uri; echo a; }
--- must_die
--- error_log
invalid gw_metrics_label name "__name"



=== TEST 18: a reserved label name fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on; gw_metrics_label code $status; echo a; }
--- must_die
--- error_log
gw_metrics_label name "code" is reserved



=== TEST 19: a duplicate label fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on; gw_metrics_label app x; gw_metrics_label app y; echo a; }
--- must_die
--- error_log
duplicate gw_metrics_label "app"



=== TEST 20: too many labels fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /a { gw_metrics on; gw_metrics_label l0 x; gw_metrics_label l1 x; gw_metrics_label l2 x; gw_metrics_label l3 x; gw_metrics_label l4 x; gw_metrics_label l5 x; gw_metrics_label l6 x; gw_metrics_label l7 x; gw_metrics_label l8 x; echo a; }
--- must_die
--- error_log
too many gw_metrics_label, at most 8



=== TEST 21: a bucket that is not a number fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.1 fast;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_buckets value "fast"



=== TEST 22: a zero bucket fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0 1;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_buckets value "0"



=== TEST 23: buckets out of order fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.1 0.05;
--- config
location /a { echo a; }
--- must_die
--- error_log
gw_metrics_buckets value "0.05" is not greater than the one before



=== TEST 24: buckets given twice fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
gw_metrics_buckets 0.1;
gw_metrics_buckets 0.2;
--- config
location /a { echo a; }
--- must_die
--- error_log
"gw_metrics_buckets" directive is duplicate



=== TEST 25: gw_metrics_show with a bad parameter fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /m { gw_metrics_show json; }
--- must_die
--- error_log
invalid gw_metrics_show parameter "json"



=== TEST 26: gw_metrics_show with an unknown zone fails nginx -t, naming the value
--- http_config
gw_metrics_zone m size=1m;
--- config
location /m { gw_metrics_show zone=n; }
--- must_die
--- error_log
unknown gw_metrics_zone "n"



=== TEST 27: gw_metrics_zone outside http fails nginx -t, naming the value
--- config
location /a { gw_metrics_zone m size=1m; }
--- must_die
--- error_log
"gw_metrics_zone" directive is not allowed here



=== TEST 28: a zone name with a quote fails nginx -t, naming the value
--- http_config
gw_metrics_zone 'a"b' size=1m;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_zone name "a"b"



=== TEST 29: a zone name too long fails nginx -t, naming the value
--- http_config
gw_metrics_zone zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz size=1m;
--- config
location /a { echo a; }
--- must_die
--- error_log
invalid gw_metrics_zone name "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"



=== TEST 30: a valid configuration with every directive starts
--- http_config
gw_metrics_zone m size=1m max_series=100;
gw_metrics_zone other size=64k;
gw_metrics_buckets 0.005 0.05 0.5 5;
gw_metrics_label app shop;
--- config
location /a {
    gw_metrics on route=a zone=other;
    gw_metrics_label consumer $http_x_consumer;
    echo a;
}
location /b {
    gw_metrics on;
    echo b;
}
location /c {
    gw_metrics on route=c zone=other;
    echo c;
}
location /m {
    gw_metrics_show zone=other;
}
--- request eval
["GET /a", "GET /b", "GET /c", "GET /m"]
--- response_body_like eval
[qr/a/, qr/b/, qr/c/,
 GwMetrics::has_lines(
   'gw_http_requests_total{route="a",method="GET",code="200",consumer=""} 1',
   'gw_http_requests_total{route="c",method="GET",code="200",app="shop"} 1')]
--- response_body_unlike eval
[undef, undef, undef, qr/route="\/b"/]
--- no_error_log
[error]
[alert]
[emerg]

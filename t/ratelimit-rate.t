# gw_rate: token-bucket admission, headers, several limits, dry run.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 300 requests at once to 100r/m burst=200 admit exactly 200
--- config
location = /t {
    gw_rate 100r/m burst=200;
    gw_rate_log_level info;
    echo ok;
}
location = /usage {
    gw_rate_usage;
}
--- init
my $res = parallel_requests(300, 'GET', '/t');
my %n;
$n{$_->{status}}++ for @$res;
Test::More::is($n{200}, 200, 'admitted');
Test::More::is($n{429}, 100, 'rejected');
--- request
GET /usage?key=127.0.0.1
--- response_body_like
^\{"key":"127\.0\.0\.1","policies":\[\{"name":"100r/m","type":"rate","zone":"gw_rate_default","limit":100,"capacity":200,"window":60,"used":200,"remaining":0,"reset":1\d\d\}\]\}$
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: 300 requests at once to 100r/s burst=200: the burst, plus what refills meanwhile
--- config
location = /t {
    gw_rate 100r/s burst=200;
    gw_rate_log_level info;
    echo ok;
}
location = /other {
    echo other;
}
--- init
my $t0 = Time::HiRes::time();
my $res = parallel_requests(300, 'GET', '/t');
my $ms = (Time::HiRes::time() - $t0) * 1000;
my %n;
$n{$_->{status}}++ for @$res;
Test::More::cmp_ok($n{200}, '>=', 200, 'at least the burst');
Test::More::cmp_ok($n{200}, '<=', 200 + int($ms / 10) + 1,
                   "no more than the refill in $ms ms");
--- request
GET /other
--- response_body
other
--- no_error_log
[alert]
[emerg]



=== TEST 3: requests spaced 10 ms apart to 100r/s burst=1 are all admitted
--- config
location = /t {
    gw_rate 100r/s burst=1;
    echo ok;
}
--- init
my %n;
for (1 .. 50) {
    $n{ http_request('GET', '/t')->{status} }++;
    Time::HiRes::sleep(0.0105);
}
Test::More::is($n{200}, 50, 'all admitted');
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- error_log
limiting requests by policy "100r/s", key "127.0.0.1"
--- no_error_log
[alert]
[emerg]



=== TEST 4: headers and Retry-After, exact values
--- config
location = /t {
    gw_rate 1r/m burst=3 name=per_minute;
    echo ok;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
[
"RateLimit-Policy: \"per_minute\";q=1;w=60
RateLimit: \"per_minute\";r=2;t=60
X-RateLimit-Limit: 1
X-RateLimit-Remaining: 2
X-RateLimit-Reset: 60
!Retry-After",
"X-RateLimit-Remaining: 1
X-RateLimit-Reset: 120",
"X-RateLimit-Remaining: 0
X-RateLimit-Reset: 180",
"Retry-After: 60
Content-Type: application/problem+json
RateLimit: \"per_minute\";r=0;t=180
X-RateLimit-Limit: 1
X-RateLimit-Remaining: 0
X-RateLimit-Reset: 180"
]
--- response_body eval
["ok\n", "ok\n", "ok\n",
qq'{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"rate limit policy \\"per_minute\\" exceeded, retry in 60 s"}\r\n']
--- no_error_log
[alert]
[emerg]



=== TEST 5: burst defaults to the rate
--- config
location = /t {
    gw_rate 3r/h;
    echo ok;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200, 429]
--- response_headers eval
["X-RateLimit-Remaining: 2", "X-RateLimit-Remaining: 1",
 "X-RateLimit-Remaining: 0", "Retry-After: 1200"]



=== TEST 6: several limits all must pass; a rejected request takes no other limit's token
--- config
location = /t {
    gw_rate 1r/m burst=1 key=$arg_a name=per_a;
    gw_rate 1r/m burst=3 key=all name=shared;
    echo "$gw_rate_status $gw_rate_policy $gw_rate_remaining";
}
--- request eval
["GET /t?a=1", "GET /t?a=1", "GET /t?a=2", "GET /t?a=3", "GET /t?a=4"]
--- error_code eval
[200, 429, 200, 200, 429]
--- response_body_like eval
["^PASSED per_a 0\n\$", "per_a", "^PASSED per_a 0\n\$",
 "^PASSED shared 0\n\$", "shared"]
--- response_headers eval
[
"RateLimit-Policy: \"per_a\";q=1;w=60, \"shared\";q=1;w=60
RateLimit: \"per_a\";r=0;t=60, \"shared\";r=2;t=60
X-RateLimit-Remaining: 0",
"RateLimit: \"per_a\";r=0;t=60, \"shared\";r=2;t=60",
"RateLimit: \"per_a\";r=0;t=60, \"shared\";r=1;t=120",
"RateLimit: \"per_a\";r=0;t=60, \"shared\";r=0;t=180",
"Retry-After: 60\nRateLimit: \"per_a\";r=1;t=0, \"shared\";r=0;t=180"
]
--- no_error_log
[alert]
[emerg]



=== TEST 7: limits in two zones and a location inheriting from the server
--- http_config
gw_rate_zone one size=1m;
gw_rate_zone two size=1m;
--- config
gw_rate 1r/m burst=2 zone=one name=srv;
location = /t {
    echo ok;
}
location = /u {
    gw_rate 1r/m burst=1 zone=two name=loc;
    gw_rate 1r/m burst=5 zone=one name=loc2;
    echo ok;
}
--- request eval
["GET /t", "GET /u", "GET /u", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429, 200, 429]
--- response_headers eval
["RateLimit-Policy: \"srv\";q=1;w=60",
 "RateLimit-Policy: \"loc\";q=1;w=60, \"loc2\";q=1;w=60",
 "Retry-After: 60", "X-RateLimit-Remaining: 0", ""]
--- no_error_log
[alert]
[emerg]



=== TEST 8: dry run counts and logs but never rejects
--- config
location = /t {
    gw_rate 1r/m burst=1;
    gw_rate_dry_run on;
    gw_rate_log_level warn;
    echo "$gw_rate_status";
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 200]
--- response_body eval
["PASSED\n", "DRY_RUN_REJECTED\n", "DRY_RUN_REJECTED\n"]
--- response_headers eval
["X-RateLimit-Remaining: 0\n!Retry-After",
 "X-RateLimit-Remaining: 0\n!Retry-After", "!Retry-After"]
--- error_log
[warn]
dry run, limiting requests by policy "1r/m", key "127.0.0.1"
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: an empty key is not limited
--- config
location = /t {
    gw_rate 1r/m burst=1 key=$arg_k;
    echo "$gw_rate_status";
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t?k=x", "GET /t?k=x"]
--- error_code eval
[200, 200, 200, 200, 429]
--- response_body_like eval
["^EXEMPT\n\$", "^EXEMPT\n\$", "^EXEMPT\n\$", "^PASSED\n\$",
 '"status":429']
--- response_headers eval
["!RateLimit\n!X-RateLimit-Limit", "!RateLimit", "!RateLimit",
 "X-RateLimit-Limit: 1", "X-RateLimit-Limit: 1"]
--- no_error_log
[alert]
[emerg]



=== TEST 10: gw_rate_status, gw_rate_headers off, log level
--- config
location = /t {
    gw_rate 1r/m burst=1;
    gw_rate_status 503;
    gw_rate_headers off;
    gw_rate_log_level info;
    echo ok;
}
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 503]
--- response_headers eval
["!RateLimit\n!RateLimit-Policy\n!X-RateLimit-Limit\n!Retry-After",
 "Retry-After: 60\n!RateLimit\nContent-Type: application/problem+json"]
--- response_body_like eval
["^ok\n\$", '"title":"Service Unavailable","status":503']
--- error_log
[info]
limiting requests by policy "1r/m"
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 11: headers on a proxied response, status and variables in the log phase
--- config
location = /t {
    gw_rate 10r/s burst=20;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location = /backend {
    add_header X-Backend yes;
    return 200 "backend\n";
}
--- request
GET /t
--- response_body
backend
--- response_headers
X-Backend: yes
RateLimit-Policy: "10r/s";q=10;w=1
RateLimit: "10r/s";r=19;t=1
X-RateLimit-Limit: 10
X-RateLimit-Remaining: 19
X-RateLimit-Reset: 1
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 12: the backend location itself is not limited, subrequests are skipped
--- config
location = /t {
    gw_rate 1r/m burst=1;
    echo_location /sub;
    echo_location /sub;
}
location = /sub {
    gw_rate 1r/m burst=1;
    echo sub;
}
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- response_body_like eval
["^sub\nsub\n\$", '"status":429']
--- no_error_log
[alert]
[emerg]



=== TEST 13: an error_page for the status wins over the problem body
--- config
location = /t {
    gw_rate 1r/m burst=1;
    error_page 429 /busy;
    echo ok;
}
location = /busy {
    echo "busy $gw_rate_status";
}
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- response_body eval
["ok\n", "busy REJECTED\n"]
--- response_headers eval
["", "Retry-After: 60"]
--- no_error_log
[alert]
[emerg]

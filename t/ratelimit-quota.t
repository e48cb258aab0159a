# gw_quota: rolling periods, calendar periods in a time zone, quotas with
# rates.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use POSIX ();
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: 5/2s admits five per two-second window, then the next window
--- config
location = /t {
    gw_quota 5/2s;
    echo "$gw_quota_remaining";
}
--- init
# start just after a window boundary (windows are aligned to the epoch)
my $now = Time::HiRes::time();
Time::HiRes::sleep(2 - ($now - 2 * int($now / 2)) + 0.05);
my @r = map { http_request('GET', '/t') } 1 .. 6;
Test::More::is(join(' ', map { $_->{status} } @r), '200 200 200 200 200 429',
               'five per window');
Test::More::is(join(' ', map { $_->{body} } @r[0 .. 4]), "4\n 3\n 2\n 1\n 0\n",
               'remaining');
Test::More::is($r[5]{headers}{'retry-after'}, 2, 'Retry-After');
Test::More::like($r[5]{headers}{'ratelimit-policy'}, qr/^"5\/2s";q=5;w=2$/,
                 'policy');
Test::More::like($r[5]{body}, qr/"detail":"rate limit policy \\"5\/2s\\" exceeded, retry in 2 s"/,
                 'problem body');
Time::HiRes::sleep(2);
Test::More::is(http_request('GET', '/t')->{status}, 200, 'the next window');
--- request
GET /t
--- response_body
3
--- no_error_log
[alert]
[emerg]



=== TEST 2: a daily quota resets at UTC midnight by default
--- config
location = /t {
    gw_quota 3/day;
    echo ok;
}
--- init
my $r = http_request('GET', '/t');
my $now = time;
my $left = 86400 - $now % 86400;
Test::More::cmp_ok(abs($r->{headers}{'x-ratelimit-reset'} - $left), '<=', 1,
                   "reset at midnight UTC ($left s)");
Test::More::like($r->{headers}{'ratelimit-policy'}, qr/^"3\/day";q=3;w=86400$/);
Test::More::is($r->{headers}{'x-ratelimit-remaining'}, 2);
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]
--- no_error_log
[alert]
[emerg]



=== TEST 3: a daily quota in +05:30 resets at local midnight
--- http_config
gw_rate_timezone +05:30;
--- config
location = /t {
    gw_quota 3/day;
    echo ok;
}
--- init
my $r = http_request('GET', '/t');
my $local = time + 19800;
my $left = 86400 - $local % 86400;
Test::More::cmp_ok(abs($r->{headers}{'x-ratelimit-reset'} - $left), '<=', 1,
                   "reset at midnight +05:30 ($left s)");
--- request
GET /t
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: weekly and monthly quotas in an IANA zone reset on Monday and on the 1st
--- http_config
gw_rate_timezone America/New_York;
--- config
location = /t {
    gw_quota 100/week name=weekly;
    gw_quota 1000/month name=monthly;
    echo ok;
}
--- init
my $r = http_request('GET', '/t');
local $ENV{TZ} = 'America/New_York';
POSIX::tzset();
my @lt = localtime(time);
# next Monday 00:00 and the next 1st 00:00, local
my $days = (8 - $lt[6]) % 7 || 7;
my $monday = POSIX::mktime(0, 0, 0, $lt[3] + $days, $lt[4], $lt[5], 0, 0, -1);
my $first = POSIX::mktime(0, 0, 0, 1, $lt[4] + 1, $lt[5], 0, 0, -1);
my %t = $r->{headers}{ratelimit} =~ /"(\w+)";r=\d+;t=(\d+)/g;
Test::More::cmp_ok(abs($t{weekly} - ($monday - time)), '<=', 1, 'weekly reset');
Test::More::cmp_ok(abs($t{monthly} - ($first - time)), '<=', 1, 'monthly reset');
my @pt = localtime($first - 1);
Test::More::like($r->{headers}{'ratelimit-policy'},
                 qr/^"weekly";q=100;w=\d+, "monthly";q=1000;w=(\d+)$/);
my ($w) = $r->{headers}{'ratelimit-policy'} =~ /monthly";q=1000;w=(\d+)/;
my $start = POSIX::mktime(0, 0, 0, 1, $lt[4], $lt[5], 0, 0, -1);
Test::More::is($w, $first - $start, 'the month\'s real length');
POSIX::tzset();
--- request
GET /t
--- response_headers
X-RateLimit-Limit: 100
X-RateLimit-Remaining: 98
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: a rate and a quota together: the quota rejects, the rate keeps its token
--- config
location = /t {
    gw_rate 10r/m burst=10 name=rate;
    gw_quota 2/hour name=hourly;
    echo "$gw_rate_policy $gw_rate_remaining $gw_quota_remaining";
}
location = /usage {
    gw_rate_usage;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /usage?key=127.0.0.1"]
--- error_code eval
[200, 200, 429, 429, 200]
--- response_body_like eval
["^hourly 1 1\n\$", "^hourly 0 0\n\$", '"rate limit policy \\\\"hourly\\\\" exceeded',
 '"rate limit policy \\\\"hourly\\\\" exceeded',
 '"name":"rate","type":"rate","zone":"gw_rate_default","limit":10,"capacity":10,"window":60,"used":2,"remaining":8,.*"name":"hourly","type":"quota","zone":"gw_rate_default","limit":2,"capacity":2,"window":3600,"used":2,"remaining":0,']
--- response_headers eval
["X-RateLimit-Limit: 2", "X-RateLimit-Remaining: 0", "!X-Nothing", ""]
--- response_headers_like eval
["", "", "RateLimit: \"rate\";r=8;t=12, \"hourly\";r=0;t=\\d+\nRetry-After: \\d+", ""]
--- no_error_log
[alert]
[emerg]

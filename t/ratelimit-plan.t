# Usage plans chosen by a variable.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the plan in the variable replaces the location's limits
--- http_config
gw_rate_plan gold rate=100r/m burst=3 quota=1000/day;
gw_rate_plan free rate=1r/m burst=1;
--- config
location = /t {
    gw_rate_plan_var $arg_plan;
    gw_rate 1r/m burst=2 key=$arg_k name=default;
    echo "$gw_rate_policy $gw_rate_remaining";
}
--- request eval
["GET /t?k=a&plan=gold", "GET /t?k=a&plan=gold", "GET /t?k=a&plan=gold",
 "GET /t?k=a&plan=gold", "GET /t?k=b&plan=free", "GET /t?k=b&plan=free",
 "GET /t?k=c", "GET /t?k=c", "GET /t?k=c&plan=unknown"]
--- error_code eval
[200, 200, 200, 429, 200, 429, 200, 200, 429]
--- response_body_like eval
["^gold 2\n\$", "^gold 1\n\$", "^gold 0\n\$", '"rate limit policy \\\\"gold\\\\" exceeded',
 "^free 0\n\$", '"free\\\\" exceeded', "^default 1\n\$", "^default 0\n\$",
 '"default\\\\" exceeded']
--- response_headers eval
[
"RateLimit-Policy: \"gold\";q=100;w=60, \"gold-quota\";q=1000;w=86400
X-RateLimit-Limit: 100
X-RateLimit-Remaining: 2",
"", "", "Retry-After: 1", "RateLimit-Policy: \"free\";q=1;w=60", "Retry-After: 60",
"RateLimit-Policy: \"default\";q=1;w=60", "", ""
]
--- no_error_log
[alert]
[emerg]



=== TEST 2: a plan keys on the default key (the client address here)
--- http_config
gw_rate_plan small rate=1r/h;
gw_rate_plan_var $http_x_plan;
--- config
location = /t {
    gw_rate 100r/s;
    echo "$gw_rate_policy";
}
location = /usage {
    gw_rate_usage;
}
--- init
my @got = map { http_request('GET', '/t', { 'X-Plan' => 'small' })->{status} } 1 .. 2;
Test::More::is("@got", "200 429", 'plan small');
--- request eval
["GET /t", "GET /usage?key=127.0.0.1"]
--- response_body_like eval
["^100r/s\n\$", '\{"name":"small","type":"rate","zone":"gw_rate_default","limit":1,"capacity":1,"window":3600,"used":1,"remaining":0,']
--- no_error_log
[alert]
[emerg]



=== TEST 3: plans with quotas only
--- http_config
gw_rate_plan trial quota=2/hour;
--- config
location = /t {
    gw_rate_plan_var $arg_plan;
    gw_rate 100r/s;
    echo "$gw_rate_policy $gw_quota_remaining";
}
--- request eval
["GET /t?plan=trial", "GET /t?plan=trial", "GET /t?plan=trial"]
--- error_code eval
[200, 200, 429]
--- response_body_like eval
["^trial-quota 1\n\$", "^trial-quota 0\n\$", 'trial-quota']
--- no_error_log
[alert]
[emerg]

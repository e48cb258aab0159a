# A reload (HUP) keeps every counter; a changed zone size starts afresh
# without a crash.

BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: use two of three tokens and one of two quota requests
--- http_config
gw_rate_zone keep size=1m;
--- config
location = /t {
    gw_rate 1r/h burst=3 zone=keep name=hourly;
    gw_quota 2/day name=daily;
    echo "$gw_rate_remaining $gw_quota_remaining";
}
--- request eval
["GET /t"]
--- response_body eval
["1 1\n"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: after a reload (another location, same policies) the counts went on
--- http_config
gw_rate_zone keep size=1m;
--- config
location = /other {
    gw_rate 1r/h burst=3 zone=keep name=hourly;
    gw_quota 2/day name=daily;
    echo "$gw_rate_remaining $gw_quota_remaining";
}
--- request eval
["GET /other", "GET /other"]
--- error_code eval
[200, 429]
--- response_body_like eval
["^0 0\n\$", '"detail":"rate limit policy \\\\"daily\\\\" exceeded']
--- no_error_log
[alert]
[emerg]



=== TEST 3: a changed zone size is handled: that zone starts afresh, the others keep counting
--- http_config
gw_rate_zone keep size=2m;
--- config
location = /other {
    gw_rate 1r/h burst=3 zone=keep name=hourly;
    echo "$gw_rate_remaining";
}
location = /q {
    gw_quota 2/day name=daily;
    echo "$gw_quota_remaining";
}
--- request eval
["GET /other", "GET /q"]
--- error_code eval
[200, 429]
--- init
# logged while reloading, before the block's own part of the log
open my $fh, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/error.log" or die $!;
my $n = grep { /\[warn\].*gw_rate_zone "keep" changed size from 1048576 to 2097152, its counters start afresh/ } <$fh>;
Test::More::is($n, 1, 'the size change is logged');
--- no_error_log
[alert]
[emerg]
[crit]

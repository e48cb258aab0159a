# The quota calendar's unit test: builds and runs
# ngx_gw_ratelimit/test/ngx_http_gw_rate_calendar_test.c, which links the
# module's calendar source alone.

use strict;
use warnings;
use FindBin;
use File::Temp qw(tempdir);
use Test::More;

my $top = "$FindBin::Bin/..";
my $dir = "$top/ngx_gw_ratelimit";
my $tmp = tempdir(CLEANUP => 1);
my $cc = $ENV{CC} || 'cc';

my $out = `$cc -W -Wall -Werror -O2 -I$dir -o $tmp/calendar_test $dir/test/ngx_http_gw_rate_calendar_test.c $dir/ngx_http_gw_rate_calendar.c 2>&1`;
is($?, 0, 'the unit test builds without warnings') or diag($out);

$out = `$tmp/calendar_test 2>&1`;
is($?, 0, 'every calendar check passes') or diag($out);
like($out, qr/^ok \d{6,}$/m, 'the checks ran');

done_testing();

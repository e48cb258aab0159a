# Files generated from others are committed in sync with their sources.

use strict;
use warnings;

use Test::More;

my $out = `ngx_gw_metrics/dashboard2c`;
is($?, 0, 'dashboard2c runs');

open my $fh, '<', 'ngx_gw_metrics/ngx_http_gw_metrics_dashboard.c' or die $!;
local $/;
my $committed = <$fh>;
close $fh;

ok($out eq $committed,
   'ngx_http_gw_metrics_dashboard.c is dashboard2c\'s output for '
   . 'dashboard.html (run ngx_gw_metrics/dashboard2c > '
   . 'ngx_gw_metrics/ngx_http_gw_metrics_dashboard.c)');

done_testing();

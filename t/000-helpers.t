# The test helpers themselves: a real Redis started on a loopback port,
# requests in parallel, and reloads between blocks (TEST_NGINX_USE_HUP)
# that keep the master process and shared memory.

BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest 'redis';
use Test::Nginx::Socket 'no_plan';

master_on();
no_shuffle();

our $master_pid;

run_tests();

__DATA__

=== TEST 1: Redis answers on the exported port
--- init
redis_cmd('SET', 'gw:test', 'hello');
--- config
location = /t {
    return 200 "redis on $TEST_NGINX_REDIS_PORT\n";
}
--- request
GET /t
--- response_body_like: ^redis on \d+$
--- no_error_log
[error]



=== TEST 2: parallel requests all come back
--- init
my $r = parallel_requests(50, 'GET', '/t');
my $ok = grep { $_->{status} == 200 && $_->{body} eq "x\n" } @$r;
die "only $ok of 50 parallel requests answered 200\n" unless $ok == 50;
die "redis lost the key\n" unless redis_cmd('GET', 'gw:test') eq 'hello';
$main::master_pid = `cat $ENV{TEST_NGINX_SERVROOT}/logs/nginx.pid`;
--- config
location = /t {
    return 200 "x\n";
}
--- request
GET /t
--- response_body
x
--- no_error_log
[error]



=== TEST 3: a reload between blocks keeps the master process
--- init
my $pid = `cat $ENV{TEST_NGINX_SERVROOT}/logs/nginx.pid`;
die "the master changed: $main::master_pid -> $pid\n"
    unless $pid eq $main::master_pid;
--- config
location = /t {
    return 200 "reloaded\n";
}
--- request
GET /t
--- response_body
reloaded
--- no_error_log
[error]

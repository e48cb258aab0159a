# Redis cluster mode with a real Redis: batched sync, cluster totals bound
# local admission, two nginx sharing one Redis, Redis stopped mid-test.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest 'redis';
use GwRate;
use File::Temp ();
use Test::Nginx::Socket 'no_plan';

no_shuffle();
add_block_preprocessor(sub {
    my $block = shift;
    # every block starts from an empty Redis, and the previous block's
    # nginx is gone first: a late sync of its must not land in this one
    Test::Nginx::Util::stop_nginx();
    GwTest::redis_start();
    GwTest::redis_cmd('FLUSHALL');
});
run_tests();

__DATA__

=== TEST 1: hits reach Redis in batches, one INCRBY per key per sync
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms;
--- config
location = /t {
    gw_quota 100/day key=$arg_k name=q;
    gw_rate 100r/s key=$arg_k name=r;
    echo ok;
}
--- init
GwTest::redis_cmd('CONFIG', 'RESETSTAT');
http_request('GET', '/t?k=a') for 1 .. 30;
http_request('GET', '/t?k=b') for 1 .. 5;
Time::HiRes::sleep(0.3);
my $kv = redis_keys();
my @q = sort grep { /^gw_rate:q:[0-9a-f]{16}:\d+$/ } keys %$kv;
my @r = sort grep { /^gw_rate:r:[0-9a-f]{16}$/ } keys %$kv;
Test::More::is(scalar @q, 2, 'two quota keys');
Test::More::is(scalar @r, 2, 'two rate keys');
Test::More::is(join(' ', sort { $a <=> $b } map { $kv->{$_} } @q), '5 30',
               'quota totals');
Test::More::is(join(' ', sort { $a <=> $b } map { $kv->{$_} } @r), '5 30',
               'rate totals');
my $ttl = GwTest::redis_cmd('TTL', $q[0]);
my $want = 86400 - time % 86400 + 60;
Test::More::cmp_ok(abs($ttl - $want), '<=', 2,
                   "quota key expires a minute after its day ($ttl s)");
my $stats = GwTest::redis_cmd('INFO', 'commandstats');
my ($incr) = $stats =~ /cmdstat_incrby:calls=(\d+)/;
Test::More::cmp_ok($incr, '<=', 8, "35 requests, $incr INCRBY");
--- request
GET /t?k=a
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: another node's hits read back from Redis bound local admission
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms;
--- config
location = /t {
    gw_quota 10/day key=shared name=q;
    echo "$gw_quota_remaining";
}
--- init
Test::More::is(http_request('GET', '/t')->{body}, "9\n", 'first hit');
Time::HiRes::sleep(0.2);
my ($key) = keys %{ redis_keys() };
# another node admitted 7 requests in this window
GwTest::redis_cmd('INCRBY', $key, 7);
Test::More::is(http_request('GET', '/t')->{body}, "8\n", 'not known yet');
Time::HiRes::sleep(0.2);
--- request eval
["GET /t", "GET /t"]
--- error_code eval
[200, 429]
--- response_body_like eval
["^0\n\$", '"rate limit policy \\\\"q\\\\" exceeded']
--- no_error_log
[alert]
[emerg]



=== TEST 3: a rate's remote hits advance the local bucket
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms;
--- config
location = /t {
    gw_rate 10r/m burst=10 key=shared name=r;
    echo "$gw_rate_remaining";
}
--- init
Test::More::is(http_request('GET', '/t')->{body}, "9\n", 'first hit');
Time::HiRes::sleep(0.2);
my ($key) = keys %{ redis_keys() };
GwTest::redis_cmd('INCRBY', $key, 6);
# learnt with the next sync that has a local hit to send
Test::More::is(http_request('GET', '/t')->{body}, "8\n", 'not known yet');
Time::HiRes::sleep(0.2);
--- request eval
["GET /t", "GET /t", "GET /t"]
--- error_code eval
[200, 200, 429]
--- response_body_like eval
["^1\n\$", "^0\n\$", '"status":429']
--- no_error_log
[alert]
[emerg]



=== TEST 4: two nginx sharing one Redis admit no more than the documented bound
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms;
--- config
location = /t {
    gw_quota 20/day key=everyone name=q;
    echo ok;
}
--- init
my $second = second_nginx_start(<<"HTTP");
    gw_rate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} sync=100ms;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /c {
            gw_quota 20/day key=everyone name=q;
            echo ok;
        }
    }
HTTP
# sequential: A spends the quota, B learns it within one sync; with
# shares, A may have to wait for grants once its probe is spent (half,
# when it counted B already), so it tries until a deadline
my $a = 0;
my $deadline = Time::HiRes::time() + 10;
while ($a < 20 && Time::HiRes::time() < $deadline) {
    $a++ if http_request('GET', '/t')->{status} == 200;
}
Test::More::is($a, 20, 'A admits the quota');
Time::HiRes::sleep(0.35);
# B has never seen the key: what it admits before its first sync is the
# over-admission the bound allows, here one request
Test::More::is(http_request('GET', '/c', {}, undef, port => $second)->{status},
               200, 'B, first sight of the key');
Time::HiRes::sleep(0.35);
my @b = map { http_request("GET", "/c", {}, undef, port => $second)->{status} } 1 .. 5;
Test::More::is("@b", '429 429 429 429 429', 'B knows the cluster total');
my @a = map { http_request('GET', '/t')->{status} } 1 .. 3;
Test::More::is("@a", '429 429 429', 'A too');
Time::HiRes::sleep(0.35);
my ($key) = keys %{ redis_keys() };
Test::More::cmp_ok(GwTest::redis_cmd('GET', $key), '<=', 21, 'cluster total');
second_nginx_stop();
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 5: concurrent bursts on two nginx: over-admission within (nodes - 1) x one sync's admissions
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms;
--- config
location = /t {
    gw_quota 30/day key=everyone name=q;
    echo ok;
}
--- init
my $second = second_nginx_start(<<"HTTP");
    gw_rate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} sync=100ms;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /t {
            gw_quota 30/day key=everyone name=q;
            echo ok;
        }
    }
HTTP
my $admitted = 0;
for my $round (1 .. 6) {
    for my $port ($ENV{TEST_NGINX_SERVER_PORT}, $second) {
        $admitted += grep { $_->{status} == 200 }
                     @{ parallel_requests(4, 'GET', '/t', {}, port => $port) };
    }
    Time::HiRes::sleep(0.03);
}
# with shares the quota may take grants (after the key's young time) to
# be reached: more rounds until it is, with a deadline
my $deadline = Time::HiRes::time() + 10;
while ($admitted < 30 && Time::HiRes::time() < $deadline) {
    for my $port ($ENV{TEST_NGINX_SERVER_PORT}, $second) {
        $admitted += grep { $_->{status} == 200 }
                     @{ parallel_requests(4, 'GET', '/t', {}, port => $port) };
    }
    Time::HiRes::sleep(0.03);
}
# each node can admit at most what it sees in one sync interval beyond the
# limit (here all 4 + 4 of a round, twice); with shares, and both nodes
# counted, at most 30 + 1 (t/ratelimit-cluster.t)
Test::More::cmp_ok($admitted, '>=', 30, "admitted $admitted");
Test::More::cmp_ok($admitted, '<=', 30 + 16, 'within the bound');
Time::HiRes::sleep(0.35);
my $later = grep { $_->{status} == 200 }
            map { @{ parallel_requests(5, 'GET', '/t', {}, port => $_) } }
            $ENV{TEST_NGINX_SERVER_PORT}, $second;
Test::More::is($later, 0, 'nothing more once both synced');
second_nginx_stop();
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 6: Redis stopped mid-test: fail=local keeps limiting locally, nothing waits, counts resync
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms timeout=200ms;
--- config
location = /t {
    gw_quota 6/day key=x name=q;
    echo ok;
}
--- init
http_request('GET', '/t') for 1 .. 2;
Time::HiRes::sleep(0.2);
GwTest::redis_stop();
Time::HiRes::sleep(0.2);
my $t0 = Time::HiRes::time();
my @s = map { http_request('GET', '/t')->{status} } 1 .. 5;
my $ms = int((Time::HiRes::time() - $t0) * 1000);
Test::More::is("@s", '200 200 200 200 429', 'local limits while Redis is down');
Test::More::cmp_ok($ms, '<', 500, "no request waited ($ms ms for 5)");
GwTest::redis_start();
my $total;
for (1 .. 100) {
    Time::HiRes::sleep(0.1);
    my ($key) = keys %{ redis_keys() };
    $total = $key ? GwTest::redis_cmd('GET', $key) : undef;
    last if defined $total;
}
# Redis restarted empty: the hits made while it was down were sent again
Test::More::is($total, 4, 'counts resynced after the restart');
--- request
GET /t
--- error_code: 429
--- error_log
is unreachable, limits are local
is reachable again
--- no_error_log
[alert]
[emerg]



=== TEST 7: fail=closed answers 503 while Redis is down, and recovers
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms timeout=200ms fail=closed;
--- config
location = /t {
    gw_rate 100r/s key=x name=r;
    echo ok;
}
--- init
Test::More::is(http_request('GET', '/t')->{status}, 200, 'up');
GwTest::redis_stop();
Time::HiRes::sleep(0.3);
my $r = http_request('GET', '/t');
Test::More::is($r->{status}, 503, 'closed');
Test::More::is($r->{headers}{'content-type'}, 'application/problem+json');
Test::More::is($r->{body}, qq'{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the rate limit store is unavailable"}\r\n');
GwTest::redis_start();
my $s;
for (1 .. 100) {
    Time::HiRes::sleep(0.1);
    $s = http_request('GET', '/t')->{status};
    last if $s == 200;
}
Test::More::is($s, 200, 'open again once Redis is back');
--- request
GET /t
--- response_body
ok
--- error_log
is unreachable, limits are closed (503)
--- no_error_log
[alert]
[emerg]



=== TEST 8: a Redis that never answers: fail=local, every request answered at once
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_RAND_PORT_1 sync=50ms timeout=100ms;
--- config
location = /t {
    gw_quota 2/day name=q;
    echo ok;
}
--- init
# a listener that accepts and never replies
my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                              LocalPort => $ENV{TEST_NGINX_RAND_PORT_1},
                              Listen => 5, ReuseAddr => 1) or die $!;
$main::silent = $l;
Time::HiRes::sleep(0.1);
my $t0 = Time::HiRes::time();
my @s = map { http_request('GET', '/t')->{status} } 1 .. 3;
Test::More::is("@s", '200 200 429', 'local');
Test::More::cmp_ok(Time::HiRes::time() - $t0, '<', 0.5, 'nobody waited');
Time::HiRes::sleep(0.4);
--- request
GET /t
--- error_code: 429
--- error_log
gw_rate_redis 127.0.0.1:
timed out
--- no_error_log
[alert]
[emerg]



=== TEST 9: password, db and prefix
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT db=3 prefix=gw:test: sync=50ms;
--- config
location = /t {
    gw_quota 5/hour key=x name=q;
    echo ok;
}
--- init
http_request('GET', '/t') for 1 .. 2;
Time::HiRes::sleep(0.3);
GwTest::redis_cmd('SELECT', 3);
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 10: a zone with redis=off stays local, and fail=closed spares it
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms timeout=200ms fail=closed;
gw_rate_zone here size=1m redis=off;
--- config
location = /t {
    gw_quota 5/hour key=x zone=here name=local;
    echo ok;
}
location = /c {
    gw_quota 5/hour key=x name=cluster;
    echo ok;
}
--- init
http_request('GET', '/t') for 1 .. 3;
http_request('GET', '/c');
Time::HiRes::sleep(0.3);
my $kv = redis_keys();
Test::More::is(scalar(keys %$kv), 1, 'only the cluster policy in Redis');
GwTest::redis_stop();
Time::HiRes::sleep(0.3);
Test::More::is(http_request('GET', '/c')->{status}, 503, 'cluster zone closed');
--- request
GET /t
--- response_body
ok
--- no_error_log
[alert]
[emerg]



=== TEST 11: quotas survive a restart of nginx through Redis
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms;
--- config
location = /t {
    echo ok;
}
--- init
my $conf = <<"HTTP";
    gw_rate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} sync=50ms;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /q {
            gw_quota 5/hour key=fixed name=q;
            echo "\$gw_quota_remaining";
        }
    }
HTTP
my $port = second_nginx_start($conf);
my @b = map { http_request('GET', '/q', {}, undef, port => $port)->{body} } 1 .. 4;
Test::More::is("@b", "4\n 3\n 2\n 1\n", 'four of five');
Time::HiRes::sleep(0.3);
second_nginx_stop();
# a new nginx, with empty shared memory
$port = second_nginx_start($conf);
# its first hit is decided before it has heard from Redis
Test::More::is(http_request('GET', '/q', {}, undef, port => $port)->{status},
               200, 'first hit after the restart');
Time::HiRes::sleep(0.3);
Test::More::is(http_request('GET', '/q', {}, undef, port => $port)->{status},
               429, 'the count came back from Redis');
second_nginx_stop();
--- request
GET /t
--- response_body
ok
--- no_error_log
[alert]
[emerg]



=== TEST 12: a rate on two nginx: bursts from idle within (nodes - 1) x burst, then the shared bucket
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms;
--- config
location = /t {
    gw_rate 10r/m burst=10 key=everyone name=r;
    echo ok;
}
--- init
my $second = second_nginx_start(<<"HTTP");
    gw_rate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} sync=100ms;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /t {
            gw_rate 10r/m burst=10 key=everyone name=r;
            echo ok;
        }
    }
HTTP
my $n = 0;
for my $port ($ENV{TEST_NGINX_SERVER_PORT}, $second) {
    $n += grep { $_->{status} == 200 }
          @{ parallel_requests(15, 'GET', '/t', {}, port => $port) };
}
Test::More::cmp_ok($n, '>=', 10, "admitted $n");
Test::More::cmp_ok($n, '<=', 20, 'at most burst + (nodes - 1) x burst');
Time::HiRes::sleep(0.35);
# each learnt the other's hits: both buckets are empty for about a minute
my $later = grep { $_->{status} == 200 }
            map { @{ parallel_requests(5, 'GET', '/t', {}, port => $_) } }
            $ENV{TEST_NGINX_SERVER_PORT}, $second;
Test::More::is($later, 0, 'the shared bucket is empty on both');
second_nginx_stop();
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 13: Redis over a unix socket, with a password
--- config
location = /t {
    echo ok;
}
--- init
my $dir = File::Temp::tempdir(CLEANUP => 1);
my $sock = "$dir/redis.sock";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
    open STDOUT, '>', "$dir/redis.log";
    open STDERR, '>&', \*STDOUT;
    exec 'redis-server', '--port', '0', '--unixsocket', $sock,
         '--requirepass', 's3cret', '--save', '', '--appendonly', 'no',
         '--dir', $dir or exit 127;
}
for (1 .. 100) { last if -S $sock; Time::HiRes::sleep(0.05) }
my $port = second_nginx_start(<<"HTTP");
    gw_rate_redis unix:$sock password=s3cret db=2 sync=50ms;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /q {
            gw_quota 5/hour key=fixed name=q;
            echo ok;
        }
    }
HTTP
http_request('GET', '/q', {}, undef, port => $port) for 1 .. 3;
Time::HiRes::sleep(0.3);
# the counter, not the hash of its grants (<counter>:g)
my $keys = `redis-cli -s $sock -a s3cret --no-auth-warning -n 2 --scan --pattern 'gw_rate:q:*[0-9]'`;
chomp $keys;
Test::More::like($keys, qr/^gw_rate:q:[0-9a-f]{16}:\d+$/, 'a key in db 2');
my $v = `redis-cli -s $sock -a s3cret --no-auth-warning -n 2 GET $keys`;
Test::More::is($v, "3\n", 'three hits');
second_nginx_stop();
kill 'TERM', $pid;
waitpid($pid, 0);
--- request
GET /t
--- response_body
ok
--- no_error_log
[alert]
[emerg]

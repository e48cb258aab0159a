# Quotas spent by shares in Redis cluster mode, with a real Redis and two
# nginx: grants reserved in Redis, probes bounded by the instances counted
# through Redis, exact admission under a flood, a lone instance reaching
# its quota, instances ageing out, and the fail modes unchanged.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest 'redis';
use GwRate;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
add_block_preprocessor(sub {
    my $block = shift;
    # every block starts from an empty Redis
    GwTest::redis_start();
    GwTest::redis_cmd('FLUSHALL');
});

# the instances this nginx counted, through $gw_rate_instances at /n
sub instances {
    my ($port) = @_;
    my $r = http_request('GET', '/n', {}, undef,
                         $port ? (port => $port) : ());
    return $r->{status} == 200 ? $r->{body} + 0 : -1;
}

# the second nginx: /t with the quota, /n with the instances; each block
# has its own prefix, so that a late sync or heartbeat of the previous
# block's nginx lands elsewhere
sub second {
    my ($quota, $prefix) = @_;
    return second_nginx_start(<<"HTTP");
    gw_rate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} sync=100ms prefix=$prefix;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /t {
            gw_quota $quota key=\$arg_k name=q;
            echo ok;
        }
        location = /n {
            echo -n \$gw_rate_instances;
        }
    }
HTTP
}

run_tests();

__DATA__

=== TEST 1: two nginx flooded on one quota admit it exactly (at most nodes - 1 over)
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms prefix=gw_rate:t1:;
--- config
location = /t {
    gw_quota 200/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
my $second = main::second('200/hour', 'gw_rate:t1:');
my @ports = ($ENV{TEST_NGINX_SERVER_PORT}, $second);
Test::More::ok(wait_for(10, sub { main::instances() == 2
                                  && main::instances($second) == 2 }),
               'each instance counted two');
my ($admitted, $total, $full) = (0, 0, undef);
my $deadline = Time::HiRes::time() + 20;
# rounds of 10 parallel requests on each, until 1 s after the quota was
# reached (10 syncs, so every grant and probe has been spent)
while (Time::HiRes::time() < $deadline) {
    for my $port (@ports) {
        my $r = parallel_requests(10, 'GET', '/t?k=flood', {}, port => $port);
        $admitted += grep { $_->{status} == 200 } @$r;
        $total += @$r;
    }
    $full //= Time::HiRes::time() if $admitted >= 200;
    last if $full && Time::HiRes::time() > $full + 1;
}
Test::More::ok($full, "the quota was reached ($admitted of $total)");
Test::More::cmp_ok($admitted, '<=', 201, "admitted $admitted: at most 200 + (2 - 1)");
my ($key) = keys %{ redis_keys('gw_rate:t1:q:*') };
Test::More::is(GwTest::redis_cmd('GET', $key), $admitted,
               'the cluster total is what was admitted');
my $grants = redis_grants($key);
Test::More::is(scalar(keys %$grants), 2, 'a grant per instance');
Test::More::ok(!grep({ $_->[0] !~ /^\d+$/ || $_->[1] !~ /^\d{13}$/ }
                     values %$grants), 'grants are "count:ms"');
second_nginx_stop();
--- request
GET /t?k=flood
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 2: a lone nginx reaches exactly its quota at once
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms prefix=gw_rate:t2:;
--- config
gw_rate_log_level info;
location = /t {
    gw_quota 50/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
Test::More::ok(wait_for(10, sub { main::instances() == 1 }), 'one instance');
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 51;
Test::More::is(scalar(grep { $_ == 200 } @s), 50, 'the whole quota');
Test::More::is($s[-1], 429, 'then the limit');
--- request
GET /t?k=a
--- error_code: 429
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: the only busy nginx of two reaches exactly its quota within a bounded time
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms prefix=gw_rate:t3:;
--- config
location = /t {
    gw_quota 50/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
my $second = main::second('50/hour', 'gw_rate:t3:');
Test::More::ok(wait_for(10, sub { main::instances() == 2 }), 'two instances');
my $t0 = Time::HiRes::time();
my $admitted = 0;
# a probe of 25 (half), the other's first probe held back while the key
# is young (3 syncs), then grants of all that is left
wait_for(10, sub {
    $admitted += grep { $_->{status} == 200 }
                 @{ parallel_requests(5, 'GET', '/t?k=a') };
    return $admitted >= 50;
});
my $secs = Time::HiRes::time() - $t0;
Test::More::is($admitted, 50, sprintf('the whole quota in %.1f s', $secs));
my $more = 0;
wait_for(0.5, sub {
    $more += grep { $_->{status} == 200 }
             @{ parallel_requests(5, 'GET', '/t?k=a') };
    return 0;
});
Test::More::is($more, 0, 'nothing more');
second_nginx_stop();
--- request
GET /t?k=a
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 4: a probe is one instance's part; the count ages out when an instance stops
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=1s prefix=gw_rate:t4:;
--- config
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
my $second = main::second('10/hour', 'gw_rate:t4:');
Test::More::ok(wait_for(10, sub { main::instances() == 2 }), 'two instances');
Test::More::is(scalar(redis_instances('gw_rate:t4:')), 2, 'two in Redis');
# a new key: half of it before this instance's first grant, and nothing
# more while the key is young (3 s: the other one may be probing it too)
my @r = map { http_request('GET', '/t?k=a') } 1 .. 6;
my @s = map { $_->{status} } @r;
Test::More::is("@s", '200 200 200 200 200 429', 'a probe of 10 / 2');
# refused by the share: the normal 429, retry after the next sync
Test::More::is($r[5]{headers}{'retry-after'}, 1, 'Retry-After: 1');
Test::More::is($r[5]{headers}{'x-ratelimit-remaining'}, 0, 'remaining 0');
Test::More::like($r[5]{body}, qr/"detail":"rate limit policy \\"q\\" exceeded, retry in 1 s"/, 'problem+json');
second_nginx_stop();
Test::More::ok(wait_for(15, sub { main::instances() == 1 }),
               'one instance once the other stopped');
Test::More::is(scalar(redis_instances('gw_rate:t4:')), 1, 'one in Redis');
@s = map { http_request('GET', '/t?k=b')->{status} } 1 .. 11;
Test::More::is("@s", join(' ', (200) x 10, 429), 'a probe of all of it');
--- request
GET /t?k=c
--- response_body
ok
--- no_error_log
[alert]
[emerg]



=== TEST 5: Redis stopped: fail=local lifts the shares, the local count limits
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=1s prefix=gw_rate:t5:;
--- config
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
my $second = main::second('10/hour', 'gw_rate:t5:');
Test::More::ok(wait_for(10, sub { main::instances() == 2 }), 'two instances');
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 6;
Test::More::is("@s", '200 200 200 200 200 429', 'shares while Redis is up');
second_nginx_stop();
GwTest::redis_stop();
# a new key each time until the connection loss is noticed
my $k = 0;
my $all = wait_for(10, sub {
    $k++;
    my @s = map { http_request('GET', "/t?k=x$k")->{status} } 1 .. 10;
    return !grep { $_ != 200 } @s;
});
Test::More::ok($all, 'the whole quota locally once Redis is down');
Test::More::is(http_request('GET', "/t?k=x$k")->{status}, 429,
               'and the local limit');
@s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 6;
Test::More::is("@s", '200 200 200 200 200 429', 'a key known: its local count');
--- request
GET /t?k=y
--- response_body
ok
--- error_log
is unreachable, limits are local
--- no_error_log
[alert]
[emerg]



=== TEST 6: Redis stopped: fail=closed still answers 503 with shares
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms timeout=200ms fail=closed prefix=gw_rate:t6:;
--- config
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
Test::More::is(http_request('GET', '/t?k=a')->{status}, 200, 'up');
GwTest::redis_stop();
my $r = wait_for(10, sub {
    my $r = http_request('GET', '/t?k=a');
    return $r->{status} == 503 ? $r : undef;
});
Test::More::ok($r, 'closed');
Test::More::is($r->{body}, qq'{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the rate limit store is unavailable"}\r\n');
GwTest::redis_start();
Test::More::ok(wait_for(10, sub {
    http_request('GET', '/t?k=b')->{status} == 200 }), 'open again');
--- request
GET /t?k=c
--- response_body
ok
--- error_log
is unreachable, limits are closed (503)
--- no_error_log
[alert]
[emerg]



=== TEST 7: shares=off: the former behaviour, no heartbeat, no grants
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms shares=off prefix=gw_rate:t7:;
--- config
gw_rate_log_level info;
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo "[$gw_rate_instances]";
}
--- init
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 11;
Test::More::is("@s", join(' ', (200) x 10, 429), 'the local count only');
Test::More::ok(wait_for(5, sub { %{ redis_keys('gw_rate:t7:q:*') } }),
               'the hits reached Redis');
my ($key) = keys %{ redis_keys('gw_rate:t7:q:*') };
Test::More::is(GwTest::redis_cmd('EXISTS', "$key:g"), 0, 'no grants');
Test::More::is(scalar(redis_instances('gw_rate:t7:')), 0, 'no heartbeat');
--- request
GET /n
--- response_body
[]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: nodes= is a floor under the instances counted
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=1s nodes=4 prefix=gw_rate:t8:;
--- config
gw_rate_log_level info;
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
Test::More::ok(wait_for(10, sub { main::instances() == 1 }), 'one counted');
# ceil(10 / 4) = 3, and the three instances that may be probing are held
# back while the key is young
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 4;
Test::More::is("@s", '200 200 200 429', 'a probe of ceil(10 / 4)');
--- request
GET /t?k=b
--- response_body
ok
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: a reload keeps the shares and the instance's name
--- config
location = /t {
    echo ok;
}
--- init
my $port = second_nginx_start(<<"HTTP");
    gw_rate_redis 127.0.0.1:$ENV{TEST_NGINX_REDIS_PORT} sync=100ms prefix=gw_rate:t9:;
    server {
        listen 127.0.0.1:\$SECOND_PORT;
        location = /t {
            gw_quota 10/hour key=\$arg_k name=q;
            echo ok;
        }
        location = /pid {
            echo -n \$pid;
        }
    }
HTTP
Test::More::ok(wait_for(10, sub { redis_instances('gw_rate:t9:') == 1 }), 'counted');
my @s = map { http_request('GET', '/t?k=a', {}, undef, port => $port)->{status} } 1 .. 4;
Test::More::is("@s", '200 200 200 200', 'four');
Test::More::ok(wait_for(5, sub {
    my ($key) = keys %{ redis_keys('gw_rate:t9:q:*') };
    $key && GwTest::redis_cmd('GET', $key) == 4 }), 'sent');
my @before = redis_instances('gw_rate:t9:');
my $worker = http_request('GET', '/pid', {}, undef, port => $port)->{body};
second_nginx_reload();
Test::More::ok(wait_for(10, sub {
    http_request('GET', '/pid', {}, undef, port => $port)->{body} ne $worker }),
    'a new worker');
@s = map { http_request('GET', '/t?k=a', {}, undef, port => $port)->{status} } 1 .. 7;
Test::More::is("@s", '200 200 200 200 200 200 429', 'the rest of the quota');
my ($key) = keys %{ redis_keys('gw_rate:t9:q:*') };
Test::More::is_deeply([keys %{ redis_grants($key) }], \@before,
                      'one instance, the same name');
second_nginx_stop();
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 10: probe= caps what a node admits on a key before its first grant
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=100ms timeout=10s probe=2 prefix=gw_rate:t10:;
--- config
gw_rate_log_level info;
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
Test::More::ok(wait_for(10, sub { main::instances() == 1 }), 'one instance');
# no sync can complete for 2 s: what is admitted meanwhile is the probe
GwTest::redis_cmd('CLIENT', 'PAUSE', 2000, 'WRITE');
my $t0 = Time::HiRes::time();
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 3;
my $ms = int((Time::HiRes::time() - $t0) * 1000);
Test::More::is("@s", '200 200 429', 'two, not the whole quota');
Test::More::cmp_ok($ms, '<', 1000, "nobody waited ($ms ms for 3)");
my $admitted = 2;
wait_for(10, sub {
    $admitted++ if http_request('GET', '/t?k=a')->{status} == 200;
    return $admitted >= 10;
});
Test::More::is($admitted, 10, 'the rest with the grant');
--- request
GET /t?k=a
--- error_code: 429
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 11: SCRIPT FLUSH: the scripts are loaded again, no hit lost or counted twice
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms prefix=gw_rate:t11:;
--- config
location = /t {
    gw_quota 20/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
Test::More::ok(wait_for(10, sub { main::instances() == 1 }), 'one instance');
my $total = sub {
    my ($key) = keys %{ redis_keys('gw_rate:t11:q:*') };
    return $key ? GwTest::redis_cmd('GET', $key) : 0;
};
http_request('GET', '/t?k=a') for 1 .. 5;
Test::More::ok(wait_for(5, sub { $total->() == 5 }), 'five in Redis');
GwTest::redis_cmd('CONFIG', 'RESETSTAT');
GwTest::redis_cmd('SCRIPT', 'FLUSH');
http_request('GET', '/t?k=a') for 1 .. 5;
Test::More::ok(wait_for(5, sub { $total->() == 10 }), 'ten in Redis');
my $stats = GwTest::redis_cmd('INFO', 'commandstats');
my ($load) = $stats =~ /cmdstat_script\|load:calls=(\d+)/;
Test::More::ok($load && $load <= 4, "loaded again (SCRIPT LOAD: $load)");
Time::HiRes::sleep(0.3);
Test::More::is($total->(), 10, 'still ten');
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 11;
Test::More::is("@s", join(' ', (200) x 10, 429), 'the rest of the quota');
--- request
GET /t?k=a
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 12: a key whose sync fails is not refused for good: probes are renewed
--- http_config
gw_rate_redis 127.0.0.1:$TEST_NGINX_REDIS_PORT sync=50ms probe=2 prefix=gw_rate:t12:;
--- config
gw_rate_log_level info;
location = /t {
    gw_quota 10/hour key=$arg_k name=q;
    echo ok;
}
location = /n {
    echo -n $gw_rate_instances;
}
--- init
Test::More::ok(wait_for(10, sub { main::instances() == 1 }), 'one instance');
# scripts refused: every sync of the key fails, the hits are kept
GwTest::redis_cmd('ACL', 'SETUSER', 'default', '-eval', '-evalsha');
my @s = map { http_request('GET', '/t?k=a')->{status} } 1 .. 3;
Test::More::is("@s", '200 200 429', 'a probe of 2');
my $admitted = 2;
Test::More::ok(wait_for(10, sub {
    $admitted++ if http_request('GET', '/t?k=a')->{status} == 200;
    return $admitted >= 4;
}), 'another probe once the first lapsed');
GwTest::redis_cmd('ACL', 'SETUSER', 'default', '+@all');
Test::More::ok(wait_for(10, sub {
    my ($key) = keys %{ redis_keys('gw_rate:t12:q:*') };
    $key && GwTest::redis_cmd('GET', $key) == $admitted }),
    "the $admitted hits reached Redis once scripts were allowed again");
--- request
GET /t?k=b
--- response_body
ok
--- error_log
a sync failed: NOPERM
--- no_error_log
[alert]
[emerg]

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

# two worker processes share the zone: entries, coalescing, purges
master_on();
workers(2);
no_shuffle();

sub count_of {
    my ($name) = @_;
    open my $fh, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/$name" or return 0;
    my @l = <$fh>;
    return scalar @l;
}

run_tests();

__DATA__

=== TEST 1: twenty concurrent misses over two workers: one backend request
--- http_config
gw_cache_zone c size=1m;
log_format cnt "$pid";
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend1.log cnt;
    echo_sleep 0.5;
    echo "slow answer";
}
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
my $rs = GwTest::parallel_requests(20, 'GET', '/t');
my @st = sort map { $_->{headers}{'x-cache-status'} // '' } @$rs;
Test::More::is(scalar(grep { $_->{status} == 200 && $_->{body} eq "slow answer\n" } @$rs), 20, "TEST 1: twenty full answers");
Test::More::is(join(",", @st), join(",", ("HIT") x 19, "MISS"), "TEST 1: one MISS, the rest from its result");
Test::More::is(main::count_of("backend1.log"), 1, "TEST 1: the backend saw one request");
--- request
GET /t
--- response_body
slow answer
--- response_headers
X-Cache-Status: HIT
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: every worker sees the other's entries and purges
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "body\n";
}
location /purge {
    gw_cache_purge c;
}
--- init
my $r = GwTest::http_request('GET', '/t');
Test::More::is($r->{headers}{'x-cache-status'}, 'MISS', "TEST 2: stored");
my $rs = GwTest::parallel_requests(10, 'GET', '/t');
Test::More::is(scalar(grep { ($_->{headers}{'x-cache-status'} // '') eq 'HIT' } @$rs), 10, "TEST 2: ten hits, whichever worker");
$r = GwTest::http_request('GET', '/purge?key=/t');
Test::More::is($r->{body}, "{\"purged\":1}\n", "TEST 2: purged");
$rs = GwTest::parallel_requests(4, 'GET', '/t');
Test::More::is(scalar(grep { ($_->{headers}{'x-cache-status'} // '') eq 'MISS' } @$rs), 1, "TEST 2: one MISS after the purge");
--- request
GET /t
--- response_headers
X-Cache-Status: HIT
--- no_error_log
[error]
[alert]
[emerg]

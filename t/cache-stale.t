use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Time::HiRes qw(sleep time);
use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->{http_config} //= [qq{gw_cache_zone c size=1m;\nlog_format cnt "\$status";\n}];
});

# the time until a response is complete (by its Content-Length), whether or
# not the connection stays open after it
sub time_to_response {
    my ($path) = @_;
    my $t0 = time;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $ENV{TEST_NGINX_SERVER_PORT})
        or die "connect: $!";
    print $s "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    my $buf = '';
    while (sysread($s, $buf, 65536, length $buf)) {
        my ($head, $body) = split /\r\n\r\n/, $buf, 2;
        next unless defined $body;
        my ($len) = $head =~ /Content-Length: (\d+)/i;
        last if defined $len && length($body) >= $len;
    }
    my $took = time - $t0;
    close $s;
    return ($took, GwTest::parse($buf));
}

sub count_of {
    my ($name) = @_;
    open my $fh, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/$name" or return 0;
    my @l = <$fh>;
    return scalar @l;
}

run_tests();

__DATA__

=== TEST 1: coalescing: ten concurrent misses, one backend request
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
my $rs = GwTest::parallel_requests(10, 'GET', '/t');
my @st = sort map { $_->{headers}{'x-cache-status'} // '' } @$rs;
Test::More::is(scalar(grep { $_->{status} == 200 && $_->{body} eq "slow answer\n" } @$rs), 10, "TEST 1: ten full answers");
Test::More::is(join(",", @st), join(",", ("HIT") x 9, "MISS"), "TEST 1: one MISS, nine served from its result");
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



=== TEST 2: coalescing is bounded by gw_cache_lock_timeout; the waiters then fetch
--- config
location /t {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_lock_timeout 200ms;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend2.log cnt;
    echo_sleep 1;
    echo "very slow";
}
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
my $rs = GwTest::parallel_requests(3, 'GET', '/t');
Test::More::is(scalar(grep { $_->{status} == 200 && $_->{body} eq "very slow\n" } @$rs), 3, "TEST 2: three full answers");
Test::More::is(main::count_of("backend2.log"), 3, "TEST 2: the waiters went to the backend after the timeout");
--- request
GET /t
--- response_headers
X-Cache-Status: HIT
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: stale-while-revalidate (response directive): stale answers at once, one background refresh
--- config
location /t {
    gw_cache c;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend3.log cnt;
    add_header Cache-Control "max-age=2, stale-while-revalidate=30";
    echo_sleep 0.5;
    echo "version $connection";
}
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
my $r1 = GwTest::http_request('GET', '/t');
Test::More::is($r1->{headers}{'x-cache-status'}, 'MISS', "TEST 3: first a MISS");
sleep 2.2;
my ($took, $r2) = main::time_to_response('/t');
Test::More::is($r2->{headers}{'x-cache-status'}, 'STALE', "TEST 3: a STALE answer");
Test::More::is($r2->{body}, $r1->{body}, "TEST 3: with the stored body");
Test::More::cmp_ok($took, '<', 0.3, "TEST 3: without waiting for the backend");
my $rs = GwTest::parallel_requests(4, 'GET', '/t');
my @st = sort map { $_->{headers}{'x-cache-status'} // '' } @$rs;
Test::More::is(join(",", @st), "UPDATING,UPDATING,UPDATING,UPDATING", "TEST 3: the others UPDATING while it runs");
Test::More::is(scalar(grep { $_->{body} eq $r1->{body} } @$rs), 4, "TEST 3: all got the stored body");
sleep 1;
my $r3 = GwTest::http_request('GET', '/t');
Test::More::is($r3->{headers}{'x-cache-status'}, 'HIT', "TEST 3: refreshed entry is a HIT");
Test::More::isnt($r3->{body}, $r1->{body}, "TEST 3: with the new body");
Test::More::is(main::count_of("backend3.log"), 2, "TEST 3: the backend saw one refresh");
--- request
GET /t
--- response_headers
X-Cache-Status: HIT
--- timeout: 15
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: gw_cache_stale while_revalidate: a refresh with the stored ETag (304)
--- config
location /t {
    gw_cache c;
    gw_cache_stale while_revalidate=1m;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/f.txt;
}
location /backend/ {
    access_log $TEST_NGINX_SERVROOT/logs/backend4.log cnt;
    add_header Cache-Control "max-age=2";
    alias $TEST_NGINX_HTML_DIR/;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend4.log;
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- user_files
>>> f.txt
file body
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
--- request eval
["GET /t", "GET /sleep", "GET /t", "GET /t", "GET /count"]
--- response_body eval
["file body\n", "slept\n", "file body\n", "file body\n", "200\n304\n"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: STALE", "X-Cache-Status: HIT", ""]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: stale-if-error: the backend is down, the stale entry answers
--- config
location /t {
    gw_cache c;
    gw_cache_key $uri;
    gw_cache_stale if_error=1h;
    set $bport $TEST_NGINX_SERVER_PORT;
    if ($arg_down) {
        set $bport $TEST_NGINX_RAND_PORT_1;
    }
    proxy_pass http://127.0.0.1:$bport/backend;
}
location /nostale {
    gw_cache c;
    gw_cache_key $uri;
    set $bport $TEST_NGINX_SERVER_PORT;
    if ($arg_down) {
        set $bport $TEST_NGINX_RAND_PORT_1;
    }
    proxy_pass http://127.0.0.1:$bport/backend;
}
location /backend {
    add_header Cache-Control "max-age=2";
    return 200 "the good body\n";
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t", "GET /nostale", "GET /sleep", "GET /t?down=1", "GET /nostale?down=1", "GET /t?down=1"]
--- error_code eval
[200, 200, 200, 200, 502, 200]
--- response_body_like eval
["the good body", "the good body", "slept", "^the good body\n\$", "502 Bad Gateway", "^the good body\n\$"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "", "X-Cache-Status: STALE\nContent-Length: 14\nCache-Control: max-age=2", "X-Cache-Status: EXPIRED", "X-Cache-Status: STALE"]
--- timeout: 10
--- no_error_log
[alert]
[emerg]



=== TEST 6: stale-if-error from the response; a 503 from the backend is replaced too
--- config
location /t {
    gw_cache c;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend$is_args$args;
}
location /backend {
    add_header Cache-Control "max-age=2, stale-if-error=60" always;
    if ($arg_fail) {
        return 503 "down for maintenance\n";
    }
    return 200 "the good body\n";
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t", "GET /sleep", "GET /t?fail=1"]
--- error_code eval
[200, 200, 200]
--- response_body eval
["the good body\n", "slept\n", "the good body\n"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: STALE"]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: must-revalidate forbids serving stale
--- config
location /t {
    gw_cache c;
    gw_cache_key $uri;
    gw_cache_stale while_revalidate=1h if_error=1h;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend$is_args$args;
}
location /backend {
    add_header Cache-Control "max-age=2, must-revalidate" always;
    if ($arg_fail) {
        return 503 "down\n";
    }
    return 200 "the good body\n";
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
--- request eval
["GET /t", "GET /sleep", "GET /t?fail=1"]
--- error_code eval
[200, 200, 503]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: EXPIRED"]
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: a later PRECONTENT rejection (try_files =429) wins over a stale hit and starts no refresh
--- config
location /a {
    gw_cache c;
    gw_cache_key "K";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /limited {
    gw_cache c;
    gw_cache_key "K";
    try_files /no-such-file =429;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend8.log cnt;
    add_header Cache-Control "max-age=2, stale-while-revalidate=60";
    return 200 "stored\n";
}
location /sleep {
    echo_sleep 2.1;
    echo slept;
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend8.log;
}
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
--- request eval
["GET /a", "GET /limited", "GET /sleep", "GET /limited", "GET /limited", "GET /count", "GET /a", "GET /sleep", "GET /count"]
--- error_code eval
[200, 429, 200, 429, 429, 200, 200, 200, 200]
--- response_body_like eval
["stored", "429", "slept", "429", "429", "^200\n\$", "stored", "slept", "^200\n200\n\$"]
--- response_headers eval
["X-Cache-Status: MISS", "!X-Cache-Status", "", "!X-Cache-Status", "!X-Cache-Status", "", "X-Cache-Status: STALE", "", ""]
--- timeout: 15
--- no_error_log
[error]
[alert]
[emerg]

# Zones: the default zone, eviction when full, the usage report.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();
run_tests();

__DATA__

=== TEST 1: gw_rate alone uses a default zone of 10m
--- config
location = /t {
    gw_rate 100r/s burst=200;
    echo ok;
}
location = /usage {
    gw_rate_usage;
}
--- request eval
["GET /t", "GET /usage"]
--- response_body eval
["ok\n",
qq'{"zones":[{"name":"gw_rate_default","size":10485760,"keys":1,"evicted":0}],"policies":[{"name":"100r/s","type":"rate","zone":"gw_rate_default","limit":100,"capacity":200,"window":1}]}\n']
--- response_headers eval
["", "Content-Type: application/json"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: the default zone can be sized by declaring it
--- http_config
gw_rate_zone gw_rate_default size=64k;
--- config
location = /t {
    gw_rate 100r/s burst=200;
    echo ok;
}
location = /usage {
    gw_rate_usage;
}
--- request
GET /usage
--- response_body_like eval
'^\{"zones":\[\{"name":"gw_rate_default","size":65536,'
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: a full zone evicts the least recently used keys, warns once, keeps limiting
--- http_config
gw_rate_zone tiny size=32k;
--- config
location = /t {
    gw_rate 1r/h burst=1 key=$arg_k zone=tiny;
    gw_rate_log_level info;
    echo ok;
}
location = /usage {
    gw_rate_usage;
}
--- init
my %n;
for my $k (1 .. 1500) {
    $n{ http_request('GET', "/t?k=$k")->{status} }++;
}
Test::More::is($n{200}, 1500, 'every new key admitted');
# the newest keys are still limited, the oldest were evicted
Test::More::is(http_request('GET', '/t?k=1500')->{status}, 429,
               'a recent key is limited');
Test::More::is(http_request('GET', '/t?k=1499')->{status}, 429,
               'another recent key is limited');
Test::More::is(http_request('GET', '/t?k=1')->{status}, 200,
               'the oldest key was evicted');
open my $fh, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/error.log" or die $!;
my $full = grep { /gw_rate_zone "tiny" is full, evicting the least recently used keys/ } <$fh>;
Test::More::is($full, 1, 'one warning');
--- request
GET /usage
--- response_body_like eval
'^\{"zones":\[\{"name":"tiny","size":32768,"keys":\d+,"evicted":[1-9]\d*\}\]'
--- error_log
[warn]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: usage per key and policy
--- http_config
gw_rate_zone z size=1m;
--- config
location = /t {
    gw_rate 10r/m burst=5 key=$arg_k name=r;
    gw_quota 100/day key=$arg_k zone=z name=q;
    echo ok;
}
location = /usage {
    gw_rate_usage;
}
--- request eval
["GET /t?k=alice", "GET /t?k=alice", "GET /usage?key=alice", "GET /usage?key=bob",
 "POST /usage", "GET /usage?key="]
--- error_code eval
[200, 200, 200, 200, 405, 400]
--- response_body_like eval
["ok", "ok",
'^\{"key":"alice","policies":\[\{"name":"r","type":"rate","zone":"gw_rate_default","limit":10,"capacity":5,"window":60,"used":2,"remaining":3,"reset":12\},\{"name":"q","type":"quota","zone":"z","limit":100,"capacity":100,"window":86400,"used":2,"remaining":98,"reset":\d+\}\]\}$',
'^\{"key":"bob","policies":\[\{"name":"r","type":"rate","zone":"gw_rate_default","limit":10,"capacity":5,"window":60,"used":0,"remaining":5,"reset":0\},\{"name":"q","type":"quota","zone":"z","limit":100,"capacity":100,"window":86400,"used":0,"remaining":100,"reset":\d+\}\]\}$',
'"status":405,"detail":"gw_rate_usage answers GET and HEAD"',
'"status":400,"detail":"empty key"']
--- no_error_log
[alert]
[emerg]



=== TEST 5: many policies in one location, all reported by usage
--- config
location = /t {
    gw_rate 10r/s name=a;
    gw_rate 20r/s name=b;
    gw_rate 30r/m name=c;
    gw_quota 40/hour name=d;
    gw_quota 50/day name=e;
    echo "$gw_rate_policy $gw_rate_remaining";
}
location = /usage {
    gw_rate_usage;
}
--- request eval
["GET /t", "GET /usage?key=127.0.0.1"]
--- response_body_like eval
["^a 9\n\$",
'"name":"a",.*"used":1,"remaining":9,.*"name":"b",.*"used":1,"remaining":19,.*"name":"c",.*"used":1,"remaining":29,.*"name":"d",.*"used":1,"remaining":39,.*"name":"e",.*"used":1,"remaining":49,']
--- response_headers eval
["RateLimit-Policy: \"a\";q=10;w=1, \"b\";q=20;w=1, \"c\";q=30;w=60, \"d\";q=40;w=3600, \"e\";q=50;w=86400", ""]
--- no_error_log
[error]
[alert]
[emerg]

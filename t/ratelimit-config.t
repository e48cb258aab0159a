# Every directive's bad values fail at config time with a message naming
# the value.

use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__
=== TEST 1: gw_rate: a rate without a unit
--- config
gw_rate 100;
location = /t { echo ok; }
--- must_die
--- error_log
invalid rate "100"



=== TEST 2: gw_rate: an unknown unit
--- config
gw_rate 100r/d;
location = /t { echo ok; }
--- must_die
--- error_log
invalid rate "100r/d"



=== TEST 3: gw_rate: zero
--- config
gw_rate 0r/s;
location = /t { echo ok; }
--- must_die
--- error_log
invalid rate "0r/s"



=== TEST 4: gw_rate: above a million
--- config
gw_rate 1000001r/s;
location = /t { echo ok; }
--- must_die
--- error_log
invalid rate "1000001r/s"



=== TEST 5: gw_rate: not a number
--- config
gw_rate fast;
location = /t { echo ok; }
--- must_die
--- error_log
invalid rate "fast"



=== TEST 6: gw_rate: burst zero
--- config
gw_rate 1r/s burst=0;
location = /t { echo ok; }
--- must_die
--- error_log
invalid burst "burst=0"



=== TEST 7: gw_rate: burst not a number
--- config
gw_rate 1r/s burst=lots;
location = /t { echo ok; }
--- must_die
--- error_log
invalid burst "burst=lots"



=== TEST 8: gw_rate: empty key
--- config
gw_rate 1r/s key=;
location = /t { echo ok; }
--- must_die
--- error_log
invalid key "key="



=== TEST 9: gw_rate: key with an unknown variable
--- config
gw_rate 1r/s key=$no_such_var;
location = /t { echo ok; }
--- must_die
--- error_log
unknown "no_such_var" variable



=== TEST 10: gw_rate: empty zone
--- config
gw_rate 1r/s zone=;
location = /t { echo ok; }
--- must_die
--- error_log
invalid zone "zone="



=== TEST 11: gw_rate: an undeclared zone
--- config
gw_rate 1r/s zone=nowhere;
location = /t { echo ok; }
--- must_die
--- error_log
unknown gw_rate_zone "nowhere"



=== TEST 12: gw_rate: a name with a quote
--- config
gw_rate 1r/s 'name=a"b';
location = /t { echo ok; }
--- must_die
--- error_log
invalid name "name=a"b"



=== TEST 13: gw_rate: an empty name
--- config
gw_rate 1r/s name=;
location = /t { echo ok; }
--- must_die
--- error_log
invalid name "name="



=== TEST 14: gw_rate: an unknown parameter
--- config
gw_rate 1r/s nodelay;
location = /t { echo ok; }
--- must_die
--- error_log
invalid parameter "nodelay"



=== TEST 15: gw_quota: burst is not a quota parameter
--- config
gw_quota 10/day burst=5;
location = /t { echo ok; }
--- must_die
--- error_log
invalid parameter "burst=5"



=== TEST 16: gw_quota: an unknown period
--- config
gw_quota 10/fortnight;
location = /t { echo ok; }
--- must_die
--- error_log
invalid quota "10/fortnight"



=== TEST 17: gw_quota: a period under a second
--- config
gw_quota 10/500ms;
location = /t { echo ok; }
--- must_die
--- error_log
invalid quota "10/500ms"



=== TEST 18: gw_quota: zero
--- config
gw_quota 0/day;
location = /t { echo ok; }
--- must_die
--- error_log
invalid quota "0/day"



=== TEST 19: gw_quota: no period
--- config
gw_quota 10;
location = /t { echo ok; }
--- must_die
--- error_log
invalid quota "10"



=== TEST 20: gw_quota: above 2^32-1
--- config
gw_quota 4294967296/day;
location = /t { echo ok; }
--- must_die
--- error_log
invalid quota "4294967296/day"



=== TEST 21: gw_rate_zone: no size=
--- http_config
gw_rate_zone z 1m;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid parameter "1m"



=== TEST 22: gw_rate_zone: a bad size
--- http_config
gw_rate_zone z size=big;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid zone size "size=big"



=== TEST 23: gw_rate_zone: too small
--- http_config
gw_rate_zone z size=8k;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
zone "z" is too small, at least 32k



=== TEST 24: gw_rate_zone: declared twice
--- http_config
gw_rate_zone z size=1m;
gw_rate_zone z size=2m;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
duplicate gw_rate_zone "z"



=== TEST 25: gw_rate_zone: a name another module uses
--- http_config
limit_req_zone $binary_remote_addr zone=z:1m rate=1r/s;
gw_rate_zone z size=1m;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
the shared memory zone "z" is already declared for a different use



=== TEST 26: gw_rate_status: not an error status
--- config
gw_rate_status 200;
location = /t { echo ok; }
--- must_die
--- error_log
invalid status "200", must be 400..599



=== TEST 27: gw_rate_status: not a number
--- config
gw_rate_status often;
location = /t { echo ok; }
--- must_die
--- error_log
invalid status "often", must be 400..599



=== TEST 28: gw_rate_headers: not a flag
--- config
gw_rate_headers maybe;
location = /t { echo ok; }
--- must_die
--- error_log
invalid value "maybe" in "gw_rate_headers" directive, it must be "on" or "off"



=== TEST 29: gw_rate_dry_run: not a flag
--- config
gw_rate_dry_run yes;
location = /t { echo ok; }
--- must_die
--- error_log
invalid value "yes" in "gw_rate_dry_run" directive, it must be "on" or "off"



=== TEST 30: gw_rate_log_level: unknown level
--- config
gw_rate_log_level debug;
location = /t { echo ok; }
--- must_die
--- error_log
invalid value "debug"



=== TEST 31: gw_rate_timezone: an unknown zone
--- http_config
gw_rate_timezone Mars/Olympus_Mons;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
unknown time zone "Mars/Olympus_Mons"



=== TEST 32: gw_rate_timezone: an offset out of range
--- http_config
gw_rate_timezone +25:00;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid time zone "+25:00"



=== TEST 33: gw_rate_timezone: a path outside the database
--- http_config
gw_rate_timezone ../../etc/passwd;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid time zone "../../etc/passwd"



=== TEST 34: gw_rate_timezone: a file that is not TZif
--- http_config
gw_rate_timezone zone.tab;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid time zone "zone.tab": "/usr/share/zoneinfo/zone.tab" is not TZif data



=== TEST 35: gw_rate_timezone: only in http
--- config
gw_rate_timezone UTC;
location = /t { echo ok; }
--- must_die
--- error_log
"gw_rate_timezone" directive is not allowed here



=== TEST 36: gw_rate_plan: a bad rate
--- http_config
gw_rate_plan gold rate=fast;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid rate "rate=fast"



=== TEST 37: gw_rate_plan: a bad quota
--- http_config
gw_rate_plan gold quota=10/year;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid quota "quota=10/year"



=== TEST 38: gw_rate_plan: a bad burst
--- http_config
gw_rate_plan gold rate=1r/s burst=-1;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid burst "burst=-1"



=== TEST 39: gw_rate_plan: burst without rate
--- http_config
gw_rate_plan gold burst=5 quota=1/day;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
gw_rate_plan "gold" has burst= without rate=



=== TEST 40: gw_rate_plan: no limits
--- http_config
gw_rate_plan gold;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
gw_rate_plan "gold" needs rate= or quota=



=== TEST 41: gw_rate_plan: defined twice
--- http_config
gw_rate_plan gold rate=1r/s;
gw_rate_plan gold rate=2r/s;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
duplicate gw_rate_plan "gold"



=== TEST 42: gw_rate_plan: a bad name
--- http_config
gw_rate_plan 'go ld' rate=1r/s;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid plan name "go ld"



=== TEST 43: gw_rate_plan: an unknown parameter
--- http_config
gw_rate_plan gold rate=1r/s tier=1;
--- config

location = /t { echo ok; }
--- must_die
--- error_log
invalid parameter "tier=1"



=== TEST 44: gw_rate_plan_var: not a variable
--- config
gw_rate_plan_var plan;
location = /t { echo ok; }
--- must_die
--- error_log
invalid variable "plan"



=== TEST 45: gw_rate_plan_var: an unknown variable
--- config
gw_rate_plan_var $no_plan_here;
location = /t { echo ok; }
--- must_die
--- error_log
unknown "no_plan_here" variable



=== TEST 46: gw_rate_usage: takes no arguments
--- config
location /u { gw_rate_usage on; }
location = /t { echo ok; }
--- must_die
--- error_log
invalid number of arguments in "gw_rate_usage" directive



=== TEST 47: gw_rate_redis: no port
--- http_config
gw_rate_redis 127.0.0.1;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid Redis address "127.0.0.1"



=== TEST 48: gw_rate_redis: an empty unix path
--- http_config
gw_rate_redis unix:;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid Redis address "unix:"



=== TEST 49: gw_rate_redis: a bad db
--- http_config
gw_rate_redis 127.0.0.1:6379 db=one;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid db "db=one"



=== TEST 50: gw_rate_redis: a sync too short
--- http_config
gw_rate_redis 127.0.0.1:6379 sync=5ms;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid sync "sync=5ms", must be 10ms..60s



=== TEST 51: gw_rate_redis: a timeout too long
--- http_config
gw_rate_redis 127.0.0.1:6379 timeout=2m;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid timeout "timeout=2m", must be 10ms..60s



=== TEST 52: gw_rate_redis: an empty prefix
--- http_config
gw_rate_redis 127.0.0.1:6379 prefix=;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid prefix "prefix="



=== TEST 53: gw_rate_redis: an empty password
--- http_config
gw_rate_redis 127.0.0.1:6379 password=;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid password "password="



=== TEST 54: gw_rate_redis: an unknown fail mode
--- http_config
gw_rate_redis 127.0.0.1:6379 fail=open;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid parameter "fail=open"



=== TEST 55: gw_rate_redis: twice
--- http_config
gw_rate_redis 127.0.0.1:6379;
gw_rate_redis 127.0.0.1:6380;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
"gw_rate_redis" directive is duplicate



=== TEST 56: gw_rate_redis: only in http
--- config
gw_rate_redis 127.0.0.1:6379;
location = /t { echo ok; }
--- must_die
--- error_log
"gw_rate_redis" directive is not allowed here



=== TEST 57: at most 16 zones
--- http_config
gw_rate_zone z1 size=32k;
gw_rate_zone z2 size=32k;
gw_rate_zone z3 size=32k;
gw_rate_zone z4 size=32k;
gw_rate_zone z5 size=32k;
gw_rate_zone z6 size=32k;
gw_rate_zone z7 size=32k;
gw_rate_zone z8 size=32k;
gw_rate_zone z9 size=32k;
gw_rate_zone z10 size=32k;
gw_rate_zone z11 size=32k;
gw_rate_zone z12 size=32k;
gw_rate_zone z13 size=32k;
gw_rate_zone z14 size=32k;
gw_rate_zone z15 size=32k;
gw_rate_zone z16 size=32k;
--- config
location = /t {
gw_rate 1r/s zone=z1;
gw_rate 1r/s zone=z2;
gw_rate 1r/s zone=z3;
gw_rate 1r/s zone=z4;
gw_rate 1r/s zone=z5;
gw_rate 1r/s zone=z6;
gw_rate 1r/s zone=z7;
gw_rate 1r/s zone=z8;
gw_rate 1r/s zone=z9;
gw_rate 1r/s zone=z10;
gw_rate 1r/s zone=z11;
gw_rate 1r/s zone=z12;
gw_rate 1r/s zone=z13;
gw_rate 1r/s zone=z14;
gw_rate 1r/s zone=z15;
gw_rate 1r/s zone=z16;
    gw_rate 1r/s;
    echo ok;
}
--- must_die
--- error_log
too many gw_rate zones, at most 16



=== TEST 58: every directive with good values
--- http_config
gw_rate_zone z size=1m;
gw_rate_timezone Europe/Berlin;
gw_rate_plan gold rate=100r/s burst=200 quota=10000/day;
gw_rate_plan free quota=5/2s;
gw_rate 100r/s burst=200 zone=z name=http_rate;
--- config
gw_rate_status 429;
gw_rate_headers on;
gw_rate_dry_run off;
gw_rate_log_level notice;
gw_rate_plan_var $arg_plan;
location = /t {
    gw_rate 10r/m key=$arg_k;
    gw_quota 100/hour key=$arg_k zone=z name=hourly;
    gw_quota 1000/1h;
    echo ok;
}
location = /usage { gw_rate_usage; }
--- request
GET /t
--- response_body
ok
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 59: gw_rate_redis: nodes zero
--- http_config
gw_rate_redis 127.0.0.1:6379 nodes=0;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid nodes "nodes=0", must be 1..1024



=== TEST 60: gw_rate_redis: nodes not a number
--- http_config
gw_rate_redis 127.0.0.1:6379 nodes=two;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid nodes "nodes=two", must be 1..1024



=== TEST 61: gw_rate_redis: nodes above 1024
--- http_config
gw_rate_redis 127.0.0.1:6379 nodes=1025;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid nodes "nodes=1025", must be 1..1024



=== TEST 62: gw_rate_redis: nodes empty
--- http_config
gw_rate_redis 127.0.0.1:6379 nodes=;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid nodes "nodes=", must be 1..1024



=== TEST 63: gw_rate_redis: shares neither on nor off
--- http_config
gw_rate_redis 127.0.0.1:6379 shares=yes;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid shares "shares=yes", must be on or off



=== TEST 64: gw_rate_redis: the new parameters' good values are accepted
--- http_config
gw_rate_redis 127.0.0.1:1 nodes=1024 shares=off probe=4294967295 timeout=10ms;
--- config
location = /t {
    gw_quota 5/hour key=x;
    echo ok;
}
--- request
GET /t
--- response_body
ok
--- no_error_log
[alert]
[emerg]



=== TEST 65: gw_rate_redis: probe zero
--- http_config
gw_rate_redis 127.0.0.1:6379 probe=0;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid probe "probe=0", must be 1..4294967295



=== TEST 66: gw_rate_redis: probe not a number
--- http_config
gw_rate_redis 127.0.0.1:6379 probe=-3;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid probe "probe=-3", must be 1..4294967295



=== TEST 67: gw_rate_redis: probe above 2^32 - 1
--- http_config
gw_rate_redis 127.0.0.1:6379 probe=4294967296;
--- config
location = /t { echo ok; }
--- must_die
--- error_log
invalid probe "probe=4294967296", must be 1..4294967295

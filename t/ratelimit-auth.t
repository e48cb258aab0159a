# With ngx_gw_auth: the default key is the authenticated consumer, keyed
# limits wait for authentication, address limits run before it, the plan
# comes from $gw_auth_plan; in both load orders.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Digest::SHA qw(sha256_hex);
use Test::Nginx::Socket;

# runs once the auth module with API keys is built
my $so = "$ENV{TEST_NGINX_GW_MODULES_DIR}/ngx_http_gw_auth_module.so";
my $has_auth = do {
    local $/;
    open my $fh, '<', $so;
    my $bin = $fh ? <$fh> : '';
    $bin =~ /gw_auth_apikey_file/;
};

if (!$has_auth) {
    Test::More::plan(skip_all => 'ngx_gw_auth with API keys is not built yet');
}

Test::More::plan('no_plan');

our $Keys = join "\n",
    'sha256:' . sha256_hex('key-alice') . ' consumer=alice plan=gold',
    'sha256:' . sha256_hex('key-alice2') . ' consumer=alice',
    'sha256:' . sha256_hex('key-bob') . ' consumer=bob',
    '';

our $Order1 = "load_module \$TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;\n"
              . "load_module \$TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;\n";
our $Order2 = "load_module \$TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_auth_module.so;\n"
              . "load_module \$TEST_NGINX_GW_MODULES_DIR/ngx_http_gw_ratelimit_module.so;\n";

add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('user_files', ">>> keys.txt\n$Keys")
        unless defined $block->user_files;
});

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the default key is the consumer (ratelimit loaded first)
--- main_config eval: $::Order1
--- config
location = /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 1r/m burst=1;
    echo "$gw_auth_consumer $gw_rate_status";
}
location = /usage {
    gw_rate_usage;
}
--- init
my @s = map { http_request('GET', '/t', { 'X-API-Key' => $_ })->{status} }
        qw(key-alice key-alice2 key-bob key-bob);
# alice's two keys are one consumer; bob is counted apart, from the same address
Test::More::is("@s", '200 429 200 429', 'per consumer');
--- request eval
["GET /t", "GET /usage?key=alice", "GET /usage?key=127.0.0.1"]
--- error_code eval
[401, 200, 200]
--- response_body_like eval
['"status":401', '"used":1,"remaining":0', '"used":0,"remaining":1']
--- no_error_log
[alert]
[emerg]



=== TEST 2: the default key is the consumer (auth loaded first)
--- main_config eval: $::Order2
--- config
location = /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 1r/m burst=1;
    echo "$gw_auth_consumer $gw_rate_status";
}
--- init
my @s = map { http_request('GET', '/t', { 'X-API-Key' => $_ })->{status} }
        qw(key-alice key-alice2 key-bob key-bob);
Test::More::is("@s", '200 429 200 429', 'per consumer');
--- request
GET /t
--- error_code: 401
--- no_error_log
[alert]
[emerg]



=== TEST 3: an address limit throttles bad keys before authentication (ratelimit first)
--- main_config eval: $::Order1
--- config
location = /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 2r/m burst=2 key=$binary_remote_addr name=per_ip;
    gw_rate 10r/m key=$gw_auth_consumer name=per_consumer;
    echo ok;
}
--- init
my @s = map { http_request('GET', '/t', { 'X-API-Key' => $_ })->{status} }
        qw(bad1 bad2 bad3 key-alice);
Test::More::is("@s", '401 401 429 429', 'the third bad key never reaches auth');
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 4: an address limit throttles bad keys before authentication (auth first)
--- main_config eval: $::Order2
--- config
location = /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 2r/m burst=2 key=$binary_remote_addr name=per_ip;
    gw_rate 10r/m key=$gw_auth_consumer name=per_consumer;
    echo ok;
}
--- init
my @s = map { http_request('GET', '/t', { 'X-API-Key' => $_ })->{status} }
        qw(bad1 bad2 bad3 key-alice);
Test::More::is("@s", '401 401 429 429', 'the third bad key never reaches auth');
--- request
GET /t
--- error_code: 429
--- no_error_log
[alert]
[emerg]



=== TEST 5: the plan comes from $gw_auth_plan by default
--- main_config eval: $::Order2
--- http_config
gw_rate_plan gold rate=1r/m burst=3;
--- config
location = /t {
    gw_auth apikey;
    gw_auth_apikey_file $TEST_NGINX_HTML_DIR/keys.txt;
    gw_rate 1r/m burst=1;
    echo "$gw_rate_policy $gw_rate_remaining";
}
--- init
my @b = map { http_request('GET', '/t', { 'X-API-Key' => 'key-alice' })->{body} } 1 .. 3;
Test::More::is("@b", "gold 2\n gold 1\n gold 0\n", 'alice is gold');
my @s = map { http_request('GET', '/t', { 'X-API-Key' => 'key-bob' })->{status} } 1 .. 2;
Test::More::is("@s", '200 429', 'bob has no plan: the location\'s limit');
--- request
GET /t
--- error_code: 401
--- no_error_log
[alert]
[emerg]

# ngx_gw_auth: each worker's own front of the verified-token cache.  A
# repeated token is served from it without the shared zone; it compares
# the whole token, keeps locations with other checks apart, rechecks exp
# and can be turned off.  Which cache answered shows in the debug log, so
# the file needs an nginx built --with-debug (Debian's is).

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use GwTest;
use Test::Nginx::Socket;

my $v = `$Test::Nginx::Util::NginxBinary -V 2>&1`;

if ($v !~ /--with-debug/) {
    plan(skip_all => 'nginx without --with-debug');

} else {
    plan('no_plan');
}

our $Tok = GwAuth::jwt('RS256', { sub => 'w1', scope => 'read' });
our $Other = GwAuth::jwt('RS256', { sub => 'w2' });

# the same header and payload, a signature with one character changed
our $Tampered = $Tok;
substr($Tampered, -20, 1) = substr($Tok, -20, 1) eq 'A' ? 'B' : 'A';

log_level('debug');

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('config', ($block->config // q{
        location /t {
            gw_auth jwt;
            gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
            add_header X-Cache $gw_auth_cache always;
            proxy_set_header X-C $gw_auth_consumer;
            proxy_set_header X-S $gw_auth_scopes;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        }
    }) . q{
        location /backend {
            return 200 "c=$http_x_c s=$http_x_s\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: a repeated token is served by the worker, not the shared zone
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Tok",
 "Authorization: Bearer $main::Tok"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["c=w1 s=read\n", "c=w1 s=read\n", "c=w1 s=read\n"]
--- error_log
gw_auth: worker token cache hit
--- no_error_log
gw_auth: verified-token cache hit
[error]
[alert]

=== TEST 2: two tokens, each with its own identity
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Other",
 "Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Other"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: MISS", "X-Cache: HIT", "X-Cache: HIT"]
--- response_body eval
["c=w1 s=read\n", "c=w2 s=\n", "c=w1 s=read\n", "c=w2 s=\n"]
--- no_error_log
[error]
[alert]

=== TEST 3: a token that differs in one byte of its signature is verified
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Tok",
 "Authorization: Bearer $main::Tampered"]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT",
 qq{WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="bad signature"}]
--- response_body eval
["c=w1 s=read\n", "c=w1 s=read\n",
 qq{{"type":"about:blank","title":"Unauthorized","status":401,"detail":"bad signature"}\r\n}]

=== TEST 4: with worker_cache=0 every repeat goes to the shared zone
--- http_config
gw_auth_zone tokens size=1m worker_cache=0;
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Tok"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- error_log
gw_auth: verified-token cache hit
--- no_error_log
gw_auth: worker token cache hit
[error]
[alert]

=== TEST 5: a location with another claim rule never takes the worker's entry
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    add_header X-Cache $gw_auth_cache always;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /strict {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_jwt_claim sub eq someone-else;
    add_header X-Cache $gw_auth_cache always;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /strict"]
--- more_headers eval
["Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Tok",
 "Authorization: Bearer $main::Tok"]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT",
 qq{WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="claim sub check failed"}]

=== TEST 6: an entry of the worker's cache ends at the token's exp
--- init
# minted here, not at load time: a slow start (valgrind) must not expire it
my $short = GwAuth::jwt('RS256', { sub => 'short', exp => time + 3 });
my $h = { Authorization => "Bearer $short" };
for my $want ('MISS', 'HIT') {
    my $r = http_request('GET', '/t', $h);
    my $got = $r->{headers}{'x-cache'} // '';
    die "status $r->{status}, X-Cache $got, want 200 $want\n"
        unless $r->{status} == 200 && $got eq $want;
}
sleep 4;
my $r = http_request('GET', '/t', $h);
my $www = $r->{headers}{'www-authenticate'} // '';
die "status $r->{status}, WWW-Authenticate $www, want 401 token expired\n"
    unless $r->{status} == 401 && $www =~ /error_description="token expired"/;
--- request
GET /t
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api"
--- error_log
gw_auth: worker token cache hit

# ngx_gw_auth: the verified-token cache survives a reload, is bound to the
# location's key set, rechecks exp on every hit and evicts the least
# recently used entries when full.

BEGIN { $ENV{TEST_NGINX_USE_HUP} = 1 }

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use GwTest;
use Test::Nginx::Socket 'no_plan';

master_on();

our $Tok = GwAuth::jwt('RS256', { sub => 'cached' });
our $Short = GwAuth::jwt('RS256', { sub => 'short', exp => time + 3 });
our $Tenant = GwAuth::jwt('RS256', { sub => 'tenant-user', tenant => 'other',
                                     org => { name => 'o1' },
                                     scope => 'read' });
our @Many = map { GwAuth::jwt('HS256', { sub => "u$_" }) } 1 .. 400;

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('request', "GET /t\n") unless defined $block->request;

    $block->set_value('config', ($block->config // q{
        location /t {
            gw_auth jwt;
            gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
            add_header X-Cache $gw_auth_cache always;
            add_header X-Alg $gw_jwt_header_alg always;
            proxy_set_header X-C $gw_auth_consumer;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        }
    }) . q{
        location /backend {
            return 200 "c=$http_x_c\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: the first request verifies, the second hits the cache
--- http_config
gw_auth_zone tokens size=1m;
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Tok", "Authorization: Bearer $main::Tok"]
--- response_headers eval
["X-Cache: MISS\nX-Alg: RS256", "X-Cache: HIT\nX-Alg: RS256"]
--- response_body eval
["c=cached\n", "c=cached\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: after nginx -s reload the token is still cached
--- http_config
gw_auth_zone tokens size=1m;
--- more_headers eval
"Authorization: Bearer $main::Tok"
--- response_headers
X-Cache: HIT
--- response_body
c=cached
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 3: a location with other keys never trusts the cached token
--- http_config
gw_auth_zone tokens size=1m;
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa2.pub;
    add_header X-Cache $gw_auth_cache always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer $main::Tok"
--- error_code: 401
--- response_headers
X-Cache: MISS
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="bad signature"

=== TEST 4: a short-lived token is cached until its exp
--- http_config
gw_auth_zone tokens size=1m;
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Short", "Authorization: Bearer $main::Short"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]

=== TEST 5: exp is rechecked: the cached token expires
--- http_config
gw_auth_zone tokens size=1m;
--- init
sleep 4;
--- more_headers eval
"Authorization: Bearer $main::Short"
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token expired"

=== TEST 6: gw_auth_jwt_cache off
--- http_config
gw_auth_zone tokens size=1m;
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_jwt_cache off;
    add_header X-Cache "[$gw_auth_cache]" always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
"Authorization: Bearer $main::Tok"
--- response_headers
X-Cache: []

=== TEST 7: a full zone evicts the least recently used tokens
--- http_config
gw_auth_zone small size=32k worker_cache=0;
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    add_header X-Cache $gw_auth_cache always;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- init
for my $t (@main::Many) {
    my $r = http_request('GET', '/t', { Authorization => "Bearer $t" });
    die "status $r->{status}\n" unless $r->{status} == 200;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Authorization: Bearer $main::Many[0]", "Authorization: Bearer $main::Many[-1]"]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT"]
--- response_body eval
["c=u1\n", "c=u400\n"]
--- no_error_log
[error]
[alert]
[crit]

=== TEST 8: the cache is per location checks: other claim rules never hit
--- http_config
gw_auth_zone tokens size=1m;
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    add_header X-Cache $gw_auth_cache always;
    proxy_set_header X-C "$gw_auth_consumer $gw_jwt_claim_org__name";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /strict {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_jwt_claim tenant eq acme;
    add_header X-Cache $gw_auth_cache always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /scoped {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_scope write;
    add_header X-Cache $gw_auth_cache always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /strict", "GET /strict", "GET /scoped"]
--- more_headers eval
["Authorization: Bearer $main::Tenant", "Authorization: Bearer $main::Tenant",
 "Authorization: Bearer $main::Tenant", "Authorization: Bearer $main::Tenant",
 "Authorization: Bearer $main::Tenant"]
--- error_code eval
[200, 200, 401, 401, 403]
--- response_headers eval
["X-Cache: MISS", "X-Cache: HIT",
 "X-Cache: MISS\nWWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\", error_description=\"claim tenant check failed\"",
 "X-Cache: MISS",
 "X-Cache: HIT\nWWW-Authenticate: Bearer realm=\"api\", error=\"insufficient_scope\", scope=\"write\""]
--- response_body_like eval
["^c=tenant-user o1\$", "^c=tenant-user o1\$", "claim tenant", "claim tenant", "insufficient scope"]


# ngx_gw_auth: keys from a JWKS URL and RFC 7662 introspection, both
# through subrequests to internal locations that proxy to a small identity
# provider started by the test (it counts the calls it gets).

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

GwAuth::idp_start();

our $Tok = GwAuth::jwt('RS256', { sub => 'remote' }, kid => 'rsa');
our $Ed = GwAuth::jwt('EdDSA', { sub => 'rotated' }, kid => 'ed');

GwAuth::idp_token('opaque-1', { active => JSON::PP::true, sub => 'svc-a',
                                scope => 'orders:read', client_id => 'c1',
                                exp => time + 3600 });
GwAuth::idp_token('opaque-2', { active => JSON::PP::true,
                                client_id => 'only-client',
                                exp => time + 3600 });

sub bearer { return "Authorization: Bearer $_[0]" }

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('request', "GET /t\n") unless defined $block->request;

    $block->set_value('init', q{
        GwTest::http_request('GET', '/reset', {}, undef,
                             port => $ENV{TEST_NGINX_IDP_PORT});
    } . ($block->init // ''));

    $block->set_value('http_config', ($block->http_config // '') . q{
        gw_auth_zone auth size=1m;
    });

    $block->set_value('config', ($block->config // q{
        location /t {
            gw_auth jwt;
            gw_auth_jwt_keys_url /_jwks;
            proxy_set_header X-C "$gw_auth_consumer;$gw_auth_method";
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        }
    }) . q{
        location = /_jwks {
            internal;
            subrequest_output_buffer_size 64k;
            proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks;
        }
        location = /_introspect {
            internal;
            proxy_set_header Authorization "Basic Y2xpZW50OnNlY3JldA==";
            proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/introspect;
        }
        location /idp/ {
            proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/;
        }
        location /backend {
            return 200 "$http_x_c\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: keys fetched once from the JWKS URL, then shared
--- request eval
["GET /t", "GET /t", "GET /idp/count/jwks"]
--- more_headers eval
[main::bearer($main::Tok), main::bearer($main::Tok), ""]
--- response_body eval
["remote;jwt\n", "remote;jwt\n", "1\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: a new kid at the provider is picked up by one re-fetch
--- request eval
["GET /t", "GET /idp/rotate", "GET /t", "GET /t", "GET /idp/count/jwks"]
--- more_headers eval
[main::bearer($main::Tok), "", main::bearer($main::Ed), main::bearer($main::Ed), ""]
--- response_body eval
["remote;jwt\n", "rotated\n", "rotated;jwt\n", "rotated;jwt\n", "2\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 3: unknown kids re-fetch at most once per 30 s
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t", "GET /idp/count/jwks"]
--- more_headers eval
[main::bearer($main::Tok),
 main::bearer(GwAuth::jwt('RS256', { sub => 'x' }, kid => 'nope-1', key => 'rsa2')),
 main::bearer(GwAuth::jwt('RS256', { sub => 'x' }, kid => 'nope-2', key => 'rsa2')),
 main::bearer(GwAuth::jwt('RS256', { sub => 'x' }, kid => 'nope-3', key => 'rsa2')),
 ""]
--- error_code eval
[200, 401, 401, 401, 200]
--- response_body_like eval
["remote", "unknown key", "unknown key", "unknown key", "^2\$"]

=== TEST 4: the keys are refreshed after refresh=
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys_url /_jwks refresh=3s;
    proxy_set_header X-C "$gw_auth_consumer;$gw_auth_method";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /idp/sleep/3.5", "GET /t", "GET /idp/count/jwks"]
--- more_headers eval
[main::bearer($main::Tok), main::bearer($main::Tok), "", main::bearer($main::Tok), ""]
--- response_body eval
["remote;jwt\n", "remote;jwt\n", "slept\n", "remote;jwt\n", "2\n"]
--- timeout: 8
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 5: a provider that fails: unknown key, and an error in the log
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys_url /_broken;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location = /_broken {
    internal;
    return 500;
}
--- more_headers eval
main::bearer($main::Tok)
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="unknown key"
--- error_log
gw_auth: JWKS fetch from "/_broken" failed with status 500

=== TEST 6: the consumer is known to a rewrite-phase variable once keys are cached
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys_url /_jwks;
    set $who "[$gw_auth_consumer]";
    proxy_set_header X-C $who;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::bearer($main::Tok), main::bearer($main::Tok)]
--- response_body eval
["[]\n", "[remote]\n"]

=== TEST 7: introspection: an active token, cached for the next request
--- config
location /t {
    gw_auth introspect;
    gw_auth_introspect /_introspect;
    proxy_set_header X-C "$gw_auth_consumer;$gw_auth_method;$gw_auth_scopes;$gw_auth_cache;$gw_jwt_claim_client_id";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /idp/count/introspect"]
--- more_headers eval
[main::bearer('opaque-1'), main::bearer('opaque-1'), main::bearer('opaque-2'), ""]
--- response_body eval
["svc-a;introspect;orders:read;MISS;c1\n", "svc-a;introspect;orders:read;HIT;c1\n",
 "only-client;introspect;;MISS;only-client\n", "2\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 8: introspection: an inactive token, cached briefly
--- config
location /t {
    gw_auth introspect;
    gw_auth_introspect /_introspect cache=5m inactive=10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /idp/count/introspect"]
--- more_headers eval
[main::bearer('revoked'), main::bearer('revoked'), ""]
--- error_code eval
[401, 401, 200]
--- response_headers eval
['WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token is not active"',
 'WWW-Authenticate: Bearer realm="api", error="invalid_token", error_description="token is not active"',
 "!WWW-Authenticate"]
--- response_body eval
['{"type":"about:blank","title":"Unauthorized","status":401,"detail":"token is not active"}' . "\r\n",
 '{"type":"about:blank","title":"Unauthorized","status":401,"detail":"token is not active"}' . "\r\n",
 "1\n"]

=== TEST 9: introspection: cached no longer than the token's exp
--- init
GwAuth::idp_token('short', { active => JSON::PP::true, sub => 'brief',
                             exp => time + 2 });
--- config
location /t {
    gw_auth introspect;
    gw_auth_introspect /_introspect cache=10m;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /idp/sleep/3.1", "GET /t", "GET /idp/count/introspect"]
--- more_headers eval
[main::bearer('short'), "", main::bearer('short'), ""]
--- error_code eval
[200, 200, 401, 200]
--- response_body_like eval
["^brief\$", "slept", "token expired", "^2\$"]
--- timeout: 8

=== TEST 10: introspection: a failing provider is a 503, never a pass
--- config
location /t {
    gw_auth introspect;
    gw_auth_introspect /_introspect;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer('boom')
--- error_code: 503
--- response_body eval
'{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"token introspection unavailable"}' . "\r\n"
--- error_log
gw_auth: introspection at "/_introspect" failed with status 500

=== TEST 11: jwt then introspect: a JWT is verified locally, an opaque token introspected
--- config
location /t {
    gw_auth jwt introspect;
    gw_auth_jwt_keys_url /_jwks;
    gw_auth_introspect /_introspect;
    gw_auth_scope orders:read;
    proxy_set_header X-C "$gw_auth_consumer;$gw_auth_method";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /idp/count/introspect"]
--- more_headers eval
[main::bearer(GwAuth::jwt('RS256', { sub => 'jwt-user', scope => 'orders:read' }, kid => 'rsa')),
 main::bearer('opaque-1'), ""]
--- response_body eval
["jwt-user;jwt\n", "svc-a;introspect\n", "1\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 12: the client's own headers never reach the provider
--- config
location /t {
    gw_auth introspect;
    gw_auth_introspect /_noauth;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location = /_noauth {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_IDP_PORT/introspect;
}
--- more_headers eval
main::bearer('opaque-1') . "\nX-Extra: 1"
--- error_code: 503
--- error_log
gw_auth: introspection at "/_noauth" failed with status 401

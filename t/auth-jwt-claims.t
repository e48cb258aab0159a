# ngx_gw_auth: claim rules, scopes, the identity variables and satisfy.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

sub bearer { return "Authorization: Bearer $_[0]" }

sub hs { return bearer(GwAuth::jwt('HS256', @_)) }

sub challenge {
    return 'WWW-Authenticate: Bearer realm="api", error="invalid_token", '
           . qq{error_description="$_[0]"};
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('request', "GET /t\n") unless defined $block->request;

    $block->set_value('config', $block->config . q{
        location /backend {
            return 200 "c=$http_x_c|$http_x_v\n";
        }
    });
});

run_tests();

__DATA__

=== TEST 1: identity variables reach the upstream
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET kid=k1;
    gw_auth_plan_claim tier;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_set_header X-V "$gw_auth_plan;$gw_auth_method;$gw_auth_result;$gw_auth_scopes;$gw_jwt_header_kid;$gw_jwt_header_alg";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'alice', tier => 'gold', scope => 'read write' }, kid => 'k1')
--- response_body
c=alice|gold;jwt;OK;read write;k1;HS256
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: nested and non-string claims ("__" is one level down)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C $gw_jwt_claim_realm_access__roles;
    proxy_set_header X-V "$gw_jwt_claim_org__team__name;$gw_jwt_claim_n;$gw_jwt_claim_flag;$gw_jwt_claim_org__team;$gw_jwt_claim_missing;$gw_jwt_claim_Mixed_Case";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'a', realm_access => { roles => ['admin', 'dev'] },
           org => { team => { name => 'core' } }, n => 42, flag => \1,
           Mixed_Case => 'mc' })
--- response_body
c=["admin","dev"]|core;42;true;{"name":"core"};;mc
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 3: $gw_jwt_claims is the payload
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_require_exp off;
    proxy_set_header X-C $gw_jwt_claims;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"alg":"HS256"}', '{"sub":"a","x":[1,2]}'))
--- response_body
c={"sub":"a","x":[1,2]}|
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 4: the consumer falls back to client_id; gw_auth_consumer_claim picks another
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /t2 {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_consumer_claim azp;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t2"]
--- more_headers eval
[main::hs({ client_id => 'svc-1' }), main::hs({ sub => 'u', azp => 'app-7' })]
--- response_body eval
["c=svc-1|\n", "c=app-7|\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 5: variables are usable before the access phase (rewrite's set)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    set $who "$gw_auth_consumer/$gw_auth_result";
    proxy_set_header X-C $who;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'early' })
--- response_body
c=early/OK|
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 6: a failed token: result FAILED, no consumer, still 401
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    set $who "$gw_auth_consumer/$gw_auth_result/$gw_auth_method";
    add_header X-Who $who always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'x', exp => time - 10 })
--- error_code: 401
--- response_headers
X-Who: /FAILED/jwt

=== TEST 7: eq and ne
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim tenant eq acme;
    gw_auth_jwt_claim role ne guest;
    gw_auth_jwt_claim level eq 3;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', tenant => 'acme', role => 'user', level => 3 }),
 main::hs({ sub => 'a', tenant => 'other', role => 'user', level => 3 }),
 main::hs({ sub => 'a', tenant => 'acme', role => 'guest', level => 3 }),
 main::hs({ sub => 'a', tenant => 'acme', role => 'user', level => 4 })]
--- error_code eval
[200, 401, 401, 401]
--- response_headers eval
["!WWW-Authenticate", main::challenge('claim tenant check failed'),
 main::challenge('claim role check failed'),
 main::challenge('claim level check failed')]

=== TEST 8: in, on a nested path
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim org.region in eu us;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', org => { region => 'us' } }),
 main::hs({ sub => 'a', org => { region => 'apac' } }),
 main::hs({ sub => 'a', region => 'us' })]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["!WWW-Authenticate", main::challenge('claim org.region check failed'),
 main::challenge('claim org.region check failed')]

=== TEST 9: has, on an array and on a space-separated string
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim groups has admin ops;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', groups => ['dev', 'ops', 'admin'] }),
 main::hs({ sub => 'a', groups => 'ops admin' }),
 main::hs({ sub => 'a', groups => ['admin'] })]
--- error_code eval
[200, 200, 401]

=== TEST 10: gt and lt
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim age gt 17;
    gw_auth_jwt_claim score lt 0.5;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', age => 18, score => 0.25 }),
 main::hs({ sub => 'a', age => 17, score => 0.25 }),
 main::hs({ sub => 'a', age => 30, score => 0.5 }),
 main::hs({ sub => 'a', age => '30', score => 0.1 })]
--- error_code eval
[200, 401, 401, 401]
--- response_headers eval
["!WWW-Authenticate", main::challenge('claim age check failed'),
 main::challenge('claim score check failed'),
 main::challenge('claim age check failed')]

=== TEST 11: exists
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim email_verified exists;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', email_verified => \0 }), main::hs({ sub => 'a' })]
--- error_code eval
[200, 401]
--- response_headers eval
["!WWW-Authenticate", main::challenge('claim email_verified check failed')]

=== TEST 12: match (a regex compiled at configuration time)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim email match "^[^@]+@example\.com$";
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', email => 'a@example.com' }),
 main::hs({ sub => 'a', email => 'a@example.com.evil' }),
 main::hs({ sub => 'a', email => 7 })]
--- error_code eval
[200, 401, 401]

=== TEST 13: a claim rule on exp never disables the built-in exp check
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_claim exp exists;
    gw_auth_jwt_claim exp gt 0;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'a', exp => time - 100 })
--- error_code: 401
--- response_headers eval
main::challenge('token expired')

=== TEST 14: scopes: all required, from "scope" or "scp"
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_scope orders:read orders:write;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'a', scope => 'profile orders:write orders:read' }),
 main::hs({ sub => 'b', scp => ['orders:read', 'orders:write'] }),
 main::hs({ sub => 'c', scope => 'orders:read orders:writer' })]
--- error_code eval
[200, 200, 403]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate",
 'WWW-Authenticate: Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"']
--- response_body eval
["c=a|\n", "c=b|\n",
 '{"type":"about:blank","title":"Forbidden","status":403,"detail":"insufficient scope"}' . "\r\n"]

=== TEST 15: missing scope: $gw_auth_result is DENIED, the consumer is known
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_scope admin;
    set $who "$gw_auth_consumer/$gw_auth_result";
    add_header X-Who $who always;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'dave', scope => 'read' })
--- error_code: 403
--- response_headers
X-Who: dave/DENIED

=== TEST 16: gw_auth_jwt_token takes the token from a cookie
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_jwt_token $cookie_session;
    gw_auth_realm "shop \"eu\"";
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
["Cookie: a=1; session=" . GwAuth::jwt('HS256', { sub => 'cookie-user' }),
 main::hs({ sub => 'header-user' })]
--- error_code eval
[200, 401]
--- response_headers eval
["!WWW-Authenticate", 'WWW-Authenticate: Bearer realm="shop \"eu\""']

=== TEST 17: satisfy any: allow lets a request without a token in
--- config
location /t {
    satisfy any;
    allow 127.0.0.1;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C "[$gw_auth_result]";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- response_body
c=[NONE]|
--- response_headers
!WWW-Authenticate
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 18: satisfy any with deny all: the token decides
--- config
location /t {
    satisfy any;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'any-user' }), "",
 "Authorization: Bearer e30.e30.c2ln"]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["!WWW-Authenticate",
 "WWW-Authenticate: Bearer realm=\"api\"\nContent-Type: application/problem+json",
 main::challenge('missing alg')
 . "\nContent-Type: application/problem+json"]
--- response_body eval
["c=any-user|\n",
 qq{{"type":"about:blank","title":"Unauthorized","status":401,"detail":"authentication required"}\r\n},
 qq{{"type":"about:blank","title":"Unauthorized","status":401,"detail":"missing alg"}\r\n}]
--- no_error_log
[alert]
[emerg]

=== TEST 19: satisfy all with deny: a good token is not enough
--- config
location /t {
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'a' })
--- error_code: 403

=== TEST 20: gw_auth off in a nested location; variables are empty there
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    location /t/open {
        gw_auth off;
        proxy_set_header X-C "[$gw_auth_consumer$gw_auth_result]";
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
    }
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t/open", "GET /t/x"]
--- error_code eval
[200, 401]
--- response_body eval
["c=[]|\n",
 '{"type":"about:blank","title":"Unauthorized","status":401,"detail":"authentication required"}' . "\r\n"]

=== TEST 21: with auth_request: both must let the request in
--- config
location /t {
    auth_request /authz;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location = /authz {
    internal;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/decide$http_x_allow;
}
location /decide-yes { return 204; }
location /decide-no { return 403; }
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'both' }) . "\nX-Allow: -yes",
 main::hs({ sub => 'both' }) . "\nX-Allow: -no",
 "X-Allow: -yes"]
--- error_code eval
[200, 403, 401]
--- response_headers eval
["!WWW-Authenticate", "!WWW-Authenticate", 'WWW-Authenticate: Bearer realm="api"']

=== TEST 22: the log phase never authenticates a request answered earlier
--- log_level: info
--- http_config
log_format gw '$gw_auth_result|$gw_auth_consumer';
--- config
access_log logs/gw.log gw;
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    return 200 "answered in rewrite\n";
}
--- more_headers eval
main::hs({ sub => 'x', exp => time - 100 })
--- response_body
answered in rewrite
--- no_error_log
rejected
[error]

=== TEST 23: the log phase sees the result of the access phase
--- log_level: info
--- http_config
log_format gw '$gw_auth_result|$gw_auth_consumer';
--- config
access_log logs/gw.log gw;
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'logged' }), main::hs({ sub => 'x', exp => time - 100 })]
--- error_code eval
[200, 401]
--- error_log eval
qr/rejected: token expired/


=== TEST 24: a preaccess limit keyed on $gw_auth_consumer sees the consumer
--- http_config
limit_req_zone $gw_auth_consumer zone=per_consumer:1m rate=1r/m;
--- config
location /t {
    limit_req zone=per_consumer;
    limit_req_status 429;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::hs({ sub => 'alice' }), main::hs({ sub => 'alice' }),
 main::hs({ sub => 'bob' }), ""]
--- error_code eval
[200, 429, 200, 401]
--- response_body_like eval
["^c=alice", "429", "^c=bob", "authentication required"]

=== TEST 25: consumer and plan claims may be nested paths or dotted names
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_consumer_claim client.id;
    gw_auth_plan_claim https://example.com/plan;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_set_header X-V $gw_auth_plan;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /t2 {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_consumer_claim client.id;
    gw_auth_plan_claim account.billing.tier;
    proxy_set_header X-C $gw_auth_consumer;
    proxy_set_header X-V $gw_auth_plan;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request eval
["GET /t", "GET /t", "GET /t2", "GET /t2"]
--- more_headers eval
[main::hs({ sub => 'u1', client => { id => 'svc-9' },
            'https://example.com/plan' => 'gold' }),
 main::hs({ sub => 'u2', 'client.id' => 'flat-1', client => { id => 'x' } }),
 main::hs({ sub => 'u3', client => { id => 7 },
            account => { billing => { tier => 'silver' } } }),
 main::hs({ sub => 'u4', client => 'not-an-object',
            account => { billing => {} } })]
--- response_body eval
["c=svc-9|gold\n", "c=flat-1|\n", "c=7|silver\n", "c=|\n"]
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 26: satisfy any: once allow let the request in, later 401s are nginx's or the upstream's
--- config
location /t {
    satisfy any;
    allow 127.0.0.1;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    try_files /nonexistent =401;
}
location /u {
    satisfy any;
    allow 127.0.0.1;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/denied;
}
location /denied {
    return 401 "the backend says no\n";
}
--- request eval
["GET /t", "GET /u"]
--- error_code eval
[401, 401]
--- response_headers eval
["Content-Type: text/html", "Content-Type: text/plain"]
--- response_body_like eval
["401 Authorization Required", "^the backend says no\n\\z"]
--- no_error_log
[alert]
[emerg]

=== TEST 27: satisfy any: the operator's error_page wins over the problem
--- config
location /t {
    satisfy any;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    error_page 401 /login.json;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location = /login.json {
    return 200 '{"login":"/sso"}\n';
}
--- error_code: 401
--- response_body
{"login":"/sso"}

=== TEST 28: satisfy any: HEAD gets the problem's headers and no body
--- config
location /t {
    satisfy any;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- request
HEAD /t
--- error_code: 401
--- response_headers
Content-Type: application/problem+json
Content-Length: 95
WWW-Authenticate: Bearer realm="api"
--- response_body
--- no_error_log
[alert]
[emerg]

=== TEST 29: satisfy any with a missing scope: the 403 problem replaces deny's page
--- config
location /t {
    satisfy any;
    deny all;
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    gw_auth_scope admin;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::hs({ sub => 'u', scope => 'read' })
--- error_code: 403
--- response_headers
Content-Type: application/problem+json
--- response_body_like: "status":403

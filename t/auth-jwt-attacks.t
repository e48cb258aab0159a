# ngx_gw_auth: the attack list of RFC 8725 and the usual bypasses; each is a
# 401 naming the check that failed, and nothing crashes.

use FindBin;
use lib "$FindBin::Bin/helpers";
use GwAuth;
use Test::Nginx::Socket 'no_plan';

our $Good = { sub => 'alice', iss => 'https://issuer.example',
              aud => 'api-b' };

sub good { return { %$Good, @_ } }

sub bearer { return "Authorization: Bearer $_[0]" }

sub problem {
    my ($desc) = @_;
    return '{"type":"about:blank","title":"Unauthorized","status":401,'
           . qq{"detail":"$desc"\}\r\n};
}

sub challenge {
    return 'WWW-Authenticate: Bearer realm="api", error="invalid_token", '
           . qq{error_description="$_[0]"};
}

add_block_preprocessor(sub {
    my $block = shift;

    $block->set_value('request', "GET /t\n") unless defined $block->request;

    my $config = $block->config // q{
        location /t {
            gw_auth jwt;
            gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub kid=rsa;
            gw_auth_jwt_key ES256 file=$TEST_NGINX_AUTH_DIR/ec256.pub;
            gw_auth_jwt_issuer https://issuer.example;
            gw_auth_jwt_audience api-a api-b;
            proxy_set_header X-Consumer $gw_auth_consumer;
            proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
        }
    };

    $block->set_value('config', $config . q{
        large_client_header_buffers 4 256k;
        location /backend {
            return 200 "consumer=$http_x_consumer\n";
        }
    });

    if (defined $block->error_code && $block->error_code eq '401') {
        $block->set_value('no_error_log', "[error]\n[alert]\n[crit]\n")
            unless defined $block->no_error_log;
    }
});

run_tests();

__DATA__

=== TEST 1: a good token passes (the baseline of the attacks below)
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good()))
--- response_body
consumer=alice
--- no_error_log
[error]
[alert]
[emerg]

=== TEST 2: no credentials: 401 with the realm only
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api"
Content-Type: application/problem+json
--- response_body eval
'{"type":"about:blank","title":"Unauthorized","status":401,"detail":"authentication required"}' . "\r\n"

=== TEST 3: another scheme (Basic) counts as no bearer token
--- more_headers
Authorization: Basic YWxpY2U6c2VjcmV0
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api"

=== TEST 4: alg none with an empty signature
--- more_headers eval
main::bearer(GwAuth::b64url('{"alg":"none","typ":"JWT"}') . '.'
    . GwAuth::b64url('{"sub":"alice","exp":' . (time + 3600) . '}') . '.')
--- error_code: 401
--- response_headers eval
main::challenge('unsupported algorithm')
--- response_body eval
main::problem('unsupported algorithm')

=== TEST 5: alg None / NONE with a signature
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::b64url('{"alg":"None"}') . '.'
    . GwAuth::b64url('{"sub":"alice","exp":' . (time + 3600) . '}') . '.c2ln'),
 main::bearer(GwAuth::b64url('{"alg":"NONE"}') . '.'
    . GwAuth::b64url('{"sub":"alice","exp":' . (time + 3600) . '}') . '.c2ln')]
--- error_code eval
[401, 401]
--- response_headers eval
[main::challenge('unsupported algorithm'), main::challenge('unsupported algorithm')]

=== TEST 6: HS/RS confusion: HS256 signed with the RSA public key as secret
--- more_headers eval
open my $fh, '<', "$ENV{TEST_NGINX_AUTH_DIR}/rsa.pub" or die;
my $pem = do { local $/; <$fh> };
main::bearer(GwAuth::jwt('HS256', main::good(), secret => $pem))
--- error_code: 401
--- response_headers eval
main::challenge('unknown key')
--- response_body eval
main::problem('unknown key')

=== TEST 7: HS/RS confusion with a kid naming the RSA key
--- more_headers eval
open my $fh, '<', "$ENV{TEST_NGINX_AUTH_DIR}/rsa.pub" or die;
my $pem = do { local $/; <$fh> };
main::bearer(GwAuth::jwt('HS256', main::good(), secret => $pem, kid => 'rsa'))
--- error_code: 401
--- response_headers eval
main::challenge('unknown key')

=== TEST 8: a kid with ../ is a name, never a path
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_keys $TEST_NGINX_AUTH_DIR/jwks.json;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(), kid => '../../../../etc/passwd'))
--- error_code: 401
--- response_headers eval
main::challenge('unknown key')
--- response_body eval
main::problem('unknown key')

=== TEST 9: tampered payload
--- more_headers eval
my ($h, $p, $s) = split /\./, GwAuth::jwt('RS256', main::good());
main::bearer(CORE::join '.', $h,
    GwAuth::b64url('{"sub":"admin","iss":"https://issuer.example","aud":"api-b","exp":'
                   . (time + 3600) . '}'), $s)
--- error_code: 401
--- response_headers eval
main::challenge('bad signature')
--- response_body eval
main::problem('bad signature')

=== TEST 10: tampered ES256 signature length
--- more_headers eval
my ($h, $p, $s) = split /\./, GwAuth::jwt('ES256', main::good());
main::bearer("$h.$p." . substr($s, 0, 40))
--- error_code: 401
--- response_headers eval
main::challenge('bad signature')

=== TEST 11: truncated token (two segments)
--- more_headers eval
my ($h, $p) = split /\./, GwAuth::jwt('RS256', main::good());
main::bearer("$h.$p")
--- error_code: 401
--- response_headers eval
main::challenge('malformed token')
--- response_body eval
main::problem('malformed token')

=== TEST 12: extra segments (a JWE-like five)
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good()) . '.AAAA.BBBB')
--- error_code: 401
--- response_headers eval
main::challenge('malformed token')

=== TEST 13: no dot at all
--- more_headers
Authorization: Bearer abcdef
--- error_code: 401
--- response_headers eval
main::challenge('malformed token')

=== TEST 14: bad base64url: standard alphabet and padding
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
my ($h, $p, $s) = split /\./, GwAuth::jwt('RS256', main::good());
[main::bearer("$h+.$p.$s"), main::bearer("$h.$p=.$s"),
 main::bearer("$h.$p.$s" . "A")]
--- error_code eval
[401, 401, 401]
--- response_headers eval
[main::challenge('invalid base64url'), main::challenge('invalid base64url'),
 main::challenge('bad signature')]

=== TEST 15: header that is not JSON
--- more_headers eval
main::bearer(GwAuth::b64url('{"alg":"RS256"') . '.'
             . GwAuth::b64url('{}') . '.c2ln')
--- error_code: 401
--- response_headers eval
main::challenge('invalid JSON')

=== TEST 16: expired
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(exp => time - 60)))
--- error_code: 401
--- response_headers eval
main::challenge('token expired')
--- response_body eval
main::problem('token expired')

=== TEST 17: expired, within the leeway
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_jwt_leeway 2m;
    proxy_set_header X-Consumer $gw_auth_consumer;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(exp => time - 60)))
--- response_body
consumer=alice

=== TEST 18: not yet valid (nbf)
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(nbf => time + 600)))
--- error_code: 401
--- response_headers eval
main::challenge('token not yet valid')
--- response_body eval
main::problem('token not yet valid')

=== TEST 19: issued in the future (iat)
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(iat => time + 600)))
--- error_code: 401
--- response_headers eval
main::challenge('token issued in the future')

=== TEST 20: exp is required by default
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(), no_exp => 1))
--- error_code: 401
--- response_headers eval
main::challenge('missing exp claim')

=== TEST 21: exp that is not a number
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(exp => 'never')))
--- error_code: 401
--- response_headers eval
main::challenge('invalid exp claim')

=== TEST 22: wrong issuer
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(iss => 'https://evil.example')))
--- error_code: 401
--- response_headers eval
main::challenge('wrong issuer')
--- response_body eval
main::problem('wrong issuer')

=== TEST 23: wrong audience, as a string and as an array
--- request eval
["GET /t", "GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::jwt('RS256', main::good(aud => 'api-c'))),
 main::bearer(GwAuth::jwt('RS256', main::good(aud => ['api-c', 'api-d']))),
 main::bearer(GwAuth::jwt('RS256', main::good(aud => ['api-c', 'api-a'])))]
--- error_code eval
[401, 401, 200]
--- response_headers eval
[main::challenge('wrong audience'), main::challenge('wrong audience'),
 "!WWW-Authenticate"]

=== TEST 24: a 100 KB token
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(pad => 'x' x 75000)))
--- error_code: 401
--- response_headers eval
main::challenge('token too large')
--- response_body eval
main::problem('token too large')

=== TEST 25: a deeply nested payload
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"alg":"HS256"}',
    '{"sub":"a","exp":' . (time + 3600) . ',"x":' . ('[' x 100) . (']' x 100) . '}'))
--- error_code: 401
--- response_headers eval
main::challenge('JSON nested too deeply')
--- response_body eval
main::problem('JSON nested too deeply')

=== TEST 26: duplicate claims (a second "sub" after a good one)
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"alg":"HS256"}',
    '{"sub":"alice","exp":' . (time + 3600) . ',"sub":"admin"}'))
--- error_code: 401
--- response_headers eval
main::challenge('duplicate claim')
--- response_body eval
main::problem('duplicate claim')

=== TEST 27: duplicate header members
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::raw_hs('HS256', '{"alg":"HS256","alg":"none"}',
    '{"sub":"alice","exp":' . (time + 3600) . '}'))
--- error_code: 401
--- response_headers eval
main::challenge('duplicate claim')

=== TEST 28: an algorithm outside gw_auth_jwt_algs, with a key for it
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key RS256 file=$TEST_NGINX_AUTH_DIR/rsa.pub;
    gw_auth_jwt_key ES256 file=$TEST_NGINX_AUTH_DIR/ec256.pub;
    gw_auth_jwt_algs RS256;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
main::bearer(GwAuth::jwt('ES256', main::good()))
--- error_code: 401
--- response_headers eval
main::challenge('algorithm not allowed')

=== TEST 29: a crit header is refused
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(), header => { crit => ['exp'] }))
--- error_code: 401
--- response_headers eval
main::challenge('unsupported critical header')

=== TEST 30: jku and x5u are never followed: the configured key decides
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(), key => 'rsa2',
    header => { jku => 'http://127.0.0.1:1/jwks', x5u => 'http://127.0.0.1:1/x' }))
--- error_code: 401
--- response_headers eval
main::challenge('bad signature')

=== TEST 31: an empty signature on a real algorithm
--- more_headers eval
my ($h, $p) = split /\./, GwAuth::jwt('RS256', main::good());
main::bearer("$h.$p.")
--- error_code: 401
--- response_headers eval
main::challenge('missing signature')

=== TEST 32: a HS256 signature cut short
--- config
location /t {
    gw_auth jwt;
    gw_auth_jwt_key HS256 secret=$TEST_NGINX_HS_SECRET;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
--- more_headers eval
my $t = GwAuth::jwt('HS256', main::good());
main::bearer(substr($t, 0, length($t) - 4))
--- error_code: 401
--- response_headers eval
main::challenge('bad signature')

=== TEST 33: the raw token is never logged, its fingerprint is
--- log_level: info
--- more_headers eval
main::bearer(GwAuth::jwt('RS256', main::good(exp => time - 60, sub => 'never-logged-subject')))
--- error_code: 401
--- error_log eval
qr/gw_auth: token [0-9a-f]{12} rejected: token expired/
--- no_error_log
eyJ
[error]

=== TEST 34: a bad token does not change the location: a good one passes next
--- request eval
["GET /t", "GET /t"]
--- more_headers eval
[main::bearer(GwAuth::b64url('{"alg":"none"}') . '.'
    . GwAuth::b64url('{"sub":"x","exp":' . (time + 3600) . '}') . '.'),
 main::bearer(GwAuth::jwt('RS256', main::good(exp => time - 60)))]
--- error_code eval
[401, 401]
--- response_headers eval
[main::challenge('unsupported algorithm'), main::challenge('token expired')]

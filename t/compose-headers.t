use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;

    if (!defined $block->http_config) {
        $block->set_value("http_config", <<'_EOC_');
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        default_type application/json;
        return 200 '{"auth":"$http_authorization","trace":"$http_x_trace","cookie":"$http_cookie","ae":"$http_accept_encoding","range":"$http_range","inm":"$http_if_none_match"}';
    }
}
_EOC_
    }
});

run_tests();

__DATA__

=== TEST 1: by default client headers pass, Authorization included; Accept-Encoding, Range and conditionals never do
--- config
location = /t {
    gw_compose;
    gw_compose_part h /_up;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- more_headers
Authorization: Bearer abc
X-Trace: t-1
Cookie: s=1
Accept-Encoding: gzip
Range: bytes=0-3
If-None-Match: "x"
--- response_body
{"h":{"auth":"Bearer abc","trace":"t-1","cookie":"s=1","ae":"","range":"","inm":""}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: a backend that gzips still gives a parseable body
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    gzip on;
    gzip_min_length 1;
    gzip_types application/json;
    location / {
        default_type application/json;
        return 200 '{"text":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part h /_up;
}
location = /_up {
    proxy_http_version 1.1;
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- more_headers
Accept-Encoding: gzip, deflate
--- response_body
{"h":{"text":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: gw_compose_clear_headers keeps named headers from the parts
--- config
location = /t {
    gw_compose;
    gw_compose_clear_headers Authorization cookie;
    gw_compose_part h /_up;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- more_headers
Authorization: Bearer abc
X-Trace: t-1
Cookie: s=1
--- response_body
{"h":{"auth":"","trace":"t-1","cookie":"","ae":"","range":"","inm":""}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: gw_compose_pass_headers lets only the named headers through
--- config
location = /t {
    gw_compose;
    gw_compose_pass_headers X-Trace Accept-Encoding;
    gw_compose_part h /_up;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- more_headers
Authorization: Bearer abc
X-Trace: t-1
Cookie: s=1
Accept-Encoding: gzip
--- response_body
{"h":{"auth":"","trace":"t-1","cookie":"","ae":"","range":"","inm":""}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: gw_compose_pass_headers off passes none; inherited from server level
--- config
gw_compose_pass_headers off;
location = /t {
    gw_compose;
    gw_compose_part h /_up;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- more_headers
Authorization: Bearer abc
X-Trace: t-1
--- response_body
{"h":{"auth":"","trace":"","cookie":"","ae":"","range":"","inm":""}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: clearing wins over passing, and nginx variables in the part see it
--- config
location = /t {
    gw_compose;
    gw_compose_pass_headers all;
    gw_compose_clear_headers Authorization;
    gw_compose_part h /_vars;
}
location = /_vars {
    return 200 '{"auth":"$http_authorization","user":"$remote_user","trace":"$http_x_trace"}';
}
--- request
GET /t
--- more_headers
Authorization: Basic dXNlcjpwdw==
X-Trace: t-2
--- response_body
{"h":{"auth":"","user":"","trace":"t-2"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: the client's own request is left as it was
--- config
location = /t {
    gw_compose;
    gw_compose_clear_headers Authorization;
    gw_compose_part h /_vars;
    add_header X-Seen "$http_authorization";
}
location = /_vars {
    return 200 '"$http_authorization"';
}
--- request
GET /t
--- more_headers
Authorization: Bearer zz
--- response_headers
X-Seen: Bearer zz
--- response_body
{"h":""}



=== TEST 8: a header the client's request already read is still cleared for the parts
--- config
location = /t {
    set $seen $http_authorization;
    gw_compose;
    gw_compose_clear_headers Authorization;
    gw_compose_part h /_vars;
    add_header X-Seen $seen;
}
location = /_vars {
    return 200 '"$http_authorization"';
}
--- request
GET /t
--- more_headers
Authorization: Bearer zz
--- response_headers
X-Seen: Bearer zz
--- response_body
{"h":""}
--- no_error_log
[error]
[alert]
[emerg]

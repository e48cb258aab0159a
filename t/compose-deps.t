use Test::Nginx::Socket 'no_plan';

no_shuffle();

# valgrind slows nginx down many times over: timings mean nothing there
add_block_preprocessor(sub {
    my $block = shift;

    if ($ENV{TEST_NGINX_USE_VALGRIND}
        && defined $block->response_headers_like)
    {
        $block->set_value("response_headers_like", "X-Elapsed: ^\\d");
    }
});

run_tests();

__DATA__

=== TEST 1: a part waits for the part it refers to and gets its value
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_catalog?id=$arg_id;
    gw_compose_part seller "/_sellers/{product.seller_id}" optional;
}
location = /_catalog { return 200 '{"id":$arg_id,"seller_id":"s9"}'; }
location /_sellers/ { return 200 '{"uri":"$uri"}'; }
--- request
GET /t?id=3
--- response_headers
X-Gw-Compose-Parts: product=200, seller=200
X-Gw-Compose-Complete: true
--- response_body
{"product":{"id":3,"seller_id":"s9"},"seller":{"uri":"/_sellers/s9"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: substituted values are URL-escaped on the wire, path and args
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        return 200 '{"request_uri":"$request_uri","uri":"$uri","q":"$arg_q"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part seller "/_sellers/{product.name}?q={product.name}&n={product.n}";
}
location = /_b { return 200 '{"name":"a b/c?d&e=%f+g","n":1.5}'; }
location /_sellers/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- response_body
{"product":{"name":"a b/c?d&e=%f+g","n":1.5},"seller":{"request_uri":"/_sellers/a%20b%2Fc%3Fd%26e%3D%25f%2Bg?q=a%20b%2Fc%3Fd%26e%3D%25f%2Bg&n=1.5","uri":"/_sellers/a b/c?d&e=%f+g","q":"a%20b%2Fc%3Fd%26e%3D%25f%2Bg"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: a value that climbs out of the path is refused
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part seller "/_sellers/{product.id}" optional;
}
location = /_b { return 200 '{"id":"../admin"}'; }
location /_sellers/ { return 200 '"seller"'; }
location /admin { return 200 '"admin"'; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, seller=-:unsafe_uri
--- response_body
{"product":{"id":"../admin"},"seller":null}
--- error_log
gw_compose: part "seller" not called: unsafe uri "/_sellers/..%2Fadmin"



=== TEST 4: a missing value: the part is not called
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part seller "/_sellers/{product.seller.id}" optional;
}
location = /_b { return 200 '{"id":1}'; }
location /_sellers/ { return 200 '"seller"'; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, seller=-:unresolved
X-Gw-Compose-Complete: false
--- response_body
{"product":{"id":1},"seller":null}
--- error_log
gw_compose: part "seller" not called: a value in "/_sellers/{product.seller.id}" is missing



=== TEST 5: a required part whose input failed is not called: 502 naming the cause
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_down;
    gw_compose_part seller "/_sellers/{product.seller}";
}
location = /_down { return 503; }
location /_sellers/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
}
--- request
GET /t
--- error_code: 502
--- response_headers
X-Gw-Compose-Parts: product=503, seller=-:skipped
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"product\" failed with status 503"}' . "\r\n"
--- no_error_log
connect() failed



=== TEST 6: an optional part's failure skips the parts that need it
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part seller /_down optional;
    gw_compose_part rating "/_rating/{seller.id}" optional;
}
location = /_b { return 200 '{"id":1}'; }
location = /_down { return 500; }
location /_rating/ { return 200 '5'; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, seller=500, rating=-:skipped
--- response_body
{"product":{"id":1},"seller":null,"rating":null}
--- error_log
gw_compose: part "rating" not called: part "seller" failed



=== TEST 7: a chain of two 0.2 s parts takes 0.4 s; an independent part runs alongside
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_slow?v=1;
    gw_compose_part b "/_slow?v={a.v}2";
    gw_compose_part c /_slow?v=3;
    add_header X-Elapsed $request_time always;
}
location = /_slow {
    echo_sleep 0.2;
    echo '{"v":$arg_v}';
}
--- request
GET /t
--- response_headers_like
X-Elapsed: ^0\.(4\d\d|5[0-8]\d)$
--- response_body
{"a":{"v":1},"b":{"v":12},"c":{"v":3}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: a dependent part starts as soon as its own input is ready
--- config
location = /t {
    gw_compose;
    gw_compose_part fast /_slow?d=0.1;
    gw_compose_part slow /_slow?d=0.3;
    gw_compose_part next "/_slow?d={fast.d}";
    add_header X-Elapsed $request_time always;
}
location = /_slow {
    echo_sleep $arg_d;
    echo '{"d":$arg_d}';
}
--- request
GET /t
--- response_headers_like
X-Elapsed: ^0\.(2[89]\d|3[0-8]\d)$
--- response_body
{"fast":{"d":0.1},"slow":{"d":0.3},"next":{"d":0.1}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: a part refers to two parts, and to a whole part
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b?x=1;
    gw_compose_part b /_b?x=2;
    gw_compose_part c "/_echo?a={a.x}&b={b.x}&all={a}";
}
location = /_b { return 200 '{"x":$arg_x}'; }
location = /_echo { return 200 '"$args"'; }
--- request
GET /t
--- response_body
{"a":{"x":1},"b":{"x":2},"c":"a=1&b=2&all=%7B%22x%22%3A1%7D"}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 10: nginx variables next to references, and ${var} is not a reference
--- config
location = /t {
    gw_compose;
    set $kind shoe;
    gw_compose_part a /_b?x=1;
    gw_compose_part b "/_echo?k=${kind}s&a={a.x}";
}
location = /_b { return 200 '{"x":$arg_x}'; }
location = /_echo { return 200 '"$args"'; }
--- request
GET /t
--- response_body
{"a":{"x":1},"b":"k=shoes&a=1"}
--- no_error_log
[error]
[alert]
[emerg]

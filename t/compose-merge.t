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

=== TEST 1: one part, proxied to an upstream block
--- http_config
upstream catalog {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location /products/ {
        default_type application/json;
        return 200 '{"id":"$uri","name":"lamp"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_catalog/products/$arg_id;
}
location /_catalog/ {
    internal;
    proxy_pass http://catalog/;
}
--- request
GET /t?id=7
--- response_headers
Content-Type: application/json
X-Gw-Compose-Parts: product=200
X-Gw-Compose-Complete: true
--- response_body
{"product":{"id":"/products/7","name":"lamp"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: three parts, keys in the order of the directives
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b/product;
    gw_compose_part reviews /_b/reviews;
    gw_compose_part stock /_b/stock;
}
location = /_b/product { return 200 '{"id":1}'; }
location = /_b/reviews { return 200 '[{"stars":5},{"stars":3}]'; }
location = /_b/stock { return 200 '12'; }
--- request
GET /t
--- response_headers
Content-Type: application/json
X-Gw-Compose-Parts: product=200, reviews=200, stock=200
X-Gw-Compose-Complete: true
--- response_body
{"product":{"id":1},"reviews":[{"stars":5},{"stars":3}],"stock":12}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: ten parts
--- config
location = /t {
    gw_compose;
    gw_compose_part p0 /_b?n=0;
    gw_compose_part p1 /_b?n=1;
    gw_compose_part p2 /_b?n=2;
    gw_compose_part p3 /_b?n=3;
    gw_compose_part p4 /_b?n=4;
    gw_compose_part p5 /_b?n=5;
    gw_compose_part p6 /_b?n=6;
    gw_compose_part p7 /_b?n=7;
    gw_compose_part p8 /_b?n=8;
    gw_compose_part p9 /_b?n=9;
}
location = /_b { return 200 '{"n":$arg_n}'; }
--- request
GET /t
--- more_headers
Connection: keep-alive
--- response_headers
Connection: keep-alive
X-Gw-Compose-Parts: p0=200, p1=200, p2=200, p3=200, p4=200, p5=200, p6=200, p7=200, p8=200, p9=200
X-Gw-Compose-Complete: true
--- response_body
{"p0":{"n":0},"p1":{"n":1},"p2":{"n":2},"p3":{"n":3},"p4":{"n":4},"p5":{"n":5},"p6":{"n":6},"p7":{"n":7},"p8":{"n":8},"p9":{"n":9}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: three parts of 0.2 s each answer in under 0.4 s
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_slow?n=1;
    gw_compose_part b /_slow?n=2;
    gw_compose_part c /_slow?n=3;
    add_header X-Elapsed $request_time always;
}
location = /_slow {
    echo_sleep 0.2;
    echo '{"n":$arg_n}';
}
--- request
GET /t
--- response_headers_like
X-Elapsed: ^0\.(2\d\d|3[0-8]\d)$
--- response_body
{"a":{"n":1},"b":{"n":2},"c":{"n":3}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: three slow parts through an upstream, concurrently
--- http_config
upstream slow {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_sleep 0.2;
        echo '"$uri"';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_up/a;
    gw_compose_part b /_up/b;
    gw_compose_part c /_up/c;
    add_header X-Elapsed $request_time always;
}
location /_up/ {
    proxy_pass http://slow;
}
--- request
GET /t
--- response_headers_like
X-Elapsed: ^0\.(2\d\d|3[0-8]\d)$
--- response_body
{"a":"/_up/a","b":"/_up/b","c":"/_up/c"}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: merge puts keys at the top level and deep-merges objects
--- config
location = /t {
    gw_compose;
    gw_compose_part base /_b/base merge;
    gw_compose_part extra /_b/extra merge;
    gw_compose_part meta /_b/meta;
}
location = /_b/base {
    return 200 '{"id":1,"info":{"name":"lamp","tags":["a"]},"meta":{"v":1}}';
}
location = /_b/extra {
    echo_sleep 0.05;
    echo '{"info":{"price":10,"tags":["b"]},"stock":3}';
}
location = /_b/meta { return 200 '{"w":2}'; }
--- request
GET /t
--- response_body
{"id":1,"info":{"name":"lamp","tags":["b"],"price":10},"meta":{"v":1,"w":2},"stock":3}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: a merge clash is settled by the order of the directives, not by time
--- config
location = /t {
    gw_compose;
    gw_compose_part slow /_b/slow merge;
    gw_compose_part fast /_b/fast merge;
}
location = /t2 {
    gw_compose;
    gw_compose_part fast /_b/fast merge;
    gw_compose_part slow /_b/slow merge;
}
location = /_b/slow {
    echo_sleep 0.1;
    echo '{"who":"slow","a":{"x":1}}';
}
location = /_b/fast { return 200 '{"who":"fast","a":{"y":2}}'; }
--- request eval
["GET /t", "GET /t2"]
--- response_body eval
["{\"who\":\"fast\",\"a\":{\"x\":1,\"y\":2}}\n",
 "{\"who\":\"slow\",\"a\":{\"y\":2,\"x\":1}}\n"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: target takes a sub-object
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b target=data.item;
    gw_compose_part first /_b target=data.list.0;
}
location = /_b { return 200 '{"data":{"item":{"id":5},"list":["x","y"]}}'; }
--- request
GET /t
--- response_body
{"product":{"id":5},"first":"x"}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: a missing target fails the part
--- config
location = /t {
    gw_compose;
    gw_compose_part ok /_b;
    gw_compose_part product /_b target=data.nothing optional;
}
location = /_b { return 200 '{"data":{"item":{"id":5}}}'; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: ok=200, product=200:no_target
X-Gw-Compose-Complete: false
--- response_body
{"ok":{"data":{"item":{"id":5}}},"product":null}
--- error_log
gw_compose: part "product" has no target field



=== TEST 10: allow keeps only the listed fields, nested ones too
--- config
location = /t {
    gw_compose;
    gw_compose_part user /_b allow=id,profile.name,missing;
}
location = /_b {
    return 200 '{"id":1,"secret":"s","profile":{"name":"ann","email":"e"}}';
}
--- request
GET /t
--- response_body
{"user":{"id":1,"profile":{"name":"ann"}}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 11: deny removes fields, nested ones too
--- config
location = /t {
    gw_compose;
    gw_compose_part user /_b deny=secret,profile.email,missing.x;
}
location = /_b {
    return 200 '{"id":1,"secret":"s","profile":{"name":"ann","email":"e"}}';
}
--- request
GET /t
--- response_body
{"user":{"id":1,"profile":{"name":"ann"}}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 12: rename moves fields, into nested paths too
--- config
location = /t {
    gw_compose;
    gw_compose_part user /_b rename=id:user_id,profile.name:name,nope:x;
}
location = /_b {
    return 200 '{"id":1,"profile":{"name":"ann","age":3}}';
}
--- request
GET /t
--- response_body
{"user":{"profile":{"age":3},"user_id":1,"name":"ann"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 13: target, allow and rename together; merged
--- config
location = /t {
    gw_compose;
    gw_compose_part user /_b target=data allow=id,name rename=name:login merge;
}
location = /_b {
    return 200 '{"data":{"id":1,"name":"ann","pw":"x"}}';
}
--- request
GET /t
--- response_body
{"id":1,"login":"ann"}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 14: status_ok accepts a 404 as a success
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        return 404 '{"found":false}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part wish /_up status_ok=200,404;
    gw_compose_part strict /_up optional;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: wish=404, strict=404
X-Gw-Compose-Complete: false
--- response_body
{"wish":{"found":false},"strict":null}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 15: an empty 204 body is null
--- config
location = /t {
    gw_compose;
    gw_compose_part gone /_b;
}
location = /_b { return 204; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: gone=204
--- response_body
{"gone":null}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 16: $gw_compose_parts and $gw_compose_complete in the access log
--- http_config
log_format compose '$request_uri parts=[$gw_compose_parts] '
                   'complete=$gw_compose_complete';
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b;
    gw_compose_part b /_missing optional;
    access_log $TEST_NGINX_SERVROOT/logs/error.log compose;
}
location = /_b { return 200 '1'; }
location = /_missing { return 404; }
--- request
GET /t
--- response_body
{"a":1,"b":null}
--- error_log
/t parts=[a=200, b=404] complete=false



=== TEST 17: the variables are empty outside a composed request
--- config
location = /t {
    return 200 "[$gw_compose_parts][$gw_compose_complete]\n";
}
--- request
GET /t
--- response_body
[][]



=== TEST 18: a HEAD request gets the headers only
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b;
}
location = /_b { return 200 '1'; }
--- request
HEAD /t
--- response_headers
X-Gw-Compose-Parts: a=200
Content-Length: 8
--- response_body
--- no_error_log
[error]
[alert]
[emerg]

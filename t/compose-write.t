use Test::Nginx::Socket 'no_plan';

no_shuffle();

run_tests();

__DATA__

=== TEST 1: checkout: create the order, then pay for it with its id
--- http_config
upstream orders {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
upstream payments {
    server 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location = /orders {
        echo_read_request_body;
        echo '{"id":"o-17","method":"$request_method","type":"$content_type","got":$echo_request_body}';
    }
    location = /payments {
        echo_read_request_body;
        echo '{"status":"paid","method":"$request_method","got":$echo_request_body}';
    }
}
--- config
location = /api/checkout {
    gw_compose;
    gw_compose_part order /_orders method=POST "body={request.order}";
    gw_compose_part payment /_payments method=POST
        'body={"order_id": {order.id}, "card": {request.payment.card}, "amount": {request.payment.amount}}';
}
location = /_orders {
    internal;
    proxy_pass http://orders/orders;
}
location = /_payments {
    internal;
    proxy_pass http://payments/payments;
}
--- request
POST /api/checkout
{"order": {"sku": "lamp", "qty": 2}, "payment": {"card": "4111", "amount": 19.99}}
--- more_headers
Content-Type: application/json
--- response_headers
Content-Type: application/json
X-Gw-Compose-Parts: order=200, payment=200
X-Gw-Compose-Complete: true
--- response_body
{"order":{"id":"o-17","method":"POST","type":"application/json","got":{"sku":"lamp","qty":2}},"payment":{"status":"paid","method":"POST","got":{"order_id": "o-17", "card": "4111", "amount": 19.99}}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: a failed order means no payment call
--- config
location = /api/checkout {
    gw_compose;
    gw_compose_part order /_orders method=POST "body={request.order}";
    gw_compose_part payment /_payments method=POST 'body={"order_id": {order.id}}';
}
location = /_orders {
    return 409 '{"error":"out of stock"}';
}
location = /_payments {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
}
--- request
POST /api/checkout
{"order": {"sku": "lamp"}}
--- error_code: 502
--- response_headers
Content-Type: application/problem+json
X-Gw-Compose-Parts: order=409, payment=-:skipped
X-Gw-Compose-Complete: false
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"order\" failed with status 409"}' . "\r\n"
--- error_log
gw_compose: part "payment" not called: part "order" failed
--- no_error_log
connect() failed



=== TEST 3: without body=, a POST part gets the client's body and content type
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_read_request_body;
        echo '{"method":"$request_method","type":"$content_type","length":"$http_content_length","body":"$echo_request_body"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part create /_up method=POST;
    gw_compose_part update /_up method=PUT;
    gw_compose_part patch /_up method=PATCH;
    gw_compose_part remove /_up method=DELETE;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
POST /t
a=1&b=2
--- more_headers
Content-Type: application/x-www-form-urlencoded
--- response_body
{"create":{"method":"POST","type":"application/x-www-form-urlencoded","length":"7","body":"a=1&b=2"},"update":{"method":"PUT","type":"application/x-www-form-urlencoded","length":"7","body":"a=1&b=2"},"patch":{"method":"PATCH","type":"application/x-www-form-urlencoded","length":"7","body":"a=1&b=2"},"remove":{"method":"DELETE","type":"application/x-www-form-urlencoded","length":"7","body":"a=1&b=2"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: a GET part of a POST request gets neither body nor content type
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_read_request_body;
        echo '{"method":"$request_method","type":"$content_type","length":"$http_content_length","body":"$echo_request_body"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part read /_up;
    gw_compose_part write /_up method=POST;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
POST /t
hello
--- more_headers
Content-Type: text/plain
--- response_body
{"read":{"method":"GET","type":"","length":"","body":""},"write":{"method":"POST","type":"text/plain","length":"5","body":"hello"}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: a client body that is not JSON, when a template needs it: 400
--- config
location = /t {
    gw_compose;
    gw_compose_part order /_b method=POST "body={request.order}";
}
location = /_b { return 200 '1'; }
--- request
POST /t
{"order":
--- error_code: 400
--- response_headers
Content-Type: application/problem+json
--- response_body eval
'{"type":"about:blank","title":"Bad Request","status":400,"detail":"request body is not valid JSON"}' . "\r\n"
--- no_error_log
[error]
[alert]



=== TEST 6: a value the client's body lacks: 400 naming the part
--- config
location = /t {
    gw_compose;
    gw_compose_part order /_b method=POST "body={request.order}";
}
location = /_b { return 200 '1'; }
--- request
POST /t
{"cart": {}}
--- error_code: 400
--- response_headers
X-Gw-Compose-Parts: order=-:bad_request
--- response_body eval
'{"type":"about:blank","title":"Bad Request","status":400,"detail":"part \"order\" needs a value the request body does not have"}' . "\r\n"
--- error_log
gw_compose: part "order" not called: a value in "{request.order}" is missing



=== TEST 7: a client body kept in a temporary file is read for templates
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_read_request_body;
        echo '{"length":"$http_content_length"}';
    }
}
--- config
location = /t {
    client_body_buffer_size 1k;
    gw_compose;
    gw_compose_part order /_up method=POST "body={request.order}";
    gw_compose_part copy /_up method=POST;
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request eval
"POST /t\n{\"pad\":\"" . ("x" x 3000) . "\",\"order\":{\"n\":1}}"
--- response_body
{"order":{"length":"7"},"copy":{"length":"3026"}}
--- error_log
a client request body is buffered to a temporary file
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: body templates mix literal JSON, numbers, objects and strings
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_read_request_body;
        echo $echo_request_body;
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part user /_user;
    gw_compose_part note /_up method=POST
        'body={"who": {user.name}, "n": {user.n}, "all": {user}, "tags": {request.tags}, "fixed": [1, {"a": 2}]}';
}
location = /_user { return 200 '{"name":"ann \\"x\\"","n":3}'; }
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
POST /t
{"tags": ["a", "b"]}
--- response_body
{"user":{"name":"ann \"x\"","n":3},"note":{"who": "ann \"x\"", "n": 3, "all": {"name":"ann \"x\"","n":3}, "tags": ["a","b"], "fixed": [1, {"a": 2}]}}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: a chunked client body reaches a part with a length
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_read_request_body;
        echo '{"length":"$http_content_length","te":"$http_transfer_encoding","body":$echo_request_body}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part copy /_up method=POST;
    gw_compose_part order /_up method=POST "body={request.order}";
}
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- raw_request eval
"POST /t HTTP/1.1\r
Host: localhost\r
Connection: close\r
Content-Type: application/json\r
Transfer-Encoding: chunked\r
\r
6\r
{\"orde\r
d\r
r\": {\"n\": 1}}\r
0\r
\r
"
--- response_body_like
^\{"copy":\{"length":"19","te":"","body":\{"order": \{"n": 1\}\}\},"order":\{"length":"7","te":"","body":\{"n":1\}\}\}\s*$
--- no_error_log
[error]
[alert]
[emerg]

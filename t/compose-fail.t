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

=== TEST 1: a required part that times out: 504 naming it, without waiting
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part reviews /_slow timeout=100ms;
    add_header X-Elapsed $request_time always;
}
location = /_b { return 200 '{"id":1}'; }
location = /_slow {
    echo_sleep 0.4;
    echo '[]';
}
--- request
GET /t
--- more_headers
Connection: keep-alive
--- error_code: 504
--- response_headers
Content-Type: application/problem+json
X-Gw-Compose-Parts: product=200, reviews=504
X-Gw-Compose-Complete: false
Connection: close
--- response_headers_like
X-Elapsed: ^0\.(0[89]\d|1\d\d)$
--- response_body eval
'{"type":"about:blank","title":"Gateway Timeout","status":504,"detail":"part \"reviews\" timed out"}' . "\r\n"
--- error_log
gw_compose: part "reviews" timed out after 100ms
--- no_error_log
[error]
[alert]



=== TEST 2: an optional part that times out: null, 200, incomplete
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part reviews /_slow optional timeout=100ms;
    add_header X-Elapsed $request_time always;
}
location = /_b { return 200 '{"id":1}'; }
location = /_slow {
    echo_sleep 0.4;
    echo '[]';
}
--- request
GET /t
--- response_headers
Content-Type: application/json
X-Gw-Compose-Parts: product=200, reviews=504
X-Gw-Compose-Complete: false
--- response_headers_like
X-Elapsed: ^0\.(0[89]\d|1\d\d)$
--- response_body
{"product":{"id":1},"reviews":null}
--- no_error_log
[error]
[alert]



=== TEST 3: gw_compose_timeout bounds the whole request
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part reviews /_slow optional;
    gw_compose_timeout 150ms;
    add_header X-Elapsed $request_time always;
}
location = /_b { return 200 '{"id":1}'; }
location = /_slow {
    echo_sleep 0.4;
    echo '[]';
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, reviews=504
X-Gw-Compose-Complete: false
--- response_headers_like
X-Elapsed: ^0\.1[4-9]\d$
--- response_body
{"product":{"id":1},"reviews":null}
--- error_log
gw_compose: request timed out after 150ms



=== TEST 4: the whole deadline on a required part: 504
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_slow;
    gw_compose_timeout 100ms;
}
location = /_slow {
    echo_sleep 0.4;
    echo '[]';
}
--- request
GET /t
--- error_code: 504
--- response_headers
X-Gw-Compose-Parts: product=504
--- response_body eval
'{"type":"about:blank","title":"Gateway Timeout","status":504,"detail":"part \"product\" timed out"}' . "\r\n"



=== TEST 5: an upstream's own timeout (proxy_read_timeout) is a 504 too
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo_sleep 0.4;
        echo '{}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part stock /_up;
}
location = /_up {
    proxy_read_timeout 100ms;
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- error_code: 504
--- response_headers
X-Gw-Compose-Parts: stock=504
--- response_body eval
'{"type":"about:blank","title":"Gateway Timeout","status":504,"detail":"part \"stock\" failed with status 504"}' . "\r\n"
--- error_log
upstream timed out



=== TEST 6: a required part answering 500: 502 naming it and its status
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        return 500 '{"error":"boom"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part stock /_up;
}
location = /_b { return 200 '{"id":1}'; }
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- error_code: 502
--- response_headers
Content-Type: application/problem+json
X-Gw-Compose-Parts: product=200, stock=500
X-Gw-Compose-Complete: false
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"stock\" failed with status 500"}' . "\r\n"
--- error_log
gw_compose: part "stock" answered 500



=== TEST 7: an optional part answering 503: null
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part stock /_down optional;
}
location = /_b { return 200 '{"id":1}'; }
location = /_down { return 503; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, stock=503
X-Gw-Compose-Complete: false
--- response_body
{"product":{"id":1},"stock":null}
--- no_error_log
[error]
[alert]



=== TEST 8: connection refused: 502
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part stock /_dead;
}
location = /_b { return 200 '{"id":1}'; }
location = /_dead {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
}
--- request
GET /t
--- error_code: 502
--- response_headers
X-Gw-Compose-Parts: product=200, stock=502
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"stock\" failed with status 502"}' . "\r\n"
--- error_log
connect() failed (111: Connection refused)



=== TEST 9: connection refused on an optional part: null
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part stock /_dead optional;
}
location = /_b { return 200 '{"id":1}'; }
location = /_dead {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_2;
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, stock=502
X-Gw-Compose-Complete: false
--- response_body
{"product":{"id":1},"stock":null}
--- error_log
connect() failed (111: Connection refused)



=== TEST 10: invalid JSON fails a required part
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part html /_html;
}
location = /_b { return 200 '{"id":1}'; }
location = /_html { return 200 '<html>oops</html>'; }
--- request
GET /t
--- error_code: 502
--- response_headers
X-Gw-Compose-Parts: product=200, html=200:invalid_json
X-Gw-Compose-Complete: false
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"html\" returned invalid JSON"}' . "\r\n"
--- error_log
gw_compose: part "html" returned invalid JSON at offset 0



=== TEST 11: invalid JSON in an optional part: null
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part html /_html optional;
}
location = /_b { return 200 '{"id":1}'; }
location = /_html { return 200 '{"id":'; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, html=200:invalid_json
--- response_body
{"product":{"id":1},"html":null}
--- error_log
gw_compose: part "html" returned invalid JSON



=== TEST 12: a body over gw_compose_max_body (with a length) fails the part
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        return 200 '{"a":"0123456789012345678901234567890123456789"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_max_body 40;
    gw_compose_part product /_b;
    gw_compose_part big /_up;
}
location = /_b { return 200 '{"id":1}'; }
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- error_code: 502
--- response_headers
X-Gw-Compose-Parts: product=200, big=200:too_large
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"big\" returned a body larger than gw_compose_max_body"}' . "\r\n"
--- error_log
gw_compose: part "big" response of 48 bytes or more is larger than gw_compose_max_body 40



=== TEST 13: a chunked body over gw_compose_max_body fails an optional part
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo '{"a":"0123456789012345678901234567890123456789"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_max_body 40;
    gw_compose_part product /_b;
    gw_compose_part big /_up optional;
}
location = /_b { return 200 '{"id":1}'; }
location = /_up {
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: product=200, big=200:too_large
X-Gw-Compose-Complete: false
--- response_body
{"product":{"id":1},"big":null}
--- error_log
is larger than gw_compose_max_body 40



=== TEST 14: a body larger than subrequest_output_buffer_size but within gw_compose_max_body arrives whole
--- http_config
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        echo -n '[';
        echo_duplicate 3000 '"0123456789",';
        echo '"end"]';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_max_body 64k;
    gw_compose_part list /_up target=3000;
}
location = /_up {
    subrequest_output_buffer_size 4k;
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: list=200
--- response_body
{"list":"end"}
--- no_error_log
[error]
[alert]



=== TEST 15: a merged part that is not an object fails
--- config
location = /t {
    gw_compose;
    gw_compose_part list /_b merge;
}
location = /_b { return 200 '[1,2]'; }
--- request
GET /t
--- error_code: 502
--- response_headers
X-Gw-Compose-Parts: list=200:not_object
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"list\" returned no JSON object to merge"}' . "\r\n"
--- error_log
gw_compose: part "list" is merged but did not return an object



=== TEST 16: a fast failure of a required part answers at once
--- config
location = /t {
    gw_compose;
    gw_compose_part slow /_slow;
    gw_compose_part broken /_down;
    add_header X-Elapsed $request_time always;
}
location = /_slow {
    echo_sleep 0.4;
    echo '{}';
}
location = /_down { return 500; }
--- request
GET /t
--- error_code: 502
--- response_headers
X-Gw-Compose-Parts: slow=-:cancelled, broken=500
--- response_headers_like
X-Elapsed: ^0\.0\d\d$
--- response_body eval
'{"type":"about:blank","title":"Bad Gateway","status":502,"detail":"part \"broken\" failed with status 500"}' . "\r\n"



=== TEST 17: the operator's error_page wins over the problem body
--- config
location = /t {
    gw_compose;
    gw_compose_part broken /_down;
    error_page 502 /oops;
}
location = /oops { return 200 "custom\n"; }
location = /_down { return 500; }
--- request
GET /t
--- error_code: 502
--- response_body
custom



=== TEST 18: several requests on one keepalive connection, one timing out
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b;
    gw_compose_part s /_slow?d=$arg_d optional timeout=100ms;
}
location = /_b { return 200 '1'; }
location = /_slow {
    echo_sleep $arg_d;
    echo '2';
}
--- request eval
["GET /t?d=0.01", "GET /t?d=0.3", "GET /t?d=0.01"]
--- response_body eval
["{\"a\":1,\"s\":2}\n", "{\"a\":1,\"s\":null}\n", "{\"a\":1,\"s\":2}\n"]
--- no_error_log
[error]
[alert]

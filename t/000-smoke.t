use Test::Nginx::Socket 'no_plan';

run_tests();

__DATA__

=== TEST 1: a location answers
--- config
location = /t {
    return 200 "hello\n";
}
--- request
GET /t
--- response_body
hello
--- response_headers
Content-Type: text/plain
!X-Nothing
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: several requests, proxied, post body
--- config
location = /t {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/b;
}
location = /b {
    return 201 "$request_method\n";
}
--- request eval
["GET /t", "POST /t\nabc", "HEAD /t"]
--- error_code eval
[201, 201, 201]
--- response_body eval
["GET\n", "POST\n", ""]



=== TEST 3: a bad directive
--- config
location = /t {
    return 200 "x";
    nonsense_directive 1;
}
--- must_die
--- error_log
unknown directive "nonsense_directive"

use Test::Nginx::Socket 'no_plan';

no_shuffle();

run_tests();

__DATA__

=== TEST 1: a part refers to an unknown part is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part product /_b;
    gw_compose_part seller "/_s/{prodct.seller_id}";
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "seller" refers to unknown part "prodct" in "/_s/{prodct.seller_id}"



=== TEST 2: an unknown part in a body template is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part order /_b method=POST 'body={"id": {ordr.id}}';
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "order" refers to unknown part "ordr" in "{"id": {ordr.id}}"



=== TEST 3: a cycle of two parts is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a "/_b?x={b.x}";
    gw_compose_part b "/_b?x={a.x}";
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
gw_compose_part dependency cycle: a -> b -> a



=== TEST 4: a part that refers to itself is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a "/_b?x={a.x}";
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
gw_compose_part dependency cycle: a -> a



=== TEST 5: a cycle of three parts behind an independent one is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part x /_b;
    gw_compose_part a "/_b?x={x.v}&y={c.v}";
    gw_compose_part b "/_b?x={a.v}";
    gw_compose_part c /_b method=POST 'body={"v": {b.v}}';
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
gw_compose_part dependency cycle: a -> c -> b -> a



=== TEST 6: a duplicate part is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b;
    gw_compose_part a /_c;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
duplicate part "a"



=== TEST 7: the reserved name request is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part request /_b;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part name "request" is reserved for the client's body



=== TEST 8: an invalid part name is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a.b /_b;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid part name "a.b"



=== TEST 9: a uri that is not a path is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a http://x/;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": uri "http://x/" must start with "/"



=== TEST 10: an unknown option is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b optionl;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": invalid option "optionl"



=== TEST 11: an invalid timeout is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b timeout=soon;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": invalid timeout "soon"



=== TEST 12: an invalid method is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b method=HEAD;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": invalid method "HEAD"



=== TEST 13: an invalid status is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b status_ok=200,2000;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": invalid status "2000"



=== TEST 14: an invalid rename is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b rename=a:b,c;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": invalid rename "c"



=== TEST 15: an invalid allow field is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b allow=a,,b;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid field "" in "allow=a,,b"



=== TEST 16: an invalid deny field is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b deny=a.;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid field "a." in "deny=a."



=== TEST 17: an invalid target is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b target=.x;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": invalid target ".x"



=== TEST 18: an empty path segment in a reference is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b;
    gw_compose_part b "/_b?x={a..x}";
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid reference in "/_b?x={a..x}"



=== TEST 19: body= on a GET part is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b 'body={"x": 1}';
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
part "a": body= needs a method other than GET



=== TEST 20: gw_compose without parts is rejected
--- config
location = /t {
    gw_compose;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
gw_compose requires at least one gw_compose_part



=== TEST 21: gw_compose_max_body 0 is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_max_body 0;
    gw_compose_part a /_b;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid gw_compose_max_body "0"



=== TEST 22: an invalid header name is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_clear_headers "X Bad";
    gw_compose_part a /_b;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid header name "X Bad"



=== TEST 23: an invalid gw_compose_timeout is rejected
--- config
location = /t {
    gw_compose;
    gw_compose_timeout forever;
    gw_compose_part a /_b;
}
location = /_b { return 200 '1'; }
--- must_die
--- error_log
invalid gw_compose_timeout "forever"



=== TEST 24: gw_compose_part without gw_compose is rejected
--- config
location = /t {
    gw_compose_part a /_b;
    return 200;
}
--- must_die
--- error_log
gw_compose_part requires gw_compose in the same location



=== TEST 25: a valid graph passes nginx -t
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_b;
    gw_compose_part b "/_b?x={a.x}";
    gw_compose_part c "/_b?x={a.x}&y={b.y}" optional timeout=1s;
    gw_compose_part d /_b method=POST 'body={"a": {a}, "c": {c.z}, "r": {request.q}}' merge;
}
location = /_b { return 200 '{"x":1,"y":2,"z":3}'; }
--- request
POST /t
{"q": 1}
--- response_body
{"a":{"x":1,"y":2,"z":3},"b":{"x":1,"y":2,"z":3},"c":{"x":1,"y":2,"z":3},"x":1,"y":2,"z":3}
--- no_error_log
[error]
[emerg]

use Test::Nginx::Socket 'no_plan';

no_shuffle();

# bodies of parts copied as sent are checked without being parsed: each of
# these files is served as a part, and must come out whole or as null
our @valid = (
    [v1 => qq{  {"a": [1, -2.5e+3, 0, 0.5E-2, true, false, null, "q\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"]}  \n},
           qq{{"a": [1, -2.5e+3, 0, 0.5E-2, true, false, null, "q\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9"]}}],
    [v2 => qq{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}, qq{"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}],
    [v3 => qq{[{}, [], "", -0, 123456789012345678901234567890]},
           qq{[{}, [], "", -0, 123456789012345678901234567890]}],
    [v4 => ('[' x 1024) . (']' x 1024), ('[' x 1024) . (']' x 1024)],
);

our @invalid = (
    [i1 => qq{{"a":1} x}, 8],
    [i2 => qq{{"a":01}}, 6],
    [i3 => qq{[1.]}, 3],
    [i4 => qq{{"a" 1}}, 5],
    [i5 => qq{["\\x"]}, 3],
    [i6 => qq{["a\tb"]}, 3],
    [i7 => qq{["\xff"]}, 3],
    [i8 => qq{[1,]}, 3],
    [i9 => qq{{"a":1,}}, 7],
    [i10 => ('[' x 1025) . (']' x 1025), 1024],
    [i11 => qq{tru}, 0],
    [i12 => qq{{"a":1}{"b":2}}, 7],
    [i13 => qq{["\xed\xa0\x80"]}, 5],
    [i14 => qq{{"a":"\\u12g4"}}, 10],
    [i15 => qq{{1:2}}, 1],
);

our $files = join '', map { ">>> j/$_->[0].json\n$_->[1]\n" } @valid, @invalid;

run_tests();

__DATA__

=== TEST 1: valid bodies are copied whole, surrounding blanks trimmed
--- user_files eval: $::files
--- config
location = /t {
    gw_compose;
    gw_compose_part x /j/$arg_f.json;
}
location /j/ {
    root $TEST_NGINX_HTML_DIR;
}
--- request eval
[map { "GET /t?f=$_->[0]" } @::valid]
--- response_body eval
[map { qq{{"x":$_->[2]}\n} } @::valid]
--- no_error_log
[error]
[alert]



=== TEST 2: invalid bodies fail the part, with the offset logged
--- user_files eval: $::files
--- config
location = /t {
    gw_compose;
    gw_compose_part x /j/$arg_f.json optional;
}
location /j/ {
    root $TEST_NGINX_HTML_DIR;
}
--- request eval
[map { "GET /t?f=$_->[0]" } @::invalid]
--- response_headers eval
[map { "X-Gw-Compose-Parts: x=200:invalid_json" } @::invalid]
--- response_body eval
[map { qq{{"x":null}\n} } @::invalid]
--- error_log eval
[map { qq{gw_compose: part "x" returned invalid JSON at offset $_->[2]} } @::invalid]

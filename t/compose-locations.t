use Test::Nginx::Socket 'no_plan';

no_shuffle();

run_tests();

__DATA__

=== TEST 1: parts from static files, copied as written
--- user_files
>>> data/product.json
{"id": 7, "name": "lamp"}
>>> data/stock.json
[1, 2, 3]
--- config
location = /t {
    gw_compose;
    gw_compose_part product /data/product.json;
    gw_compose_part stock /data/stock.json;
}
location /data/ {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /t
--- response_body
{"product":{"id": 7, "name": "lamp"},"stock":[1, 2, 3]}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: a static file over gw_compose_max_body
--- user_files eval
">>> data/big.json\n[\"" . ("x" x 5000) . "\"]\n"
--- config
location = /t {
    gw_compose;
    gw_compose_max_body 4k;
    gw_compose_part big /data/big.json optional;
}
location /data/ {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: big=200:too_large
--- response_body
{"big":null}
--- error_log
gw_compose: part "big" response of 5005 bytes or more is larger than gw_compose_max_body 4096



=== TEST 3: a missing static file is a 404 part
--- config
location = /t {
    gw_compose;
    gw_compose_part a /data/none.json optional;
}
location /data/ {
    root $TEST_NGINX_HTML_DIR;
}
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: a=404
--- response_body
{"a":null}



=== TEST 4: each part is cached under its own URI by proxy_cache
--- http_config
proxy_cache_path $TEST_NGINX_SERVROOT/cache keys_zone=parts:1m;
server {
    listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    location / {
        add_header Cache-Control "max-age=60";
        return 200 '{"uri":"$request_uri"}';
    }
}
--- config
location = /t {
    gw_compose;
    gw_compose_part a /_up/a?x=1;
    gw_compose_part b /_up/b?x=2;
}
location /_up/ {
    proxy_cache parts;
    proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
}
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["{\"a\":{\"uri\":\"/_up/a?x=1\"},\"b\":{\"uri\":\"/_up/b?x=2\"}}\n",
 "{\"a\":{\"uri\":\"/_up/a?x=1\"},\"b\":{\"uri\":\"/_up/b?x=2\"}}\n"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: a composed location cannot be a part
--- config
location = /t {
    gw_compose;
    gw_compose_part inner /inner optional;
    gw_compose_part ok /_b;
}
location = /inner {
    gw_compose;
    gw_compose_part x /_b;
}
location = /_b { return 200 '1'; }
--- request
GET /t
--- response_headers
X-Gw-Compose-Parts: inner=500, ok=200
--- response_body
{"inner":null,"ok":1}
--- error_log
gw_compose cannot answer a subrequest



=== TEST 6: a composed location behind an internal redirect
--- config
location = /t {
    try_files /nothing /page;
}
location = /page {
    gw_compose;
    gw_compose_part a /_b;
}
location = /_b { return 200 '"$request_uri"'; }
--- request
GET /t
--- response_body
{"a":"/_b"}
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: echo backends in the same server, with args passed through
--- config
location = /t {
    gw_compose;
    gw_compose_part a "/_echo?who=$arg_who&n=1";
}
location = /_echo {
    echo '{"who":"$arg_who","n":$arg_n}';
}
--- request
GET /t?who=ann
--- response_body
{"a":{"who":"ann","n":1}}
--- no_error_log
[error]
[alert]
[emerg]

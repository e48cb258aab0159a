use Test::Nginx::Socket 'no_plan';

no_shuffle();

add_block_preprocessor(sub {
    my $block = shift;
    $block->{http_config} //= [qq{gw_cache_zone c size=1m;\n}];
    my $own = $block->{config} // '';
    $own = $own->[0] if ref $own;
    $block->{config} = q{
location /api/ {
    gw_cache c;
    gw_cache_valid 1h;
    gw_cache_key $uri;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
}
location /backend/ {
    add_header Cache-Tag "all, item-$uri";
    add_header Surrogate-Key "group-$arg_g";
    add_header Vary "Accept-Language";
    return 200 "$uri\n";
}
location = /purge {
    gw_cache_purge c;
}
} . $own;
});

run_tests();

__DATA__

=== TEST 1: purge by exact key removes its variants only
--- request eval
["GET /api/a", "GET /api/a", "GET /api/ab", "GET /purge?key=/api/a", "GET /api/a", "GET /api/ab"]
--- more_headers eval
["Accept-Language: en", "Accept-Language: fr", "", "", "Accept-Language: en", ""]
--- response_body eval
["/backend/a\n", "/backend/a\n", "/backend/ab\n", "{\"purged\":2}\n", "/backend/a\n", "/backend/ab\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "Content-Type: application/json", "X-Cache-Status: MISS", "X-Cache-Status: HIT"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: purge by key prefix
--- request eval
["GET /api/users/1", "GET /api/users/2", "GET /api/orders/1", "PURGE /purge?prefix=/api/users/", "GET /api/users/1", "GET /api/users/2", "GET /api/orders/1", "DELETE /purge?prefix=/api/users/"]
--- response_body eval
["/backend/users/1\n", "/backend/users/2\n", "/backend/orders/1\n", "{\"purged\":2}\n", "/backend/users/1\n", "/backend/users/2\n", "/backend/orders/1\n", "{\"purged\":2}\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: purge by tag (Cache-Tag and Surrogate-Key)
--- request eval
["GET /api/x?g=1", "GET /api/y?g=1", "GET /api/z?g=2", "POST /purge?tag=group-1", "GET /api/x", "GET /api/y", "GET /api/z", "GET /purge?tag=item-/backend/z", "GET /api/z", "GET /purge?tag=all", "GET /purge?tag=all"]
--- response_body eval
["/backend/x\n", "/backend/y\n", "/backend/z\n", "{\"purged\":2}\n", "/backend/x\n", "/backend/y\n", "/backend/z\n", "{\"purged\":1}\n", "/backend/z\n", "{\"purged\":3}\n", "{\"purged\":0}\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: HIT", "", "X-Cache-Status: MISS", "", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: a purge key is URL-decoded
--- request eval
["GET /api/a%20b", "GET /purge?key=%2Fapi%2Fa%20b", "GET /api/a%20b"]
--- response_body eval
["/backend/a b\n", "{\"purged\":1}\n", "/backend/a b\n"]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 5: bad purge requests: no argument, two arguments, empty value, a wrong method
--- request eval
["GET /purge", "GET /purge?key=/a&tag=b", "GET /purge?prefix=", "PUT /purge?key=/a\nx"]
--- error_code eval
[400, 400, 400, 405]
--- response_body eval
["{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"give exactly one non-empty key, prefix or tag argument\"}\r\n", "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"give exactly one non-empty key, prefix or tag argument\"}\r\n", "{\"type\":\"about:blank\",\"title\":\"Bad Request\",\"status\":400,\"detail\":\"give exactly one non-empty key, prefix or tag argument\"}\r\n", "{\"type\":\"about:blank\",\"title\":\"Method Not Allowed\",\"status\":405,\"detail\":\"purge with GET, POST, DELETE or PURGE\"}\r\n"]
--- response_headers eval
["Content-Type: application/problem+json", "Content-Type: application/problem+json", "Content-Type: application/problem+json", "Content-Type: application/problem+json"]
--- no_error_log
[alert]
[emerg]



=== TEST 6: the purge location is protected like any other (allow/deny)
--- config
location = /guarded/purge {
    deny all;
    gw_cache_purge c;
}
--- request eval
["GET /api/a", "GET /guarded/purge?key=/api/a", "GET /api/a"]
--- error_code eval
[200, 403, 200]
--- response_headers eval
["X-Cache-Status: MISS", "", "X-Cache-Status: HIT"]
--- no_error_log
[alert]
[emerg]



=== TEST 7: gw_cache set for the whole server: the purge location is never cached
--- config
gw_cache c;
gw_cache_valid 1h;
location = /s/purge {
    gw_cache_purge c;
}
location /s/ {
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend/;
}
--- request eval
["GET /s/a", "GET /s/purge?key=httpGETlocalhost/s/a", "GET /s/purge?key=httpGETlocalhost/s/a", "GET /s/a"]
--- response_body eval
["/backend/a\n", "{\"purged\":1}\n", "{\"purged\":0}\n", "/backend/a\n"]
--- response_headers eval
["X-Cache-Status: MISS", "!X-Cache-Status", "!X-Cache-Status", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]

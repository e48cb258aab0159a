use FindBin;
use lib "$FindBin::Bin/helpers";
use GwTest;
use Test::Nginx::Socket 'no_plan';

no_shuffle();

# the backends count their requests in logs/backend*.log, empty at start
add_block_preprocessor(sub {
    my $block = shift;
    $block->{init} //= [q{truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";}];
});
no_long_string();
run_tests();

__DATA__

=== TEST 1: a large response (many pages) is stored and served whole
--- http_config
gw_cache_zone c size=4m max_object=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/big.txt;
}
location = /big.txt {
    root $TEST_NGINX_HTML_DIR;
}
--- user_files eval
">>> big.txt\n" . CORE::join("", map { sprintf("line %06d of the large file\n", $_) } 1 .. 20000)
--- request eval
["GET /t", "GET /t"]
--- response_body eval
[CORE::join("", map { sprintf("line %06d of the large file\n", $_) } 1 .. 20000), CORE::join("", map { sprintf("line %06d of the large file\n", $_) } 1 .. 20000)]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Length: 600000"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 2: a chunked response (no Content-Length) is stored; the hit has a length
--- http_config
gw_cache_zone c size=1m;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo "first part";
    echo_flush;
    echo_sleep 0.05;
    echo "second part";
}
--- request eval
["GET /t", "GET /t"]
--- response_body eval
["first part\nsecond part\n", "first part\nsecond part\n"]
--- response_headers eval
["X-Cache-Status: MISS\nTransfer-Encoding: chunked", "X-Cache-Status: HIT\nContent-Length: 23\n!Transfer-Encoding"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 3: a response over max_object passes through uncached
--- http_config
gw_cache_zone c size=1m max_object=4k;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/big.txt;
}
location /chunked {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo_duplicate 1000 "0123456789";
}
location = /big.txt {
    root $TEST_NGINX_HTML_DIR;
}
--- user_files eval
">>> big.txt\n" . ("a" x 5000)
--- request eval
["GET /t", "GET /t", "GET /chunked", "GET /chunked"]
--- response_body eval
["a" x 5000, "a" x 5000, "0123456789" x 1000, "0123456789" x 1000]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 4: a full zone evicts the least recently used entries, no errors
--- http_config
gw_cache_zone c size=64k max_object=8k;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    echo_duplicate 600 "0123456789";
}
--- request eval
[(map { "GET /t/$_" } 1 .. 40), "GET /t/40", "GET /t/1"]
--- response_body eval
[("0123456789" x 600) x 42]
--- response_headers eval
[("X-Cache-Status: MISS") x 40, "X-Cache-Status: HIT", "X-Cache-Status: MISS"]
--- no_error_log
[error]
[alert]
[emerg]
[crit]



=== TEST 5: a static file through the cache (file buffers read into memory)
--- http_config
gw_cache_zone c size=1m;
--- config
location /static/ {
    gw_cache c;
    gw_cache_valid 10s;
    alias $TEST_NGINX_HTML_DIR/;
}
--- user_files
>>> a.html
<p>hello</p>
--- request eval
["GET /static/a.html", "GET /static/a.html"]
--- response_body eval
["<p>hello</p>\n", "<p>hello</p>\n"]
--- response_headers eval
["X-Cache-Status: MISS\nContent-Type: text/html", "X-Cache-Status: HIT\nContent-Type: text/html\nContent-Length: 13"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 6: a cached location as an in-memory subrequest (SSI include set=)
--- http_config
gw_cache_zone c size=1m;
log_format cnt "x";
--- config
location = /page.html {
    ssi on;
    root $TEST_NGINX_HTML_DIR;
}
location /part {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend6.log cnt;
    return 200 "part body";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend6.log;
}
--- user_files
>>> page.html
[<!--# include virtual="/part" set="p" -->][<!--# echo var="p" -->]
--- request eval
["GET /page.html", "GET /page.html", "GET /count"]
--- response_body eval
["[][part body]\n", "[][part body]\n", "x\n"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 7: a cached location as a plain subrequest (SSI include); its key is its own URI
--- http_config
gw_cache_zone c size=1m;
log_format cnt "x";
--- config
location = /page.html {
    ssi on;
    root $TEST_NGINX_HTML_DIR;
}
location /part {
    gw_cache c;
    gw_cache_valid 10s;
    add_header X-Part $gw_cache_status;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    access_log $TEST_NGINX_SERVROOT/logs/backend7.log cnt;
    return 200 "part body";
}
location = /count {
    alias $TEST_NGINX_SERVROOT/logs/backend7.log;
}
--- user_files
>>> page.html
[<!--# include virtual="/part" -->][<!--# include virtual="/part?x=1" -->]
--- request eval
["GET /page.html", "GET /page.html", "GET /part?x=1", "GET /part", "GET /count"]
--- response_body eval
["[part body][part body]\n", "[part body][part body]\n", "part body", "part body", "x\nx\n"]
--- response_headers eval
["", "", "X-Cache-Status: HIT", "X-Cache-Status: HIT", ""]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 8: small bodies: in the response record, in a chunk of their own, in a page; each served whole
--- http_config
gw_cache_zone c size=1m;
--- config
location /t/ {
    gw_cache c;
    gw_cache_valid 10s;
    add_header X-Pad "$uri$uri$uri$uri$uri$uri$uri$uri$uri$uri$uri$uri$uri";
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/f/;
}
location /f/ {
    alias $TEST_NGINX_HTML_DIR/;
}
--- user_files eval
">>> s100.txt\n" . ("a" x 99) . "\n>>> s1900.txt\n" . ("b" x 1899) . "\n>>> s2032.txt\n" . ("c" x 2031) . "\n>>> s2033.txt\n" . ("d" x 2032) . "\n"
--- request eval
["GET /t/s100.txt", "GET /t/s100.txt", "GET /t/s1900.txt", "GET /t/s1900.txt", "GET /t/s2032.txt", "GET /t/s2032.txt", "GET /t/s2033.txt", "GET /t/s2033.txt"]
--- response_body eval
[("a" x 99) . "\n", ("a" x 99) . "\n", ("b" x 1899) . "\n", ("b" x 1899) . "\n", ("c" x 2031) . "\n", ("c" x 2031) . "\n", ("d" x 2032) . "\n", ("d" x 2032) . "\n"]
--- response_headers eval
["X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Length: 100", "X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Length: 1900", "X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Length: 2032", "X-Cache-Status: MISS", "X-Cache-Status: HIT\nContent-Length: 2033"]
--- no_error_log
[error]
[alert]
[emerg]



=== TEST 9: a key whose fetch is in flight outlives a full zone's evictions: the slow answer is stored, then hit
--- http_config
gw_cache_zone c size=64k max_object=8k;
--- config
location /t {
    gw_cache c;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend$uri;
}
location /backend/t/slow {
    echo_sleep 1;
    echo "the slow answer";
}
location /backend {
    echo_duplicate 600 "0123456789";
}
--- init
truncate $_, 0 for glob "$ENV{TEST_NGINX_SERVROOT}/logs/backend*.log";
my $slow = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ENV{TEST_NGINX_SERVER_PORT}) or die "connect: $!";
print $slow "GET /t/slow HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
select(undef, undef, undef, 0.2);
for my $i (1 .. 40) {
    my $r = GwTest::http_request('GET', "/t/$i");
    $r->{status} == 200 && length($r->{body}) == 6000 or die "fill $i: $r->{status}\n";
}
my $raw = '';
1 while sysread($slow, $raw, 65536, length $raw);
Test::More::like($raw, qr/\AHTTP\/1.1 200 .*X-Cache-Status: MISS\r\n(?:[^\r\n]+\r\n)*\r\n10\r\nthe slow answer\n\r\n0\r\n\r\n\z/s, "TEST 9: the slow miss answered whole");
--- request
GET /t/slow
--- response_body
the slow answer
--- response_headers
X-Cache-Status: HIT
--- timeout: 10
--- no_error_log
[error]
[alert]
[emerg]
[crit]



=== TEST 10: 120 keys in 512 buckets (chains of two and more, whatever the seed): each found again; purging every other one by key leaves the rest found
--- http_config
gw_cache_zone c size=128k;
--- config
location /t {
    gw_cache c;
    gw_cache_key $uri;
    gw_cache_valid 10s;
    proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/backend;
}
location /backend {
    return 200 "ok\n";
}
location = /purge {
    gw_cache_purge c;
}
--- request eval
[(map { "GET /t/$_" } 1 .. 120), (map { "GET /t/$_" } 1 .. 120),
 (map { "GET /purge?key=/t/" . (2 * $_) } 1 .. 60),
 (map { "GET /t/$_" } 1 .. 120)]
--- response_body eval
[("ok\n") x 240, ("{\"purged\":1}\n") x 60, ("ok\n") x 120]
--- response_headers eval
[("X-Cache-Status: MISS") x 120, ("X-Cache-Status: HIT") x 120,
 ("") x 60,
 (map { $_ % 2 ? "X-Cache-Status: HIT" : "X-Cache-Status: MISS" } 1 .. 120)]
--- no_error_log
[error]
[alert]
[crit]

use Test::Nginx::Socket 'no_plan';

no_shuffle();

run_tests();

__DATA__

=== TEST 1: ngx_gw_metrics counts each part's outcome from $gw_compose_parts
--- http_config
gw_metrics_zone m size=1m;
--- config
location = /shop {
    gw_compose;
    gw_compose_part product /_p;
    gw_compose_part reviews /_r optional;
    gw_compose_part html /_h optional;
    gw_compose_part seller "/_s/{reviews.id}" optional;
    gw_metrics on route=shop;
}
location = /_p { return 200 '{"id":1}'; }
location = /_r { return 503; }
location = /_h { return 200 '<html>'; }
location /_s/ { return 200 '{}'; }
location = /metrics {
    gw_metrics_show;
}
--- request eval
["GET /shop", "GET /shop", "GET /metrics"]
--- response_body_like eval
[qr/^\{"product":\{"id":1\},"reviews":null,"html":null,"seller":null\}$/,
 qr/^\{"product":/,
 qr/^(?=[\s\S]*^gw_compose_parts_total\{route="shop",part="product",result="200"\} 2$)(?=[\s\S]*^gw_compose_parts_total\{route="shop",part="reviews",result="503"\} 2$)(?=[\s\S]*^gw_compose_parts_total\{route="shop",part="html",result="200:invalid_json"\} 2$)(?=[\s\S]*^gw_compose_parts_total\{route="shop",part="seller",result="-:skipped"\} 2$)/m]
--- no_error_log
[alert]
[emerg]

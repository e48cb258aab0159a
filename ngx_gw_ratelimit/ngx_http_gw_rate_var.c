
/*
 * Copyright (C) ngx_gw authors
 *
 * Variables ($gw_rate_*, $gw_quota_remaining) and the gw_rate_usage
 * report.
 */


#include "ngx_http_gw_ratelimit.h"


#define NGX_HTTP_GW_RATE_VAR_STATUS     0
#define NGX_HTTP_GW_RATE_VAR_REMAINING  1
#define NGX_HTTP_GW_RATE_VAR_RESET      2
#define NGX_HTTP_GW_RATE_VAR_POLICY     3
#define NGX_HTTP_GW_RATE_VAR_QUOTA      4


static ngx_int_t ngx_http_gw_rate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_gw_rate_instances_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_gw_rate_usage_policies(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_str_t *key, ngx_buf_t *b);
static ngx_int_t ngx_http_gw_rate_usage_zones(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_buf_t *b);
static ngx_uint_t ngx_http_gw_rate_seen(ngx_http_gw_rate_limit_t *policies,
    ngx_uint_t n);


static ngx_http_variable_t  ngx_http_gw_rate_vars[] = {

    { ngx_string("gw_rate_status"), NULL, ngx_http_gw_rate_variable,
      NGX_HTTP_GW_RATE_VAR_STATUS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_rate_remaining"), NULL, ngx_http_gw_rate_variable,
      NGX_HTTP_GW_RATE_VAR_REMAINING, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_rate_reset"), NULL, ngx_http_gw_rate_variable,
      NGX_HTTP_GW_RATE_VAR_RESET, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_rate_policy"), NULL, ngx_http_gw_rate_variable,
      NGX_HTTP_GW_RATE_VAR_POLICY, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_quota_remaining"), NULL, ngx_http_gw_rate_variable,
      NGX_HTTP_GW_RATE_VAR_QUOTA, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_rate_instances"), NULL,
      ngx_http_gw_rate_instances_variable, 0, NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_gw_rate_status_names[] = {
    ngx_null_string,
    ngx_string("PASSED"),
    ngx_string("REJECTED"),
    ngx_string("DRY_RUN_REJECTED"),
    ngx_string("EXEMPT")
};


ngx_int_t
ngx_http_gw_rate_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_gw_rate_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


/*
 * The nginx instances sharing the Redis of gw_rate_redis, as last counted
 * (0 before the first count); not found without Redis or with shares=off.
 */

static ngx_int_t
ngx_http_gw_rate_instances_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                        *p;
    ngx_uint_t                     i;
    ngx_http_gw_rate_zone_t      **zones;
    ngx_http_gw_rate_main_conf_t  *rmcf;

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_gw_ratelimit_module);

    zones = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        if (zones[i]->sync) {
            break;
        }
    }

    if (i == rmcf->zones.nelts || !rmcf->redis->shares) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_ATOMIC_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->len = ngx_sprintf(p, "%uA", zones[i]->sh->instances) - p;
    v->data = p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_rate_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                     *p;
    ngx_http_gw_rate_ctx_t     *ctx;
    ngx_http_gw_rate_result_t  *res;

    ctx = ngx_http_gw_rate_get_ctx(r->main);

    if (ctx == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    if (data == NGX_HTTP_GW_RATE_VAR_STATUS) {
        v->len = ngx_http_gw_rate_status_names[ctx->status].len;
        v->data = ngx_http_gw_rate_status_names[ctx->status].data;
        return NGX_OK;
    }

    res = ngx_http_gw_rate_closest(ctx, data == NGX_HTTP_GW_RATE_VAR_QUOTA
                                        ? NGX_HTTP_GW_QUOTA : 0);

    if (res == NULL) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (data == NGX_HTTP_GW_RATE_VAR_POLICY) {
        v->len = res->limit->name.len;
        v->data = res->limit->name.data;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = ngx_sprintf(p, "%uL", data == NGX_HTTP_GW_RATE_VAR_RESET
                                   ? res->reset : res->remaining)
             - p;

    return NGX_OK;
}


/*
 * gw_rate_usage: GET ?key=<key> reports that key's usage of every policy
 * (nodes keep a hash of the key, not the key, so keys are not listed);
 * without key=, the zones and policies.
 */

ngx_int_t
ngx_http_gw_rate_usage_handler(ngx_http_request_t *r)
{
    size_t                         size;
    u_char                        *dst, *src;
    ngx_int_t                      rc;
    ngx_str_t                      arg, key;
    ngx_buf_t                     *b;
    ngx_chain_t                    out;
    ngx_http_gw_problem_t          problem;
    ngx_http_gw_rate_main_conf_t  *rmcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
        problem.status = NGX_HTTP_NOT_ALLOWED;
        ngx_str_set(&problem.detail, "gw_rate_usage answers GET and HEAD");
        return ngx_http_gw_problem_send(r, &problem);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_gw_ratelimit_module);

    ngx_str_null(&key);

    if (ngx_http_arg(r, (u_char *) "key", 3, &arg) == NGX_OK) {
        key.data = ngx_pnalloc(r->pool, arg.len);
        if (key.data == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        src = arg.data;
        dst = key.data;
        ngx_unescape_uri(&dst, &src, arg.len, NGX_UNESCAPE_URI);
        key.len = dst - key.data;

        if (key.len == 0) {
            ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
            problem.status = NGX_HTTP_BAD_REQUEST;
            ngx_str_set(&problem.detail, "empty key");
            return ngx_http_gw_problem_send(r, &problem);
        }
    }

    size = 256 + 4 * key.len
           + rmcf->policies.nelts * (256 + 64 + 6 * NGX_INT64_LEN)
           + rmcf->zones.nelts * (128 + 32 + 4 * NGX_INT64_LEN);

    b = ngx_create_temp_buf(r->pool, size);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (key.len) {
        rc = ngx_http_gw_rate_usage_policies(r, rmcf, &key, b);

    } else {
        rc = ngx_http_gw_rate_usage_zones(r, rmcf, b);
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b->last_buf = 1;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/* a policy shared by several locations is listed once */

static ngx_uint_t
ngx_http_gw_rate_seen(ngx_http_gw_rate_limit_t *policies, ngx_uint_t n)
{
    ngx_uint_t  i;

    for (i = 0; i < n; i++) {
        if (policies[i].id == policies[n].id
            && policies[i].zone == policies[n].zone)
        {
            return 1;
        }
    }

    return 0;
}


static ngx_int_t
ngx_http_gw_rate_usage_policies(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_str_t *key, ngx_buf_t *b)
{
    uint64_t                    capacity, remaining, reset;
    ngx_uint_t                  i, n;
    ngx_http_gw_rate_limit_t   *policies, *limit;
    ngx_http_gw_rate_result_t   res;

    b->last = ngx_cpymem(b->last, "{\"key\":\"", sizeof("{\"key\":\"") - 1);
    b->last = (u_char *) ngx_escape_json(b->last, key->data, key->len);
    b->last = ngx_cpymem(b->last, "\",\"policies\":[",
                         sizeof("\",\"policies\":[") - 1);

    policies = rmcf->policies.elts;
    n = 0;

    for (i = 0; i < rmcf->policies.nelts; i++) {

        if (ngx_http_gw_rate_seen(policies, i)) {
            continue;
        }

        limit = &policies[i];

        ngx_memzero(&res, sizeof(ngx_http_gw_rate_result_t));
        res.limit = limit;
        res.hash = ngx_http_gw_rate_hash(limit->id, key->data, key->len);
        res.report = 1;

        ngx_shmtx_lock(&limit->zone->shpool->mutex);

        res.node = ngx_http_gw_rate_lookup(limit->zone, res.hash);

        ngx_http_gw_rate_evaluate(rmcf, &res);

        ngx_shmtx_unlock(&limit->zone->shpool->mutex);

        remaining = res.rejected ? 0 : res.now_remaining;
        reset = res.rejected ? res.reset : res.now_reset;
        capacity = (limit->kind == NGX_HTTP_GW_RATE) ? limit->burst
                                                     : limit->limit;

        b->last = ngx_sprintf(b->last,
                              "%s{\"name\":\"%V\",\"type\":\"%s\","
                              "\"zone\":\"%V\",\"limit\":%uL,"
                              "\"capacity\":%uL,\"window\":%uL,"
                              "\"used\":%uL,\"remaining\":%uL,\"reset\":%uL}",
                              n++ ? "," : "", &limit->name,
                              limit->kind == NGX_HTTP_GW_RATE
                              ? "rate" : "quota",
                              &limit->zone->shm_zone->shm.name,
                              limit->limit, capacity, res.window,
                              capacity - remaining, remaining, reset);
    }

    b->last = ngx_cpymem(b->last, "]}\n", 3);

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_rate_usage_zones(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_buf_t *b)
{
    ngx_uint_t                  i, n;
    ngx_http_gw_rate_zone_t   **zones;
    ngx_http_gw_rate_limit_t   *policies, *limit;

    b->last = ngx_cpymem(b->last, "{\"zones\":[", sizeof("{\"zones\":[") - 1);

    zones = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        b->last = ngx_sprintf(b->last,
                              "%s{\"name\":\"%V\",\"size\":%uz,"
                              "\"keys\":%uA,\"evicted\":%uA}",
                              i ? "," : "", &zones[i]->shm_zone->shm.name,
                              zones[i]->shm_zone->shm.size,
                              zones[i]->sh->nodes, zones[i]->sh->evicted);
    }

    b->last = ngx_cpymem(b->last, "],\"policies\":[",
                         sizeof("],\"policies\":[") - 1);

    policies = rmcf->policies.elts;
    n = 0;

    for (i = 0; i < rmcf->policies.nelts; i++) {

        if (ngx_http_gw_rate_seen(policies, i)) {
            continue;
        }

        limit = &policies[i];

        b->last = ngx_sprintf(b->last,
                              "%s{\"name\":\"%V\",\"type\":\"%s\","
                              "\"zone\":\"%V\",\"limit\":%uL,"
                              "\"capacity\":%uL,\"window\":%uL}",
                              n++ ? "," : "", &limit->name,
                              limit->kind == NGX_HTTP_GW_RATE
                              ? "rate" : "quota",
                              &limit->zone->shm_zone->shm.name,
                              limit->limit,
                              limit->kind == NGX_HTTP_GW_RATE
                              ? limit->burst : limit->limit,
                              limit->window);
    }

    b->last = ngx_cpymem(b->last, "]}\n", 3);

    return NGX_OK;
}

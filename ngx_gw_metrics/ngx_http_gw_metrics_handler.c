
/*
 * Copyright (C) ngx_gw authors
 *
 * The log-phase handler: finds the request's series in the shared zone
 * without a lock and counts with atomic additions.  Only the first sight of
 * a series takes the zone's mutex, to link it in.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_metrics_module.h"


typedef struct {
    ngx_http_request_t           *request;
    ngx_http_gw_metrics_zone_t   *zone;
    u_char                       *route;       /* encoded route label */
    size_t                        route_len;
    u_char                       *extra;       /* encoded extra labels */
    size_t                        extra_len;
} ngx_http_gw_metrics_ctx_t;


static ngx_int_t ngx_http_gw_metrics_labels(ngx_http_request_t *r,
    ngx_http_gw_metrics_loc_conf_t *mlcf, ngx_http_gw_metrics_ctx_t *ctx);
static ngx_uint_t ngx_http_gw_metrics_status(ngx_http_request_t *r);
static void ngx_http_gw_metrics_route(ngx_http_request_t *r,
    ngx_http_gw_metrics_ctx_t *ctx, ngx_uint_t status);
static void ngx_http_gw_metrics_requests(ngx_http_request_t *r,
    ngx_http_gw_metrics_ctx_t *ctx, ngx_uint_t status);
static void ngx_http_gw_metrics_outcomes(ngx_http_request_t *r,
    ngx_http_gw_metrics_main_conf_t *mcf, ngx_http_gw_metrics_ctx_t *ctx);
static void ngx_http_gw_metrics_compose(ngx_http_request_t *r,
    ngx_http_gw_metrics_main_conf_t *mcf, ngx_http_gw_metrics_ctx_t *ctx);
static ngx_http_gw_metrics_node_t *ngx_http_gw_metrics_locate(
    ngx_http_gw_metrics_ctx_t *ctx, ngx_uint_t kind, ngx_str_t *names,
    ngx_str_t *values, ngx_uint_t n);
static size_t ngx_http_gw_metrics_overflow_key(u_char *key, size_t len,
    u_char *buf);
static void ngx_http_gw_metrics_observe(ngx_atomic_t *slots, uint64_t *bounds,
    ngx_uint_t nbuckets, ngx_msec_int_t ms);
static ngx_int_t ngx_http_gw_metrics_variable(ngx_http_request_t *r,
    ngx_http_gw_metrics_var_t *var, ngx_str_t *value);


static ngx_str_t  ngx_http_gw_metrics_route_name = ngx_string("route");
static ngx_str_t  ngx_http_gw_metrics_method_name = ngx_string("method");
static ngx_str_t  ngx_http_gw_metrics_code_name = ngx_string("code");
static ngx_str_t  ngx_http_gw_metrics_result_name = ngx_string("result");
static ngx_str_t  ngx_http_gw_metrics_status_name = ngx_string("status");
static ngx_str_t  ngx_http_gw_metrics_part_name = ngx_string("part");
static ngx_str_t  ngx_http_gw_metrics_other_method = ngx_string("OTHER");


ngx_int_t
ngx_http_gw_metrics_log_handler(ngx_http_request_t *r)
{
    ngx_uint_t                        status;
    ngx_http_gw_metrics_ctx_t         ctx;
    ngx_http_gw_metrics_loc_conf_t   *mlcf;
    ngx_http_gw_metrics_main_conf_t  *mcf;
    u_char                            route[NGX_HTTP_GW_METRICS_LABEL_SIZE];
    u_char                            extra[NGX_HTTP_GW_METRICS_MAX_LABELS
                                            * NGX_HTTP_GW_METRICS_LABEL_SIZE];

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_metrics_module);

    if (!mlcf->enable || mlcf->zone == NULL) {
        return NGX_OK;
    }

    ctx.request = r;
    ctx.zone = mlcf->zone->data;

    if (ctx.zone->sh == NULL) {
        return NGX_OK;
    }

    ctx.route = route;
    ctx.extra = extra;

    if (ngx_http_gw_metrics_labels(r, mlcf, &ctx) != NGX_OK) {
        return NGX_OK;
    }

    status = ngx_http_gw_metrics_status(r);

    ngx_http_gw_metrics_route(r, &ctx, status);
    ngx_http_gw_metrics_requests(r, &ctx, status);

    /* the other modules' outcomes, when they are loaded and took part */

    mcf = ngx_http_get_module_main_conf(r, ngx_http_gw_metrics_module);

    ngx_http_gw_metrics_outcomes(r, mcf, &ctx);
    ngx_http_gw_metrics_compose(r, mcf, &ctx);

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_metrics_labels(ngx_http_request_t *r,
    ngx_http_gw_metrics_loc_conf_t *mlcf, ngx_http_gw_metrics_ctx_t *ctx)
{
    u_char                        *p;
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_gw_metrics_label_t   *label;

    /* the labels every request family has: route, then the extra ones */

    if (mlcf->route) {
        if (ngx_http_complex_value(r, mlcf->route, &value) != NGX_OK) {
            return NGX_ERROR;
        }

    } else {
        clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
        value = clcf->name;
    }

    p = ngx_http_gw_metrics_encode_label(ctx->route,
                                         &ngx_http_gw_metrics_route_name,
                                         value.data, value.len);
    ctx->route_len = p - ctx->route;

    p = ctx->extra;

    if (mlcf->labels) {
        label = mlcf->labels->elts;

        for (i = 0; i < mlcf->labels->nelts; i++) {
            if (ngx_http_complex_value(r, &label[i].value, &value) != NGX_OK)
            {
                return NGX_ERROR;
            }

            p = ngx_http_gw_metrics_encode_label(p, &label[i].name,
                                                 value.data, value.len);
        }
    }

    ctx->extra_len = p - ctx->extra;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_gw_metrics_status(ngx_http_request_t *r)
{
    ngx_uint_t  status;

    /* what $status shows */

    if (r->err_status) {
        status = r->err_status;

    } else if (r->headers_out.status) {
        status = r->headers_out.status;

    } else if (r->http_version == NGX_HTTP_VERSION_9) {
        status = 9;

    } else {
        status = 0;
    }

    return ngx_min(status, 999);
}


static void
ngx_http_gw_metrics_route(ngx_http_request_t *r,
    ngx_http_gw_metrics_ctx_t *ctx, ngx_uint_t status)
{
    ngx_uint_t                   i, nb;
    ngx_time_t                  *tp;
    ngx_atomic_t                *v;
    ngx_msec_int_t               ms, ums;
    ngx_http_upstream_state_t   *state;
    ngx_http_gw_metrics_node_t  *node;

    /* the route series: histograms, bytes and usage */

    node = ngx_http_gw_metrics_locate(ctx, NGX_HTTP_GW_METRICS_ROUTE,
                                      NULL, NULL, 0);
    if (node == NULL) {
        return;
    }

    tp = ngx_timeofday();

    ms = (ngx_msec_int_t)
             ((tp->sec - r->start_sec) * 1000 + (tp->msec - r->start_msec));
    ms = ngx_max(ms, 0);

    ums = -1;

    if (r->upstream_states) {
        state = r->upstream_states->elts;

        for (i = 0; i < r->upstream_states->nelts; i++) {
            if (state[i].peer == NULL
                || state[i].response_time == (ngx_msec_t) -1)
            {
                continue;
            }

            ums = (ums == -1) ? 0 : ums;
            ums += state[i].response_time;
        }
    }

    nb = ctx->zone->sh->nbuckets;
    v = node->values;

    ngx_http_gw_metrics_observe(&v[NGX_HTTP_GW_METRICS_DUR(nb)],
                                ctx->zone->sh->buckets, nb, ms);
    (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_DUR_SUM(nb)],
                                (ngx_atomic_int_t) ms * 1000);

    if (ums >= 0) {
        ngx_http_gw_metrics_observe(&v[NGX_HTTP_GW_METRICS_UP(nb)],
                                    ctx->zone->sh->buckets, nb, ums);
        (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_UP_SUM(nb)],
                                    (ngx_atomic_int_t) ums * 1000);
    }

    (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_REQ_BYTES(nb)],
                                (ngx_atomic_int_t) r->request_length);
    (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_RESP_BYTES(nb)],
                                (ngx_atomic_int_t) r->connection->sent);
    (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_NREQUESTS(nb)], 1);

    if (status >= 500) {
        (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_ERR5(nb)], 1);

    } else if (status >= 400) {
        (void) ngx_atomic_fetch_add(&v[NGX_HTTP_GW_METRICS_ERR4(nb)], 1);
    }

    v[NGX_HTTP_GW_METRICS_LAST_SEEN(nb)] = (ngx_atomic_uint_t) tp->sec;
}


static void
ngx_http_gw_metrics_requests(ngx_http_request_t *r,
    ngx_http_gw_metrics_ctx_t *ctx, ngx_uint_t status)
{
    ngx_str_t                    names[2], values[2];
    ngx_http_gw_metrics_node_t  *node;
    u_char                       code[NGX_INT_T_LEN];

    /* gw_http_requests_total{route,method,code} */

    names[0] = ngx_http_gw_metrics_method_name;
    names[1] = ngx_http_gw_metrics_code_name;

    if (r->method == NGX_HTTP_UNKNOWN || r->method_name.len == 0) {
        values[0] = ngx_http_gw_metrics_other_method;

    } else {
        values[0] = r->method_name;
    }

    values[1].data = code;
    values[1].len = ngx_sprintf(code, "%03ui", status) - code;

    node = ngx_http_gw_metrics_locate(ctx, NGX_HTTP_GW_METRICS_REQUESTS,
                                      names, values, 2);
    if (node) {
        (void) ngx_atomic_fetch_add(&node->values[0], 1);
    }
}


static void
ngx_http_gw_metrics_outcomes(ngx_http_request_t *r,
    ngx_http_gw_metrics_main_conf_t *mcf, ngx_http_gw_metrics_ctx_t *ctx)
{
    ngx_str_t                    names[2], values[2];
    ngx_http_gw_metrics_var_t   *var;
    ngx_http_gw_metrics_node_t  *node;

    /* $gw_auth_result and method, $gw_rate_status, $gw_cache_status */

    var = mcf->vars;

    if (ngx_http_gw_metrics_variable(r,
                                 &var[NGX_HTTP_GW_METRICS_VAR_AUTH_RESULT],
                                 &values[1])
        == NGX_OK)
    {
        names[0] = ngx_http_gw_metrics_method_name;
        names[1] = ngx_http_gw_metrics_result_name;

        if (ngx_http_gw_metrics_variable(r,
                                 &var[NGX_HTTP_GW_METRICS_VAR_AUTH_METHOD],
                                 &values[0])
            != NGX_OK)
        {
            ngx_str_set(&values[0], "none");
        }

        node = ngx_http_gw_metrics_locate(ctx, NGX_HTTP_GW_METRICS_AUTH,
                                          names, values, 2);
        if (node) {
            (void) ngx_atomic_fetch_add(&node->values[0], 1);
        }
    }

    if (ngx_http_gw_metrics_variable(r,
                                 &var[NGX_HTTP_GW_METRICS_VAR_RATE_STATUS],
                                 &values[0])
        == NGX_OK)
    {
        node = ngx_http_gw_metrics_locate(ctx, NGX_HTTP_GW_METRICS_RATE,
                                          &ngx_http_gw_metrics_result_name,
                                          values, 1);
        if (node) {
            (void) ngx_atomic_fetch_add(&node->values[0], 1);
        }
    }

    if (ngx_http_gw_metrics_variable(r,
                                 &var[NGX_HTTP_GW_METRICS_VAR_CACHE_STATUS],
                                 &values[0])
        == NGX_OK)
    {
        node = ngx_http_gw_metrics_locate(ctx, NGX_HTTP_GW_METRICS_CACHE,
                                          &ngx_http_gw_metrics_status_name,
                                          values, 1);
        if (node) {
            (void) ngx_atomic_fetch_add(&node->values[0], 1);
        }
    }
}


static void
ngx_http_gw_metrics_compose(ngx_http_request_t *r,
    ngx_http_gw_metrics_main_conf_t *mcf, ngx_http_gw_metrics_ctx_t *ctx)
{
    ngx_str_t                    value, names[2], values[2];
    ngx_uint_t                   i, n;
    ngx_http_gw_metrics_node_t  *node;
    ngx_http_gw_metrics_part_t   parts[NGX_HTTP_GW_METRICS_MAX_PARTS];

    /* $gw_compose_parts: "name:result ..." */

    if (ngx_http_gw_metrics_variable(r,
                         &mcf->vars[NGX_HTTP_GW_METRICS_VAR_COMPOSE_PARTS],
                         &value)
        != NGX_OK)
    {
        return;
    }

    n = ngx_http_gw_metrics_parse_parts(value.data, value.len, parts,
                                        NGX_HTTP_GW_METRICS_MAX_PARTS);

    names[0] = ngx_http_gw_metrics_part_name;
    names[1] = ngx_http_gw_metrics_result_name;

    for (i = 0; i < n; i++) {
        values[0] = parts[i].name;
        values[1] = parts[i].result;

        node = ngx_http_gw_metrics_locate(ctx, NGX_HTTP_GW_METRICS_COMPOSE,
                                          names, values, 2);
        if (node) {
            (void) ngx_atomic_fetch_add(&node->values[0], 1);
        }
    }
}


static ngx_int_t
ngx_http_gw_metrics_variable(ngx_http_request_t *r,
    ngx_http_gw_metrics_var_t *var, ngx_str_t *value)
{
    ngx_http_variable_value_t  *vv;

    if (var->index != NGX_ERROR) {
        vv = ngx_http_get_indexed_variable(r, var->index);

    } else if (var->by_name) {
        vv = ngx_http_get_variable(r, &var->name, var->key);

    } else {
        return NGX_DECLINED;
    }

    if (vv == NULL || vv->not_found || vv->len == 0) {
        return NGX_DECLINED;
    }

    value->data = vv->data;
    value->len = vv->len;

    return NGX_OK;
}


static void
ngx_http_gw_metrics_observe(ngx_atomic_t *slots, uint64_t *bounds,
    ngx_uint_t nbuckets, ngx_msec_int_t ms)
{
    uint64_t    us;
    ngx_uint_t  i;

    us = (uint64_t) ms * 1000;

    /* "le": a bound counts the observations less than or equal to it */

    for (i = 0; i < nbuckets; i++) {
        if (us <= bounds[i]) {
            break;
        }
    }

    (void) ngx_atomic_fetch_add(&slots[i], 1);
}


/*
 * The series of a family for the request, created on first sight.  When
 * the zone has max_series series (or no memory left) the request is counted
 * in the family's series whose labels are all "__overflow__".
 */

static ngx_http_gw_metrics_node_t *
ngx_http_gw_metrics_locate(ngx_http_gw_metrics_ctx_t *ctx, ngx_uint_t kind,
    ngx_str_t *names, ngx_str_t *values, ngx_uint_t n)
{
    u_char                      *p;
    size_t                       len;
    ngx_uint_t                   i;
    ngx_http_gw_metrics_node_t  *node;
    u_char                       key[NGX_HTTP_GW_METRICS_KEY_SIZE];
    u_char                       okey[NGX_HTTP_GW_METRICS_KEY_SIZE];

    p = key;
    *p++ = (u_char) kind;
    p = ngx_cpymem(p, ctx->route, ctx->route_len);

    for (i = 0; i < n; i++) {
        p = ngx_http_gw_metrics_encode_label(p, &names[i], values[i].data,
                                             values[i].len);
    }

    p = ngx_cpymem(p, ctx->extra, ctx->extra_len);

    node = ngx_http_gw_metrics_series(ctx->zone, key, p - key, 0);
    if (node) {
        return node;
    }

    len = ngx_http_gw_metrics_overflow_key(key, p - key, okey);

    node = ngx_http_gw_metrics_series(ctx->zone, okey, len, 1);
    if (node == NULL) {
        return NULL;
    }

    (void) ngx_atomic_fetch_add(&ctx->zone->sh->overflowed, 1);

    if (!ctx->zone->warned_overflow) {
        ctx->zone->warned_overflow = 1;

        ngx_log_error(NGX_LOG_WARN, ctx->request->connection->log, 0,
                      "gw_metrics_zone \"%V\" holds max_series=%ui series "
                      "or is full; new series are counted under "
                      "\"" NGX_HTTP_GW_METRICS_OVERFLOW "\"",
                      &ctx->zone->name, ctx->zone->max_series);
    }

    return node;
}


static size_t
ngx_http_gw_metrics_overflow_key(u_char *key, size_t len, u_char *buf)
{
    u_char     *p, *last;
    ngx_str_t   name, value;

    p = buf;
    *p++ = key[0];

    last = key + len;
    key++;

    for ( ;; ) {
        key = ngx_http_gw_metrics_next_label(key, last, &name, &value);
        if (key == NULL) {
            break;
        }

        p = ngx_http_gw_metrics_encode_label(p, &name,
                                 (u_char *) NGX_HTTP_GW_METRICS_OVERFLOW,
                                 sizeof(NGX_HTTP_GW_METRICS_OVERFLOW) - 1);
    }

    return p - buf;
}


ngx_http_gw_metrics_node_t *
ngx_http_gw_metrics_series(ngx_http_gw_metrics_zone_t *zone, u_char *key,
    size_t len, ngx_uint_t overflow)
{
    size_t                        size;
    uint32_t                      hash;
    ngx_uint_t                    nvalues;
    ngx_http_gw_metrics_node_t   *node, **head;
    ngx_http_gw_metrics_shctx_t  *sh;

    sh = zone->sh;

    hash = ngx_murmur_hash2(key, len);
    head = &sh->heads[hash & (sh->nheads - 1)];

    for (node = *(ngx_http_gw_metrics_node_t * volatile *) head;
         node;
         node = node->next)
    {
        if (node->hash == hash
            && node->len == len
            && ngx_memcmp(ngx_http_gw_metrics_node_key(node), key, len) == 0)
        {
            return node;
        }
    }

    /* first sight: link a new series in, under the zone's mutex */

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (node = *head; node; node = node->next) {
        if (node->hash == hash
            && node->len == len
            && ngx_memcmp(ngx_http_gw_metrics_node_key(node), key, len) == 0)
        {
            ngx_shmtx_unlock(&zone->shpool->mutex);
            return node;
        }
    }

    if (!overflow && sh->nseries >= zone->max_series) {
        ngx_shmtx_unlock(&zone->shpool->mutex);
        return NULL;
    }

    nvalues = (key[0] == NGX_HTTP_GW_METRICS_ROUTE)
              ? NGX_HTTP_GW_METRICS_ROUTE_VALUES(sh->nbuckets) : 1;

    size = offsetof(ngx_http_gw_metrics_node_t, values)
           + nvalues * sizeof(ngx_atomic_t) + len;

    node = ngx_slab_calloc_locked(zone->shpool, size);
    if (node == NULL) {
        ngx_shmtx_unlock(&zone->shpool->mutex);

        if (overflow) {
            (void) ngx_atomic_fetch_add(&sh->dropped, 1);

            if (!zone->warned_full) {
                zone->warned_full = 1;

                ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                              "gw_metrics_zone \"%V\" is full, "
                              "updates are dropped and counted in "
                              "gw_metrics_updates_dropped_total",
                              &zone->name);
            }
        }

        return NULL;
    }

    node->hash = hash;
    node->len = (uint16_t) len;
    node->nvalues = (uint16_t) nvalues;
    ngx_memcpy(ngx_http_gw_metrics_node_key(node), key, len);
    node->next = *head;

    /* readers that find the node see it complete */
    ngx_memory_barrier();

    *head = node;

    if (!overflow) {
        sh->nseries++;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return node;
}


/*
 * A label in a series key: the name's length (one byte), the name, the
 * value's length (two bytes) and the value.  The value is cut to
 * NGX_HTTP_GW_METRICS_MAX_VALUE bytes on a character boundary and bytes
 * that are not UTF-8 become "?", as Prometheus requires UTF-8.
 */

u_char *
ngx_http_gw_metrics_encode_label(u_char *p, ngx_str_t *name, u_char *value,
    size_t len)
{
    u_char    *start, *next, *last, *v;
    size_t     n;
    uint32_t   ch;

    *p++ = (u_char) name->len;
    p = ngx_cpymem(p, name->data, name->len);

    start = p + 2;
    v = start;
    last = value + len;

    while (value < last) {
        if (*value < 0x80) {
            if (v - start + 1 > NGX_HTTP_GW_METRICS_MAX_VALUE) {
                break;
            }

            *v++ = *value++;
            continue;
        }

        next = value;
        ch = ngx_utf8_decode(&next, last - value);

        if (ch > 0x10ffff) {
            if (v - start + 1 > NGX_HTTP_GW_METRICS_MAX_VALUE) {
                break;
            }

            *v++ = '?';
            value++;
            continue;
        }

        n = next - value;

        if (v - start + n > NGX_HTTP_GW_METRICS_MAX_VALUE) {
            break;
        }

        v = ngx_cpymem(v, value, n);
        value = next;
    }

    n = v - start;
    p[0] = (u_char) (n >> 8);
    p[1] = (u_char) (n & 0xff);

    return v;
}


u_char *
ngx_http_gw_metrics_next_label(u_char *p, u_char *last, ngx_str_t *name,
    ngx_str_t *value)
{
    if (p >= last) {
        return NULL;
    }

    name->len = *p++;
    name->data = p;
    p += name->len;

    value->len = (p[0] << 8) | p[1];
    value->data = p + 2;

    return p + 2 + value->len;
}


/*
 * $gw_compose_parts: "product=200, reviews=504".  Items without a name or
 * a result are skipped; at most "max" items are returned.
 */

ngx_uint_t
ngx_http_gw_metrics_parse_parts(u_char *p, size_t len,
    ngx_http_gw_metrics_part_t *parts, ngx_uint_t max)
{
    u_char      *last, *item, *end, *eq;
    ngx_uint_t   n;

    n = 0;
    last = p + len;

    while (p < last && n < max) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        item = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        while (end > item && (end[-1] == ' ' || end[-1] == '\t')) {
            end--;
        }

        eq = ngx_strlchr(item, end, '=');

        if (eq == NULL || eq == item || eq + 1 == end) {
            continue;
        }

        parts[n].name.data = item;
        parts[n].name.len = eq - item;
        parts[n].result.data = eq + 1;
        parts[n].result.len = end - eq - 1;

        while (parts[n].name.len
               && parts[n].name.data[parts[n].name.len - 1] == ' ')
        {
            parts[n].name.len--;
        }

        while (parts[n].result.len && parts[n].result.data[0] == ' ') {
            parts[n].result.data++;
            parts[n].result.len--;
        }

        if (parts[n].name.len == 0 || parts[n].result.len == 0) {
            continue;
        }

        n++;
    }

    return n;
}

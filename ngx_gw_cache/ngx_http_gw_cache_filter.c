/*
 * Copyright (C) ngx_gw authors
 *
 * The header and body filters: what may be stored (RFC 9111), capture of
 * the body into the zone's pages as it streams, revalidation answers
 * (304) and stale answers to backend errors replayed from the cache.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


/* what a response says about its caching */
typedef struct {
    ngx_http_gw_cache_cc_t        cc;
    time_t                        ttl;
    time_t                        age;
    ngx_str_t                     vary;
    ngx_str_t                     tags;
    unsigned                      explicit:1;
    unsigned                      set_cookie:1;
    unsigned                      vary_star:1;
    unsigned                      too_long:1;
} ngx_http_gw_cache_response_t;


static ngx_int_t ngx_http_gw_cache_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_cache_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);
static ngx_int_t ngx_http_gw_cache_decorate(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static void ngx_http_gw_cache_invalidate(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static ngx_int_t ngx_http_gw_cache_add_tags(ngx_pool_t *pool,
    ngx_http_gw_cache_response_t *rs, ngx_str_t *value);
static ngx_int_t ngx_http_gw_cache_analyze(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_http_gw_cache_response_t *rs);
static ngx_int_t ngx_http_gw_cache_decide(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx, ngx_uint_t *pass);
static ngx_int_t ngx_http_gw_cache_serialize(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_str_t *out);
static ngx_uint_t ngx_http_gw_cache_skip_header(
    ngx_http_gw_cache_loc_conf_t *conf, ngx_table_elt_t *h);
static ngx_int_t ngx_http_gw_cache_refresh(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static ngx_http_gw_cache_entry_t *ngx_http_gw_cache_update_locked(
    ngx_http_request_t *r, ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_entry_t *e, ngx_str_t *updates);
static u_char *ngx_http_gw_cache_skip_str(u_char *p, u_char *last);
static u_char *ngx_http_gw_cache_read_field(u_char *p, u_char *last,
    ngx_str_t *name, ngx_str_t *value);
static ngx_int_t ngx_http_gw_cache_take_stale(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static ngx_int_t ngx_http_gw_cache_capture(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx, ngx_buf_t *b);
static ngx_int_t ngx_http_gw_cache_append(ngx_http_gw_cache_ctx_t *ctx,
    u_char *p, size_t n);
static void ngx_http_gw_cache_abandon(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx, ngx_uint_t pass);
static void ngx_http_gw_cache_commit(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static size_t ngx_http_gw_cache_pairs_size(
    ngx_http_gw_cache_loc_conf_t *conf, ngx_list_t *headers,
    ngx_uint_t *count, ngx_uint_t *oversized);
static u_char *ngx_http_gw_cache_write_pairs(
    ngx_http_gw_cache_loc_conf_t *conf, ngx_list_t *headers, u_char *p);
static u_char *ngx_http_gw_cache_write_str(u_char *p, u_char *data,
    size_t len);
static ngx_uint_t ngx_http_gw_cache_default_cacheable(ngx_uint_t status);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_str_t  ngx_http_gw_cache_status_names[] = {
    ngx_null_string,
    ngx_string("MISS"),
    ngx_string("BYPASS"),
    ngx_string("EXPIRED"),
    ngx_string("STALE"),
    ngx_string("UPDATING"),
    ngx_string("REVALIDATED"),
    ngx_string("HIT")
};


/*
 * never stored: hop-by-hop fields, fields made anew, fields for us, and the
 * fields ngx_gw_ratelimit's header filter adds to each response, which
 * describe the client's request, not the content
 */
static ngx_str_t  ngx_http_gw_cache_skipped[] = {
    ngx_string("connection"),
    ngx_string("keep-alive"),
    ngx_string("proxy-connection"),
    ngx_string("te"),
    ngx_string("trailer"),
    ngx_string("transfer-encoding"),
    ngx_string("upgrade"),
    ngx_string("proxy-authenticate"),
    ngx_string("proxy-authorization"),
    ngx_string("content-length"),
    ngx_string("age"),
    ngx_string("date"),
    ngx_string("server"),
    ngx_string("set-cookie"),
    ngx_string("cdn-cache-control"),
    ngx_string("surrogate-control"),
    ngx_string("ratelimit"),
    ngx_string("ratelimit-policy"),
    ngx_string("x-ratelimit-limit"),
    ngx_string("x-ratelimit-remaining"),
    ngx_string("x-ratelimit-reset"),
    ngx_null_string
};


ngx_int_t
ngx_http_gw_cache_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_gw_cache_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_gw_cache_body_filter;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_header_filter(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_uint_t                status, pass, rerun;
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL) {
        return ngx_http_next_header_filter(r);
    }

    if (ctx->serving || ctx->rerun) {
        return ngx_http_gw_cache_decorate(r, ctx);
    }

    if (ctx->invalidate) {
        ngx_http_gw_cache_invalidate(r, ctx);
        return ngx_http_next_header_filter(r);
    }

    if (ctx->has_hit) {
        /*
         * A hit was found, but another handler answered (a rate limit's
         * 429 in the same phase): the response is not from the cache.
         */
        ctx->status = NGX_HTTP_GW_CACHE_NONE;
        ctx->has_hit = 0;
        ctx->update = 0;
        ngx_http_gw_cache_fetch_release(ctx, 0);

        return ngx_http_next_header_filter(r);
    }

    /* the client's conditional headers again, for the client's answer */

    rerun = ctx->headers_saved && r == r->main;
    ngx_http_gw_cache_restore_request(r, ctx);

    status = r->headers_out.status;

    if (ctx->revalidating && status == NGX_HTTP_NOT_MODIFIED) {

        rc = ngx_http_gw_cache_refresh(r, ctx);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            ctx->status = NGX_HTTP_GW_CACHE_REVALIDATED;

            if (ctx->updater) {
                return ngx_http_next_header_filter(r);
            }

            ctx->replay = 1;

            if (ngx_http_gw_cache_restore(r, ctx) != NGX_OK) {
                return NGX_ERROR;
            }

            goto done;
        }

        /* the entry went meanwhile: the 304 is all there is */
        ngx_http_gw_cache_fetch_release(ctx, 0);

        goto done;
    }

    if (ctx->stale_if_error
        && (status == NGX_HTTP_INTERNAL_SERVER_ERROR
            || status == NGX_HTTP_BAD_GATEWAY
            || status == NGX_HTTP_SERVICE_UNAVAILABLE
            || status == NGX_HTTP_GATEWAY_TIME_OUT))
    {
        rc = ngx_http_gw_cache_take_stale(r, ctx);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            ctx->status = NGX_HTTP_GW_CACHE_STALE;
            ctx->replay = 1;
            r->err_status = 0;

            if (ngx_http_gw_cache_restore(r, ctx) != NGX_OK) {
                return NGX_ERROR;
            }

            rerun = (r == r->main);
            goto done;
        }
    }

    pass = 0;

    if (ctx->store) {
        rc = ngx_http_gw_cache_decide(r, ctx, &pass);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            ctx->storing = 1;
            r->filter_need_in_memory = 1;
        }
    }

    if (!ctx->storing) {
        ngx_http_gw_cache_fetch_release(ctx, pass);
    }

done:

    if (rerun && !ctx->updater) {
        /* the not_modified filter answers the client's conditions */
        ctx->rerun = 1;
        return ngx_http_top_header_filter(r);
    }

    return ngx_http_gw_cache_decorate(r, ctx);
}


static void
ngx_http_gw_cache_invalidate(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    ngx_uint_t                 n;
    ngx_http_gw_cache_zone_t  *zone;

    ctx->invalidate = 0;

    if (r->headers_out.status < NGX_HTTP_OK
        || r->headers_out.status >= NGX_HTTP_BAD_REQUEST)
    {
        return;
    }

    zone = ctx->zone;

    ngx_shmtx_lock(&zone->shpool->mutex);
    n = ngx_http_gw_cache_purge_exact_locked(zone, &ctx->key);

    if (ctx->identity_key.len) {
        n += ngx_http_gw_cache_purge_exact_locked(zone, &ctx->identity_key);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "gw_cache: %ui invalidated by \"%V\"", n, &r->method_name);
}


static ngx_int_t
ngx_http_gw_cache_decorate(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx)
{
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_list_part_t               *part;
    ngx_table_elt_t               *h;
    ngx_http_gw_cache_loc_conf_t  *conf;

    if (ctx->decorated || ctx->updater) {
        return ngx_http_next_header_filter(r);
    }

    ctx->decorated = 1;

    conf = ngx_http_get_module_loc_conf(r, ngx_http_gw_cache_module);

    /* CDN-Cache-Control and Surrogate-Control were for this cache */

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if ((h[i].key.len == sizeof("cdn-cache-control") - 1
             && ngx_strncasecmp(h[i].key.data, (u_char *) "cdn-cache-control",
                                sizeof("cdn-cache-control") - 1) == 0)
            || (h[i].key.len == sizeof("surrogate-control") - 1
                && ngx_strncasecmp(h[i].key.data,
                                   (u_char *) "surrogate-control",
                                   sizeof("surrogate-control") - 1) == 0))
        {
            h[i].hash = 0;
        }
    }

    if (conf->status_header.len && ctx->status != NGX_HTTP_GW_CACHE_NONE) {
        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key = conf->status_header;
        h->lowcase_key = conf->status_header_lc.data;
        h->value = ngx_http_gw_cache_status_names[ctx->status];
    }

    if (conf->cdn_control) {
        if (ngx_http_complex_value(r, conf->cdn_control, &value) != NGX_OK) {
            return NGX_ERROR;
        }

        if (value.len) {
            h = ngx_list_push(&r->headers_out.headers);
            if (h == NULL) {
                return NGX_ERROR;
            }

            h->hash = 1;
            ngx_str_set(&h->key, "CDN-Cache-Control");
            h->lowcase_key = (u_char *) "cdn-cache-control";
            h->value = value;
        }
    }

    return ngx_http_next_header_filter(r);
}


/* Cache-Tag and Surrogate-Key: " tag tag ", at most MAX_TAGS bytes */

static ngx_int_t
ngx_http_gw_cache_add_tags(ngx_pool_t *pool,
    ngx_http_gw_cache_response_t *rs, ngx_str_t *value)
{
    if (rs->tags.data == NULL) {
        rs->tags.data = ngx_pnalloc(pool, NGX_HTTP_GW_CACHE_MAX_TAGS);
        if (rs->tags.data == NULL) {
            return NGX_ERROR;
        }
    }

    rs->tags.len += ngx_http_gw_cache_parse_tags(value->data, value->len,
                                            rs->tags.data + rs->tags.len,
                                            NGX_HTTP_GW_CACHE_MAX_TAGS
                                            - rs->tags.len);

    return NGX_OK;
}


/*
 * Reads the response's caching fields.  A targeted field (RFC 9213:
 * CDN-Cache-Control, else Surrogate-Control) replaces Cache-Control and
 * Expires for this cache.
 */

static ngx_int_t
ngx_http_gw_cache_analyze(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_http_gw_cache_response_t *rs)
{
    u_char                  *p;
    size_t                   n;
    time_t                   expires, date;
    ngx_uint_t               i, cdn, surrogate;
    ngx_list_part_t         *part;
    ngx_table_elt_t         *h, *expires_h, *age_h, *date_h;
    ngx_http_gw_cache_cc_t   cc, tcc, scc;

    ngx_memzero(rs, sizeof(ngx_http_gw_cache_response_t));

    ngx_http_gw_cache_cc_init(&cc);
    ngx_http_gw_cache_cc_init(&tcc);
    ngx_http_gw_cache_cc_init(&scc);

    cdn = 0;
    surrogate = 0;
    expires_h = NULL;
    age_h = NULL;
    date_h = NULL;

    /* the first pass: the size of the Vary names */

    n = 0;

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == 4
            && ngx_strncasecmp(h[i].key.data, (u_char *) "vary", 4) == 0)
        {
            n += h[i].value.len + 1;
        }
    }

    if (n > 65535) {
        rs->too_long = 1;
        return NGX_OK;
    }

    if (n) {
        rs->vary.data = ngx_pnalloc(r->pool, n);
        if (rs->vary.data == NULL) {
            return NGX_ERROR;
        }
    }

    part = &r->headers_out.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        switch (h[i].key.len) {

        case 3:
            if (ngx_strncasecmp(h[i].key.data, (u_char *) "age", 3) == 0) {
                age_h = &h[i];
            }
            break;

        case 4:
            if (ngx_strncasecmp(h[i].key.data, (u_char *) "vary", 4) == 0) {
                p = rs->vary.data + rs->vary.len;

                if (rs->vary.len) {
                    *p++ = ',';
                    rs->vary.len++;
                }

                if (ngx_http_gw_cache_parse_vary(h[i].value.data,
                                                 h[i].value.len, p, &n)
                    != NGX_OK)
                {
                    rs->vary_star = 1;
                    break;
                }

                rs->vary.len += n;

            } else if (ngx_strncasecmp(h[i].key.data, (u_char *) "date", 4)
                       == 0)
            {
                date_h = &h[i];
            }
            break;

        case 7:
            if (ngx_strncasecmp(h[i].key.data, (u_char *) "expires", 7) == 0)
            {
                expires_h = &h[i];
            }
            break;

        case 9:
            if (ngx_strncasecmp(h[i].key.data, (u_char *) "cache-tag", 9)
                == 0)
            {
                if (ngx_http_gw_cache_add_tags(r->pool, rs, &h[i].value)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
            break;

        case 10:
            if (ngx_strncasecmp(h[i].key.data, (u_char *) "set-cookie", 10)
                == 0)
            {
                rs->set_cookie = 1;
            }
            break;

        case 13:
            if (ngx_strncasecmp(h[i].key.data, (u_char *) "cache-control",
                                13)
                == 0)
            {
                ngx_http_gw_cache_parse_cc(h[i].value.data, h[i].value.len,
                                           &cc);

            } else if (ngx_strncasecmp(h[i].key.data,
                                       (u_char *) "surrogate-key", 13)
                       == 0)
            {
                if (ngx_http_gw_cache_add_tags(r->pool, rs, &h[i].value)
                    != NGX_OK)
                {
                    return NGX_ERROR;
                }
            }
            break;

        case 17:
            if (ngx_strncasecmp(h[i].key.data,
                                (u_char *) "cdn-cache-control", 17)
                == 0)
            {
                ngx_http_gw_cache_parse_cc(h[i].value.data, h[i].value.len,
                                           &tcc);
                cdn = 1;

            } else if (ngx_strncasecmp(h[i].key.data,
                                       (u_char *) "surrogate-control", 17)
                       == 0)
            {
                ngx_http_gw_cache_parse_cc(h[i].value.data, h[i].value.len,
                                           &scc);
                surrogate = 1;
            }
            break;
        }
    }

    if (cdn) {
        rs->cc = tcc;
        expires_h = NULL;

    } else if (surrogate) {
        rs->cc = scc;
        expires_h = NULL;

    } else {
        rs->cc = cc;
    }

    if (age_h) {
        rs->age = ngx_atotm(age_h->value.data, age_h->value.len);
        if (rs->age < 0) {
            rs->age = 0;
        }
    }

    /* s-maxage beats max-age beats Expires (RFC 9111 4.2.1) */

    rs->explicit = 1;

    if (rs->cc.s_maxage >= 0) {
        rs->ttl = rs->cc.s_maxage;

    } else if (rs->cc.max_age >= 0) {
        rs->ttl = rs->cc.max_age;

    } else if (expires_h) {
        expires = ngx_parse_http_time(expires_h->value.data,
                                      expires_h->value.len);

        date = NGX_ERROR;

        if (r->upstream && r->upstream->headers_in.date) {
            date_h = r->upstream->headers_in.date;
        }

        if (date_h) {
            date = ngx_parse_http_time(date_h->value.data, date_h->value.len);
        }

        if (date == NGX_ERROR) {
            date = ngx_time();
        }

        rs->ttl = (expires == NGX_ERROR || expires < date)
                  ? 0 : expires - date;

    } else {
        rs->explicit = 0;
        rs->ttl = ngx_http_gw_cache_valid(conf, r->headers_out.status);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_decide(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx,
    ngx_uint_t *pass)
{
    u_char                        *p;
    ngx_uint_t                     status, shared;
    ngx_http_gw_cache_capture_t   *cap;
    ngx_http_gw_cache_response_t   rs;
    ngx_http_gw_cache_loc_conf_t  *conf;

    conf = ngx_http_get_module_loc_conf(r, ngx_http_gw_cache_module);
    cap = &ctx->capture;
    status = r->headers_out.status;

    *pass = 1;

    if (r->headers_out.content_length_n > (off_t) ctx->zone->max_object) {
        return NGX_DECLINED;
    }

    if (conf->no_store) {
        switch (ngx_http_test_predicates(r, conf->no_store)) {

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_DECLINED:
            *pass = 0;
            return NGX_DECLINED;

        default: /* NGX_OK */
            break;
        }
    }

    if (ngx_http_gw_cache_analyze(r, conf, &rs) != NGX_OK) {
        return NGX_ERROR;
    }

    if (rs.too_long || rs.vary_star || rs.cc.no_store || rs.cc.private_) {
        return NGX_DECLINED;
    }

    shared = rs.cc.public_ || rs.cc.s_maxage >= 0 || rs.cc.must_revalidate;

    /* RFC 9111 3.5 */

    if (ctx->has_auth && !ctx->identity && !shared) {
        *pass = 0;
        return NGX_DECLINED;
    }

    /* cookies are one client's: stored (without them) only when public */

    if (rs.set_cookie && !(rs.cc.public_ || rs.cc.s_maxage >= 0)) {
        return NGX_DECLINED;
    }

    if (rs.explicit) {
        if (!ngx_http_gw_cache_default_cacheable(status)
            && ngx_http_gw_cache_valid(conf, status) == 0)
        {
            return NGX_DECLINED;
        }

    } else if (rs.ttl == 0) {
        return NGX_DECLINED;
    }

    /* validators */

    if (r->headers_out.etag && r->headers_out.etag->hash) {
        cap->etag = r->headers_out.etag->value;

    } else {
        cap->etag.len = 0;
    }

    if (r->headers_out.last_modified && r->headers_out.last_modified->hash) {
        cap->last_modified = r->headers_out.last_modified->value;

    } else if (r->headers_out.last_modified_time != -1) {
        p = ngx_pnalloc(r->pool, sizeof("Mon, 28 Sep 1970 06:00:00 GMT"));
        if (p == NULL) {
            return NGX_ERROR;
        }

        cap->last_modified.data = p;
        cap->last_modified.len = ngx_http_time(p,
                                     r->headers_out.last_modified_time) - p;

    } else {
        cap->last_modified.len = 0;
    }

    if (cap->etag.len > 1024 || cap->last_modified.len > 1024) {
        return NGX_DECLINED;
    }

    if (rs.ttl <= rs.age && cap->etag.len == 0
        && cap->last_modified.len == 0)
    {
        /* stale on arrival and nothing to revalidate with */
        return NGX_DECLINED;
    }

    cap->ttl = rs.ttl;
    cap->age = ngx_min(rs.age, rs.ttl);
    cap->status = status;
    cap->no_cache = rs.cc.no_cache;
    cap->no_stale = rs.cc.must_revalidate || rs.cc.proxy_revalidate
                    || rs.cc.s_maxage >= 0;
    cap->shared_auth = shared;
    cap->last_modified_time = r->headers_out.last_modified_time;

    cap->stale_revalidate = (rs.cc.stale_revalidate >= 0)
                            ? rs.cc.stale_revalidate
                            : conf->stale_revalidate;
    cap->stale_error = (rs.cc.stale_error >= 0) ? rs.cc.stale_error
                                                : conf->stale_error;

    cap->vary = rs.vary;
    cap->tags = rs.tags;

    if (rs.vary.len) {
        if (ngx_http_gw_cache_request_values(r, rs.vary.data, rs.vary.len,
                                             &cap->match)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }
    }

    if (ngx_http_gw_cache_serialize(r, conf, &cap->headers) != NGX_OK) {
        return NGX_DECLINED;
    }

    if (sizeof(ngx_http_gw_cache_entry_t) + cap->headers.len + cap->vary.len
        + cap->match.len + cap->tags.len + cap->etag.len
        + cap->last_modified.len
        > ctx->zone->max_object)
    {
        return NGX_DECLINED;
    }

    *pass = 0;

    return NGX_OK;
}


static ngx_uint_t
ngx_http_gw_cache_default_cacheable(ngx_uint_t status)
{
    /* RFC 9110 15.1: heuristically cacheable status codes, without 206 */

    switch (status) {
    case 200:
    case 203:
    case 204:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501:
        return 1;
    default:
        return 0;
    }
}


static ngx_uint_t
ngx_http_gw_cache_skip_header(ngx_http_gw_cache_loc_conf_t *conf,
    ngx_table_elt_t *h)
{
    ngx_str_t  *s;

    if (h->hash == 0) {
        return 1;
    }

    for (s = ngx_http_gw_cache_skipped; s->len; s++) {
        if (h->key.len == s->len
            && ngx_strncasecmp(h->key.data, s->data, s->len) == 0)
        {
            return 1;
        }
    }

    return conf->status_header.len
           && h->key.len == conf->status_header.len
           && ngx_strncasecmp(h->key.data, conf->status_header.data,
                              h->key.len) == 0;
}


static ngx_int_t
ngx_http_gw_cache_serialize(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_str_t *out)
{
    u_char                  *p;
    size_t                   size;
    uint16_t                 n;
    ngx_uint_t               count, oversized;
    ngx_http_headers_out_t  *ho;

    ho = &r->headers_out;

    if (ho->status_line.len > 65535 || ho->content_type.len > 65535
        || ho->charset.len > 65535)
    {
        return NGX_DECLINED;
    }

    size = 2 + ho->status_line.len + 2 + ho->content_type.len + 2
           + 2 + ho->charset.len + 2
           + ngx_http_gw_cache_pairs_size(conf, &ho->headers, &count,
                                          &oversized);

    if (oversized || count > 65535) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    p = ngx_http_gw_cache_write_str(p, ho->status_line.data,
                                    ho->status_line.len);
    p = ngx_http_gw_cache_write_str(p, ho->content_type.data,
                                    ho->content_type.len);
    n = (uint16_t) ngx_min(ho->content_type_len, ho->content_type.len);
    p = ngx_cpymem(p, &n, 2);
    p = ngx_http_gw_cache_write_str(p, ho->charset.data, ho->charset.len);
    n = (uint16_t) count;
    p = ngx_cpymem(p, &n, 2);

    p = ngx_http_gw_cache_write_pairs(conf, &ho->headers, p);

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * The headers a stored response keeps, as "name value" pairs, each string
 * a 16-bit length and the bytes.  A header longer than that fits is left
 * out of the pairs and counted apart.
 */

static size_t
ngx_http_gw_cache_pairs_size(ngx_http_gw_cache_loc_conf_t *conf,
    ngx_list_t *headers, ngx_uint_t *count, ngx_uint_t *oversized)
{
    size_t            size;
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    size = 0;
    *count = 0;
    *oversized = 0;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_gw_cache_skip_header(conf, &h[i])) {
            continue;
        }

        if (h[i].key.len > 65535 || h[i].value.len > 65535) {
            (*oversized)++;
            continue;
        }

        size += 2 + h[i].key.len + 2 + h[i].value.len;
        (*count)++;
    }

    return size;
}


static u_char *
ngx_http_gw_cache_write_pairs(ngx_http_gw_cache_loc_conf_t *conf,
    ngx_list_t *headers, u_char *p)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &headers->part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (ngx_http_gw_cache_skip_header(conf, &h[i])
            || h[i].key.len > 65535 || h[i].value.len > 65535)
        {
            continue;
        }

        p = ngx_http_gw_cache_write_str(p, h[i].key.data, h[i].key.len);
        p = ngx_http_gw_cache_write_str(p, h[i].value.data, h[i].value.len);
    }

    return p;
}


static u_char *
ngx_http_gw_cache_write_str(u_char *p, u_char *data, size_t len)
{
    uint16_t  n;

    n = (uint16_t) len;
    p = ngx_cpymem(p, &n, 2);

    return ngx_cpymem(p, data, len);
}


/* a 304 to our conditional request: the stored response is fresh again */

static ngx_int_t
ngx_http_gw_cache_refresh(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx)
{
    u_char                        *p;
    size_t                         size;
    time_t                         now;
    ngx_int_t                      rc;
    ngx_str_t                      updates;
    ngx_uint_t                     count, oversized;
    ngx_http_gw_cache_zone_t      *zone;
    ngx_http_gw_cache_node_t      *node;
    ngx_http_gw_cache_entry_t     *e;
    ngx_http_gw_cache_response_t   rs;
    ngx_http_gw_cache_loc_conf_t  *conf;

    conf = ngx_http_get_module_loc_conf(r, ngx_http_gw_cache_module);

    if (ngx_http_gw_cache_analyze(r, conf, &rs) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the 304's own fields, as "name value" pairs */

    size = ngx_http_gw_cache_pairs_size(conf, &r->headers_out.headers, &count,
                                        &oversized);

    updates.len = 0;
    updates.data = NULL;

    if (size) {
        updates.data = ngx_pnalloc(r->pool, size);
        if (updates.data == NULL) {
            return NGX_ERROR;
        }

        p = ngx_http_gw_cache_write_pairs(conf, &r->headers_out.headers,
                                          updates.data);

        updates.len = p - updates.data;
    }

    zone = ctx->zone;
    now = ngx_time();
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ctx->node ? ctx->node
                     : ngx_http_gw_cache_lookup_locked(zone, &ctx->key,
                                                       ctx->hash);

    if (node) {
        e = ngx_http_gw_cache_find_variant_locked(r, node,
                                                 ctx->has_auth
                                                 && !ctx->identity);
        if (e) {
            if (!rs.explicit || rs.cc.no_store) {
                rs.ttl = e->ttl;
                rs.age = 0;
            }

            if (updates.len) {
                e = ngx_http_gw_cache_update_locked(r, zone, e, &updates);
            }

            e->ttl = rs.ttl;
            e->stored = now;
            e->age_base = now - ngx_min(rs.age, rs.ttl);
            e->expires = now + rs.ttl - ngx_min(rs.age, rs.ttl);

            rc = ctx->updater ? NGX_OK
                              : ngx_http_gw_cache_copy_locked(r->pool, e,
                                                              &ctx->hit);
        }

        ngx_http_gw_cache_fetch_release_locked(ctx, node, 0);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (rc == NGX_OK && !ctx->updater) {
        ctx->has_hit = 1;
    }

    return rc;
}


/*
 * RFC 9111 4.3.4: the fields of a 304 replace the stored fields of the same
 * name.  A new record takes the old one's place, the body stays; when the
 * zone has no room for it, the old fields stay.
 */

static ngx_http_gw_cache_entry_t *
ngx_http_gw_cache_update_locked(ngx_http_request_t *r,
    ngx_http_gw_cache_zone_t *zone, ngx_http_gw_cache_entry_t *e,
    ngx_str_t *updates)
{
    u_char                     *old, *last, *p, *q, *u, *blob, *fields;
    size_t                      size, prefix;
    time_t                      lmt;
    uint16_t                    n, count;
    ngx_str_t                   name, value, un, uv, etag, lm;
    ngx_uint_t                  replaced;
    ngx_http_gw_cache_chunk_t  *c;
    ngx_http_gw_cache_entry_t  *ne;

    etag.data = e->data + e->vary_len + e->match_len;
    etag.len = e->etag_len;
    lm.data = etag.data + etag.len;
    lm.len = e->lm_len;
    lmt = e->last_modified_time;

    old = lm.data + lm.len + e->tags_len;
    last = old + e->headers_len;

    /* the status line, Content-Type, its type length and charset stay */

    p = ngx_http_gw_cache_skip_str(old, last);
    p = ngx_http_gw_cache_skip_str(p, last);

    if (p == NULL || last - p < 2) {
        return e;
    }

    p = ngx_http_gw_cache_skip_str(p + 2, last);

    if (p == NULL || last - p < 2) {
        return e;
    }

    prefix = p - old;

    ngx_memcpy(&n, p, 2);
    fields = p + 2;

    blob = ngx_pnalloc(r->pool, e->headers_len + updates->len);
    if (blob == NULL) {
        return e;
    }

    q = ngx_cpymem(blob, old, prefix) + 2;
    count = 0;

    for (p = fields; n; n--) {
        p = ngx_http_gw_cache_read_field(p, last, &name, &value);
        if (p == NULL) {
            return e;
        }

        replaced = 0;

        for (u = updates->data; u < updates->data + updates->len; /* void */)
        {
            u = ngx_http_gw_cache_read_field(u, updates->data + updates->len,
                                             &un, &uv);
            if (u == NULL) {
                return e;
            }

            if (un.len == name.len
                && ngx_strncasecmp(un.data, name.data, name.len) == 0)
            {
                replaced = 1;
                break;
            }
        }

        if (!replaced) {
            q = ngx_http_gw_cache_write_str(q, name.data, name.len);
            q = ngx_http_gw_cache_write_str(q, value.data, value.len);
            count++;
        }
    }

    for (u = updates->data; u < updates->data + updates->len; /* void */) {
        p = u;
        u = ngx_http_gw_cache_read_field(u, updates->data + updates->len,
                                         &un, &uv);
        if (u == NULL) {
            return e;
        }

        q = ngx_cpymem(q, p, u - p);
        count++;

        if (un.len == 4 && ngx_strncasecmp(un.data, (u_char *) "etag", 4) == 0)
        {
            etag = uv;

        } else if (un.len == 13
                   && ngx_strncasecmp(un.data, (u_char *) "last-modified",
                                      13) == 0)
        {
            lm = uv;
            lmt = ngx_parse_http_time(uv.data, uv.len);
        }
    }

    ngx_memcpy(blob + prefix, &count, 2);

    if (etag.len > 1024 || lm.len > 1024) {
        return e;
    }

    size = offsetof(ngx_http_gw_cache_entry_t, data)
           + e->vary_len + e->match_len + etag.len + lm.len + e->tags_len
           + (q - blob);

    if (e->body_inline) {
        /* the body goes along with the record it lives in */
        size = ngx_align(size, sizeof(void *)) + NGX_HTTP_GW_CACHE_CHUNK_HEAD
               + (size_t) e->body_len;
    }

    /* no eviction here: it could take this very entry */

    ne = ngx_slab_alloc_locked(zone->shpool, size);
    if (ne == NULL) {
        return e;
    }

    ngx_memcpy(ne, e, offsetof(ngx_http_gw_cache_entry_t, data));

    ne->etag_len = (u_short) etag.len;
    ne->lm_len = (u_short) lm.len;
    ne->headers_len = q - blob;
    ne->last_modified_time = (lmt == NGX_ERROR) ? -1 : lmt;

    p = ngx_cpymem(ne->data, e->data, e->vary_len + e->match_len);
    p = ngx_cpymem(p, etag.data, etag.len);
    p = ngx_cpymem(p, lm.data, lm.len);
    p = ngx_cpymem(p, old - e->tags_len, e->tags_len);
    ngx_memcpy(p, blob, q - blob);

    if (e->body_inline) {
        c = ngx_http_gw_cache_inline_body(ne);
        c->next = NULL;
        c->len = e->body->len;
        ngx_memcpy(c->data, e->body->data, c->len);
        ne->body = c;
    }

    ngx_queue_insert_after(&e->queue, &ne->queue);
    ngx_queue_remove(&e->queue);
    ngx_slab_free_locked(zone->shpool, e);

    return ne;
}


static u_char *
ngx_http_gw_cache_skip_str(u_char *p, u_char *last)
{
    uint16_t  n;

    if (p == NULL || last - p < 2) {
        return NULL;
    }

    ngx_memcpy(&n, p, 2);

    if (last - p - 2 < n) {
        return NULL;
    }

    return p + 2 + n;
}


static u_char *
ngx_http_gw_cache_read_field(u_char *p, u_char *last, ngx_str_t *name,
    ngx_str_t *value)
{
    uint16_t  n;

    if (last - p < 2) {
        return NULL;
    }

    ngx_memcpy(&n, p, 2);

    if (last - p - 2 < n) {
        return NULL;
    }

    name->data = p + 2;
    name->len = n;
    p += 2 + n;

    if (last - p < 2) {
        return NULL;
    }

    ngx_memcpy(&n, p, 2);

    if (last - p - 2 < n) {
        return NULL;
    }

    value->data = p + 2;
    value->len = n;

    return p + 2 + n;
}


/* the backend failed: the stale response, if stale-if-error allows it */

static ngx_int_t
ngx_http_gw_cache_take_stale(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    ngx_int_t                   rc;
    ngx_http_gw_cache_zone_t   *zone;
    ngx_http_gw_cache_node_t   *node;
    ngx_http_gw_cache_entry_t  *e;

    zone = ctx->zone;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ctx->node ? ctx->node
                     : ngx_http_gw_cache_lookup_locked(zone, &ctx->key,
                                                       ctx->hash);

    if (node) {
        e = ngx_http_gw_cache_find_variant_locked(r, node,
                                                 ctx->has_auth
                                                 && !ctx->identity);

        if (e && !e->no_stale && ngx_time() - e->expires < e->stale_error) {
            rc = ngx_http_gw_cache_copy_locked(r->pool, e, &ctx->hit);
        }

        ngx_http_gw_cache_fetch_release_locked(ctx, node, 0);
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (rc == NGX_OK) {
        ctx->has_hit = 1;
    }

    return rc;
}


static ngx_int_t
ngx_http_gw_cache_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_uint_t                last;
    ngx_buf_t                *b;
    ngx_chain_t              *cl, out;
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL
        || (!ctx->storing && !ctx->replay && !ctx->updater))
    {
        return ngx_http_next_body_filter(r, in);
    }

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ctx->storing && !ctx->replay) {
            if (ngx_http_gw_cache_capture(r, ctx, b) != NGX_OK) {
                ngx_http_gw_cache_abandon(r, ctx, 1);
            }
        }

        if (b->last_buf || (r != r->main && b->last_in_chain)) {
            last = 1;
        }
    }

    if (ctx->storing && last) {

        if (r->header_only) {
            /* the client got a 304 or a HEAD answer: the body never came */
            ngx_http_gw_cache_abandon(r, ctx, 0);

        } else {
            ctx->storing = 0;
            ngx_http_gw_cache_commit(r, ctx);
        }
    }

    if (!ctx->replay && !ctx->updater) {
        return ngx_http_next_body_filter(r, in);
    }

    /* the body goes nowhere: a background refresh, or a replaced one */

    for (cl = in; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            b->pos = b->last;
        }

        if (b->in_file) {
            b->file_pos = b->file_last;
        }
    }

    if (ctx->updater) {
        return NGX_OK;
    }

    if (r->header_only) {
        return ngx_http_next_body_filter(r, in);
    }

    if (!last || ctx->replay_done) {
        return NGX_OK;
    }

    ctx->replay_done = 1;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    if (ctx->hit.body_len) {
        b->pos = ctx->hit.body;
        b->last = ctx->hit.body + ctx->hit.body_len;
        b->memory = 1;

    } else {
        b->sync = 1;
    }

    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}


static ngx_int_t
ngx_http_gw_cache_capture(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx,
    ngx_buf_t *b)
{
    u_char                       *p;
    size_t                        n, small;
    ngx_http_gw_cache_zone_t     *zone;
    ngx_http_gw_cache_capture_t  *cap;

    if (ngx_buf_special(b)) {
        return NGX_OK;
    }

    if (!ngx_buf_in_memory(b)) {
        return NGX_DECLINED;
    }

    zone = ctx->zone;
    cap = &ctx->capture;

    n = b->last - b->pos;

    if (cap->body_len + (off_t) n > (off_t) zone->max_object) {
        return NGX_DECLINED;
    }

    /* a small body waits in the pool: one allocation in the zone at the end */

    small = ngx_pagesize / 2 - NGX_HTTP_GW_CACHE_CHUNK_HEAD;

    if (cap->body == NULL && cap->body_len + n <= small) {

        if (cap->small == NULL) {
            /* a known length takes no more of the pool than it needs */

            if (r->headers_out.content_length_n >= (off_t) n
                && r->headers_out.content_length_n < (off_t) small)
            {
                cap->small_size = (size_t) r->headers_out.content_length_n;

            } else {
                cap->small_size = small;
            }

            cap->small = ngx_pnalloc(r->pool, cap->small_size);
            if (cap->small == NULL) {
                return NGX_DECLINED;
            }
        }

        if (cap->body_len + n > cap->small_size) {
            /* more than it said: the room for any small body */

            p = ngx_pnalloc(r->pool, small);
            if (p == NULL) {
                return NGX_DECLINED;
            }

            ngx_memcpy(p, cap->small, (size_t) cap->body_len);
            cap->small = p;
            cap->small_size = small;
        }

        ngx_memcpy(cap->small + cap->body_len, b->pos, n);
        cap->body_len += n;

        return NGX_OK;
    }

    if (cap->body == NULL && cap->body_len) {
        /* it grew: what waited goes first */
        n = (size_t) cap->body_len;
        cap->body_len = 0;

        if (ngx_http_gw_cache_append(ctx, cap->small, n) != NGX_OK) {
            return NGX_DECLINED;
        }
    }

    return ngx_http_gw_cache_append(ctx, b->pos, b->last - b->pos);
}


/* copies bytes into the zone's pages, a page taken at a time */

static ngx_int_t
ngx_http_gw_cache_append(ngx_http_gw_cache_ctx_t *ctx, u_char *p, size_t n)
{
    size_t                        k, room;
    ngx_http_gw_cache_zone_t     *zone;
    ngx_http_gw_cache_chunk_t    *c, *nc;
    ngx_http_gw_cache_capture_t  *cap;

    zone = ctx->zone;
    cap = &ctx->capture;
    room = ngx_pagesize - NGX_HTTP_GW_CACHE_CHUNK_HEAD;

    while (n) {
        c = cap->last;

        if (c == NULL || c->len == room) {
            ngx_shmtx_lock(&zone->shpool->mutex);
            nc = ngx_http_gw_cache_alloc_locked(zone, ngx_pagesize);
            ngx_shmtx_unlock(&zone->shpool->mutex);

            if (nc == NULL) {
                return NGX_DECLINED;
            }

            nc->next = NULL;
            nc->len = 0;

            if (c) {
                c->next = nc;

            } else {
                cap->body = nc;
            }

            cap->last = nc;
            c = nc;
        }

        k = ngx_min(n, room - c->len);

        ngx_memcpy(c->data + c->len, p, k);
        c->len += k;
        p += k;
        n -= k;
        cap->body_len += k;
    }

    return NGX_OK;
}


/* too big, or no room: the rest passes through uncached */

static void
ngx_http_gw_cache_abandon(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx,
    ngx_uint_t pass)
{
    ngx_http_gw_cache_zone_t  *zone;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "gw_cache: \"%V\" not stored", &ctx->key);

    zone = ctx->zone;
    ctx->storing = 0;

    ngx_shmtx_lock(&zone->shpool->mutex);

    ngx_http_gw_cache_chunks_free_locked(zone, ctx->capture.body);
    ctx->capture.body = NULL;
    ctx->capture.last = NULL;

    ngx_http_gw_cache_fetch_release_locked(ctx, NULL, pass);

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


static void
ngx_http_gw_cache_commit(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx)
{
    u_char                       *p;
    size_t                        size, n;
    time_t                        now;
    ngx_uint_t                    inl;
    ngx_queue_t                  *q, *next;
    ngx_slab_pool_t              *shpool;
    ngx_http_gw_cache_zone_t     *zone;
    ngx_http_gw_cache_node_t     *node;
    ngx_http_gw_cache_chunk_t    *c;
    ngx_http_gw_cache_entry_t    *e, *v;
    ngx_http_gw_cache_capture_t  *cap;

    zone = ctx->zone;
    shpool = zone->shpool;
    cap = &ctx->capture;
    now = ngx_time();

    ngx_shmtx_lock(&shpool->mutex);

    size = offsetof(ngx_http_gw_cache_entry_t, data)
           + cap->vary.len + cap->match.len + cap->etag.len
           + cap->last_modified.len + cap->tags.len + cap->headers.len;

    /*
     * A small body is kept in the record itself, when both fit in half a
     * page (a slab size class, no contiguous pages): one allocation to
     * make and, when the key is evicted, one to free.  Otherwise it gets
     * a chunk of its own size.
     */

    inl = 0;

    if (cap->body == NULL && cap->body_len) {
        n = ngx_align(size, sizeof(void *)) + NGX_HTTP_GW_CACHE_CHUNK_HEAD
            + (size_t) cap->body_len;

        if (n <= ngx_pagesize / 2) {
            inl = 1;
            size = n;

        } else {
            c = ngx_http_gw_cache_alloc_locked(zone,
                                               NGX_HTTP_GW_CACHE_CHUNK_HEAD
                                               + (size_t) cap->body_len);
            if (c == NULL) {
                goto failed;
            }

            c->next = NULL;
            c->len = (size_t) cap->body_len;
            ngx_memcpy(c->data, cap->small, c->len);

            cap->body = c;
            cap->last = c;
        }
    }

    e = ngx_http_gw_cache_alloc_locked(zone, size);
    if (e == NULL) {
        goto failed;
    }

    e->stored = now;
    e->age_base = now - cap->age;
    e->expires = now + cap->ttl - cap->age;
    e->ttl = cap->ttl;
    e->stale_revalidate = cap->stale_revalidate;
    e->stale_error = cap->stale_error;
    e->last_modified_time = cap->last_modified_time;
    e->status = cap->status;
    e->no_cache = cap->no_cache;
    e->no_stale = cap->no_stale;
    e->shared_auth = cap->shared_auth;
    e->vary_len = (u_short) cap->vary.len;
    e->match_len = (u_short) cap->match.len;
    e->etag_len = (u_short) cap->etag.len;
    e->lm_len = (u_short) cap->last_modified.len;
    e->tags_len = (u_short) cap->tags.len;
    e->headers_len = cap->headers.len;
    e->body_len = cap->body_len;
    e->body = cap->body;
    e->body_inline = inl;

    p = e->data;
    p = ngx_cpymem(p, cap->vary.data, cap->vary.len);
    p = ngx_cpymem(p, cap->match.data, cap->match.len);
    p = ngx_cpymem(p, cap->etag.data, cap->etag.len);
    p = ngx_cpymem(p, cap->last_modified.data, cap->last_modified.len);
    p = ngx_cpymem(p, cap->tags.data, cap->tags.len);
    ngx_memcpy(p, cap->headers.data, cap->headers.len);

    if (inl) {
        c = ngx_http_gw_cache_inline_body(e);
        c->next = NULL;
        c->len = (size_t) cap->body_len;
        ngx_memcpy(c->data, cap->small, c->len);
        e->body = c;
    }

    node = ctx->node ? ctx->node
                     : ngx_http_gw_cache_lookup_locked(zone, &ctx->key,
                                                       ctx->hash);

    if (node == NULL) {
        node = ngx_http_gw_cache_node_create_locked(zone, &ctx->key,
                                                    ctx->hash);
        if (node == NULL) {
            ngx_slab_free_locked(shpool, e);
            goto failed;
        }
    }

    /* the new response replaces the one of the same variant */

    for (q = ngx_queue_head(&node->variants);
         q != ngx_queue_sentinel(&node->variants);
         q = next)
    {
        next = ngx_queue_next(q);
        v = ngx_queue_data(q, ngx_http_gw_cache_entry_t, queue);

        if (v->vary_len == e->vary_len
            && v->match_len == e->match_len
            && ngx_memcmp(v->data, e->data, v->vary_len + v->match_len) == 0)
        {
            ngx_http_gw_cache_entry_free_locked(zone, node, v);
        }
    }

    while (node->nvariants >= NGX_HTTP_GW_CACHE_MAX_VARIANTS) {
        q = ngx_queue_last(&node->variants);
        v = ngx_queue_data(q, ngx_http_gw_cache_entry_t, queue);
        ngx_http_gw_cache_entry_free_locked(zone, node, v);
    }

    ngx_queue_insert_head(&node->variants, &e->queue);
    node->nvariants++;
    node->pass_until = 0;

    ngx_queue_remove(&node->lru);
    ngx_queue_insert_head(&zone->sh->lru, &node->lru);

    zone->sh->entries++;
    zone->sh->body_bytes += e->body_len;

    cap->body = NULL;
    cap->last = NULL;

    ngx_http_gw_cache_fetch_release_locked(ctx, node, 0);

    ngx_shmtx_unlock(&shpool->mutex);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "gw_cache stored \"%V\", %O bytes", &ctx->key,
                   cap->body_len);

    return;

failed:

    ngx_http_gw_cache_chunks_free_locked(zone, cap->body);
    cap->body = NULL;
    cap->last = NULL;

    ngx_http_gw_cache_fetch_release_locked(ctx, NULL, 0);

    ngx_shmtx_unlock(&shpool->mutex);
}

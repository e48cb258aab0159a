/*
 * Copyright (C) ngx_gw authors
 *
 * The lookup in the PRECONTENT phase (after every access check), hits
 * served by replacing the content handler, coalescing of concurrent misses,
 * revalidation headers and the background refresh of stale entries.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


static ngx_int_t ngx_http_gw_cache_init_ctx(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_http_gw_cache_ctx_t **ctxp);
static ngx_int_t ngx_http_gw_cache_base_key(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_uint_t as_get, ngx_str_t *key);
static ngx_int_t ngx_http_gw_cache_invalidation(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf);
static ngx_int_t ngx_http_gw_cache_default_key(ngx_http_request_t *r,
    ngx_str_t *key);
static ngx_uint_t ngx_http_gw_cache_authenticated(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_cache_lookup(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_http_gw_cache_ctx_t *ctx);
static ngx_int_t ngx_http_gw_cache_add_cleanup(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static void ngx_http_gw_cache_cleanup(void *data);
static void ngx_http_gw_cache_wait_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_gw_cache_background_update(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static ngx_int_t ngx_http_gw_cache_set_conditions(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
static ngx_int_t ngx_http_gw_cache_content_handler(ngx_http_request_t *r);
static ngx_table_elt_t *ngx_http_gw_cache_push_header(ngx_http_request_t *r,
    u_char *key, size_t key_len, u_char *value, size_t value_len);
static u_char *ngx_http_gw_cache_read_str(u_char *p, u_char *last,
    ngx_str_t *s);


static ngx_str_t  ngx_http_gw_cache_get = ngx_string("GET");

static ngx_str_t  ngx_http_gw_cache_conditionals[] = {
    ngx_string("if-none-match"),
    ngx_string("if-modified-since"),
    ngx_string("if-match"),
    ngx_string("if-unmodified-since"),
    ngx_string("if-range"),
    ngx_string("range"),
    ngx_null_string
};


ngx_int_t
ngx_http_gw_cache_precontent_handler(ngx_http_request_t *r)
{
    ngx_int_t                      rc;
    ngx_http_gw_cache_ctx_t       *ctx;
    ngx_http_gw_cache_loc_conf_t  *conf;

    conf = ngx_http_get_module_loc_conf(r, ngx_http_gw_cache_module);

    /* a purge location never answers from the cache it purges */

    if (conf->zone == NULL || conf->purge) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL) {
        if (!(r->method & conf->methods)) {

            if (r->method
                & (NGX_HTTP_POST|NGX_HTTP_PUT|NGX_HTTP_PATCH|NGX_HTTP_DELETE))
            {
                return ngx_http_gw_cache_invalidation(r, conf);
            }

            return NGX_DECLINED;
        }

        rc = ngx_http_gw_cache_init_ctx(r, conf, &ctx);
        if (rc != NGX_OK) {
            return rc;
        }

    } else if (ctx->updater) {

        if (ctx->looked_up) {
            return NGX_DECLINED;
        }

        ctx->looked_up = 1;

        if (ctx->revalidating
            && ngx_http_gw_cache_set_conditions(r, ctx) != NGX_OK)
        {
            return NGX_ERROR;
        }

        return NGX_DECLINED;

    } else if (ctx->looked_up) {
        return NGX_DECLINED;

    } else if (ctx->waiting && ctx->wait_event && ctx->wait_event->timer_set)
    {
        /* woken early by a write event; the timer still runs */
        return NGX_AGAIN;
    }

    return ngx_http_gw_cache_lookup(r, conf, ctx);
}


static ngx_int_t
ngx_http_gw_cache_init_ctx(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_http_gw_cache_ctx_t **ctxp)
{
    u_char                   *p;
    ngx_str_t                 key, id;
    ngx_uint_t                i, req_no_cache, req_no_store;
    ngx_list_part_t          *part;
    ngx_table_elt_t          *h;
    ngx_http_gw_cache_cc_t    cc;
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_gw_cache_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->request = r;
    ctx->zone = conf->zone;

    /* HEAD is answered from the GET response: the key says GET */

    if (ngx_http_gw_cache_base_key(r, conf, r->method == NGX_HTTP_HEAD, &key)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (conf->private_key) {
        if (ngx_http_complex_value(r, conf->private_key, &id) != NGX_OK) {
            return NGX_ERROR;
        }

        if (id.len) {
            p = ngx_pnalloc(r->pool, key.len + 1 + id.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ngx_memcpy(p, key.data, key.len);
            p[key.len] = '#';
            ngx_memcpy(p + key.len + 1, id.data, id.len);

            key.data = p;
            key.len += 1 + id.len;
            ctx->identity = 1;
        }
    }

    ctx->key = key;
    ctx->hash = ngx_http_gw_cache_hash(ctx->zone, key.data, key.len);
    ctx->has_auth = ngx_http_gw_cache_authenticated(r);

    ngx_http_set_ctx(r, ctx, ngx_http_gw_cache_module);
    *ctxp = ctx;

    if (key.len > 65535) {
        ctx->looked_up = 1;
        return NGX_DECLINED;
    }

    /* the request's own Cache-Control and Pragma */

    ngx_http_gw_cache_cc_init(&cc);
    req_no_cache = 0;

    part = &r->headers_in.headers.part;
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

        if (h[i].key.len == sizeof("cache-control") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "cache-control",
                               sizeof("cache-control") - 1) == 0)
        {
            ngx_http_gw_cache_parse_cc(h[i].value.data, h[i].value.len, &cc);

        } else if (h[i].key.len == sizeof("pragma") - 1
                   && ngx_strncasecmp(h[i].key.data, (u_char *) "pragma",
                                      sizeof("pragma") - 1) == 0
                   && ngx_strlcasestrn(h[i].value.data,
                                       h[i].value.data + h[i].value.len,
                                       (u_char *) "no-cache",
                                       sizeof("no-cache") - 2)
                      != NULL)
        {
            req_no_cache = 1;
        }
    }

    if (cc.no_cache || cc.max_age == 0) {
        req_no_cache = 1;
    }

    ctx->req_max_age = cc.max_age;
    ctx->req_max_stale = cc.max_stale;
    ctx->req_min_fresh = cc.min_fresh;

    req_no_store = cc.no_store;

    ctx->store = !req_no_store
                 && r->method != NGX_HTTP_HEAD
                 && r->headers_in.range == NULL;

    /* a request with Authorization and no identity never waits for others */
    ctx->no_coalesce = (ctx->has_auth && !ctx->identity)
                       || r->method != NGX_HTTP_GET
                       || !ctx->store;

    if (conf->bypass) {
        switch (ngx_http_test_predicates(r, conf->bypass)) {

        case NGX_ERROR:
            return NGX_ERROR;

        case NGX_DECLINED:
            ctx->status = NGX_HTTP_GW_CACHE_BYPASS;
            ctx->looked_up = 1;
            return ngx_http_gw_cache_add_cleanup(r, ctx) == NGX_OK
                   ? NGX_DECLINED : NGX_ERROR;

        default: /* NGX_OK */
            break;
        }
    }

    /* the client asks to revalidate whatever is stored */
    ctx->req_no_cache = req_no_cache;
    ctx->only_if_cached = cc.only_if_cached;

    return NGX_OK;
}


/* the key without the identity; as_get: the key of the GET request */

static ngx_int_t
ngx_http_gw_cache_base_key(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_uint_t as_get, ngx_str_t *key)
{
    ngx_int_t   rc;
    ngx_str_t   method_name, main_method_name;

    method_name = r->method_name;
    main_method_name = r->main->method_name;

    if (as_get) {
        r->method_name = ngx_http_gw_cache_get;
        r->main->method_name = ngx_http_gw_cache_get;
    }

    if (conf->key == NULL) {
        rc = ngx_http_gw_cache_default_key(r, key);

    } else {
        rc = ngx_http_complex_value(r, conf->key, key);
    }

    r->method_name = method_name;
    r->main->method_name = main_method_name;

    return rc;
}


/*
 * RFC 9111 4.4: a successful unsafe request (POST, PUT, PATCH, DELETE)
 * invalidates what is stored for its URI; the header filter purges the
 * GET key when the response is not an error.
 */

static ngx_int_t
ngx_http_gw_cache_invalidation(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf)
{
    u_char                   *p;
    ngx_str_t                 id;
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_gw_cache_ctx_t));
    if (ctx == NULL) {
        return NGX_ERROR;
    }

    ctx->request = r;
    ctx->zone = conf->zone;
    ctx->invalidate = 1;
    ctx->looked_up = 1;

    if (ngx_http_gw_cache_base_key(r, conf, 1, &ctx->key) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the requester's own per-identity entry goes too */

    if (conf->private_key) {
        if (ngx_http_complex_value(r, conf->private_key, &id) != NGX_OK) {
            return NGX_ERROR;
        }

        if (id.len) {
            p = ngx_pnalloc(r->pool, ctx->key.len + 1 + id.len);
            if (p == NULL) {
                return NGX_ERROR;
            }

            ctx->identity_key.data = p;
            p = ngx_cpymem(p, ctx->key.data, ctx->key.len);
            *p++ = '#';
            p = ngx_cpymem(p, id.data, id.len);
            ctx->identity_key.len = p - ctx->identity_key.data;
        }
    }

    ngx_http_set_ctx(r, ctx, ngx_http_gw_cache_module);

    return NGX_DECLINED;
}


/*
 * RFC 9111 3.5 speaks of Authorization; a consumer that ngx_gw_auth found
 * (an API key in any header, a token in a cookie) counts the same.  The
 * variable is looked up by name: ngx_gw_auth may not be loaded.
 */

static ngx_uint_t
ngx_http_gw_cache_authenticated(ngx_http_request_t *r)
{
    ngx_http_variable_t            *v;
    ngx_http_variable_value_t      *vv;
    ngx_http_gw_cache_main_conf_t  *gmcf;

    if (r->headers_in.authorization) {
        return 1;
    }

    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gw_cache_module);
    v = gmcf->consumer;

    if (v == NULL) {
        return 0;
    }

    /* in doubt, as authenticated: nothing shared */

    if (v->flags & NGX_HTTP_VAR_INDEXED) {
        vv = ngx_http_get_flushed_variable(r, v->index);

    } else {

        vv = ngx_pcalloc(r->pool, sizeof(ngx_http_variable_value_t));
        if (vv == NULL) {
            return 1;
        }

        if (v->get_handler(r, vv, v->data) != NGX_OK) {
            return 1;
        }
    }

    if (vv == NULL) {
        return 1;
    }

    return !vv->not_found && vv->len > 0;
}


/*
 * The default key, $scheme$request_method$host$request_uri, built without
 * the script engine (the same bytes).  In a subrequest $request_uri is the
 * main request's, so the subrequest's own URI and arguments take its place.
 */

static ngx_int_t
ngx_http_gw_cache_default_key(ngx_http_request_t *r, ngx_str_t *key)
{
    u_char                    *p;
    size_t                     len;
    ngx_str_t                  scheme, host;
    ngx_http_core_srv_conf_t  *cscf;

    ngx_str_set(&scheme, "http");

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&scheme, "https");
    }
#endif

    if (r->headers_in.server.len) {
        host = r->headers_in.server;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        host = cscf->server_name;
    }

    len = scheme.len + r->method_name.len + host.len;

    if (r == r->main) {
        len += r->unparsed_uri.len;

    } else {
        len += r->uri.len + 1 + r->args.len;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    key->data = p;

    p = ngx_cpymem(p, scheme.data, scheme.len);
    p = ngx_cpymem(p, r->method_name.data, r->method_name.len);
    p = ngx_cpymem(p, host.data, host.len);

    if (r == r->main) {
        p = ngx_cpymem(p, r->unparsed_uri.data, r->unparsed_uri.len);

    } else {
        p = ngx_cpymem(p, r->uri.data, r->uri.len);

        if (r->args.len) {
            *p++ = '?';
            p = ngx_cpymem(p, r->args.data, r->args.len);
        }
    }

    key->len = p - key->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_lookup(ngx_http_request_t *r,
    ngx_http_gw_cache_loc_conf_t *conf, ngx_http_gw_cache_ctx_t *ctx)
{
    time_t                      now;
    u_char                     *p;
    ngx_int_t                   rc;
    ngx_uint_t                  req_no_cache, fresh, usable, update;
    ngx_msec_t                  now_msec;
    ngx_http_gw_problem_t       problem;
    ngx_http_gw_cache_zone_t   *zone;
    ngx_http_gw_cache_node_t   *node;
    ngx_http_gw_cache_entry_t  *e;

    zone = ctx->zone;
    now = ngx_time();
    now_msec = ngx_current_msec;

    req_no_cache = ctx->req_no_cache;

    if (ngx_http_gw_cache_add_cleanup(r, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    update = 0;
    e = NULL;

    ngx_shmtx_lock(&zone->shpool->mutex);

    node = ngx_http_gw_cache_lookup_locked(zone, &ctx->key, ctx->hash);

    if (node) {
        e = ngx_http_gw_cache_find_variant_locked(r, node,
                                                 ctx->has_auth
                                                 && !ctx->identity);
    }

    if (e) {
        ngx_queue_remove(&node->lru);
        ngx_queue_insert_head(&zone->sh->lru, &node->lru);

        fresh = (now < e->expires);

        /*
         * What the request accepts (RFC 9111 5.2.1): an age of at most its
         * max-age, and with min-fresh, that long still fresh; an entry
         * outside that is revalidated, never answered stale instead.
         */

        usable = !e->no_cache && !req_no_cache
                 && (ctx->req_max_age < 0
                     || now - e->age_base <= ctx->req_max_age)
                 && (ctx->req_min_fresh < 0
                     || e->expires - now >= ctx->req_min_fresh);

        if (fresh && usable) {
            ctx->status = NGX_HTTP_GW_CACHE_HIT;
            goto hit;
        }

        if (!fresh && usable && !e->no_stale
            && now - e->expires < e->stale_revalidate)
        {
            if (node->fetch_expire && node->fetch_expire > now_msec) {
                ctx->status = NGX_HTTP_GW_CACHE_UPDATING;
                goto hit;
            }

            if (!r->subrequest_in_memory && r->method == NGX_HTTP_GET) {
                node->fetch_expire = now_msec + conf->lock_timeout;
                ctx->fetch_seq = ++node->fetch_seq;
                ngx_http_gw_cache_pin(ctx, node);
                ctx->status = NGX_HTTP_GW_CACHE_STALE;
                update = 1;
                goto hit;
            }
        }

        /*
         * RFC 9111 5.2.1.2: the client accepts a response stale by at most
         * max-stale, unless the response forbids stale answers (no-cache,
         * must-revalidate, proxy-revalidate, s-maxage: RFC 9111 4.2.4)
         */

        if (!fresh && usable && !e->no_stale && ctx->req_max_stale >= 0
            && now - e->expires <= ctx->req_max_stale)
        {
            ctx->status = NGX_HTTP_GW_CACHE_STALE;
            goto hit;
        }

        ctx->status = NGX_HTTP_GW_CACHE_EXPIRED;

        ngx_log_debug4(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                       "gw_cache \"%V\" expired, etag:%d lm:%d age:%T",
                       &ctx->key, e->etag_len, e->lm_len, now - e->stored);

        if (!e->no_stale && now - e->expires < e->stale_error) {
            ctx->stale_if_error = 1;
        }

        if (e->etag_len || e->lm_len) {
            ctx->revalidating = 1;

            p = ngx_pnalloc(r->pool, e->etag_len + e->lm_len);
            if (p == NULL) {
                ngx_shmtx_unlock(&zone->shpool->mutex);
                return NGX_ERROR;
            }

            ngx_memcpy(p, e->data + e->vary_len + e->match_len,
                       e->etag_len + e->lm_len);

            ctx->capture.etag.data = p;
            ctx->capture.etag.len = e->etag_len;
            ctx->capture.last_modified.data = p + e->etag_len;
            ctx->capture.last_modified.len = e->lm_len;
        }

    } else {
        ctx->status = NGX_HTTP_GW_CACHE_MISS;
    }

    if (ctx->only_if_cached) {
        /* RFC 9111 5.2.1.7 */
        ngx_shmtx_unlock(&zone->shpool->mutex);

        ctx->looked_up = 1;

        ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
        problem.status = NGX_HTTP_GATEWAY_TIME_OUT;
        ngx_str_set(&problem.detail, "not in the cache (only-if-cached)");

        return ngx_http_gw_problem_finalize(r, &problem);
    }

    /* coalescing: one fetch per key, the others wait for its result */

    if (!ctx->no_coalesce && !ctx->fetch_owner) {

        if (node && node->fetch_expire > now_msec
            && node->pass_until <= now)
        {
            if (ctx->wait_deadline == 0) {
                ctx->wait_deadline = now_msec + conf->lock_timeout;
            }

            if ((ngx_msec_int_t) (ctx->wait_deadline - now_msec) > 0) {
                ngx_shmtx_unlock(&zone->shpool->mutex);

                ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                               "gw_cache waits for \"%V\"", &ctx->key);

                if (ctx->wait_event == NULL) {
                    ctx->wait_event = ngx_pcalloc(r->pool,
                                                  sizeof(ngx_event_t));
                    if (ctx->wait_event == NULL) {
                        return NGX_ERROR;
                    }

                    ctx->wait_event->handler = ngx_http_gw_cache_wait_handler;
                    ctx->wait_event->data = r;
                    ctx->wait_event->log = r->connection->log;
                }

                ctx->waiting = 1;

                ngx_add_timer(ctx->wait_event, NGX_HTTP_GW_CACHE_WAIT_STEP);

                r->write_event_handler = ngx_http_request_empty_handler;

                return NGX_AGAIN;
            }

            /* waited long enough: fetch without the lock */

        } else if (node == NULL || node->pass_until <= now) {

            if (node == NULL) {
                node = ngx_http_gw_cache_node_create_locked(zone, &ctx->key,
                                                            ctx->hash);
            }

            if (node) {
                node->fetch_expire = now_msec + conf->lock_timeout;
                ctx->fetch_seq = ++node->fetch_seq;
                ctx->fetch_owner = 1;
                ngx_http_gw_cache_pin(ctx, node);
            }
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    ctx->looked_up = 1;
    ctx->waiting = 0;

    if (ctx->revalidating
        && ngx_http_gw_cache_set_conditions(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_DECLINED;

hit:

    rc = ngx_http_gw_cache_copy_locked(r->pool, e, &ctx->hit);

    ngx_shmtx_unlock(&zone->shpool->mutex);

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->looked_up = 1;
    ctx->waiting = 0;
    ctx->has_hit = 1;

    if (update) {
        /*
         * The refresh starts when the stale response is served: a request
         * that a later handler rejects (a rate limit) starts none.
         */
        ctx->fetch_owner = 1;
        ctx->update = 1;
        ctx->content_handler = r->content_handler;
    }

    r->content_handler = ngx_http_gw_cache_content_handler;

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_gw_cache_add_cleanup(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    ngx_pool_cleanup_t  *cln;

    if (ctx->cleanup) {
        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_gw_cache_cleanup;
    cln->data = ctx;
    ctx->cleanup = 1;

    return NGX_OK;
}


static void
ngx_http_gw_cache_cleanup(void *data)
{
    ngx_http_gw_cache_ctx_t *ctx = data;

    ngx_http_gw_cache_zone_t  *zone;

    if (ctx->wait_event && ctx->wait_event->timer_set) {
        ngx_del_timer(ctx->wait_event);
    }

    if (ctx->capture.body == NULL && !ctx->fetch_owner && ctx->node == NULL)
    {
        return;
    }

    zone = ctx->zone;

    ngx_shmtx_lock(&zone->shpool->mutex);

    if (ctx->capture.body) {
        ngx_http_gw_cache_chunks_free_locked(zone, ctx->capture.body);
        ctx->capture.body = NULL;
        ctx->capture.last = NULL;
    }

    if (ctx->fetch_owner) {
        ngx_http_gw_cache_fetch_release_locked(ctx, NULL, 0);
    }

    ngx_http_gw_cache_unpin_locked(ctx);

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


void
ngx_http_gw_cache_fetch_release(ngx_http_gw_cache_ctx_t *ctx,
    ngx_uint_t pass)
{
    if (!ctx->fetch_owner) {
        return;
    }

    ngx_shmtx_lock(&ctx->zone->shpool->mutex);
    ngx_http_gw_cache_fetch_release_locked(ctx, NULL, pass);
    ngx_shmtx_unlock(&ctx->zone->shpool->mutex);
}


void
ngx_http_gw_cache_fetch_release_locked(ngx_http_gw_cache_ctx_t *ctx,
    ngx_http_gw_cache_node_t *node, ngx_uint_t pass)
{
    if (!ctx->fetch_owner) {
        return;
    }

    ctx->fetch_owner = 0;

    if (node == NULL) {
        node = ctx->node;
    }

    if (node == NULL) {
        node = ngx_http_gw_cache_lookup_locked(ctx->zone, &ctx->key,
                                               ctx->hash);
    }

    /* the fetch's pin goes with it; the node stays until freed explicitly */
    ngx_http_gw_cache_unpin_locked(ctx);

    if (node == NULL) {
        return;
    }

    if (node->fetch_seq != ctx->fetch_seq) {
        ngx_http_gw_cache_node_release_locked(ctx->zone, node);
        return;
    }

    node->fetch_expire = 0;

    if (pass) {
        node->pass_until = ngx_time() + NGX_HTTP_GW_CACHE_PASS_TIME;
    }

    ngx_http_gw_cache_node_release_locked(ctx->zone, node);
}


static void
ngx_http_gw_cache_wait_handler(ngx_event_t *ev)
{
    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = ev->data;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "gw_cache wait \"%V?%V\"", &r->uri, &r->args);

    r->write_event_handler = ngx_http_core_run_phases;
    ngx_http_core_run_phases(r);

    ngx_http_run_posted_requests(c);
}


static ngx_int_t
ngx_http_gw_cache_background_update(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    ngx_http_request_t       *sr;
    ngx_http_gw_cache_ctx_t  *sctx;

    if (ngx_http_subrequest(r, &r->uri, &r->args, &sr, NULL,
                            NGX_HTTP_SUBREQUEST_CLONE
                            |NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* the clone starts in the content phase, with the location's handler */

    sr->content_handler = ctx->content_handler;
    sr->method = NGX_HTTP_GET;
    sr->method_name = ngx_http_gw_cache_get;

    sctx = ngx_pcalloc(r->pool, sizeof(ngx_http_gw_cache_ctx_t));
    if (sctx == NULL) {
        return NGX_ERROR;
    }

    sctx->request = sr;
    sctx->zone = ctx->zone;
    sctx->key = ctx->key;
    sctx->hash = ctx->hash;
    sctx->has_auth = ctx->has_auth;
    sctx->identity = ctx->identity;
    sctx->status = NGX_HTTP_GW_CACHE_UPDATING;
    sctx->updater = 1;
    sctx->store = 1;
    sctx->fetch_owner = 1;
    sctx->fetch_seq = ctx->fetch_seq;

    /* the stored validators make the refresh a conditional request */

    ngx_shmtx_lock(&ctx->zone->shpool->mutex);
    (void) ngx_http_gw_cache_copy_validators_locked(sr, sctx);
    ngx_shmtx_unlock(&ctx->zone->shpool->mutex);

    sctx->revalidating = (sctx->capture.etag.len
                          || sctx->capture.last_modified.len);
    sctx->looked_up = 1;

    if (sctx->revalidating
        && ngx_http_gw_cache_set_conditions(sr, sctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_gw_cache_add_cleanup(sr, sctx) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_set_ctx(sr, sctx, ngx_http_gw_cache_module);

    /* the refresh owns the fetch, and its pin of the key, now */
    sctx->node = ctx->node;
    ctx->node = NULL;
    ctx->fetch_owner = 0;

    return NGX_OK;
}


/*
 * Sends the stored validators to the backend instead of the client's own
 * conditional (and Range) headers; the header filter puts the client's
 * back before the response is answered.
 */

static ngx_int_t
ngx_http_gw_cache_set_conditions(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    ngx_str_t                  *c;
    ngx_uint_t                  i, skip;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h, *nh;
    ngx_http_gw_cache_saved_t  *saved;

    /* the list's "last" points into the struct: it stays where it is */

    if (ctx->saved == NULL) {
        ctx->saved = ngx_palloc(r->pool, sizeof(ngx_http_gw_cache_saved_t));
        if (ctx->saved == NULL) {
            return NGX_ERROR;
        }
    }

    saved = ctx->saved;

    saved->headers = r->headers_in.headers;
    saved->if_none_match = r->headers_in.if_none_match;
    saved->if_modified_since = r->headers_in.if_modified_since;
    saved->if_match = r->headers_in.if_match;
    saved->if_unmodified_since = r->headers_in.if_unmodified_since;
    saved->range = r->headers_in.range;
    saved->if_range = r->headers_in.if_range;
    saved->disable_not_modified = r->disable_not_modified;
    ctx->headers_saved = 1;

    if (ngx_list_init(&r->headers_in.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    part = &saved->headers.part;
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

        skip = 0;

        for (c = ngx_http_gw_cache_conditionals; c->len; c++) {
            if (h[i].key.len == c->len
                && ngx_strncasecmp(h[i].key.data, c->data, c->len) == 0)
            {
                skip = 1;
                break;
            }
        }

        if (skip) {
            continue;
        }

        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        *nh = h[i];
    }

    r->headers_in.if_none_match = NULL;
    r->headers_in.if_modified_since = NULL;
    r->headers_in.if_match = NULL;
    r->headers_in.if_unmodified_since = NULL;
    r->headers_in.range = NULL;
    r->headers_in.if_range = NULL;

    /* the backend's answer to our conditions is not the client's */
    r->disable_not_modified = 1;

    if (ctx->capture.etag.len) {
        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&nh->key, "If-None-Match");
        nh->lowcase_key = (u_char *) "if-none-match";
        nh->hash = ngx_hash_key(nh->lowcase_key, nh->key.len);
        nh->value = ctx->capture.etag;

        r->headers_in.if_none_match = nh;
    }

    if (ctx->capture.last_modified.len) {
        nh = ngx_list_push(&r->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        ngx_str_set(&nh->key, "If-Modified-Since");
        nh->lowcase_key = (u_char *) "if-modified-since";
        nh->hash = ngx_hash_key(nh->lowcase_key, nh->key.len);
        nh->value = ctx->capture.last_modified;

        r->headers_in.if_modified_since = nh;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_cache_copy_validators_locked(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    u_char                     *p;
    ngx_http_gw_cache_node_t   *node;
    ngx_http_gw_cache_entry_t  *e;

    node = ngx_http_gw_cache_lookup_locked(ctx->zone, &ctx->key, ctx->hash);
    if (node == NULL) {
        return NGX_DECLINED;
    }

    e = ngx_http_gw_cache_find_variant_locked(r, node,
                                             ctx->has_auth && !ctx->identity);
    if (e == NULL || (e->etag_len == 0 && e->lm_len == 0)) {
        return NGX_DECLINED;
    }

    p = ngx_pnalloc(r->pool, e->etag_len + e->lm_len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, e->data + e->vary_len + e->match_len,
               e->etag_len + e->lm_len);

    ctx->capture.etag.data = p;
    ctx->capture.etag.len = e->etag_len;
    ctx->capture.last_modified.data = p + e->etag_len;
    ctx->capture.last_modified.len = e->lm_len;

    return NGX_OK;
}


void
ngx_http_gw_cache_restore_request(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx)
{
    if (!ctx->headers_saved) {
        return;
    }

    ctx->headers_saved = 0;

    r->headers_in.headers = ctx->saved->headers;
    r->headers_in.if_none_match = ctx->saved->if_none_match;
    r->headers_in.if_modified_since = ctx->saved->if_modified_since;
    r->headers_in.if_match = ctx->saved->if_match;
    r->headers_in.if_unmodified_since = ctx->saved->if_unmodified_since;
    r->headers_in.range = ctx->saved->range;
    r->headers_in.if_range = ctx->saved->if_range;
    r->disable_not_modified = ctx->saved->disable_not_modified;
}


ngx_http_gw_cache_entry_t *
ngx_http_gw_cache_find_variant_locked(ngx_http_request_t *r,
    ngx_http_gw_cache_node_t *node, ngx_uint_t has_auth)
{
    ngx_str_t                   values;
    ngx_queue_t                *q;
    ngx_http_gw_cache_entry_t  *e;

    for (q = ngx_queue_head(&node->variants);
         q != ngx_queue_sentinel(&node->variants);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_http_gw_cache_entry_t, queue);

        if (has_auth && !e->shared_auth) {
            continue;
        }

        if (e->vary_len == 0) {
            return e;
        }

        if (ngx_http_gw_cache_request_values(r, e->data, e->vary_len,
                                             &values)
            != NGX_OK)
        {
            continue;
        }

        if (values.len == e->match_len
            && ngx_memcmp(values.data, e->data + e->vary_len, values.len)
               == 0)
        {
            return e;
        }
    }

    return NULL;
}


/*
 * The request's values of the Vary names "name,name": each value (several
 * fields joined by ",") followed by "\n".
 */

ngx_int_t
ngx_http_gw_cache_request_values(ngx_http_request_t *r, u_char *names,
    size_t len, ngx_str_t *values)
{
    u_char           *p, *last, *name, *v, *start, *end;
    size_t            size, n;
    ngx_uint_t        i, first;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    last = names + len;

    /* the size first */

    size = 0;

    for (p = names; p < last; p = name + n + 1) {
        name = p;
        p = ngx_strlchr(name, last, ',');
        n = (p ? p : last) - name;

        part = &r->headers_in.headers.part;
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

            if (h[i].key.len == n
                && ngx_strncasecmp(h[i].key.data, name, n) == 0)
            {
                size += h[i].value.len + 1;
            }
        }

        size++;
    }

    if (size > 65535) {
        return NGX_DECLINED;
    }

    v = ngx_pnalloc(r->pool, size);
    if (v == NULL) {
        return NGX_ERROR;
    }

    values->data = v;

    for (p = names; p < last; p = name + n + 1) {
        name = p;
        p = ngx_strlchr(name, last, ',');
        n = (p ? p : last) - name;

        part = &r->headers_in.headers.part;
        h = part->elts;
        first = 1;

        for (i = 0; /* void */; i++) {

            if (i >= part->nelts) {
                if (part->next == NULL) {
                    break;
                }

                part = part->next;
                h = part->elts;
                i = 0;
            }

            if (h[i].key.len != n
                || ngx_strncasecmp(h[i].key.data, name, n) != 0)
            {
                continue;
            }

            /* trimmed, so that "en" and " en " are one variant */

            start = h[i].value.data;
            end = start + h[i].value.len;

            while (start < end && (*start == ' ' || *start == '\t')) {
                start++;
            }

            while (end > start && (end[-1] == ' ' || end[-1] == '\t')) {
                end--;
            }

            if (!first) {
                *v++ = ',';
            }

            v = ngx_cpymem(v, start, end - start);
            first = 0;
        }

        *v++ = '\n';
    }

    values->len = v - values->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_content_handler(ngx_http_request_t *r)
{
    ngx_int_t                 rc;
    ngx_buf_t                *b;
    ngx_chain_t               out;
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL || !ctx->has_hit) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (r == r->main) {
        rc = ngx_http_discard_request_body(r);
        if (rc != NGX_OK) {
            return rc;
        }

        r->allow_ranges = 1;
    }

    if (ctx->update) {
        ctx->update = 0;

        if (ngx_http_gw_cache_background_update(r, ctx) != NGX_OK) {
            ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                          "gw_cache: background update of \"%V\" failed",
                          &ctx->key);

            ngx_http_gw_cache_fetch_release(ctx, 0);
        }
    }

    ctx->serving = 1;

    if (ngx_http_gw_cache_restore(r, ctx) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    if (ctx->hit.body_len == 0) {
        return ngx_http_send_special(r, NGX_HTTP_LAST);
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->hit.body;
    b->last = ctx->hit.body + ctx->hit.body_len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


/*
 * Replaces the response headers with the stored ones.  The stored headers
 * are: the status line, Content-Type, the length of its type (2 bytes), the
 * charset, the number of fields (2 bytes), then each field's name and
 * value; a string is a 2-byte length and the bytes.
 */

ngx_int_t
ngx_http_gw_cache_restore(ngx_http_request_t *r, ngx_http_gw_cache_ctx_t *ctx)
{
    u_char                  *p, *last, *v;
    uint16_t                 n;
    ngx_str_t                key, value, s;
    ngx_uint_t               i;
    ngx_table_elt_t         *h, **cc;
    ngx_http_gw_cache_hit_t *hit;

    hit = &ctx->hit;

    ngx_memzero(&r->headers_out, sizeof(ngx_http_headers_out_t));

    if (ngx_list_init(&r->headers_out.headers, r->pool, 20,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_list_init(&r->headers_out.trailers, r->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    r->headers_out.status = hit->status;
    r->headers_out.content_length_n = hit->body_len;
    r->headers_out.last_modified_time = hit->last_modified_time;

    p = hit->headers;
    last = p + hit->headers_len;

    p = ngx_http_gw_cache_read_str(p, last, &r->headers_out.status_line);
    p = ngx_http_gw_cache_read_str(p, last, &r->headers_out.content_type);

    if (p == NULL || last - p < 2) {
        return NGX_ERROR;
    }

    ngx_memcpy(&n, p, 2);
    p += 2;
    r->headers_out.content_type_len = n;

    p = ngx_http_gw_cache_read_str(p, last, &r->headers_out.charset);

    if (p == NULL || last - p < 2) {
        return NGX_ERROR;
    }

    ngx_memcpy(&n, p, 2);
    p += 2;

    for (i = 0; i < n; i++) {
        p = ngx_http_gw_cache_read_str(p, last, &key);
        p = ngx_http_gw_cache_read_str(p, last, &value);

        if (p == NULL) {
            return NGX_ERROR;
        }

        h = ngx_http_gw_cache_push_header(r, key.data, key.len, value.data,
                                          value.len);
        if (h == NULL) {
            return NGX_ERROR;
        }

        switch (key.len) {

        case 4:
            if (ngx_strcmp(h->lowcase_key, "etag") == 0) {
                r->headers_out.etag = h;
            }
            break;

        case 7:
            if (ngx_strcmp(h->lowcase_key, "expires") == 0) {
                r->headers_out.expires = h;

            } else if (ngx_strcmp(h->lowcase_key, "refresh") == 0) {
                r->headers_out.refresh = h;
            }
            break;

        case 8:
            if (ngx_strcmp(h->lowcase_key, "location") == 0) {
                r->headers_out.location = h;
            }
            break;

        case 13:
            if (ngx_strcmp(h->lowcase_key, "last-modified") == 0) {
                r->headers_out.last_modified = h;

            } else if (ngx_strcmp(h->lowcase_key, "cache-control") == 0) {
                if (r->headers_out.cache_control.elts == NULL) {
                    if (ngx_array_init(&r->headers_out.cache_control,
                                       r->pool, 2, sizeof(ngx_table_elt_t *))
                        != NGX_OK)
                    {
                        return NGX_ERROR;
                    }
                }

                cc = ngx_array_push(&r->headers_out.cache_control);
                if (cc == NULL) {
                    return NGX_ERROR;
                }

                *cc = h;

            } else if (ngx_strcmp(h->lowcase_key, "accept-ranges") == 0) {
                r->headers_out.accept_ranges = h;
            }
            break;

        case 16:
            if (ngx_strcmp(h->lowcase_key, "content-encoding") == 0) {
                r->headers_out.content_encoding = h;

            } else if (ngx_strcmp(h->lowcase_key, "www-authenticate") == 0) {
                r->headers_out.www_authenticate = h;
            }
            break;
        }
    }

    /* RFC 9111 5.1 */

    v = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (v == NULL) {
        return NGX_ERROR;
    }

    s.data = v;
    s.len = ngx_sprintf(v, "%T", hit->age) - v;

    if (ngx_http_gw_cache_push_header(r, (u_char *) "Age", 3, s.data, s.len)
        == NULL)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_gw_cache_push_header(ngx_http_request_t *r, u_char *key,
    size_t key_len, u_char *value, size_t value_len)
{
    u_char           *lc;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NULL;
    }

    lc = ngx_pnalloc(r->pool, key_len + 1);
    if (lc == NULL) {
        return NULL;
    }

    ngx_strlow(lc, key, key_len);
    lc[key_len] = '\0';

    h->key.data = key;
    h->key.len = key_len;
    h->value.data = value;
    h->value.len = value_len;
    h->lowcase_key = lc;
    h->hash = ngx_hash_key(lc, key_len);

    if (h->hash == 0) {
        h->hash = 1;
    }

    return h;
}


static u_char *
ngx_http_gw_cache_read_str(u_char *p, u_char *last, ngx_str_t *s)
{
    uint16_t  n;

    if (p == NULL || last - p < 2) {
        return NULL;
    }

    ngx_memcpy(&n, p, 2);
    p += 2;

    if (last - p < n) {
        return NULL;
    }

    s->data = p;
    s->len = n;

    return p + n;
}


ngx_table_elt_t *
ngx_http_gw_cache_find_header(ngx_list_t *list, u_char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &list->part;
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

        if (h[i].hash != 0
            && h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, name, len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}

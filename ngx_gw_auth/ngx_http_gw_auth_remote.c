
/*
 * Copyright (C) ngx_gw authors
 *
 * What ngx_http_gw_auth_module fetches through subrequests to internal
 * locations: JWKS documents (gw_auth_jwt_keys_url) and RFC 7662 token
 * introspection (gw_auth_introspect).  Results are kept in the shared
 * zone; each worker keeps the keys it parsed from the current JWKS.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_auth.h"


#define NGX_HTTP_GW_AUTH_REFETCH_INTERVAL  30


static ngx_int_t ngx_http_gw_auth_fetch(ngx_http_request_t *r,
    ngx_http_gw_auth_ctx_t *ctx, ngx_str_t *uri, ngx_str_t *body,
    ngx_uint_t kind);
static ngx_int_t ngx_http_gw_auth_fetch_done(ngx_http_request_t *r,
    void *data, ngx_int_t rc);
static ngx_int_t ngx_http_gw_auth_jwks_install(
    ngx_http_gw_auth_jwks_url_t *url, ngx_str_t *text, time_t version,
    ngx_log_t *log);
static ngx_int_t ngx_http_gw_auth_introspect_result(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *body);
static u_char *ngx_http_gw_auth_form_escape(u_char *dst, ngx_str_t *src);


static ngx_int_t
ngx_http_gw_auth_fetch(ngx_http_request_t *r, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *uri, ngx_str_t *body, ngx_uint_t kind)
{
    ngx_buf_t                   *b;
    ngx_chain_t                 *cl;
    ngx_table_elt_t             *h;
    ngx_http_request_t          *sr;
    ngx_http_post_subrequest_t  *ps;

    ps = ngx_palloc(r->pool, sizeof(ngx_http_post_subrequest_t));
    if (ps == NULL) {
        return NGX_ERROR;
    }

    ps->handler = ngx_http_gw_auth_fetch_done;
    ps->data = ctx;

    if (ngx_http_subrequest(r, uri, NULL, &sr, ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_WAITED)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    /*
     * The client's headers (its Authorization, cookies, Accept-Encoding)
     * are not the provider's business: the subrequest gets its own.
     */

    if (ngx_list_init(&sr->headers_in.headers, r->pool, 4,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->headers_in.authorization = NULL;
    sr->headers_in.cookies.nelts = 0;
    sr->headers_in.content_type = NULL;
    sr->headers_in.content_length = NULL;
    sr->headers_in.content_length_n = -1;
    sr->headers_in.chunked = 0;

    h = ngx_list_push(&sr->headers_in.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Accept");
    ngx_str_set(&h->value, "application/json");
    h->lowcase_key = (u_char *) "accept";

    sr->request_body = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
    if (sr->request_body == NULL) {
        return NGX_ERROR;
    }

    if (body) {
        sr->method = NGX_HTTP_POST;
        ngx_str_set(&sr->method_name, "POST");

        h = ngx_list_push(&sr->headers_in.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        ngx_str_set(&h->key, "Content-Type");
        ngx_str_set(&h->value, "application/x-www-form-urlencoded");
        h->lowcase_key = (u_char *) "content-type";

        sr->headers_in.content_type = h;
        sr->headers_in.content_length_n = body->len;

        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->pos = body->data;
        b->last = body->data + body->len;
        b->memory = 1;
        b->last_buf = 1;

        cl = ngx_alloc_chain_link(r->pool);
        if (cl == NULL) {
            return NGX_ERROR;
        }

        cl->buf = b;
        cl->next = NULL;

        sr->request_body->bufs = cl;

    } else {
        sr->method = NGX_HTTP_GET;
        ngx_str_set(&sr->method_name, "GET");
    }

    ctx->fetching = 1;
    ctx->fetch_done = 0;
    ctx->fetch_kind = kind;
    ctx->fetch_status = 0;
    ngx_str_null(&ctx->fetch_body);

    return NGX_AGAIN;
}


static ngx_int_t
ngx_http_gw_auth_fetch_done(ngx_http_request_t *r, void *data, ngx_int_t rc)
{
    ngx_http_gw_auth_ctx_t *ctx = data;

    ngx_buf_t  *b;

    /* may run more than once */

    if (ctx->fetch_done) {
        return rc;
    }

    ctx->fetch_done = 1;
    if (rc == NGX_ERROR) {
        ctx->fetch_status = NGX_HTTP_BAD_GATEWAY;

    } else if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        ctx->fetch_status = rc;

    } else {
        ctx->fetch_status = r->headers_out.status;
    }

    if (r->out && r->out->buf) {
        b = r->out->buf;

        ctx->fetch_body.len = b->last - b->pos;
        ctx->fetch_body.data = ngx_pnalloc(r->pool, ctx->fetch_body.len + 1);
        if (ctx->fetch_body.data == NULL) {
            ctx->fetch_status = NGX_HTTP_INTERNAL_SERVER_ERROR;
            return rc;
        }

        ngx_memcpy(ctx->fetch_body.data, b->pos, ctx->fetch_body.len);
        ctx->fetch_body.data[ctx->fetch_body.len] = '\0';
    }

    return rc;
}


static ngx_int_t
ngx_http_gw_auth_jwks_install(ngx_http_gw_auth_jwks_url_t *url,
    ngx_str_t *text, time_t version, ngx_log_t *log)
{
    ngx_str_t     err;
    ngx_pool_t   *pool;
    ngx_array_t  *keys;

    /* this worker's keys live in their own pool, replaced as a whole */

    pool = ngx_create_pool(4096, log);
    if (pool == NULL) {
        return NGX_ERROR;
    }

    keys = ngx_array_create(pool, 4, sizeof(ngx_http_gw_auth_key_t));
    if (keys == NULL) {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    if (ngx_http_gw_auth_jwks_parse(pool, text->data, text->len, keys, &err)
        != NGX_OK)
    {
        ngx_log_error(NGX_LOG_ERR, log, 0,
                      "gw_auth: invalid JWKS from \"%V\": %V",
                      &url->uri, &err);
        ngx_destroy_pool(pool);
        return NGX_DECLINED;
    }

    if (EVP_Digest(text->data, text->len, url->fp, NULL, EVP_sha256(), NULL)
        != 1)
    {
        ngx_destroy_pool(pool);
        return NGX_ERROR;
    }

    if (url->pool) {
        ngx_destroy_pool(url->pool);
    }

    url->pool = pool;
    url->keys = keys;
    url->version = version;
    url->expires = version;

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_auth_jwks_keys(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_uint_t can_wait, ngx_uint_t force)
{
    time_t                         now;
    ngx_int_t                      rc;
    ngx_uint_t                     stale;
    ngx_shm_zone_t                *zone;
    ngx_http_gw_auth_blob_t        blob;
    ngx_http_gw_auth_jwks_url_t   *url;
    ngx_http_gw_auth_main_conf_t  *amcf;

    url = alcf->jwks_url;
    amcf = ngx_http_get_module_main_conf(r, ngx_http_gw_auth_module);
    zone = amcf->zone;
    now = ngx_time();

    if (ctx->fetch_done && ctx->fetch_kind == NGX_HTTP_GW_AUTH_FETCH_JWKS) {
        ctx->fetching = 0;
        ctx->fetch_done = 0;
        ctx->fetch_kind = 0;

        if (ctx->fetch_status != NGX_HTTP_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "gw_auth: JWKS fetch from \"%V\" failed "
                          "with status %ui", &url->uri, ctx->fetch_status);
            return NGX_OK;
        }

        rc = ngx_http_gw_auth_jwks_install(url, &ctx->fetch_body, now,
                                           ngx_cycle->log);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK) {
            /* keep the time of the last forced re-fetch */

            blob.aux = 0;

            if (ngx_http_gw_auth_cache_get_blob(zone, url->id, r->pool,
                                                &blob)
                == NGX_ERROR)
            {
                return NGX_ERROR;
            }

            if (ctx->jwks_forced) {
                blob.aux = now;
            }

            blob.data = ctx->fetch_body;
            blob.expires = now + url->refresh;

            url->version = blob.expires;
            url->expires = blob.expires;

            if (ngx_http_gw_auth_cache_put_blob(zone, url->id, &blob)
                != NGX_OK)
            {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "gw_auth: JWKS from \"%V\" does not fit in "
                              "gw_auth_zone \"%V\"", &url->uri,
                              &zone->shm.name);
            }
        }

        return NGX_OK;
    }

    /*
     * Without an entry in the zone (evicted, or too large for it) this
     * worker's own keys and times decide, so that it does not fetch on
     * every request.
     */

    stale = (url->keys == NULL || url->expires <= now);

    rc = ngx_http_gw_auth_cache_get_blob(zone, url->id, r->pool, &blob);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_OK) {
        /* another worker (or this one before a reload) fetched it */

        if (blob.expires != url->version
            && ngx_http_gw_auth_jwks_install(url, &blob.data, blob.expires,
                                             ngx_cycle->log)
               == NGX_ERROR)
        {
            return NGX_ERROR;
        }

        stale = (blob.expires <= now);
    }

    if (ctx->jwks_fetched || (!stale && !force)) {
        return NGX_OK;
    }

    if (!can_wait) {
        /* the access phase will fetch; a variable read now waits for it */
        return NGX_AGAIN;
    }

    if (force && !stale) {
        if (now - url->refetched < NGX_HTTP_GW_AUTH_REFETCH_INTERVAL
            || ngx_http_gw_auth_cache_claim_aux(zone, url->id, now,
                                          NGX_HTTP_GW_AUTH_REFETCH_INTERVAL)
               != NGX_OK)
        {
            return NGX_OK;
        }

        url->refetched = now;
    }

    ctx->jwks_fetched = 1;
    ctx->jwks_forced = force;

    return ngx_http_gw_auth_fetch(r, ctx, &url->uri, NULL,
                                  NGX_HTTP_GW_AUTH_FETCH_JWKS);
}


static u_char *
ngx_http_gw_auth_form_escape(u_char *dst, ngx_str_t *src)
{
    u_char      c;
    size_t      i;
    static u_char  hex[] = "0123456789ABCDEF";

    /* application/x-www-form-urlencoded, unreserved characters kept */

    for (i = 0; i < src->len; i++) {
        c = src->data[i];

        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
            || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'
            || c == '~')
        {
            *dst++ = c;
            continue;
        }

        *dst++ = '%';
        *dst++ = hex[c >> 4];
        *dst++ = hex[c & 0xf];
    }

    return dst;
}


ngx_int_t
ngx_http_gw_auth_introspect(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *token, ngx_uint_t can_wait)
{
    u_char                        *p;
    u_char                         hash[NGX_HTTP_GW_AUTH_HASH_LEN];
    time_t                         now;
    json_t                        *json, *v;
    ngx_int_t                      rc;
    ngx_str_t                      body;
    EVP_MD_CTX                    *md;
    unsigned int                   n;
    ngx_shm_zone_t                *zone;
    ngx_http_gw_auth_blob_t        blob;
    ngx_http_gw_auth_introspect_t *is;
    ngx_http_gw_auth_main_conf_t  *amcf;

    is = alcf->introspect;
    amcf = ngx_http_get_module_main_conf(r, ngx_http_gw_auth_module);
    zone = amcf->zone;
    now = ngx_time();

    if (token->len > alcf->max_size) {
        ctx->method = NGX_HTTP_GW_AUTH_INTROSPECT;
        ctx->result = NGX_HTTP_GW_AUTH_RESULT_FAILED;
        ngx_str_set(&ctx->error, "token too large");
        return NGX_DECLINED;
    }

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    if (EVP_DigestInit_ex(md, amcf->sha256, NULL) != 1
        || EVP_DigestUpdate(md, "introspect", sizeof("introspect")) != 1
        || EVP_DigestUpdate(md, is->uri.data, is->uri.len) != 1
        || EVP_DigestUpdate(md, "", 1) != 1
        || EVP_DigestUpdate(md, token->data, token->len) != 1
        || EVP_DigestFinal_ex(md, hash, &n) != 1)
    {
        EVP_MD_CTX_free(md);
        return NGX_ERROR;
    }

    EVP_MD_CTX_free(md);

    ctx->method = NGX_HTTP_GW_AUTH_INTROSPECT;
    ctx->result = NGX_HTTP_GW_AUTH_RESULT_FAILED;

    if (ctx->fetch_done
        && ctx->fetch_kind == NGX_HTTP_GW_AUTH_FETCH_INTROSPECT)
    {
        ctx->fetching = 0;
        ctx->fetch_done = 0;
        ctx->fetch_kind = 0;
        ctx->cache = 1;

        if (ctx->fetch_status != NGX_HTTP_OK) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "gw_auth: introspection at \"%V\" failed "
                          "with status %ui", &is->uri, ctx->fetch_status);
            goto unavailable;
        }

        rc = ngx_http_gw_auth_introspect_result(r, alcf, ctx,
                                                &ctx->fetch_body);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_ABORT) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "gw_auth: introspection at \"%V\" returned "
                          "no valid RFC 7662 response", &is->uri);
            goto unavailable;
        }

        /* active: until the earlier of exp and cache=; inactive: briefly */

        blob.aux = 0;
        blob.data = ctx->fetch_body;

        if (rc == NGX_OK) {
            blob.expires = now + is->cache;

            json = ctx->payload;
            v = json_object_get(json, "exp");

            if (json_is_number(v) && json_number_value(v) < blob.expires) {
                blob.expires = (time_t) json_number_value(v);
            }

        } else {
            blob.expires = now + is->inactive;
        }

        if (blob.expires > now && is->cache) {
            (void) ngx_http_gw_auth_cache_put_blob(zone, hash, &blob);
        }

        return rc;
    }

    if (is->cache) {
        rc = ngx_http_gw_auth_cache_get_blob(zone, hash, r->pool, &blob);

        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK && blob.expires > now) {
            ctx->cache = 2;

            rc = ngx_http_gw_auth_introspect_result(r, alcf, ctx, &blob.data);

            return (rc == NGX_ABORT) ? NGX_ERROR : rc;
        }
    }

    if (!can_wait) {
        return NGX_AGAIN;
    }

    body.len = sizeof("token=&token_type_hint=access_token") - 1
               + 3 * token->len;
    body.data = ngx_pnalloc(r->pool, body.len);
    if (body.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_cpymem(body.data, "token=", sizeof("token=") - 1);
    p = ngx_http_gw_auth_form_escape(p, token);
    p = ngx_cpymem(p, "&token_type_hint=access_token",
                   sizeof("&token_type_hint=access_token") - 1);
    body.len = p - body.data;

    return ngx_http_gw_auth_fetch(r, ctx, &is->uri, &body,
                                  NGX_HTTP_GW_AUTH_FETCH_INTROSPECT);

unavailable:

    ctx->result = NGX_HTTP_GW_AUTH_RESULT_ERROR;
    ngx_str_set(&ctx->error, "token introspection unavailable");

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_gw_auth_introspect_result(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *body)
{
    json_t        *json, *active;
    ngx_int_t      rc;
    json_error_t   error;

    /* NGX_OK: active; NGX_DECLINED: inactive; NGX_ABORT: not RFC 7662 */

    if (ngx_http_gw_jwt_json_depth(body->data, body->len, alcf->max_depth)
        != NGX_OK)
    {
        return NGX_ABORT;
    }

    json = json_loadb((char *) body->data, body->len, JSON_REJECT_DUPLICATES,
                      &error);

    if (json == NULL) {
        return NGX_ABORT;
    }

    active = json_object_get(json, "active");

    if (!json_is_boolean(active)) {
        json_decref(json);
        return NGX_ABORT;
    }

    if (ctx->payload) {
        json_decref(ctx->payload);
    }

    ctx->payload = json;
    ctx->payload_json = *body;

    if (!json_is_true(active)) {
        ngx_str_set(&ctx->error, "token is not active");
        return NGX_DECLINED;
    }

    rc = ngx_http_gw_jwt_check_claims(alcf, json, ngx_time(), 0, r->pool,
                                      &ctx->error);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_gw_auth_identity(r, alcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

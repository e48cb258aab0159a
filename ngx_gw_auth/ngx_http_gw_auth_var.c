
/*
 * Copyright (C) ngx_gw authors
 *
 * Variables of ngx_http_gw_auth_module.  Reading any of them authenticates
 * the request once (the result is kept in the request's context), so that
 * a module running before the access phase sees the identity.
 *
 * $gw_jwt_claim_<name> maps "__" to a level of nesting: $gw_jwt_claim_a__b
 * is the claim "b" inside the object claim "a".
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_auth.h"


#define NGX_HTTP_GW_AUTH_VAR_CONSUMER  0
#define NGX_HTTP_GW_AUTH_VAR_PLAN      1
#define NGX_HTTP_GW_AUTH_VAR_SCOPES    2
#define NGX_HTTP_GW_AUTH_VAR_METHOD    3
#define NGX_HTTP_GW_AUTH_VAR_RESULT    4
#define NGX_HTTP_GW_AUTH_VAR_CLAIMS    5
#define NGX_HTTP_GW_AUTH_VAR_CACHE     6


static ngx_http_gw_auth_ctx_t *ngx_http_gw_auth_var_ctx(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_gw_auth_json_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static json_t *ngx_http_gw_auth_get_member(json_t *obj, u_char *name,
    size_t len);
static void ngx_http_gw_auth_var_set(ngx_http_variable_value_t *v,
    ngx_str_t *s);


static ngx_http_variable_t  ngx_http_gw_auth_vars[] = {

    { ngx_string("gw_auth_consumer"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_CONSUMER, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_auth_plan"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_PLAN, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_auth_scopes"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_SCOPES, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_auth_method"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_METHOD, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_auth_result"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_RESULT, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_auth_cache"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_CACHE, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_jwt_claims"), NULL, ngx_http_gw_auth_variable,
      NGX_HTTP_GW_AUTH_VAR_CLAIMS, NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_jwt_claim_"), NULL, ngx_http_gw_auth_json_variable,
      0, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

    { ngx_string("gw_jwt_header_"), NULL, ngx_http_gw_auth_json_variable,
      1, NGX_HTTP_VAR_NOCACHEABLE|NGX_HTTP_VAR_PREFIX, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_gw_auth_results[] = {
    ngx_string("NONE"),
    ngx_string("OK"),
    ngx_string("FAILED"),
    ngx_string("DENIED"),
    ngx_string("ERROR")
};


ngx_int_t
ngx_http_gw_auth_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_gw_auth_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_http_gw_auth_ctx_t *
ngx_http_gw_auth_var_ctx(ngx_http_request_t *r)
{
    ngx_http_gw_auth_ctx_t       *ctx;
    ngx_http_gw_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_auth_module);

    if (alcf->methods & NGX_HTTP_GW_AUTH_OFF) {
        return NULL;
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_auth_module);

    if (ctx && ctx->done) {
        return ctx;
    }

    /*
     * Once the response is out (a request answered before the access
     * phase: a rate limit's 429, a "return"), a variable read by the log
     * phase does not authenticate: a throttled flood of bad tokens must
     * not cost signature checks after all.
     */

    if (r->header_sent) {
        return NULL;
    }

    ctx = ngx_http_gw_auth_authenticate(r, 0);

    return (ctx && ctx->done) ? ctx : NULL;
}


static void
ngx_http_gw_auth_var_set(ngx_http_variable_value_t *v, ngx_str_t *s)
{
    if (s->len == 0) {
        v->not_found = 1;
        return;
    }

    v->len = s->len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;
    v->data = s->data;
}


static ngx_int_t
ngx_http_gw_auth_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                s;
    ngx_http_gw_auth_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_gw_auth_var_ctx(r);

    if (ctx == NULL) {
        return NGX_OK;
    }

    ngx_str_null(&s);

    switch (data) {

    case NGX_HTTP_GW_AUTH_VAR_RESULT:
        s = ngx_http_gw_auth_results[ctx->result];
        break;

    case NGX_HTTP_GW_AUTH_VAR_CACHE:
        if (ctx->cache == 1) {
            ngx_str_set(&s, "MISS");

        } else if (ctx->cache == 2) {
            ngx_str_set(&s, "HIT");
        }

        break;

    case NGX_HTTP_GW_AUTH_VAR_METHOD:
        if (ctx->result != NGX_HTTP_GW_AUTH_RESULT_NONE) {
            if (ctx->method == NGX_HTTP_GW_AUTH_JWT) {
                ngx_str_set(&s, "jwt");

            } else if (ctx->method == NGX_HTTP_GW_AUTH_APIKEY) {
                ngx_str_set(&s, "apikey");

            } else if (ctx->method == NGX_HTTP_GW_AUTH_INTROSPECT) {
                ngx_str_set(&s, "introspect");
            }
        }

        break;

    default:
        /* identity only of an authenticated request */

        if (ctx->result != NGX_HTTP_GW_AUTH_RESULT_OK
            && ctx->result != NGX_HTTP_GW_AUTH_RESULT_DENIED)
        {
            return NGX_OK;
        }

        switch (data) {

        case NGX_HTTP_GW_AUTH_VAR_CONSUMER:
            s = ctx->consumer;
            break;

        case NGX_HTTP_GW_AUTH_VAR_PLAN:
            s = ctx->plan;
            break;

        case NGX_HTTP_GW_AUTH_VAR_SCOPES:
            s = ctx->scopes;
            break;

        default: /* NGX_HTTP_GW_AUTH_VAR_CLAIMS */
            if (ctx->method != NGX_HTTP_GW_AUTH_APIKEY) {
                if (ngx_http_gw_auth_ctx_json(r->pool, ctx) != NGX_OK) {
                    return NGX_ERROR;
                }

                s = ctx->payload_json;
            }

            break;
        }
    }

    ngx_http_gw_auth_var_set(v, &s);

    return NGX_OK;
}


static json_t *
ngx_http_gw_auth_get_member(json_t *obj, u_char *name, size_t len)
{
    u_char      buf[256];
    void       *it;
    const char *key;

    if (!json_is_object(obj) || len == 0 || len >= sizeof(buf)) {
        return NULL;
    }

    ngx_memcpy(buf, name, len);
    buf[len] = '\0';

    it = json_object_get(obj, (char *) buf);
    if (it) {
        return it;
    }

    /* nginx lowercases variable names: match the claim's case loosely */

    for (it = json_object_iter(obj); it; it = json_object_iter_next(obj, it))
    {
        key = json_object_iter_key(it);

        if (ngx_strlen(key) == len
            && ngx_strncasecmp((u_char *) key, name, len) == 0)
        {
            return json_object_iter_value(it);
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_gw_auth_json_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t *name = (ngx_str_t *) data;

    u_char                  *p, *last, *start;
    json_t                  *obj;
    size_t                   prefix;
    ngx_str_t                s;
    ngx_http_gw_auth_ctx_t  *ctx;

    v->not_found = 1;

    ctx = ngx_http_gw_auth_var_ctx(r);

    if (ctx == NULL
        || ctx->method == NGX_HTTP_GW_AUTH_APIKEY
        || (ctx->result != NGX_HTTP_GW_AUTH_RESULT_OK
            && ctx->result != NGX_HTTP_GW_AUTH_RESULT_DENIED))
    {
        return NGX_OK;
    }

    if (ngx_http_gw_auth_ctx_json(r->pool, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (name->len > sizeof("gw_jwt_claim_") - 1
        && ngx_strncmp(name->data, "gw_jwt_claim_",
                       sizeof("gw_jwt_claim_") - 1)
           == 0)
    {
        if (ctx->payload == NULL && ctx->payload_json.len) {
            /* a cached token's payload was not parsed: it is now */
            ctx->payload = json_loadb((char *) ctx->payload_json.data,
                                      ctx->payload_json.len,
                                      JSON_REJECT_DUPLICATES, NULL);
        }

        obj = ctx->payload;
        prefix = sizeof("gw_jwt_claim_") - 1;

    } else {
        if (ctx->method != NGX_HTTP_GW_AUTH_JWT) {
            return NGX_OK;
        }

        if (ctx->header == NULL) {
            /* a cached token's header was not parsed: it is now */
            ctx->header = json_loadb((char *) ctx->header_json.data,
                                     ctx->header_json.len,
                                     JSON_REJECT_DUPLICATES, NULL);
        }

        obj = ctx->header;
        prefix = sizeof("gw_jwt_header_") - 1;
    }

    p = name->data + prefix;
    last = name->data + name->len;

    while (obj && p < last) {
        start = p;

        while (p < last && !(*p == '_' && p + 1 < last && p[1] == '_')) {
            p++;
        }

        obj = ngx_http_gw_auth_get_member(obj, start, p - start);
        p += 2;
    }

    if (obj == NULL || json_is_null(obj)) {
        return NGX_OK;
    }

    if (ngx_http_gw_jwt_json_string(r->pool, obj, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_http_gw_auth_var_set(v, &s);

    return NGX_OK;
}

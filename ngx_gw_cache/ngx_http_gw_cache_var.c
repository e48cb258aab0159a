/*
 * Copyright (C) ngx_gw authors
 *
 * $gw_cache_status, $gw_cache_age, $gw_cache_key.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


static ngx_int_t ngx_http_gw_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_gw_cache_age_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_gw_cache_key_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);


static ngx_http_variable_t  ngx_http_gw_cache_vars[] = {

    { ngx_string("gw_cache_status"), NULL,
      ngx_http_gw_cache_status_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_cache_age"), NULL,
      ngx_http_gw_cache_age_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_cache_key"), NULL,
      ngx_http_gw_cache_key_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


ngx_int_t
ngx_http_gw_cache_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_gw_cache_vars; v->name.len; v++) {
        var = ngx_http_add_variable(cf, &v->name, v->flags);
        if (var == NULL) {
            return NGX_ERROR;
        }

        var->get_handler = v->get_handler;
        var->data = v->data;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_status_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL || ctx->status == NGX_HTTP_GW_CACHE_NONE) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ngx_http_gw_cache_status_names[ctx->status].data;
    v->len = ngx_http_gw_cache_status_names[ctx->status].len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_age_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    u_char                   *p;
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL || !ctx->has_hit) {
        v->not_found = 1;
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, NGX_TIME_T_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    v->data = p;
    v->len = ngx_sprintf(p, "%T", ctx->hit.age) - p;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_cache_key_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_gw_cache_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_cache_module);

    if (ctx == NULL || ctx->key.len == 0) {
        v->not_found = 1;
        return NGX_OK;
    }

    v->data = ctx->key.data;
    v->len = ctx->key.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}

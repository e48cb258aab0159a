
/*
 * Copyright (C) ngx_gw authors
 *
 * ngx_http_gw_auth_module: JWT and API key authentication in the access
 * phase, with the identity exposed as variables for the other modules.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"
#include "ngx_http_gw_auth.h"


#define NGX_HTTP_GW_AUTH_DEFAULT_ZONE_SIZE  (1024 * 1024)
#define NGX_HTTP_GW_AUTH_MAX_CACHE_TTL      3600


static ngx_int_t ngx_http_gw_auth_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_auth_reject(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx);
static ngx_int_t ngx_http_gw_auth_challenge(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx);
static u_char *ngx_http_gw_auth_quote(u_char *p, ngx_str_t *s);
static ngx_int_t ngx_http_gw_auth_jwt(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_uint_t can_wait);
static u_char *ngx_http_gw_auth_jwt_keys_fp(
    ngx_http_gw_auth_loc_conf_t *alcf);
static ngx_int_t ngx_http_gw_auth_jwt_cached(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *token, time_t now, u_char *hash);
static ngx_int_t ngx_http_gw_auth_jwt_hash(ngx_http_gw_auth_main_conf_t *amcf,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_str_t *token, u_char *hash);
static ngx_int_t ngx_http_gw_auth_jwt_check(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_http_gw_jwt_t *jwt, ngx_uint_t can_wait, time_t now, char **err,
    ngx_str_t *desc);
static void ngx_http_gw_auth_jwt_store(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *token, time_t now, u_char *hash);
static ngx_int_t ngx_http_gw_auth_jwt_decode(ngx_pool_t *pool,
    ngx_http_gw_auth_ctx_t *ctx, ngx_http_gw_jwt_t *jwt, char **err);
static ngx_int_t ngx_http_gw_auth_identity_pack(ngx_pool_t *pool,
    ngx_http_gw_auth_ctx_t *ctx, ngx_str_t *out);
static ngx_int_t ngx_http_gw_auth_identity_unpack(ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *in);
static ngx_int_t ngx_http_gw_auth_jwt_verify(ngx_http_gw_jwt_t *jwt,
    ngx_array_t *keys, ngx_http_gw_auth_alg_t *alg, ngx_str_t *kid,
    ngx_uint_t *candidates);
static ngx_int_t ngx_http_gw_auth_jwt_token(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_str_t *token);
static ngx_int_t ngx_http_gw_auth_apikey(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx);
static ngx_int_t ngx_http_gw_auth_check_scopes(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx);
static void ngx_http_gw_auth_fingerprint(ngx_str_t *token, u_char *out);
static void ngx_http_gw_auth_ctx_cleanup(void *data);

static void ngx_http_gw_auth_md_cleanup(void *data);
static void ngx_http_gw_auth_md_ctx_cleanup(void *data);
static void *ngx_http_gw_auth_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_gw_auth_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gw_auth_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_gw_auth_policy_fingerprint(
    ngx_http_gw_auth_loc_conf_t *alcf);
static ngx_int_t ngx_http_gw_auth_init_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_gw_auth_local_fingerprint(ngx_conf_t *cf,
    ngx_http_gw_auth_loc_conf_t *alcf);
static ngx_int_t ngx_http_gw_auth_hash_prefix(ngx_conf_t *cf,
    ngx_http_gw_auth_loc_conf_t *alcf);
static ngx_int_t ngx_http_gw_auth_init(ngx_conf_t *cf);
static ngx_shm_zone_t *ngx_http_gw_auth_add_zone(ngx_conf_t *cf,
    ngx_str_t *name, size_t size);

static char *ngx_http_gw_auth(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_gw_auth_zone_local(ngx_conf_t *cf,
    ngx_http_gw_auth_main_conf_t *amcf, ngx_str_t *value);
static char *ngx_http_gw_auth_jwt_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_jwt_keys(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_add_keys(ngx_conf_t *cf,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_uint_t from);
static char *ngx_http_gw_auth_jwt_keys_url(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static void ngx_http_gw_auth_jwks_url_cleanup(void *data);
static char *ngx_http_gw_auth_introspect_conf(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_gw_auth_time_param(ngx_conf_t *cf, ngx_str_t *value,
    size_t prefix, time_t *t);
static char *ngx_http_gw_auth_jwt_algs(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_identity_claim(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_gw_auth_claim_path(ngx_str_t *name,
    ngx_array_t *elts);
static json_t *ngx_http_gw_auth_claim_get(json_t *payload,
    ngx_http_gw_auth_claim_name_t *claim);
static char *ngx_http_gw_auth_jwt_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_jwt_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_apikey_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_apikey_from(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_str_list(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_auth_max_depth(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_post_handler_pt  ngx_http_gw_auth_max_depth_p =
    ngx_http_gw_auth_max_depth;


static ngx_command_t  ngx_http_gw_auth_commands[] = {

    { ngx_string("gw_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_auth,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_gw_auth_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_jwt_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_gw_auth_jwt_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_jwt_keys"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_auth_jwt_keys,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_jwt_keys_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_gw_auth_jwt_keys_url,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_introspect"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_gw_auth_introspect_conf,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_jwt_algs"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_auth_jwt_algs,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_jwt_token"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, token),
      NULL },

    { ngx_string("gw_auth_jwt_issuer"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_auth_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, issuers),
      NULL },

    { ngx_string("gw_auth_jwt_audience"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_auth_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, audiences),
      NULL },

    { ngx_string("gw_auth_jwt_leeway"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, leeway),
      NULL },

    { ngx_string("gw_auth_jwt_require_exp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, require_exp),
      NULL },

    { ngx_string("gw_auth_jwt_max_size"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_size_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, max_size),
      NULL },

    { ngx_string("gw_auth_jwt_max_depth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, max_depth),
      &ngx_http_gw_auth_max_depth_p },

    { ngx_string("gw_auth_jwt_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_auth_jwt_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_jwt_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_gw_auth_jwt_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_scope"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_auth_str_list,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, scopes),
      NULL },

    { ngx_string("gw_auth_consumer_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_auth_identity_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, consumer_claim),
      NULL },

    { ngx_string("gw_auth_plan_claim"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_auth_identity_claim,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, plan_claim),
      NULL },

    { ngx_string("gw_auth_realm"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_auth_loc_conf_t, realm),
      NULL },

    { ngx_string("gw_auth_apikey_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_auth_apikey_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_auth_apikey_from"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_auth_apikey_from,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gw_auth_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_gw_auth_init,                 /* postconfiguration */

    ngx_http_gw_auth_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gw_auth_create_loc_conf,      /* create location configuration */
    ngx_http_gw_auth_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_gw_auth_module = {
    NGX_MODULE_V1,
    &ngx_http_gw_auth_module_ctx,          /* module context */
    ngx_http_gw_auth_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_gw_auth_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_str_t  ngx_http_gw_auth_default_zone = ngx_string("gw_auth");


static ngx_int_t
ngx_http_gw_auth_handler(ngx_http_request_t *r)
{
    ngx_http_gw_auth_ctx_t       *ctx;
    ngx_http_gw_auth_loc_conf_t  *alcf;

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_auth_module);

    if (alcf->methods & NGX_HTTP_GW_AUTH_OFF) {
        return NGX_DECLINED;
    }

    ctx = ngx_http_gw_auth_authenticate(r, 1);
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (ctx->pending) {
        /* a subrequest is out; the phase runs again when it is done */
        return NGX_AGAIN;
    }

    if (ctx->result == NGX_HTTP_GW_AUTH_RESULT_OK) {
        return NGX_OK;
    }

    return ngx_http_gw_auth_reject(r, alcf, ctx);
}


ngx_http_gw_auth_ctx_t *
ngx_http_gw_auth_authenticate(ngx_http_request_t *r, ngx_uint_t can_wait)
{
    ngx_int_t                     rc;
    ngx_str_t                     token;
    ngx_pool_cleanup_t           *cln;
    ngx_http_gw_auth_ctx_t       *ctx;
    ngx_http_gw_auth_loc_conf_t  *alcf;

    /*
     * Run once per request, by the access handler or by whichever module
     * reads one of the variables first (a rate limit in preaccess).  Only
     * the access handler may wait for a subrequest (can_wait); a variable
     * read before then finds the request pending, and empty values.
     */

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_auth_module);

    if (ctx == NULL) {
        ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_gw_auth_ctx_t));
        if (ctx == NULL) {
            return NULL;
        }

        cln = ngx_pool_cleanup_add(r->pool, 0);
        if (cln == NULL) {
            return NULL;
        }

        cln->handler = ngx_http_gw_auth_ctx_cleanup;
        cln->data = ctx;

        ngx_http_set_ctx(r, ctx, ngx_http_gw_auth_module);
    }

    if (ctx->done) {
        return ctx;
    }

    if (ctx->fetching && !ctx->fetch_done) {
        ctx->pending = 1;
        return ctx;
    }

    ctx->pending = 0;
    ctx->result = NGX_HTTP_GW_AUTH_RESULT_NONE;
    ctx->method = 0;
    ctx->cache = 0;
    ngx_str_null(&ctx->error);
    ngx_str_null(&ctx->consumer);
    ngx_str_null(&ctx->plan);
    ngx_str_null(&ctx->scopes);

    alcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_auth_module);

    if (alcf->methods & NGX_HTTP_GW_AUTH_JWT) {
        rc = ngx_http_gw_auth_jwt(r, alcf, ctx, can_wait);

        if (rc == NGX_ERROR) {
            return NULL;
        }

        if (rc == NGX_AGAIN) {
            ctx->pending = 1;
            return ctx;
        }

        if (rc == NGX_OK) {
            goto authenticated;
        }
    }

    if ((alcf->methods & NGX_HTTP_GW_AUTH_INTROSPECT)
        && ngx_http_gw_auth_jwt_token(r, alcf, &token) == NGX_OK)
    {
        rc = ngx_http_gw_auth_introspect(r, alcf, ctx, &token, can_wait);

        if (rc == NGX_ERROR) {
            return NULL;
        }

        if (rc == NGX_AGAIN) {
            ctx->pending = 1;
            return ctx;
        }

        if (rc == NGX_OK) {
            goto authenticated;
        }
    }

    if (alcf->methods & NGX_HTTP_GW_AUTH_APIKEY) {
        rc = ngx_http_gw_auth_apikey(r, alcf, ctx);

        if (rc == NGX_ERROR) {
            return NULL;
        }

        if (rc == NGX_OK) {
            goto authenticated;
        }
    }

    ctx->done = 1;

    return ctx;

authenticated:

    ctx->result = NGX_HTTP_GW_AUTH_RESULT_OK;
    ngx_str_null(&ctx->error);

    if (ngx_http_gw_auth_check_scopes(r, alcf, ctx) != NGX_OK) {
        return NULL;
    }

    ctx->done = 1;

    return ctx;
}


static void
ngx_http_gw_auth_ctx_cleanup(void *data)
{
    ngx_http_gw_auth_ctx_t  *ctx = data;

    if (ctx->header) {
        json_decref(ctx->header);
    }

    if (ctx->payload) {
        json_decref(ctx->payload);
    }
}


static ngx_int_t
ngx_http_gw_auth_check_scopes(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx)
{
    u_char      *p, *last, *start;
    size_t       len;
    ngx_str_t   *need;
    ngx_uint_t   i, found;

    if (alcf->scopes == NULL) {
        return NGX_OK;
    }

    need = alcf->scopes->elts;

    for (i = 0; i < alcf->scopes->nelts; i++) {
        found = 0;
        p = ctx->scopes.data;
        last = p + ctx->scopes.len;

        while (p < last && !found) {
            start = p;

            while (p < last && *p != ' ') {
                p++;
            }

            found = ((size_t) (p - start) == need[i].len
                     && ngx_memcmp(start, need[i].data, need[i].len) == 0);
            p++;
        }

        if (!found) {
            break;
        }
    }

    if (i == alcf->scopes->nelts) {
        return NGX_OK;
    }

    /* RFC 6750, section 3: the scope attribute lists what is needed */

    len = 0;

    for (i = 0; i < alcf->scopes->nelts; i++) {
        len += need[i].len + 1;
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ctx->missing_scope.data = p;

    for (i = 0; i < alcf->scopes->nelts; i++) {
        if (i) {
            *p++ = ' ';
        }

        p = ngx_cpymem(p, need[i].data, need[i].len);
    }

    ctx->missing_scope.len = p - ctx->missing_scope.data;
    ctx->result = NGX_HTTP_GW_AUTH_RESULT_DENIED;
    ngx_str_set(&ctx->error, "insufficient scope");

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_jwt_token(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_str_t *token)
{
    u_char           *p, *last;
    ngx_table_elt_t  *h;

    if (alcf->token) {
        if (ngx_http_complex_value(r, alcf->token, token) != NGX_OK) {
            return NGX_ERROR;
        }

        return token->len ? NGX_OK : NGX_DECLINED;
    }

    h = r->headers_in.authorization;

    if (h == NULL) {
        return NGX_DECLINED;
    }

    p = h->value.data;
    last = p + h->value.len;

    if (h->value.len < sizeof("Bearer ") - 1
        || ngx_strncasecmp(p, (u_char *) "Bearer ", sizeof("Bearer ") - 1)
           != 0)
    {
        /* another scheme, for another handler */
        return NGX_DECLINED;
    }

    p += sizeof("Bearer ") - 1;

    while (p < last && *p == ' ') {
        p++;
    }

    while (last > p && last[-1] == ' ') {
        last--;
    }

    token->data = p;
    token->len = last - p;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_jwt(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_uint_t can_wait)
{
    char                          *err;
    u_char                         fp[13];
    u_char                         hash[NGX_HTTP_GW_AUTH_HASH_LEN];
    time_t                         now;
    ngx_int_t                      rc;
    ngx_str_t                      token, desc;
    ngx_shm_zone_t                *zone;
    ngx_http_gw_jwt_t              jwt;
    ngx_http_gw_auth_main_conf_t  *amcf;

    rc = ngx_http_gw_auth_jwt_token(r, alcf, &token);
    if (rc != NGX_OK) {
        return rc;
    }

    ctx->method = NGX_HTTP_GW_AUTH_JWT;
    ctx->result = NGX_HTTP_GW_AUTH_RESULT_FAILED;

    now = ngx_time();
    err = NULL;
    ngx_str_null(&desc);

    /* a second run, after a subrequest: the first run's JSON goes */

    if (ctx->header) {
        json_decref(ctx->header);
        ctx->header = NULL;
    }

    if (ctx->payload) {
        json_decref(ctx->payload);
        ctx->payload = NULL;
    }

    if (ngx_http_gw_jwt_split(r->pool, token.data, token.len, alcf->max_size,
                              &jwt, &err)
        != NGX_OK)
    {
        goto failed;
    }

    ctx->header_b64 = jwt.header_b64;
    ctx->payload_b64 = jwt.payload_b64;
    ngx_str_null(&ctx->header_json);
    ngx_str_null(&ctx->payload_json);

    if (alcf->jwks_url) {
        if (ngx_http_gw_auth_jwt_decode(r->pool, ctx, &jwt, &err) != NGX_OK) {
            goto failed;
        }

        rc = ngx_http_gw_auth_jwks_keys(r, alcf, ctx, can_wait, 0);
        if (rc != NGX_OK) {
            return rc;
        }
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_gw_auth_module);
    zone = alcf->cache_ttl ? amcf->zone : NULL;

    if (zone) {
        rc = ngx_http_gw_auth_jwt_cached(r, alcf, ctx, &token, now, hash);
        if (rc != NGX_DECLINED) {
            return rc;
        }

        ctx->cache = 1;
    }

    if (ngx_http_gw_auth_jwt_decode(r->pool, ctx, &jwt, &err) != NGX_OK) {
        goto failed;
    }

    rc = ngx_http_gw_auth_jwt_check(r, alcf, ctx, &jwt, can_wait, now, &err,
                                    &desc);

    if (rc == NGX_DECLINED) {
        goto failed;
    }

    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_gw_auth_identity(r, alcf, ctx) != NGX_OK) {
        return NGX_ERROR;
    }

    if (zone) {
        ngx_http_gw_auth_jwt_store(r, alcf, ctx, &token, now, hash);
    }

    return NGX_OK;

failed:

    if (err) {
        desc.data = (u_char *) err;
        desc.len = ngx_strlen(err);
    }

    ctx->error = desc;

    ngx_http_gw_auth_fingerprint(&token, fp);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "gw_auth: token %s rejected: %V", fp, &desc);

    return NGX_DECLINED;
}


static u_char *
ngx_http_gw_auth_jwt_keys_fp(ngx_http_gw_auth_loc_conf_t *alcf)
{
    ngx_http_gw_auth_jwks_url_t  *url;

    /* what the worker's cache compares: a JWKS URL's current keys */

    url = alcf->jwks_url;

    return (url && url->keys) ? url->fp : alcf->local_fp;
}


static ngx_int_t
ngx_http_gw_auth_jwt_cached(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *token, time_t now, u_char *hash)
{
    ngx_int_t                      rc;
    ngx_str_t                      identity;
    ngx_http_gw_auth_blob_t        blob;
    ngx_http_gw_auth_main_conf_t  *amcf;

    amcf = ngx_http_get_module_main_conf(r, ngx_http_gw_auth_module);

    if (amcf->local) {

        /* this worker verified these very bytes here, and not long ago */

        rc = ngx_http_gw_auth_local_get(amcf->local, alcf->local_fp,
                                        ngx_http_gw_auth_jwt_keys_fp(alcf),
                                        token, now, r->pool, &identity);
        if (rc == NGX_ERROR) {
            return NGX_ERROR;
        }

        if (rc == NGX_OK
            && ngx_http_gw_auth_identity_unpack(ctx, &identity) == NGX_OK)
        {
            ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                           "gw_auth: worker token cache hit");
            ctx->cache = 2;
            return NGX_OK;
        }
    }

    /*
     * The hash covers the key sets, the algorithm allowlist and the
     * location's checks: a hit means this very token passed them all
     * here, and only exp can have changed since, which the entry's
     * expiry covers.  Neither the header nor the payload is parsed
     * then (unless a variable asks for them).
     */

    if (ngx_http_gw_auth_jwt_hash(amcf, alcf, token, hash) != NGX_OK) {
        return NGX_ERROR;
    }

    rc = ngx_http_gw_auth_cache_get_blob(amcf->zone, hash, r->pool, &blob);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc != NGX_OK
        || blob.expires <= now
        || ngx_http_gw_auth_identity_unpack(ctx, &blob.data) != NGX_OK)
    {
        return NGX_DECLINED;
    }

    ngx_log_debug0(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "gw_auth: verified-token cache hit");

    if (amcf->local) {
        ngx_http_gw_auth_local_put(amcf->local, alcf->local_fp,
                                   ngx_http_gw_auth_jwt_keys_fp(alcf),
                                   token, blob.expires, &blob.data);
    }

    ctx->cache = 2;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_jwt_hash(ngx_http_gw_auth_main_conf_t *amcf,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_str_t *token, u_char *hash)
{
    unsigned int                  n;
    EVP_MD_CTX                   *md;
    ngx_http_gw_auth_jwks_url_t  *url;

    md = amcf->md;
    url = alcf->jwks_url;

    if (alcf->hash_prefix) {
        if (EVP_MD_CTX_copy_ex(md, alcf->hash_prefix) != 1) {
            return NGX_ERROR;
        }

    } else if (EVP_DigestInit_ex(md, amcf->sha256, NULL) != 1
               || EVP_DigestUpdate(md, alcf->keys_fp, sizeof(alcf->keys_fp))
                  != 1
               || (url && url->keys
                   && EVP_DigestUpdate(md, url->fp, sizeof(url->fp)) != 1)
               || EVP_DigestUpdate(md, alcf->policy_fp,
                                   sizeof(alcf->policy_fp))
                  != 1
               || EVP_DigestUpdate(md, &alcf->algs, sizeof(alcf->algs)) != 1)
    {
        return NGX_ERROR;
    }

    if (EVP_DigestUpdate(md, token->data, token->len) != 1
        || EVP_DigestFinal_ex(md, hash, &n) != 1)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_jwt_check(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_http_gw_jwt_t *jwt, ngx_uint_t can_wait, time_t now, char **err,
    ngx_str_t *desc)
{
    json_t                       *v;
    ngx_int_t                     rc;
    ngx_str_t                     kid;
    ngx_uint_t                    candidates;
    ngx_http_gw_auth_alg_t       *alg;
    ngx_http_gw_auth_jwks_url_t  *url;

    /* NGX_DECLINED: rejected, with *err or *desc saying why */

    if (ngx_http_gw_jwt_parse_header(jwt, alcf->max_depth, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->header = jwt->header;

    if (ngx_http_gw_jwt_parse_payload(jwt, alcf->max_depth, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    ctx->payload = jwt->payload;

    v = json_object_get(jwt->header, "alg");
    if (!json_is_string(v)) {
        *err = "missing alg";
        return NGX_DECLINED;
    }

    alg = ngx_http_gw_auth_alg_by_name((u_char *) json_string_value(v),
                                       json_string_length(v));

    if (alg == NULL) {
        *err = "unsupported algorithm";
        return NGX_DECLINED;
    }

    if (alcf->algs
        && !(alcf->algs & ((ngx_uint_t) 1 << ngx_http_gw_auth_alg_index(alg))))
    {
        *err = "algorithm not allowed";
        return NGX_DECLINED;
    }

    if (jwt->signature_b64.len == 0) {
        *err = "missing signature";
        return NGX_DECLINED;
    }

    /* RFC 7515, section 4.1.11: no extension is understood here */

    if (json_object_get(jwt->header, "crit") != NULL) {
        *err = "unsupported critical header";
        return NGX_DECLINED;
    }

    ngx_str_null(&kid);

    v = json_object_get(jwt->header, "kid");
    if (v) {
        if (!json_is_string(v)) {
            *err = "invalid kid";
            return NGX_DECLINED;
        }

        kid.data = (u_char *) json_string_value(v);
        kid.len = json_string_length(v);
    }

    if (ngx_http_gw_jwt_decode_signature(r->pool, jwt, err) != NGX_OK) {
        return NGX_DECLINED;
    }

    url = alcf->jwks_url;
    candidates = 0;

    rc = ngx_http_gw_auth_jwt_verify(jwt, alcf->keys, alg, &kid, &candidates);

    if (rc == NGX_DECLINED && url && url->keys) {
        rc = ngx_http_gw_auth_jwt_verify(jwt, url->keys, alg, &kid,
                                         &candidates);
    }

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED) {

        if (candidates == 0 && url) {

            /* a key rotated in at the provider: re-fetch, rate-limited */

            rc = ngx_http_gw_auth_jwks_keys(r, alcf, ctx, can_wait, 1);
            if (rc != NGX_OK) {
                return rc;
            }
        }

        *err = candidates ? "bad signature" : "unknown key";
        return NGX_DECLINED;
    }

    rc = ngx_http_gw_jwt_check_claims(alcf, jwt->payload, now,
                                      alcf->require_exp, r->pool, desc);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    return (rc == NGX_OK) ? NGX_OK : NGX_DECLINED;
}


static void
ngx_http_gw_auth_jwt_store(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *token, time_t now, u_char *hash)
{
    json_t                        *v;
    ngx_http_gw_auth_blob_t        blob;
    ngx_http_gw_auth_main_conf_t  *amcf;

    /* cached until the earlier of the token's exp and the cache time */

    blob.expires = now + alcf->cache_ttl;
    blob.aux = 0;

    v = json_object_get(ctx->payload, "exp");
    if (json_is_number(v)
        && json_number_value(v) + alcf->leeway < (double) blob.expires)
    {
        blob.expires = (time_t) json_number_value(v) + alcf->leeway;
    }

    if (blob.expires <= now
        || ngx_http_gw_auth_identity_pack(r->pool, ctx, &blob.data) != NGX_OK)
    {
        return;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_gw_auth_module);

    (void) ngx_http_gw_auth_cache_put_blob(amcf->zone, hash, &blob);

    if (amcf->local) {
        ngx_http_gw_auth_local_put(amcf->local, alcf->local_fp,
                                   ngx_http_gw_auth_jwt_keys_fp(alcf),
                                   token, blob.expires, &blob.data);
    }
}


static ngx_int_t
ngx_http_gw_auth_jwt_decode(ngx_pool_t *pool, ngx_http_gw_auth_ctx_t *ctx,
    ngx_http_gw_jwt_t *jwt, char **err)
{
    if (jwt->header_json.data) {
        return NGX_OK;
    }

    if (ngx_http_gw_jwt_decode_parts(pool, jwt, err) != NGX_OK) {
        return NGX_ERROR;
    }

    ctx->header_json = jwt->header_json;
    ctx->payload_json = jwt->payload_json;

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_auth_ctx_json(ngx_pool_t *pool, ngx_http_gw_auth_ctx_t *ctx)
{
    char               *err;
    ngx_http_gw_jwt_t   jwt;

    /* a cached token's parts were not decoded: they are now */

    if (ctx->header_json.data || ctx->header_b64.len == 0) {
        return NGX_OK;
    }

    ngx_memzero(&jwt, sizeof(ngx_http_gw_jwt_t));

    jwt.header_b64 = ctx->header_b64;
    jwt.payload_b64 = ctx->payload_b64;

    return ngx_http_gw_auth_jwt_decode(pool, ctx, &jwt, &err);
}


static ngx_int_t
ngx_http_gw_auth_identity_pack(ngx_pool_t *pool, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *out)
{
    u_char      *p;
    uint32_t     len;
    ngx_str_t   *s[3];
    ngx_uint_t   i;

    /* consumer, plan, scopes: each a 32-bit length and the bytes */

    s[0] = &ctx->consumer;
    s[1] = &ctx->plan;
    s[2] = &ctx->scopes;

    out->len = 3 * sizeof(uint32_t) + s[0]->len + s[1]->len + s[2]->len;

    out->data = ngx_pnalloc(pool, out->len);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < 3; i++) {
        len = (uint32_t) s[i]->len;
        p = ngx_cpymem(p, &len, sizeof(uint32_t));
        p = ngx_cpymem(p, s[i]->data, s[i]->len);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_identity_unpack(ngx_http_gw_auth_ctx_t *ctx, ngx_str_t *in)
{
    u_char      *p, *last;
    uint32_t     len;
    ngx_str_t   *s[3];
    ngx_uint_t   i;

    s[0] = &ctx->consumer;
    s[1] = &ctx->plan;
    s[2] = &ctx->scopes;

    p = in->data;
    last = in->data + in->len;

    for (i = 0; i < 3; i++) {
        if ((size_t) (last - p) < sizeof(uint32_t)) {
            return NGX_ERROR;
        }

        ngx_memcpy(&len, p, sizeof(uint32_t));
        p += sizeof(uint32_t);

        if ((size_t) (last - p) < len) {
            return NGX_ERROR;
        }

        s[i]->data = p;
        s[i]->len = len;
        p += len;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_jwt_verify(ngx_http_gw_jwt_t *jwt, ngx_array_t *keys,
    ngx_http_gw_auth_alg_t *alg, ngx_str_t *kid, ngx_uint_t *candidates)
{
    ngx_int_t                rc;
    ngx_uint_t               i;
    ngx_http_gw_auth_key_t  *key;

    if (keys == NULL) {
        return NGX_DECLINED;
    }

    /* only keys bound to the token's algorithm, and to its kid if any */

    key = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        if (key[i].alg != alg) {
            continue;
        }

        if (kid->len
            && key[i].kid.len
            && (key[i].kid.len != kid->len
                || ngx_memcmp(key[i].kid.data, kid->data, kid->len) != 0))
        {
            continue;
        }

        (*candidates)++;

        rc = ngx_http_gw_jwt_verify(&key[i], jwt);

        if (rc != NGX_DECLINED) {
            return rc;
        }
    }

    return NGX_DECLINED;
}


ngx_int_t
ngx_http_gw_auth_identity(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx)
{
    json_t  *v;

    if (alcf->consumer_claim.name.len) {
        v = ngx_http_gw_auth_claim_get(ctx->payload, &alcf->consumer_claim);

    } else {
        v = json_object_get(ctx->payload, "sub");
        if (v == NULL) {
            v = json_object_get(ctx->payload, "client_id");
        }
    }

    if (v && !json_is_null(v)
        && ngx_http_gw_jwt_json_string(r->pool, v, &ctx->consumer) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (alcf->plan_claim.name.len) {
        v = ngx_http_gw_auth_claim_get(ctx->payload, &alcf->plan_claim);

        if (v && !json_is_null(v)
            && ngx_http_gw_jwt_json_string(r->pool, v, &ctx->plan) != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return ngx_http_gw_jwt_scopes(r->pool, ctx->payload, &ctx->scopes);
}


static json_t *
ngx_http_gw_auth_claim_get(json_t *payload,
    ngx_http_gw_auth_claim_name_t *claim)
{
    json_t  *v;

    /* a claim named with dots ("https://example.com/plan") comes first */

    v = json_object_get(payload, (char *) claim->name.data);

    if (v == NULL && claim->path.nelts > 1) {
        v = ngx_http_gw_jwt_lookup(payload, &claim->path);
    }

    return v;
}


static ngx_int_t
ngx_http_gw_auth_apikey(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx)
{
    u_char                         fp[13];
    ngx_str_t                      value;
    ngx_uint_t                     i;
    ngx_list_part_t               *part;
    ngx_table_elt_t               *h;
    ngx_http_gw_auth_apikey_t     *key;
    ngx_http_gw_auth_main_conf_t  *amcf;

    ngx_str_null(&value);

    if (alcf->apikey_query.len) {
        if (ngx_http_arg(r, alcf->apikey_query.data, alcf->apikey_query.len,
                         &value)
            != NGX_OK)
        {
            return NGX_DECLINED;
        }

    } else {
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

            if (h[i].key.len == alcf->apikey_header.len
                && ngx_strncasecmp(h[i].key.data, alcf->apikey_header.data,
                                   h[i].key.len)
                   == 0)
            {
                value = h[i].value;
                break;
            }
        }
    }

    if (value.len == 0) {
        return NGX_DECLINED;
    }

    /* a JWT failure found first keeps its description */

    if (ctx->result == NGX_HTTP_GW_AUTH_RESULT_NONE) {
        ctx->method = NGX_HTTP_GW_AUTH_APIKEY;
        ctx->result = NGX_HTTP_GW_AUTH_RESULT_FAILED;
    }

    amcf = ngx_http_get_module_main_conf(r, ngx_http_gw_auth_module);

    key = ngx_http_gw_auth_apikey_find(alcf->apikeys, &value, amcf->sha256);

    if (key == NULL || (key->expires && key->expires <= ngx_time())) {

        ngx_http_gw_auth_fingerprint(&value, fp);

        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "gw_auth: API key %s rejected: %s", fp,
                      key ? "expired" : "unknown");

        if (ctx->method == NGX_HTTP_GW_AUTH_APIKEY) {
            if (key) {
                ngx_str_set(&ctx->error, "API key expired");

            } else {
                ngx_str_set(&ctx->error, "unknown API key");
            }
        }

        return NGX_DECLINED;
    }

    ctx->method = NGX_HTTP_GW_AUTH_APIKEY;
    ctx->consumer = key->consumer;
    ctx->plan = key->plan;
    ctx->scopes = key->scopes;

    return NGX_OK;
}


static void
ngx_http_gw_auth_fingerprint(ngx_str_t *token, u_char *out)
{
    u_char        hash[EVP_MAX_MD_SIZE];
    unsigned int  len;

    /* the first 6 bytes of SHA-256, enough to correlate log lines */

    if (EVP_Digest(token->data, token->len, hash, &len, EVP_sha256(), NULL)
        != 1)
    {
        ngx_memzero(hash, 6);
    }

    ngx_hex_dump(out, hash, 6);
    out[12] = '\0';
}


static ngx_int_t
ngx_http_gw_auth_reject(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx)
{
    ngx_http_gw_problem_t      problem;
    ngx_http_core_loc_conf_t  *clcf;

    if (ctx->result != NGX_HTTP_GW_AUTH_RESULT_ERROR
        && ngx_http_gw_auth_challenge(r, alcf, ctx) != NGX_OK)
    {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));

    switch (ctx->result) {

    case NGX_HTTP_GW_AUTH_RESULT_DENIED:
        problem.status = NGX_HTTP_FORBIDDEN;
        problem.detail = ctx->error;
        break;

    case NGX_HTTP_GW_AUTH_RESULT_FAILED:
        problem.status = NGX_HTTP_UNAUTHORIZED;
        problem.detail = ctx->error;
        break;

    case NGX_HTTP_GW_AUTH_RESULT_ERROR:
        problem.status = NGX_HTTP_SERVICE_UNAVAILABLE;
        problem.detail = ctx->error;
        break;

    default:
        problem.status = NGX_HTTP_UNAUTHORIZED;
        ngx_str_set(&problem.detail, "authentication required");
        break;
    }

    /*
     * Under "satisfy any" another access handler may still let the
     * request in, so only the status is returned there; the problem
     * replaces nginx's page if none does.
     */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (clcf->satisfy == NGX_HTTP_SATISFY_ANY
        && problem.status != NGX_HTTP_SERVICE_UNAVAILABLE)
    {
        if (ngx_http_gw_auth_satisfy_mark(r, ctx, &problem) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return problem.status;
    }

    return ngx_http_gw_problem_finalize(r, &problem);
}


static u_char *
ngx_http_gw_auth_quote(u_char *p, ngx_str_t *s)
{
    size_t  i;

    /* an RFC 9110 quoted-string; control characters are dropped */

    *p++ = '"';

    for (i = 0; i < s->len; i++) {
        if (s->data[i] == '"' || s->data[i] == '\\') {
            *p++ = '\\';

        } else if (s->data[i] < 0x20 || s->data[i] == 0x7f) {
            continue;
        }

        *p++ = s->data[i];
    }

    *p++ = '"';

    return p;
}


static ngx_int_t
ngx_http_gw_auth_challenge(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx)
{
    u_char           *p;
    size_t            len;
    ngx_uint_t        bearer;
    ngx_table_elt_t  *h;

    bearer = (alcf->methods
              & (NGX_HTTP_GW_AUTH_JWT|NGX_HTTP_GW_AUTH_INTROSPECT)) ? 1 : 0;

    len = sizeof("ApiKey realm=") - 1 + 2 + 2 * alcf->realm.len
          + sizeof(", error=\"insufficient_scope\", scope=") - 1
          + 2 + 2 * ctx->missing_scope.len
          + sizeof(", error=\"invalid_token\", error_description=") - 1
          + 2 + 2 * ctx->error.len;

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "WWW-Authenticate");
    h->value.data = p;

    if (bearer) {
        p = ngx_cpymem(p, "Bearer realm=", sizeof("Bearer realm=") - 1);

    } else {
        p = ngx_cpymem(p, "ApiKey realm=", sizeof("ApiKey realm=") - 1);
    }

    p = ngx_http_gw_auth_quote(p, &alcf->realm);

    if (ctx->result == NGX_HTTP_GW_AUTH_RESULT_DENIED && bearer) {
        p = ngx_cpymem(p, ", error=\"insufficient_scope\", scope=",
                       sizeof(", error=\"insufficient_scope\", scope=") - 1);
        p = ngx_http_gw_auth_quote(p, &ctx->missing_scope);

    } else if (ctx->result == NGX_HTTP_GW_AUTH_RESULT_FAILED
               && ctx->method != NGX_HTTP_GW_AUTH_APIKEY)
    {
        p = ngx_cpymem(p, ", error=\"invalid_token\", error_description=",
                       sizeof(", error=\"invalid_token\", error_description=")
                       - 1);
        p = ngx_http_gw_auth_quote(p, &ctx->error);
    }

    h->value.len = p - h->value.data;

    r->headers_out.www_authenticate = h;

    return NGX_OK;
}


static void
ngx_http_gw_auth_md_cleanup(void *data)
{
    EVP_MD_free(data);
}


static void
ngx_http_gw_auth_md_ctx_cleanup(void *data)
{
    EVP_MD_CTX_free(data);
}


static void *
ngx_http_gw_auth_create_main_conf(ngx_conf_t *cf)
{
    ngx_pool_cleanup_t            *cln;
    ngx_http_gw_auth_main_conf_t  *amcf;

    amcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_auth_main_conf_t));
    if (amcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     amcf->zone = NULL;
     *     amcf->local = NULL;
     *     amcf->jwt = 0;
     */

    amcf->local_slots = NGX_HTTP_GW_AUTH_LOCAL_SLOTS;

    /* an explicit fetch spares OpenSSL 3 a lookup on every request */

    amcf->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (amcf->sha256 == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        EVP_MD_free(amcf->sha256);
        return NULL;
    }

    cln->handler = ngx_http_gw_auth_md_cleanup;
    cln->data = amcf->sha256;

    /* one digest context per process: no malloc() per cached token */

    amcf->md = EVP_MD_CTX_new();
    if (amcf->md == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        EVP_MD_CTX_free(amcf->md);
        return NULL;
    }

    cln->handler = ngx_http_gw_auth_md_ctx_cleanup;
    cln->data = amcf->md;

    return amcf;
}


static void *
ngx_http_gw_auth_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gw_auth_loc_conf_t  *alcf;

    alcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_auth_loc_conf_t));
    if (alcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     alcf->keys_fp = { 0 };
     *     alcf->hash_prefix = NULL;
     *     alcf->consumer_claim = { { 0, NULL }, ... };
     *     alcf->plan_claim = { { 0, NULL }, ... };
     *     alcf->realm = { 0, NULL };
     *     alcf->apikey_header = { 0, NULL };
     *     alcf->apikey_query = { 0, NULL };
     */

    alcf->methods = NGX_CONF_UNSET_UINT;
    alcf->keys = NGX_CONF_UNSET_PTR;
    alcf->algs = NGX_CONF_UNSET_UINT;
    alcf->token = NGX_CONF_UNSET_PTR;
    alcf->issuers = NGX_CONF_UNSET_PTR;
    alcf->audiences = NGX_CONF_UNSET_PTR;
    alcf->leeway = NGX_CONF_UNSET;
    alcf->require_exp = NGX_CONF_UNSET;
    alcf->cache_ttl = NGX_CONF_UNSET;
    alcf->max_size = NGX_CONF_UNSET_SIZE;
    alcf->max_depth = NGX_CONF_UNSET_UINT;
    alcf->claims = NGX_CONF_UNSET_PTR;
    alcf->scopes = NGX_CONF_UNSET_PTR;
    alcf->apikeys = NGX_CONF_UNSET_PTR;
    alcf->jwks_url = NGX_CONF_UNSET_PTR;
    alcf->introspect = NGX_CONF_UNSET_PTR;

    return alcf;
}


static char *
ngx_http_gw_auth_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_gw_auth_loc_conf_t  *prev = parent;
    ngx_http_gw_auth_loc_conf_t  *conf = child;

    ngx_conf_merge_uint_value(conf->methods, prev->methods,
                              NGX_HTTP_GW_AUTH_OFF);

    if (conf->keys == NGX_CONF_UNSET_PTR) {
        conf->keys = prev->keys;
        ngx_memcpy(conf->keys_fp, prev->keys_fp, sizeof(conf->keys_fp));
    }

    ngx_conf_merge_ptr_value(conf->keys, NULL, NULL);

    ngx_conf_merge_uint_value(conf->algs, prev->algs, 0);
    ngx_conf_merge_ptr_value(conf->token, prev->token, NULL);
    ngx_conf_merge_ptr_value(conf->issuers, prev->issuers, NULL);
    ngx_conf_merge_ptr_value(conf->audiences, prev->audiences, NULL);
    ngx_conf_merge_sec_value(conf->leeway, prev->leeway, 0);
    ngx_conf_merge_value(conf->require_exp, prev->require_exp, 1);
    ngx_conf_merge_sec_value(conf->cache_ttl, prev->cache_ttl,
                             NGX_HTTP_GW_AUTH_MAX_CACHE_TTL);
    ngx_conf_merge_size_value(conf->max_size, prev->max_size, 8192);
    ngx_conf_merge_uint_value(conf->max_depth, prev->max_depth, 16);
    ngx_conf_merge_ptr_value(conf->claims, prev->claims, NULL);
    ngx_conf_merge_ptr_value(conf->scopes, prev->scopes, NULL);
    if (conf->consumer_claim.name.data == NULL) {
        conf->consumer_claim = prev->consumer_claim;
    }

    if (conf->plan_claim.name.data == NULL) {
        conf->plan_claim = prev->plan_claim;
    }
    ngx_conf_merge_str_value(conf->realm, prev->realm, "api");
    ngx_conf_merge_ptr_value(conf->apikeys, prev->apikeys, NULL);
    ngx_conf_merge_ptr_value(conf->jwks_url, prev->jwks_url, NULL);
    ngx_conf_merge_ptr_value(conf->introspect, prev->introspect, NULL);

    if (conf->apikey_header.data == NULL && conf->apikey_query.data == NULL) {
        conf->apikey_header = prev->apikey_header;
        conf->apikey_query = prev->apikey_query;
    }

    if (conf->apikey_header.data == NULL && conf->apikey_query.data == NULL) {
        ngx_str_set(&conf->apikey_header, "X-API-Key");
    }

    if (ngx_http_gw_auth_policy_fingerprint(conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if ((conf->methods & NGX_HTTP_GW_AUTH_JWT)
        && conf->cache_ttl
        && conf->jwks_url == NULL
        && ngx_http_gw_auth_hash_prefix(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if ((conf->methods & NGX_HTTP_GW_AUTH_JWT)
        && conf->cache_ttl
        && ngx_http_gw_auth_local_fingerprint(cf, conf) != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    if ((conf->methods & NGX_HTTP_GW_AUTH_APIKEY) && conf->apikeys == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gw_auth apikey\" needs gw_auth_apikey_file");
        return NGX_CONF_ERROR;
    }

    if ((conf->methods & NGX_HTTP_GW_AUTH_JWT)
        && conf->keys == NULL && conf->jwks_url == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gw_auth jwt\" needs gw_auth_jwt_key, "
                           "gw_auth_jwt_keys or gw_auth_jwt_keys_url");
        return NGX_CONF_ERROR;
    }

    if ((conf->methods & NGX_HTTP_GW_AUTH_INTROSPECT)
        && conf->introspect == NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"gw_auth introspect\" needs gw_auth_introspect");
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gw_auth_policy_fingerprint(ngx_http_gw_auth_loc_conf_t *alcf)
{
    int            ok;
    u_char         sep;
    ngx_str_t     *v;
    ngx_uint_t     i, j, k, nums[4];
    EVP_MD_CTX    *md;
    ngx_array_t   *lists[2];
    unsigned int   n;

    ngx_http_gw_auth_claim_rule_t  *rule;

    /* what a cached token's identity depends on besides the keys */

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    sep = 0;
    nums[0] = (ngx_uint_t) alcf->leeway;
    nums[1] = (ngx_uint_t) alcf->require_exp;
    nums[2] = alcf->max_depth;
    nums[3] = 0;

    ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL)
         && EVP_DigestUpdate(md, nums, sizeof(nums))
         && EVP_DigestUpdate(md, alcf->consumer_claim.name.data,
                             alcf->consumer_claim.name.len)
         && EVP_DigestUpdate(md, &sep, 1)
         && EVP_DigestUpdate(md, alcf->plan_claim.name.data,
                             alcf->plan_claim.name.len)
         && EVP_DigestUpdate(md, &sep, 1);

    lists[0] = alcf->issuers;
    lists[1] = alcf->audiences;

    for (k = 0; ok && k < 2; k++) {
        if (lists[k] == NULL) {
            ok = EVP_DigestUpdate(md, "-", 1);
            continue;
        }

        v = lists[k]->elts;

        for (i = 0; ok && i < lists[k]->nelts; i++) {
            ok = EVP_DigestUpdate(md, v[i].data, v[i].len)
                 && EVP_DigestUpdate(md, &sep, 1);
        }

        ok = ok && EVP_DigestUpdate(md, "|", 1);
    }

    if (alcf->claims) {
        rule = alcf->claims->elts;

        for (i = 0; ok && i < alcf->claims->nelts; i++) {
            ok = EVP_DigestUpdate(md, rule[i].path.data, rule[i].path.len)
                 && EVP_DigestUpdate(md, &rule[i].op, sizeof(ngx_uint_t));

            v = rule[i].values.elts;

            for (j = 0; ok && j < rule[i].values.nelts; j++) {
                ok = EVP_DigestUpdate(md, v[j].data, v[j].len)
                     && EVP_DigestUpdate(md, &sep, 1);
            }

            ok = ok && EVP_DigestUpdate(md, "|", 1);
        }
    }

    ok = ok && EVP_DigestFinal_ex(md, alcf->policy_fp, &n);

    EVP_MD_CTX_free(md);

    return ok ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_gw_auth_hash_prefix(ngx_conf_t *cf, ngx_http_gw_auth_loc_conf_t *alcf)
{
    EVP_MD_CTX                    *md;
    ngx_pool_cleanup_t            *cln;
    ngx_http_gw_auth_main_conf_t  *amcf;

    /*
     * Without a JWKS URL the verified-token hash starts with 72 fixed
     * bytes: hashed once here, a cache lookup copies the state.
     */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_auth_module);

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        EVP_MD_CTX_free(md);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_gw_auth_md_ctx_cleanup;
    cln->data = md;

    if (EVP_DigestInit_ex(md, amcf->sha256, NULL) != 1
        || EVP_DigestUpdate(md, alcf->keys_fp, sizeof(alcf->keys_fp)) != 1
        || EVP_DigestUpdate(md, alcf->policy_fp, sizeof(alcf->policy_fp)) != 1
        || EVP_DigestUpdate(md, &alcf->algs, sizeof(alcf->algs)) != 1)
    {
        return NGX_ERROR;
    }

    alcf->hash_prefix = md;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_local_fingerprint(ngx_conf_t *cf,
    ngx_http_gw_auth_loc_conf_t *alcf)
{
    int                            ok;
    unsigned int                   n;
    EVP_MD_CTX                    *md;
    ngx_http_gw_auth_main_conf_t  *amcf;

    /*
     * What a worker's cached token was verified against: the key sets,
     * the checks and the algorithms, as the shared cache's hash covers
     * them (a JWKS URL's current keys are compared apart).
     */

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_auth_module);

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    ok = EVP_DigestInit_ex(md, amcf->sha256, NULL)
         && EVP_DigestUpdate(md, alcf->keys_fp, sizeof(alcf->keys_fp))
         && EVP_DigestUpdate(md, alcf->policy_fp, sizeof(alcf->policy_fp))
         && EVP_DigestUpdate(md, &alcf->algs, sizeof(alcf->algs))
         && EVP_DigestFinal_ex(md, alcf->local_fp, &n);

    EVP_MD_CTX_free(md);

    return ok ? NGX_OK : NGX_ERROR;
}


static ngx_int_t
ngx_http_gw_auth_init_process(ngx_cycle_t *cycle)
{
    ngx_http_gw_auth_main_conf_t  *amcf;

    amcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gw_auth_module);
    if (amcf == NULL) {
        return NGX_OK;
    }

    return ngx_http_gw_auth_local_init(cycle, amcf);
}


static ngx_shm_zone_t *
ngx_http_gw_auth_add_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_shm_zone_t            *zone;
    ngx_http_gw_auth_cache_t  *cache;

    cache = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_auth_cache_t));
    if (cache == NULL) {
        return NULL;
    }

    zone = ngx_shared_memory_add(cf, name, size, &ngx_http_gw_auth_module);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate gw_auth_zone \"%V\"", name);
        return NULL;
    }

    zone->init = ngx_http_gw_auth_cache_init_zone;
    zone->data = cache;

    return zone;
}


static ngx_int_t
ngx_http_gw_auth_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt           *h;
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_gw_auth_main_conf_t  *amcf;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_auth_module);

    if (amcf->zone == NULL && amcf->jwt) {
        amcf->zone = ngx_http_gw_auth_add_zone(cf,
                                           &ngx_http_gw_auth_default_zone,
                                           NGX_HTTP_GW_AUTH_DEFAULT_ZONE_SIZE);
        if (amcf->zone == NULL) {
            return NGX_ERROR;
        }
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_ACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_gw_auth_handler;

    if (ngx_http_gw_auth_satisfy_init(cf) != NGX_OK) {
        return NGX_ERROR;
    }

    return ngx_http_gw_auth_add_variables(cf);
}


static char *
ngx_http_gw_auth(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t   *value;
    ngx_uint_t   i;

    if (alcf->methods != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    alcf->methods = 0;

    if (cf->args->nelts == 2 && ngx_strcmp(value[1].data, "off") == 0) {
        alcf->methods = NGX_HTTP_GW_AUTH_OFF;
        return NGX_CONF_OK;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "jwt") == 0) {
            alcf->methods |= NGX_HTTP_GW_AUTH_JWT;
            continue;
        }

        if (ngx_strcmp(value[i].data, "apikey") == 0) {
            alcf->methods |= NGX_HTTP_GW_AUTH_APIKEY;
            continue;
        }

        if (ngx_strcmp(value[i].data, "introspect") == 0) {
            alcf->methods |= NGX_HTTP_GW_AUTH_INTROSPECT;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_auth method \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_main_conf_t *amcf = conf;

    ssize_t     size;
    ngx_str_t  *value, s;

    if (amcf->zone) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[2].data, "size=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    s.data = value[2].data + 5;
    s.len = value[2].len - 5;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR || size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_auth_zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 4) {
        if (ngx_http_gw_auth_zone_local(cf, amcf, &value[3]) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    amcf->zone = ngx_http_gw_auth_add_zone(cf, &value[1], size);
    if (amcf->zone == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gw_auth_zone_local(ngx_conf_t *cf,
    ngx_http_gw_auth_main_conf_t *amcf, ngx_str_t *value)
{
    ngx_int_t   n;
    ngx_uint_t  slots;

    if (value->len <= sizeof("worker_cache=") - 1
        || ngx_strncmp(value->data, "worker_cache=",
                       sizeof("worker_cache=") - 1)
           != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", value);
        return NGX_ERROR;
    }

    n = ngx_atoi(value->data + sizeof("worker_cache=") - 1,
                 value->len - (sizeof("worker_cache=") - 1));

    if (n == NGX_ERROR || n > 1048576) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_auth_zone worker_cache \"%V\"", value);
        return NGX_ERROR;
    }

    /* a power of two, so that a slot is found with a mask */

    for (slots = n ? 1 : 0; slots && slots < (ngx_uint_t) n; slots <<= 1) {
        /* void */
    }

    amcf->local_slots = slots;

    return NGX_OK;
}


static char *
ngx_http_gw_auth_add_keys(ngx_conf_t *cf, ngx_http_gw_auth_loc_conf_t *alcf,
    ngx_uint_t from)
{
    ngx_uint_t                     i;
    ngx_http_gw_auth_key_t        *key;
    ngx_http_gw_auth_main_conf_t  *amcf;

    /* the key set's fingerprint covers every key added so far */

    key = alcf->keys->elts;

    for (i = from; i < alcf->keys->nelts; i++) {
        if (ngx_http_gw_auth_key_fingerprint(&key[i], alcf->keys_fp)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_auth_module);
    amcf->jwt = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_jwt_key(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    char                    *rv;
    ngx_str_t               *value, file, secret, err;
    ngx_uint_t               i, from;
    ngx_http_gw_auth_key_t  *key;

    value = cf->args->elts;

    if (alcf->keys == NGX_CONF_UNSET_PTR) {
        alcf->keys = ngx_array_create(cf->pool, 4,
                                      sizeof(ngx_http_gw_auth_key_t));
        if (alcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    from = alcf->keys->nelts;

    key = ngx_array_push(alcf->keys);
    if (key == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(key, sizeof(ngx_http_gw_auth_key_t));

    key->alg = ngx_http_gw_auth_alg_by_name(value[1].data, value[1].len);
    if (key->alg == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid JWT algorithm \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    ngx_str_null(&file);
    ngx_str_null(&secret);

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "file=", 5) == 0
            && value[i].len > 5)
        {
            file.data = value[i].data + 5;
            file.len = value[i].len - 5;
            continue;
        }

        if (ngx_strncmp(value[i].data, "secret=", 7) == 0
            && value[i].len > 7)
        {
            secret.data = value[i].data + 7;
            secret.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "secret_file=", 12) == 0
            && value[i].len > 12)
        {
            secret.data = value[i].data + 12;
            secret.len = value[i].len - 12;

            if (ngx_http_gw_auth_read_secret(cf, &secret) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "kid=", 4) == 0 && value[i].len > 4) {
            key->kid.data = value[i].data + 4;
            key->kid.len = value[i].len - 4;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if ((file.len == 0) == (secret.len == 0)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_auth_jwt_key needs exactly one of file=, "
                           "secret= or secret_file=");
        return NGX_CONF_ERROR;
    }

    if (file.len) {
        rv = ngx_http_gw_auth_key_pem(cf, key, &file);
        if (rv != NGX_CONF_OK) {
            return rv;
        }

    } else {
        if (key->alg->family != NGX_HTTP_GW_AUTH_HMAC) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "\"%V\" needs file=, not a secret",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        key->secret = secret;

        if (key->secret.len
            < (size_t) EVP_MD_get_size(key->alg->md()))
        {
            ngx_str_set(&err, "secret is shorter than the hash of");
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V \"%V\" (%d bytes)",
                               &err, &value[1],
                               EVP_MD_get_size(key->alg->md()));
            return NGX_CONF_ERROR;
        }
    }

    return ngx_http_gw_auth_add_keys(cf, alcf, from);
}


static char *
ngx_http_gw_auth_jwt_keys(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    char        *rv;
    ngx_str_t   *value, file;
    ngx_uint_t   from;

    value = cf->args->elts;

    if (alcf->keys == NGX_CONF_UNSET_PTR) {
        alcf->keys = ngx_array_create(cf->pool, 4,
                                      sizeof(ngx_http_gw_auth_key_t));
        if (alcf->keys == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    from = alcf->keys->nelts;
    file = value[1];

    rv = ngx_http_gw_auth_jwks_file(cf, alcf->keys, &file);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    return ngx_http_gw_auth_add_keys(cf, alcf, from);
}


static char *
ngx_http_gw_auth_time_param(ngx_conf_t *cf, ngx_str_t *value, size_t prefix,
    time_t *t)
{
    ngx_str_t  s;

    s.data = value->data + prefix;
    s.len = value->len - prefix;

    *t = ngx_parse_time(&s, 1);

    if (*t == (time_t) NGX_ERROR || *t == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time in \"%V\"", value);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_jwt_keys_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t                     *value;
    ngx_pool_cleanup_t            *cln;
    ngx_http_gw_auth_jwks_url_t   *url;
    ngx_http_gw_auth_main_conf_t  *amcf;

    if (alcf->jwks_url != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_auth_jwt_keys_url needs the URI of a "
                           "location, not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    url = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_auth_jwks_url_t));
    if (url == NULL) {
        return NGX_CONF_ERROR;
    }

    url->uri = value[1];
    url->refresh = 3600;

    if (cf->args->nelts == 3) {
        if (ngx_strncmp(value[2].data, "refresh=", 8) != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[2]);
            return NGX_CONF_ERROR;
        }

        if (ngx_http_gw_auth_time_param(cf, &value[2], 8, &url->refresh)
            != NGX_CONF_OK)
        {
            return NGX_CONF_ERROR;
        }
    }

    /* the shared entry is named after the URI */

    if (EVP_Digest(url->uri.data, url->uri.len, url->id, NULL, EVP_sha256(),
                   NULL)
        != 1)
    {
        return NGX_CONF_ERROR;
    }

    url->id[0] ^= 'J';

    /* a worker's parsed keys go with the cycle */

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

    cln->handler = ngx_http_gw_auth_jwks_url_cleanup;
    cln->data = url;

    alcf->jwks_url = url;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_auth_module);
    amcf->jwt = 1;

    return NGX_CONF_OK;
}


static void
ngx_http_gw_auth_jwks_url_cleanup(void *data)
{
    ngx_http_gw_auth_jwks_url_t *url = data;

    if (url->pool) {
        ngx_destroy_pool(url->pool);
        url->pool = NULL;
        url->keys = NULL;
    }
}


static char *
ngx_http_gw_auth_introspect_conf(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t                      *value;
    ngx_uint_t                      i;
    ngx_http_gw_auth_introspect_t  *is;
    ngx_http_gw_auth_main_conf_t   *amcf;

    if (alcf->introspect != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (value[1].len == 0 || value[1].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_auth_introspect needs the URI of a location, "
                           "not \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    is = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_auth_introspect_t));
    if (is == NULL) {
        return NGX_CONF_ERROR;
    }

    is->uri = value[1];
    is->cache = 60;
    is->inactive = 10;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strcmp(value[i].data, "cache=off") == 0) {
            is->cache = 0;
            continue;
        }

        if (ngx_strncmp(value[i].data, "cache=", 6) == 0) {
            if (ngx_http_gw_auth_time_param(cf, &value[i], 6, &is->cache)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "inactive=", 9) == 0) {
            if (ngx_http_gw_auth_time_param(cf, &value[i], 9, &is->inactive)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (is->inactive > is->cache) {
        is->inactive = is->cache;
    }

    alcf->introspect = is;

    amcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_auth_module);
    amcf->jwt = 1;

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_jwt_algs(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t               *value;
    ngx_uint_t               i;
    ngx_http_gw_auth_alg_t  *alg;

    if (alcf->algs != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    value = cf->args->elts;
    alcf->algs = 0;

    for (i = 1; i < cf->args->nelts; i++) {
        alg = ngx_http_gw_auth_alg_by_name(value[i].data, value[i].len);

        if (alg == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid JWT algorithm \"%V\"", &value[i]);
            return NGX_CONF_ERROR;
        }

        alcf->algs |= (ngx_uint_t) 1 << ngx_http_gw_auth_alg_index(alg);
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_identity_claim(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    char  *p = conf;

    ngx_int_t                       rc;
    ngx_str_t                      *value;
    ngx_http_gw_auth_claim_name_t  *claim;

    /* gw_auth_consumer_claim, gw_auth_plan_claim: a name or an a.b path */

    claim = (ngx_http_gw_auth_claim_name_t *) (p + cmd->offset);

    if (claim->name.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_array_init(&claim->path, cf->pool, 2, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_gw_auth_claim_path(&value[1], &claim->path);

    if (rc == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid %V \"%V\"", &cmd->name, &value[1]);
        return NGX_CONF_ERROR;
    }

    claim->name = value[1];

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gw_auth_claim_path(ngx_str_t *name, ngx_array_t *elts)
{
    u_char     *p, *last, *start;
    ngx_str_t  *s;

    /* "a.b.c": the names one level down each; none of them empty */

    p = name->data;
    last = p + name->len;

    while (p <= last) {
        start = p;

        while (p < last && *p != '.') {
            p++;
        }

        if (p == start) {
            return NGX_DECLINED;
        }

        s = ngx_array_push(elts);
        if (s == NULL) {
            return NGX_ERROR;
        }

        s->data = start;
        s->len = p - start;

        p++;
    }

    return NGX_OK;
}


static char *
ngx_http_gw_auth_jwt_claim(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    double                          n;
    ngx_int_t                       rv;
    ngx_str_t                      *value, *s;
    ngx_uint_t                      i, nvalues;
    ngx_regex_compile_t             rc;
    ngx_http_gw_auth_claim_rule_t  *rule;
    u_char                          errstr[NGX_MAX_CONF_ERRSTR];

    static ngx_str_t  ops[] = {
        ngx_null_string,
        ngx_string("eq"),
        ngx_string("ne"),
        ngx_string("in"),
        ngx_string("has"),
        ngx_string("gt"),
        ngx_string("lt"),
        ngx_string("exists"),
        ngx_string("match"),
        ngx_null_string
    };

    value = cf->args->elts;

    if (alcf->claims == NGX_CONF_UNSET_PTR) {
        alcf->claims = ngx_array_create(cf->pool, 4,
                                    sizeof(ngx_http_gw_auth_claim_rule_t));
        if (alcf->claims == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    rule = ngx_array_push(alcf->claims);
    if (rule == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(rule, sizeof(ngx_http_gw_auth_claim_rule_t));

    rule->path = value[1];

    if (ngx_array_init(&rule->elts, cf->pool, 2, sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rv = ngx_http_gw_auth_claim_path(&value[1], &rule->elts);

    if (rv == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (rv == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid claim path \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 1; ops[i].len; i++) {
        if (ops[i].len == value[2].len
            && ngx_strncmp(ops[i].data, value[2].data, value[2].len) == 0)
        {
            break;
        }
    }

    if (ops[i].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid claim operator \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    rule->op = i;
    nvalues = cf->args->nelts - 3;

    if ((rule->op == NGX_HTTP_GW_AUTH_OP_EXISTS && nvalues != 0)
        || ((rule->op == NGX_HTTP_GW_AUTH_OP_IN
             || rule->op == NGX_HTTP_GW_AUTH_OP_HAS)
            && nvalues == 0)
        || (rule->op != NGX_HTTP_GW_AUTH_OP_EXISTS
            && rule->op != NGX_HTTP_GW_AUTH_OP_IN
            && rule->op != NGX_HTTP_GW_AUTH_OP_HAS
            && nvalues != 1))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "wrong number of values for claim operator "
                           "\"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&rule->values, cf->pool, nvalues ? nvalues : 1,
                       sizeof(ngx_str_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        s = ngx_array_push(&rule->values);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    if (rule->op == NGX_HTTP_GW_AUTH_OP_GT
        || rule->op == NGX_HTTP_GW_AUTH_OP_LT)
    {
        if (ngx_http_gw_auth_parse_number(&value[3], &n) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid number \"%V\"", &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    if (rule->op == NGX_HTTP_GW_AUTH_OP_MATCH) {
        ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

        rc.pattern = value[3];
        rc.pool = cf->pool;
        rc.err.len = NGX_MAX_CONF_ERRSTR;
        rc.err.data = errstr;

        if (ngx_regex_compile(&rc) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid regex \"%V\": %V", &value[3],
                               &rc.err);
            return NGX_CONF_ERROR;
        }

        rule->regex = rc.regex;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_jwt_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->cache_ttl != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        alcf->cache_ttl = 0;
        return NGX_CONF_OK;
    }

    alcf->cache_ttl = ngx_parse_time(&value[1], 1);

    if (alcf->cache_ttl == (time_t) NGX_ERROR || alcf->cache_ttl == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_auth_jwt_cache time \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_apikey_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->apikeys != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    alcf->apikeys = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_auth_apikeys_t));
    if (alcf->apikeys == NULL) {
        return NGX_CONF_ERROR;
    }

    alcf->apikeys->file = value[1];

    return ngx_http_gw_auth_apikey_load(cf, alcf->apikeys);
}


static char *
ngx_http_gw_auth_apikey_from(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_auth_loc_conf_t *alcf = conf;

    ngx_str_t  *value;

    if (alcf->apikey_header.data || alcf->apikey_query.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strncmp(value[1].data, "header=", 7) == 0 && value[1].len > 7) {
        alcf->apikey_header.data = value[1].data + 7;
        alcf->apikey_header.len = value[1].len - 7;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value[1].data, "query=", 6) == 0 && value[1].len > 6) {
        alcf->apikey_query.data = value[1].data + 6;
        alcf->apikey_query.len = value[1].len - 6;
        return NGX_CONF_OK;
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid gw_auth_apikey_from \"%V\"", &value[1]);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_gw_auth_str_list(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char  *p = conf;

    ngx_str_t     *value, *s;
    ngx_uint_t     i;
    ngx_array_t  **a;

    /* every argument is one value; the directive may be repeated */

    a = (ngx_array_t **) (p + cmd->offset);

    if (*a == NGX_CONF_UNSET_PTR) {
        *a = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
        if (*a == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        s = ngx_array_push(*a);
        if (s == NULL) {
            return NGX_CONF_ERROR;
        }

        *s = value[i];
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_auth_max_depth(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *depth = data;

    if (*depth < 1 || *depth > 64) {
        return "must be between 1 and 64";
    }

    return NGX_CONF_OK;
}

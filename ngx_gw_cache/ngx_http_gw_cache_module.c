/*
 * Copyright (C) ngx_gw authors
 *
 * ngx_gw_cache: directives, configuration and the zones.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


static void *ngx_http_gw_cache_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_gw_cache_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gw_cache_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_gw_cache_init(ngx_conf_t *cf);
static ngx_int_t ngx_http_gw_cache_init_module(ngx_cycle_t *cycle);
static char *ngx_http_gw_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_cache(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_cache_valid_slot(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_cache_stale(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_cache_status_header(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_gw_cache_purge(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_http_gw_cache_zone_t *ngx_http_gw_cache_find_zone(ngx_conf_t *cf,
    ngx_str_t *name);


static ngx_conf_bitmask_t  ngx_http_gw_cache_methods_mask[] = {
    { ngx_string("GET"), NGX_HTTP_GET },
    { ngx_string("HEAD"), NGX_HTTP_HEAD },
    { ngx_string("POST"), NGX_HTTP_POST },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_gw_cache_commands[] = {

    { ngx_string("gw_cache_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_gw_cache_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_cache"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_cache,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_cache_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, key),
      NULL },

    { ngx_string("gw_cache_valid"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_cache_valid_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_cache_methods"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_conf_set_bitmask_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, methods),
      &ngx_http_gw_cache_methods_mask },

    { ngx_string("gw_cache_bypass"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_set_predicate_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, bypass),
      NULL },

    { ngx_string("gw_cache_no_store"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_set_predicate_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, no_store),
      NULL },

    { ngx_string("gw_cache_private"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, private_key),
      NULL },

    { ngx_string("gw_cache_cdn_control"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, cdn_control),
      NULL },

    { ngx_string("gw_cache_status_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_cache_status_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_cache_stale"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_cache_stale,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_cache_lock_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_msec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_cache_loc_conf_t, lock_timeout),
      NULL },

    { ngx_string("gw_cache_purge"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_cache_purge,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gw_cache_module_ctx = {
    ngx_http_gw_cache_add_variables,       /* preconfiguration */
    ngx_http_gw_cache_init,                /* postconfiguration */

    ngx_http_gw_cache_create_main_conf,    /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gw_cache_create_loc_conf,     /* create location configuration */
    ngx_http_gw_cache_merge_loc_conf       /* merge location configuration */
};


ngx_module_t  ngx_http_gw_cache_module = {
    NGX_MODULE_V1,
    &ngx_http_gw_cache_module_ctx,         /* module context */
    ngx_http_gw_cache_commands,            /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_gw_cache_init_module,         /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_gw_cache_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_gw_cache_main_conf_t  *cmcf;

    cmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_cache_main_conf_t));
    if (cmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&cmcf->zones, cf->pool, 4,
                       sizeof(ngx_http_gw_cache_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return cmcf;
}


static void *
ngx_http_gw_cache_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gw_cache_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_cache_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->zone = NULL;
     *     conf->key = NULL;
     *     conf->private_key = NULL;
     *     conf->cdn_control = NULL;
     *     conf->status_header = { 0, NULL };
     *     conf->purge = NULL;
     *     conf->zone_set = 0;
     *     conf->methods = 0;
     */

    conf->valid = NGX_CONF_UNSET_PTR;
    conf->bypass = NGX_CONF_UNSET_PTR;
    conf->no_store = NGX_CONF_UNSET_PTR;
    conf->stale_revalidate = NGX_CONF_UNSET;
    conf->stale_error = NGX_CONF_UNSET;
    conf->lock_timeout = NGX_CONF_UNSET_MSEC;

    return conf;
}


static char *
ngx_http_gw_cache_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_gw_cache_loc_conf_t *prev = parent;
    ngx_http_gw_cache_loc_conf_t *conf = child;

    u_char  *p;

    if (!conf->zone_set) {
        conf->zone = prev->zone;
        conf->zone_set = prev->zone_set;
    }

    /* NULL: the default key, built from the request's fields */

    if (conf->key == NULL) {
        conf->key = prev->key;
    }

    ngx_conf_merge_ptr_value(conf->valid, prev->valid, NULL);
    ngx_conf_merge_bitmask_value(conf->methods, prev->methods,
                                 (NGX_CONF_BITMASK_SET
                                  |NGX_HTTP_GET|NGX_HTTP_HEAD));
    ngx_conf_merge_ptr_value(conf->bypass, prev->bypass, NULL);
    ngx_conf_merge_ptr_value(conf->no_store, prev->no_store, NULL);

    if (conf->private_key == NULL) {
        conf->private_key = prev->private_key;
    }

    if (conf->cdn_control == NULL) {
        conf->cdn_control = prev->cdn_control;
    }

    if (conf->status_header.data == NULL) {
        conf->status_header = prev->status_header;
        conf->status_header_lc = prev->status_header_lc;
    }

    if (conf->status_header.data == NULL) {
        ngx_str_set(&conf->status_header, "X-Cache-Status");
        ngx_str_set(&conf->status_header_lc, "x-cache-status");
    }

    if (conf->status_header_lc.data == NULL && conf->status_header.len) {
        p = ngx_pnalloc(cf->pool, conf->status_header.len);
        if (p == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_strlow(p, conf->status_header.data, conf->status_header.len);
        conf->status_header_lc.data = p;
        conf->status_header_lc.len = conf->status_header.len;
    }

    ngx_conf_merge_value(conf->stale_revalidate, prev->stale_revalidate, 0);
    ngx_conf_merge_value(conf->stale_error, prev->stale_error, 0);
    ngx_conf_merge_msec_value(conf->lock_timeout, prev->lock_timeout, 5000);

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gw_cache_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_gw_cache_precontent_handler;

    return ngx_http_gw_cache_filter_init(cf);
}


/*
 * $gw_auth_consumer, found once per cycle: ngx_gw_auth may not be loaded,
 * and it adds its variables in its own postconfiguration.
 */

static ngx_int_t
ngx_http_gw_cache_init_module(ngx_cycle_t *cycle)
{
    ngx_str_t                       name;
    ngx_http_core_main_conf_t      *cmcf;
    ngx_http_gw_cache_main_conf_t  *gmcf;

    gmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gw_cache_module);
    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module);

    if (gmcf == NULL || cmcf == NULL) {
        return NGX_OK;
    }

    ngx_str_set(&name, "gw_auth_consumer");

    gmcf->consumer = ngx_hash_find(&cmcf->variables_hash,
                                   ngx_hash_key(name.data, name.len),
                                   name.data, name.len);

    return NGX_OK;
}


static ngx_http_gw_cache_zone_t *
ngx_http_gw_cache_find_zone(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_uint_t                       i;
    ngx_http_gw_cache_zone_t       **zones;
    ngx_http_gw_cache_main_conf_t   *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_cache_module);

    zones = cmcf->zones.elts;

    for (i = 0; i < cmcf->zones.nelts; i++) {
        if (zones[i]->name.len == name->len
            && ngx_strncmp(zones[i]->name.data, name->data, name->len) == 0)
        {
            return zones[i];
        }
    }

    return NULL;
}


static char *
ngx_http_gw_cache_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                          size, max_object;
    ngx_str_t                       *value, s;
    ngx_uint_t                       i;
    ngx_shm_zone_t                  *shm_zone;
    ngx_http_gw_cache_zone_t        *zone, **zp;
    ngx_http_gw_cache_main_conf_t   *cmcf = conf;

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_gw_cache_find_zone(cf, &value[1]) != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate gw_cache_zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    size = 0;
    max_object = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid size \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "gw_cache_zone \"%V\" is too small",
                                   &value[1]);
                return NGX_CONF_ERROR;
            }

            if ((off_t) size > NGX_HTTP_GW_CACHE_MAX_ZONE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "gw_cache_zone \"%V\": \"%V\" is over "
                                   "32768m, the largest zone", &value[1],
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_object=", 11) == 0) {
            s.data = value[i].data + 11;
            s.len = value[i].len - 11;

            max_object = ngx_parse_size(&s);

            if (max_object == NGX_ERROR || max_object == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid max_object \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"size\" parameter",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (max_object == 0) {
        max_object = ngx_min(1024 * 1024, size / 4);
    }

    if (max_object > size / 2) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "max_object \"%z\" is more than half of "
                           "gw_cache_zone \"%V\"", max_object, &value[1]);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_cache_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &value[1], size,
                                     &ngx_http_gw_cache_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate gw_cache_zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    zone->name = value[1];
    zone->max_object = max_object;
    zone->shm_zone = shm_zone;

    shm_zone->init = ngx_http_gw_cache_init_zone;
    shm_zone->data = zone;

    zp = ngx_array_push(&cmcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = zone;

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_cache(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_cache_loc_conf_t *gclf = conf;

    ngx_str_t  *value;

    if (gclf->zone_set) {
        return "is duplicate";
    }

    value = cf->args->elts;

    gclf->zone_set = 1;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        gclf->zone = NULL;
        return NGX_CONF_OK;
    }

    gclf->zone = ngx_http_gw_cache_find_zone(cf, &value[1]);

    if (gclf->zone == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown gw_cache_zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_cache_valid_slot(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_cache_loc_conf_t *gclf = conf;

    time_t                      valid;
    ngx_str_t                  *value;
    ngx_int_t                   status;
    ngx_uint_t                  i, n;
    ngx_http_gw_cache_valid_t  *v;

    value = cf->args->elts;
    n = cf->args->nelts - 1;

    valid = ngx_parse_time(&value[n], 1);
    if (valid == (time_t) NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time value \"%V\"", &value[n]);
        return NGX_CONF_ERROR;
    }

    if (gclf->valid == NGX_CONF_UNSET_PTR) {
        gclf->valid = ngx_array_create(cf->pool, 4,
                                       sizeof(ngx_http_gw_cache_valid_t));
        if (gclf->valid == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (n == 1) {
        v = ngx_array_push(gclf->valid);
        if (v == NULL) {
            return NGX_CONF_ERROR;
        }

        v->status = 200;
        v->valid = valid;

        return NGX_CONF_OK;
    }

    for (i = 1; i < n; i++) {

        if (ngx_strcmp(value[i].data, "any") == 0) {
            status = 0;

        } else {
            status = ngx_atoi(value[i].data, value[i].len);
            if (status < 100 || status > 599) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid status code \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        v = ngx_array_push(gclf->valid);
        if (v == NULL) {
            return NGX_CONF_ERROR;
        }

        v->status = status;
        v->valid = valid;
    }

    return NGX_CONF_OK;
}


time_t
ngx_http_gw_cache_valid(ngx_http_gw_cache_loc_conf_t *conf, ngx_uint_t status)
{
    ngx_uint_t                  i;
    ngx_http_gw_cache_valid_t  *v;

    if (conf->valid == NULL) {
        return 0;
    }

    v = conf->valid->elts;

    for (i = 0; i < conf->valid->nelts; i++) {
        if (v[i].status == status) {
            return v[i].valid;
        }
    }

    for (i = 0; i < conf->valid->nelts; i++) {
        if (v[i].status == 0) {
            return v[i].valid;
        }
    }

    return 0;
}


static char *
ngx_http_gw_cache_stale(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_cache_loc_conf_t *gclf = conf;

    time_t      t;
    ngx_str_t  *value, s;
    ngx_uint_t  i;

    if (gclf->stale_revalidate != NGX_CONF_UNSET
        || gclf->stale_error != NGX_CONF_UNSET)
    {
        return "is duplicate";
    }

    value = cf->args->elts;

    gclf->stale_revalidate = 0;
    gclf->stale_error = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "while_revalidate=", 17) == 0) {
            s.data = value[i].data + 17;
            s.len = value[i].len - 17;

            t = ngx_parse_time(&s, 1);
            if (t == (time_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid while_revalidate value \"%V\"",
                                   &s);
                return NGX_CONF_ERROR;
            }

            gclf->stale_revalidate = t;
            continue;
        }

        if (ngx_strncmp(value[i].data, "if_error=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            t = ngx_parse_time(&s, 1);
            if (t == (time_t) NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid if_error value \"%V\"", &s);
                return NGX_CONF_ERROR;
            }

            gclf->stale_error = t;
            continue;
        }

        if (ngx_strcmp(value[i].data, "off") == 0 && cf->args->nelts == 2) {
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_cache_status_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_gw_cache_loc_conf_t *gclf = conf;

    u_char     *p;
    ngx_str_t  *value;
    ngx_uint_t  i;

    if (gclf->status_header.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        ngx_str_set(&gclf->status_header, "");
        ngx_str_set(&gclf->status_header_lc, "");
        return NGX_CONF_OK;
    }

    /* an RFC 9110 token */
    for (i = 0; i < value[1].len; i++) {
        p = &value[1].data[i];

        if (*p <= ' ' || *p >= 0x7f || ngx_strchr("\"(),/:;<=>?@[\\]{}", *p))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid header name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    gclf->status_header = value[1];

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_cache_purge(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_cache_loc_conf_t *gclf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (gclf->purge) {
        return "is duplicate";
    }

    value = cf->args->elts;

    gclf->purge = ngx_http_gw_cache_find_zone(cf, &value[1]);

    if (gclf->purge == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown gw_cache_zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_gw_cache_purge_handler;

    return NGX_CONF_OK;
}

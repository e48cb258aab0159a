
/*
 * Copyright (C) ngx_gw authors
 *
 * Directives, configuration and the shared zone of the metrics module.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"
#include "ngx_http_gw_metrics_module.h"


#define NGX_HTTP_GW_METRICS_DEFAULT_MAX_SERIES  1000


static ngx_int_t ngx_http_gw_metrics_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_gw_metrics_carry_over(ngx_shm_zone_t *shm_zone);
static ngx_int_t ngx_http_gw_metrics_same_buckets(
    ngx_http_gw_metrics_shctx_t *sh, ngx_array_t *buckets);
static ngx_shm_zone_t *ngx_http_gw_metrics_find_zone(ngx_conf_t *cf,
    ngx_http_gw_metrics_main_conf_t *mcf, ngx_str_t *name);
static ngx_int_t ngx_http_gw_metrics_label_name_valid(ngx_str_t *name);
static ngx_int_t ngx_http_gw_metrics_variable_index(ngx_conf_t *cf,
    ngx_str_t *name);
static ngx_int_t ngx_http_gw_metrics_init_module(ngx_cycle_t *cycle);

static char *ngx_http_gw_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_metrics_label(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_metrics_buckets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_metrics_show(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static void *ngx_http_gw_metrics_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_gw_metrics_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_gw_metrics_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gw_metrics_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_gw_metrics_init(ngx_conf_t *cf);


static ngx_command_t  ngx_http_gw_metrics_commands[] = {

    { ngx_string("gw_metrics_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_gw_metrics_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_metrics"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF
                        |NGX_CONF_TAKE123,
      ngx_http_gw_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_metrics_label"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_gw_metrics_label,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_metrics_buckets"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_gw_metrics_buckets,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_metrics_show"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS|NGX_CONF_TAKE1,
      ngx_http_gw_metrics_show,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gw_metrics_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_gw_metrics_init,              /* postconfiguration */

    ngx_http_gw_metrics_create_main_conf,  /* create main configuration */
    ngx_http_gw_metrics_init_main_conf,    /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gw_metrics_create_loc_conf,   /* create location configuration */
    ngx_http_gw_metrics_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_gw_metrics_module = {
    NGX_MODULE_V1,
    &ngx_http_gw_metrics_module_ctx,       /* module context */
    ngx_http_gw_metrics_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_gw_metrics_init_module,       /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* Prometheus's default buckets, in microseconds: 5 ms to 10 s */
static uint64_t  ngx_http_gw_metrics_default_buckets[] = {
    5000, 10000, 25000, 50000, 100000, 250000, 500000,
    1000000, 2500000, 5000000, 10000000
};


static ngx_str_t  ngx_http_gw_metrics_var_names[] = {
    ngx_string("gw_auth_method"),
    ngx_string("gw_auth_result"),
    ngx_string("gw_rate_status"),
    ngx_string("gw_cache_status"),
    ngx_string("gw_compose_parts")
};


/* labels that the families set themselves */
static char  *ngx_http_gw_metrics_reserved[] = {
    "route", "method", "code", "result", "status", "part", "le", "zone",
    "version", "state", NULL
};


static ngx_int_t
ngx_http_gw_metrics_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_gw_metrics_zone_t  *ozone = data;

    size_t                            n;
    ngx_uint_t                        i;
    ngx_http_gw_metrics_zone_t       *zone;
    ngx_http_gw_metrics_shctx_t      *sh;
    ngx_http_gw_metrics_main_conf_t  *mcf;

    zone = shm_zone->data;
    mcf = zone->main_conf;

    if (ozone) {
        /* a reload: keep the series so that counters never go backwards */

        if (!ngx_http_gw_metrics_same_buckets(ozone->sh, mcf->buckets)) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "gw_metrics_zone \"%V\" was created with other "
                          "gw_metrics_buckets; use a new zone name to "
                          "change them", &shm_zone->shm.name);
            return NGX_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    /* a full zone is reported by the module, once, not on every request */
    zone->shpool->log_nomem = 0;

    sh = ngx_slab_calloc(zone->shpool, sizeof(ngx_http_gw_metrics_shctx_t));
    if (sh == NULL) {
        goto too_small;
    }

    zone->sh = sh;
    zone->shpool->data = sh;

    sh->nbuckets = mcf->buckets->nelts;
    ngx_memcpy(sh->buckets, mcf->buckets->elts,
               sh->nbuckets * sizeof(uint64_t));

    for (n = 64; n < zone->max_series; n <<= 1) { /* void */ }

    sh->nheads = n;
    sh->heads = ngx_slab_calloc(zone->shpool,
                                n * sizeof(ngx_http_gw_metrics_node_t *));
    if (sh->heads == NULL) {
        goto too_small;
    }

    sh->start_time = ngx_time();

    n = sizeof(" in gw_metrics_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, n);
    if (zone->shpool->log_ctx == NULL) {
        goto too_small;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in gw_metrics_zone \"%V\"%Z",
                &shm_zone->shm.name);

    for (i = 0; i < sh->nheads; i++) {
        sh->heads[i] = NULL;
    }

    ngx_http_gw_metrics_carry_over(shm_zone);

    return NGX_OK;

too_small:

    ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                  "gw_metrics_zone \"%V\" is too small for max_series=%ui",
                  &shm_zone->shm.name, zone->max_series);

    return NGX_ERROR;
}


/*
 * A reload that changes a zone's size gets a new segment: the series of
 * the old one, still mapped while the new cycle is made, are copied in, so
 * that a resize does not reset the counters.
 */

static void
ngx_http_gw_metrics_carry_over(ngx_shm_zone_t *shm_zone)
{
    ngx_uint_t                    i, n, copied;
    ngx_list_part_t              *part;
    ngx_shm_zone_t               *oshm;
    ngx_http_gw_metrics_zone_t   *zone, *ozone;
    ngx_http_gw_metrics_node_t   *node, *copy;
    ngx_http_gw_metrics_shctx_t  *sh, *osh;

    if (ngx_is_init_cycle(ngx_cycle)) {
        return;
    }

    zone = shm_zone->data;
    sh = zone->sh;
    ozone = NULL;

    part = (ngx_list_part_t *) &ngx_cycle->shared_memory.part;
    oshm = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            oshm = part->elts;
            i = 0;
        }

        if (oshm[i].tag == &ngx_http_gw_metrics_module
            && oshm[i].shm.name.len == shm_zone->shm.name.len
            && ngx_strncmp(oshm[i].shm.name.data, shm_zone->shm.name.data,
                           shm_zone->shm.name.len)
               == 0)
        {
            ozone = oshm[i].data;
            break;
        }
    }

    if (ozone == NULL || ozone->sh == NULL) {
        return;
    }

    osh = ozone->sh;

    if (osh->nbuckets != sh->nbuckets
        || ngx_memcmp(osh->buckets, sh->buckets,
                      sh->nbuckets * sizeof(uint64_t))
           != 0)
    {
        ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                      "gw_metrics_zone \"%V\" has new gw_metrics_buckets, "
                      "its counters start again", &shm_zone->shm.name);
        return;
    }

    copied = 0;

    for (i = 0; i < osh->nheads; i++) {
        for (node = osh->heads[i]; node; node = node->next) {

            copy = ngx_http_gw_metrics_series(zone,
                                          ngx_http_gw_metrics_node_key(node),
                                          node->len, 0);
            if (copy == NULL) {
                copy = ngx_http_gw_metrics_series(zone,
                                          ngx_http_gw_metrics_node_key(node),
                                          node->len, 1);
            }

            if (copy == NULL) {
                continue;
            }

            for (n = 0; n < node->nvalues; n++) {
                copy->values[n] = node->values[n];
            }

            copied++;
        }
    }

    sh->overflowed = osh->overflowed;
    sh->dropped += osh->dropped;
    sh->start_time = osh->start_time;

    ngx_log_error(NGX_LOG_NOTICE, shm_zone->shm.log, 0,
                  "gw_metrics_zone \"%V\" resized, %ui series carried over",
                  &shm_zone->shm.name, copied);
}


static ngx_int_t
ngx_http_gw_metrics_same_buckets(ngx_http_gw_metrics_shctx_t *sh,
    ngx_array_t *buckets)
{
    if (sh->nbuckets != buckets->nelts) {
        return 0;
    }

    return ngx_memcmp(sh->buckets, buckets->elts,
                      sh->nbuckets * sizeof(uint64_t)) == 0;
}


static char *
ngx_http_gw_metrics_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_metrics_main_conf_t *mcf = conf;

    u_char                       c;
    ssize_t                      size;
    ngx_int_t                    max;
    ngx_str_t                   *value, name, s;
    ngx_uint_t                   i;
    ngx_shm_zone_t              *shm_zone, **zp;
    ngx_http_gw_metrics_zone_t  *zone;

    value = cf->args->elts;

    name = value[1];
    size = 0;
    max = NGX_HTTP_GW_METRICS_DEFAULT_MAX_SERIES;

    /* the name is a label value of the zone's own metrics */

    if (name.len == 0 || name.len > NGX_HTTP_GW_METRICS_MAX_NAME) {
        goto invalid_name;
    }

    for (i = 0; i < name.len; i++) {
        c = name.data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')
        {
            continue;
        }

        goto invalid_name;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "size=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            size = ngx_parse_size(&s);

            if (size == NGX_ERROR) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid gw_metrics_zone size \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            if (size < (ssize_t) (8 * ngx_pagesize)) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "gw_metrics_zone \"%V\" is too small",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "max_series=", 11) == 0) {
            max = ngx_atoi(value[i].data + 11, value[i].len - 11);

            if (max <= 0 || max > 10000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid gw_metrics_zone max_series "
                                   "\"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_metrics_zone parameter \"%V\"",
                           &value[i]);
        return NGX_CONF_ERROR;
    }

    if (size == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_metrics_zone \"%V\" must have a \"size\" "
                           "parameter", &name);
        return NGX_CONF_ERROR;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_metrics_zone_t));
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    shm_zone = ngx_shared_memory_add(cf, &name, size,
                                     &ngx_http_gw_metrics_module);
    if (shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate gw_metrics_zone \"%V\"", &name);
        return NGX_CONF_ERROR;
    }

    zone->name = name;
    zone->max_series = max;
    zone->main_conf = mcf;

    shm_zone->init = ngx_http_gw_metrics_init_zone;
    shm_zone->data = zone;

    zp = ngx_array_push(&mcf->zones);
    if (zp == NULL) {
        return NGX_CONF_ERROR;
    }

    *zp = shm_zone;

    return NGX_CONF_OK;

invalid_name:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid gw_metrics_zone name \"%V\"", &name);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_gw_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_metrics_loc_conf_t *mlcf = conf;

    ngx_str_t                         *value, s;
    ngx_uint_t                         i;
    ngx_http_compile_complex_value_t   ccv;

    if (mlcf->enable != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "on") == 0) {
        mlcf->enable = 1;

    } else if (ngx_strcmp(value[1].data, "off") == 0) {
        mlcf->enable = 0;

        if (cf->args->nelts > 2) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\" after \"off\"",
                               &value[2]);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;

    } else {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"gw_metrics\", "
                           "it must be \"on\" or \"off\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "route=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            if (s.len == 0 || s.len > NGX_HTTP_GW_METRICS_MAX_VALUE) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid gw_metrics route \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            mlcf->route = ngx_palloc(cf->pool,
                                     sizeof(ngx_http_complex_value_t));
            if (mlcf->route == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = mlcf->route;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            mlcf->zone_name.data = value[i].data + 5;
            mlcf->zone_name.len = value[i].len - 5;

            if (mlcf->zone_name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid gw_metrics zone \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_metrics parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_metrics_label(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_metrics_loc_conf_t *mlcf = conf;

    ngx_str_t                         *value;
    ngx_uint_t                         i;
    ngx_http_gw_metrics_label_t       *label;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (!ngx_http_gw_metrics_label_name_valid(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_metrics_label name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 0; ngx_http_gw_metrics_reserved[i]; i++) {
        if (ngx_strcmp(value[1].data, ngx_http_gw_metrics_reserved[i]) == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "gw_metrics_label name \"%V\" is reserved",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (mlcf->labels == NULL) {
        mlcf->labels = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_gw_metrics_label_t));
        if (mlcf->labels == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    label = mlcf->labels->elts;

    for (i = 0; i < mlcf->labels->nelts; i++) {
        if (label[i].name.len == value[1].len
            && ngx_strcmp(label[i].name.data, value[1].data) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate gw_metrics_label \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (mlcf->labels->nelts == NGX_HTTP_GW_METRICS_MAX_LABELS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many gw_metrics_label, at most %d",
                           NGX_HTTP_GW_METRICS_MAX_LABELS);
        return NGX_CONF_ERROR;
    }

    label = ngx_array_push(mlcf->labels);
    if (label == NULL) {
        return NGX_CONF_ERROR;
    }

    label->name = value[1];

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[2];
    ccv.complex_value = &label->value;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gw_metrics_label_name_valid(ngx_str_t *name)
{
    u_char      c;
    ngx_uint_t  i;

    if (name->len == 0 || name->len > NGX_HTTP_GW_METRICS_MAX_NAME) {
        return 0;
    }

    /* Prometheus reserves names that start with "__" */
    if (name->len > 1 && name->data[0] == '_' && name->data[1] == '_') {
        return 0;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') {
            continue;
        }

        if (i > 0 && c >= '0' && c <= '9') {
            continue;
        }

        return 0;
    }

    return 1;
}


static char *
ngx_http_gw_metrics_buckets(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_metrics_main_conf_t *mcf = conf;

    uint64_t    *b, last;
    ngx_int_t    us;
    ngx_str_t   *value;
    ngx_uint_t   i;

    if (mcf->buckets != NULL) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts - 1 > NGX_HTTP_GW_METRICS_MAX_BUCKETS) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many gw_metrics_buckets, at most %d",
                           NGX_HTTP_GW_METRICS_MAX_BUCKETS);
        return NGX_CONF_ERROR;
    }

    mcf->buckets = ngx_array_create(cf->pool, cf->args->nelts - 1,
                                    sizeof(uint64_t));
    if (mcf->buckets == NULL) {
        return NGX_CONF_ERROR;
    }

    last = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        /* seconds with up to six decimals, kept in microseconds */
        us = ngx_atofp(value[i].data, value[i].len, 6);

        if (us <= 0 || us > 3600 * 1000000LL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid gw_metrics_buckets value \"%V\"",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if ((uint64_t) us <= last) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "gw_metrics_buckets value \"%V\" is not "
                               "greater than the one before", &value[i]);
            return NGX_CONF_ERROR;
        }

        b = ngx_array_push(mcf->buckets);
        if (b == NULL) {
            return NGX_CONF_ERROR;
        }

        *b = us;
        last = us;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_metrics_show(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_metrics_loc_conf_t *mlcf = conf;

    ngx_str_t                 *value;
    ngx_http_core_loc_conf_t  *clcf;

    if (mlcf->show) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (cf->args->nelts == 2) {
        if (ngx_strncmp(value[1].data, "zone=", 5) != 0
            || value[1].len == 5)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid gw_metrics_show parameter \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        mlcf->show_zone_name.data = value[1].data + 5;
        mlcf->show_zone_name.len = value[1].len - 5;
    }

    mlcf->show = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_gw_metrics_show_handler;

    return NGX_CONF_OK;
}


static void *
ngx_http_gw_metrics_create_main_conf(ngx_conf_t *cf)
{
    ngx_uint_t                        i;
    ngx_http_gw_metrics_main_conf_t  *mcf;

    mcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_metrics_main_conf_t));
    if (mcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     mcf->buckets = NULL;
     */

    if (ngx_array_init(&mcf->zones, cf->pool, 2, sizeof(ngx_shm_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    for (i = 0; i < NGX_HTTP_GW_METRICS_NVARS; i++) {
        mcf->vars[i].name = ngx_http_gw_metrics_var_names[i];
        mcf->vars[i].index = NGX_ERROR;
    }

    return mcf;
}


static char *
ngx_http_gw_metrics_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_gw_metrics_main_conf_t *mcf = conf;

    ngx_uint_t   i, n;
    uint64_t    *b;

    if (mcf->buckets != NULL) {
        return NGX_CONF_OK;
    }

    n = sizeof(ngx_http_gw_metrics_default_buckets) / sizeof(uint64_t);

    mcf->buckets = ngx_array_create(cf->pool, n, sizeof(uint64_t));
    if (mcf->buckets == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < n; i++) {
        b = ngx_array_push(mcf->buckets);
        if (b == NULL) {
            return NGX_CONF_ERROR;
        }

        *b = ngx_http_gw_metrics_default_buckets[i];
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_gw_metrics_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gw_metrics_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_metrics_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->route = NULL;
     *     conf->zone_name = { 0, NULL };
     *     conf->zone = NULL;
     *     conf->labels = NULL;
     *     conf->show = 0;
     *     conf->show_zone = NULL;
     *     conf->show_zone_name = { 0, NULL };
     */

    conf->enable = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_gw_metrics_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child)
{
    ngx_http_gw_metrics_loc_conf_t *prev = parent;
    ngx_http_gw_metrics_loc_conf_t *conf = child;

    ngx_http_gw_metrics_main_conf_t  *mcf;

    ngx_conf_merge_value(conf->enable, prev->enable, 0);

    if (conf->route == NULL) {
        conf->route = prev->route;
    }

    if (conf->zone_name.data == NULL) {
        conf->zone_name = prev->zone_name;
    }

    if (conf->labels == NULL) {
        conf->labels = prev->labels;
    }

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_metrics_module);

    if (conf->enable) {
        conf->zone = ngx_http_gw_metrics_find_zone(cf, mcf, &conf->zone_name);
        if (conf->zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (conf->show) {
        conf->show_zone = ngx_http_gw_metrics_find_zone(cf, mcf,
                                                      &conf->show_zone_name);
        if (conf->show_zone == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static ngx_shm_zone_t *
ngx_http_gw_metrics_find_zone(ngx_conf_t *cf,
    ngx_http_gw_metrics_main_conf_t *mcf, ngx_str_t *name)
{
    ngx_uint_t        i;
    ngx_shm_zone_t  **zones;

    zones = mcf->zones.elts;

    if (mcf->zones.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_metrics needs a gw_metrics_zone in the http "
                           "block");
        return NULL;
    }

    if (name->len == 0) {
        return zones[0];
    }

    for (i = 0; i < mcf->zones.nelts; i++) {
        if (zones[i]->shm.name.len == name->len
            && ngx_strncmp(zones[i]->shm.name.data, name->data, name->len)
               == 0)
        {
            return zones[i];
        }
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "unknown gw_metrics_zone \"%V\"", name);

    return NULL;
}


/*
 * The other modules' variables are read only when those modules are
 * loaded: asking for the index of an undefined variable would fail the
 * configuration.
 */

static ngx_int_t
ngx_http_gw_metrics_variable_index(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_uint_t                  i;
    ngx_hash_key_t             *key;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    if (cmcf->variables_keys == NULL) {
        return NGX_ERROR;
    }

    key = cmcf->variables_keys->keys.elts;

    for (i = 0; i < cmcf->variables_keys->keys.nelts; i++) {
        if (key[i].key.len == name->len
            && ngx_strncmp(key[i].key.data, name->data, name->len) == 0)
        {
            return ngx_http_get_variable_index(cf, name);
        }
    }

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_gw_metrics_init(ngx_conf_t *cf)
{
    ngx_uint_t                        i;
    ngx_http_handler_pt              *h;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_gw_metrics_main_conf_t  *mcf;

    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_gw_metrics_module);

    if (mcf->zones.nelts == 0) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_HTTP_GW_METRICS_NVARS; i++) {
        mcf->vars[i].index = ngx_http_gw_metrics_variable_index(cf,
                                                        &mcf->vars[i].name);
    }

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_gw_metrics_log_handler;

    return NGX_OK;
}


/*
 * A module loaded after this one may define its variables in its own
 * postconfiguration, after ours: those are found here, by name, once the
 * configuration's variables hash exists.
 */

static ngx_int_t
ngx_http_gw_metrics_init_module(ngx_cycle_t *cycle)
{
    ngx_uint_t                        i;
    ngx_http_variable_t              *v;
    ngx_http_gw_metrics_var_t        *var;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_gw_metrics_main_conf_t  *mcf;

    if (ngx_get_conf(cycle->conf_ctx, ngx_http_module) == NULL) {
        return NGX_OK;
    }

    mcf = ngx_http_cycle_get_module_main_conf(cycle,
                                              ngx_http_gw_metrics_module);
    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module);

    if (mcf == NULL || cmcf == NULL || mcf->zones.nelts == 0) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_HTTP_GW_METRICS_NVARS; i++) {
        var = &mcf->vars[i];

        if (var->index != NGX_ERROR) {
            continue;
        }

        var->key = ngx_hash_key(var->name.data, var->name.len);

        v = ngx_hash_find(&cmcf->variables_hash, var->key, var->name.data,
                          var->name.len);

        var->by_name = (v != NULL);
    }

    return NGX_OK;
}

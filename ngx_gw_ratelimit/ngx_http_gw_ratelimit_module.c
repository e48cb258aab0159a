
/*
 * Copyright (C) ngx_gw authors
 *
 * ngx_http_gw_ratelimit_module: directives and configuration.
 */


#include "ngx_http_gw_ratelimit.h"


static void *ngx_http_gw_rate_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_gw_rate_init_main_conf(ngx_conf_t *cf, void *conf);
static void *ngx_http_gw_rate_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gw_rate_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_gw_rate_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_gw_rate_postconfiguration(ngx_conf_t *cf);

static char *ngx_http_gw_rate_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_rate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_rate_plan(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_rate_plan_var(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_rate_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_rate_timezone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_rate_usage(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);

static ngx_int_t ngx_http_gw_rate_parse_rate(ngx_str_t *value,
    uint64_t *n, uint64_t *period);
static ngx_int_t ngx_http_gw_rate_parse_quota(ngx_str_t *value,
    uint64_t *n, ngx_uint_t *unit, uint64_t *period);
static ngx_int_t ngx_http_gw_rate_valid_name(ngx_str_t *name);
static ngx_http_gw_rate_zone_t *ngx_http_gw_rate_get_zone(ngx_conf_t *cf,
    ngx_str_t *name, size_t size);
static ngx_int_t ngx_http_gw_rate_init_limit(ngx_conf_t *cf,
    ngx_http_gw_rate_limit_t *limit, ngx_str_t *spec);
static void ngx_http_gw_rate_check_resize(ngx_conf_t *cf,
    ngx_http_gw_rate_zone_t *zone);


static ngx_conf_enum_t  ngx_http_gw_rate_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_gw_ratelimit_commands[] = {

    { ngx_string("gw_rate_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE23,
      ngx_http_gw_rate_zone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_rate"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_GW_RATE,
      NULL },

    { ngx_string("gw_quota"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_rate,
      NGX_HTTP_LOC_CONF_OFFSET,
      NGX_HTTP_GW_QUOTA,
      NULL },

    { ngx_string("gw_rate_plan"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_gw_rate_plan,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_rate_plan_var"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_rate_plan_var,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_rate_status"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_rate_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_rate_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_rate_loc_conf_t, headers),
      NULL },

    { ngx_string("gw_rate_dry_run"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_rate_loc_conf_t, dry_run),
      NULL },

    { ngx_string("gw_rate_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_rate_loc_conf_t, log_level),
      &ngx_http_gw_rate_log_levels },

    { ngx_string("gw_rate_timezone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_rate_timezone,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_rate_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_gw_rate_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_rate_usage"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gw_rate_usage,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gw_ratelimit_module_ctx = {
    ngx_http_gw_rate_preconfiguration,     /* preconfiguration */
    ngx_http_gw_rate_postconfiguration,    /* postconfiguration */

    ngx_http_gw_rate_create_main_conf,     /* create main configuration */
    ngx_http_gw_rate_init_main_conf,       /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gw_rate_create_loc_conf,      /* create location configuration */
    ngx_http_gw_rate_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_gw_ratelimit_module = {
    NGX_MODULE_V1,
    &ngx_http_gw_ratelimit_module_ctx,     /* module context */
    ngx_http_gw_ratelimit_commands,        /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    ngx_http_gw_rate_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_gw_rate_redis_exit_process,   /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_gw_rate_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_gw_rate_main_conf_t  *rmcf;

    rmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_rate_main_conf_t));
    if (rmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     rmcf->default_zone = NULL;
     *     rmcf->tz = NULL;
     *     rmcf->tz_name = { 0, NULL };
     */

    if (ngx_array_init(&rmcf->zones, cf->pool, 4,
                       sizeof(ngx_http_gw_rate_zone_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&rmcf->plans, cf->pool, 4,
                       sizeof(ngx_http_gw_rate_plan_t))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&rmcf->policies, cf->pool, 8,
                       sizeof(ngx_http_gw_rate_limit_t))
        != NGX_OK)
    {
        return NULL;
    }

    return rmcf;
}


static char *
ngx_http_gw_rate_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_gw_rate_main_conf_t *rmcf = conf;

    ngx_uint_t                 i;
    ngx_http_gw_rate_zone_t  **zones;

    zones = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {

        if (!zones[i]->declared) {
            if (zones[i] != rmcf->default_zone) {
                ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                              "unknown gw_rate_zone \"%V\" in %s:%ui",
                              &zones[i]->shm_zone->shm.name, zones[i]->file,
                              zones[i]->line);
                return NGX_CONF_ERROR;
            }

            zones[i]->shm_zone->shm.size = NGX_HTTP_GW_RATE_DEFAULT_SIZE;
        }

        if (rmcf->redis && !zones[i]->local) {
            zones[i]->sync = 1;
            zones[i]->node_size = NGX_HTTP_GW_RATE_NODE_SIZE
                                  + sizeof(ngx_http_gw_rate_sync_t);
        }

        ngx_http_gw_rate_check_resize(cf, zones[i]);
    }

    return NGX_CONF_OK;
}


/*
 * nginx gives a zone whose size changed fresh memory: say so, since its
 * counters start again.
 */

static void
ngx_http_gw_rate_check_resize(ngx_conf_t *cf, ngx_http_gw_rate_zone_t *zone)
{
    ngx_uint_t        i;
    ngx_cycle_t      *old;
    ngx_list_part_t  *part;
    ngx_shm_zone_t   *shm_zone;

    old = cf->cycle->old_cycle;

    if (old == NULL || old->shared_memory.part.elts == NULL) {
        return;
    }

    part = &old->shared_memory.part;
    shm_zone = part->elts;

    for (i = 0; /* void */ ; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                return;
            }

            part = part->next;
            shm_zone = part->elts;
            i = 0;
        }

        if (shm_zone[i].tag != zone->shm_zone->tag
            || shm_zone[i].shm.name.len != zone->shm_zone->shm.name.len
            || ngx_strncmp(shm_zone[i].shm.name.data,
                           zone->shm_zone->shm.name.data,
                           zone->shm_zone->shm.name.len)
               != 0)
        {
            continue;
        }

        if (shm_zone[i].shm.size != zone->shm_zone->shm.size) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "gw_rate_zone \"%V\" changed size from %uz to "
                          "%uz, its counters start afresh",
                          &zone->shm_zone->shm.name, shm_zone[i].shm.size,
                          zone->shm_zone->shm.size);
        }

        return;
    }
}


static void *
ngx_http_gw_rate_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gw_rate_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_rate_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->limits = NULL;
     *     conf->plan_var = NULL;
     *     conf->plan_late = 0;
     *     conf->usage = 0;
     *     conf->has_early = 0;
     *     conf->has_late = 0;
     */

    conf->plan_var_set = NGX_CONF_UNSET;
    conf->status = NGX_CONF_UNSET_UINT;
    conf->headers = NGX_CONF_UNSET;
    conf->dry_run = NGX_CONF_UNSET;
    conf->log_level = NGX_CONF_UNSET_UINT;

    return conf;
}


static char *
ngx_http_gw_rate_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_gw_rate_loc_conf_t *prev = parent;
    ngx_http_gw_rate_loc_conf_t *conf = child;

    ngx_uint_t                 i;
    ngx_http_gw_rate_limit_t  *limit;

    if (conf->limits == NULL) {
        conf->limits = prev->limits;
    }

    if (conf->plan_var_set == NGX_CONF_UNSET) {
        conf->plan_var_set = prev->plan_var_set;
        conf->plan_var = prev->plan_var;
        conf->plan_late = prev->plan_late;
    }

    ngx_conf_merge_uint_value(conf->status, prev->status,
                              NGX_HTTP_TOO_MANY_REQUESTS);
    ngx_conf_merge_value(conf->headers, prev->headers, 1);
    ngx_conf_merge_value(conf->dry_run, prev->dry_run, 0);
    ngx_conf_merge_uint_value(conf->log_level, prev->log_level, NGX_LOG_ERR);

    conf->has_early = 0;
    conf->has_late = 0;

    if (conf->limits) {
        limit = conf->limits->elts;

        for (i = 0; i < conf->limits->nelts; i++) {

            /* the default key's phase is known once every module is in */

            if (limit[i].key == NULL) {
                conf->has_early = 1;
                conf->has_late = 1;

            } else if (limit[i].late) {
                conf->has_late = 1;

            } else {
                conf->has_early = 1;
            }
        }
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_gw_rate_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_gw_rate_add_variables(cf);
}


static ngx_int_t
ngx_http_gw_rate_postconfiguration(ngx_conf_t *cf)
{
    return ngx_http_gw_rate_handler_init(cf);
}


/* the zone by name, declared or only referenced so far */

static ngx_http_gw_rate_zone_t *
ngx_http_gw_rate_get_zone(ngx_conf_t *cf, ngx_str_t *name, size_t size)
{
    ngx_uint_t                      i;
    ngx_shm_zone_t                 *shm_zone;
    ngx_http_gw_rate_zone_t        *zone, **zones, **zp;
    ngx_http_gw_rate_main_conf_t   *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_gw_ratelimit_module);

    zones = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        if (zones[i]->shm_zone->shm.name.len == name->len
            && ngx_strncmp(zones[i]->shm_zone->shm.name.data, name->data,
                           name->len)
               == 0)
        {
            return zones[i];
        }
    }

    if (rmcf->zones.nelts == NGX_HTTP_GW_RATE_MAX_ZONES) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "too many gw_rate zones, at most %d",
                           NGX_HTTP_GW_RATE_MAX_ZONES);
        return NULL;
    }

    shm_zone = ngx_shared_memory_add(cf, name, size,
                                     &ngx_http_gw_ratelimit_module);
    if (shm_zone == NULL) {
        return NULL;
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_rate_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    zone->shm_zone = shm_zone;
    zone->node_size = NGX_HTTP_GW_RATE_NODE_SIZE;
    zone->index = rmcf->zones.nelts;
    zone->file = cf->conf_file->file.name.data;
    zone->line = cf->conf_file->line;

    shm_zone->init = ngx_http_gw_rate_init_zone;
    shm_zone->data = zone;

    zp = ngx_array_push(&rmcf->zones);
    if (zp == NULL) {
        return NULL;
    }

    *zp = zone;

    return zone;
}


static char *
ngx_http_gw_rate_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ssize_t                   size;
    ngx_str_t                *value, s;
    ngx_http_gw_rate_zone_t  *zone;

    value = cf->args->elts;

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (ngx_strncmp(value[2].data, "size=", 5) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    s.data = value[2].data + 5;
    s.len = value[2].len - 5;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", &value[2]);
        return NGX_CONF_ERROR;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small, at least %uzk",
                           &value[1], 8 * ngx_pagesize / 1024);
        return NGX_CONF_ERROR;
    }

    zone = ngx_http_gw_rate_get_zone(cf, &value[1], 0);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (cf->args->nelts == 4) {
        if (ngx_strcmp(value[3].data, "redis=off") == 0) {
            zone->local = 1;

        } else if (ngx_strcmp(value[3].data, "redis=on") != 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid parameter \"%V\"", &value[3]);
            return NGX_CONF_ERROR;
        }
    }

    if (zone->declared) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate gw_rate_zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    zone->declared = 1;
    zone->shm_zone->shm.size = size;

    return NGX_CONF_OK;
}


/* "100r/s", "20r/m", "5r/h" */

static ngx_int_t
ngx_http_gw_rate_parse_rate(ngx_str_t *value, uint64_t *n, uint64_t *period)
{
    u_char      *p, *last;
    uint64_t     v;
    ngx_uint_t   digits;

    p = value->data;
    last = p + value->len;
    v = 0;
    digits = 0;

    while (p < last && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');

        if (v > NGX_HTTP_GW_RATE_MAX) {
            return NGX_ERROR;
        }

        digits++;
    }

    if (digits == 0 || v == 0 || last - p != 3 || p[0] != 'r' || p[1] != '/')
    {
        return NGX_ERROR;
    }

    switch (p[2]) {
    case 's':
        *period = 1000;
        break;
    case 'm':
        *period = 60000;
        break;
    case 'h':
        *period = 3600000;
        break;
    default:
        return NGX_ERROR;
    }

    *n = v;

    return NGX_OK;
}


/* "1000/day", "5/2s" */

static ngx_int_t
ngx_http_gw_rate_parse_quota(ngx_str_t *value, uint64_t *n,
    ngx_uint_t *unit, uint64_t *period)
{
    u_char      *p, *last;
    uint64_t     v;
    ngx_str_t    s;
    ngx_msec_t   ms;
    ngx_uint_t   digits;

    p = value->data;
    last = p + value->len;
    v = 0;
    digits = 0;

    while (p < last && *p >= '0' && *p <= '9') {
        v = v * 10 + (*p++ - '0');

        if (v > 0xffffffff) {
            return NGX_ERROR;
        }

        digits++;
    }

    if (digits == 0 || v == 0 || p == last || *p++ != '/' || p == last) {
        return NGX_ERROR;
    }

    s.data = p;
    s.len = last - p;
    *n = v;
    *period = 0;

    if (s.len == 6 && ngx_strncmp(p, "minute", 6) == 0) {
        *unit = NGX_GW_CAL_MINUTE;
        *period = 60000;

    } else if (s.len == 4 && ngx_strncmp(p, "hour", 4) == 0) {
        *unit = NGX_GW_CAL_HOUR;
        *period = 3600000;

    } else if (s.len == 3 && ngx_strncmp(p, "day", 3) == 0) {
        *unit = NGX_GW_CAL_DAY;
        *period = 86400000;

    } else if (s.len == 4 && ngx_strncmp(p, "week", 4) == 0) {
        *unit = NGX_GW_CAL_WEEK;
        *period = 7 * 86400000ULL;

    } else if (s.len == 5 && ngx_strncmp(p, "month", 5) == 0) {
        *unit = NGX_GW_CAL_MONTH;
        *period = 30 * 86400000ULL;

    } else {
        ms = ngx_parse_time(&s, 0);

        if (ms == (ngx_msec_t) NGX_ERROR || ms < 1000) {
            return NGX_ERROR;
        }

        *unit = NGX_HTTP_GW_QUOTA_ROLLING;
        *period = ms;
    }

    return NGX_OK;
}


/* a policy name goes into a structured-field string and into logs */

static ngx_int_t
ngx_http_gw_rate_valid_name(ngx_str_t *name)
{
    size_t   i;
    u_char   c;

    if (name->len == 0 || name->len > 64) {
        return NGX_ERROR;
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
            || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'
            || c == '/' || c == ':')
        {
            continue;
        }

        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * Fills in what follows from the parsed numbers: the default name and
 * zone, the identity of the policy's counters (a changed rate or name
 * starts new counters, since a rate's state is kept in its own time unit)
 * and the registration for gw_rate_usage.
 */

static ngx_int_t
ngx_http_gw_rate_init_limit(ngx_conf_t *cf, ngx_http_gw_rate_limit_t *limit,
    ngx_str_t *spec)
{
    u_char                         *p, buf[NGX_INT64_LEN * 4 + 4];
    ngx_str_t                       name;
    ngx_http_gw_rate_limit_t       *lp;
    ngx_http_gw_rate_main_conf_t   *rmcf;

    rmcf = ngx_http_conf_get_module_main_conf(cf,
                                              ngx_http_gw_ratelimit_module);

    limit->spec.data = ngx_pstrdup(cf->pool, spec);
    if (limit->spec.data == NULL) {
        return NGX_ERROR;
    }

    limit->spec.len = spec->len;

    if (limit->name.len == 0) {
        limit->name = limit->spec;
    }

    if (limit->zone == NULL) {
        if (rmcf->default_zone == NULL) {
            ngx_str_set(&name, NGX_HTTP_GW_RATE_DEFAULT_ZONE);

            rmcf->default_zone = ngx_http_gw_rate_get_zone(cf, &name, 0);
            if (rmcf->default_zone == NULL) {
                return NGX_ERROR;
            }
        }

        limit->zone = rmcf->default_zone;
    }

    if (limit->kind == NGX_HTTP_GW_RATE) {
        if (limit->burst == 0) {
            limit->burst = limit->limit;
        }

        limit->window = limit->period / 1000;

    } else {
        limit->window = limit->period / 1000;
    }

    /* the header values that do not change from request to request */

    limit->policy.data = ngx_pnalloc(cf->pool, limit->name.len
                                               + sizeof("\"\";q=;w=") - 1
                                               + 2 * NGX_INT64_LEN);
    if (limit->policy.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(limit->policy.data, "\"%V\";q=%uL;w=%uL",
                    &limit->name, limit->limit, limit->window);
    limit->policy.len = p - limit->policy.data;

    limit->limit_text.data = ngx_pnalloc(cf->pool, NGX_INT64_LEN);
    if (limit->limit_text.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(limit->limit_text.data, "%uL", limit->limit);
    limit->limit_text.len = p - limit->limit_text.data;

    p = ngx_sprintf(buf, "%ui:%uL:%uL:%ui:", limit->kind, limit->limit,
                    limit->period, limit->unit);

    limit->id = ngx_http_gw_rate_hash(ngx_http_gw_rate_hash(0, buf, p - buf),
                                      limit->name.data, limit->name.len);

    /* a copy: the location's array may still grow and move */

    lp = ngx_array_push(&rmcf->policies);
    if (lp == NULL) {
        return NGX_ERROR;
    }

    *lp = *limit;

    return NGX_OK;
}


static char *
ngx_http_gw_rate(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_loc_conf_t *rlcf = conf;

    u_char                             c;
    ngx_int_t                          n, index;
    ngx_str_t                         *value, s, name;
    ngx_uint_t                         i, j;
    ngx_http_gw_rate_limit_t          *limit;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (rlcf->limits == NULL) {
        rlcf->limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_gw_rate_limit_t));
        if (rlcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limit = ngx_array_push(rlcf->limits);
    if (limit == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(limit, sizeof(ngx_http_gw_rate_limit_t));

    limit->kind = cmd->offset;

    if (limit->kind == NGX_HTTP_GW_RATE) {
        if (ngx_http_gw_rate_parse_rate(&value[1], &limit->limit,
                                        &limit->period)
            != NGX_OK)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid rate \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

    } else if (ngx_http_gw_rate_parse_quota(&value[1], &limit->limit,
                                            &limit->unit, &limit->period)
               != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid quota \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (limit->kind == NGX_HTTP_GW_RATE
            && ngx_strncmp(value[i].data, "burst=", 6) == 0)
        {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            n = ngx_atoi(s.data, s.len);
            if (n <= 0 || n > 1000000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->burst = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid key \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->key = ngx_palloc(cf->pool,
                                    sizeof(ngx_http_complex_value_t));
            if (limit->key == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = limit->key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            /* a key that is one variable is read without the script */

            for (j = 1; j < s.len; j++) {
                c = s.data[j];

                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                      || (c >= '0' && c <= '9') || c == '_'))
                {
                    break;
                }
            }

            if (s.data[0] == '$' && s.len > 1 && j == s.len) {
                name.data = s.data + 1;
                name.len = s.len - 1;

                index = ngx_http_get_variable_index(cf, &name);
                if (index == NGX_ERROR) {
                    return NGX_CONF_ERROR;
                }

                limit->key_var = index + 1;
            }

            /* keys that name an auth variable wait for authentication */

            limit->late = (ngx_strlcasestrn(s.data, s.data + s.len,
                                            (u_char *) "gw_auth_", 8 - 1)
                           != NULL);
            continue;
        }

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid zone \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->zone = ngx_http_gw_rate_get_zone(cf, &s, 0);
            if (limit->zone == NULL) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "name=", 5) == 0) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            if (ngx_http_gw_rate_valid_name(&s) != NGX_OK) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid name \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->name = s;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_gw_rate_init_limit(cf, limit, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_rate_plan(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_main_conf_t *rmcf = conf;

    u_char                    *p;
    ngx_int_t                  n;
    ngx_str_t                 *value, s, spec;
    ngx_uint_t                 i;
    ngx_http_gw_rate_plan_t   *plan;
    ngx_http_gw_rate_limit_t  *limit, *rate;

    value = cf->args->elts;

    if (ngx_http_gw_rate_valid_name(&value[1]) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid plan name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    plan = rmcf->plans.elts;

    for (i = 0; i < rmcf->plans.nelts; i++) {
        if (plan[i].name.len == value[1].len
            && ngx_strncmp(plan[i].name.data, value[1].data, value[1].len)
               == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate gw_rate_plan \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    plan = ngx_array_push(&rmcf->plans);
    if (plan == NULL) {
        return NGX_CONF_ERROR;
    }

    plan->name = value[1];

    if (ngx_array_init(&plan->limits, cf->pool, 2,
                       sizeof(ngx_http_gw_rate_limit_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rate = NULL;
    n = 0;

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0 && rate == NULL) {
            s.data = value[i].data + 5;
            s.len = value[i].len - 5;

            rate = ngx_array_push(&plan->limits);
            if (rate == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(rate, sizeof(ngx_http_gw_rate_limit_t));
            rate->kind = NGX_HTTP_GW_RATE;
            rate->name = value[1];

            if (ngx_http_gw_rate_parse_rate(&s, &rate->limit, &rate->period)
                != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid rate \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            rate->spec = s;
            continue;
        }

        if (ngx_strncmp(value[i].data, "burst=", 6) == 0 && n == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);
            if (n <= 0 || n > 1000000000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid burst \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "quota=", 6) == 0) {
            s.data = value[i].data + 6;
            s.len = value[i].len - 6;

            limit = ngx_array_push(&plan->limits);
            if (limit == NULL) {
                return NGX_CONF_ERROR;
            }

            ngx_memzero(limit, sizeof(ngx_http_gw_rate_limit_t));
            limit->kind = NGX_HTTP_GW_QUOTA;

            if (ngx_http_gw_rate_parse_quota(&s, &limit->limit, &limit->unit,
                                             &limit->period)
                != NGX_OK)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid quota \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            limit->name.len = value[1].len + sizeof("-quota") - 1;
            limit->name.data = ngx_pnalloc(cf->pool, limit->name.len);
            if (limit->name.data == NULL) {
                return NGX_CONF_ERROR;
            }

            p = ngx_cpymem(limit->name.data, value[1].data, value[1].len);
            ngx_memcpy(p, "-quota", sizeof("-quota") - 1);

            if (ngx_http_gw_rate_init_limit(cf, limit, &s) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (n && rate == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_rate_plan \"%V\" has burst= without rate=",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (plan->limits.nelts == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_rate_plan \"%V\" needs rate= or quota=",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rate) {
        rate->burst = n;
        spec = rate->spec;

        if (ngx_http_gw_rate_init_limit(cf, rate, &spec) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_rate_plan_var(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_loc_conf_t *rlcf = conf;

    ngx_str_t                         *value;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    if (rlcf->plan_var_set != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    if (value[1].len < 2 || value[1].data[0] != '$') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid variable \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    rlcf->plan_var = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (rlcf->plan_var == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = rlcf->plan_var;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    rlcf->plan_var_set = 1;
    rlcf->plan_late = (ngx_strlcasestrn(value[1].data,
                                        value[1].data + value[1].len,
                                        (u_char *) "gw_auth_", 8 - 1)
                       != NULL);

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_rate_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_loc_conf_t *rlcf = conf;

    ngx_int_t   n;
    ngx_str_t  *value;

    value = cf->args->elts;

    if (rlcf->status != NGX_CONF_UNSET_UINT) {
        return "is duplicate";
    }

    n = ngx_atoi(value[1].data, value[1].len);

    if (n < 400 || n > 599) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid status \"%V\", must be 400..599",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    rlcf->status = n;

    return NGX_CONF_OK;
}


/*
 * A fixed offset, or an IANA name whose TZif file is read here, once:
 * requests never call localtime() or read the zone database.
 */

static char *
ngx_http_gw_rate_timezone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_main_conf_t *rmcf = conf;

    u_char       *buf;
    int32_t       offset;
    ssize_t       n;
    uint32_t      count;
    ngx_str_t    *value, path;
    ngx_uint_t    i;
    ngx_file_t    file;
    ngx_gw_tz_t  *tz;

    value = cf->args->elts;

    if (rmcf->tz_name.len) {
        return "is duplicate";
    }

    tz = ngx_pcalloc(cf->pool, sizeof(ngx_gw_tz_t));
    if (tz == NULL) {
        return NGX_CONF_ERROR;
    }

    rmcf->tz_name = value[1];

    if (ngx_gw_tz_parse_offset(value[1].data, value[1].len, &offset) == 0) {
        tz->initial = offset;
        rmcf->tz = tz;
        return NGX_CONF_OK;
    }

    for (i = 0; i < value[1].len; i++) {
        if (!((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
              || (value[1].data[i] >= 'A' && value[1].data[i] <= 'Z')
              || (value[1].data[i] >= '0' && value[1].data[i] <= '9')
              || value[1].data[i] == '/' || value[1].data[i] == '_'
              || value[1].data[i] == '-' || value[1].data[i] == '+'
              || value[1].data[i] == '.'))
        {
            break;
        }
    }

    if (value[1].len == 0 || i != value[1].len || value[1].data[0] == '/'
        || ngx_strstrn(value[1].data, "..", 2 - 1) != NULL)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time zone \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    path.len = sizeof("/usr/share/zoneinfo/") - 1 + value[1].len;
    path.data = ngx_pnalloc(cf->pool, path.len + 1);
    if (path.data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_sprintf(path.data, "/usr/share/zoneinfo/%V%Z", &value[1]);

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.name = path;
    file.log = cf->log;

    file.fd = ngx_open_file(path.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "unknown time zone \"%V\", "
                           ngx_open_file_n " \"%s\" failed",
                           &value[1], path.data);
        return NGX_CONF_ERROR;
    }

    buf = ngx_pnalloc(cf->temp_pool, 256 * 1024);
    if (buf == NULL) {
        ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, buf, 256 * 1024, 0);

    ngx_close_file(file.fd);

    if (n == NGX_ERROR) {
        return NGX_CONF_ERROR;
    }

    if (ngx_gw_tzif_parse(buf, n, &count, NULL, NULL, &tz->initial, NULL)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time zone \"%V\": \"%s\" is not "
                           "TZif data", &value[1], path.data);
        return NGX_CONF_ERROR;
    }

    if (count) {
        tz->times = ngx_palloc(cf->pool, count * sizeof(int64_t));
        if (tz->times == NULL) {
            return NGX_CONF_ERROR;
        }

        tz->offsets = ngx_palloc(cf->pool, count * sizeof(int32_t));
        if (tz->offsets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_gw_tzif_parse(buf, n, &tz->n, tz->times, tz->offsets,
                          &tz->initial, &tz->rule)
        != 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid time zone \"%V\": \"%s\" is not "
                           "TZif data", &value[1], path.data);
        return NGX_CONF_ERROR;
    }

    rmcf->tz = tz;

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_rate_usage(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_loc_conf_t *rlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (rlcf->usage) {
        return "is duplicate";
    }

    rlcf->usage = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_gw_rate_usage_handler;

    return NGX_CONF_OK;
}

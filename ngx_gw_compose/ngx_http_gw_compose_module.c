/*
 * Copyright (C) ngx_gw authors
 *
 * ngx_gw_compose: one client request answered by several in-memory
 * subrequests ("parts") whose JSON bodies are merged into one object.
 * This file holds the directives, the dependency graph check and the
 * variables; the request side is in ngx_http_gw_compose_handler.c.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_compose_module.h"


static ngx_int_t ngx_http_gw_compose_add_variables(ngx_conf_t *cf);
static ngx_int_t ngx_http_gw_compose_init(ngx_conf_t *cf);
static void *ngx_http_gw_compose_create_main_conf(ngx_conf_t *cf);
static ngx_int_t ngx_http_gw_compose_init_module(ngx_cycle_t *cycle);
static void *ngx_http_gw_compose_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_gw_compose_merge_loc_conf(ngx_conf_t *cf,
    void *parent, void *child);
static char *ngx_http_gw_compose(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_compose_part(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_compose_part_rename(ngx_conf_t *cf,
    ngx_http_gw_compose_part_conf_t *part, u_char *p, u_char *last);
static char *ngx_http_gw_compose_part_status_ok(ngx_conf_t *cf,
    ngx_http_gw_compose_part_conf_t *part, u_char *p, u_char *last);
static char *ngx_http_gw_compose_part_option(ngx_conf_t *cf,
    ngx_http_gw_compose_part_conf_t *part, ngx_str_t *value);
static char *ngx_http_gw_compose_headers(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_gw_compose_set_value(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static ngx_int_t ngx_http_gw_compose_compile(ngx_conf_t *cf,
    ngx_http_gw_compose_template_t *tpl, ngx_str_t *source);
static ngx_array_t *ngx_http_gw_compose_paths(ngx_conf_t *cf,
    ngx_str_t *value, ngx_str_t *list);
static ngx_int_t ngx_http_gw_compose_link(ngx_conf_t *cf,
    ngx_http_gw_compose_loc_conf_t *conf);
static ngx_int_t ngx_http_gw_compose_link_template(ngx_conf_t *cf,
    ngx_http_gw_compose_loc_conf_t *conf,
    ngx_http_gw_compose_part_conf_t *part,
    ngx_http_gw_compose_template_t *tpl);
static ngx_int_t ngx_http_gw_compose_visit(ngx_conf_t *cf,
    ngx_http_gw_compose_loc_conf_t *conf, ngx_uint_t i, u_char *color,
    ngx_uint_t *stack, ngx_uint_t depth);
static ngx_int_t ngx_http_gw_compose_parts_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data);
static ngx_int_t ngx_http_gw_compose_complete_variable(
    ngx_http_request_t *r, ngx_http_variable_value_t *v, uintptr_t data);


static ngx_conf_bitmask_t  ngx_http_gw_compose_methods[] = {
    { ngx_string("GET"), NGX_HTTP_GET },
    { ngx_string("POST"), NGX_HTTP_POST },
    { ngx_string("PUT"), NGX_HTTP_PUT },
    { ngx_string("PATCH"), NGX_HTTP_PATCH },
    { ngx_string("DELETE"), NGX_HTTP_DELETE },
    { ngx_null_string, 0 }
};


static ngx_command_t  ngx_http_gw_compose_commands[] = {

    { ngx_string("gw_compose"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_gw_compose,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_compose_part"),
      NGX_HTTP_LOC_CONF|NGX_CONF_2MORE,
      ngx_http_gw_compose_part,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("gw_compose_timeout"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_compose_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_compose_loc_conf_t, timeout),
      NULL },

    { ngx_string("gw_compose_max_body"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_gw_compose_set_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_compose_loc_conf_t, max_body),
      NULL },

    { ngx_string("gw_compose_pass_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_compose_headers,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_compose_loc_conf_t, pass_headers),
      NULL },

    { ngx_string("gw_compose_clear_headers"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_gw_compose_headers,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_gw_compose_loc_conf_t, clear_headers),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_gw_compose_module_ctx = {
    ngx_http_gw_compose_add_variables,     /* preconfiguration */
    ngx_http_gw_compose_init,              /* postconfiguration */

    ngx_http_gw_compose_create_main_conf,  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_gw_compose_create_loc_conf,   /* create location configuration */
    ngx_http_gw_compose_merge_loc_conf     /* merge location configuration */
};


ngx_module_t  ngx_http_gw_compose_module = {
    NGX_MODULE_V1,
    &ngx_http_gw_compose_module_ctx,       /* module context */
    ngx_http_gw_compose_commands,          /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_gw_compose_init_module,       /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_http_variable_t  ngx_http_gw_compose_vars[] = {

    { ngx_string("gw_compose_parts"), NULL,
      ngx_http_gw_compose_parts_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

    { ngx_string("gw_compose_complete"), NULL,
      ngx_http_gw_compose_complete_variable, 0,
      NGX_HTTP_VAR_NOCACHEABLE, 0 },

      ngx_http_null_variable
};


static ngx_str_t  ngx_http_gw_compose_request_name = ngx_string("request");


static ngx_int_t
ngx_http_gw_compose_add_variables(ngx_conf_t *cf)
{
    ngx_http_variable_t  *var, *v;

    for (v = ngx_http_gw_compose_vars; v->name.len; v++) {
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
ngx_http_gw_compose_init(ngx_conf_t *cf)
{
    return ngx_http_gw_compose_body_filter_init(cf);
}


static void *
ngx_http_gw_compose_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_gw_compose_main_conf_t  *gmcf;

    gmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_compose_main_conf_t));
    if (gmcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     gmcf->reset = NULL;
     */

    return gmcf;
}


/*
 * The indexed variables a part evaluates again rather than taking from the
 * client's request: those of the headers and the URI, which differ for a
 * part.  The list is final once every variable is indexed.
 */

static ngx_int_t
ngx_http_gw_compose_init_module(ngx_cycle_t *cycle)
{
    ngx_str_t                        *name;
    ngx_uint_t                        i, *index;
    ngx_http_variable_t              *v;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_gw_compose_main_conf_t  *gmcf;

    static ngx_str_t  reset[] = {
        ngx_string("http_"),
        ngx_string("cookie_"),
        ngx_string("remote_user"),
        ngx_string("content_type"),
        ngx_string("content_length"),
        ngx_string("request_uri"),
        ngx_null_string
    };

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module)
        == NULL)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module);
    gmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gw_compose_module);

    gmcf->reset = ngx_array_create(cycle->pool, 16, sizeof(ngx_uint_t));
    if (gmcf->reset == NULL) {
        return NGX_ERROR;
    }

    v = cmcf->variables.elts;

    for (i = 0; i < cmcf->variables.nelts; i++) {

        for (name = reset; name->len; name++) {
            if (v[i].name.len >= name->len
                && ngx_strncmp(v[i].name.data, name->data, name->len) == 0)
            {
                index = ngx_array_push(gmcf->reset);
                if (index == NULL) {
                    return NGX_ERROR;
                }

                *index = i;
                break;
            }
        }
    }

    return NGX_OK;
}


static void *
ngx_http_gw_compose_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_gw_compose_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_compose_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->parts = NULL;
     *     conf->needs_body = 0;
     *     conf->request_json = 0;
     */

    conf->timeout = NGX_CONF_UNSET_MSEC;
    conf->max_body = NGX_CONF_UNSET_SIZE;
    conf->pass_headers = NGX_CONF_UNSET_PTR;
    conf->clear_headers = NGX_CONF_UNSET_PTR;
    conf->pass_all = NGX_CONF_UNSET;
    conf->enabled = NGX_CONF_UNSET;

    return conf;
}


static char *
ngx_http_gw_compose_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_gw_compose_loc_conf_t  *prev = parent;
    ngx_http_gw_compose_loc_conf_t  *conf = child;

    ngx_conf_merge_msec_value(conf->timeout, prev->timeout, 60000);
    ngx_conf_merge_size_value(conf->max_body, prev->max_body, 1024 * 1024);

    if (conf->pass_headers == NGX_CONF_UNSET_PTR) {
        conf->pass_headers = prev->pass_headers;
        conf->pass_all = prev->pass_all;
    }

    ngx_conf_merge_ptr_value(conf->pass_headers, prev->pass_headers, NULL);
    ngx_conf_merge_value(conf->pass_all, prev->pass_all, 1);
    ngx_conf_merge_ptr_value(conf->clear_headers, prev->clear_headers, NULL);
    ngx_conf_merge_value(conf->enabled, prev->enabled, 0);

    if (conf->enabled && conf->parts == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_compose requires at least one "
                           "gw_compose_part");
        return NGX_CONF_ERROR;
    }

    if (conf->parts && !conf->enabled) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_compose_part requires gw_compose in the "
                           "same location");
        return NGX_CONF_ERROR;
    }

    if (conf->parts && ngx_http_gw_compose_link(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_compose(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_compose_loc_conf_t  *gcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (gcf->enabled != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    gcf->enabled = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_gw_compose_handler;

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_compose_part(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_compose_loc_conf_t  *gcf = conf;

    char                             *rv;
    ngx_str_t                        *value;
    ngx_uint_t                        i;
    ngx_http_gw_compose_part_conf_t  *part, *p;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if ((value[1].data[i] >= 'a' && value[1].data[i] <= 'z')
            || (value[1].data[i] >= 'A' && value[1].data[i] <= 'Z')
            || value[1].data[i] == '_'
            || (i && ((value[1].data[i] >= '0' && value[1].data[i] <= '9')
                      || value[1].data[i] == '-')))
        {
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid part name \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "empty part name");
        return NGX_CONF_ERROR;
    }

    if (value[1].len == ngx_http_gw_compose_request_name.len
        && ngx_strncmp(value[1].data, ngx_http_gw_compose_request_name.data,
                       value[1].len) == 0)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "part name \"request\" is reserved for the "
                           "client's body");
        return NGX_CONF_ERROR;
    }

    if (gcf->parts == NULL) {
        gcf->parts = ngx_array_create(cf->pool, 4,
                                      sizeof(ngx_http_gw_compose_part_conf_t));
        if (gcf->parts == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    p = gcf->parts->elts;

    for (i = 0; i < gcf->parts->nelts; i++) {
        if (p[i].name.len == value[1].len
            && ngx_strncmp(p[i].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate part \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    part = ngx_array_push(gcf->parts);
    if (part == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(part, sizeof(ngx_http_gw_compose_part_conf_t));

    part->name = value[1];
    part->index = gcf->parts->nelts - 1;
    part->method = NGX_HTTP_GET;
    ngx_str_set(&part->method_name, "GET");

    if (value[2].len == 0 || value[2].data[0] != '/') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "part \"%V\": uri \"%V\" must start with \"/\"",
                           &value[1], &value[2]);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_gw_compose_compile(cf, &part->uri, &value[2]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 3; i < cf->args->nelts; i++) {
        rv = ngx_http_gw_compose_part_option(cf, part, &value[i]);
        if (rv != NGX_CONF_OK) {
            return rv;
        }
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_compose_part_option(ngx_conf_t *cf,
    ngx_http_gw_compose_part_conf_t *part, ngx_str_t *value)
{
    ngx_str_t            s;
    ngx_conf_bitmask_t  *m;

    if (value->len == 8 && ngx_strncmp(value->data, "optional", 8) == 0) {
        part->optional = 1;
        return NGX_CONF_OK;
    }

    if (value->len == 5 && ngx_strncmp(value->data, "merge", 5) == 0) {
        part->merge = 1;
        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value->data, "timeout=", 8) == 0) {
        s.data = value->data + 8;
        s.len = value->len - 8;

        part->timeout = ngx_parse_time(&s, 0);

        if (part->timeout == (ngx_msec_t) NGX_ERROR || part->timeout == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "part \"%V\": invalid timeout \"%V\"",
                               &part->name, &s);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value->data, "method=", 7) == 0) {
        s.data = value->data + 7;
        s.len = value->len - 7;

        for (m = ngx_http_gw_compose_methods; m->name.len; m++) {
            if (m->name.len == s.len
                && ngx_strncmp(m->name.data, s.data, s.len) == 0)
            {
                part->method = m->mask;
                part->method_name = m->name;
                return NGX_CONF_OK;
            }
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "part \"%V\": invalid method \"%V\"",
                           &part->name, &s);
        return NGX_CONF_ERROR;
    }

    if (ngx_strncmp(value->data, "body=", 5) == 0) {
        s.data = value->data + 5;
        s.len = value->len - 5;

        part->body = ngx_pcalloc(cf->pool,
                                 sizeof(ngx_http_gw_compose_template_t));
        if (part->body == NULL) {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_gw_compose_compile(cf, part->body, &s) != NGX_OK) {
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value->data, "target=", 7) == 0) {
        s.data = value->data + 7;
        s.len = value->len - 7;

        part->target = (s.len == 0)
                       ? NULL
                       : ngx_http_gw_compose_path_parse(cf->pool, s.data,
                                                        s.len);
        if (part->target == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "part \"%V\": invalid target \"%V\"",
                               &part->name, &s);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_strncmp(value->data, "allow=", 6) == 0) {
        s.data = value->data + 6;
        s.len = value->len - 6;

        part->allow = ngx_http_gw_compose_paths(cf, value, &s);

        return part->allow ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_strncmp(value->data, "deny=", 5) == 0) {
        s.data = value->data + 5;
        s.len = value->len - 5;

        part->deny = ngx_http_gw_compose_paths(cf, value, &s);

        return part->deny ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (ngx_strncmp(value->data, "rename=", 7) == 0) {
        return ngx_http_gw_compose_part_rename(cf, part, value->data + 7,
                                               value->data + value->len);
    }

    if (ngx_strncmp(value->data, "status_ok=", 10) == 0) {
        return ngx_http_gw_compose_part_status_ok(cf, part, value->data + 10,
                                                  value->data + value->len);
    }

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "part \"%V\": invalid option \"%V\"",
                       &part->name, value);

    return NGX_CONF_ERROR;
}


static char *
ngx_http_gw_compose_part_rename(ngx_conf_t *cf,
    ngx_http_gw_compose_part_conf_t *part, u_char *p, u_char *last)
{
    u_char                        *comma, *colon;
    ngx_str_t                      item;
    ngx_http_gw_compose_rename_t  *rn;

    /* rename=from:to,from:to */

    part->rename = ngx_array_create(cf->pool, 2,
                                    sizeof(ngx_http_gw_compose_rename_t));
    if (part->rename == NULL) {
        return NGX_CONF_ERROR;
    }

    while (p <= last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        item.data = p;
        item.len = comma - p;

        colon = ngx_strlchr(p, comma, ':');

        rn = ngx_array_push(part->rename);
        if (rn == NULL) {
            return NGX_CONF_ERROR;
        }

        if (colon == NULL
            || colon == p
            || colon + 1 == comma
            || (rn->from = ngx_http_gw_compose_path_parse(cf->pool, p,
                                                          colon - p))
               == NULL
            || (rn->to = ngx_http_gw_compose_path_parse(cf->pool, colon + 1,
                                                        comma - colon - 1))
               == NULL)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "part \"%V\": invalid rename \"%V\"",
                               &part->name, &item);
            return NGX_CONF_ERROR;
        }

        p = comma + 1;
    }

    return NGX_CONF_OK;
}


static char *
ngx_http_gw_compose_part_status_ok(ngx_conf_t *cf,
    ngx_http_gw_compose_part_conf_t *part, u_char *p, u_char *last)
{
    u_char      *comma;
    ngx_int_t    n;
    ngx_str_t    item;
    ngx_uint_t  *code;

    /* status_ok=200,404: the statuses that count as a success */

    part->status_ok = ngx_array_create(cf->pool, 4, sizeof(ngx_uint_t));
    if (part->status_ok == NULL) {
        return NGX_CONF_ERROR;
    }

    while (p <= last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        n = ngx_atoi(p, comma - p);

        if (n < 100 || n > 599) {
            item.data = p;
            item.len = comma - p;

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "part \"%V\": invalid status \"%V\"",
                               &part->name, &item);
            return NGX_CONF_ERROR;
        }

        code = ngx_array_push(part->status_ok);
        if (code == NULL) {
            return NGX_CONF_ERROR;
        }

        *code = n;
        p = comma + 1;
    }

    return NGX_CONF_OK;
}


/* gw_compose_timeout and gw_compose_max_body, naming a bad value */

static char *
ngx_http_gw_compose_set_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_compose_loc_conf_t  *gcf = conf;

    ssize_t     size;
    ngx_str_t  *value;
    ngx_msec_t  msec;

    value = cf->args->elts;

    if (&gcf->timeout == (ngx_msec_t *) ((char *) conf + cmd->offset)) {
        if (gcf->timeout != NGX_CONF_UNSET_MSEC) {
            return "is duplicate";
        }

        msec = ngx_parse_time(&value[1], 0);

        if (msec == (ngx_msec_t) NGX_ERROR || msec == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid gw_compose_timeout \"%V\"",
                               &value[1]);
            return NGX_CONF_ERROR;
        }

        gcf->timeout = msec;
        return NGX_CONF_OK;
    }

    if (gcf->max_body != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    size = ngx_parse_size(&value[1]);

    if (size <= 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid gw_compose_max_body \"%V\"", &value[1]);
        return NGX_CONF_ERROR;
    }

    gcf->max_body = size;

    return NGX_CONF_OK;
}


/* "a,b.c" as an array of paths; logs the bad item */

static ngx_array_t *
ngx_http_gw_compose_paths(ngx_conf_t *cf, ngx_str_t *value, ngx_str_t *list)
{
    u_char        *p, *last, *comma;
    ngx_str_t      item;
    ngx_array_t   *paths, **path;

    paths = ngx_array_create(cf->pool, 4, sizeof(ngx_array_t *));
    if (paths == NULL) {
        return NULL;
    }

    p = list->data;
    last = list->data + list->len;

    while (p <= last) {
        comma = ngx_strlchr(p, last, ',');
        if (comma == NULL) {
            comma = last;
        }

        path = ngx_array_push(paths);
        if (path == NULL) {
            return NULL;
        }

        *path = (comma == p) ? NULL
                             : ngx_http_gw_compose_path_parse(cf->pool, p,
                                                              comma - p);
        if (*path == NULL) {
            item.data = p;
            item.len = comma - p;

            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid field \"%V\" in \"%V\"",
                               &item, value);
            return NULL;
        }

        p = comma + 1;
    }

    return paths;
}


static ngx_int_t
ngx_http_gw_compose_compile(ngx_conf_t *cf,
    ngx_http_gw_compose_template_t *tpl, ngx_str_t *source)
{
    ngx_int_t                           rc;
    ngx_uint_t                          i;
    ngx_array_t                         tokens;
    ngx_http_gw_compose_token_t        *t;
    ngx_http_gw_compose_segment_t      *seg;
    ngx_http_compile_complex_value_t    ccv;

    tpl->source = *source;

    if (ngx_array_init(&tokens, cf->temp_pool, 4,
                       sizeof(ngx_http_gw_compose_token_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    rc = ngx_http_gw_compose_template_parse(source->data, source->len,
                                            &tokens);
    if (rc == NGX_DECLINED) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid reference in \"%V\"", source);
        return NGX_ERROR;
    }

    if (rc != NGX_OK) {
        return NGX_ERROR;
    }

    tpl->segments = ngx_array_create(cf->pool, tokens.nelts + 1,
                                     sizeof(ngx_http_gw_compose_segment_t));
    if (tpl->segments == NULL) {
        return NGX_ERROR;
    }

    t = tokens.elts;

    for (i = 0; i < tokens.nelts; i++) {
        seg = ngx_array_push(tpl->segments);
        if (seg == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(seg, sizeof(ngx_http_gw_compose_segment_t));

        if (t[i].ref) {
            seg->name = t[i].text;
            seg->path = ngx_http_gw_compose_path_parse(cf->pool,
                                                       t[i].path.data,
                                                       t[i].path.len);
            if (seg->path == NULL) {
                return NGX_ERROR;
            }

            continue;
        }

        seg->value = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
        if (seg->value == NULL) {
            return NGX_ERROR;
        }

        ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

        ccv.cf = cf;
        ccv.value = &t[i].text;
        ccv.complex_value = seg->value;

        if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static char *
ngx_http_gw_compose_headers(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_compose_loc_conf_t  *gcf = conf;

    ngx_str_t     *value, *name;
    ngx_uint_t     i, j;
    ngx_array_t  **list;

    list = (ngx_array_t **) ((char *) conf + cmd->offset);

    if (*list != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (list == &gcf->pass_headers) {
        gcf->pass_all = 0;

        if (cf->args->nelts == 2
            && value[1].len == 3
            && ngx_strncasecmp(value[1].data, (u_char *) "all", 3) == 0)
        {
            gcf->pass_all = 1;
            *list = NULL;
            return NGX_CONF_OK;
        }

        if (cf->args->nelts == 2
            && value[1].len == 3
            && ngx_strncasecmp(value[1].data, (u_char *) "off", 3) == 0)
        {
            *list = NULL;
            return NGX_CONF_OK;
        }
    }

    *list = ngx_array_create(cf->pool, cf->args->nelts - 1,
                             sizeof(ngx_str_t));
    if (*list == NULL) {
        return NGX_CONF_ERROR;
    }

    for (i = 1; i < cf->args->nelts; i++) {

        for (j = 0; j < value[i].len; j++) {
            if (value[i].data[j] <= ' ' || value[i].data[j] == ':'
                || value[i].data[j] >= 0x7f)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid header name \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }
        }

        name = ngx_array_push(*list);
        if (name == NULL) {
            return NGX_CONF_ERROR;
        }

        name->len = value[i].len;
        name->data = ngx_pnalloc(cf->pool, name->len);
        if (name->data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_strlow(name->data, value[i].data, name->len);
    }

    return NGX_CONF_OK;
}


/*
 * Resolves every reference to a part index, records the parts each part
 * waits for, and rejects unknown parts and cycles.
 */

static ngx_int_t
ngx_http_gw_compose_link(ngx_conf_t *cf, ngx_http_gw_compose_loc_conf_t *conf)
{
    u_char                           *color;
    ngx_uint_t                        i, k, *stack, *dep;
    ngx_http_gw_compose_part_conf_t  *part;

    part = conf->parts->elts;

    for (i = 0; i < conf->parts->nelts; i++) {
        part[i].deps = ngx_array_create(cf->pool, 2, sizeof(ngx_uint_t));
        if (part[i].deps == NULL) {
            return NGX_ERROR;
        }

        if (ngx_http_gw_compose_link_template(cf, conf, &part[i],
                                              &part[i].uri)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (part[i].body
            && ngx_http_gw_compose_link_template(cf, conf, &part[i],
                                                 part[i].body)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (part[i].body && part[i].method == NGX_HTTP_GET) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "part \"%V\": body= needs a method other "
                               "than GET", &part[i].name);
            return NGX_ERROR;
        }

        if (part[i].body == NULL && part[i].method != NGX_HTTP_GET) {
            conf->needs_body = 1;
        }
    }

    for (i = 0; i < conf->parts->nelts; i++) {
        dep = part[i].deps->elts;

        for (k = 0; k < part[i].deps->nelts; k++) {
            part[dep[k]].referenced = 1;
        }

        if (part[i].merge) {
            conf->has_merge = 1;
        }
    }

    for (i = 0; i < conf->parts->nelts; i++) {
        part[i].verbatim = !conf->has_merge
                           && !part[i].referenced
                           && part[i].target == NULL
                           && part[i].allow == NULL
                           && part[i].deny == NULL
                           && part[i].rename == NULL;
    }

    color = ngx_pcalloc(cf->temp_pool, conf->parts->nelts);
    if (color == NULL) {
        return NGX_ERROR;
    }

    stack = ngx_palloc(cf->temp_pool,
                       (conf->parts->nelts + 1) * sizeof(ngx_uint_t));
    if (stack == NULL) {
        return NGX_ERROR;
    }

    for (i = 0; i < conf->parts->nelts; i++) {
        if (color[i] == 0
            && ngx_http_gw_compose_visit(cf, conf, i, color, stack, 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_compose_link_template(ngx_conf_t *cf,
    ngx_http_gw_compose_loc_conf_t *conf,
    ngx_http_gw_compose_part_conf_t *part,
    ngx_http_gw_compose_template_t *tpl)
{
    ngx_uint_t                        i, j, k, *dep;
    ngx_http_gw_compose_segment_t    *seg;
    ngx_http_gw_compose_part_conf_t  *parts;

    seg = tpl->segments->elts;
    parts = conf->parts->elts;

    for (i = 0; i < tpl->segments->nelts; i++) {
        if (seg[i].value) {
            continue;
        }

        if (seg[i].name.len == ngx_http_gw_compose_request_name.len
            && ngx_strncmp(seg[i].name.data,
                           ngx_http_gw_compose_request_name.data,
                           seg[i].name.len) == 0)
        {
            seg[i].part = NGX_HTTP_GW_COMPOSE_REQUEST;
            part->uses_request = 1;
            conf->needs_body = 1;
            conf->request_json = 1;
            continue;
        }

        for (j = 0; j < conf->parts->nelts; j++) {
            if (parts[j].name.len == seg[i].name.len
                && ngx_strncmp(parts[j].name.data, seg[i].name.data,
                               seg[i].name.len) == 0)
            {
                break;
            }
        }

        if (j == conf->parts->nelts) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "part \"%V\" refers to unknown part \"%V\" "
                               "in \"%V\"",
                               &part->name, &seg[i].name, &tpl->source);
            return NGX_ERROR;
        }

        seg[i].part = j;

        dep = part->deps->elts;

        for (k = 0; k < part->deps->nelts; k++) {
            if (dep[k] == j) {
                break;
            }
        }

        if (k < part->deps->nelts) {
            continue;
        }

        dep = ngx_array_push(part->deps);
        if (dep == NULL) {
            return NGX_ERROR;
        }

        *dep = j;
    }

    return NGX_OK;
}


/* depth-first search; color 1: on the current path, 2: checked */

static ngx_int_t
ngx_http_gw_compose_visit(ngx_conf_t *cf,
    ngx_http_gw_compose_loc_conf_t *conf, ngx_uint_t i, u_char *color,
    ngx_uint_t *stack, ngx_uint_t depth)
{
    u_char                           *p, *last;
    size_t                            len;
    ngx_uint_t                        k, start, *dep;
    ngx_http_gw_compose_part_conf_t  *part;

    part = conf->parts->elts;

    color[i] = 1;
    stack[depth] = i;

    dep = part[i].deps->elts;

    for (k = 0; k < part[i].deps->nelts; k++) {

        if (color[dep[k]] == 2) {
            continue;
        }

        if (color[dep[k]] == 0) {
            if (ngx_http_gw_compose_visit(cf, conf, dep[k], color, stack,
                                          depth + 1)
                != NGX_OK)
            {
                return NGX_ERROR;
            }

            continue;
        }

        /* a cycle: from dep[k]'s place on the stack back to dep[k] */

        for (start = 0; stack[start] != dep[k]; start++) {
            /* void */
        }

        len = 0;

        for (k = start; k <= depth; k++) {
            len += part[stack[k]].name.len + sizeof(" -> ") - 1;
        }

        len += part[stack[start]].name.len;

        p = ngx_pnalloc(cf->temp_pool, len);
        if (p == NULL) {
            return NGX_ERROR;
        }

        last = p;

        for (k = start; k <= depth; k++) {
            last = ngx_cpymem(last, part[stack[k]].name.data,
                              part[stack[k]].name.len);
            last = ngx_cpymem(last, " -> ", sizeof(" -> ") - 1);
        }

        last = ngx_cpymem(last, part[stack[start]].name.data,
                          part[stack[start]].name.len);

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "gw_compose_part dependency cycle: %*s",
                           last - p, p);
        return NGX_ERROR;
    }

    color[i] = 2;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_compose_parts_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_str_t                   s;
    ngx_http_gw_compose_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_gw_compose_module);

    if (ctx == NULL || ctx->kind != NGX_HTTP_GW_COMPOSE_MAIN) {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ngx_http_gw_compose_summary(r->main, ctx, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    v->data = s.data;
    v->len = s.len;
    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_compose_complete_variable(ngx_http_request_t *r,
    ngx_http_variable_value_t *v, uintptr_t data)
{
    ngx_http_gw_compose_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r->main, ngx_http_gw_compose_module);

    if (ctx == NULL || ctx->kind != NGX_HTTP_GW_COMPOSE_MAIN
        || !ctx->finished)
    {
        v->not_found = 1;
        return NGX_OK;
    }

    if (ctx->complete) {
        v->data = (u_char *) "true";
        v->len = 4;

    } else {
        v->data = (u_char *) "false";
        v->len = 5;
    }

    v->valid = 1;
    v->no_cacheable = 1;
    v->not_found = 0;

    return NGX_OK;
}

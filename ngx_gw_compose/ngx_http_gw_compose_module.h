/*
 * Copyright (C) ngx_gw authors
 *
 * Types shared by the compose module's sources.
 */


#ifndef _NGX_HTTP_GW_COMPOSE_MODULE_H_INCLUDED_
#define _NGX_HTTP_GW_COMPOSE_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <jansson.h>


#define NGX_HTTP_GW_COMPOSE_REQUEST     ((ngx_uint_t) -1)

#define NGX_HTTP_GW_COMPOSE_MAIN        1
#define NGX_HTTP_GW_COMPOSE_PART        2


/*
 * 16 significant digits: 19.99 stays 19.99 (17, jansson's default, would
 * write 19.989999999999998)
 */
#define NGX_HTTP_GW_COMPOSE_JSON_FLAGS                                        \
    (JSON_COMPACT|JSON_ENCODE_ANY|JSON_REAL_PRECISION(16))

#define NGX_HTTP_GW_COMPOSE_MAX_DEPTH   1024

#define NGX_HTTP_GW_COMPOSE_NEW         0
#define NGX_HTTP_GW_COMPOSE_RUNNING     1
#define NGX_HTTP_GW_COMPOSE_DONE        2


/* one piece of a template as the parser sees it */
typedef struct {
    ngx_str_t                        text;   /* literal, or reference name */
    ngx_str_t                        path;   /* reference: dotted path */
    ngx_uint_t                       ref;    /* 1: a {name.path} reference */
} ngx_http_gw_compose_token_t;


/* a compiled template piece: literal text with variables, or a reference */
typedef struct {
    ngx_http_complex_value_t        *value;  /* NULL for a reference */
    ngx_str_t                        name;
    ngx_uint_t                       part;   /* index, or ..._REQUEST */
    ngx_array_t                     *path;   /* of ngx_str_t, may be empty */
} ngx_http_gw_compose_segment_t;


typedef struct {
    ngx_str_t                        source;
    ngx_array_t                     *segments;
} ngx_http_gw_compose_template_t;


typedef struct {
    ngx_array_t                     *from;
    ngx_array_t                     *to;
} ngx_http_gw_compose_rename_t;


typedef struct {
    ngx_str_t                        name;
    ngx_uint_t                       index;

    ngx_http_gw_compose_template_t   uri;
    ngx_http_gw_compose_template_t  *body;     /* NULL: the client's body */

    ngx_uint_t                       method;
    ngx_str_t                        method_name;
    ngx_msec_t                       timeout;  /* 0: the request's only */

    ngx_array_t                     *target;   /* path */
    ngx_array_t                     *allow;    /* of paths */
    ngx_array_t                     *deny;     /* of paths */
    ngx_array_t                     *rename;   /* of ..._rename_t */
    ngx_array_t                     *status_ok; /* of ngx_uint_t; NULL: 2xx */

    ngx_array_t                     *deps;     /* of ngx_uint_t, unique */

    unsigned                         optional:1;
    unsigned                         merge:1;
    unsigned                         uses_request:1;
    unsigned                         referenced:1;
    unsigned                         verbatim:1;  /* copied as sent */
} ngx_http_gw_compose_part_conf_t;


typedef struct {
    ngx_array_t                     *parts;    /* ..._part_conf_t */
    ngx_msec_t                       timeout;
    size_t                           max_body;
    ngx_array_t                     *pass_headers;   /* lowercase names */
    ngx_array_t                     *clear_headers;  /* lowercase names */
    ngx_flag_t                       pass_all;
    ngx_flag_t                       enabled;
    unsigned                         needs_body:1;
    unsigned                         request_json:1;
    unsigned                         has_merge:1;
} ngx_http_gw_compose_loc_conf_t;


typedef struct {
    ngx_array_t                     *reset;    /* variable indexes */
} ngx_http_gw_compose_main_conf_t;


typedef struct ngx_http_gw_compose_ctx_s  ngx_http_gw_compose_ctx_t;


typedef struct {
    ngx_uint_t                       kind;     /* ..._PART */
    ngx_http_gw_compose_ctx_t       *ctx;
    ngx_http_gw_compose_part_conf_t *conf;
    ngx_http_request_t              *sr;
    ngx_http_post_subrequest_t       ps;
    ngx_event_t                      timer;

    ngx_uint_t                       state;
    ngx_uint_t                       status;   /* 0: never answered */
    const char                      *reason;   /* NULL, or why it failed */

    json_t                          *raw;      /* the body as parsed */
    json_t                          *value;    /* after target and filters */
    ngx_str_t                        text;     /* or the body, checked */

    unsigned                         ok:1;
    unsigned                         answered:1;
    unsigned                         timedout:1;
    unsigned                         too_big:1;
} ngx_http_gw_compose_part_t;


struct ngx_http_gw_compose_ctx_s {
    ngx_uint_t                       kind;     /* ..._MAIN */
    ngx_http_request_t              *request;
    ngx_http_gw_compose_loc_conf_t  *conf;
    ngx_http_gw_compose_part_t      *parts;
    ngx_uint_t                       nparts;
    size_t                           max_body;

    json_t                          *request_json;
    ngx_chain_t                     *request_body;  /* the client's */
    off_t                            request_body_len;

    ngx_event_t                      timer;
    ngx_str_t                        summary;

    u_char                          *pass;     /* per client header */
    ngx_uint_t                       nheaders;
    ngx_uint_t                       npass;
    uint64_t                         forget;   /* bits of header fields */

    unsigned                         finished:1;
    unsigned                         complete:1;
    unsigned                         forget_user:1;
    unsigned                         forget_cookies:1;
    unsigned                         forget_xff:1;
};


extern ngx_module_t  ngx_http_gw_compose_module;


/* ngx_http_gw_compose_handler.c */
ngx_int_t ngx_http_gw_compose_handler(ngx_http_request_t *r);

/* ngx_http_gw_compose_response.c */
void ngx_http_gw_compose_finish(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_int_t rc);
ngx_int_t ngx_http_gw_compose_summary(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_str_t *out);

/* ngx_http_gw_compose_filter.c */
ngx_int_t ngx_http_gw_compose_body_filter_init(ngx_conf_t *cf);

/* ngx_http_gw_compose_template.c */
ngx_int_t ngx_http_gw_compose_template_parse(u_char *p, size_t len,
    ngx_array_t *tokens);
ngx_array_t *ngx_http_gw_compose_path_parse(ngx_pool_t *pool, u_char *p,
    size_t len);
ngx_uint_t ngx_http_gw_compose_uri_safe(u_char *p, size_t len);

/* ngx_http_gw_compose_json.c */
json_t *ngx_http_gw_compose_json_get(json_t *root, ngx_array_t *path);
json_t *ngx_http_gw_compose_json_allow(json_t *root, ngx_array_t *paths);
void ngx_http_gw_compose_json_deny(json_t *root, ngx_array_t *paths);
void ngx_http_gw_compose_json_rename(json_t *root, ngx_array_t *from,
    ngx_array_t *to);
ngx_int_t ngx_http_gw_compose_json_merge(json_t *dst, json_t *src);
ngx_int_t ngx_http_gw_compose_json_set(json_t *root, ngx_array_t *path,
    json_t *value);
ngx_int_t ngx_http_gw_compose_json_check(u_char *p, size_t len, size_t *err);


#endif /* _NGX_HTTP_GW_COMPOSE_MODULE_H_INCLUDED_ */

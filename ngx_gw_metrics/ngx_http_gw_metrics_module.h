
/*
 * Copyright (C) ngx_gw authors
 *
 * Types shared by the metrics module's files.
 */


#ifndef _NGX_HTTP_GW_METRICS_MODULE_H_INCLUDED_
#define _NGX_HTTP_GW_METRICS_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_GW_METRICS_MAX_BUCKETS     32
#define NGX_HTTP_GW_METRICS_MAX_LABELS      8
#define NGX_HTTP_GW_METRICS_MAX_NAME        48
#define NGX_HTTP_GW_METRICS_MAX_VALUE       128
#define NGX_HTTP_GW_METRICS_MAX_PARTS       32

/* one label of a series key, at its longest */
#define NGX_HTTP_GW_METRICS_LABEL_SIZE                                        \
    (1 + NGX_HTTP_GW_METRICS_MAX_NAME + 2 + NGX_HTTP_GW_METRICS_MAX_VALUE)

/* the kind, route, up to three family labels and the extra labels */
#define NGX_HTTP_GW_METRICS_KEY_SIZE                                          \
    (1 + (4 + NGX_HTTP_GW_METRICS_MAX_LABELS) * NGX_HTTP_GW_METRICS_LABEL_SIZE)

#define NGX_HTTP_GW_METRICS_OVERFLOW        "__overflow__"


/* what a series counts; the first byte of its key */
enum {
    NGX_HTTP_GW_METRICS_ROUTE = 1,
    NGX_HTTP_GW_METRICS_REQUESTS,
    NGX_HTTP_GW_METRICS_AUTH,
    NGX_HTTP_GW_METRICS_RATE,
    NGX_HTTP_GW_METRICS_CACHE,
    NGX_HTTP_GW_METRICS_COMPOSE
};


/*
 * The values of a route series (NGX_HTTP_GW_METRICS_ROUTE); "nb" is the
 * number of configured buckets, and each histogram has nb + 1 slots, the
 * last one for observations above every bound.  Slots count observations
 * of their own bucket only: the output makes them cumulative.
 */
#define NGX_HTTP_GW_METRICS_DUR(nb)         0
#define NGX_HTTP_GW_METRICS_DUR_SUM(nb)     ((nb) + 1)
#define NGX_HTTP_GW_METRICS_UP(nb)          ((nb) + 2)
#define NGX_HTTP_GW_METRICS_UP_SUM(nb)      (2 * (nb) + 3)
#define NGX_HTTP_GW_METRICS_REQ_BYTES(nb)   (2 * (nb) + 4)
#define NGX_HTTP_GW_METRICS_RESP_BYTES(nb)  (2 * (nb) + 5)
#define NGX_HTTP_GW_METRICS_NREQUESTS(nb)   (2 * (nb) + 6)
#define NGX_HTTP_GW_METRICS_ERR4(nb)        (2 * (nb) + 7)
#define NGX_HTTP_GW_METRICS_ERR5(nb)        (2 * (nb) + 8)
#define NGX_HTTP_GW_METRICS_LAST_SEEN(nb)   (2 * (nb) + 9)
#define NGX_HTTP_GW_METRICS_ROUTE_VALUES(nb) (2 * (nb) + 10)


/*
 * One series in the shared zone.  Series are never freed while the zone
 * lives, so that workers find them without a lock: a new series is fully
 * written before it is linked at the head of its chain.
 */
typedef struct ngx_http_gw_metrics_node_s  ngx_http_gw_metrics_node_t;

struct ngx_http_gw_metrics_node_s {
    ngx_http_gw_metrics_node_t   *next;
    uint32_t                      hash;
    uint16_t                      len;         /* of the key */
    uint16_t                      nvalues;
    ngx_atomic_t                  values[1];   /* then the key */
};


#define ngx_http_gw_metrics_node_key(node)                                    \
    ((u_char *) &(node)->values[(node)->nvalues])


typedef struct {
    ngx_uint_t                    nbuckets;
    uint64_t                      buckets[NGX_HTTP_GW_METRICS_MAX_BUCKETS];
    ngx_uint_t                    nheads;      /* a power of two */
    ngx_http_gw_metrics_node_t  **heads;
    ngx_atomic_t                  nseries;
    ngx_atomic_t                  dropped;
    ngx_atomic_t                  overflowed;
    time_t                        start_time;
} ngx_http_gw_metrics_shctx_t;


typedef struct {
    ngx_http_gw_metrics_shctx_t  *sh;
    ngx_slab_pool_t              *shpool;
    ngx_str_t                     name;
    ngx_uint_t                    max_series;
    void                         *main_conf;
    unsigned                      warned_full:1;
    unsigned                      warned_overflow:1;
} ngx_http_gw_metrics_zone_t;


/* the other modules' variables that the families read */
enum {
    NGX_HTTP_GW_METRICS_VAR_AUTH_METHOD = 0,
    NGX_HTTP_GW_METRICS_VAR_AUTH_RESULT,
    NGX_HTTP_GW_METRICS_VAR_RATE_STATUS,
    NGX_HTTP_GW_METRICS_VAR_CACHE_STATUS,
    NGX_HTTP_GW_METRICS_VAR_COMPOSE_PARTS,
    NGX_HTTP_GW_METRICS_NVARS
};


/*
 * A variable of another module: by index when it was defined before our
 * postconfiguration, by name when its module defined it later, or absent.
 */
typedef struct {
    ngx_str_t                     name;
    ngx_int_t                     index;        /* NGX_ERROR: not indexed */
    ngx_uint_t                    key;
    ngx_uint_t                    by_name;
} ngx_http_gw_metrics_var_t;


typedef struct {
    ngx_array_t                   zones;        /* ngx_shm_zone_t * */
    ngx_array_t                  *buckets;      /* uint64_t, microseconds */
    ngx_http_gw_metrics_var_t     vars[NGX_HTTP_GW_METRICS_NVARS];
} ngx_http_gw_metrics_main_conf_t;


typedef struct {
    ngx_str_t                     name;
    ngx_http_complex_value_t      value;
} ngx_http_gw_metrics_label_t;


typedef struct {
    ngx_flag_t                    enable;
    ngx_http_complex_value_t     *route;
    ngx_str_t                     zone_name;
    ngx_shm_zone_t               *zone;
    ngx_array_t                  *labels;       /* label_t */
    ngx_shm_zone_t               *show_zone;
    ngx_str_t                     show_zone_name;
    ngx_flag_t                    show;
} ngx_http_gw_metrics_loc_conf_t;


/* one "name=result" item of $gw_compose_parts */
typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     result;
} ngx_http_gw_metrics_part_t;


/* an output format of gw_metrics_show */
enum {
    NGX_HTTP_GW_METRICS_FMT_PROMETHEUS = 0,
    NGX_HTTP_GW_METRICS_FMT_OPENMETRICS,
    NGX_HTTP_GW_METRICS_FMT_JSON,
    NGX_HTTP_GW_METRICS_FMT_HTML,
    NGX_HTTP_GW_METRICS_FMT_UNKNOWN
};


ngx_int_t ngx_http_gw_metrics_log_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_gw_metrics_show_handler(ngx_http_request_t *r);

ngx_http_gw_metrics_node_t *ngx_http_gw_metrics_series(
    ngx_http_gw_metrics_zone_t *zone, u_char *key, size_t len,
    ngx_uint_t overflow);

/* parsers of untrusted input: plain functions over (pointer, length) */
ngx_uint_t ngx_http_gw_metrics_parse_parts(u_char *p, size_t len,
    ngx_http_gw_metrics_part_t *parts, ngx_uint_t max);
ngx_uint_t ngx_http_gw_metrics_parse_accept(u_char *p, size_t len);
ngx_uint_t ngx_http_gw_metrics_format_name(u_char *p, size_t len);
u_char *ngx_http_gw_metrics_encode_label(u_char *p, ngx_str_t *name,
    u_char *value, size_t len);
u_char *ngx_http_gw_metrics_next_label(u_char *p, u_char *last,
    ngx_str_t *name, ngx_str_t *value);

extern ngx_str_t  ngx_http_gw_metrics_dashboard;
extern ngx_module_t  ngx_http_gw_metrics_module;


#endif /* _NGX_HTTP_GW_METRICS_MODULE_H_INCLUDED_ */

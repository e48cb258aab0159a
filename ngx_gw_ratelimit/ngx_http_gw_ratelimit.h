
/*
 * Copyright (C) ngx_gw authors
 *
 * Types shared by the sources of ngx_http_gw_ratelimit_module.
 */


#ifndef _NGX_HTTP_GW_RATELIMIT_H_INCLUDED_
#define _NGX_HTTP_GW_RATELIMIT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"
#include "ngx_http_gw_rate_calendar.h"


#define NGX_HTTP_GW_RATE            1
#define NGX_HTTP_GW_QUOTA           2

/* quota periods; the calendar ones are those of ngx_gw_cal_unit_e */
#define NGX_HTTP_GW_QUOTA_ROLLING   100

#define NGX_HTTP_GW_RATE_MAX        1000000
#define NGX_HTTP_GW_RATE_MAX_ZONES  16

#define NGX_HTTP_GW_RATE_PASSED            1
#define NGX_HTTP_GW_RATE_REJECTED          2
#define NGX_HTTP_GW_RATE_DRY_RUN_REJECTED  3
#define NGX_HTTP_GW_RATE_EXEMPT            4

#define NGX_HTTP_GW_RATE_DEFAULT_ZONE      "gw_rate_default"
#define NGX_HTTP_GW_RATE_DEFAULT_SIZE      (10 * 1024 * 1024)


typedef struct {
    ngx_rbtree_t                 rbtree;
    ngx_rbtree_node_t            sentinel;
    ngx_queue_t                  queue;        /* LRU, most recent first */
    ngx_atomic_t                 nodes;
    ngx_atomic_t                 evicted;
    ngx_atomic_t                 redis_down;   /* set by the Redis worker */
    ngx_atomic_t                 instances;    /* live nginx sharing Redis,
                                                  0 before the first count */
    ngx_atomic_t                 instance;     /* random, names this nginx
                                                  in Redis */
    time_t                       warned;       /* last "zone full" warning */
    size_t                       node_size;
} ngx_http_gw_rate_shctx_t;


typedef struct {
    ngx_http_gw_rate_shctx_t    *sh;
    ngx_slab_pool_t             *shpool;
    ngx_shm_zone_t              *shm_zone;
    ngx_uint_t                   index;        /* lock order */
    ngx_flag_t                   declared;
    ngx_flag_t                   sync;         /* nodes carry Redis state */
    ngx_flag_t                   local;        /* redis=off */
    size_t                       node_size;
    u_char                      *file;         /* first use, for errors */
    ngx_uint_t                   line;
} ngx_http_gw_rate_zone_t;


/*
 * A key's state, laid over the rbtree node from its "color" field on, as
 * limit_req does: the node is 64 bytes on 64-bit platforms.  The rbtree key
 * is a 64-bit hash of the policy and the key's value.
 */
typedef struct {
    u_char                       color;
    u_char                       kind;
    u_short                      reserved;
    uint32_t                     expire;       /* wall second it is idle */
    ngx_queue_t                  queue;
    int64_t                      state;
} ngx_http_gw_rate_node_t;


/*
 * In Redis mode a node is followed by what its synchronisation needs
 * (the node then takes a 128-byte slab slot).  A quota's node also holds
 * what this instance may admit on its own until its next sync: the rest
 * of a grant reserved in Redis, or of a probe while it holds none.
 */
typedef struct {
    uint32_t                     delta;        /* hits not sent to Redis */
    uint32_t                     synced;       /* cluster total last read */
    uint32_t                     unit;         /* N; rate: time in 1/N ms */
    uint32_t                     interval;     /* rate: emission interval */
    uint32_t                     allow;        /* quota: hits left to admit */
    uint32_t                     until;        /* quota: share's end, msec */
    u_char                       share;        /* quota: SHARE_* */
    u_char                       want;         /* sync even without hits */
} ngx_http_gw_rate_sync_t;


#define NGX_HTTP_GW_RATE_SHARE_NONE   0
#define NGX_HTTP_GW_RATE_SHARE_PROBE  1
#define NGX_HTTP_GW_RATE_SHARE_GRANT  2


#define ngx_http_gw_rate_node_sync(rn)                                       \
    ((ngx_http_gw_rate_sync_t *) ((u_char *) (rn)                            \
                                  + sizeof(ngx_http_gw_rate_node_t)))

#define NGX_HTTP_GW_RATE_NODE_SIZE                                           \
    (offsetof(ngx_rbtree_node_t, color) + sizeof(ngx_http_gw_rate_node_t))


typedef struct {
    ngx_str_t                    host;         /* numeric, NUL-terminated */
    in_port_t                    port;
    ngx_str_t                    unix_path;    /* NUL-terminated */
    ngx_str_t                    addr_text;    /* as configured */
    ngx_str_t                    password;
    ngx_int_t                    db;
    ngx_str_t                    prefix;
    ngx_msec_t                   sync;
    ngx_msec_t                   timeout;
    ngx_uint_t                   fail_closed;
    ngx_flag_t                   shares;       /* quotas spend by shares */
    ngx_uint_t                   nodes;        /* floor of the instances */
    ngx_uint_t                   probe;        /* cap of a probe, 0: none */
    ngx_msec_t                   lifetime;     /* of a grant */
    ngx_msec_t                   young;        /* a key's start-up time */
} ngx_http_gw_rate_redis_conf_t;


typedef struct {
    ngx_uint_t                   kind;         /* RATE or QUOTA */
    ngx_str_t                    name;
    ngx_str_t                    spec;         /* "100r/s", "1000/day" */
    uint64_t                     id;           /* hash of kind, numbers, name */

    uint64_t                     limit;        /* N */
    uint64_t                     burst;        /* rate: bucket size */
    uint64_t                     period;       /* ms: rate unit or rolling */
    ngx_uint_t                   unit;         /* quota: calendar unit */
    uint64_t                     window;       /* seconds, for headers */
    ngx_str_t                    policy;       /* "name";q=N;w=window */
    ngx_str_t                    limit_text;   /* N */

    ngx_http_gw_rate_zone_t     *zone;
    ngx_http_complex_value_t    *key;          /* NULL: the default key */
    ngx_uint_t                   key_var;      /* 1 + index of the key's
                                                  only variable, or 0 */
    ngx_uint_t                   late;         /* key names $gw_auth_* */
} ngx_http_gw_rate_limit_t;


typedef struct {
    ngx_str_t                    name;
    ngx_array_t                  limits;       /* ngx_http_gw_rate_limit_t */
} ngx_http_gw_rate_plan_t;


typedef struct {
    ngx_array_t                  zones;        /* ngx_http_gw_rate_zone_t * */
    ngx_array_t                  plans;        /* ngx_http_gw_rate_plan_t */
    ngx_array_t                  policies;     /* copies, for usage */
    ngx_http_gw_rate_zone_t     *default_zone;
    ngx_uint_t                   auth;         /* $gw_auth_* exist */
    ngx_gw_tz_t                 *tz;
    ngx_str_t                    tz_name;
    ngx_http_gw_rate_redis_conf_t  *redis;
} ngx_http_gw_rate_main_conf_t;


typedef struct {
    ngx_array_t                 *limits;       /* ngx_http_gw_rate_limit_t */
    ngx_http_complex_value_t    *plan_var;
    ngx_int_t                    plan_var_set;
    ngx_uint_t                   plan_late;
    ngx_uint_t                   status;
    ngx_flag_t                   headers;
    ngx_flag_t                   dry_run;
    ngx_uint_t                   log_level;
    ngx_flag_t                   usage;
    ngx_uint_t                   has_early;    /* limits for PREACCESS */
    ngx_uint_t                   has_late;     /* limits for PRECONTENT */
} ngx_http_gw_rate_loc_conf_t;


/* the outcome of one policy for one request */
typedef struct {
    ngx_http_gw_rate_limit_t    *limit;
    ngx_http_gw_rate_node_t     *node;
    uint64_t                     hash;
    ngx_str_t                    key;
    int64_t                      state;        /* new state if admitted */
    uint64_t                     remaining;
    uint64_t                     reset;        /* seconds */
    uint64_t                     window;       /* seconds, for headers */
    uint64_t                     now_remaining;    /* before this request */
    uint64_t                     now_reset;
    uint64_t                     retry;        /* ms, when rejected */
    uint32_t                     expire;
    uint32_t                     allow;        /* quota share before this
                                                  request, when capped */
    uint32_t                     until;        /* a new probe's end, msec,
                                                  or 0 */
    ngx_uint_t                   share;        /* SHARE_* the cap came from,
                                                  NONE: no cap */
    ngx_uint_t                   report;       /* usage: no cluster share */
    ngx_uint_t                   rejected;     /* 2: by the share only */
} ngx_http_gw_rate_result_t;


typedef struct {
    ngx_array_t                  results;      /* ngx_http_gw_rate_result_t */
    ngx_uint_t                   status;
    ngx_uint_t                   early_done;
    ngx_uint_t                   late_done;
    ngx_uint_t                   headers;
    uint64_t                     retry_after;  /* seconds */
} ngx_http_gw_rate_ctx_t;


extern ngx_module_t  ngx_http_gw_ratelimit_module;


ngx_int_t ngx_http_gw_rate_init_zone(ngx_shm_zone_t *shm_zone, void *data);
uint64_t ngx_http_gw_rate_hash(uint64_t seed, u_char *data, size_t len);
ngx_http_gw_rate_node_t *ngx_http_gw_rate_lookup(ngx_http_gw_rate_zone_t *zone,
    uint64_t hash);
ngx_http_gw_rate_node_t *ngx_http_gw_rate_insert(
    ngx_http_gw_rate_zone_t *zone, uint64_t hash, ngx_log_t *log);
void ngx_http_gw_rate_touch(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *node);
void ngx_http_gw_rate_evaluate(ngx_http_gw_rate_main_conf_t *rmcf,
    ngx_http_gw_rate_result_t *res);

void ngx_http_gw_rate_sync_hit(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *rn, ngx_http_gw_rate_result_t *res,
    int64_t old_state, ngx_uint_t inserted);
void ngx_http_gw_rate_sync_share(ngx_http_gw_rate_main_conf_t *rmcf,
    ngx_http_gw_rate_result_t *res, uint32_t window, uint32_t count);
void ngx_http_gw_rate_sync_want(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *rn);

char *ngx_http_gw_rate_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_gw_rate_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_gw_rate_redis_exit_process(ngx_cycle_t *cycle);

ngx_int_t ngx_http_gw_rate_handler_init(ngx_conf_t *cf);
ngx_int_t ngx_http_gw_rate_init_process(ngx_cycle_t *cycle);
ngx_int_t ngx_http_gw_rate_add_variables(ngx_conf_t *cf);
ngx_http_gw_rate_ctx_t *ngx_http_gw_rate_get_ctx(ngx_http_request_t *r);
ngx_http_gw_rate_result_t *ngx_http_gw_rate_closest(
    ngx_http_gw_rate_ctx_t *ctx, ngx_uint_t kind);
ngx_int_t ngx_http_gw_rate_usage_handler(ngx_http_request_t *r);


#endif /* _NGX_HTTP_GW_RATELIMIT_H_INCLUDED_ */

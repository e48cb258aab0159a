
/*
 * Copyright (C) ngx_gw authors
 *
 * Redis cluster mode.  Requests never talk to Redis: they count hits in
 * the shared zone as always, and each node also keeps how many hits it has
 * not sent yet.  Once per "sync" interval, worker 0 of each nginx sends
 * every pending delta in one pipelined round trip (INCRBY and PEXPIREAT
 * per key and window) and reads back the cluster totals: what other nodes
 * added since the last round trip is charged to the local counters, which
 * is what bounds local admission.  hiredis's asynchronous API runs on
 * nginx's event loop through the adapter below.
 */


#include "ngx_http_gw_ratelimit.h"

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


#define NGX_HTTP_GW_RATE_REDIS_BATCH    20000
#define NGX_HTTP_GW_RATE_BACKOFF_MIN    100
#define NGX_HTTP_GW_RATE_BACKOFF_MAX    5000

/* an instance counts while its heartbeat is younger than 3 periods */
#define NGX_HTTP_GW_RATE_HEARTBEAT      1000
#define NGX_HTTP_GW_RATE_STALE          3

#define NGX_HTTP_GW_RATE_SCRIPT_QUOTA   0
#define NGX_HTTP_GW_RATE_SCRIPT_NODES   1


typedef struct ngx_http_gw_rate_batch_s  ngx_http_gw_rate_batch_t;


typedef struct {
    const char                  *text;
    char                         sha[41];      /* "" until SCRIPT LOAD */
    ngx_uint_t                   loading;
} ngx_http_gw_rate_script_t;


typedef struct {
    ngx_http_gw_rate_batch_t    *batch;
    ngx_http_gw_rate_zone_t     *zone;
    uint64_t                     hash;
    uint32_t                     window;
    uint32_t                     sent;
    uint32_t                     expire;
    uint32_t                     limit;
    uint32_t                     held;         /* quota: allowance left */
    ngx_uint_t                   kind;
} ngx_http_gw_rate_entry_t;


struct ngx_http_gw_rate_batch_s {
    ngx_pool_t                  *pool;
    ngx_msec_t                   start;
    ngx_msec_t                   lifetime;     /* of the grants it brings */
    ngx_uint_t                   pending;
    ngx_uint_t                   errors;
};


typedef struct {
    redisAsyncContext              *ac;
    ngx_http_gw_rate_main_conf_t   *rmcf;
    ngx_http_gw_rate_batch_t       *batch;       /* in flight */
    ngx_msec_t                      batch_start;
    ngx_msec_t                      connect_start;
    ngx_msec_t                      next_connect;
    ngx_msec_t                      backoff;
    ngx_msec_t                      heartbeat;    /* the last one sent */
    ngx_msec_t                      start;
    ngx_uint_t                      connected;
    ngx_uint_t                      down;
    ngx_event_t                     timer;
    ngx_log_t                      *log;
    ngx_str_t                       id;           /* host:master pid:rand */
    ngx_http_gw_rate_script_t       scripts[2];
} ngx_http_gw_rate_redis_t;


/*
 * A quota's sync, atomic in Redis: the hits are added to the window's
 * counter, then the instance gets a grant, what it may admit until its
 * next sync, reserved in a hash next to the counter (field: instance,
 * value: "grant:ms").  The grant is the instance's part of what neither
 * the counter nor the live grants of the others hold.  While the key is
 * young, the instances that have not synced it yet may be spending their
 * first probes: their parts are held back too.
 *
 * The instance may still be spending what it held when the batch left
 * until the reply arrives: that much stays reserved for it even when the
 * new grant is smaller.
 *
 * KEYS: counter, grants; ARGV: hits, instance, limit, window end (s),
 * grant lifetime (ms), young (ms), instances, held, probe cap (0: none).
 * Returns {total, grant}.
 */

static const char  ngx_http_gw_rate_quota_script[] =
    "local t = redis.call('INCRBY', KEYS[1], ARGV[1]) "
    "if t == tonumber(ARGV[1]) then "
        "redis.call('EXPIREAT', KEYS[1], ARGV[4]) "
    "end "
    "local tm = redis.call('TIME') "
    "local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000) "
    "local limit = tonumber(ARGV[3]) "
    "local h = redis.call('HGETALL', KEYS[2]) "
    "local others, k, born, stale = 0, 0, nil, {} "
    "for i = 1, #h, 2 do "
        "if h[i] == '.born' then "
            "born = tonumber(h[i + 1]) "
        "elseif h[i] ~= ARGV[2] then "
            "local g, ts = string.match(h[i + 1], '^(%d+):(%d+)$') "
            "if g and now - tonumber(ts) < tonumber(ARGV[5]) then "
                "others = others + tonumber(g) "
                "k = k + 1 "
            "else "
                "stale[#stale + 1] = h[i] "
            "end "
        "end "
    "end "
    "if #stale > 0 then "
        "redis.call('HDEL', KEYS[2], unpack(stale)) "
    "end "
    "local left = limit - t - others "
    "local fresh = born == nil "
    "if fresh then "
        "born = now "
    "end "
    "local n = tonumber(ARGV[7]) "
    "if now - born < tonumber(ARGV[6]) and n > k + 1 then "
        "local probe = math.ceil(limit / n) "
        "if tonumber(ARGV[9]) > 0 then "
            "probe = math.min(probe, tonumber(ARGV[9])) "
        "end "
        "left = left - (n - k - 1) * probe "
    "end "
    "local grant = 0 "
    "if left > 0 then "
        "grant = math.ceil(left / (k + 1)) "
    "end "
    "local hold = math.max(grant, tonumber(ARGV[8])) "
    "redis.call('HSET', KEYS[2], '.born', string.format('%d', born), "
               "ARGV[2], string.format('%d:%d', hold, now)) "
    "if fresh then "
        "redis.call('EXPIREAT', KEYS[2], ARGV[4]) "
    "end "
    "return {t, grant}";


/*
 * The heartbeat: the instances that sent one within the last "stale" ms.
 * KEYS: the set; ARGV: instance, stale (ms).  Returns their number.
 */

static const char  ngx_http_gw_rate_nodes_script[] =
    "local tm = redis.call('TIME') "
    "local now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000) "
    "redis.call('ZADD', KEYS[1], string.format('%d', now), ARGV[1]) "
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', "
               "string.format('%d', now - tonumber(ARGV[2]))) "
    "redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
    "return redis.call('ZCARD', KEYS[1])";


static void ngx_http_gw_rate_redis_tick(ngx_event_t *ev);
static void ngx_http_gw_rate_redis_connect(ngx_http_gw_rate_redis_t *rd);
static void ngx_http_gw_rate_redis_close(ngx_http_gw_rate_redis_t *rd,
    const char *why);
static void ngx_http_gw_rate_redis_set_down(ngx_http_gw_rate_redis_t *rd,
    ngx_uint_t down);
static void ngx_http_gw_rate_redis_flush(ngx_http_gw_rate_redis_t *rd);
static ngx_int_t ngx_http_gw_rate_redis_script(ngx_http_gw_rate_redis_t *rd,
    ngx_uint_t i, redisCallbackFn *fn, void *privdata, ngx_uint_t nargs,
    ngx_str_t *args);
static void ngx_http_gw_rate_redis_load(ngx_http_gw_rate_redis_t *rd,
    ngx_http_gw_rate_script_t *script);
static void ngx_http_gw_rate_redis_load_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_gw_rate_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_gw_rate_redis_nodes_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_gw_rate_redis_batch_done(ngx_http_gw_rate_redis_t *rd,
    ngx_http_gw_rate_batch_t *batch);
static void ngx_http_gw_rate_redis_setup_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_gw_rate_redis_apply(ngx_http_gw_rate_entry_t *e,
    uint32_t total, ngx_uint_t granted, uint32_t grant);
static void ngx_http_gw_rate_redis_restore(ngx_http_gw_rate_entry_t *e);
static void ngx_http_gw_rate_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_gw_rate_redis_on_disconnect(const redisAsyncContext *ac,
    int status);

static void ngx_http_gw_rate_redis_read_handler(ngx_event_t *ev);
static void ngx_http_gw_rate_redis_write_handler(ngx_event_t *ev);
static void ngx_http_gw_rate_redis_add_read(void *data);
static void ngx_http_gw_rate_redis_del_read(void *data);
static void ngx_http_gw_rate_redis_add_write(void *data);
static void ngx_http_gw_rate_redis_del_write(void *data);
static void ngx_http_gw_rate_redis_cleanup(void *data);


/* the Redis state of worker 0, set up by each new worker process */
static ngx_http_gw_rate_redis_t  *ngx_http_gw_rate_redis_state;


char *
ngx_http_gw_rate_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_gw_rate_main_conf_t *rmcf = conf;

    u_char                         *p;
    ngx_int_t                       n;
    ngx_str_t                      *value, s;
    ngx_url_t                       u;
    ngx_uint_t                      i;
    struct sockaddr_in             *sin;
    ngx_http_gw_rate_redis_conf_t  *rc;

    if (rmcf->redis) {
        return "is duplicate";
    }

    value = cf->args->elts;

    rc = ngx_pcalloc(cf->pool, sizeof(ngx_http_gw_rate_redis_conf_t));
    if (rc == NULL) {
        return NGX_CONF_ERROR;
    }

    rc->sync = 100;
    rc->timeout = 1000;
    rc->shares = 1;
    ngx_str_set(&rc->prefix, "gw_rate:");
    rc->addr_text = value[1];

    if (ngx_strncmp(value[1].data, "unix:", 5) == 0) {
        if (value[1].len <= 5) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid Redis address \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }

        rc->unix_path.len = value[1].len - 5;
        rc->unix_path.data = ngx_pnalloc(cf->pool, rc->unix_path.len + 1);
        if (rc->unix_path.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(rc->unix_path.data, value[1].data + 5,
                   rc->unix_path.len);
        rc->unix_path.data[rc->unix_path.len] = '\0';

    } else {

        /* resolved here: hiredis would resolve a name with getaddrinfo() */

        ngx_memzero(&u, sizeof(ngx_url_t));
        u.url = value[1];
        u.no_resolve = 0;

        if (ngx_parse_url(cf->pool, &u) != NGX_OK || u.no_port
            || u.naddrs == 0 || u.addrs[0].sockaddr->sa_family != AF_INET)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid Redis address \"%V\"%s%s", &value[1],
                               u.err ? ": " : "", u.err ? u.err : "");
            return NGX_CONF_ERROR;
        }

        sin = (struct sockaddr_in *) u.addrs[0].sockaddr;
        rc->port = ntohs(sin->sin_port);

        rc->host.data = ngx_pnalloc(cf->pool, NGX_INET_ADDRSTRLEN + 1);
        if (rc->host.data == NULL) {
            return NGX_CONF_ERROR;
        }

        rc->host.len = ngx_inet_ntop(AF_INET, &sin->sin_addr, rc->host.data,
                                     NGX_INET_ADDRSTRLEN);
        rc->host.data[rc->host.len] = '\0';
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "password=", 9) == 0) {
            rc->password.data = value[i].data + 9;
            rc->password.len = value[i].len - 9;

            if (rc->password.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid password \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "db=", 3) == 0) {
            n = ngx_atoi(value[i].data + 3, value[i].len - 3);
            if (n == NGX_ERROR || n > 65535) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid db \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->db = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rc->prefix.data = value[i].data + 7;
            rc->prefix.len = value[i].len - 7;

            for (p = rc->prefix.data; p < rc->prefix.data + rc->prefix.len;
                 p++)
            {
                if (*p <= ' ' || *p >= 0x7f) {
                    break;
                }
            }

            if (rc->prefix.len == 0 || rc->prefix.len > 128
                || p != rc->prefix.data + rc->prefix.len)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid prefix \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync=", 5) == 0
            || ngx_strncmp(value[i].data, "timeout=", 8) == 0)
        {
            s.data = (u_char *) ngx_strchr(value[i].data, '=') + 1;
            s.len = value[i].data + value[i].len - s.data;

            n = ngx_parse_time(&s, 0);

            if (n == NGX_ERROR || n < 10 || n > 60000) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid %s \"%V\", must be 10ms..60s",
                                   value[i].data[0] == 's'
                                   ? "sync" : "timeout", &value[i]);
                return NGX_CONF_ERROR;
            }

            if (value[i].data[0] == 's') {
                rc->sync = n;

            } else {
                rc->timeout = n;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "shares=", 7) == 0) {

            if (ngx_strcmp(value[i].data + 7, "on") == 0) {
                rc->shares = 1;

            } else if (ngx_strcmp(value[i].data + 7, "off") == 0) {
                rc->shares = 0;

            } else {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid shares \"%V\", must be on or off",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "nodes=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n < 1 || n > 1024) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid nodes \"%V\", must be 1..1024",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->nodes = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "probe=", 6) == 0) {
            n = ngx_atoi(value[i].data + 6, value[i].len - 6);

            if (n == NGX_ERROR || n < 1 || n > 0xffffffff) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid probe \"%V\", must be "
                                   "1..4294967295", &value[i]);
                return NGX_CONF_ERROR;
            }

            rc->probe = n;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=local") == 0) {
            rc->fail_closed = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "fail=closed") == 0) {
            rc->fail_closed = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    /*
     * a grant outlives ten syncs without a hit on its key; a key is young
     * while an instance that saw it at the same time may not have synced
     * it yet: one interval, and two more for a batch still in flight
     */

    rc->lifetime = ngx_max(10 * rc->sync, 1000);
    rc->young = 3 * rc->sync;

    rmcf->redis = rc;

    return NGX_CONF_OK;
}


/*
 * A request admitted by a policy in Redis mode (the node holds the new
 * state): one more hit to send.  A quota's hits belong to its window;
 * those of a window that has ended and were not sent are dropped with it,
 * and so is the share this instance held in it.
 */

void
ngx_http_gw_rate_sync_hit(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *rn, ngx_http_gw_rate_result_t *res,
    int64_t old_state, ngx_uint_t inserted)
{
    ngx_http_gw_rate_sync_t   *sync;
    ngx_http_gw_rate_limit_t  *limit;

    limit = res->limit;
    sync = ngx_http_gw_rate_node_sync(rn);

    if (inserted) {
        sync->unit = (uint32_t) limit->limit;
        sync->interval = (uint32_t) limit->period;
    }

    if (limit->kind == NGX_HTTP_GW_QUOTA && !inserted
        && (uint32_t) ((uint64_t) old_state >> 32)
           != (uint32_t) ((uint64_t) rn->state >> 32))
    {
        sync->delta = 0;
        sync->synced = 0;
        sync->share = NGX_HTTP_GW_RATE_SHARE_NONE;
        sync->allow = 0;
    }

    sync->delta++;

    if (limit->kind != NGX_HTTP_GW_QUOTA) {
        return;
    }

    /* a hit admitted without a cap (Redis down) ends any share held */

    sync->share = (u_char) res->share;
    sync->allow = res->share ? res->allow - 1 : 0;

    if (res->until) {
        sync->until = res->until;
    }
}


/*
 * What this instance may still admit on a quota's key on its own, when
 * quotas are spent by shares: the rest of a live grant that Redis reserved
 * for it, or else a probe, its part (one in "instances") of what it knows
 * is left, until its next sync brings a grant.  No cap while Redis is
 * unreachable (fail=local) or before the instances were first counted.
 */

void
ngx_http_gw_rate_sync_share(ngx_http_gw_rate_main_conf_t *rmcf,
    ngx_http_gw_rate_result_t *res, uint32_t window, uint32_t count)
{
    uint32_t                  now;
    ngx_uint_t                n;
    ngx_http_gw_rate_zone_t  *zone;
    ngx_http_gw_rate_sync_t  *sync;

    res->share = NGX_HTTP_GW_RATE_SHARE_NONE;

    zone = res->limit->zone;
    n = zone->sh->instances;

    if (!rmcf->redis->shares || zone->sh->redis_down || n == 0) {
        return;
    }

    if (res->node
        && (uint32_t) ((uint64_t) res->node->state >> 32) == window)
    {
        sync = ngx_http_gw_rate_node_sync(res->node);
        now = (uint32_t) ngx_current_msec;

        if (sync->share != NGX_HTTP_GW_RATE_SHARE_NONE
            && (int32_t) (now - sync->until) < 0)
        {
            res->share = sync->share;
            res->allow = sync->allow;
            res->until = 0;
            return;
        }
    }

    /*
     * a probe lasts until a grant replaces it, normally at the next sync;
     * one whose key fails to sync (an error reply) is renewed as a grant
     * would lapse
     */

    res->until = (uint32_t) (ngx_current_msec + rmcf->redis->lifetime);

    n = ngx_max(n, rmcf->redis->nodes);

    res->share = NGX_HTTP_GW_RATE_SHARE_PROBE;
    res->allow = (uint32_t) ((res->limit->limit - count + n - 1) / n);

    if (rmcf->redis->probe && res->allow > rmcf->redis->probe) {
        res->allow = (uint32_t) rmcf->redis->probe;
    }
}


/* a key refused by its share asks for a grant at the next sync */

void
ngx_http_gw_rate_sync_want(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *rn)
{
    ngx_http_gw_rate_sync_t  *sync;

    sync = ngx_http_gw_rate_node_sync(rn);
    sync->want = 1;

    /* keys to send are at the head of the queue */

    ngx_http_gw_rate_touch(zone, rn);
}


ngx_int_t
ngx_http_gw_rate_redis_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                     i;
    ngx_http_gw_rate_zone_t      **zones;
    ngx_http_gw_rate_redis_t      *rd;
    ngx_http_gw_rate_main_conf_t  *rmcf;

    ngx_http_gw_rate_redis_state = NULL;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_module) == NULL)
    {
        return NGX_OK;
    }

    rmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gw_ratelimit_module);

    if (rmcf == NULL || rmcf->redis == NULL || rmcf->zones.nelts == 0) {
        return NGX_OK;
    }

    /* one worker per instance talks to Redis: see the module's notes */

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_worker != 0)
    {
        return NGX_OK;
    }

    zones = rmcf->zones.elts;

    for (i = 0; i < rmcf->zones.nelts; i++) {
        if (zones[i]->sync) {
            break;
        }
    }

    if (i == rmcf->zones.nelts) {
        return NGX_OK;
    }

    rd = ngx_pcalloc(cycle->pool, sizeof(ngx_http_gw_rate_redis_t));
    if (rd == NULL) {
        return NGX_ERROR;
    }

    rd->rmcf = rmcf;
    rd->log = cycle->log;

    /*
     * hostname, master pid and a number drawn once per shared zone: an
     * instance keeps its name over reloads, and two on one host (or in
     * containers with the same pid) differ
     */

    if (zones[i]->sh->instance == 0) {
        zones[i]->sh->instance = (ngx_atomic_uint_t) (ngx_random() | 1);
    }

    rd->id.data = ngx_pnalloc(cycle->pool, cycle->hostname.len
                                           + 2 + NGX_INT64_LEN
                                           + NGX_ATOMIC_T_LEN);
    if (rd->id.data == NULL) {
        return NGX_ERROR;
    }

    rd->id.len = ngx_sprintf(rd->id.data, "%V:%P:%xA", &cycle->hostname,
                             ngx_process == NGX_PROCESS_WORKER
                             ? (ngx_pid_t) getppid() : ngx_pid,
                             zones[i]->sh->instance)
                 - rd->id.data;

    rd->scripts[NGX_HTTP_GW_RATE_SCRIPT_QUOTA].text =
                                               ngx_http_gw_rate_quota_script;
    rd->scripts[NGX_HTTP_GW_RATE_SCRIPT_NODES].text =
                                               ngx_http_gw_rate_nodes_script;
    rd->start = ngx_current_msec;
    rd->heartbeat = ngx_current_msec - 2 * NGX_HTTP_GW_RATE_HEARTBEAT;

    /* a zone kept over a reload remembers whether Redis was down */

    rd->down = zones[i]->sh->redis_down;

    rd->backoff = NGX_HTTP_GW_RATE_BACKOFF_MIN;
    rd->next_connect = ngx_current_msec;

    rd->timer.handler = ngx_http_gw_rate_redis_tick;
    rd->timer.data = rd;
    rd->timer.log = cycle->log;
    rd->timer.cancelable = 1;

    ngx_http_gw_rate_redis_state = rd;

    ngx_http_gw_rate_redis_connect(rd);

    ngx_add_timer(&rd->timer, rmcf->redis->sync);

    return NGX_OK;
}


void
ngx_http_gw_rate_redis_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_gw_rate_redis_t  *rd;

    rd = ngx_http_gw_rate_redis_state;

    if (rd == NULL) {
        return;
    }

    if (rd->timer.timer_set) {
        ngx_del_timer(&rd->timer);
    }

    if (rd->ac) {
        ngx_http_gw_rate_redis_close(rd, NULL);
    }

    ngx_http_gw_rate_redis_state = NULL;
}


static void
ngx_http_gw_rate_redis_tick(ngx_event_t *ev)
{
    ngx_http_gw_rate_redis_t  *rd = ev->data;

    ngx_http_gw_rate_redis_conf_t  *rc;

    rc = rd->rmcf->redis;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (rd->ac == NULL) {
        if ((ngx_msec_int_t) (ngx_current_msec - rd->next_connect) >= 0) {
            ngx_http_gw_rate_redis_connect(rd);
        }

    } else if (!rd->connected) {
        if (ngx_current_msec - rd->connect_start >= rc->timeout) {
            ngx_http_gw_rate_redis_close(rd, "connecting timed out");
        }

    } else if (rd->batch) {
        if (ngx_current_msec - rd->batch_start >= rc->timeout) {
            ngx_http_gw_rate_redis_close(rd, "a sync timed out");
        }

    } else {
        ngx_http_gw_rate_redis_flush(rd);
    }

    if (!ngx_exiting) {
        ngx_add_timer(&rd->timer, rc->sync);
    }
}


static void
ngx_http_gw_rate_redis_connect(ngx_http_gw_rate_redis_t *rd)
{
    ngx_uint_t                      i;
    ngx_connection_t               *c;
    redisAsyncContext              *ac;
    ngx_http_gw_rate_redis_conf_t  *rc;

    rc = rd->rmcf->redis;

    if (rc->unix_path.len) {
        ac = redisAsyncConnectUnix((char *) rc->unix_path.data);

    } else {
        ac = redisAsyncConnect((char *) rc->host.data, rc->port);
    }

    if (ac == NULL || ac->err) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "gw_rate_redis %V: %s", &rc->addr_text,
                      ac ? ac->errstr : "out of memory");

        if (ac) {
            redisAsyncFree(ac);
        }

        goto failed;
    }

    c = ngx_get_connection(ac->c.fd, rd->log);
    if (c == NULL) {
        redisAsyncFree(ac);
        goto failed;
    }

    c->data = ac;
    c->read->handler = ngx_http_gw_rate_redis_read_handler;
    c->write->handler = ngx_http_gw_rate_redis_write_handler;
    c->read->log = rd->log;
    c->write->log = rd->log;

    ac->data = rd;
    ac->ev.data = c;
    ac->ev.addRead = ngx_http_gw_rate_redis_add_read;
    ac->ev.delRead = ngx_http_gw_rate_redis_del_read;
    ac->ev.addWrite = ngx_http_gw_rate_redis_add_write;
    ac->ev.delWrite = ngx_http_gw_rate_redis_del_write;
    ac->ev.cleanup = ngx_http_gw_rate_redis_cleanup;

    redisAsyncSetConnectCallback(ac, ngx_http_gw_rate_redis_on_connect);
    redisAsyncSetDisconnectCallback(ac, ngx_http_gw_rate_redis_on_disconnect);

    rd->ac = ac;
    rd->connected = 0;
    rd->connect_start = ngx_current_msec;

    if (rc->password.len) {
        redisAsyncCommand(ac, ngx_http_gw_rate_redis_setup_reply, "AUTH",
                          "AUTH %b", rc->password.data,
                          (size_t) rc->password.len);
    }

    if (rc->db) {
        redisAsyncCommand(ac, ngx_http_gw_rate_redis_setup_reply, "SELECT",
                          "SELECT %d", (int) rc->db);
    }

    /* a restarted Redis has no scripts: load them before the first sync */

    if (rc->shares) {
        for (i = 0; i < 2; i++) {
            rd->scripts[i].loading = 0;
            ngx_http_gw_rate_redis_load(rd, &rd->scripts[i]);
        }
    }

    /* the connect completes on the first write event */

    ngx_http_gw_rate_redis_add_write(c);

    return;

failed:

    ngx_http_gw_rate_redis_set_down(rd, 1);

    rd->next_connect = ngx_current_msec + rd->backoff;
    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_GW_RATE_BACKOFF_MAX);
}


/* frees the context; hiredis calls back every pending reply with NULL */

static void
ngx_http_gw_rate_redis_close(ngx_http_gw_rate_redis_t *rd, const char *why)
{
    redisAsyncContext  *ac;

    ac = rd->ac;

    if (why) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0, "gw_rate_redis %V: %s",
                      &rd->rmcf->redis->addr_text, why);
        ngx_http_gw_rate_redis_set_down(rd, 1);
    }

    rd->ac = NULL;
    rd->connected = 0;
    rd->next_connect = ngx_current_msec + rd->backoff;
    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_GW_RATE_BACKOFF_MAX);

    redisAsyncFree(ac);
}


static void
ngx_http_gw_rate_redis_set_down(ngx_http_gw_rate_redis_t *rd,
    ngx_uint_t down)
{
    ngx_uint_t                 i;
    ngx_http_gw_rate_zone_t  **zones;

    if (rd->down == down) {
        return;
    }

    rd->down = down;

    if (down) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "gw_rate_redis %V is unreachable, limits are %s",
                      &rd->rmcf->redis->addr_text,
                      rd->rmcf->redis->fail_closed ? "closed (503)"
                                                   : "local");

    } else {
        ngx_log_error(NGX_LOG_NOTICE, rd->log, 0,
                      "gw_rate_redis %V is reachable again",
                      &rd->rmcf->redis->addr_text);
    }

    zones = rd->rmcf->zones.elts;

    for (i = 0; i < rd->rmcf->zones.nelts; i++) {
        if (zones[i]->sync) {
            zones[i]->sh->redis_down = down;
        }
    }
}


static void
ngx_http_gw_rate_redis_on_connect(const redisAsyncContext *ac, int status)
{
    ngx_http_gw_rate_redis_t  *rd = ac->data;

    if (status != REDIS_OK) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "gw_rate_redis %V: connect failed: %s",
                      &rd->rmcf->redis->addr_text, ac->errstr);

        /* hiredis frees the context after this callback */

        rd->ac = NULL;
        rd->connected = 0;
        rd->next_connect = ngx_current_msec + rd->backoff;
        rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_GW_RATE_BACKOFF_MAX);

        ngx_http_gw_rate_redis_set_down(rd, 1);
        return;
    }

    ngx_log_error(NGX_LOG_INFO, rd->log, 0, "gw_rate_redis %V: connected",
                  &rd->rmcf->redis->addr_text);

    rd->connected = 1;
    rd->backoff = NGX_HTTP_GW_RATE_BACKOFF_MIN;

    ngx_http_gw_rate_redis_set_down(rd, 0);
}


static void
ngx_http_gw_rate_redis_on_disconnect(const redisAsyncContext *ac,
    int status)
{
    ngx_http_gw_rate_redis_t  *rd = ac->data;

    if (rd == NULL || rd->ac != ac) {
        return;
    }

    rd->ac = NULL;
    rd->connected = 0;
    rd->next_connect = ngx_current_msec + rd->backoff;
    rd->backoff = ngx_min(rd->backoff * 2, NGX_HTTP_GW_RATE_BACKOFF_MAX);

    if (!ngx_exiting) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "gw_rate_redis %V: connection lost%s%s",
                      &rd->rmcf->redis->addr_text,
                      ac->errstr ? ": " : "", ac->errstr ? ac->errstr : "");
        ngx_http_gw_rate_redis_set_down(rd, 1);
    }
}


static void
ngx_http_gw_rate_redis_setup_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                *reply = r;
    ngx_http_gw_rate_redis_t  *rd = ac->data;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
        ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                      "gw_rate_redis %V: %s failed: %s",
                      &rd->rmcf->redis->addr_text, (char *) privdata,
                      reply->str);
    }
}


/*
 * Sends every pending delta: the nodes hit since the last sync are at the
 * head of each zone's LRU queue, and only they have a delta (or want a
 * grant).  The heartbeat that counts the instances goes with it.
 */

static void
ngx_http_gw_rate_redis_flush(ngx_http_gw_rate_redis_t *rd)
{
    u_char                          *key, *p;
    u_char                           num[12 * NGX_INT64_LEN];
    size_t                           len;
    ngx_int_t                        rc;
    ngx_str_t                        args[12];
    ngx_msec_t                       period;
    ngx_uint_t                       i, n, heartbeat, instances;
    ngx_pool_t                      *pool;
    ngx_array_t                      entries;
    ngx_queue_t                     *q;
    ngx_http_gw_rate_zone_t        **zones, *zone;
    ngx_http_gw_rate_node_t         *rn;
    ngx_http_gw_rate_sync_t         *sync;
    ngx_http_gw_rate_batch_t        *batch;
    ngx_http_gw_rate_entry_t        *e;
    ngx_http_gw_rate_redis_conf_t   *rcf;

    rcf = rd->rmcf->redis;

    period = ngx_max(rcf->sync, NGX_HTTP_GW_RATE_HEARTBEAT);

    pool = ngx_create_pool(16384, rd->log);
    if (pool == NULL) {
        return;
    }

    batch = ngx_pcalloc(pool, sizeof(ngx_http_gw_rate_batch_t));
    if (batch == NULL) {
        ngx_destroy_pool(pool);
        return;
    }

    batch->pool = pool;
    batch->start = ngx_current_msec;
    batch->lifetime = rcf->lifetime;

    if (ngx_array_init(&entries, pool, 64, sizeof(ngx_http_gw_rate_entry_t))
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return;
    }

    zones = rd->rmcf->zones.elts;
    n = 0;
    instances = 0;

    for (i = 0; i < rd->rmcf->zones.nelts; i++) {
        zone = zones[i];

        if (!zone->sync) {
            continue;
        }

        instances = zone->sh->instances;

        ngx_shmtx_lock(&zone->shpool->mutex);

        for (q = ngx_queue_head(&zone->sh->queue);
             q != ngx_queue_sentinel(&zone->sh->queue)
             && n < NGX_HTTP_GW_RATE_REDIS_BATCH;
             q = ngx_queue_next(q))
        {
            rn = ngx_queue_data(q, ngx_http_gw_rate_node_t, queue);
            sync = ngx_http_gw_rate_node_sync(rn);

            if (sync->delta == 0 && !sync->want) {
                break;
            }

            e = ngx_array_push(&entries);
            if (e == NULL) {
                break;
            }

            e->batch = batch;
            e->zone = zone;
            e->hash = ((ngx_rbtree_node_t *)
                       ((u_char *) rn - offsetof(ngx_rbtree_node_t, color)))
                      ->key;
            e->kind = rn->kind;
            e->window = (uint32_t) ((uint64_t) rn->state >> 32);
            e->sent = sync->delta;
            e->expire = rn->expire;
            e->limit = sync->unit;
            e->held = 0;

            if (sync->share != NGX_HTTP_GW_RATE_SHARE_NONE
                && (int32_t) ((uint32_t) ngx_current_msec - sync->until) < 0)
            {
                e->held = sync->allow;
            }

            sync->delta = 0;
            sync->want = 0;
            n++;
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    /*
     * the heartbeat goes once a period, and with every sync while this
     * instance has hits to send or has just started, so that instances
     * starting together count each other before they spend
     */

    heartbeat = rcf->shares
                && (ngx_current_msec - rd->heartbeat >= period
                    || ((n || ngx_current_msec - rd->start
                              < NGX_HTTP_GW_RATE_STALE * period)
                        && ngx_current_msec - rd->heartbeat
                           >= rcf->sync / 2));

    if (n == 0 && !heartbeat) {
        ngx_destroy_pool(pool);
        return;
    }

    /* the key, then the grants' key */

    len = 2 * (rcf->prefix.len + sizeof("q:::g") - 1 + 16 + NGX_INT32_LEN);

    key = ngx_pnalloc(pool, len);
    if (key == NULL) {
        e = entries.elts;

        for (i = 0; i < n; i++) {
            ngx_http_gw_rate_redis_restore(&e[i]);
        }

        ngx_destroy_pool(pool);
        return;
    }

    if (heartbeat) {
        rd->heartbeat = ngx_current_msec;

        args[0].data = (u_char *) "1";
        args[0].len = 1;
        args[1].data = key;
        args[1].len = ngx_sprintf(key, "%Vnodes", &rcf->prefix) - key;
        args[2] = rd->id;
        args[3].data = num;
        args[3].len = ngx_sprintf(num, "%M",
                                  NGX_HTTP_GW_RATE_STALE * period) - num;

        rc = ngx_http_gw_rate_redis_script(rd, NGX_HTTP_GW_RATE_SCRIPT_NODES,
                                           ngx_http_gw_rate_redis_nodes_reply,
                                           batch, 4, args);
        if (rc == REDIS_OK) {
            batch->pending++;
        }
    }

    e = entries.elts;

    for (i = 0; i < n; i++) {

        if (e[i].kind == NGX_HTTP_GW_QUOTA && rcf->shares && instances) {
            p = ngx_sprintf(key, "%Vq:%016xL:%uD", &rcf->prefix, e[i].hash,
                            e[i].window);

            args[0].data = (u_char *) "2";
            args[0].len = 1;
            args[1].data = key;
            args[1].len = p - key;
            args[2].data = p + 1;
            args[2].len = ngx_sprintf(p + 1, "%*s:g", (size_t) (p - key), key)
                          - (p + 1);
            args[3].data = num;
            args[3].len = ngx_sprintf(num, "%uD", e[i].sent) - num;
            args[4] = rd->id;
            args[5].data = args[3].data + args[3].len;
            args[5].len = ngx_sprintf(args[5].data, "%uD", e[i].limit)
                          - args[5].data;
            args[6].data = args[5].data + args[5].len;
            args[6].len = ngx_sprintf(args[6].data, "%uD", e[i].expire + 60)
                          - args[6].data;
            args[7].data = args[6].data + args[6].len;
            args[7].len = ngx_sprintf(args[7].data, "%M", rcf->lifetime)
                          - args[7].data;
            args[8].data = args[7].data + args[7].len;
            args[8].len = ngx_sprintf(args[8].data, "%M", rcf->young)
                          - args[8].data;
            args[9].data = args[8].data + args[8].len;
            args[9].len = ngx_sprintf(args[9].data, "%ui",
                                      ngx_max(instances, rcf->nodes))
                          - args[9].data;
            args[10].data = args[9].data + args[9].len;
            args[10].len = ngx_sprintf(args[10].data, "%uD", e[i].held)
                           - args[10].data;
            args[11].data = args[10].data + args[10].len;
            args[11].len = ngx_sprintf(args[11].data, "%ui", rcf->probe)
                           - args[11].data;

            rc = ngx_http_gw_rate_redis_script(rd,
                                              NGX_HTTP_GW_RATE_SCRIPT_QUOTA,
                                              ngx_http_gw_rate_redis_reply,
                                              &e[i], 12, args);
            if (rc != REDIS_OK) {
                ngx_http_gw_rate_redis_restore(&e[i]);
                continue;
            }

            batch->pending++;
            continue;
        }

        if (e[i].kind == NGX_HTTP_GW_QUOTA) {
            p = ngx_sprintf(key, "%Vq:%016xL:%uD", &rcf->prefix, e[i].hash,
                            e[i].window);

        } else {
            p = ngx_sprintf(key, "%Vr:%016xL", &rcf->prefix, e[i].hash);
        }

        rc = redisAsyncCommand(rd->ac, ngx_http_gw_rate_redis_reply, &e[i],
                               "INCRBY %b %u", key, (size_t) (p - key),
                               (unsigned) e[i].sent);

        if (rc != REDIS_OK) {
            ngx_http_gw_rate_redis_restore(&e[i]);
            continue;
        }

        batch->pending++;

        /*
         * a key lives until its window ends or its bucket is full again,
         * and a minute more for the clocks of other nodes
         */

        redisAsyncCommand(rd->ac, NULL, NULL, "EXPIREAT %b %u", key,
                          (size_t) (p - key),
                          (unsigned) (e[i].expire + 60));
    }

    if (batch->pending == 0) {
        ngx_destroy_pool(pool);
        return;
    }

    rd->batch = batch;
    rd->batch_start = ngx_current_msec;
}


/*
 * EVALSHA once Redis knows the script, EVAL with its text until then (the
 * first sync after connecting, or after a SCRIPT FLUSH), which also asks
 * for its SHA1; args: numkeys, keys and arguments
 */

static ngx_int_t
ngx_http_gw_rate_redis_script(ngx_http_gw_rate_redis_t *rd, ngx_uint_t i,
    redisCallbackFn *fn, void *privdata, ngx_uint_t nargs, ngx_str_t *args)
{
    size_t                      lens[16];
    ngx_uint_t                  j;
    const char                 *argv[16];
    ngx_http_gw_rate_script_t  *script;

    script = &rd->scripts[i];

    if (script->sha[0] == '\0') {
        ngx_http_gw_rate_redis_load(rd, script);

        argv[0] = "EVAL";
        argv[1] = script->text;

    } else {
        argv[0] = "EVALSHA";
        argv[1] = script->sha;
    }

    lens[0] = ngx_strlen(argv[0]);
    lens[1] = ngx_strlen(argv[1]);

    for (j = 0; j < nargs && j < 14; j++) {
        argv[j + 2] = (const char *) args[j].data;
        lens[j + 2] = args[j].len;
    }

    return redisAsyncCommandArgv(rd->ac, fn, privdata, (int) (j + 2), argv,
                                 lens);
}


/* one SCRIPT LOAD at a time: its reply gives the SHA1 for EVALSHA */

static void
ngx_http_gw_rate_redis_load(ngx_http_gw_rate_redis_t *rd,
    ngx_http_gw_rate_script_t *script)
{
    if (script->loading) {
        return;
    }

    if (redisAsyncCommand(rd->ac, ngx_http_gw_rate_redis_load_reply, script,
                          "SCRIPT LOAD %s", script->text)
        == REDIS_OK)
    {
        script->loading = 1;
    }
}


static void
ngx_http_gw_rate_redis_load_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                 *reply = r;
    ngx_http_gw_rate_script_t  *script = privdata;

    script->loading = 0;

    if (reply && reply->type == REDIS_REPLY_STRING && reply->len == 40) {
        ngx_memcpy(script->sha, reply->str, 40);
        script->sha[40] = '\0';
    }
}


static void
ngx_http_gw_rate_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                *reply = r;
    ngx_http_gw_rate_entry_t  *e = privdata;

    uint32_t                   grant;
    ngx_uint_t                 ok, granted;
    ngx_http_gw_rate_redis_t  *rd;

    rd = ngx_http_gw_rate_redis_state;

    ok = 0;
    granted = 0;
    grant = 0;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0) {
        ok = 1;

    } else if (reply && reply->type == REDIS_REPLY_ARRAY
               && reply->elements == 2
               && reply->element[0]->type == REDIS_REPLY_INTEGER
               && reply->element[0]->integer >= 0
               && reply->element[1]->type == REDIS_REPLY_INTEGER
               && reply->element[1]->integer >= 0)
    {
        ok = 1;
        granted = 1;
        grant = (uint32_t) ngx_min(reply->element[1]->integer, 0xffffffff);
    }

    if (ok) {
        ngx_http_gw_rate_redis_apply(e,
                                     (uint32_t) (granted
                                                 ? reply->element[0]->integer
                                                 : reply->integer),
                                     granted, grant);

        if (rd) {
            ngx_http_gw_rate_redis_set_down(rd, 0);
        }

    } else {
        ngx_http_gw_rate_redis_restore(e);

        if (reply && reply->type == REDIS_REPLY_ERROR && rd
            && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
        {
            /* SCRIPT FLUSH: EVAL with the text until it is loaded again */

            rd->scripts[NGX_HTTP_GW_RATE_SCRIPT_QUOTA].sha[0] = '\0';

        } else if (reply && e->batch->errors++ == 0 && rd) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "gw_rate_redis %V: a sync failed: %*s",
                          &rd->rmcf->redis->addr_text,
                          (size_t) (reply->type == REDIS_REPLY_ERROR
                                    ? reply->len : 0),
                          reply->str);
        }
    }

    ngx_http_gw_rate_redis_batch_done(rd, e->batch);
}


static void
ngx_http_gw_rate_redis_nodes_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                *reply = r;
    ngx_http_gw_rate_batch_t  *batch = privdata;

    ngx_uint_t                 i;
    ngx_http_gw_rate_zone_t  **zones;
    ngx_http_gw_rate_redis_t  *rd;

    rd = ngx_http_gw_rate_redis_state;

    if (rd && reply && reply->type == REDIS_REPLY_INTEGER
        && reply->integer > 0)
    {
        zones = rd->rmcf->zones.elts;

        for (i = 0; i < rd->rmcf->zones.nelts; i++) {
            if (zones[i]->sync) {
                zones[i]->sh->instances = (ngx_atomic_uint_t) reply->integer;
            }
        }

    } else if (rd && reply && reply->type == REDIS_REPLY_ERROR) {

        if (ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0) {
            rd->scripts[NGX_HTTP_GW_RATE_SCRIPT_NODES].sha[0] = '\0';

        } else {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "gw_rate_redis %V: the heartbeat failed: %*s",
                          &rd->rmcf->redis->addr_text, (size_t) reply->len,
                          reply->str);
        }

        /* sooner than a period: the instances must be counted */

        rd->heartbeat -= NGX_HTTP_GW_RATE_HEARTBEAT;
    }

    ngx_http_gw_rate_redis_batch_done(rd, batch);
}


static void
ngx_http_gw_rate_redis_batch_done(ngx_http_gw_rate_redis_t *rd,
    ngx_http_gw_rate_batch_t *batch)
{
    if (--batch->pending) {
        return;
    }

    if (rd && rd->batch == batch) {
        rd->batch = NULL;
    }

    ngx_destroy_pool(batch->pool);
}


/*
 * The cluster total read back: what others added since this node's last
 * read is charged to the local counter.  A total below what was known
 * means the Redis key expired or Redis restarted: all but our own part is
 * new then.  A quota's grant covers the hits admitted since the batch
 * left as well.
 */

static void
ngx_http_gw_rate_redis_apply(ngx_http_gw_rate_entry_t *e, uint32_t total,
    ngx_uint_t granted, uint32_t grant)
{
    int64_t                   now, tat;
    uint64_t                  count;
    uint32_t                  remote;
    ngx_http_gw_rate_node_t  *rn;
    ngx_http_gw_rate_sync_t  *sync;

    ngx_shmtx_lock(&e->zone->shpool->mutex);

    rn = ngx_http_gw_rate_lookup(e->zone, e->hash);

    if (rn == NULL || rn->kind != e->kind
        || (e->kind == NGX_HTTP_GW_QUOTA
            && (uint32_t) ((uint64_t) rn->state >> 32) != e->window))
    {
        goto done;
    }

    sync = ngx_http_gw_rate_node_sync(rn);

    if ((uint64_t) total >= (uint64_t) sync->synced + e->sent) {
        remote = total - sync->synced - e->sent;

    } else {
        remote = (total > e->sent) ? total - e->sent : 0;
    }

    sync->synced = total;

    if (e->kind == NGX_HTTP_GW_QUOTA) {

        if (granted) {
            sync->share = NGX_HTTP_GW_RATE_SHARE_GRANT;
            sync->allow = (grant > sync->delta) ? grant - sync->delta : 0;
            sync->until = (uint32_t) (e->batch->start + e->batch->lifetime);
        }

        if (remote == 0) {
            goto done;
        }

        count = (uint32_t) rn->state;
        count += remote;

        if (count > 0xffffffff) {
            count = 0xffffffff;
        }

        rn->state = (int64_t) (((uint64_t) e->window << 32) | count);
        goto done;
    }

    if (remote == 0) {
        goto done;
    }

    now = (int64_t) ngx_current_msec * sync->unit;
    tat = rn->state > now ? rn->state : now;
    tat += (int64_t) remote * sync->interval;

    rn->state = tat;
    rn->expire = (uint32_t) (ngx_time()
                             + (tat - now + (int64_t) sync->unit * 1000 - 1)
                               / ((int64_t) sync->unit * 1000));

done:

    ngx_shmtx_unlock(&e->zone->shpool->mutex);
}


/* a delta that did not reach Redis is sent again with the next sync */

static void
ngx_http_gw_rate_redis_restore(ngx_http_gw_rate_entry_t *e)
{
    ngx_http_gw_rate_node_t  *rn;
    ngx_http_gw_rate_sync_t  *sync;

    ngx_shmtx_lock(&e->zone->shpool->mutex);

    rn = ngx_http_gw_rate_lookup(e->zone, e->hash);

    if (rn && rn->kind == e->kind
        && (e->kind != NGX_HTTP_GW_QUOTA
            || (uint32_t) ((uint64_t) rn->state >> 32) == e->window))
    {
        sync = ngx_http_gw_rate_node_sync(rn);
        sync->delta += e->sent;

        /* pending nodes must be at the head of the queue */

        ngx_http_gw_rate_touch(e->zone, rn);
    }

    ngx_shmtx_unlock(&e->zone->shpool->mutex);
}


/* the adapter: hiredis's event hooks onto an nginx connection */

static void
ngx_http_gw_rate_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_gw_rate_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c = ev->data;

    redisAsyncHandleWrite(c->data);
}


/* level-triggered: hiredis reads at most 16k per call */

static void
ngx_http_gw_rate_redis_add_read(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->read->active) {
        if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "gw_rate_redis: adding a read event failed");
        }
    }
}


static void
ngx_http_gw_rate_redis_del_read(void *data)
{
    ngx_connection_t  *c = data;

    if (c->read->active) {
        ngx_del_event(c->read, NGX_READ_EVENT, 0);
    }
}


static void
ngx_http_gw_rate_redis_add_write(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->write->active) {
        if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT)
            != NGX_OK)
        {
            ngx_log_error(NGX_LOG_ALERT, c->log, 0,
                          "gw_rate_redis: adding a write event failed");
        }
    }
}


static void
ngx_http_gw_rate_redis_del_write(void *data)
{
    ngx_connection_t  *c = data;

    if (c->write->active) {
        ngx_del_event(c->write, NGX_WRITE_EVENT, 0);
    }
}


/* hiredis closes the socket itself */

static void
ngx_http_gw_rate_redis_cleanup(void *data)
{
    ngx_connection_t  *c = data;

    ngx_http_gw_rate_redis_del_read(c);
    ngx_http_gw_rate_redis_del_write(c);

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    c->fd = (ngx_socket_t) -1;

    ngx_free_connection(c);
}


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


typedef struct ngx_http_gw_rate_batch_s  ngx_http_gw_rate_batch_t;

typedef struct {
    ngx_http_gw_rate_batch_t    *batch;
    ngx_http_gw_rate_zone_t     *zone;
    uint64_t                     hash;
    uint32_t                     window;
    uint32_t                     sent;
    uint32_t                     expire;
    ngx_uint_t                   kind;
} ngx_http_gw_rate_entry_t;


struct ngx_http_gw_rate_batch_s {
    ngx_pool_t                  *pool;
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
    ngx_uint_t                      connected;
    ngx_uint_t                      down;
    ngx_event_t                     timer;
    ngx_log_t                      *log;
} ngx_http_gw_rate_redis_t;


static void ngx_http_gw_rate_redis_tick(ngx_event_t *ev);
static void ngx_http_gw_rate_redis_connect(ngx_http_gw_rate_redis_t *rd);
static void ngx_http_gw_rate_redis_close(ngx_http_gw_rate_redis_t *rd,
    const char *why);
static void ngx_http_gw_rate_redis_set_down(ngx_http_gw_rate_redis_t *rd,
    ngx_uint_t down);
static void ngx_http_gw_rate_redis_flush(ngx_http_gw_rate_redis_t *rd);
static void ngx_http_gw_rate_redis_reply(redisAsyncContext *ac, void *r,
    void *privdata);
static void ngx_http_gw_rate_redis_setup_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_gw_rate_redis_apply(ngx_http_gw_rate_entry_t *e,
    uint32_t total);
static void ngx_http_gw_rate_redis_restore(ngx_http_gw_rate_entry_t *e);
static void ngx_http_gw_rate_redis_done(ngx_http_gw_rate_batch_t *batch);
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

    rmcf->redis = rc;

    return NGX_CONF_OK;
}


/*
 * A request admitted by a policy in Redis mode (the node holds the new
 * state): one more hit to send.  A quota's hits belong to its window;
 * those of a window that has ended and were not sent are dropped with it.
 */

void
ngx_http_gw_rate_sync_hit(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *rn, ngx_http_gw_rate_limit_t *limit,
    int64_t old_state, ngx_uint_t inserted)
{
    ngx_http_gw_rate_sync_t  *sync;

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
    }

    sync->delta++;
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
 * head of each zone's LRU queue, and only they have a delta.
 */

static void
ngx_http_gw_rate_redis_flush(ngx_http_gw_rate_redis_t *rd)
{
    u_char                          *key, *p;
    size_t                           len;
    ngx_int_t                        rc;
    ngx_uint_t                       i, n;
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

    if (ngx_array_init(&entries, pool, 64, sizeof(ngx_http_gw_rate_entry_t))
        != NGX_OK)
    {
        ngx_destroy_pool(pool);
        return;
    }

    zones = rd->rmcf->zones.elts;
    n = 0;

    for (i = 0; i < rd->rmcf->zones.nelts; i++) {
        zone = zones[i];

        if (!zone->sync) {
            continue;
        }

        ngx_shmtx_lock(&zone->shpool->mutex);

        for (q = ngx_queue_head(&zone->sh->queue);
             q != ngx_queue_sentinel(&zone->sh->queue)
             && n < NGX_HTTP_GW_RATE_REDIS_BATCH;
             q = ngx_queue_next(q))
        {
            rn = ngx_queue_data(q, ngx_http_gw_rate_node_t, queue);
            sync = ngx_http_gw_rate_node_sync(rn);

            if (sync->delta == 0) {
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

            sync->delta = 0;
            n++;
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    if (n == 0) {
        ngx_destroy_pool(pool);
        return;
    }

    len = rcf->prefix.len + sizeof("q::") - 1 + 16 + NGX_INT32_LEN;

    key = ngx_pnalloc(pool, len);
    if (key == NULL) {
        e = entries.elts;

        for (i = 0; i < n; i++) {
            ngx_http_gw_rate_redis_restore(&e[i]);
        }

        ngx_destroy_pool(pool);
        return;
    }

    e = entries.elts;

    for (i = 0; i < n; i++) {

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


static void
ngx_http_gw_rate_redis_reply(redisAsyncContext *ac, void *r, void *privdata)
{
    redisReply                *reply = r;
    ngx_http_gw_rate_entry_t  *e = privdata;

    ngx_http_gw_rate_redis_t  *rd;

    rd = ngx_http_gw_rate_redis_state;

    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer >= 0) {
        ngx_http_gw_rate_redis_apply(e, (uint32_t) reply->integer);

        if (rd) {
            ngx_http_gw_rate_redis_set_down(rd, 0);
        }

    } else {
        ngx_http_gw_rate_redis_restore(e);

        if (reply && e->batch->errors++ == 0 && rd) {
            ngx_log_error(NGX_LOG_ERR, rd->log, 0,
                          "gw_rate_redis %V: INCRBY failed: %*s",
                          &rd->rmcf->redis->addr_text,
                          (size_t) (reply->type == REDIS_REPLY_ERROR
                                    ? reply->len : 0),
                          reply->str);
        }
    }

    if (--e->batch->pending == 0) {
        if (rd && rd->batch == e->batch) {
            rd->batch = NULL;
        }

        ngx_http_gw_rate_redis_done(e->batch);
    }
}


static void
ngx_http_gw_rate_redis_done(ngx_http_gw_rate_batch_t *batch)
{
    ngx_destroy_pool(batch->pool);
}


/*
 * The cluster total read back: what others added since this node's last
 * read is charged to the local counter.  A total below what was known
 * means the Redis key expired or Redis restarted: all but our own part is
 * new then.
 */

static void
ngx_http_gw_rate_redis_apply(ngx_http_gw_rate_entry_t *e, uint32_t total)
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

    if (remote == 0) {
        goto done;
    }

    if (e->kind == NGX_HTTP_GW_QUOTA) {
        count = (uint32_t) rn->state;
        count += remote;

        if (count > 0xffffffff) {
            count = 0xffffffff;
        }

        rn->state = (int64_t) (((uint64_t) e->window << 32) | count);
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

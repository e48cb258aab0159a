
/*
 * Copyright (C) ngx_gw authors
 *
 * The shared-memory state: one 64-byte node per policy and key in an
 * rbtree keyed by a 64-bit hash, an LRU queue for eviction, and the
 * arithmetic of the two kinds of policy.  Callers hold the zone's mutex.
 */


#include "ngx_http_gw_ratelimit.h"


static void ngx_http_gw_rate_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_uint_t ngx_http_gw_rate_expire(ngx_http_gw_rate_zone_t *zone,
    ngx_uint_t n, ngx_uint_t force);
static ngx_uint_t ngx_http_gw_rate_make_room(ngx_http_gw_rate_zone_t *zone,
    ngx_log_t *log);
static void ngx_http_gw_rate_free(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *node);


ngx_int_t
ngx_http_gw_rate_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_gw_rate_zone_t  *ozone = data;

    size_t                    len;
    ngx_http_gw_rate_zone_t  *zone;

    zone = shm_zone->data;

    /* nginx passes the old data only for a zone of the same size */

    if (ozone) {
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        if (zone->sh->node_size != zone->node_size) {
            ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                          "gw_rate_zone \"%V\" %s Redis mode, its counters "
                          "start afresh", &shm_zone->shm.name,
                          zone->sync ? "enters" : "leaves");

            ngx_shmtx_lock(&zone->shpool->mutex);
            ngx_http_gw_rate_expire(zone, (ngx_uint_t) -1, 1);
            zone->sh->evicted = 0;
            zone->sh->node_size = zone->node_size;
            ngx_shmtx_unlock(&zone->shpool->mutex);
        }

        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_gw_rate_shctx_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(zone->sh, sizeof(ngx_http_gw_rate_shctx_t));

    zone->sh->node_size = zone->node_size;
    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_gw_rate_rbtree_insert);
    ngx_queue_init(&zone->sh->queue);

    len = sizeof(" in gw_rate_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in gw_rate_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts; the slab allocator need not complain */

    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_gw_rate_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t  **p;

    for ( ;; ) {

        p = (node->key < temp->key) ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* FNV-1a, 64 bits, with a final avalanche so the tree stays balanced */

uint64_t
ngx_http_gw_rate_hash(uint64_t seed, u_char *data, size_t len)
{
    size_t    i;
    uint64_t  h;

    h = seed ^ 0xcbf29ce484222325ULL;

    for (i = 0; i < len; i++) {
        h ^= data[i];
        h *= 0x100000001b3ULL;
    }

    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;

    return h;
}


ngx_http_gw_rate_node_t *
ngx_http_gw_rate_lookup(ngx_http_gw_rate_zone_t *zone, uint64_t hash)
{
    ngx_rbtree_key_t    key;
    ngx_rbtree_node_t  *node, *sentinel;

    key = (ngx_rbtree_key_t) hash;
    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        return (ngx_http_gw_rate_node_t *) &node->color;
    }

    return NULL;
}


ngx_http_gw_rate_node_t *
ngx_http_gw_rate_insert(ngx_http_gw_rate_zone_t *zone, uint64_t hash,
    ngx_log_t *log)
{
    ngx_uint_t                tries;
    ngx_rbtree_node_t        *node;
    ngx_http_gw_rate_node_t  *rn;

    /* drop a couple of idle keys on each insertion, as limit_req does */

    ngx_http_gw_rate_expire(zone, 2, 0);

    tries = 0;

    for ( ;; ) {
        node = ngx_slab_alloc_locked(zone->shpool, zone->node_size);
        if (node == NULL) {
            if (++tries == 4 || ngx_http_gw_rate_make_room(zone, log) == 0) {
                return NULL;
            }

            continue;
        }

        break;
    }

    node->key = (ngx_rbtree_key_t) hash;

    rn = (ngx_http_gw_rate_node_t *) &node->color;
    rn->kind = 0;
    rn->reserved = 0;
    rn->expire = 0;
    rn->state = 0;

    if (zone->sync) {
        ngx_memzero(ngx_http_gw_rate_node_sync(rn),
                    sizeof(ngx_http_gw_rate_sync_t));
    }

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &rn->queue);

    zone->sh->nodes++;

    return rn;
}


/* a full zone: first every idle key at the LRU end, then live ones */

static ngx_uint_t
ngx_http_gw_rate_make_room(ngx_http_gw_rate_zone_t *zone, ngx_log_t *log)
{
    time_t      now;
    ngx_uint_t  freed;

    freed = ngx_http_gw_rate_expire(zone, 64, 0);

    if (freed) {
        return freed;
    }

    freed = ngx_http_gw_rate_expire(zone, 4, 1);

    now = ngx_time();

    if (freed && now - zone->sh->warned >= 60) {
        zone->sh->warned = now;
        ngx_log_error(NGX_LOG_WARN, log, 0,
                      "gw_rate_zone \"%V\" is full, evicting the least "
                      "recently used keys (%uA so far)",
                      &zone->shm_zone->shm.name, zone->sh->evicted);
    }

    return freed;
}


void
ngx_http_gw_rate_touch(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *node)
{
    ngx_queue_remove(&node->queue);
    ngx_queue_insert_head(&zone->sh->queue, &node->queue);
}


/* frees up to n idle keys from the LRU end, or any keys when forced */

static ngx_uint_t
ngx_http_gw_rate_expire(ngx_http_gw_rate_zone_t *zone, ngx_uint_t n,
    ngx_uint_t force)
{
    time_t                    now;
    ngx_uint_t                freed;
    ngx_queue_t              *q;
    ngx_http_gw_rate_node_t  *rn;

    now = ngx_time();
    freed = 0;

    while (n--) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            break;
        }

        q = ngx_queue_last(&zone->sh->queue);
        rn = ngx_queue_data(q, ngx_http_gw_rate_node_t, queue);

        if (!force && (time_t) rn->expire > now) {
            break;
        }

        if (force) {
            zone->sh->evicted++;
        }

        ngx_http_gw_rate_free(zone, rn);
        freed++;
    }

    return freed;
}


static void
ngx_http_gw_rate_free(ngx_http_gw_rate_zone_t *zone,
    ngx_http_gw_rate_node_t *rn)
{
    ngx_rbtree_node_t  *node;

    ngx_queue_remove(&rn->queue);

    node = (ngx_rbtree_node_t *)
               ((u_char *) rn - offsetof(ngx_rbtree_node_t, color));

    ngx_rbtree_delete(&zone->sh->rbtree, node);
    ngx_slab_free_locked(zone->shpool, node);

    zone->sh->nodes--;
}


/*
 * One policy's decision for the key in res, from the node's state (or an
 * idle key when there is none yet), without changing anything: what the
 * request would leave if admitted, and what there is now.
 *
 * A rate is GCRA in integer time: the theoretical arrival time "tat" is
 * kept in units of 1/N ms, so that the emission interval of N requests
 * per P ms is exactly P units and nothing is rounded.  A bucket of B
 * tokens tolerates tat running (B - 1) intervals ahead of now.
 */

void
ngx_http_gw_rate_evaluate(ngx_http_gw_rate_main_conf_t *rmcf,
    ngx_http_gw_rate_result_t *res)
{
    int64_t                    now, tat, interval, tau, unit, start, end;
    uint32_t                   window, count;
    ngx_time_t                *tp;
    ngx_http_gw_rate_limit_t  *limit;

    limit = res->limit;
    tp = ngx_timeofday();
    res->window = limit->window;

    if (limit->kind == NGX_HTTP_GW_RATE) {

        unit = (int64_t) limit->limit;
        now = (int64_t) ngx_current_msec * unit;
        interval = (int64_t) limit->period;
        tau = (int64_t) (limit->burst - 1) * interval;

        tat = res->node ? res->node->state : 0;

        if (tat < now) {
            tat = now;
        }

        if (tat - now > tau) {
            res->rejected = 1;
            res->remaining = 0;
            res->retry = (uint64_t) ((tat - now - tau + unit - 1) / unit);
            res->reset = (uint64_t) ((tat - now + unit * 1000 - 1)
                                     / (unit * 1000));
            res->state = tat;
            return;
        }

        res->now_remaining = (uint64_t) ((now + tau + interval - tat)
                                         / interval);
        res->now_reset = (uint64_t) ((tat - now + unit * 1000 - 1)
                                     / (unit * 1000));

        tat += interval;

        res->rejected = 0;
        res->state = tat;
        res->remaining = (uint64_t) ((now + tau + interval - tat) / interval);
        res->reset = (uint64_t) ((tat - now + unit * 1000 - 1)
                                 / (unit * 1000));
        res->expire = (uint32_t) (tp->sec + (time_t) res->reset);
        return;
    }

    /* a quota: a count in the current window */

    if (limit->unit == NGX_HTTP_GW_QUOTA_ROLLING) {
        now = (int64_t) tp->sec * 1000 + (int64_t) tp->msec;
        window = (uint32_t) (now / (int64_t) limit->period);
        end = ((int64_t) window + 1) * (int64_t) limit->period;
        res->reset = (uint64_t) ((end - now + 999) / 1000);
        res->expire = (uint32_t) ((end + 999) / 1000);

    } else {
        ngx_gw_cal_period(rmcf->tz, (unsigned) limit->unit,
                          (int64_t) tp->sec, &start, &end);
        window = (uint32_t) (start / 60);
        res->window = (uint64_t) (end - start);
        res->reset = (uint64_t) (end - tp->sec);
        res->expire = (uint32_t) end;
    }

    count = 0;

    if (res->node && (uint32_t) ((uint64_t) res->node->state >> 32) == window)
    {
        count = (uint32_t) res->node->state;
    }

    if (count >= limit->limit) {
        res->rejected = 1;
        res->remaining = 0;
        res->retry = res->reset * 1000;
        res->state = (int64_t) (((uint64_t) window << 32) | count);
        return;
    }

    res->now_remaining = limit->limit - count;
    res->now_reset = res->reset;

    if (limit->zone->sync && !res->report) {
        ngx_http_gw_rate_sync_share(rmcf, res, window, count);

        if (res->share && res->allow == 0) {

            /* this instance's share is spent: until its next sync */

            res->rejected = 2;
            res->remaining = 0;
            res->retry = rmcf->redis->sync;
            res->state = (int64_t) (((uint64_t) window << 32) | count);
            return;
        }
    }

    count++;

    res->rejected = 0;
    res->remaining = limit->limit - count;
    res->state = (int64_t) (((uint64_t) window << 32) | count);
}

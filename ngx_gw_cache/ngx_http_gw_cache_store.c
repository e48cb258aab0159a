/*
 * Copyright (C) ngx_gw authors
 *
 * The zone: keys in an rbtree, their variants, an LRU of keys, bodies in
 * page-sized chunks of the slab, eviction of the least recently used keys
 * when an allocation fails.  Every function here runs under the zone's
 * mutex ("_locked").
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


static void ngx_http_gw_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static ngx_uint_t ngx_http_gw_cache_evict_locked(
    ngx_http_gw_cache_zone_t *zone);
static ngx_uint_t ngx_http_gw_cache_node_matches(
    ngx_http_gw_cache_node_t *node, ngx_uint_t how, ngx_str_t *value);


ngx_int_t
ngx_http_gw_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_gw_cache_zone_t  *ozone = data;

    size_t                     len;
    ngx_http_gw_cache_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        /* a reload: the entries stay */
        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_gw_cache_sh_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_gw_cache_rbtree_insert);
    ngx_queue_init(&zone->sh->lru);

    zone->sh->nodes = 0;
    zone->sh->entries = 0;
    zone->sh->evictions = 0;
    zone->sh->body_bytes = 0;

    len = sizeof(" in gw_cache_zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in gw_cache_zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts; it is not worth a log line */
    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_gw_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t         **p;
    ngx_http_gw_cache_node_t   *n, *t;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            n = (ngx_http_gw_cache_node_t *) node;
            t = (ngx_http_gw_cache_node_t *) temp;

            p = (ngx_memn2cmp(n->key, t->key, n->len, t->len) < 0)
                ? &temp->left : &temp->right;
        }

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


ngx_http_gw_cache_node_t *
ngx_http_gw_cache_lookup_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_str_t *key, uint32_t hash)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_gw_cache_node_t  *n;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        n = (ngx_http_gw_cache_node_t *) node;

        rc = ngx_memn2cmp(key->data, n->key, key->len, n->len);

        if (rc == 0) {
            return n;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


ngx_http_gw_cache_node_t *
ngx_http_gw_cache_node_create_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_str_t *key, uint32_t hash)
{
    ngx_http_gw_cache_node_t  *n;

    n = ngx_http_gw_cache_alloc_locked(zone,
                        offsetof(ngx_http_gw_cache_node_t, key) + key->len);
    if (n == NULL) {
        return NULL;
    }

    n->node.key = hash;
    n->len = (u_short) key->len;
    ngx_memcpy(n->key, key->data, key->len);

    ngx_queue_init(&n->variants);
    n->nvariants = 0;
    n->fetch_expire = 0;
    n->fetch_seq = 0;
    n->pass_until = 0;

    ngx_rbtree_insert(&zone->sh->rbtree, &n->node);
    ngx_queue_insert_head(&zone->sh->lru, &n->lru);
    zone->sh->nodes++;

    return n;
}


/* allocates from the slab, evicting least recently used keys as needed */

void *
ngx_http_gw_cache_alloc_locked(ngx_http_gw_cache_zone_t *zone, size_t size)
{
    void  *p;

    for ( ;; ) {
        p = ngx_slab_alloc_locked(zone->shpool, size);
        if (p == NULL) {

            /* no room: the least recently used key goes */

            if (ngx_http_gw_cache_evict_locked(zone)) {
                continue;
            }

            return NULL;
        }

        return p;
    }
}


static ngx_uint_t
ngx_http_gw_cache_evict_locked(ngx_http_gw_cache_zone_t *zone)
{
    ngx_queue_t               *q;
    ngx_http_gw_cache_node_t  *n;

    if (ngx_queue_empty(&zone->sh->lru)) {
        return 0;
    }

    q = ngx_queue_last(&zone->sh->lru);
    n = ngx_queue_data(q, ngx_http_gw_cache_node_t, lru);

    zone->sh->evictions++;
    ngx_http_gw_cache_node_free_locked(zone, n);

    return 1;
}


void
ngx_http_gw_cache_chunks_free_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_chunk_t *chunk)
{
    ngx_http_gw_cache_chunk_t  *next;

    while (chunk) {
        next = chunk->next;
        ngx_slab_free_locked(zone->shpool, chunk);
        chunk = next;
    }
}


void
ngx_http_gw_cache_entry_free_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node, ngx_http_gw_cache_entry_t *entry)
{
    ngx_queue_remove(&entry->queue);
    node->nvariants--;

    zone->sh->entries--;
    zone->sh->body_bytes -= entry->body_len;

    ngx_http_gw_cache_chunks_free_locked(zone, entry->body);
    ngx_slab_free_locked(zone->shpool, entry);
}


void
ngx_http_gw_cache_node_free_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node)
{
    ngx_queue_t                *q;
    ngx_http_gw_cache_entry_t  *e;

    while (!ngx_queue_empty(&node->variants)) {
        q = ngx_queue_head(&node->variants);
        e = ngx_queue_data(q, ngx_http_gw_cache_entry_t, queue);
        ngx_http_gw_cache_entry_free_locked(zone, node, e);
    }

    ngx_queue_remove(&node->lru);
    ngx_rbtree_delete(&zone->sh->rbtree, &node->node);
    zone->sh->nodes--;

    ngx_slab_free_locked(zone->shpool, node);
}


/* frees a key left with no variants, no fetch and no pass mark */

void
ngx_http_gw_cache_node_release_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node)
{
    if (node->nvariants == 0
        && node->fetch_expire == 0
        && node->pass_until < ngx_time())
    {
        ngx_http_gw_cache_node_free_locked(zone, node);
    }
}


/* copies a stored response out of the zone into the pool */

ngx_int_t
ngx_http_gw_cache_copy_locked(ngx_pool_t *pool,
    ngx_http_gw_cache_entry_t *entry, ngx_http_gw_cache_hit_t *hit)
{
    u_char                     *p;
    ngx_http_gw_cache_chunk_t  *c;

    p = ngx_pnalloc(pool, entry->headers_len + entry->body_len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    hit->status = entry->status;
    hit->last_modified_time = entry->last_modified_time;
    hit->age = ngx_time() - entry->age_base;

    if (hit->age < 0) {
        hit->age = 0;
    }

    hit->headers = p;
    hit->headers_len = entry->headers_len;
    p = ngx_cpymem(p, entry->data + entry->vary_len + entry->match_len
                      + entry->etag_len + entry->lm_len + entry->tags_len,
                   entry->headers_len);

    hit->body = p;
    hit->body_len = entry->body_len;

    for (c = entry->body; c; c = c->next) {
        p = ngx_cpymem(p, c->data, c->len);
    }

    return NGX_OK;
}


/* removes one key found through the tree; returns the responses removed */

ngx_uint_t
ngx_http_gw_cache_purge_exact_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_str_t *key)
{
    ngx_uint_t                  n;
    ngx_queue_t                *q;
    ngx_http_gw_cache_node_t   *node;
    ngx_http_gw_cache_entry_t  *e;

    node = ngx_http_gw_cache_lookup_locked(zone, key,
                                           ngx_crc32_long(key->data,
                                                          key->len));
    if (node == NULL) {
        return 0;
    }

    n = node->nvariants;

    while (!ngx_queue_empty(&node->variants)) {
        q = ngx_queue_head(&node->variants);
        e = ngx_queue_data(q, ngx_http_gw_cache_entry_t, queue);
        ngx_http_gw_cache_entry_free_locked(zone, node, e);
    }

    ngx_http_gw_cache_node_release_locked(zone, node);

    return n;
}


static ngx_uint_t
ngx_http_gw_cache_node_matches(ngx_http_gw_cache_node_t *node,
    ngx_uint_t how, ngx_str_t *value)
{
    switch (how) {

    case NGX_HTTP_GW_CACHE_PURGE_KEY:
        /* the key itself, and its per-identity entries "key#identity" */
        if (node->len == value->len) {
            return ngx_memcmp(node->key, value->data, value->len) == 0;
        }

        return node->len > value->len
               && node->key[value->len] == '#'
               && ngx_memcmp(node->key, value->data, value->len) == 0;

    case NGX_HTTP_GW_CACHE_PURGE_PREFIX:
        return node->len >= value->len
               && ngx_memcmp(node->key, value->data, value->len) == 0;

    default:
        return 0;
    }
}


/*
 * Purges by exact key, key prefix or tag; returns the number of stored
 * responses removed.
 */

ngx_uint_t
ngx_http_gw_cache_purge_locked(ngx_http_gw_cache_zone_t *zone, ngx_uint_t how,
    ngx_str_t *value)
{
    u_char                     *tags, *p, *last;
    ngx_uint_t                  n;
    ngx_queue_t                *q, *next, *vq, *vnext;
    ngx_http_gw_cache_node_t   *node;
    ngx_http_gw_cache_entry_t  *e;

    n = 0;

    for (q = ngx_queue_head(&zone->sh->lru);
         q != ngx_queue_sentinel(&zone->sh->lru);
         q = next)
    {
        next = ngx_queue_next(q);
        node = ngx_queue_data(q, ngx_http_gw_cache_node_t, lru);

        if (how != NGX_HTTP_GW_CACHE_PURGE_TAG) {

            if (!ngx_http_gw_cache_node_matches(node, how, value)) {
                continue;
            }

            n += node->nvariants;

            if (node->fetch_expire == 0) {
                ngx_http_gw_cache_node_free_locked(zone, node);

            } else {
                /* a fetch in flight still owns the key */
                while (!ngx_queue_empty(&node->variants)) {
                    vq = ngx_queue_head(&node->variants);
                    e = ngx_queue_data(vq, ngx_http_gw_cache_entry_t, queue);
                    ngx_http_gw_cache_entry_free_locked(zone, node, e);
                }
            }

            continue;
        }

        for (vq = ngx_queue_head(&node->variants);
             vq != ngx_queue_sentinel(&node->variants);
             vq = vnext)
        {
            vnext = ngx_queue_next(vq);
            e = ngx_queue_data(vq, ngx_http_gw_cache_entry_t, queue);

            tags = e->data + e->vary_len + e->match_len + e->etag_len
                   + e->lm_len;
            last = tags + e->tags_len;

            /* tags are stored as "tag tag " */
            for (p = tags; p < last; /* void */) {
                if ((size_t) (last - p) > value->len
                    && ngx_memcmp(p, value->data, value->len) == 0
                    && p[value->len] == ' ')
                {
                    ngx_http_gw_cache_entry_free_locked(zone, node, e);
                    n++;
                    break;
                }

                p = ngx_strlchr(p, last, ' ');
                if (p == NULL) {
                    break;
                }

                p++;
            }
        }

        ngx_http_gw_cache_node_release_locked(zone, node);
    }

    return n;
}

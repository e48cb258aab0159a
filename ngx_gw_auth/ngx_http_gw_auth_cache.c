
/*
 * Copyright (C) ngx_gw authors
 *
 * The shared cache of ngx_http_gw_auth_module: entries named by a
 * SHA-256 hash, with an expiry and a "blob": the identity (consumer, plan,
 * scopes) of a verified token, a fetched JWKS document, an introspection
 * response.  For a token the hash covers the location's key sets and
 * checks, so a token accepted by one location is never trusted by another
 * that would check it differently.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_auth.h"


typedef struct {
    u_char               color;
    u_char               pad[3];
    ngx_queue_t          queue;
    time_t               expires;
    time_t               aux;
    uint32_t             len;
    u_char               hash[NGX_HTTP_GW_AUTH_HASH_LEN];
    u_char               data[1];
} ngx_http_gw_auth_cache_node_t;


static ngx_rbtree_node_t *ngx_http_gw_auth_cache_find(
    ngx_http_gw_auth_cache_t *cache, u_char *hash);
static void ngx_http_gw_auth_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_gw_auth_cache_evict(ngx_http_gw_auth_cache_t *cache,
    ngx_uint_t n);
static void ngx_http_gw_auth_cache_delete(ngx_http_gw_auth_cache_t *cache,
    ngx_rbtree_node_t *node);


#define ngx_http_gw_auth_cache_data(node)                                    \
    ((ngx_http_gw_auth_cache_node_t *) &(node)->color)


static void
ngx_http_gw_auth_cache_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t              **p;
    ngx_http_gw_auth_cache_node_t   *cn, *cnt;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else {
            cn = ngx_http_gw_auth_cache_data(node);
            cnt = ngx_http_gw_auth_cache_data(temp);

            p = (ngx_memcmp(cn->hash, cnt->hash, NGX_HTTP_GW_AUTH_HASH_LEN)
                 < 0) ? &temp->left : &temp->right;
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


ngx_int_t
ngx_http_gw_auth_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_gw_auth_cache_t  *ocache = data;

    size_t                     len;
    ngx_http_gw_auth_cache_t  *cache;

    cache = shm_zone->data;

    if (ocache) {
        /* a reload: keep the verified tokens */
        cache->sh = ocache->sh;
        cache->shpool = ocache->shpool;
        return NGX_OK;
    }

    cache->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        cache->sh = cache->shpool->data;
        return NGX_OK;
    }

    cache->sh = ngx_slab_alloc(cache->shpool,
                               sizeof(ngx_http_gw_auth_cache_sh_t));
    if (cache->sh == NULL) {
        return NGX_ERROR;
    }

    cache->shpool->data = cache->sh;

    ngx_rbtree_init(&cache->sh->rbtree, &cache->sh->sentinel,
                    ngx_http_gw_auth_cache_rbtree_insert);
    ngx_queue_init(&cache->sh->queue);

    len = sizeof(" in gw_auth_zone \"\"") + shm_zone->shm.name.len;

    cache->shpool->log_ctx = ngx_slab_alloc(cache->shpool, len);
    if (cache->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(cache->shpool->log_ctx, " in gw_auth_zone \"%V\"%Z",
                &shm_zone->shm.name);

    cache->shpool->log_nomem = 0;

    return NGX_OK;
}


static ngx_rbtree_node_t *
ngx_http_gw_auth_cache_find(ngx_http_gw_auth_cache_t *cache, u_char *hash)
{
    uint32_t                        key;
    ngx_int_t                       rc;
    ngx_rbtree_node_t              *node, *sentinel;
    ngx_http_gw_auth_cache_node_t  *cn;

    ngx_memcpy(&key, hash, sizeof(uint32_t));

    node = cache->sh->rbtree.root;
    sentinel = cache->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (key < node->key) {
            node = node->left;
            continue;
        }

        if (key > node->key) {
            node = node->right;
            continue;
        }

        cn = ngx_http_gw_auth_cache_data(node);

        rc = ngx_memcmp(hash, cn->hash, NGX_HTTP_GW_AUTH_HASH_LEN);

        if (rc == 0) {
            return node;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


static void
ngx_http_gw_auth_cache_evict(ngx_http_gw_auth_cache_t *cache, ngx_uint_t n)
{
    ngx_queue_t                    *q;
    ngx_rbtree_node_t              *node;
    ngx_http_gw_auth_cache_node_t  *cn;

    /* the n least recently used; expired ones are usually among them */

    while (n-- && !ngx_queue_empty(&cache->sh->queue)) {
        q = ngx_queue_last(&cache->sh->queue);
        cn = ngx_queue_data(q, ngx_http_gw_auth_cache_node_t, queue);

        node = (ngx_rbtree_node_t *)
                   ((u_char *) cn - offsetof(ngx_rbtree_node_t, color));

        ngx_queue_remove(q);
        ngx_rbtree_delete(&cache->sh->rbtree, node);
        ngx_slab_free_locked(cache->shpool, node);
    }
}


static void
ngx_http_gw_auth_cache_delete(ngx_http_gw_auth_cache_t *cache,
    ngx_rbtree_node_t *node)
{
    ngx_http_gw_auth_cache_node_t  *cn;

    cn = ngx_http_gw_auth_cache_data(node);

    ngx_queue_remove(&cn->queue);
    ngx_rbtree_delete(&cache->sh->rbtree, node);
    ngx_slab_free_locked(cache->shpool, node);
}


ngx_int_t
ngx_http_gw_auth_cache_get_blob(ngx_shm_zone_t *zone, u_char *hash,
    ngx_pool_t *pool, ngx_http_gw_auth_blob_t *blob)
{
    ngx_int_t                       rc;
    ngx_rbtree_node_t              *node;
    ngx_http_gw_auth_cache_t       *cache;
    ngx_http_gw_auth_cache_node_t  *cn;

    /* a copy of the blob, expired or not: the caller decides */

    cache = zone->data;
    rc = NGX_DECLINED;

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_gw_auth_cache_find(cache, hash);

    if (node) {
        cn = ngx_http_gw_auth_cache_data(node);

        blob->expires = cn->expires;
        blob->aux = cn->aux;
        blob->data.len = cn->len;
        blob->data.data = ngx_pnalloc(pool, cn->len + 1);
        if (blob->data.data == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return NGX_ERROR;
        }

        ngx_memcpy(blob->data.data, cn->data, cn->len);
        blob->data.data[cn->len] = '\0';

        ngx_queue_remove(&cn->queue);
        ngx_queue_insert_head(&cache->sh->queue, &cn->queue);
        rc = NGX_OK;
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}


ngx_int_t
ngx_http_gw_auth_cache_put_blob(ngx_shm_zone_t *zone, u_char *hash,
    ngx_http_gw_auth_blob_t *blob)
{
    size_t                          size;
    uint32_t                        key;
    ngx_uint_t                      tries;
    ngx_rbtree_node_t              *node;
    ngx_http_gw_auth_cache_t       *cache;
    ngx_http_gw_auth_cache_node_t  *cn;

    cache = zone->data;

    size = offsetof(ngx_rbtree_node_t, color)
           + offsetof(ngx_http_gw_auth_cache_node_t, data) + blob->data.len;

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_gw_auth_cache_find(cache, hash);
    if (node) {
        ngx_http_gw_auth_cache_delete(cache, node);
    }

    node = ngx_slab_alloc_locked(cache->shpool, size);
    if (node == NULL) {

        /* make room: a blob may need more than one evicted token */

        for (tries = 0; node == NULL && tries < 8; tries++) {
            if (ngx_queue_empty(&cache->sh->queue)) {
                break;
            }

            ngx_http_gw_auth_cache_evict(cache, 16);

            node = ngx_slab_alloc_locked(cache->shpool, size);
            if (node == NULL) {
                continue;
            }
        }

        if (node == NULL) {
            ngx_shmtx_unlock(&cache->shpool->mutex);
            return NGX_DECLINED;
        }
    }

    ngx_memcpy(&key, hash, sizeof(uint32_t));
    node->key = key;

    cn = ngx_http_gw_auth_cache_data(node);
    cn->expires = blob->expires;
    cn->aux = blob->aux;
    cn->len = (uint32_t) blob->data.len;
    ngx_memcpy(cn->hash, hash, NGX_HTTP_GW_AUTH_HASH_LEN);
    ngx_memcpy(cn->data, blob->data.data, blob->data.len);

    ngx_rbtree_insert(&cache->sh->rbtree, node);
    ngx_queue_insert_head(&cache->sh->queue, &cn->queue);

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_auth_cache_claim_aux(ngx_shm_zone_t *zone, u_char *hash,
    time_t now, time_t interval)
{
    ngx_int_t                       rc;
    ngx_rbtree_node_t              *node;
    ngx_http_gw_auth_cache_t       *cache;
    ngx_http_gw_auth_cache_node_t  *cn;

    /*
     * The entry's aux time is the last forced re-fetch; it is taken by
     * one request of one worker at most once per interval.
     */

    cache = zone->data;
    rc = NGX_OK;

    ngx_shmtx_lock(&cache->shpool->mutex);

    node = ngx_http_gw_auth_cache_find(cache, hash);

    if (node) {
        cn = ngx_http_gw_auth_cache_data(node);

        if (now - cn->aux < interval) {
            rc = NGX_DECLINED;

        } else {
            cn->aux = now;
        }
    }

    ngx_shmtx_unlock(&cache->shpool->mutex);

    return rc;
}

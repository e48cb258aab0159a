/*
 * Copyright (C) ngx_gw authors
 *
 * The zone: keys in a chained hash table (a seeded SipHash-1-3 of the key,
 * chains of at most NGX_HTTP_GW_CACHE_MAX_CHAIN keys), their variants, an
 * LRU of keys, bodies in page-sized chunks of the slab, eviction of the
 * least recently used keys when an allocation fails.  Every function named
 * "_locked" runs under the zone's mutex.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


#define ngx_http_gw_cache_rotl(x, b)  (((x) << (b)) | ((x) >> (64 - (b))))

#define ngx_http_gw_cache_sipround(v0, v1, v2, v3)                            \
    v0 += v1; v1 = ngx_http_gw_cache_rotl(v1, 13); v1 ^= v0;                  \
    v0 = ngx_http_gw_cache_rotl(v0, 32);                                      \
    v2 += v3; v3 = ngx_http_gw_cache_rotl(v3, 16); v3 ^= v2;                  \
    v0 += v3; v3 = ngx_http_gw_cache_rotl(v3, 21); v3 ^= v0;                  \
    v2 += v1; v1 = ngx_http_gw_cache_rotl(v1, 17); v1 ^= v2;                  \
    v2 = ngx_http_gw_cache_rotl(v2, 32)


static void ngx_http_gw_cache_huge_pages(ngx_shm_zone_t *shm_zone);
static void ngx_http_gw_cache_seed(ngx_http_gw_cache_sh_t *sh);
static ngx_uint_t ngx_http_gw_cache_evict_locked(
    ngx_http_gw_cache_zone_t *zone);
static void ngx_http_gw_cache_unlink_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node);
static ngx_uint_t ngx_http_gw_cache_node_matches(
    ngx_http_gw_cache_node_t *node, ngx_uint_t how, ngx_str_t *value);


ngx_int_t
ngx_http_gw_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_gw_cache_zone_t  *ozone = data;

    size_t                     len;
    ngx_uint_t                 n;
    ngx_http_gw_cache_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        /* a reload: the entries stay, if this build can read them */

        if (ozone->sh->magic != NGX_HTTP_GW_CACHE_ZONE_MAGIC) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "gw_cache_zone \"%V\" was made by another build "
                          "of ngx_gw_cache; restart nginx to replace it",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;
        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    ngx_http_gw_cache_huge_pages(shm_zone);

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_alloc(zone->shpool, sizeof(ngx_http_gw_cache_sh_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;

    /*
     * One bucket per 256 bytes of zone (a power of two, 3% of the zone):
     * a stored response takes at least 384 bytes, so that a full zone
     * has fewer keys than buckets and most chains hold one key or none.
     */

    for (n = 64; n * 2 <= shm_zone->shm.size / 256; n *= 2) {
        /* void */
    }

    zone->sh->buckets = ngx_slab_calloc(zone->shpool,
                                        n * sizeof(ngx_http_gw_cache_link_t));
    if (zone->sh->buckets == NULL) {
        return NGX_ERROR;
    }

    zone->sh->mask = n - 1;
    zone->sh->magic = NGX_HTTP_GW_CACHE_ZONE_MAGIC;

    ngx_http_gw_cache_seed(zone->sh);

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


/*
 * A miss reads a bucket and a key at random places of the zone, and each
 * can cost a page walk: where the kernel allows huge pages for shared
 * memory on request (Linux: transparent_hugepage/shmem_enabled "advise"),
 * the zone asks for them.  Elsewhere the advice is ignored.
 */

static void
ngx_http_gw_cache_huge_pages(ngx_shm_zone_t *shm_zone)
{
#if (NGX_LINUX && defined MADV_HUGEPAGE)

    if (madvise(shm_zone->shm.addr, shm_zone->shm.size, MADV_HUGEPAGE) == -1)
    {
        ngx_log_debug1(NGX_LOG_DEBUG_CORE, shm_zone->shm.log, ngx_errno,
                       "gw_cache_zone \"%V\": madvise(MADV_HUGEPAGE) failed",
                       &shm_zone->shm.name);
    }

#endif
}


/*
 * The hash key, chosen when the zone is made: clients who choose URIs
 * cannot know which keys share a bucket.
 */

static void
ngx_http_gw_cache_seed(ngx_http_gw_cache_sh_t *sh)
{
    ssize_t    n;
    ngx_fd_t   fd;

    n = 0;

    fd = ngx_open_file("/dev/urandom", NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd != NGX_INVALID_FILE) {
        n = ngx_read_fd(fd, sh->seed, sizeof(sh->seed));
        (void) ngx_close_file(fd);
    }

    if (n != (ssize_t) sizeof(sh->seed)) {
        /* no /dev/urandom: the chain cap still bounds every lookup */
        sh->seed[0] = ((uint64_t) ngx_random() << 32) ^ (uint64_t) ngx_random()
                      ^ (uint64_t) ngx_time() ^ ((uint64_t) ngx_pid << 40);
        sh->seed[1] = ((uint64_t) ngx_random() << 32) ^ (uint64_t) ngx_random()
                      ^ (uint64_t) (uintptr_t) sh;
    }
}


/* SipHash-1-3 of the key under the zone's seed, folded to 32 bits */

uint32_t
ngx_http_gw_cache_hash(ngx_http_gw_cache_zone_t *zone, u_char *p, size_t len)
{
    u_char      *last;
    uint64_t     v0, v1, v2, v3, m, b;
    ngx_uint_t   i;

    v0 = zone->sh->seed[0] ^ 0x736f6d6570736575ULL;
    v1 = zone->sh->seed[1] ^ 0x646f72616e646f6dULL;
    v2 = zone->sh->seed[0] ^ 0x6c7967656e657261ULL;
    v3 = zone->sh->seed[1] ^ 0x7465646279746573ULL;

    b = (uint64_t) len << 56;
    last = p + (len & ~(size_t) 7);

    for ( /* void */ ; p < last; p += 8) {

#if (NGX_HAVE_LITTLE_ENDIAN)
        ngx_memcpy(&m, p, 8);
#else
        m = 0;

        for (i = 0; i < 8; i++) {
            m |= (uint64_t) p[i] << (8 * i);
        }
#endif

        v3 ^= m;
        ngx_http_gw_cache_sipround(v0, v1, v2, v3);
        v0 ^= m;
    }

    for (i = 0; i < (len & 7); i++) {
        b |= (uint64_t) p[i] << (8 * i);
    }

    v3 ^= b;
    ngx_http_gw_cache_sipround(v0, v1, v2, v3);
    v0 ^= b;

    v2 ^= 0xff;
    ngx_http_gw_cache_sipround(v0, v1, v2, v3);
    ngx_http_gw_cache_sipround(v0, v1, v2, v3);
    ngx_http_gw_cache_sipround(v0, v1, v2, v3);

    b = v0 ^ v1 ^ v2 ^ v3;

    return (uint32_t) (b ^ (b >> 32));
}


ngx_http_gw_cache_node_t *
ngx_http_gw_cache_lookup_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_str_t *key, uint32_t hash)
{
    ngx_http_gw_cache_link_t  *l, *next;
    ngx_http_gw_cache_node_t  *n;

    for (l = &zone->sh->buckets[hash & zone->sh->mask]; l->node; l = next) {

        n = ngx_http_gw_cache_link_node(zone, l);

        if (((l->tag ^ hash) & ~NGX_HTTP_GW_CACHE_MORE) == 0
            && n->len == key->len
            && ngx_memcmp(n->key, key->data, key->len) == 0)
        {
            return n;
        }

        if (!(l->tag & NGX_HTTP_GW_CACHE_MORE)) {
            break;
        }

        next = &n->next;

        if (next->node == 0) {
            /* the key that followed went: the next lookup stops here */
            l->tag &= ~NGX_HTTP_GW_CACHE_MORE;
            break;
        }
    }

    return NULL;
}


/*
 * Adds a key (after a failed lookup) at the head of its bucket.  A full
 * chain first loses its oldest unpinned key, so that no lookup walks more
 * than the cap; with every key of the chain pinned, nothing is added.
 */

ngx_http_gw_cache_node_t *
ngx_http_gw_cache_node_create_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_str_t *key, uint32_t hash)
{
    ngx_uint_t                 len;
    ngx_http_gw_cache_link_t  *bucket, *l;
    ngx_http_gw_cache_node_t  *n, *victim;

    bucket = &zone->sh->buckets[hash & zone->sh->mask];

    if (bucket->tag & NGX_HTTP_GW_CACHE_MORE) {
        len = 0;
        victim = NULL;

        for (l = bucket; l->node; l = &n->next) {
            n = ngx_http_gw_cache_link_node(zone, l);
            len++;

            if (n->pins == 0) {
                victim = n;
            }
        }

        if (len >= NGX_HTTP_GW_CACHE_MAX_CHAIN) {
            if (victim == NULL) {
                return NULL;
            }

            zone->sh->evictions++;
            ngx_http_gw_cache_node_free_locked(zone, victim);
        }
    }

    n = ngx_http_gw_cache_alloc_locked(zone,
                        offsetof(ngx_http_gw_cache_node_t, key) + key->len);
    if (n == NULL) {
        return NULL;
    }

    n->hash = hash;
    n->len = (u_short) key->len;
    ngx_memcpy(n->key, key->data, key->len);

    ngx_queue_init(&n->variants);
    n->nvariants = 0;
    n->fetch_expire = 0;
    n->fetch_seq = 0;
    n->pins = 0;
    n->pass_until = 0;

    /* read after the allocation: its evictions may have changed the chain */

    n->next = *bucket;
    n->prev = bucket;

    bucket->node = ngx_http_gw_cache_link_offset(zone, n);
    bucket->tag = hash & ~NGX_HTTP_GW_CACHE_MORE;

    if (n->next.node) {
        ngx_http_gw_cache_link_node(zone, &n->next)->prev = &n->next;
        bucket->tag |= NGX_HTTP_GW_CACHE_MORE;
    }

    ngx_queue_insert_head(&zone->sh->lru, &n->lru);
    zone->sh->nodes++;

    return n;
}


void
ngx_http_gw_cache_pin(ngx_http_gw_cache_ctx_t *ctx,
    ngx_http_gw_cache_node_t *node)
{
    if (ctx->node == node) {
        return;
    }

    if (ctx->node) {
        ngx_http_gw_cache_unpin_locked(ctx);
    }

    node->pins++;
    ctx->node = node;
}


void
ngx_http_gw_cache_unpin_locked(ngx_http_gw_cache_ctx_t *ctx)
{
    if (ctx->node) {
        ctx->node->pins--;
        ctx->node = NULL;
    }
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


/* the least recently used unpinned key goes; pinned ones move to the head */

static ngx_uint_t
ngx_http_gw_cache_evict_locked(ngx_http_gw_cache_zone_t *zone)
{
    ngx_uint_t                 skip;
    ngx_queue_t               *q;
    ngx_http_gw_cache_node_t  *n;

    for (skip = 0; skip < NGX_HTTP_GW_CACHE_MAX_SKIP; skip++) {

        if (ngx_queue_empty(&zone->sh->lru)) {
            return 0;
        }

        q = ngx_queue_last(&zone->sh->lru);
        n = ngx_queue_data(q, ngx_http_gw_cache_node_t, lru);

        if (n->pins) {
            ngx_queue_remove(q);
            ngx_queue_insert_head(&zone->sh->lru, q);
            continue;
        }

        zone->sh->evictions++;
        ngx_http_gw_cache_node_free_locked(zone, n);

        return 1;
    }

    return 0;
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

    if (!entry->body_inline) {
        ngx_http_gw_cache_chunks_free_locked(zone, entry->body);
    }

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

    ngx_http_gw_cache_unlink_locked(zone, node);

    zone->sh->nodes--;

    ngx_slab_free_locked(zone->shpool, node);
}


/* takes a key out of its chain by stores to its neighbours only */

static void
ngx_http_gw_cache_unlink_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node)
{
    *node->prev = node->next;

    if (node->next.node) {
        ngx_http_gw_cache_link_node(zone, &node->next)->prev = node->prev;
    }
}


/* frees a key left with no variants, no fetch, no pin and no pass mark */

void
ngx_http_gw_cache_node_release_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node)
{
    if (node->nvariants == 0
        && node->fetch_expire == 0
        && node->pins == 0
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


/* removes one key found through the table; returns the responses removed */

ngx_uint_t
ngx_http_gw_cache_purge_exact_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_str_t *key)
{
    ngx_uint_t                  n;
    ngx_queue_t                *q;
    ngx_http_gw_cache_node_t   *node;
    ngx_http_gw_cache_entry_t  *e;

    node = ngx_http_gw_cache_lookup_locked(zone, key,
                                           ngx_http_gw_cache_hash(zone,
                                                                  key->data,
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

            if (node->pins == 0) {
                ngx_http_gw_cache_node_free_locked(zone, node);

            } else {
                /* a request with a fetch in flight still holds the key */
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

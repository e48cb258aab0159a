/*
 * Copyright (C) ngx_gw authors
 *
 * ngx_gw_cache: a response cache in shared memory with RFC 9111 semantics.
 * Types shared by the module's source files.
 */


#ifndef _NGX_HTTP_GW_CACHE_H_INCLUDED_
#define _NGX_HTTP_GW_CACHE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"


#define NGX_HTTP_GW_CACHE_NONE         0
#define NGX_HTTP_GW_CACHE_MISS         1
#define NGX_HTTP_GW_CACHE_BYPASS       2
#define NGX_HTTP_GW_CACHE_EXPIRED      3
#define NGX_HTTP_GW_CACHE_STALE        4
#define NGX_HTTP_GW_CACHE_UPDATING     5
#define NGX_HTTP_GW_CACHE_REVALIDATED  6
#define NGX_HTTP_GW_CACHE_HIT          7

/* variants of one key (Vary) kept at most; the oldest goes first */
#define NGX_HTTP_GW_CACHE_MAX_VARIANTS  16

/* bytes of Cache-Tag / Surrogate-Key recorded per entry */
#define NGX_HTTP_GW_CACHE_MAX_TAGS      1024

/* a response found uncacheable lets requests skip coalescing for this long */
#define NGX_HTTP_GW_CACHE_PASS_TIME     10

/* how often a request waiting for another one's fetch looks again */
#define NGX_HTTP_GW_CACHE_WAIT_STEP     10


/* Response Cache-Control (or a targeted field), parsed. */
typedef struct {
    time_t                        max_age;           /* -1: absent */
    time_t                        s_maxage;          /* -1: absent */
    time_t                        stale_revalidate;  /* -1: absent */
    time_t                        stale_error;       /* -1: absent */
    time_t                        max_stale;         /* -1: absent */
    time_t                        min_fresh;         /* -1: absent */
    unsigned                      no_store:1;
    unsigned                      no_cache:1;
    unsigned                      private_:1;
    unsigned                      public_:1;
    unsigned                      must_revalidate:1;
    unsigned                      proxy_revalidate:1;
    unsigned                      only_if_cached:1;
    unsigned                      update:1;
} ngx_http_gw_cache_cc_t;


/* ---- shared memory ---- */

typedef struct ngx_http_gw_cache_chunk_s  ngx_http_gw_cache_chunk_t;

struct ngx_http_gw_cache_chunk_s {
    ngx_http_gw_cache_chunk_t    *next;
    size_t                        len;
    u_char                        data[1];
};

#define NGX_HTTP_GW_CACHE_CHUNK_HEAD  offsetof(ngx_http_gw_cache_chunk_t, data)


/* chains longer than this lose their oldest key on an insert */
#define NGX_HTTP_GW_CACHE_MAX_CHAIN     8

/* pinned keys met at the LRU tail that one eviction moves past */
#define NGX_HTTP_GW_CACHE_MAX_SKIP      32


#define NGX_HTTP_GW_CACHE_ZONE_MAGIC    0x6777636163686503ULL


typedef struct ngx_http_gw_cache_node_s  ngx_http_gw_cache_node_t;

/*
 * A link of a bucket's chain, in the bucket array and in each key: where
 * the key it points to is (in 8-byte units from the zone's start; 0: no
 * key) and that key's hash, whose lowest bit says instead whether a key
 * follows that one (it may stay set after the follower went, until a
 * lookup walks there).  A lookup reads keys only where a hash matches, so
 * a miss in a bucket of one key touches no key; 8 bytes a link keep the
 * bucket array small (3% of the zone).
 */
typedef struct {
    uint32_t                      node;
    uint32_t                      tag;
} ngx_http_gw_cache_link_t;

#define NGX_HTTP_GW_CACHE_MORE          1

#define ngx_http_gw_cache_link_node(zone, l)                                  \
    ((ngx_http_gw_cache_node_t *) ((u_char *) (zone)->shpool                  \
                                   + ((uintptr_t) (l)->node << 3)))

#define ngx_http_gw_cache_link_offset(zone, n)                                \
    ((uint32_t) (((u_char *) (n) - (u_char *) (zone)->shpool) >> 3))

/* the largest zone a link can point into */
#define NGX_HTTP_GW_CACHE_MAX_ZONE      ((off_t) 8 << 32)


/*
 * One key: the variants stored for it and the fetch in flight.  A request
 * that owns the fetch keeps a pointer to its key (a pin): a pinned key is
 * never freed, so the filters need no second lookup.
 */
struct ngx_http_gw_cache_node_s {
    ngx_http_gw_cache_link_t      next;          /* in the bucket */
    ngx_http_gw_cache_link_t     *prev;          /* the link to this key */
    uint32_t                      hash;
    u_short                       len;
    u_short                       nvariants;
    ngx_queue_t                   lru;
    ngx_queue_t                   variants;
    ngx_msec_t                    fetch_expire;  /* 0: no fetch in flight */
    ngx_uint_t                    fetch_seq;
    ngx_uint_t                    pins;
    time_t                        pass_until;
    u_char                        key[1];
};


/* one stored response */
typedef struct {
    ngx_queue_t                   queue;         /* in node->variants */
    time_t                        stored;        /* stored or revalidated */
    time_t                        age_base;      /* Age = now - age_base */
    time_t                        expires;       /* fresh until */
    time_t                        ttl;           /* freshness lifetime */
    time_t                        stale_revalidate;
    time_t                        stale_error;
    time_t                        last_modified_time;
    ngx_uint_t                    status;
    unsigned                      no_cache:1;
    unsigned                      no_stale:1;
    unsigned                      shared_auth:1;
    unsigned                      body_inline:1; /* body after the data */
    u_short                       vary_len;      /* "name,name" lowercase */
    u_short                       match_len;     /* the request's values */
    u_short                       etag_len;
    u_short                       lm_len;        /* Last-Modified */
    u_short                       tags_len;      /* " tag tag " */
    size_t                        headers_len;
    off_t                         body_len;
    ngx_http_gw_cache_chunk_t    *body;
    u_char                        data[1];
} ngx_http_gw_cache_entry_t;


typedef struct {
    uint64_t                      magic;         /* this layout */
    uint64_t                      seed[2];       /* the key hash's key */
    ngx_http_gw_cache_link_t     *buckets;
    ngx_uint_t                    mask;          /* buckets - 1 */
    ngx_queue_t                   lru;           /* most recent first */
    ngx_uint_t                    nodes;
    ngx_uint_t                    entries;
    ngx_uint_t                    evictions;
    off_t                         body_bytes;
} ngx_http_gw_cache_sh_t;


typedef struct {
    ngx_http_gw_cache_sh_t       *sh;
    ngx_slab_pool_t              *shpool;
    ngx_str_t                     name;
    size_t                        max_object;
    ngx_shm_zone_t               *shm_zone;
} ngx_http_gw_cache_zone_t;


/* where a small body kept in its record starts */
#define ngx_http_gw_cache_inline_body(e)                                      \
    ((ngx_http_gw_cache_chunk_t *) ngx_align_ptr((e)->data + (e)->vary_len    \
         + (e)->match_len + (e)->etag_len + (e)->lm_len + (e)->tags_len       \
         + (e)->headers_len, sizeof(void *)))


/* ---- configuration ---- */

typedef struct {
    ngx_uint_t                    status;        /* 0: any */
    time_t                        valid;
} ngx_http_gw_cache_valid_t;


typedef struct {
    ngx_array_t                   zones;         /* of zone pointers */
    ngx_http_variable_t          *consumer;      /* $gw_auth_consumer */
} ngx_http_gw_cache_main_conf_t;


typedef struct {
    ngx_http_gw_cache_zone_t     *zone;          /* NULL: off */
    ngx_http_complex_value_t     *key;
    ngx_array_t                  *valid;
    ngx_uint_t                    methods;
    ngx_array_t                  *bypass;
    ngx_array_t                  *no_store;
    ngx_http_complex_value_t     *private_key;
    ngx_http_complex_value_t     *cdn_control;
    ngx_str_t                     status_header;
    ngx_str_t                     status_header_lc;
    time_t                        stale_revalidate;
    time_t                        stale_error;
    ngx_msec_t                    lock_timeout;
    ngx_http_gw_cache_zone_t     *purge;
    ngx_uint_t                    zone_set;
} ngx_http_gw_cache_loc_conf_t;


/* ---- per request ---- */

/* a stored response copied out of the zone into the request's pool */
typedef struct {
    ngx_uint_t                    status;
    time_t                        age;
    time_t                        last_modified_time;
    u_char                       *headers;
    size_t                        headers_len;
    u_char                       *body;
    off_t                         body_len;
} ngx_http_gw_cache_hit_t;


/* what the header filter decided for a response being stored */
typedef struct {
    time_t                        ttl;
    time_t                        age;
    time_t                        stale_revalidate;
    time_t                        stale_error;
    ngx_uint_t                    status;
    ngx_str_t                     vary;
    ngx_str_t                     match;
    ngx_str_t                     etag;
    ngx_str_t                     last_modified;
    time_t                        last_modified_time;
    ngx_str_t                     tags;
    ngx_str_t                     headers;
    unsigned                      no_cache:1;
    unsigned                      no_stale:1;
    unsigned                      shared_auth:1;
    unsigned                      failed:1;
    ngx_http_gw_cache_chunk_t    *body;
    ngx_http_gw_cache_chunk_t    *last;
    u_char                       *small;       /* a small body, in the pool */
    size_t                        small_size;
    off_t                         body_len;
} ngx_http_gw_cache_capture_t;


/* the client's own request headers, while ours go to the backend */
typedef struct {
    ngx_list_t                    headers;
    ngx_table_elt_t              *if_none_match;
    ngx_table_elt_t              *if_modified_since;
    ngx_table_elt_t              *if_match;
    ngx_table_elt_t              *if_unmodified_since;
    ngx_table_elt_t              *range;
    ngx_table_elt_t              *if_range;
    unsigned                      disable_not_modified:1;
} ngx_http_gw_cache_saved_t;


typedef struct {
    ngx_http_request_t           *request;
    ngx_http_gw_cache_zone_t     *zone;
    ngx_str_t                     key;
    ngx_str_t                     identity_key;  /* invalidation only */
    uint32_t                      hash;
    ngx_uint_t                    status;
    ngx_uint_t                    fetch_seq;
    ngx_http_gw_cache_node_t     *node;          /* pinned while owner */
    ngx_msec_t                    wait_deadline;
    ngx_event_t                  *wait_event;    /* while coalescing */
    time_t                        req_max_age;   /* -1: absent */
    time_t                        req_max_stale; /* -1: absent */
    time_t                        req_min_fresh; /* -1: absent */
    ngx_http_gw_cache_hit_t       hit;
    ngx_http_gw_cache_capture_t   capture;
    ngx_http_handler_pt           content_handler;  /* for the refresh */

    ngx_http_gw_cache_saved_t    *saved;         /* while revalidating */

    unsigned                      looked_up:1;
    unsigned                      has_auth:1;
    unsigned                      identity:1;
    unsigned                      store:1;
    unsigned                      storing:1;
    unsigned                      fetch_owner:1;
    unsigned                      waiting:1;
    unsigned                      revalidating:1;
    unsigned                      stale_if_error:1;
    unsigned                      updater:1;
    unsigned                      serving:1;
    unsigned                      replay:1;
    unsigned                      replay_done:1;
    unsigned                      headers_saved:1;
    unsigned                      decorated:1;
    unsigned                      has_hit:1;
    unsigned                      rerun:1;
    unsigned                      cleanup:1;
    unsigned                      no_coalesce:1;
    unsigned                      req_no_cache:1;
    unsigned                      invalidate:1;
    unsigned                      only_if_cached:1;
    unsigned                      update:1;
} ngx_http_gw_cache_ctx_t;


extern ngx_module_t  ngx_http_gw_cache_module;
extern ngx_str_t     ngx_http_gw_cache_status_names[];


/* parsers of untrusted input: plain functions over (pointer, length) */
void ngx_http_gw_cache_cc_init(ngx_http_gw_cache_cc_t *cc);
void ngx_http_gw_cache_parse_cc(u_char *p, size_t len,
    ngx_http_gw_cache_cc_t *cc);
ngx_int_t ngx_http_gw_cache_parse_vary(u_char *p, size_t len, u_char *out,
    size_t *out_len);
size_t ngx_http_gw_cache_parse_tags(u_char *p, size_t len, u_char *out,
    size_t size);

/* the zone */
ngx_int_t ngx_http_gw_cache_init_zone(ngx_shm_zone_t *shm_zone, void *data);
uint32_t ngx_http_gw_cache_hash(ngx_http_gw_cache_zone_t *zone, u_char *p,
    size_t len);
void ngx_http_gw_cache_pin(ngx_http_gw_cache_ctx_t *ctx,
    ngx_http_gw_cache_node_t *node);
void ngx_http_gw_cache_unpin_locked(ngx_http_gw_cache_ctx_t *ctx);
ngx_http_gw_cache_node_t *ngx_http_gw_cache_lookup_locked(
    ngx_http_gw_cache_zone_t *zone, ngx_str_t *key, uint32_t hash);
ngx_http_gw_cache_node_t *ngx_http_gw_cache_node_create_locked(
    ngx_http_gw_cache_zone_t *zone, ngx_str_t *key, uint32_t hash);
void *ngx_http_gw_cache_alloc_locked(ngx_http_gw_cache_zone_t *zone,
    size_t size);
void ngx_http_gw_cache_entry_free_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node, ngx_http_gw_cache_entry_t *entry);
void ngx_http_gw_cache_node_free_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node);
void ngx_http_gw_cache_node_release_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_node_t *node);
void ngx_http_gw_cache_chunks_free_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_http_gw_cache_chunk_t *chunk);
ngx_int_t ngx_http_gw_cache_copy_locked(ngx_pool_t *pool,
    ngx_http_gw_cache_entry_t *entry, ngx_http_gw_cache_hit_t *hit);
ngx_uint_t ngx_http_gw_cache_purge_exact_locked(
    ngx_http_gw_cache_zone_t *zone, ngx_str_t *key);
ngx_uint_t ngx_http_gw_cache_purge_locked(ngx_http_gw_cache_zone_t *zone,
    ngx_uint_t how, ngx_str_t *value);

#define NGX_HTTP_GW_CACHE_PURGE_KEY     0
#define NGX_HTTP_GW_CACHE_PURGE_PREFIX  1
#define NGX_HTTP_GW_CACHE_PURGE_TAG     2

/* requests */
ngx_int_t ngx_http_gw_cache_precontent_handler(ngx_http_request_t *r);
ngx_int_t ngx_http_gw_cache_restore(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
ngx_int_t ngx_http_gw_cache_copy_validators_locked(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
void ngx_http_gw_cache_restore_request(ngx_http_request_t *r,
    ngx_http_gw_cache_ctx_t *ctx);
ngx_http_gw_cache_entry_t *ngx_http_gw_cache_find_variant_locked(
    ngx_http_request_t *r, ngx_http_gw_cache_node_t *node,
    ngx_uint_t has_auth);
ngx_int_t ngx_http_gw_cache_request_values(ngx_http_request_t *r,
    u_char *names, size_t len, ngx_str_t *values);
void ngx_http_gw_cache_fetch_release(ngx_http_gw_cache_ctx_t *ctx,
    ngx_uint_t pass);
void ngx_http_gw_cache_fetch_release_locked(ngx_http_gw_cache_ctx_t *ctx,
    ngx_http_gw_cache_node_t *node, ngx_uint_t pass);
ngx_table_elt_t *ngx_http_gw_cache_find_header(ngx_list_t *list,
    u_char *name, size_t len);
ngx_int_t ngx_http_gw_cache_filter_init(ngx_conf_t *cf);
ngx_int_t ngx_http_gw_cache_add_variables(ngx_conf_t *cf);
ngx_int_t ngx_http_gw_cache_purge_handler(ngx_http_request_t *r);
time_t ngx_http_gw_cache_valid(ngx_http_gw_cache_loc_conf_t *conf,
    ngx_uint_t status);


#endif /* _NGX_HTTP_GW_CACHE_H_INCLUDED_ */


/*
 * Copyright (C) ngx_gw authors
 *
 * The worker's own front of the verified-token cache: a direct-mapped
 * table of the tokens this worker saw verified last, each with the
 * identity they carry.  A hit compares the whole token, byte for byte,
 * with the one that was verified, so the index can be a cheap hash; it
 * takes no lock and no digest.  The shared cache stays the authority
 * that all workers fill; this table only spares it the repeated tokens.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_auth.h"


struct ngx_http_gw_auth_local_slot_s {
    uint32_t                    hash;
    uint32_t                    token_len;   /* 0: an empty slot */
    uint32_t                    identity_len;
    uint32_t                    size;        /* of data */
    time_t                      expires;
    u_char                      policy[NGX_HTTP_GW_AUTH_HASH_LEN];
    u_char                      keys[NGX_HTTP_GW_AUTH_HASH_LEN];
    u_char                     *data;        /* the token, the identity */
};


#define NGX_HTTP_GW_AUTH_LOCAL_TAIL  32


static void ngx_http_gw_auth_local_cleanup(void *data);


ngx_int_t
ngx_http_gw_auth_local_init(ngx_cycle_t *cycle,
    ngx_http_gw_auth_main_conf_t *amcf)
{
    ngx_pool_cleanup_t          *cln;
    ngx_http_gw_auth_local_t    *local;

    if (amcf->zone == NULL || amcf->local_slots == 0) {
        return NGX_OK;
    }

    local = ngx_pcalloc(cycle->pool, sizeof(ngx_http_gw_auth_local_t));
    if (local == NULL) {
        return NGX_ERROR;
    }

    local->slots = ngx_pcalloc(cycle->pool, amcf->local_slots
                                   * sizeof(ngx_http_gw_auth_local_slot_t));
    if (local->slots == NULL) {
        return NGX_ERROR;
    }

    local->mask = amcf->local_slots - 1;

    cln = ngx_pool_cleanup_add(cycle->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    cln->handler = ngx_http_gw_auth_local_cleanup;
    cln->data = local;

    amcf->local = local;

    return NGX_OK;
}


static void
ngx_http_gw_auth_local_cleanup(void *data)
{
    ngx_http_gw_auth_local_t *local = data;

    ngx_uint_t  i;

    for (i = 0; i <= local->mask; i++) {
        if (local->slots[i].data) {
            ngx_free(local->slots[i].data);
        }
    }
}


static ngx_http_gw_auth_local_slot_t *
ngx_http_gw_auth_local_slot(ngx_http_gw_auth_local_t *local, u_char *policy,
    ngx_str_t *token, uint32_t *hash)
{
    size_t    n;
    uint32_t  h, p;

    /*
     * Only the token's tail is hashed: a signature, as good as random
     * for the verified tokens that enter the table, and a hit compares
     * the whole token anyway.  The policy's first bytes (a SHA-256) keep
     * locations apart.
     */

    n = ngx_min(token->len, NGX_HTTP_GW_AUTH_LOCAL_TAIL);

    ngx_memcpy(&p, policy, sizeof(uint32_t));

    h = ngx_murmur_hash2(token->data + token->len - n, n) ^ p;
    *hash = h;

    return &local->slots[h & local->mask];
}


ngx_int_t
ngx_http_gw_auth_local_get(ngx_http_gw_auth_local_t *local, u_char *policy,
    u_char *keys, ngx_str_t *token, time_t now, ngx_pool_t *pool,
    ngx_str_t *identity)
{
    uint32_t                        hash;
    ngx_http_gw_auth_local_slot_t  *slot;

    slot = ngx_http_gw_auth_local_slot(local, policy, token, &hash);

    if (slot->token_len != token->len
        || slot->hash != hash
        || slot->expires <= now
        || ngx_memcmp(slot->policy, policy, NGX_HTTP_GW_AUTH_HASH_LEN) != 0
        || ngx_memcmp(slot->keys, keys, NGX_HTTP_GW_AUTH_HASH_LEN) != 0
        || ngx_memcmp(slot->data, token->data, token->len) != 0)
    {
        return NGX_DECLINED;
    }

    /* a copy: the slot may be taken by another token while r lives */

    identity->len = slot->identity_len;
    identity->data = ngx_pnalloc(pool, identity->len + 1);
    if (identity->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(identity->data, slot->data + slot->token_len, identity->len);
    identity->data[identity->len] = '\0';

    return NGX_OK;
}


void
ngx_http_gw_auth_local_put(ngx_http_gw_auth_local_t *local, u_char *policy,
    u_char *keys, ngx_str_t *token, time_t expires, ngx_str_t *identity)
{
    size_t                          size;
    uint32_t                        hash;
    ngx_http_gw_auth_local_slot_t  *slot;

    size = token->len + identity->len;

    if (size > NGX_HTTP_GW_AUTH_LOCAL_MAX) {
        /* left to the shared cache: a slot's memory stays bounded */
        return;
    }

    slot = ngx_http_gw_auth_local_slot(local, policy, token, &hash);

    if (slot->size < size) {
        if (slot->data) {
            ngx_free(slot->data);
            ngx_memzero(slot, sizeof(ngx_http_gw_auth_local_slot_t));
        }

        size = ngx_align(size, 256);

        slot->data = ngx_alloc(size, ngx_cycle->log);
        if (slot->data == NULL) {
            return;
        }

        slot->size = (uint32_t) size;
    }

    slot->hash = hash;
    slot->token_len = (uint32_t) token->len;
    slot->identity_len = (uint32_t) identity->len;
    slot->expires = expires;

    ngx_memcpy(slot->policy, policy, NGX_HTTP_GW_AUTH_HASH_LEN);
    ngx_memcpy(slot->keys, keys, NGX_HTTP_GW_AUTH_HASH_LEN);
    ngx_memcpy(ngx_cpymem(slot->data, token->data, token->len),
               identity->data, identity->len);
}


/*
 * Copyright (C) ngx_gw authors
 *
 * Types shared by the files of ngx_http_gw_auth_module.
 */


#ifndef _NGX_HTTP_GW_AUTH_H_INCLUDED_
#define _NGX_HTTP_GW_AUTH_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>
#include <jansson.h>

#include "ngx_http_gw_shared.h"


#define NGX_HTTP_GW_AUTH_JWT            0x01
#define NGX_HTTP_GW_AUTH_APIKEY         0x02
#define NGX_HTTP_GW_AUTH_INTROSPECT     0x04
#define NGX_HTTP_GW_AUTH_OFF            0x80

#define NGX_HTTP_GW_AUTH_HASH_LEN       32

/* the worker's front of the token cache: slots, and bytes a slot holds */
#define NGX_HTTP_GW_AUTH_LOCAL_SLOTS    1024
#define NGX_HTTP_GW_AUTH_LOCAL_MAX      4096

#define NGX_HTTP_GW_AUTH_HMAC           1
#define NGX_HTTP_GW_AUTH_RSA            2
#define NGX_HTTP_GW_AUTH_PSS            3
#define NGX_HTTP_GW_AUTH_EC             4
#define NGX_HTTP_GW_AUTH_EDDSA          5

/* the outcome of one authentication, $gw_auth_result */
#define NGX_HTTP_GW_AUTH_RESULT_NONE    0
#define NGX_HTTP_GW_AUTH_RESULT_OK      1
#define NGX_HTTP_GW_AUTH_RESULT_FAILED  2
#define NGX_HTTP_GW_AUTH_RESULT_DENIED  3
#define NGX_HTTP_GW_AUTH_RESULT_ERROR   4

#define NGX_HTTP_GW_AUTH_FETCH_JWKS        1
#define NGX_HTTP_GW_AUTH_FETCH_INTROSPECT  2

#define NGX_HTTP_GW_AUTH_OP_EQ          1
#define NGX_HTTP_GW_AUTH_OP_NE          2
#define NGX_HTTP_GW_AUTH_OP_IN          3
#define NGX_HTTP_GW_AUTH_OP_HAS         4
#define NGX_HTTP_GW_AUTH_OP_GT          5
#define NGX_HTTP_GW_AUTH_OP_LT          6
#define NGX_HTTP_GW_AUTH_OP_EXISTS      7
#define NGX_HTTP_GW_AUTH_OP_MATCH       8


typedef struct {
    ngx_str_t                   name;
    ngx_uint_t                  family;
    const EVP_MD             *(*md)(void);
    size_t                      ec_len;      /* length of r and of s */
    int                         ec_nid;
} ngx_http_gw_auth_alg_t;


typedef struct {
    ngx_str_t                   kid;         /* empty: any kid */
    ngx_http_gw_auth_alg_t     *alg;
    EVP_PKEY                   *pkey;        /* NULL for HMAC */
    ngx_str_t                   secret;
} ngx_http_gw_auth_key_t;


/* gw_auth_consumer_claim, gw_auth_plan_claim */
typedef struct {
    ngx_str_t                   name;        /* as written; "": unset */
    ngx_array_t                 path;        /* ngx_str_t, name split */
} ngx_http_gw_auth_claim_name_t;


typedef struct {
    ngx_str_t                   path;        /* "a.b.c" as written */
    ngx_array_t                 elts;        /* ngx_str_t, the path split */
    ngx_uint_t                  op;
    ngx_array_t                 values;      /* ngx_str_t */
    ngx_regex_t                *regex;
} ngx_http_gw_auth_claim_rule_t;


typedef struct {
    u_char                      hash[NGX_HTTP_GW_AUTH_HASH_LEN];
    ngx_str_t                   consumer;
    ngx_str_t                   plan;
    ngx_str_t                   scopes;      /* space-separated */
    time_t                      expires;     /* 0: never */
} ngx_http_gw_auth_apikey_t;


typedef struct {
    ngx_array_t                 keys;        /* sorted by hash */
    ngx_str_t                   file;
} ngx_http_gw_auth_apikeys_t;


typedef struct {
    ngx_rbtree_t                rbtree;
    ngx_rbtree_node_t           sentinel;
    ngx_queue_t                 queue;       /* LRU, most recent first */
} ngx_http_gw_auth_cache_sh_t;


typedef struct {
    ngx_str_t                   data;
    time_t                      expires;
    time_t                      aux;
} ngx_http_gw_auth_blob_t;


typedef struct {
    ngx_http_gw_auth_cache_sh_t  *sh;
    ngx_slab_pool_t              *shpool;
} ngx_http_gw_auth_cache_t;


typedef struct {
    ngx_str_t                   uri;
    time_t                      refresh;
    u_char                      id[NGX_HTTP_GW_AUTH_HASH_LEN];
    ngx_pool_t                 *pool;        /* this worker's parsed keys */
    ngx_array_t                *keys;
    time_t                      version;     /* of the parsed keys */
    time_t                      expires;     /* of the parsed keys */
    time_t                      refetched;   /* this worker's last forced */
    u_char                      fp[NGX_HTTP_GW_AUTH_HASH_LEN];
} ngx_http_gw_auth_jwks_url_t;


typedef struct {
    ngx_str_t                   uri;
    time_t                      cache;
    time_t                      inactive;
} ngx_http_gw_auth_introspect_t;


typedef struct ngx_http_gw_auth_local_slot_s  ngx_http_gw_auth_local_slot_t;

typedef struct {
    ngx_http_gw_auth_local_slot_t  *slots;
    ngx_uint_t                  mask;
} ngx_http_gw_auth_local_t;


typedef struct {
    ngx_shm_zone_t             *zone;
    ngx_uint_t                  local_slots; /* per worker, a power of 2 */
    ngx_http_gw_auth_local_t   *local;       /* this worker's, or NULL */
    EVP_MD                     *sha256;      /* fetched once */
    EVP_MD_CTX                 *md;          /* reused by the token hash */
    ngx_uint_t                  jwt;         /* some location has keys */
} ngx_http_gw_auth_main_conf_t;


typedef struct {
    ngx_uint_t                  methods;
    ngx_array_t                *keys;        /* ngx_http_gw_auth_key_t */
    u_char                      keys_fp[NGX_HTTP_GW_AUTH_HASH_LEN];
    u_char                      policy_fp[NGX_HTTP_GW_AUTH_HASH_LEN];
    EVP_MD_CTX                 *hash_prefix; /* the fixed start, hashed */
    u_char                      local_fp[NGX_HTTP_GW_AUTH_HASH_LEN];
    ngx_http_gw_auth_jwks_url_t    *jwks_url;
    ngx_http_gw_auth_introspect_t  *introspect;
    ngx_uint_t                  algs;        /* bit per alg; 0: the keys' */
    ngx_http_complex_value_t   *token;
    ngx_array_t                *issuers;     /* ngx_str_t */
    ngx_array_t                *audiences;   /* ngx_str_t */
    time_t                      leeway;
    ngx_flag_t                  require_exp;
    time_t                      cache_ttl;   /* 0: verified-token cache off */
    size_t                      max_size;
    ngx_uint_t                  max_depth;
    ngx_array_t                *claims;      /* rules */
    ngx_array_t                *scopes;      /* ngx_str_t */
    ngx_http_gw_auth_claim_name_t  consumer_claim;
    ngx_http_gw_auth_claim_name_t  plan_claim;
    ngx_str_t                   realm;
    ngx_http_gw_auth_apikeys_t *apikeys;
    ngx_str_t                   apikey_header;
    ngx_str_t                   apikey_query;
} ngx_http_gw_auth_loc_conf_t;


/* a decoded, not yet trusted, JWS compact token */
typedef struct {
    ngx_str_t                   header_b64;
    ngx_str_t                   payload_b64;
    ngx_str_t                   header_json;
    ngx_str_t                   payload_json;
    ngx_str_t                   signing_input;
    ngx_str_t                   signature;
    ngx_str_t                   signature_b64;
    json_t                     *header;
    json_t                     *payload;
} ngx_http_gw_jwt_t;


typedef struct {
    unsigned                    done:1;
    unsigned                    pending:1;   /* waits for a subrequest */
    unsigned                    cache:2;     /* 0, 1: MISS, 2: HIT */
    unsigned                    fetching:1;
    unsigned                    fetch_done:1;
    unsigned                    jwks_fetched:1;
    unsigned                    jwks_forced:1;
    ngx_uint_t                  fetch_kind;
    ngx_uint_t                  fetch_status;
    ngx_str_t                   fetch_body;
    ngx_uint_t                  result;
    ngx_uint_t                  method;
    ngx_str_t                   error;       /* error_description */
    ngx_str_t                   consumer;
    ngx_str_t                   plan;
    ngx_str_t                   scopes;
    ngx_str_t                   missing_scope;
    json_t                     *header;      /* parsed on first use */
    json_t                     *payload;
    ngx_str_t                   header_json; /* decoded on first use */
    ngx_str_t                   payload_json;
    ngx_str_t                   header_b64;
    ngx_str_t                   payload_b64;
    ngx_uint_t                  problem_status; /* satisfy any: nginx's
                                                   page for it is ours */
    ngx_str_t                   problem_body;
    unsigned                    replace:1;
} ngx_http_gw_auth_ctx_t;


extern ngx_module_t  ngx_http_gw_auth_module;
extern ngx_http_gw_auth_alg_t  ngx_http_gw_auth_algs[];


/* ngx_http_gw_auth_jwt.c: parsers and checks of untrusted tokens */
ngx_http_gw_auth_alg_t *ngx_http_gw_auth_alg_by_name(u_char *name,
    size_t len);
ngx_uint_t ngx_http_gw_auth_alg_index(ngx_http_gw_auth_alg_t *alg);
ngx_int_t ngx_http_gw_jwt_json_depth(u_char *p, size_t len,
    ngx_uint_t max);
ngx_int_t ngx_http_gw_jwt_split(ngx_pool_t *pool, u_char *p, size_t len,
    size_t max_size, ngx_http_gw_jwt_t *jwt, char **err);
ngx_int_t ngx_http_gw_jwt_decode_parts(ngx_pool_t *pool,
    ngx_http_gw_jwt_t *jwt, char **err);
ngx_int_t ngx_http_gw_jwt_parse_header(ngx_http_gw_jwt_t *jwt,
    ngx_uint_t max_depth, char **err);
ngx_int_t ngx_http_gw_jwt_parse_payload(ngx_http_gw_jwt_t *jwt,
    ngx_uint_t max_depth, char **err);
ngx_int_t ngx_http_gw_jwt_decode_signature(ngx_pool_t *pool,
    ngx_http_gw_jwt_t *jwt, char **err);
ngx_int_t ngx_http_gw_jwt_decode(ngx_pool_t *pool, u_char *p, size_t len,
    size_t max_size, ngx_uint_t max_depth, ngx_http_gw_jwt_t *jwt,
    char **err);
void ngx_http_gw_jwt_free(ngx_http_gw_jwt_t *jwt);
ngx_int_t ngx_http_gw_jwt_verify(ngx_http_gw_auth_key_t *key,
    ngx_http_gw_jwt_t *jwt);
ngx_int_t ngx_http_gw_jwt_b64url_decode(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_str_t *out);
json_t *ngx_http_gw_jwt_lookup(json_t *obj, ngx_array_t *path);
ngx_int_t ngx_http_gw_jwt_check_claims(ngx_http_gw_auth_loc_conf_t *alcf,
    json_t *payload, time_t now, ngx_uint_t require_exp, ngx_pool_t *pool,
    ngx_str_t *err);
ngx_int_t ngx_http_gw_jwt_json_string(ngx_pool_t *pool, json_t *v,
    ngx_str_t *out);
ngx_int_t ngx_http_gw_auth_parse_number(ngx_str_t *s, double *n);
ngx_int_t ngx_http_gw_jwt_scopes(ngx_pool_t *pool, json_t *payload,
    ngx_str_t *out);

/* ngx_http_gw_auth_keys.c: keys parsed at configuration time */
char *ngx_http_gw_auth_key_pem(ngx_conf_t *cf, ngx_http_gw_auth_key_t *key,
    ngx_str_t *file);
ngx_int_t ngx_http_gw_auth_read_secret(ngx_conf_t *cf, ngx_str_t *name);
char *ngx_http_gw_auth_jwks_file(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *file);
ngx_int_t ngx_http_gw_auth_jwks_parse(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_array_t *keys, ngx_str_t *err);
ngx_int_t ngx_http_gw_auth_key_fingerprint(ngx_http_gw_auth_key_t *key,
    u_char *fp);

/* ngx_http_gw_auth_cache.c: the verified-token cache */
ngx_int_t ngx_http_gw_auth_cache_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
ngx_int_t ngx_http_gw_auth_cache_get_blob(ngx_shm_zone_t *zone, u_char *hash,
    ngx_pool_t *pool, ngx_http_gw_auth_blob_t *blob);
ngx_int_t ngx_http_gw_auth_cache_put_blob(ngx_shm_zone_t *zone, u_char *hash,
    ngx_http_gw_auth_blob_t *blob);
ngx_int_t ngx_http_gw_auth_cache_claim_aux(ngx_shm_zone_t *zone, u_char *hash,
    time_t now, time_t interval);

/* ngx_http_gw_auth_local.c: the worker's front of the token cache */
ngx_int_t ngx_http_gw_auth_local_init(ngx_cycle_t *cycle,
    ngx_http_gw_auth_main_conf_t *amcf);
ngx_int_t ngx_http_gw_auth_local_get(ngx_http_gw_auth_local_t *local,
    u_char *policy, u_char *keys, ngx_str_t *token, time_t now,
    ngx_pool_t *pool, ngx_str_t *identity);
void ngx_http_gw_auth_local_put(ngx_http_gw_auth_local_t *local,
    u_char *policy, u_char *keys, ngx_str_t *token, time_t expires,
    ngx_str_t *identity);

/* ngx_http_gw_auth_satisfy.c: the problem body under "satisfy any" */
ngx_int_t ngx_http_gw_auth_satisfy_init(ngx_conf_t *cf);
ngx_int_t ngx_http_gw_auth_satisfy_mark(ngx_http_request_t *r,
    ngx_http_gw_auth_ctx_t *ctx, ngx_http_gw_problem_t *problem);

/* ngx_http_gw_auth_apikey.c */
char *ngx_http_gw_auth_apikey_load(ngx_conf_t *cf,
    ngx_http_gw_auth_apikeys_t *keys);
ngx_int_t ngx_http_gw_auth_apikey_parse_line(ngx_pool_t *pool, u_char *p,
    size_t len, ngx_http_gw_auth_apikey_t *key, ngx_str_t *err);
ngx_http_gw_auth_apikey_t *ngx_http_gw_auth_apikey_find(
    ngx_http_gw_auth_apikeys_t *keys, ngx_str_t *presented,
    const EVP_MD *sha256);

/* ngx_http_gw_auth_module.c */
ngx_http_gw_auth_ctx_t *ngx_http_gw_auth_authenticate(ngx_http_request_t *r,
    ngx_uint_t can_wait);
ngx_int_t ngx_http_gw_auth_identity(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx);
ngx_int_t ngx_http_gw_auth_ctx_json(ngx_pool_t *pool,
    ngx_http_gw_auth_ctx_t *ctx);

/* ngx_http_gw_auth_remote.c: subrequests to the identity provider */
ngx_int_t ngx_http_gw_auth_jwks_keys(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_uint_t can_wait, ngx_uint_t force);
ngx_int_t ngx_http_gw_auth_introspect(ngx_http_request_t *r,
    ngx_http_gw_auth_loc_conf_t *alcf, ngx_http_gw_auth_ctx_t *ctx,
    ngx_str_t *token, ngx_uint_t can_wait);

/* ngx_http_gw_auth_var.c */
ngx_int_t ngx_http_gw_auth_add_variables(ngx_conf_t *cf);


#endif /* _NGX_HTTP_GW_AUTH_H_INCLUDED_ */

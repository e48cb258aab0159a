
/*
 * Copyright (C) ngx_gw authors
 *
 * JWS compact tokens: decoding, signature verification and claim checks.
 * Everything here takes (pointer, length) or parsed JSON and no request,
 * so that a fuzzer can call it directly.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include "ngx_http_gw_auth.h"


static ngx_int_t ngx_http_gw_jwt_verify_hmac(ngx_http_gw_auth_key_t *key,
    ngx_http_gw_jwt_t *jwt);
static ngx_int_t ngx_http_gw_jwt_verify_pkey(ngx_http_gw_auth_key_t *key,
    ngx_http_gw_jwt_t *jwt);
static u_char *ngx_http_gw_jwt_ec_der(ngx_http_gw_auth_key_t *key,
    ngx_str_t *sig, int *len);
static json_t *ngx_http_gw_jwt_parse_json(ngx_str_t *s, char **err);
static ngx_int_t ngx_http_gw_jwt_check_time(json_t *payload, char *name,
    time_t now, time_t leeway, ngx_uint_t required, ngx_str_t *err);
static ngx_int_t ngx_http_gw_jwt_string_in(json_t *v, ngx_array_t *list);
static ngx_int_t ngx_http_gw_jwt_check_rule(
    ngx_http_gw_auth_claim_rule_t *rule, json_t *payload, ngx_pool_t *pool);
static ngx_int_t ngx_http_gw_jwt_value_eq(json_t *v, ngx_str_t *value);
static ngx_int_t ngx_http_gw_jwt_value_has(json_t *v, ngx_str_t *value);


ngx_http_gw_auth_alg_t  ngx_http_gw_auth_algs[] = {
    { ngx_string("HS256"), NGX_HTTP_GW_AUTH_HMAC, EVP_sha256, 0, 0 },
    { ngx_string("HS384"), NGX_HTTP_GW_AUTH_HMAC, EVP_sha384, 0, 0 },
    { ngx_string("HS512"), NGX_HTTP_GW_AUTH_HMAC, EVP_sha512, 0, 0 },
    { ngx_string("RS256"), NGX_HTTP_GW_AUTH_RSA, EVP_sha256, 0, 0 },
    { ngx_string("RS384"), NGX_HTTP_GW_AUTH_RSA, EVP_sha384, 0, 0 },
    { ngx_string("RS512"), NGX_HTTP_GW_AUTH_RSA, EVP_sha512, 0, 0 },
    { ngx_string("PS256"), NGX_HTTP_GW_AUTH_PSS, EVP_sha256, 0, 0 },
    { ngx_string("PS384"), NGX_HTTP_GW_AUTH_PSS, EVP_sha384, 0, 0 },
    { ngx_string("PS512"), NGX_HTTP_GW_AUTH_PSS, EVP_sha512, 0, 0 },
    { ngx_string("ES256"), NGX_HTTP_GW_AUTH_EC, EVP_sha256, 32,
      NID_X9_62_prime256v1 },
    { ngx_string("ES384"), NGX_HTTP_GW_AUTH_EC, EVP_sha384, 48,
      NID_secp384r1 },
    { ngx_string("ES512"), NGX_HTTP_GW_AUTH_EC, EVP_sha512, 66,
      NID_secp521r1 },
    { ngx_string("EdDSA"), NGX_HTTP_GW_AUTH_EDDSA, NULL, 0, 0 },
    { ngx_null_string, 0, NULL, 0, 0 }
};


ngx_http_gw_auth_alg_t *
ngx_http_gw_auth_alg_by_name(u_char *name, size_t len)
{
    ngx_http_gw_auth_alg_t  *alg;

    /* case-sensitive, as RFC 7515 says; "none" is never in the table */

    for (alg = ngx_http_gw_auth_algs; alg->name.len; alg++) {
        if (alg->name.len == len
            && ngx_strncmp(alg->name.data, name, len) == 0)
        {
            return alg;
        }
    }

    return NULL;
}


ngx_uint_t
ngx_http_gw_auth_alg_index(ngx_http_gw_auth_alg_t *alg)
{
    return alg - ngx_http_gw_auth_algs;
}


ngx_int_t
ngx_http_gw_jwt_b64url_decode(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_str_t *out)
{
    ngx_str_t  src;

    /*
     * Unpadded base64url only (RFC 7515, section 2).  nginx's decoder
     * rejects characters outside the alphabet but stops quietly at "=".
     */

    if (len % 4 == 1 || ngx_strlchr(p, p + len, '=') != NULL) {
        return NGX_ERROR;
    }

    out->data = ngx_pnalloc(pool, ngx_base64_decoded_length(len) + 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    src.data = p;
    src.len = len;

    if (ngx_decode_base64url(out, &src) != NGX_OK) {
        return NGX_ERROR;
    }

    out->data[out->len] = '\0';

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_json_depth(u_char *p, size_t len, ngx_uint_t max)
{
    u_char      *last;
    ngx_uint_t   depth, in_string;

    /* nesting depth of a JSON text, without trusting it to be valid */

    depth = 0;
    in_string = 0;

    for (last = p + len; p < last; p++) {

        if (in_string) {
            if (*p == '\\') {
                p++;

            } else if (*p == '"') {
                in_string = 0;
            }

            continue;
        }

        switch (*p) {

        case '"':
            in_string = 1;
            break;

        case '{':
        case '[':
            if (++depth > max) {
                return NGX_DECLINED;
            }
            break;

        case '}':
        case ']':
            if (depth) {
                depth--;
            }
            break;
        }
    }

    return NGX_OK;
}


static json_t *
ngx_http_gw_jwt_parse_json(ngx_str_t *s, char **err)
{
    json_t        *json;
    json_error_t   error;

    json = json_loadb((char *) s->data, s->len,
                      JSON_REJECT_DUPLICATES, &error);

    if (json == NULL) {
        *err = (json_error_code(&error) == json_error_duplicate_key)
               ? "duplicate claim" : "invalid JSON";
        return NULL;
    }

    if (!json_is_object(json)) {
        json_decref(json);
        *err = "invalid JSON";
        return NULL;
    }

    return json;
}


ngx_int_t
ngx_http_gw_jwt_split(ngx_pool_t *pool, u_char *p, size_t len,
    size_t max_size, ngx_http_gw_jwt_t *jwt, char **err)
{
    u_char  *dot1, *dot2, *last;

    /*
     * Only split: a token found in the verified-token cache never needs
     * its parts decoded (ngx_http_gw_jwt_decode_parts()).
     */

    ngx_memzero(jwt, sizeof(ngx_http_gw_jwt_t));

    if (len > max_size) {
        *err = "token too large";
        return NGX_ERROR;
    }

    last = p + len;

    /* memchr(): libc's is vectorized, ngx_strlchr() goes byte by byte */

    dot1 = memchr(p, '.', len);
    if (dot1 == NULL) {
        *err = "malformed token";
        return NGX_ERROR;
    }

    dot2 = memchr(dot1 + 1, '.', last - dot1 - 1);
    if (dot2 == NULL || memchr(dot2 + 1, '.', last - dot2 - 1) != NULL) {
        *err = "malformed token";
        return NGX_ERROR;
    }

    if (dot1 == p || dot2 == dot1 + 1) {
        *err = "malformed token";
        return NGX_ERROR;
    }

    jwt->signing_input.data = p;
    jwt->signing_input.len = dot2 - p;

    jwt->signature_b64.data = dot2 + 1;
    jwt->signature_b64.len = last - dot2 - 1;

    jwt->header_b64.data = p;
    jwt->header_b64.len = dot1 - p;

    jwt->payload_b64.data = dot1 + 1;
    jwt->payload_b64.len = dot2 - dot1 - 1;

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_decode_parts(ngx_pool_t *pool, ngx_http_gw_jwt_t *jwt,
    char **err)
{
    if (ngx_http_gw_jwt_b64url_decode(pool, jwt->header_b64.data,
                                      jwt->header_b64.len, &jwt->header_json)
        != NGX_OK
        || ngx_http_gw_jwt_b64url_decode(pool, jwt->payload_b64.data,
                                         jwt->payload_b64.len,
                                         &jwt->payload_json)
           != NGX_OK)
    {
        *err = "invalid base64url";
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_parse_header(ngx_http_gw_jwt_t *jwt, ngx_uint_t max_depth,
    char **err)
{
    if (ngx_http_gw_jwt_json_depth(jwt->header_json.data,
                                   jwt->header_json.len, max_depth)
        != NGX_OK)
    {
        *err = "JSON nested too deeply";
        return NGX_ERROR;
    }

    jwt->header = ngx_http_gw_jwt_parse_json(&jwt->header_json, err);
    if (jwt->header == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_parse_payload(ngx_http_gw_jwt_t *jwt, ngx_uint_t max_depth,
    char **err)
{
    if (ngx_http_gw_jwt_json_depth(jwt->payload_json.data,
                                   jwt->payload_json.len, max_depth)
        != NGX_OK)
    {
        *err = "JSON nested too deeply";
        return NGX_ERROR;
    }

    jwt->payload = ngx_http_gw_jwt_parse_json(&jwt->payload_json, err);
    if (jwt->payload == NULL) {
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_decode_signature(ngx_pool_t *pool, ngx_http_gw_jwt_t *jwt,
    char **err)
{
    if (ngx_http_gw_jwt_b64url_decode(pool, jwt->signature_b64.data,
                                      jwt->signature_b64.len,
                                      &jwt->signature)
        != NGX_OK)
    {
        *err = "invalid base64url";
        return NGX_ERROR;
    }

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_decode(ngx_pool_t *pool, u_char *p, size_t len,
    size_t max_size, ngx_uint_t max_depth, ngx_http_gw_jwt_t *jwt, char **err)
{
    /* the whole of a token, as a fuzzer would want it */

    if (ngx_http_gw_jwt_split(pool, p, len, max_size, jwt, err) != NGX_OK
        || ngx_http_gw_jwt_decode_parts(pool, jwt, err) != NGX_OK
        || ngx_http_gw_jwt_decode_signature(pool, jwt, err) != NGX_OK
        || ngx_http_gw_jwt_parse_header(jwt, max_depth, err) != NGX_OK
        || ngx_http_gw_jwt_parse_payload(jwt, max_depth, err) != NGX_OK)
    {
        ngx_http_gw_jwt_free(jwt);
        return NGX_ERROR;
    }

    return NGX_OK;
}


void
ngx_http_gw_jwt_free(ngx_http_gw_jwt_t *jwt)
{
    if (jwt->header) {
        json_decref(jwt->header);
        jwt->header = NULL;
    }

    if (jwt->payload) {
        json_decref(jwt->payload);
        jwt->payload = NULL;
    }
}


ngx_int_t
ngx_http_gw_jwt_verify(ngx_http_gw_auth_key_t *key, ngx_http_gw_jwt_t *jwt)
{
    if (jwt->signature.len == 0) {
        return NGX_DECLINED;
    }

    if (key->alg->family == NGX_HTTP_GW_AUTH_HMAC) {
        return ngx_http_gw_jwt_verify_hmac(key, jwt);
    }

    return ngx_http_gw_jwt_verify_pkey(key, jwt);
}


static ngx_int_t
ngx_http_gw_jwt_verify_hmac(ngx_http_gw_auth_key_t *key,
    ngx_http_gw_jwt_t *jwt)
{
    u_char        mac[EVP_MAX_MD_SIZE];
    unsigned int  len;

    if (HMAC(key->alg->md(), key->secret.data, (int) key->secret.len,
             jwt->signing_input.data, jwt->signing_input.len, mac, &len)
        == NULL)
    {
        return NGX_ERROR;
    }

    if (jwt->signature.len != len
        || CRYPTO_memcmp(mac, jwt->signature.data, len) != 0)
    {
        return NGX_DECLINED;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_jwt_verify_pkey(ngx_http_gw_auth_key_t *key,
    ngx_http_gw_jwt_t *jwt)
{
    int            rc, siglen;
    u_char        *sig, *der;
    const EVP_MD  *md;
    EVP_MD_CTX    *mctx;
    EVP_PKEY_CTX  *pctx;

    der = NULL;
    sig = jwt->signature.data;
    siglen = (int) jwt->signature.len;

    if (key->alg->family == NGX_HTTP_GW_AUTH_EC) {
        der = ngx_http_gw_jwt_ec_der(key, &jwt->signature, &siglen);
        if (der == NULL) {
            return NGX_DECLINED;
        }

        sig = der;
    }

    mctx = EVP_MD_CTX_new();
    if (mctx == NULL) {
        OPENSSL_free(der);
        return NGX_ERROR;
    }

    md = key->alg->md ? key->alg->md() : NULL;
    pctx = NULL;

    rc = EVP_DigestVerifyInit(mctx, &pctx, md, NULL, key->pkey);

    if (rc == 1 && key->alg->family == NGX_HTTP_GW_AUTH_PSS) {
        /* RFC 7518, section 3.5: MGF1 with the same hash, salt = hash */
        if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1
            || EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx,
                                                RSA_PSS_SALTLEN_DIGEST) != 1
            || EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)
        {
            rc = 0;
        }
    }

    if (rc == 1) {
        rc = EVP_DigestVerify(mctx, sig, siglen, jwt->signing_input.data,
                              jwt->signing_input.len);
    }

    EVP_MD_CTX_free(mctx);
    OPENSSL_free(der);

    /* a bad signature leaves errors on OpenSSL's queue */
    ERR_clear_error();

    return (rc == 1) ? NGX_OK : NGX_DECLINED;
}


static u_char *
ngx_http_gw_jwt_ec_der(ngx_http_gw_auth_key_t *key, ngx_str_t *sig,
    int *len)
{
    u_char     *der;
    BIGNUM     *r, *s;
    ECDSA_SIG  *esig;

    /* JOSE signs with r || s of fixed length; OpenSSL wants DER */

    if (sig->len != 2 * key->alg->ec_len) {
        return NULL;
    }

    esig = ECDSA_SIG_new();
    if (esig == NULL) {
        return NULL;
    }

    r = BN_bin2bn(sig->data, (int) key->alg->ec_len, NULL);
    s = BN_bin2bn(sig->data + key->alg->ec_len, (int) key->alg->ec_len,
                  NULL);

    if (r == NULL || s == NULL || ECDSA_SIG_set0(esig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(esig);
        return NULL;
    }

    der = NULL;
    *len = i2d_ECDSA_SIG(esig, &der);

    ECDSA_SIG_free(esig);

    if (*len <= 0) {
        return NULL;
    }

    return der;
}


json_t *
ngx_http_gw_jwt_lookup(json_t *obj, ngx_array_t *path)
{
    u_char      buf[256];
    ngx_str_t  *elts;
    ngx_uint_t  i;

    elts = path->elts;

    for (i = 0; i < path->nelts; i++) {

        if (!json_is_object(obj) || elts[i].len >= sizeof(buf)) {
            return NULL;
        }

        ngx_memcpy(buf, elts[i].data, elts[i].len);
        buf[elts[i].len] = '\0';

        obj = json_object_get(obj, (char *) buf);
        if (obj == NULL) {
            return NULL;
        }
    }

    return obj;
}


ngx_int_t
ngx_http_gw_jwt_json_string(ngx_pool_t *pool, json_t *v, ngx_str_t *out)
{
    char    *s;
    size_t   len;

    /* strings as they are; everything else as compact JSON */

    if (json_is_string(v)) {
        len = json_string_length(v);

        out->data = ngx_pnalloc(pool, len);
        if (out->data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(out->data, json_string_value(v), len);
        out->len = len;

        return NGX_OK;
    }

    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(s);

    out->data = ngx_pnalloc(pool, len);
    if (out->data == NULL) {
        free(s);
        return NGX_ERROR;
    }

    ngx_memcpy(out->data, s, len);
    out->len = len;

    free(s);

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_jwt_scopes(ngx_pool_t *pool, json_t *payload, ngx_str_t *out)
{
    u_char      *p;
    size_t       len;
    json_t      *scp, *v;
    ngx_uint_t   i, n;

    /* "scope" (RFC 8693, space-separated) or "scp" (array or string) */

    ngx_str_null(out);

    v = json_object_get(payload, "scope");
    if (v == NULL) {
        v = json_object_get(payload, "scp");
    }

    if (v == NULL) {
        return NGX_OK;
    }

    if (json_is_string(v)) {
        return ngx_http_gw_jwt_json_string(pool, v, out);
    }

    if (!json_is_array(v)) {
        return NGX_OK;
    }

    scp = v;
    n = json_array_size(scp);
    len = 0;

    for (i = 0; i < n; i++) {
        v = json_array_get(scp, i);
        if (json_is_string(v)) {
            len += json_string_length(v) + 1;
        }
    }

    if (len == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < n; i++) {
        v = json_array_get(scp, i);
        if (json_is_string(v)) {
            if (p != out->data) {
                *p++ = ' ';
            }

            p = ngx_cpymem(p, json_string_value(v), json_string_length(v));
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_jwt_check_time(json_t *payload, char *name, time_t now,
    time_t leeway, ngx_uint_t required, ngx_str_t *err)
{
    json_t  *v;
    double   t;

    v = json_object_get(payload, name);

    if (v == NULL) {
        if (required) {
            ngx_str_set(err, "missing exp claim");
            return NGX_DECLINED;
        }

        return NGX_OK;
    }

    if (!json_is_number(v)) {
        if (name[0] == 'e') {
            ngx_str_set(err, "invalid exp claim");

        } else if (name[0] == 'n') {
            ngx_str_set(err, "invalid nbf claim");

        } else {
            ngx_str_set(err, "invalid iat claim");
        }

        return NGX_DECLINED;
    }

    t = json_number_value(v);

    if (name[0] == 'e') {
        if ((double) now >= t + (double) leeway) {
            ngx_str_set(err, "token expired");
            return NGX_DECLINED;
        }

    } else if (name[0] == 'n') {
        if (t > (double) now + (double) leeway) {
            ngx_str_set(err, "token not yet valid");
            return NGX_DECLINED;
        }

    } else {
        if (t > (double) now + (double) leeway) {
            ngx_str_set(err, "token issued in the future");
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_jwt_string_in(json_t *v, ngx_array_t *list)
{
    size_t      len;
    ngx_str_t  *s;
    ngx_uint_t  i;

    if (!json_is_string(v)) {
        return 0;
    }

    len = json_string_length(v);
    s = list->elts;

    for (i = 0; i < list->nelts; i++) {
        if (s[i].len == len
            && ngx_memcmp(s[i].data, json_string_value(v), len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


ngx_int_t
ngx_http_gw_jwt_check_claims(ngx_http_gw_auth_loc_conf_t *alcf,
    json_t *payload, time_t now, ngx_uint_t require_exp, ngx_pool_t *pool,
    ngx_str_t *err)
{
    json_t                         *v;
    ngx_uint_t                      i, n, found;
    ngx_http_gw_auth_claim_rule_t  *rule;

    /* the built-in checks always run; claim rules only add to them */

    if (ngx_http_gw_jwt_check_time(payload, "exp", now, alcf->leeway,
                                   require_exp, err)
        != NGX_OK
        || ngx_http_gw_jwt_check_time(payload, "nbf", now, alcf->leeway, 0,
                                      err)
           != NGX_OK
        || ngx_http_gw_jwt_check_time(payload, "iat", now, alcf->leeway, 0,
                                      err)
           != NGX_OK)
    {
        return NGX_DECLINED;
    }

    if (alcf->issuers) {
        v = json_object_get(payload, "iss");

        if (!ngx_http_gw_jwt_string_in(v, alcf->issuers)) {
            ngx_str_set(err, "wrong issuer");
            return NGX_DECLINED;
        }
    }

    if (alcf->audiences) {
        v = json_object_get(payload, "aud");
        found = 0;

        if (json_is_array(v)) {
            n = json_array_size(v);

            for (i = 0; i < n && !found; i++) {
                found = ngx_http_gw_jwt_string_in(json_array_get(v, i),
                                                  alcf->audiences);
            }

        } else {
            found = ngx_http_gw_jwt_string_in(v, alcf->audiences);
        }

        if (!found) {
            ngx_str_set(err, "wrong audience");
            return NGX_DECLINED;
        }
    }

    if (alcf->claims == NULL) {
        return NGX_OK;
    }

    rule = alcf->claims->elts;

    for (i = 0; i < alcf->claims->nelts; i++) {
        if (ngx_http_gw_jwt_check_rule(&rule[i], payload, pool) != NGX_OK) {
            err->len = sizeof("claim  check failed") - 1 + rule[i].path.len;
            err->data = ngx_pnalloc(pool, err->len);
            if (err->data == NULL) {
                return NGX_ERROR;
            }

            ngx_sprintf(err->data, "claim %V check failed", &rule[i].path);
            return NGX_DECLINED;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_jwt_check_rule(ngx_http_gw_auth_claim_rule_t *rule,
    json_t *payload, ngx_pool_t *pool)
{
    double      a, b;
    json_t     *v;
    ngx_int_t   rc;
    ngx_str_t  *values, s;
    ngx_uint_t  i;

    v = ngx_http_gw_jwt_lookup(payload, &rule->elts);

    /* every operator but "exists" needs the claim; a missing one fails */

    if (v == NULL || json_is_null(v)) {
        return NGX_DECLINED;
    }

    values = rule->values.elts;

    switch (rule->op) {

    case NGX_HTTP_GW_AUTH_OP_EXISTS:
        return NGX_OK;

    case NGX_HTTP_GW_AUTH_OP_EQ:
        return ngx_http_gw_jwt_value_eq(v, &values[0]) ? NGX_OK
                                                       : NGX_DECLINED;

    case NGX_HTTP_GW_AUTH_OP_NE:
        return ngx_http_gw_jwt_value_eq(v, &values[0]) ? NGX_DECLINED
                                                       : NGX_OK;

    case NGX_HTTP_GW_AUTH_OP_IN:
        for (i = 0; i < rule->values.nelts; i++) {
            if (ngx_http_gw_jwt_value_eq(v, &values[i])) {
                return NGX_OK;
            }
        }

        return NGX_DECLINED;

    case NGX_HTTP_GW_AUTH_OP_HAS:
        for (i = 0; i < rule->values.nelts; i++) {
            if (!ngx_http_gw_jwt_value_has(v, &values[i])) {
                return NGX_DECLINED;
            }
        }

        return NGX_OK;

    case NGX_HTTP_GW_AUTH_OP_GT:
    case NGX_HTTP_GW_AUTH_OP_LT:
        if (!json_is_number(v)
            || ngx_http_gw_auth_parse_number(&values[0], &b) != NGX_OK)
        {
            return NGX_DECLINED;
        }

        a = json_number_value(v);

        if (rule->op == NGX_HTTP_GW_AUTH_OP_GT) {
            return (a > b) ? NGX_OK : NGX_DECLINED;
        }

        return (a < b) ? NGX_OK : NGX_DECLINED;

    default: /* NGX_HTTP_GW_AUTH_OP_MATCH */
        if (!json_is_string(v)) {
            return NGX_DECLINED;
        }

        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);

        rc = ngx_regex_exec(rule->regex, &s, NULL, 0);

        return (rc >= 0) ? NGX_OK : NGX_DECLINED;
    }
}


static ngx_int_t
ngx_http_gw_jwt_value_eq(json_t *v, ngx_str_t *value)
{
    double  n;

    switch (json_typeof(v)) {

    case JSON_STRING:
        return value->len == json_string_length(v)
               && ngx_memcmp(value->data, json_string_value(v), value->len)
                  == 0;

    case JSON_INTEGER:
    case JSON_REAL:
        return ngx_http_gw_auth_parse_number(value, &n) == NGX_OK
               && n == json_number_value(v);

    case JSON_TRUE:
        return value->len == 4 && ngx_strncmp(value->data, "true", 4) == 0;

    case JSON_FALSE:
        return value->len == 5 && ngx_strncmp(value->data, "false", 5) == 0;

    default:
        return 0;
    }
}


static ngx_int_t
ngx_http_gw_jwt_value_has(json_t *v, ngx_str_t *value)
{
    u_char      *p, *last, *start;
    ngx_uint_t   i, n;

    /* an array holding the value, or a space-separated string with it */

    if (json_is_array(v)) {
        n = json_array_size(v);

        for (i = 0; i < n; i++) {
            if (ngx_http_gw_jwt_value_eq(json_array_get(v, i), value)) {
                return 1;
            }
        }

        return 0;
    }

    if (!json_is_string(v)) {
        return 0;
    }

    p = (u_char *) json_string_value(v);
    last = p + json_string_length(v);

    while (p < last) {
        start = p;

        while (p < last && *p != ' ') {
            p++;
        }

        if ((size_t) (p - start) == value->len
            && ngx_memcmp(start, value->data, value->len) == 0)
        {
            return 1;
        }

        p++;
    }

    return 0;
}


ngx_int_t
ngx_http_gw_auth_parse_number(ngx_str_t *s, double *n)
{
    u_char   buf[64];
    char    *end;

    if (s->len == 0 || s->len >= sizeof(buf)) {
        return NGX_ERROR;
    }

    ngx_memcpy(buf, s->data, s->len);
    buf[s->len] = '\0';

    *n = strtod((char *) buf, &end);

    if (end != (char *) buf + s->len) {
        return NGX_ERROR;
    }

    return NGX_OK;
}

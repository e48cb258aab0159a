
/*
 * Copyright (C) ngx_gw authors
 *
 * Verification keys: PEM files, secrets and JWKS documents, parsed once at
 * configuration time.  Each key is bound to exactly one algorithm.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ngx_http_gw_auth.h"


#define NGX_HTTP_GW_AUTH_MAX_KEY_FILE  (1024 * 1024)


static void ngx_http_gw_auth_pkey_cleanup(void *data);
static ngx_int_t ngx_http_gw_auth_pkey_track(ngx_pool_t *pool,
    EVP_PKEY *pkey);
static ngx_int_t ngx_http_gw_auth_key_check(ngx_http_gw_auth_key_t *key,
    ngx_str_t *err);
static ngx_int_t ngx_http_gw_auth_read_file(ngx_conf_t *cf, ngx_pool_t *pool,
    ngx_str_t *name, ngx_str_t *out);
static ngx_int_t ngx_http_gw_auth_jwk(ngx_pool_t *pool, json_t *jwk,
    ngx_http_gw_auth_key_t *key, ngx_str_t *err);
static ngx_int_t ngx_http_gw_auth_jwk_member(ngx_pool_t *pool, json_t *jwk,
    char *name, ngx_str_t *out);
static EVP_PKEY *ngx_http_gw_auth_jwk_rsa(ngx_pool_t *pool, json_t *jwk);
static EVP_PKEY *ngx_http_gw_auth_jwk_ec(ngx_pool_t *pool, json_t *jwk,
    ngx_http_gw_auth_alg_t *alg);


static void
ngx_http_gw_auth_pkey_cleanup(void *data)
{
    EVP_PKEY_free(data);
}


static ngx_int_t
ngx_http_gw_auth_pkey_track(ngx_pool_t *pool, EVP_PKEY *pkey)
{
    ngx_pool_cleanup_t  *cln;

    cln = ngx_pool_cleanup_add(pool, 0);
    if (cln == NULL) {
        EVP_PKEY_free(pkey);
        return NGX_ERROR;
    }

    cln->handler = ngx_http_gw_auth_pkey_cleanup;
    cln->data = pkey;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_read_file(ngx_conf_t *cf, ngx_pool_t *pool, ngx_str_t *name,
    ngx_str_t *out)
{
    ssize_t          n;
    ngx_file_t       file;
    ngx_file_info_t  fi;

    if (ngx_conf_full_name(cf->cycle, name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));

    file.name = *name;
    file.log = cf->log;

    file.fd = ngx_open_file(name->data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", name);
        return NGX_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_fd_info_n " \"%V\" failed", name);
        goto failed;
    }

    if (ngx_file_size(&fi) > NGX_HTTP_GW_AUTH_MAX_KEY_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "key file \"%V\" is too large", name);
        goto failed;
    }

    out->len = (size_t) ngx_file_size(&fi);
    out->data = ngx_pnalloc(pool, out->len + 1);
    if (out->data == NULL) {
        goto failed;
    }

    n = ngx_read_file(&file, out->data, out->len, 0);
    if (n == NGX_ERROR) {
        goto failed;
    }

    if ((size_t) n != out->len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "short read of \"%V\"", name);
        goto failed;
    }

    out->data[out->len] = '\0';

    ngx_close_file(file.fd);

    return NGX_OK;

failed:

    ngx_close_file(file.fd);

    return NGX_ERROR;
}


static ngx_int_t
ngx_http_gw_auth_key_check(ngx_http_gw_auth_key_t *key, ngx_str_t *err)
{
    char        group[64];
    size_t      len;
    const char  *want;

    switch (key->alg->family) {

    case NGX_HTTP_GW_AUTH_HMAC:
        /* RFC 7518, section 3.2: at least as long as the hash */
        if (key->secret.len < (size_t) EVP_MD_get_size(key->alg->md())) {
            ngx_str_set(err, "secret is shorter than the hash of");
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_GW_AUTH_RSA:
    case NGX_HTTP_GW_AUTH_PSS:
        if (!EVP_PKEY_is_a(key->pkey, "RSA")
            && !EVP_PKEY_is_a(key->pkey, "RSA-PSS"))
        {
            ngx_str_set(err, "key is not an RSA key, but is used for");
            return NGX_ERROR;
        }

        if (EVP_PKEY_get_bits(key->pkey) < 2048) {
            ngx_str_set(err, "RSA key is shorter than 2048 bits for");
            return NGX_ERROR;
        }

        return NGX_OK;

    case NGX_HTTP_GW_AUTH_EC:
        want = OBJ_nid2sn(key->alg->ec_nid);

        if (!EVP_PKEY_is_a(key->pkey, "EC")
            || EVP_PKEY_get_utf8_string_param(key->pkey,
                                              OSSL_PKEY_PARAM_GROUP_NAME,
                                              group, sizeof(group), &len)
               != 1
            || ngx_strcmp(group, want) != 0)
        {
            ngx_str_set(err, "key is not an EC key of the curve of");
            return NGX_ERROR;
        }

        return NGX_OK;

    default: /* NGX_HTTP_GW_AUTH_EDDSA */
        if (!EVP_PKEY_is_a(key->pkey, "ED25519")
            && !EVP_PKEY_is_a(key->pkey, "ED448"))
        {
            ngx_str_set(err, "key is not an Ed25519 or Ed448 key for");
            return NGX_ERROR;
        }

        return NGX_OK;
    }
}


ngx_int_t
ngx_http_gw_auth_read_secret(ngx_conf_t *cf, ngx_str_t *name)
{
    ngx_str_t  text;

    if (ngx_http_gw_auth_read_file(cf, cf->pool, name, &text) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the file's last line break is not part of the secret */

    if (text.len && text.data[text.len - 1] == '\n') {
        text.len--;
    }

    if (text.len && text.data[text.len - 1] == '\r') {
        text.len--;
    }

    *name = text;

    return NGX_OK;
}


char *
ngx_http_gw_auth_key_pem(ngx_conf_t *cf, ngx_http_gw_auth_key_t *key,
    ngx_str_t *file)
{
    BIO        *bio;
    X509       *x509;
    EVP_PKEY   *pkey;
    ngx_str_t   pem, err;

    if (ngx_http_gw_auth_read_file(cf, cf->temp_pool, file, &pem) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (key->alg->family == NGX_HTTP_GW_AUTH_HMAC) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs secret= or secret_file=, "
                           "not file=", &key->alg->name);
        return NGX_CONF_ERROR;
    }

    bio = BIO_new_mem_buf(pem.data, (int) pem.len);
    if (bio == NULL) {
        return NGX_CONF_ERROR;
    }

    /* a public key, or a certificate holding one; never a private key */

    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);

    if (pkey == NULL) {
        (void) BIO_reset(bio);

        x509 = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (x509) {
            pkey = X509_get_pubkey(x509);
            X509_free(x509);
        }
    }

    BIO_free(bio);
    ERR_clear_error();

    if (pkey == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no public key or certificate in \"%V\"", file);
        return NGX_CONF_ERROR;
    }

    if (ngx_http_gw_auth_pkey_track(cf->pool, pkey) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    key->pkey = pkey;

    if (ngx_http_gw_auth_key_check(key, &err) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "\"%V\": %V \"%V\"",
                           file, &err, &key->alg->name);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


char *
ngx_http_gw_auth_jwks_file(ngx_conf_t *cf, ngx_array_t *keys,
    ngx_str_t *file)
{
    ngx_str_t  text, err;

    if (ngx_http_gw_auth_read_file(cf, cf->temp_pool, file, &text) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_gw_auth_jwks_parse(cf->pool, text.data, text.len, keys,
                                    &err)
        != NGX_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid JWKS \"%V\": %V",
                           file, &err);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


ngx_int_t
ngx_http_gw_auth_jwks_parse(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_array_t *keys, ngx_str_t *err)
{
    json_t                  *jwks, *list, *jwk;
    ngx_int_t                rc;
    ngx_uint_t               i, n, added;
    json_error_t             error;
    ngx_http_gw_auth_key_t   key, *k;

    if (ngx_http_gw_jwt_json_depth(p, len, 16) != NGX_OK) {
        ngx_str_set(err, "JSON nested too deeply");
        return NGX_ERROR;
    }

    jwks = json_loadb((char *) p, len, JSON_REJECT_DUPLICATES, &error);
    if (jwks == NULL) {
        ngx_str_set(err, "not valid JSON");
        return NGX_ERROR;
    }

    list = json_object_get(jwks, "keys");
    if (!json_is_array(list)) {
        json_decref(jwks);
        ngx_str_set(err, "no \"keys\" array");
        return NGX_ERROR;
    }

    n = json_array_size(list);
    added = 0;

    for (i = 0; i < n; i++) {
        jwk = json_array_get(list, i);

        rc = ngx_http_gw_auth_jwk(pool, jwk, &key, err);

        if (rc == NGX_DECLINED) {
            continue;
        }

        if (rc != NGX_OK) {
            json_decref(jwks);
            return NGX_ERROR;
        }

        k = ngx_array_push(keys);
        if (k == NULL) {
            json_decref(jwks);
            return NGX_ERROR;
        }

        *k = key;
        added++;
    }

    json_decref(jwks);

    if (added == 0) {
        ngx_str_set(err, "no signature keys");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_jwk_member(ngx_pool_t *pool, json_t *jwk, char *name,
    ngx_str_t *out)
{
    json_t  *v;

    v = json_object_get(jwk, name);
    if (!json_is_string(v)) {
        return NGX_DECLINED;
    }

    return ngx_http_gw_jwt_b64url_decode(pool, (u_char *) json_string_value(v),
                                         json_string_length(v), out);
}


static ngx_int_t
ngx_http_gw_auth_jwk(ngx_pool_t *pool, json_t *jwk,
    ngx_http_gw_auth_key_t *key, ngx_str_t *err)
{
    json_t                  *v;
    ngx_str_t                kty, crv, check;
    ngx_http_gw_auth_alg_t  *alg;

    ngx_memzero(key, sizeof(ngx_http_gw_auth_key_t));

    if (!json_is_object(jwk)) {
        ngx_str_set(err, "a key is not an object");
        return NGX_ERROR;
    }

    /* encryption keys share JWKS documents with signature keys */

    v = json_object_get(jwk, "use");
    if (v && !(json_is_string(v) && ngx_strcmp(json_string_value(v), "sig")
                                    == 0))
    {
        return NGX_DECLINED;
    }

    v = json_object_get(jwk, "kty");
    if (!json_is_string(v)) {
        ngx_str_set(err, "a key has no \"kty\"");
        return NGX_ERROR;
    }

    kty.data = (u_char *) json_string_value(v);
    kty.len = json_string_length(v);

    v = json_object_get(jwk, "crv");
    crv.data = (u_char *) (json_is_string(v) ? json_string_value(v) : "");
    crv.len = json_is_string(v) ? json_string_length(v) : 0;

    alg = NULL;

    v = json_object_get(jwk, "alg");
    if (v) {
        if (!json_is_string(v)) {
            ngx_str_set(err, "a key has an invalid \"alg\"");
            return NGX_ERROR;
        }

        alg = ngx_http_gw_auth_alg_by_name((u_char *) json_string_value(v),
                                           json_string_length(v));
        if (alg == NULL) {
            /* an algorithm this module never verifies with */
            return NGX_DECLINED;
        }
    }

    /* without "alg", the key type and curve pick exactly one algorithm */

    if (kty.len == 3 && ngx_strncmp(kty.data, "RSA", 3) == 0) {
        if (alg == NULL) {
            alg = ngx_http_gw_auth_alg_by_name((u_char *) "RS256", 5);
        }

        key->alg = alg;

        if (alg->family != NGX_HTTP_GW_AUTH_RSA
            && alg->family != NGX_HTTP_GW_AUTH_PSS)
        {
            ngx_str_set(err, "an RSA key has a non-RSA \"alg\"");
            return NGX_ERROR;
        }

        key->pkey = ngx_http_gw_auth_jwk_rsa(pool, jwk);

    } else if (kty.len == 2 && ngx_strncmp(kty.data, "EC", 2) == 0) {
        if (crv.len == 5 && ngx_strncmp(crv.data, "P-256", 5) == 0) {
            key->alg = ngx_http_gw_auth_alg_by_name((u_char *) "ES256", 5);

        } else if (crv.len == 5 && ngx_strncmp(crv.data, "P-384", 5) == 0) {
            key->alg = ngx_http_gw_auth_alg_by_name((u_char *) "ES384", 5);

        } else if (crv.len == 5 && ngx_strncmp(crv.data, "P-521", 5) == 0) {
            key->alg = ngx_http_gw_auth_alg_by_name((u_char *) "ES512", 5);

        } else {
            ngx_str_set(err, "an EC key has an unsupported \"crv\"");
            return NGX_ERROR;
        }

        if (alg && alg != key->alg) {
            ngx_str_set(err, "an EC key's \"alg\" does not match its curve");
            return NGX_ERROR;
        }

        key->pkey = ngx_http_gw_auth_jwk_ec(pool, jwk, key->alg);

    } else if (kty.len == 3 && ngx_strncmp(kty.data, "OKP", 3) == 0) {
        key->alg = ngx_http_gw_auth_alg_by_name((u_char *) "EdDSA", 5);

        if (alg && alg != key->alg) {
            ngx_str_set(err, "an OKP key has a non-EdDSA \"alg\"");
            return NGX_ERROR;
        }

        if (ngx_http_gw_auth_jwk_member(pool, jwk, "x", &check) != NGX_OK) {
            ngx_str_set(err, "an OKP key has no valid \"x\"");
            return NGX_ERROR;
        }

        if (crv.len == 7 && ngx_strncmp(crv.data, "Ed25519", 7) == 0) {
            key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
                                                    check.data, check.len);

        } else if (crv.len == 5 && ngx_strncmp(crv.data, "Ed448", 5) == 0) {
            key->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED448, NULL,
                                                    check.data, check.len);

        } else {
            ngx_str_set(err, "an OKP key has an unsupported \"crv\"");
            return NGX_ERROR;
        }

    } else if (kty.len == 3 && ngx_strncmp(kty.data, "oct", 3) == 0) {
        if (alg == NULL) {
            alg = ngx_http_gw_auth_alg_by_name((u_char *) "HS256", 5);
        }

        key->alg = alg;

        if (alg->family != NGX_HTTP_GW_AUTH_HMAC) {
            ngx_str_set(err, "an oct key has a non-HMAC \"alg\"");
            return NGX_ERROR;
        }

        if (ngx_http_gw_auth_jwk_member(pool, jwk, "k", &key->secret)
            != NGX_OK)
        {
            ngx_str_set(err, "an oct key has no valid \"k\"");
            return NGX_ERROR;
        }

    } else {
        ngx_str_set(err, "a key has an unsupported \"kty\"");
        return NGX_ERROR;
    }

    ERR_clear_error();

    if (key->alg->family != NGX_HTTP_GW_AUTH_HMAC) {
        if (key->pkey == NULL) {
            ngx_str_set(err, "a key has invalid parameters");
            return NGX_ERROR;
        }

        if (ngx_http_gw_auth_pkey_track(pool, key->pkey) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    if (ngx_http_gw_auth_key_check(key, &check) != NGX_OK) {
        ngx_str_set(err, "a key does not fit its algorithm");
        return NGX_ERROR;
    }

    v = json_object_get(jwk, "kid");
    if (json_is_string(v)) {
        key->kid.len = json_string_length(v);
        key->kid.data = ngx_pnalloc(pool, key->kid.len);
        if (key->kid.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(key->kid.data, json_string_value(v), key->kid.len);
    }

    return NGX_OK;
}


static EVP_PKEY *
ngx_http_gw_auth_jwk_rsa(ngx_pool_t *pool, json_t *jwk)
{
    BIGNUM          *n, *e;
    EVP_PKEY        *pkey;
    ngx_str_t        ns, es;
    OSSL_PARAM      *params;
    EVP_PKEY_CTX    *ctx;
    OSSL_PARAM_BLD  *bld;

    if (ngx_http_gw_auth_jwk_member(pool, jwk, "n", &ns) != NGX_OK
        || ngx_http_gw_auth_jwk_member(pool, jwk, "e", &es) != NGX_OK)
    {
        return NULL;
    }

    pkey = NULL;
    params = NULL;
    ctx = NULL;

    n = BN_bin2bn(ns.data, (int) ns.len, NULL);
    e = BN_bin2bn(es.data, (int) es.len, NULL);
    bld = OSSL_PARAM_BLD_new();

    if (n == NULL || e == NULL || bld == NULL
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1
        || OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
    {
        goto done;
    }

    params = OSSL_PARAM_BLD_to_param(bld);
    ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);

    if (params == NULL || ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

done:

    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);

    return pkey;
}


static EVP_PKEY *
ngx_http_gw_auth_jwk_ec(ngx_pool_t *pool, json_t *jwk,
    ngx_http_gw_auth_alg_t *alg)
{
    u_char        *point;
    EVP_PKEY      *pkey;
    ngx_str_t      x, y;
    OSSL_PARAM     params[3];
    EVP_PKEY_CTX  *ctx;

    if (ngx_http_gw_auth_jwk_member(pool, jwk, "x", &x) != NGX_OK
        || ngx_http_gw_auth_jwk_member(pool, jwk, "y", &y) != NGX_OK
        || x.len == 0 || x.len > alg->ec_len
        || y.len == 0 || y.len > alg->ec_len)
    {
        return NULL;
    }

    /*
     * An uncompressed point: 04 || x || y.  RFC 7518 wants coordinates of
     * the full size, but some libraries drop leading zero bytes: the
     * value is the same, so they are padded back.
     */

    point = ngx_pcalloc(pool, 1 + 2 * alg->ec_len);
    if (point == NULL) {
        return NULL;
    }

    point[0] = 0x04;
    ngx_memcpy(point + 1 + alg->ec_len - x.len, x.data, x.len);
    ngx_memcpy(point + 1 + 2 * alg->ec_len - y.len, y.data, y.len);

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                          (char *) OBJ_nid2sn(alg->ec_nid), 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, 1 + 2 * alg->ec_len);
    params[2] = OSSL_PARAM_construct_end();

    pkey = NULL;

    ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);

    if (ctx == NULL
        || EVP_PKEY_fromdata_init(ctx) != 1
        || EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
        pkey = NULL;
    }

    EVP_PKEY_CTX_free(ctx);

    return pkey;
}


ngx_int_t
ngx_http_gw_auth_key_fingerprint(ngx_http_gw_auth_key_t *key, u_char *fp)
{
    int            len;
    u_char        *der;
    unsigned int   n;
    EVP_MD_CTX    *md;

    /* fp = SHA-256(fp || alg || kid || key): identifies a key set */

    md = EVP_MD_CTX_new();
    if (md == NULL) {
        return NGX_ERROR;
    }

    der = NULL;
    len = 0;

    if (key->pkey) {
        len = i2d_PUBKEY(key->pkey, &der);
        if (len <= 0) {
            EVP_MD_CTX_free(md);
            return NGX_ERROR;
        }
    }

    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1
        || EVP_DigestUpdate(md, fp, NGX_HTTP_GW_AUTH_HASH_LEN) != 1
        || EVP_DigestUpdate(md, key->alg->name.data, key->alg->name.len) != 1
        || EVP_DigestUpdate(md, "\0", 1) != 1
        || EVP_DigestUpdate(md, key->kid.data, key->kid.len) != 1
        || EVP_DigestUpdate(md, "\0", 1) != 1
        || (der && EVP_DigestUpdate(md, der, len) != 1)
        || (key->secret.len
            && EVP_DigestUpdate(md, key->secret.data, key->secret.len) != 1)
        || EVP_DigestFinal_ex(md, fp, &n) != 1)
    {
        OPENSSL_free(der);
        EVP_MD_CTX_free(md);
        return NGX_ERROR;
    }

    OPENSSL_free(der);
    EVP_MD_CTX_free(md);

    return NGX_OK;
}

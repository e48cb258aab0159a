
/*
 * Copyright (C) ngx_gw authors
 *
 * API keys: a file of SHA-256 hashes of keys with their consumer, plan,
 * scopes and expiry.  Keys are never stored in clear.  The file is read at
 * configuration time, so "nginx -s reload" picks up its new contents.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_gw_auth.h"


#define NGX_HTTP_GW_AUTH_APIKEY_MAX_FILE  (64 * 1024 * 1024)


static int ngx_libc_cdecl ngx_http_gw_auth_apikey_cmp(const void *one,
    const void *two);
static time_t ngx_http_gw_auth_apikey_time(u_char *p, size_t len);


static int ngx_libc_cdecl
ngx_http_gw_auth_apikey_cmp(const void *one, const void *two)
{
    const ngx_http_gw_auth_apikey_t  *a = one;
    const ngx_http_gw_auth_apikey_t  *b = two;

    return ngx_memcmp(a->hash, b->hash, NGX_HTTP_GW_AUTH_HASH_LEN);
}


static time_t
ngx_http_gw_auth_apikey_time(u_char *p, size_t len)
{
    ngx_int_t  y, m, d, hh, mm, ss, era, yoe, doy, doe, days;

    /* YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC */

    if (len != 10 && len != 20) {
        return NGX_ERROR;
    }

    if (p[4] != '-' || p[7] != '-') {
        return NGX_ERROR;
    }

    y = ngx_atoi(p, 4);
    m = ngx_atoi(p + 5, 2);
    d = ngx_atoi(p + 8, 2);
    hh = 0;
    mm = 0;
    ss = 0;

    if (len == 20) {
        if (p[10] != 'T' || p[13] != ':' || p[16] != ':' || p[19] != 'Z') {
            return NGX_ERROR;
        }

        hh = ngx_atoi(p + 11, 2);
        mm = ngx_atoi(p + 14, 2);
        ss = ngx_atoi(p + 17, 2);
    }

    if (y < 1970 || m < 1 || m > 12 || d < 1 || d > 31
        || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59)
    {
        return NGX_ERROR;
    }

    /* days since 1970-01-01 of a proleptic Gregorian date */

    y -= (m <= 2);
    era = y / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    days = era * 146097 + doe - 719468;

    return (time_t) days * 86400 + hh * 3600 + mm * 60 + ss;
}


ngx_int_t
ngx_http_gw_auth_apikey_parse_line(ngx_pool_t *pool, u_char *p, size_t len,
    ngx_http_gw_auth_apikey_t *key, ngx_str_t *err)
{
    u_char     *last, *start, *q;
    ngx_int_t   hi, lo;
    ngx_str_t   word;
    ngx_uint_t  i, hashed;

    ngx_memzero(key, sizeof(ngx_http_gw_auth_apikey_t));

    hashed = 0;

    last = p + len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p == last) {
            break;
        }

        start = p;

        while (p < last && *p != ' ' && *p != '\t') {
            p++;
        }

        word.data = start;
        word.len = p - start;

        if (word.len == 7 + 2 * NGX_HTTP_GW_AUTH_HASH_LEN
            && ngx_strncmp(word.data, "sha256:", 7) == 0)
        {
            q = word.data + 7;

            for (i = 0; i < NGX_HTTP_GW_AUTH_HASH_LEN; i++) {
                hi = ngx_hextoi(q, 1);
                lo = ngx_hextoi(q + 1, 1);

                if (hi == NGX_ERROR || lo == NGX_ERROR) {
                    ngx_str_set(err, "invalid sha256 hash");
                    return NGX_ERROR;
                }

                key->hash[i] = (u_char) (hi * 16 + lo);
                q += 2;
            }

            hashed = 1;
            continue;
        }

        if (word.len > 9 && ngx_strncmp(word.data, "consumer=", 9) == 0) {
            key->consumer.data = ngx_pstrdup(pool, &word);
            if (key->consumer.data == NULL) {
                return NGX_ERROR;
            }

            key->consumer.data += 9;
            key->consumer.len = word.len - 9;
            continue;
        }

        if (word.len > 5 && ngx_strncmp(word.data, "plan=", 5) == 0) {
            key->plan.data = ngx_pstrdup(pool, &word);
            if (key->plan.data == NULL) {
                return NGX_ERROR;
            }

            key->plan.data += 5;
            key->plan.len = word.len - 5;
            continue;
        }

        if (word.len > 7 && ngx_strncmp(word.data, "scopes=", 7) == 0) {
            key->scopes.data = ngx_pstrdup(pool, &word);
            if (key->scopes.data == NULL) {
                return NGX_ERROR;
            }

            key->scopes.data += 7;
            key->scopes.len = word.len - 7;

            /* stored space-separated, as an OAuth2 scope string */

            for (i = 0; i < key->scopes.len; i++) {
                if (key->scopes.data[i] == ',') {
                    key->scopes.data[i] = ' ';
                }
            }

            continue;
        }

        if (word.len > 8 && ngx_strncmp(word.data, "expires=", 8) == 0) {
            key->expires = ngx_http_gw_auth_apikey_time(word.data + 8,
                                                        word.len - 8);
            if (key->expires == NGX_ERROR) {
                ngx_str_set(err, "invalid expires= date");
                return NGX_ERROR;
            }

            continue;
        }

        *err = word;
        return NGX_DECLINED;
    }

    if (!hashed) {
        ngx_str_set(err, "no sha256:<hex> hash");
        return NGX_ERROR;
    }

    if (key->consumer.len == 0) {
        ngx_str_set(err, "no consumer=");
        return NGX_ERROR;
    }

    return NGX_OK;
}


char *
ngx_http_gw_auth_apikey_load(ngx_conf_t *cf, ngx_http_gw_auth_apikeys_t *keys)
{
    u_char                     *p, *last, *eol;
    ssize_t                     n;
    ngx_int_t                   rc;
    ngx_str_t                   text, err;
    ngx_uint_t                  line, i;
    ngx_file_t                  file;
    ngx_file_info_t             fi;
    ngx_http_gw_auth_apikey_t  *key, *k;

    if (ngx_conf_full_name(cf->cycle, &keys->file, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));

    file.name = keys->file;
    file.log = cf->log;

    file.fd = ngx_open_file(keys->file.data, NGX_FILE_RDONLY, NGX_FILE_OPEN,
                            0);
    if (file.fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           ngx_open_file_n " \"%V\" failed", &keys->file);
        return NGX_CONF_ERROR;
    }

    if (ngx_fd_info(file.fd, &fi) == NGX_FILE_ERROR
        || ngx_file_size(&fi) > NGX_HTTP_GW_AUTH_APIKEY_MAX_FILE)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "API key file \"%V\" is unreadable or too large",
                           &keys->file);
        ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    text.len = (size_t) ngx_file_size(&fi);
    text.data = ngx_pnalloc(cf->temp_pool, text.len + 1);
    if (text.data == NULL) {
        ngx_close_file(file.fd);
        return NGX_CONF_ERROR;
    }

    n = ngx_read_file(&file, text.data, text.len, 0);

    ngx_close_file(file.fd);

    if (n == NGX_ERROR || (size_t) n != text.len) {
        return NGX_CONF_ERROR;
    }

    if (ngx_array_init(&keys->keys, cf->pool, 16,
                       sizeof(ngx_http_gw_auth_apikey_t))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    p = text.data;
    last = p + text.len;

    for (line = 1; p < last; line++, p = eol + 1) {
        eol = ngx_strlchr(p, last, '\n');
        if (eol == NULL) {
            eol = last;
        }

        n = eol - p;

        if (n && p[n - 1] == '\r') {
            n--;
        }

        while (n && (*p == ' ' || *p == '\t')) {
            p++;
            n--;
        }

        if (n == 0 || *p == '#') {
            continue;
        }

        key = ngx_array_push(&keys->keys);
        if (key == NULL) {
            return NGX_CONF_ERROR;
        }

        rc = ngx_http_gw_auth_apikey_parse_line(cf->pool, p, n, key, &err);

        if (rc == NGX_DECLINED) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "unknown field \"%V\" in \"%V\", line %ui",
                               &err, &keys->file, line);
            return NGX_CONF_ERROR;
        }

        if (rc != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%V in \"%V\", line %ui",
                               &err, &keys->file, line);
            return NGX_CONF_ERROR;
        }
    }

    key = keys->keys.elts;

    ngx_qsort(key, keys->keys.nelts, sizeof(ngx_http_gw_auth_apikey_t),
              ngx_http_gw_auth_apikey_cmp);

    for (i = 1; i < keys->keys.nelts; i++) {
        k = &key[i];

        if (ngx_memcmp(k->hash, key[i - 1].hash, NGX_HTTP_GW_AUTH_HASH_LEN)
            == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate key hash in \"%V\" (consumers "
                               "\"%V\" and \"%V\")", &keys->file,
                               &key[i - 1].consumer, &k->consumer);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


ngx_http_gw_auth_apikey_t *
ngx_http_gw_auth_apikey_find(ngx_http_gw_auth_apikeys_t *keys,
    ngx_str_t *presented, const EVP_MD *sha256)
{
    u_char                      hash[NGX_HTTP_GW_AUTH_HASH_LEN];
    ngx_int_t                   rc;
    ngx_uint_t                  lo, hi, mid;
    unsigned int                len;
    ngx_http_gw_auth_apikey_t  *key;

    if (EVP_Digest(presented->data, presented->len, hash, &len, sha256,
                   NULL)
        != 1)
    {
        return NULL;
    }

    /*
     * Only the SHA-256 of the presented key steers the search, which
     * tells nothing about any stored key; equality is constant-time.
     */

    key = keys->keys.elts;
    lo = 0;
    hi = keys->keys.nelts;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;

        rc = ngx_memcmp(hash, key[mid].hash, NGX_HTTP_GW_AUTH_HASH_LEN);

        if (rc == 0) {
            break;
        }

        if (rc < 0) {
            hi = mid;

        } else {
            lo = mid + 1;
        }
    }

    if (lo >= hi) {
        return NULL;
    }

    mid = lo + (hi - lo) / 2;

    if (CRYPTO_memcmp(hash, key[mid].hash, NGX_HTTP_GW_AUTH_HASH_LEN) != 0) {
        return NULL;
    }

    return &key[mid];
}

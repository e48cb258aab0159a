/*
 * Copyright (C) ngx_gw authors
 *
 * Parsers of backend and client header values (Cache-Control and the
 * targeted fields, Vary, Cache-Tag / Surrogate-Key).  They take untrusted
 * bytes and no request, so that a fuzzer can call them directly.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


/* RFC 9111 1.2.2: a delta-seconds too large to represent is 2^31 */
#define NGX_HTTP_GW_CACHE_MAX_DELTA  2147483648LL


static time_t ngx_http_gw_cache_parse_delta(u_char *p, size_t len,
    time_t invalid);
static ngx_uint_t ngx_http_gw_cache_name_is(u_char *p, size_t len,
    const char *name);


void
ngx_http_gw_cache_cc_init(ngx_http_gw_cache_cc_t *cc)
{
    ngx_memzero(cc, sizeof(ngx_http_gw_cache_cc_t));

    cc->max_age = -1;
    cc->s_maxage = -1;
    cc->stale_revalidate = -1;
    cc->stale_error = -1;
    cc->max_stale = -1;
    cc->min_fresh = -1;
}


void
ngx_http_gw_cache_parse_cc(u_char *p, size_t len, ngx_http_gw_cache_cc_t *cc)
{
    u_char  *end, *name, *value;
    size_t   name_len, value_len;
    time_t   n;

    end = p + len;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        if (p == end) {
            break;
        }

        name = p;

        while (p < end && *p != '=' && *p != ',' && *p != ' '
               && *p != '\t' && *p != ';')
        {
            p++;
        }

        name_len = p - name;
        value = NULL;
        value_len = 0;

        while (p < end && (*p == ' ' || *p == '\t')) {
            p++;
        }

        if (p < end && *p == '=') {
            p++;

            while (p < end && (*p == ' ' || *p == '\t')) {
                p++;
            }

            if (p < end && *p == '"') {
                p++;
                value = p;

                while (p < end && *p != '"') {
                    if (*p == '\\' && p + 1 < end) {
                        p++;
                    }
                    p++;
                }

                value_len = p - value;

                if (p < end) {
                    p++;
                }

            } else {
                value = p;

                while (p < end && *p != ',' && *p != ' ' && *p != '\t'
                       && *p != ';')
                {
                    p++;
                }

                value_len = p - value;
            }
        }

        /* skip anything else up to the next directive */

        while (p < end && *p != ',') {
            p++;
        }

        if (ngx_http_gw_cache_name_is(name, name_len, "max-age")) {
            cc->max_age = ngx_http_gw_cache_parse_delta(value, value_len, 0);

        } else if (ngx_http_gw_cache_name_is(name, name_len, "s-maxage")) {
            cc->s_maxage = ngx_http_gw_cache_parse_delta(value, value_len, 0);

        } else if (ngx_http_gw_cache_name_is(name, name_len,
                                             "stale-while-revalidate"))
        {
            cc->stale_revalidate = ngx_http_gw_cache_parse_delta(value,
                                                                 value_len,
                                                                 -1);

        } else if (ngx_http_gw_cache_name_is(name, name_len,
                                             "stale-if-error"))
        {
            cc->stale_error = ngx_http_gw_cache_parse_delta(value, value_len,
                                                            -1);

        } else if (ngx_http_gw_cache_name_is(name, name_len, "max-stale")) {

            /*
             * RFC 9111 5.2.1.2: without a value, any staleness; an invalid
             * value is ignored (no stale answer); the smallest value wins
             */

            n = (value == NULL)
                ? NGX_HTTP_GW_CACHE_MAX_DELTA
                : ngx_http_gw_cache_parse_delta(value, value_len, -1);

            if (n >= 0 && (cc->max_stale < 0 || n < cc->max_stale)) {
                cc->max_stale = n;
            }

        } else if (ngx_http_gw_cache_name_is(name, name_len, "min-fresh")) {

            /* RFC 9111 5.2.1.3: an invalid value is ignored; the most wins */

            n = ngx_http_gw_cache_parse_delta(value, value_len, -1);

            if (n > cc->min_fresh) {
                cc->min_fresh = n;
            }

        } else if (ngx_http_gw_cache_name_is(name, name_len, "no-store")) {
            cc->no_store = 1;

        } else if (ngx_http_gw_cache_name_is(name, name_len, "no-cache")) {
            cc->no_cache = 1;

        } else if (ngx_http_gw_cache_name_is(name, name_len, "private")) {
            cc->private_ = 1;

        } else if (ngx_http_gw_cache_name_is(name, name_len, "public")) {
            cc->public_ = 1;

        } else if (ngx_http_gw_cache_name_is(name, name_len,
                                             "must-revalidate"))
        {
            cc->must_revalidate = 1;

        } else if (ngx_http_gw_cache_name_is(name, name_len,
                                             "proxy-revalidate"))
        {
            cc->proxy_revalidate = 1;

        } else if (ngx_http_gw_cache_name_is(name, name_len,
                                             "only-if-cached"))
        {
            cc->only_if_cached = 1;
        }
    }
}


/*
 * A Vary value as "name,name" in lowercase; NGX_DECLINED for "*".  The
 * output needs at most len bytes.
 */

ngx_int_t
ngx_http_gw_cache_parse_vary(u_char *p, size_t len, u_char *out,
    size_t *out_len)
{
    u_char  *end, *o, *start;

    end = p + len;
    o = out;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        if (p == start) {
            continue;
        }

        if (p - start == 1 && *start == '*') {
            return NGX_DECLINED;
        }

        if (o != out) {
            *o++ = ',';
        }

        while (start < p) {
            *o++ = ngx_tolower(*start);
            start++;
        }
    }

    *out_len = o - out;

    return NGX_OK;
}


/*
 * Appends the tags of a Cache-Tag (comma separated) or Surrogate-Key (space
 * separated) value as "tag " to out, at most size bytes; returns the bytes
 * written.  A tag that does not fit is left out whole.
 */

size_t
ngx_http_gw_cache_parse_tags(u_char *p, size_t len, u_char *out, size_t size)
{
    u_char  *end, *start, *o;
    size_t   n;

    end = p + len;
    o = out;

    while (p < end) {

        while (p < end && (*p == ' ' || *p == '\t' || *p == ',')) {
            p++;
        }

        start = p;

        while (p < end && *p != ',' && *p != ' ' && *p != '\t') {
            p++;
        }

        n = p - start;

        if (n == 0) {
            continue;
        }

        if ((size_t) (o - out) + n + 1 > size) {
            break;
        }

        o = ngx_cpymem(o, start, n);
        *o++ = ' ';
    }

    return o - out;
}


static time_t
ngx_http_gw_cache_parse_delta(u_char *p, size_t len, time_t invalid)
{
    long long  n;

    if (p == NULL || len == 0) {
        return invalid;
    }

    n = 0;

    while (len--) {
        if (*p < '0' || *p > '9') {
            return invalid;
        }

        if (n < NGX_HTTP_GW_CACHE_MAX_DELTA) {
            n = n * 10 + (*p - '0');
        }

        p++;
    }

    if (n > NGX_HTTP_GW_CACHE_MAX_DELTA) {
        n = NGX_HTTP_GW_CACHE_MAX_DELTA;
    }

    return (time_t) n;
}


static ngx_uint_t
ngx_http_gw_cache_name_is(u_char *p, size_t len, const char *name)
{
    size_t  n;

    n = ngx_strlen(name);

    return len == n && ngx_strncasecmp(p, (u_char *) name, n) == 0;
}

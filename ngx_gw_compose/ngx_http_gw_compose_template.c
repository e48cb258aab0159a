/*
 * Copyright (C) ngx_gw authors
 *
 * Parsers of the configuration's templates and paths.  Plain functions over
 * (pointer, length): a fuzzer can call them directly.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_gw_compose_module.h"


static ngx_uint_t ngx_http_gw_compose_name_char(u_char ch, ngx_uint_t first);
static ngx_uint_t ngx_http_gw_compose_path_char(u_char ch);
static ngx_int_t ngx_http_gw_compose_add_token(ngx_array_t *tokens,
    u_char *p, size_t len, ngx_uint_t ref);


static ngx_uint_t
ngx_http_gw_compose_name_char(u_char ch, ngx_uint_t first)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_') {
        return 1;
    }

    if (first) {
        return 0;
    }

    return (ch >= '0' && ch <= '9') || ch == '-';
}


static ngx_uint_t
ngx_http_gw_compose_path_char(u_char ch)
{
    return ngx_http_gw_compose_name_char(ch, 0) || ch == '.';
}


static ngx_int_t
ngx_http_gw_compose_add_token(ngx_array_t *tokens, u_char *p, size_t len,
    ngx_uint_t ref)
{
    u_char                       *dot;
    ngx_http_gw_compose_token_t  *t;

    if (!ref && tokens->nelts) {
        t = (ngx_http_gw_compose_token_t *) tokens->elts + tokens->nelts - 1;

        if (!t->ref && t->text.data + t->text.len == p) {
            t->text.len += len;
            return NGX_OK;
        }
    }

    t = ngx_array_push(tokens);
    if (t == NULL) {
        return NGX_ERROR;
    }

    t->ref = ref;
    t->text.data = p;
    t->text.len = len;
    ngx_str_null(&t->path);

    if (ref) {
        dot = ngx_strlchr(p, p + len, '.');

        if (dot) {
            t->text.len = dot - p;
            t->path.data = dot + 1;
            t->path.len = p + len - dot - 1;
        }
    }

    return NGX_OK;
}


/*
 * Splits a template into literal text and {name.path} references.  A "{"
 * that does not open a well-formed reference is literal text, and so is
 * "${", nginx's own variable syntax; the caller decides what names are
 * known.  Returns NGX_DECLINED for an empty path segment ("{a..b}").
 */

ngx_int_t
ngx_http_gw_compose_template_parse(u_char *p, size_t len, ngx_array_t *tokens)
{
    u_char  *last, *start, *q;

    last = p + len;
    start = p;

    while (p < last) {

        if (*p != '{'
            || (p > start && p[-1] == '$')
            || p + 1 == last
            || !ngx_http_gw_compose_name_char(p[1], 1))
        {
            p++;
            continue;
        }

        for (q = p + 1; q < last && ngx_http_gw_compose_path_char(*q); q++) {
            /* void */
        }

        if (q == last || *q != '}') {
            p++;
            continue;
        }

        if (p > start
            && ngx_http_gw_compose_add_token(tokens, start, p - start, 0)
               != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (q[-1] == '.'
            || ngx_strlcasestrn(p + 1, q, (u_char *) "..", 2 - 1) != NULL)
        {
            return NGX_DECLINED;
        }

        if (ngx_http_gw_compose_add_token(tokens, p + 1, q - p - 1, 1)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        p = q + 1;
        start = p;
    }

    if (p > start
        && ngx_http_gw_compose_add_token(tokens, start, p - start, 0)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * "a.b.0.c" as an array of ngx_str_t; an empty string is the empty path.
 * NULL on an empty segment or an allocation failure.
 */

ngx_array_t *
ngx_http_gw_compose_path_parse(ngx_pool_t *pool, u_char *p, size_t len)
{
    u_char       *last, *dot;
    ngx_str_t    *s;
    ngx_array_t  *path;

    path = ngx_array_create(pool, 4, sizeof(ngx_str_t));
    if (path == NULL) {
        return NULL;
    }

    if (len == 0) {
        return path;
    }

    last = p + len;

    for ( ;; ) {
        dot = ngx_strlchr(p, last, '.');

        if (dot == NULL) {
            dot = last;
        }

        if (dot == p) {
            return NULL;
        }

        s = ngx_array_push(path);
        if (s == NULL) {
            return NULL;
        }

        s->data = p;
        s->len = dot - p;

        if (dot == last) {
            return path;
        }

        p = dot + 1;

        if (p == last) {
            return NULL;
        }
    }
}


/*
 * A decoded path is safe when it has no "." or ".." segment, no NUL and no
 * backslash: a part's URI built from a backend's values must not climb out
 * of the location it names, here or at a backend that normalizes it.
 */

ngx_uint_t
ngx_http_gw_compose_uri_safe(u_char *p, size_t len)
{
    u_char  *last, *seg;

    last = p + len;
    seg = p;

    for ( ;; ) {

        if (p == last || *p == '/') {
            if ((p - seg == 1 && seg[0] == '.')
                || (p - seg == 2 && seg[0] == '.' && seg[1] == '.'))
            {
                return 0;
            }

            if (p == last) {
                return 1;
            }

            seg = p + 1;

        } else if (*p == '\0' || *p == '\\') {
            return 0;
        }

        p++;
    }
}

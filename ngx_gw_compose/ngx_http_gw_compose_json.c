/*
 * Copyright (C) ngx_gw authors
 *
 * Operations on the parts' JSON values: paths, field filters, renames and
 * the deep merge.  Plain functions over jansson values.
 */


#include <ngx_config.h>
#include <ngx_core.h>

#include "ngx_http_gw_compose_module.h"


static json_t *ngx_http_gw_compose_json_step(json_t *v, ngx_str_t *key);
static ngx_int_t ngx_http_gw_compose_json_index(ngx_str_t *key,
    size_t size);


/*
 * Bytes that stand for themselves inside a string: ASCII but '"', '\\'
 * and the control characters.
 */

static u_char  ngx_http_gw_compose_json_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x20 '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,     /* 0x50 '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,     /* 0x70 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,     /* 0x80: UTF-8 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
};


static ngx_int_t
ngx_http_gw_compose_json_index(ngx_str_t *key, size_t size)
{
    ngx_int_t  n;

    n = ngx_atoi(key->data, key->len);

    if (n == NGX_ERROR || (size_t) n >= size) {
        return NGX_ERROR;
    }

    return n;
}


static json_t *
ngx_http_gw_compose_json_step(json_t *v, ngx_str_t *key)
{
    ngx_int_t  n;

    if (json_is_object(v)) {
        return json_object_getn(v, (const char *) key->data, key->len);
    }

    if (json_is_array(v)) {
        n = ngx_http_gw_compose_json_index(key, json_array_size(v));
        return n == NGX_ERROR ? NULL : json_array_get(v, n);
    }

    return NULL;
}


/* the value at the path (a borrowed reference), or NULL */

json_t *
ngx_http_gw_compose_json_get(json_t *root, ngx_array_t *path)
{
    ngx_str_t   *key;
    ngx_uint_t   i;

    key = path->elts;

    for (i = 0; root && i < path->nelts; i++) {
        root = ngx_http_gw_compose_json_step(root, &key[i]);
    }

    return root;
}


/*
 * Sets the value at the path, creating objects on the way; steals the
 * reference to value, also on failure.
 */

ngx_int_t
ngx_http_gw_compose_json_set(json_t *root, ngx_array_t *path, json_t *value)
{
    json_t      *next;
    ngx_str_t   *key;
    ngx_uint_t   i;

    key = path->elts;

    if (path->nelts == 0 || !json_is_object(root)) {
        json_decref(value);
        return NGX_ERROR;
    }

    for (i = 0; i + 1 < path->nelts; i++) {
        next = json_object_getn(root, (const char *) key[i].data, key[i].len);

        if (!json_is_object(next)) {
            next = json_object();
            if (next == NULL) {
                json_decref(value);
                return NGX_ERROR;
            }

            if (json_object_setn_new(root, (const char *) key[i].data,
                                     key[i].len, next)
                != 0)
            {
                json_decref(value);
                return NGX_ERROR;
            }
        }

        root = next;
    }

    if (json_object_setn_new(root, (const char *) key[i].data, key[i].len,
                             value)
        != 0)
    {
        return NGX_ERROR;
    }

    return NGX_OK;
}


/*
 * A new object with only the fields at the paths (each an ngx_array_t *);
 * NULL on an allocation failure.
 */

json_t *
ngx_http_gw_compose_json_allow(json_t *root, ngx_array_t *paths)
{
    json_t        *out, *v;
    ngx_uint_t     i;
    ngx_array_t  **path;

    out = json_object();
    if (out == NULL) {
        return NULL;
    }

    path = paths->elts;

    for (i = 0; i < paths->nelts; i++) {
        v = ngx_http_gw_compose_json_get(root, path[i]);

        if (v == NULL) {
            continue;
        }

        if (ngx_http_gw_compose_json_set(out, path[i], json_incref(v))
            != NGX_OK)
        {
            json_decref(out);
            return NULL;
        }
    }

    return out;
}


void
ngx_http_gw_compose_json_deny(json_t *root, ngx_array_t *paths)
{
    json_t        *parent;
    ngx_str_t     *key;
    ngx_uint_t     i, n;
    ngx_array_t  **path, prefix;

    path = paths->elts;

    for (i = 0; i < paths->nelts; i++) {
        n = path[i]->nelts;
        key = path[i]->elts;

        prefix = *path[i];
        prefix.nelts = n - 1;

        parent = ngx_http_gw_compose_json_get(root, &prefix);

        if (json_is_object(parent)) {
            (void) json_object_deln(parent, (const char *) key[n - 1].data,
                                    key[n - 1].len);
        }
    }
}


void
ngx_http_gw_compose_json_rename(json_t *root, ngx_array_t *from,
    ngx_array_t *to)
{
    json_t       *v;
    ngx_array_t   one;

    v = ngx_http_gw_compose_json_get(root, from);

    if (v == NULL) {
        return;
    }

    json_incref(v);

    one.elts = &from;
    one.nelts = 1;
    one.size = sizeof(ngx_array_t *);
    one.nalloc = 1;
    one.pool = NULL;

    ngx_http_gw_compose_json_deny(root, &one);

    (void) ngx_http_gw_compose_json_set(root, to, v);
}


/*
 * Merges src into dst: objects merge key by key at every depth; any other
 * clash is settled by src, which is the part listed later in the
 * location, so the result never depends on which backend answered first.
 */

ngx_int_t
ngx_http_gw_compose_json_merge(json_t *dst, json_t *src)
{
    size_t       klen;
    json_t      *sv, *dv;
    const char  *key;

    json_object_foreach(src, key, sv) {
        klen = json_object_iter_key_len(json_object_key_to_iter(key));
        dv = json_object_getn(dst, key, klen);

        if (json_is_object(dv) && json_is_object(sv)) {
            if (ngx_http_gw_compose_json_merge(dv, sv) != NGX_OK) {
                return NGX_ERROR;
            }

            continue;
        }

        if (json_object_setn(dst, key, klen, sv) != 0) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/*
 * Checks that [p, p + len) is exactly one JSON text (RFC 8259) in UTF-8,
 * with containers nested at most NGX_HTTP_GW_COMPOSE_MAX_DEPTH deep,
 * without building it: a part's body that needs no changes is copied into
 * the response as sent.  On NGX_ERROR, *err is the offset of the first
 * byte that is wrong.
 */

ngx_int_t
ngx_http_gw_compose_json_check(u_char *p, size_t len, size_t *err)
{
    u_char      *start, *last, c, stack[NGX_HTTP_GW_COMPOSE_MAX_DEPTH];
    uint32_t     u;
    ngx_uint_t   i, depth, state;

    enum {
        sw_value = 0,
        sw_value_or_close,
        sw_key,
        sw_key_or_close,
        sw_after
    };

    start = p;
    last = p + len;
    depth = 0;
    state = sw_value;

    for ( ;; ) {

        while (p < last
               && (*p == ' ' || *p == '\t' || *p == CR || *p == LF))
        {
            p++;
        }

        if (state == sw_after && depth == 0) {
            break;
        }

        if (p == last) {
            goto invalid;
        }

        c = *p;

        switch (state) {

        case sw_after:

            if (c == ',') {
                p++;
                state = (stack[depth - 1] == '{') ? sw_key : sw_value;
                continue;
            }

            if ((c == '}' && stack[depth - 1] == '{')
                || (c == ']' && stack[depth - 1] == '['))
            {
                p++;
                depth--;
                continue;
            }

            goto invalid;

        case sw_key_or_close:

            if (c == '}') {
                p++;
                depth--;
                state = sw_after;
                continue;
            }

            /* fall through */

        case sw_key:

            if (c != '"') {
                goto invalid;
            }

            break;

        case sw_value_or_close:

            if (c == ']') {
                p++;
                depth--;
                state = sw_after;
                continue;
            }

            /* fall through */

        default: /* sw_value */

            if (c == '{' || c == '[') {
                if (depth == NGX_HTTP_GW_COMPOSE_MAX_DEPTH) {
                    goto invalid;
                }

                stack[depth++] = c;
                p++;
                state = (c == '{') ? sw_key_or_close : sw_value_or_close;
                continue;
            }

            if (c == 't' || c == 'f' || c == 'n') {
                if (last - p >= 4 && ngx_strncmp(p, "true", 4) == 0) {
                    p += 4;

                } else if (last - p >= 5 && ngx_strncmp(p, "false", 5) == 0) {
                    p += 5;

                } else if (last - p >= 4 && ngx_strncmp(p, "null", 4) == 0) {
                    p += 4;

                } else {
                    goto invalid;
                }

                state = sw_after;
                continue;
            }

            if (c == '-' || (c >= '0' && c <= '9')) {
                if (c == '-') {
                    p++;
                }

                if (p == last || *p < '0' || *p > '9') {
                    goto invalid;
                }

                if (*p == '0') {
                    p++;

                } else {
                    while (p < last && *p >= '0' && *p <= '9') {
                        p++;
                    }
                }

                if (p < last && *p == '.') {
                    p++;

                    if (p == last || *p < '0' || *p > '9') {
                        goto invalid;
                    }

                    while (p < last && *p >= '0' && *p <= '9') {
                        p++;
                    }
                }

                if (p < last && (*p == 'e' || *p == 'E')) {
                    p++;

                    if (p < last && (*p == '+' || *p == '-')) {
                        p++;
                    }

                    if (p == last || *p < '0' || *p > '9') {
                        goto invalid;
                    }

                    while (p < last && *p >= '0' && *p <= '9') {
                        p++;
                    }
                }

                state = sw_after;
                continue;
            }

            if (c != '"') {
                goto invalid;
            }

            break;
        }

        /* a string: a value, or a key followed by ':' and a value */

        p++;

        for ( ;; ) {

            /* the plain run of the string in one tight loop */

            while (p < last && ngx_http_gw_compose_json_plain[*p]) {
                p++;
            }

            if (p == last) {
                goto invalid;
            }

            c = *p;

            if (c == '"') {
                p++;
                break;
            }

            if (c < 0x20) {
                goto invalid;
            }

            if (c == '\\') {
                p++;

                if (p == last) {
                    goto invalid;
                }

                if (*p == 'u') {
                    if (last - p < 5) {
                        goto invalid;
                    }

                    for (i = 1; i <= 4; i++) {
                        c = p[i] | 0x20;

                        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        {
                            p += i;
                            goto invalid;
                        }
                    }

                    p += 5;
                    continue;
                }

                if (ngx_strlchr((u_char *) "\"\\/bfnrt",
                                (u_char *) "\"\\/bfnrt" + 8, *p)
                    == NULL)
                {
                    goto invalid;
                }

                p++;
                continue;
            }

            if (c < 0x80) {
                p++;
                continue;
            }

            u = ngx_utf8_decode(&p, last - p);

            if (u > 0x10ffff || (u >= 0xd800 && u <= 0xdfff)) {
                goto invalid;
            }
        }

        if (state == sw_key || state == sw_key_or_close) {
            while (p < last
                   && (*p == ' ' || *p == '\t' || *p == CR || *p == LF))
            {
                p++;
            }

            if (p == last || *p != ':') {
                goto invalid;
            }

            p++;
            state = sw_value;
            continue;
        }

        state = sw_after;
    }

    if (p != last) {
        goto invalid;
    }

    return NGX_OK;

invalid:

    *err = p - start;

    return NGX_ERROR;
}

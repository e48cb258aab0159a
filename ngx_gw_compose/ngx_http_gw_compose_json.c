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

/*
 * Copyright (C) ngx_gw authors
 *
 * gw_cache_purge: removes stored responses by exact key, key prefix or tag
 * and answers {"purged":N}.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_cache.h"


static ngx_int_t ngx_http_gw_cache_purge_arg(ngx_http_request_t *r,
    char *name, ngx_str_t *value, ngx_uint_t *found);


static ngx_str_t  ngx_http_gw_cache_purge_names[] = {
    ngx_string("key"),
    ngx_string("prefix"),
    ngx_string("tag")
};


ngx_int_t
ngx_http_gw_cache_purge_handler(ngx_http_request_t *r)
{
    u_char                        *p;
    ngx_buf_t                     *b;
    ngx_int_t                      rc;
    ngx_str_t                      value, v;
    ngx_uint_t                     i, how, found, n;
    ngx_chain_t                    out;
    ngx_http_gw_problem_t          problem;
    ngx_http_gw_cache_zone_t      *zone;
    ngx_http_gw_cache_loc_conf_t  *conf;

    ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_POST|NGX_HTTP_DELETE))
        && !(r->method_name.len == 5
             && ngx_strncmp(r->method_name.data, "PURGE", 5) == 0))
    {
        problem.status = NGX_HTTP_NOT_ALLOWED;
        ngx_str_set(&problem.detail,
                    "purge with GET, POST, DELETE or PURGE");
        return ngx_http_gw_problem_send(r, &problem);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    conf = ngx_http_get_module_loc_conf(r, ngx_http_gw_cache_module);
    zone = conf->purge;

    how = 0;
    found = 0;
    ngx_str_null(&value);

    for (i = 0; i < 3; i++) {
        n = found;

        rc = ngx_http_gw_cache_purge_arg(r,
                            (char *) ngx_http_gw_cache_purge_names[i].data,
                            &v, &found);
        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (found != n) {
            how = i;
            value = v;
        }
    }

    if (found != 1 || value.len == 0) {
        problem.status = NGX_HTTP_BAD_REQUEST;
        ngx_str_set(&problem.detail,
                    "give exactly one non-empty key, prefix or tag argument");
        return ngx_http_gw_problem_send(r, &problem);
    }

    ngx_shmtx_lock(&zone->shpool->mutex);
    n = ngx_http_gw_cache_purge_locked(zone, how, &value);
    ngx_shmtx_unlock(&zone->shpool->mutex);

    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                  "gw_cache_purge %V \"%V\": %ui purged",
                  &ngx_http_gw_cache_purge_names[how], &value, n);

    b = ngx_create_temp_buf(r->pool, sizeof("{\"purged\":}\n") + NGX_INT_T_LEN);
    if (b == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    p = ngx_sprintf(b->last, "{\"purged\":%ui}\n", n);
    b->last = p;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = b->last - b->pos;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static ngx_int_t
ngx_http_gw_cache_purge_arg(ngx_http_request_t *r, char *name,
    ngx_str_t *value, ngx_uint_t *found)
{
    u_char     *dst, *src;
    ngx_str_t   arg;

    if (ngx_http_arg(r, (u_char *) name, ngx_strlen(name), &arg) != NGX_OK) {
        return NGX_DECLINED;
    }

    (*found)++;

    dst = ngx_pnalloc(r->pool, arg.len);
    if (dst == NULL && arg.len) {
        return NGX_ERROR;
    }

    value->data = dst;
    src = arg.data;

    ngx_unescape_uri(&dst, &src, arg.len, 0);

    value->len = dst - value->data;

    return NGX_OK;
}

/*
 * Copyright (C) ngx_gw authors
 *
 * The body filter that collects a part's response in memory.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_compose_module.h"


static ngx_int_t ngx_http_gw_compose_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_body_filter_pt  ngx_http_next_body_filter;


ngx_int_t
ngx_http_gw_compose_body_filter_init(ngx_conf_t *cf)
{
    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_gw_compose_body_filter;

    return NGX_OK;
}


/*
 * Sits above the postpone filter and gives a part the in-memory buffer
 * that filter fills, sized and bounded by gw_compose_max_body rather than
 * by subrequest_output_buffer_size of the part's location: it starts at
 * the response's length (or 4k) and doubles as the body grows.  A body
 * over the limit is consumed and dropped rather than refused: an error
 * from a body filter would close the client's connection.
 */

static ngx_int_t
ngx_http_gw_compose_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    off_t                        size;
    size_t                       max, used, want;
    ngx_buf_t                   *b, *nb;
    ngx_chain_t                 *cl;
    ngx_http_gw_compose_part_t  *p;

    p = ngx_http_get_module_ctx(r, ngx_http_gw_compose_module);

    if (p == NULL || p->kind != NGX_HTTP_GW_COMPOSE_PART
        || !r->subrequest_in_memory)
    {
        return ngx_http_next_body_filter(r, in);
    }

    if (p->too_big) {
        goto drop;
    }

    max = p->ctx->max_body;

    size = 0;

    for (cl = in; cl; cl = cl->next) {
        if (!ngx_buf_special(cl->buf)) {
            size += ngx_buf_size(cl->buf);
        }
    }

    if (r->out == NULL) {

        if (r->headers_out.content_length_n > (off_t) max) {
            size = r->headers_out.content_length_n;
            goto too_big;
        }

        if (r->headers_out.content_length_n >= 0) {
            want = (size_t) r->headers_out.content_length_n;

        } else {
            want = ngx_min(max, ngx_max((size_t) size, 4096));
        }

        b = ngx_create_temp_buf(r->pool, want ? want : 1);
        if (b == NULL) {
            return NGX_ERROR;
        }

        b->last_buf = 1;

        r->out = ngx_alloc_chain_link(r->pool);
        if (r->out == NULL) {
            return NGX_ERROR;
        }

        r->out->buf = b;
        r->out->next = NULL;
    }

    b = r->out->buf;

    if (size > b->end - b->last) {
        used = b->last - b->pos;

        if ((off_t) used + size > (off_t) max) {
            size += used;
            goto too_big;
        }

        want = ngx_max(used + (size_t) size, 2 * (size_t) (b->end - b->start));
        want = ngx_min(want, max);

        nb = ngx_create_temp_buf(r->pool, want);
        if (nb == NULL) {
            return NGX_ERROR;
        }

        nb->last = ngx_cpymem(nb->pos, b->pos, used);
        nb->last_buf = 1;

        (void) ngx_pfree(r->pool, b->start);

        r->out->buf = nb;
    }

    return ngx_http_next_body_filter(r, in);

too_big:

    p->too_big = 1;

    ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                  "gw_compose: part \"%V\" response of %O bytes or more is "
                  "larger than gw_compose_max_body %uz",
                  &p->conf->name, size, max);

drop:

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;
    }

    return NGX_OK;
}

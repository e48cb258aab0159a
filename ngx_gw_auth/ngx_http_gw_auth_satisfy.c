
/*
 * Copyright (C) ngx_gw authors
 *
 * "satisfy any": the access handler can only return its status, since
 * another handler (allow, auth_basic, auth_request) may still let the
 * request in.  When none does, nginx answers with its own error page; the
 * filters here put the problem+json body of the failed authentication in
 * its place.  A request that was let in clears the mark in the precontent
 * phase, so a 401 from the upstream is never touched; an error_page of the
 * operator's replaces the context by its redirect, so it wins too.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_auth.h"


static ngx_int_t ngx_http_gw_auth_satisfy_precontent(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_auth_satisfy_header_filter(
    ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_auth_satisfy_body_filter(ngx_http_request_t *r,
    ngx_chain_t *in);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;
static ngx_http_output_body_filter_pt    ngx_http_next_body_filter;


ngx_int_t
ngx_http_gw_auth_satisfy_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_gw_auth_satisfy_precontent;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_gw_auth_satisfy_header_filter;

    ngx_http_next_body_filter = ngx_http_top_body_filter;
    ngx_http_top_body_filter = ngx_http_gw_auth_satisfy_body_filter;

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_auth_satisfy_mark(ngx_http_request_t *r,
    ngx_http_gw_auth_ctx_t *ctx, ngx_http_gw_problem_t *problem)
{
    if (ngx_http_gw_problem_body(r->pool, problem, &ctx->problem_body)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    ctx->problem_status = problem->status;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_auth_satisfy_precontent(ngx_http_request_t *r)
{
    ngx_http_gw_auth_ctx_t  *ctx;

    /* the access phase let the request in: its response is not ours */

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_auth_module);

    if (ctx) {
        ctx->problem_status = 0;
    }

    return NGX_DECLINED;
}


static ngx_int_t
ngx_http_gw_auth_satisfy_header_filter(ngx_http_request_t *r)
{
    ngx_http_gw_auth_ctx_t  *ctx;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_auth_module);

    if (ctx == NULL
        || ctx->problem_status == 0
        || r->err_status != ctx->problem_status
        || r->headers_out.status != ctx->problem_status)
    {
        return ngx_http_next_header_filter(r);
    }

    /* nginx's own page for the status the access phase ended with */

    ctx->problem_status = 0;
    ctx->replace = 1;

    ngx_str_set(&r->headers_out.content_type, "application/problem+json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.charset.len = 0;

    r->headers_out.content_length_n = ctx->problem_body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_gw_auth_satisfy_body_filter(ngx_http_request_t *r, ngx_chain_t *in)
{
    ngx_buf_t               *b;
    ngx_uint_t               last;
    ngx_chain_t             *cl, out;
    ngx_http_gw_auth_ctx_t  *ctx;

    if (in == NULL || r != r->main) {
        return ngx_http_next_body_filter(r, in);
    }

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_auth_module);

    if (ctx == NULL || !ctx->replace) {
        return ngx_http_next_body_filter(r, in);
    }

    /* the error page's buffers are consumed, the problem goes instead */

    last = 0;

    for (cl = in; cl; cl = cl->next) {
        cl->buf->pos = cl->buf->last;
        cl->buf->file_pos = cl->buf->file_last;

        if (cl->buf->last_buf) {
            last = 1;
        }
    }

    if (!last) {
        return NGX_OK;
    }

    ctx->replace = 0;

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = ctx->problem_body.data;
    b->last = ctx->problem_body.data + ctx->problem_body.len;
    b->memory = 1;
    b->last_buf = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_next_body_filter(r, &out);
}

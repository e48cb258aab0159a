
/*
 * Copyright (C) ngx_gw authors
 *
 * RFC 9457 "problem details" responses.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"


typedef struct {
    ngx_uint_t   status;
    ngx_str_t    title;
} ngx_http_gw_problem_title_t;


static ngx_str_t *ngx_http_gw_problem_title(ngx_uint_t status);
static ngx_uint_t ngx_http_gw_problem_has_error_page(ngx_http_request_t *r,
    ngx_uint_t status);


static ngx_http_gw_problem_title_t  ngx_http_gw_problem_titles[] = {
    { 400, ngx_string("Bad Request") },
    { 401, ngx_string("Unauthorized") },
    { 403, ngx_string("Forbidden") },
    { 404, ngx_string("Not Found") },
    { 405, ngx_string("Method Not Allowed") },
    { 413, ngx_string("Content Too Large") },
    { 429, ngx_string("Too Many Requests") },
    { 500, ngx_string("Internal Server Error") },
    { 502, ngx_string("Bad Gateway") },
    { 503, ngx_string("Service Unavailable") },
    { 504, ngx_string("Gateway Timeout") },
    { 0, ngx_null_string }
};


static ngx_str_t  ngx_http_gw_problem_type_blank = ngx_string("about:blank");
static ngx_str_t  ngx_http_gw_problem_title_error = ngx_string("Error");
static ngx_str_t  ngx_http_gw_problem_content_type =
    ngx_string("application/problem+json");


static ngx_str_t *
ngx_http_gw_problem_title(ngx_uint_t status)
{
    ngx_http_gw_problem_title_t  *t;

    for (t = ngx_http_gw_problem_titles; t->status; t++) {
        if (t->status == status) {
            return &t->title;
        }
    }

    return &ngx_http_gw_problem_title_error;
}


ngx_int_t
ngx_http_gw_problem_body(ngx_pool_t *pool, ngx_http_gw_problem_t *problem,
    ngx_str_t *body)
{
    size_t      len;
    u_char     *p;
    ngx_str_t  *type, *title;

    type = problem->type.len ? &problem->type
                             : &ngx_http_gw_problem_type_blank;
    title = problem->title.len ? &problem->title
                               : ngx_http_gw_problem_title(problem->status);

    len = sizeof("{\"type\":\"\",\"title\":\"\",\"status\":,\"detail\":\"\"}")
          - 1 + NGX_INT_T_LEN + sizeof(CRLF) - 1
          + type->len + ngx_escape_json(NULL, type->data, type->len)
          + title->len + ngx_escape_json(NULL, title->data, title->len)
          + problem->detail.len
          + ngx_escape_json(NULL, problem->detail.data, problem->detail.len);

    p = ngx_pnalloc(pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    p = ngx_cpymem(p, "{\"type\":\"", sizeof("{\"type\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, type->data, type->len);
    p = ngx_cpymem(p, "\",\"title\":\"", sizeof("\",\"title\":\"") - 1);
    p = (u_char *) ngx_escape_json(p, title->data, title->len);
    p = ngx_sprintf(p, "\",\"status\":%ui", problem->status);

    if (problem->detail.len) {
        p = ngx_cpymem(p, ",\"detail\":\"", sizeof(",\"detail\":\"") - 1);
        p = (u_char *) ngx_escape_json(p, problem->detail.data,
                                       problem->detail.len);
        *p++ = '"';
    }

    *p++ = '}';
    *p++ = CR; *p++ = LF;

    body->len = p - body->data;

    return NGX_OK;
}


ngx_int_t
ngx_http_gw_problem_send(ngx_http_request_t *r,
    ngx_http_gw_problem_t *problem)
{
    ngx_int_t     rc;
    ngx_buf_t    *b;
    ngx_str_t     body;
    ngx_chain_t   out;

    if (ngx_http_gw_problem_has_error_page(r, problem->status)) {
        return problem->status;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    if (ngx_http_gw_problem_body(r->pool, problem, &body) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = problem->status;
    r->headers_out.content_type = ngx_http_gw_problem_content_type;
    r->headers_out.content_type_len = ngx_http_gw_problem_content_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = body.len;

    if (r->headers_out.content_length) {
        r->headers_out.content_length->hash = 0;
        r->headers_out.content_length = NULL;
    }

    ngx_http_clear_accept_ranges(r);
    ngx_http_clear_last_modified(r);
    ngx_http_clear_etag(r);

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body.data;
    b->last = body.data + body.len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


ngx_int_t
ngx_http_gw_problem_finalize(ngx_http_request_t *r,
    ngx_http_gw_problem_t *problem)
{
    ngx_http_finalize_request(r, ngx_http_gw_problem_send(r, problem));

    return NGX_DONE;
}


static ngx_uint_t
ngx_http_gw_problem_has_error_page(ngx_http_request_t *r, ngx_uint_t status)
{
    ngx_uint_t                 i;
    ngx_http_err_page_t       *err_page;
    ngx_http_core_loc_conf_t  *clcf;

    /* the conditions under which nginx itself would use an error_page */

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);

    if (r->error_page || clcf->error_pages == NULL || r->uri_changes == 0) {
        return 0;
    }

    err_page = clcf->error_pages->elts;

    for (i = 0; i < clcf->error_pages->nelts; i++) {
        if (err_page[i].status == (ngx_int_t) status) {
            return 1;
        }
    }

    return 0;
}

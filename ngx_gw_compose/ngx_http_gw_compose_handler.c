/*
 * Copyright (C) ngx_gw authors
 *
 * The request side of gw_compose: reads the client's body when a part
 * needs it, fires every part whose inputs are ready as an in-memory
 * background subrequest, and wakes up as parts finish or time out; the
 * answer is built in ngx_http_gw_compose_response.c.
 *
 * Parts are background subrequests so that the response never waits for
 * a part that timed out: nginx has no way to cancel a subrequest, so a late
 * part finishes on its own, holding only a reference to the request.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"
#include "ngx_http_gw_compose_module.h"


static void ngx_http_gw_compose_start(ngx_http_request_t *r);
static void ngx_http_gw_compose_resume(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_compose_schedule(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx);
static ngx_int_t ngx_http_gw_compose_start_part(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_http_gw_compose_part_t *p);
static ngx_int_t ngx_http_gw_compose_part_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_str_t *content_type, off_t length);
static ngx_int_t ngx_http_gw_compose_part_variables(ngx_http_request_t *r,
    ngx_http_request_t *sr);
static ngx_uint_t ngx_http_gw_compose_pass_header(
    ngx_http_gw_compose_loc_conf_t *conf, ngx_table_elt_t *h);
static ngx_int_t ngx_http_gw_compose_filter_headers(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx);
static ngx_int_t ngx_http_gw_compose_render(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_http_gw_compose_template_t *tpl,
    ngx_uint_t json, ngx_str_t *out);
static ngx_int_t ngx_http_gw_compose_render_value(ngx_pool_t *pool,
    json_t *v, ngx_uint_t json, ngx_str_t *out);
static ngx_int_t ngx_http_gw_compose_part_done(ngx_http_request_t *sr,
    void *data, ngx_int_t rc);
static void ngx_http_gw_compose_part_result(ngx_http_gw_compose_part_t *p,
    ngx_http_request_t *sr, ngx_int_t rc);
static ngx_uint_t ngx_http_gw_compose_status_ok(
    ngx_http_gw_compose_part_conf_t *conf, ngx_uint_t status);
static void ngx_http_gw_compose_part_timeout(ngx_event_t *ev);
static void ngx_http_gw_compose_timeout(ngx_event_t *ev);
static void ngx_http_gw_compose_trim(ngx_str_t *s);
static ngx_int_t ngx_http_gw_compose_read_body(ngx_http_request_t *r,
    ngx_str_t *body);
static void ngx_http_gw_compose_cleanup(void *data);


/*
 * Client headers that never reach a part: they would make the part's body
 * compressed, partial or empty (304), or they describe the client's body,
 * which a part may not receive.
 */
static ngx_str_t  ngx_http_gw_compose_never_pass[] = {
    ngx_string("accept-encoding"),
    ngx_string("range"),
    ngx_string("if-range"),
    ngx_string("if-match"),
    ngx_string("if-none-match"),
    ngx_string("if-modified-since"),
    ngx_string("if-unmodified-since"),
    ngx_string("content-length"),
    ngx_string("content-type"),
    ngx_string("transfer-encoding"),
    ngx_string("expect"),
    ngx_null_string
};


/*
 * nginx's shortcuts into headers_in.headers, forgotten with the header
 * (at most 64: the context keeps them as bits)
 */
static size_t  ngx_http_gw_compose_header_fields[] = {
    offsetof(ngx_http_headers_in_t, host),
    offsetof(ngx_http_headers_in_t, connection),
    offsetof(ngx_http_headers_in_t, if_modified_since),
    offsetof(ngx_http_headers_in_t, if_unmodified_since),
    offsetof(ngx_http_headers_in_t, if_match),
    offsetof(ngx_http_headers_in_t, if_none_match),
    offsetof(ngx_http_headers_in_t, user_agent),
    offsetof(ngx_http_headers_in_t, referer),
    offsetof(ngx_http_headers_in_t, content_length),
    offsetof(ngx_http_headers_in_t, content_range),
    offsetof(ngx_http_headers_in_t, content_type),
    offsetof(ngx_http_headers_in_t, range),
    offsetof(ngx_http_headers_in_t, if_range),
    offsetof(ngx_http_headers_in_t, transfer_encoding),
    offsetof(ngx_http_headers_in_t, te),
    offsetof(ngx_http_headers_in_t, expect),
    offsetof(ngx_http_headers_in_t, upgrade),
#if (NGX_HTTP_GZIP || NGX_HTTP_HEADERS)
    offsetof(ngx_http_headers_in_t, accept_encoding),
    offsetof(ngx_http_headers_in_t, via),
#endif
    offsetof(ngx_http_headers_in_t, authorization),
    offsetof(ngx_http_headers_in_t, keep_alive),
#if (NGX_HTTP_REALIP)
    offsetof(ngx_http_headers_in_t, x_real_ip),
#endif
#if (NGX_HTTP_HEADERS)
    offsetof(ngx_http_headers_in_t, accept),
    offsetof(ngx_http_headers_in_t, accept_language),
#endif
#if (NGX_HTTP_DAV)
    offsetof(ngx_http_headers_in_t, depth),
    offsetof(ngx_http_headers_in_t, destination),
    offsetof(ngx_http_headers_in_t, overwrite),
    offsetof(ngx_http_headers_in_t, date),
#endif
    0
};


static ngx_str_t  ngx_http_gw_compose_json_type =
    ngx_string("application/json");


ngx_int_t
ngx_http_gw_compose_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_uint_t                        i;
    ngx_pool_cleanup_t               *cln;
    ngx_http_gw_compose_ctx_t        *ctx;
    ngx_http_gw_compose_part_t       *p;
    ngx_http_gw_compose_loc_conf_t   *conf;
    ngx_http_gw_compose_part_conf_t  *pc;

    if (r != r->main) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "gw_compose cannot answer a subrequest");
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    conf = ngx_http_get_module_loc_conf(r, ngx_http_gw_compose_module);

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_gw_compose_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->kind = NGX_HTTP_GW_COMPOSE_MAIN;
    ctx->request = r;
    ctx->conf = conf;
    ctx->nparts = conf->parts->nelts;
    ctx->max_body = conf->max_body;
    ctx->complete = 1;

    ctx->parts = ngx_pcalloc(r->pool,
                             ctx->nparts * sizeof(ngx_http_gw_compose_part_t));
    if (ctx->parts == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    pc = conf->parts->elts;

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];
        p->kind = NGX_HTTP_GW_COMPOSE_PART;
        p->ctx = ctx;
        p->conf = &pc[i];
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    cln->handler = ngx_http_gw_compose_cleanup;
    cln->data = ctx;

    ngx_http_set_ctx(r, ctx, ngx_http_gw_compose_module);

    if (conf->needs_body) {
        rc = ngx_http_read_client_request_body(r, ngx_http_gw_compose_start);

        if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
            return rc;
        }

        return NGX_DONE;
    }

    rc = ngx_http_discard_request_body(r);

    if (rc != NGX_OK) {
        return rc;
    }

    r->main->count++;

    ngx_http_gw_compose_start(r);

    return NGX_DONE;
}


/* runs once the client's body is in, and owns the request from then on */

static void
ngx_http_gw_compose_start(ngx_http_request_t *r)
{
    ngx_str_t                   body;
    ngx_chain_t                *cl;
    json_error_t                err;
    ngx_http_gw_problem_t       problem;
    ngx_http_gw_compose_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_compose_module);

    if (r->request_body) {
        ctx->request_body = r->request_body->bufs;

        for (cl = ctx->request_body; cl; cl = cl->next) {
            ctx->request_body_len += ngx_buf_size(cl->buf);
        }
    }

    if (ctx->conf->request_json) {
        if (ngx_http_gw_compose_read_body(r, &body) != NGX_OK) {
            ctx->finished = 1;
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ctx->request_json = json_loadb((const char *) body.data, body.len,
                                       JSON_DECODE_ANY, &err);

        if (ctx->request_json == NULL) {
            ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                          "gw_compose: request body is not valid JSON: %s",
                          err.text);

            ctx->finished = 1;

            ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
            problem.status = NGX_HTTP_BAD_REQUEST;
            ngx_str_set(&problem.detail, "request body is not valid JSON");

            ngx_http_finalize_request(r,
                                      ngx_http_gw_problem_send(r, &problem));
            return;
        }
    }

    r->write_event_handler = ngx_http_gw_compose_resume;

    ctx->timer.handler = ngx_http_gw_compose_timeout;
    ctx->timer.data = ctx;
    ctx->timer.log = r->connection->log;

    ngx_add_timer(&ctx->timer, ctx->conf->timeout);

    ngx_http_gw_compose_resume(r);
}


/* the parent's write_event_handler: parts post it when they finish */

static void
ngx_http_gw_compose_resume(ngx_http_request_t *r)
{
    ngx_int_t                   rc;
    ngx_http_gw_compose_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_compose_module);

    if (ctx == NULL || ctx->kind != NGX_HTTP_GW_COMPOSE_MAIN
        || ctx->finished)
    {
        return;
    }

    rc = ngx_http_gw_compose_schedule(r, ctx);

    if (rc == NGX_AGAIN) {
        return;
    }

    ngx_http_gw_compose_finish(r, ctx, rc);
}


/*
 * Starts every part whose inputs are ready and skips those whose inputs
 * failed.  NGX_AGAIN: parts are still running; NGX_OK: all are done;
 * NGX_DONE: a required part failed, so the answer is known now.
 */

static ngx_int_t
ngx_http_gw_compose_schedule(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx)
{
    ngx_uint_t                   i, k, changed, ready, *dep;
    ngx_http_gw_compose_part_t  *p, *q;

    do {
        changed = 0;

        for (i = 0; i < ctx->nparts; i++) {
            p = &ctx->parts[i];

            if (p->state != NGX_HTTP_GW_COMPOSE_NEW) {
                continue;
            }

            ready = 1;
            dep = p->conf->deps->elts;

            for (k = 0; k < p->conf->deps->nelts; k++) {
                q = &ctx->parts[dep[k]];

                if (q->state != NGX_HTTP_GW_COMPOSE_DONE) {
                    ready = 0;
                    break;
                }

                if (!q->ok) {
                    ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                                  "gw_compose: part \"%V\" not called: "
                                  "part \"%V\" failed",
                                  &p->conf->name, &q->conf->name);

                    p->state = NGX_HTTP_GW_COMPOSE_DONE;
                    p->reason = "skipped";
                    ready = 0;
                    changed = 1;
                    break;
                }
            }

            if (!ready) {
                continue;
            }

            if (ngx_http_gw_compose_start_part(r, ctx, p) != NGX_OK) {
                return NGX_ERROR;
            }

            changed = 1;
        }

    } while (changed);

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];

        if (p->state == NGX_HTTP_GW_COMPOSE_DONE && !p->ok
            && !p->conf->optional)
        {
            return NGX_DONE;
        }
    }

    for (i = 0; i < ctx->nparts; i++) {
        if (ctx->parts[i].state != NGX_HTTP_GW_COMPOSE_DONE) {
            return NGX_AGAIN;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_compose_start_part(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_http_gw_compose_part_t *p)
{
    off_t                             length;
    u_char                           *q, *src;
    ngx_int_t                         rc;
    ngx_str_t                         full, uri, args, body, *ct;
    ngx_buf_t                        *b;
    ngx_chain_t                      *bufs;
    ngx_http_request_t               *sr;
    ngx_http_request_body_t          *rb;
    ngx_http_gw_compose_part_conf_t  *pc;

    pc = p->conf;

    rc = ngx_http_gw_compose_render(r, ctx, &pc->uri, 0, &full);

    if (rc == NGX_ERROR) {
        return NGX_ERROR;
    }

    if (rc == NGX_DECLINED || rc == NGX_ABORT) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "gw_compose: part \"%V\" not called: a value in "
                      "\"%V\" is missing", &pc->name, &pc->uri.source);
        p->state = NGX_HTTP_GW_COMPOSE_DONE;
        p->reason = (rc == NGX_ABORT) ? "bad_request" : "unresolved";
        return NGX_OK;
    }

    bufs = NULL;
    length = -1;
    ct = NULL;

    if (pc->method != NGX_HTTP_GET) {

        if (pc->body) {
            rc = ngx_http_gw_compose_render(r, ctx, pc->body, 1, &body);

            if (rc == NGX_ERROR) {
                return NGX_ERROR;
            }

            if (rc == NGX_DECLINED || rc == NGX_ABORT) {
                ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                              "gw_compose: part \"%V\" not called: a value "
                              "in \"%V\" is missing",
                              &pc->name, &pc->body->source);
                p->state = NGX_HTTP_GW_COMPOSE_DONE;
                p->reason = (rc == NGX_ABORT) ? "bad_request" : "unresolved";
                return NGX_OK;
            }

            length = body.len;
            ct = &ngx_http_gw_compose_json_type;

            if (body.len) {
                b = ngx_calloc_buf(r->pool);
                if (b == NULL) {
                    return NGX_ERROR;
                }

                b->pos = body.data;
                b->last = body.data + body.len;
                b->memory = 1;
                b->last_buf = 1;

                bufs = ngx_alloc_chain_link(r->pool);
                if (bufs == NULL) {
                    return NGX_ERROR;
                }

                bufs->buf = b;
                bufs->next = NULL;
            }

        } else {
            bufs = ctx->request_body;
            length = ctx->request_body_len;

            if (r->headers_in.content_type) {
                ct = &r->headers_in.content_type->value;
            }
        }
    }

    /* the path is matched against locations decoded, and sent as built */

    q = ngx_strlchr(full.data, full.data + full.len, '?');

    if (q) {
        args.data = q + 1;
        args.len = full.data + full.len - q - 1;
        uri.len = q - full.data;

    } else {
        ngx_str_null(&args);
        uri.len = full.len;
    }

    if (ngx_strlchr(full.data, full.data + uri.len, '%') == NULL) {

        /* nothing to decode: the path is the rendered one */

        uri.data = full.data;

    } else {
        uri.data = ngx_pnalloc(r->pool, uri.len);
        if (uri.data == NULL) {
            return NGX_ERROR;
        }

        q = uri.data;
        src = full.data;
        ngx_unescape_uri(&q, &src, uri.len, NGX_UNESCAPE_URI);
        uri.len = q - uri.data;
    }

    if (uri.len == 0 || uri.data[0] != '/'
        || !ngx_http_gw_compose_uri_safe(uri.data, uri.len))
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "gw_compose: part \"%V\" not called: unsafe uri "
                      "\"%V\"", &pc->name, &full);
        p->state = NGX_HTTP_GW_COMPOSE_DONE;
        p->reason = "unsafe_uri";
        return NGX_OK;
    }

    p->ps.handler = ngx_http_gw_compose_part_done;
    p->ps.data = p;

    if (ngx_http_subrequest(r, &uri, &args, &sr, &p->ps,
                            NGX_HTTP_SUBREQUEST_IN_MEMORY
                            |NGX_HTTP_SUBREQUEST_BACKGROUND)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    sr->unparsed_uri = full;
    sr->valid_unparsed_uri = 1;

    sr->method = pc->method;
    sr->method_name = pc->method_name;

    if (ngx_http_gw_compose_part_headers(r, sr, ct, length) != NGX_OK
        || ngx_http_gw_compose_part_variables(r, sr) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (length >= 0) {
        rb = ngx_pcalloc(r->pool, sizeof(ngx_http_request_body_t));
        if (rb == NULL) {
            return NGX_ERROR;
        }

        rb->bufs = bufs;
        sr->request_body = rb;

    } else {
        sr->request_body = NULL;
    }

    ngx_http_set_ctx(sr, p, ngx_http_gw_compose_module);

    p->sr = sr;
    p->state = NGX_HTTP_GW_COMPOSE_RUNNING;

    if (pc->timeout) {
        p->timer.handler = ngx_http_gw_compose_part_timeout;
        p->timer.data = p;
        p->timer.log = r->connection->log;

        ngx_add_timer(&p->timer, pc->timeout);
    }

    return NGX_OK;
}


/* the part's own copy of the client's headers, filtered */

static ngx_int_t
ngx_http_gw_compose_part_headers(ngx_http_request_t *r,
    ngx_http_request_t *sr, ngx_str_t *content_type, off_t length)
{
    size_t                     *off;
    ngx_uint_t                  i, k;
    ngx_list_part_t            *part;
    ngx_table_elt_t            *h, *nh;
    ngx_http_gw_compose_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_compose_module);

    if (ctx->pass == NULL
        && ngx_http_gw_compose_filter_headers(r, ctx) != NGX_OK)
    {
        return NGX_ERROR;
    }

    /* one more for Content-Type */

    if (ngx_list_init(&sr->headers_in.headers, r->pool, ctx->npass + 1,
                      sizeof(ngx_table_elt_t))
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    k = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++, k++) {

            /* a header added since the first part started does not pass */

            if (k >= ctx->nheaders || !ctx->pass[k]) {
                continue;
            }

            nh = ngx_list_push(&sr->headers_in.headers);
            if (nh == NULL) {
                return NGX_ERROR;
            }

            *nh = h[i];
        }
    }

    /* nginx's shortcuts to the headers that did not pass */

    for (off = ngx_http_gw_compose_header_fields, k = 0; *off; off++, k++) {
        if (ctx->forget & ((uint64_t) 1 << k)) {
            *(ngx_table_elt_t **) ((char *) &sr->headers_in + *off) = NULL;
        }
    }

    if (ctx->forget_user) {
        ngx_str_null(&sr->headers_in.user);
        ngx_str_null(&sr->headers_in.passwd);
    }

    if (ctx->forget_cookies) {
        sr->headers_in.cookies.nelts = 0;
    }

#if (NGX_HTTP_X_FORWARDED_FOR)
    if (ctx->forget_xff) {
        sr->headers_in.x_forwarded_for.nelts = 0;
    }
#endif

    if (content_type) {
        nh = ngx_list_push(&sr->headers_in.headers);
        if (nh == NULL) {
            return NGX_ERROR;
        }

        nh->hash = 1;
        ngx_str_set(&nh->key, "Content-Type");
        nh->value = *content_type;
        nh->lowcase_key = (u_char *) "content-type";

        sr->headers_in.content_type = nh;
    }

    sr->headers_in.content_length = NULL;
    sr->headers_in.content_length_n = length;
    sr->headers_in.transfer_encoding = NULL;
    sr->headers_in.chunked = 0;

    return NGX_OK;
}


/*
 * A subrequest shares its parent's cached variables, so a part would see
 * the client's $http_authorization even with the header cleared, and the
 * client's request would see the part's.  A part gets a copy instead, with
 * the values that depend on the headers or the URI left to be evaluated
 * again; what the parent computed (set, auth results) stays visible.
 */

static ngx_int_t
ngx_http_gw_compose_part_variables(ngx_http_request_t *r,
    ngx_http_request_t *sr)
{
    ngx_uint_t                        i, *index;
    ngx_http_core_main_conf_t        *cmcf;
    ngx_http_gw_compose_main_conf_t  *gmcf;

    cmcf = ngx_http_get_module_main_conf(r, ngx_http_core_module);
    gmcf = ngx_http_get_module_main_conf(r, ngx_http_gw_compose_module);

    sr->variables = ngx_palloc(r->pool, cmcf->variables.nelts
                                        * sizeof(ngx_http_variable_value_t));
    if (sr->variables == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(sr->variables, r->variables,
               cmcf->variables.nelts * sizeof(ngx_http_variable_value_t));

    index = gmcf->reset->elts;

    for (i = 0; i < gmcf->reset->nelts; i++) {
        sr->variables[index[i]].valid = 0;
        sr->variables[index[i]].not_found = 0;
    }

    return NGX_OK;
}


static ngx_uint_t
ngx_http_gw_compose_pass_header(ngx_http_gw_compose_loc_conf_t *conf,
    ngx_table_elt_t *h)
{
    ngx_str_t   *name;
    ngx_uint_t   i;

    for (name = ngx_http_gw_compose_never_pass; name->len; name++) {
        if (h->key.len == name->len
            && ngx_strncmp(h->lowcase_key, name->data, name->len) == 0)
        {
            return 0;
        }
    }

    if (conf->clear_headers) {
        name = conf->clear_headers->elts;

        for (i = 0; i < conf->clear_headers->nelts; i++) {
            if (h->key.len == name[i].len
                && ngx_strncmp(h->lowcase_key, name[i].data, name[i].len)
                   == 0)
            {
                return 0;
            }
        }
    }

    if (conf->pass_all) {
        return 1;
    }

    if (conf->pass_headers == NULL) {
        return 0;
    }

    name = conf->pass_headers->elts;

    for (i = 0; i < conf->pass_headers->nelts; i++) {
        if (h->key.len == name[i].len
            && ngx_strncmp(h->lowcase_key, name[i].data, name[i].len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/*
 * Which client headers pass to the parts and which of nginx's shortcuts
 * into them the parts must forget: the same for every part, so worked out
 * once per request.
 */

static ngx_int_t
ngx_http_gw_compose_filter_headers(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx)
{
    size_t            *off;
    ngx_uint_t         i, k, n, b;
    ngx_list_part_t   *part;
    ngx_table_elt_t   *h, **field;

    n = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        n += part->nelts;
    }

    ctx->pass = ngx_pnalloc(r->pool, n ? n : 1);
    if (ctx->pass == NULL) {
        return NGX_ERROR;
    }

    ctx->nheaders = n;

    k = 0;

    for (part = &r->headers_in.headers.part; part; part = part->next) {
        h = part->elts;

        for (i = 0; i < part->nelts; i++, k++) {

            if (h[i].hash == 0) {
                ctx->pass[k] = 0;
                continue;
            }

            ctx->pass[k] = (u_char) ngx_http_gw_compose_pass_header(ctx->conf,
                                                                    &h[i]);

            if (ctx->pass[k]) {
                ctx->npass++;
                continue;
            }

            for (off = ngx_http_gw_compose_header_fields, b = 0;
                 *off;
                 off++, b++)
            {
                field = (ngx_table_elt_t **) ((char *) &r->headers_in + *off);

                if (*field == &h[i]) {
                    ctx->forget |= (uint64_t) 1 << b;
                }
            }

            if (h[i].key.len == sizeof("authorization") - 1
                && ngx_strncmp(h[i].lowcase_key, "authorization",
                               h[i].key.len)
                   == 0)
            {
                ctx->forget_user = 1;
            }

            if (h[i].key.len == sizeof("cookie") - 1
                && ngx_strncmp(h[i].lowcase_key, "cookie", h[i].key.len) == 0)
            {
                ctx->forget_cookies = 1;
            }

#if (NGX_HTTP_X_FORWARDED_FOR)
            if (h[i].key.len == sizeof("x-forwarded-for") - 1
                && ngx_strncmp(h[i].lowcase_key, "x-forwarded-for",
                               h[i].key.len)
                   == 0)
            {
                ctx->forget_xff = 1;
            }
#endif
        }
    }

    return NGX_OK;
}


/*
 * Builds a URI (json == 0: values URL-escaped) or a body (json == 1:
 * values as JSON) from a template.  NGX_DECLINED: a value of a part is
 * missing; NGX_ABORT: a value of the client's body is.
 */

static ngx_int_t
ngx_http_gw_compose_render(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_http_gw_compose_template_t *tpl,
    ngx_uint_t json, ngx_str_t *out)
{
    u_char                         *p;
    size_t                          len;
    json_t                         *root, *v;
    ngx_str_t                      *piece;
    ngx_uint_t                      i, n;
    ngx_http_gw_compose_segment_t  *seg;

    n = tpl->segments->nelts;
    seg = tpl->segments->elts;

    piece = ngx_palloc(r->pool, (n ? n : 1) * sizeof(ngx_str_t));
    if (piece == NULL) {
        return NGX_ERROR;
    }

    len = 0;

    for (i = 0; i < n; i++) {

        if (seg[i].value) {
            if (ngx_http_complex_value(r, seg[i].value, &piece[i]) != NGX_OK)
            {
                return NGX_ERROR;
            }

        } else {
            root = (seg[i].part == NGX_HTTP_GW_COMPOSE_REQUEST)
                   ? ctx->request_json : ctx->parts[seg[i].part].raw;

            v = root ? ngx_http_gw_compose_json_get(root, seg[i].path)
                     : NULL;

            if (v == NULL) {
                return (seg[i].part == NGX_HTTP_GW_COMPOSE_REQUEST)
                       ? NGX_ABORT : NGX_DECLINED;
            }

            if (ngx_http_gw_compose_render_value(r->pool, v, json, &piece[i])
                != NGX_OK)
            {
                return NGX_ERROR;
            }
        }

        len += piece[i].len;
    }

    out->data = ngx_pnalloc(r->pool, len ? len : 1);
    if (out->data == NULL) {
        return NGX_ERROR;
    }

    p = out->data;

    for (i = 0; i < n; i++) {
        p = ngx_cpymem(p, piece[i].data, piece[i].len);
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_compose_render_value(ngx_pool_t *pool, json_t *v,
    ngx_uint_t json, ngx_str_t *out)
{
    size_t      len;
    u_char     *p;
    uintptr_t   escape;
    ngx_str_t   s;

    if (!json && json_is_string(v)) {
        s.data = (u_char *) json_string_value(v);
        s.len = json_string_length(v);

    } else if (!json && json_is_null(v)) {
        ngx_str_null(&s);

    } else {
        len = json_dumpb(v, NULL, 0, NGX_HTTP_GW_COMPOSE_JSON_FLAGS);
        if (len == 0) {
            return NGX_ERROR;
        }

        s.data = ngx_pnalloc(pool, len);
        if (s.data == NULL) {
            return NGX_ERROR;
        }

        s.len = json_dumpb(v, (char *) s.data, len,
                           NGX_HTTP_GW_COMPOSE_JSON_FLAGS);
    }

    if (json) {
        *out = s;
        return NGX_OK;
    }

    escape = 2 * ngx_escape_uri(NULL, s.data, s.len,
                                NGX_ESCAPE_URI_COMPONENT);

    if (escape == 0) {
        *out = s;
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, s.len + escape);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_escape_uri(p, s.data, s.len, NGX_ESCAPE_URI_COMPONENT);

    out->data = p;
    out->len = s.len + escape;

    return NGX_OK;
}


/*
 * The post-subrequest handler.  nginx calls it each time the part is
 * finalized (an error status first, then again after the error page), so
 * only the first final call counts, and its status is read before any
 * body.  It never returns an error: that would terminate the client's
 * request along with the part.
 */

static ngx_int_t
ngx_http_gw_compose_part_done(ngx_http_request_t *sr, void *data,
    ngx_int_t rc)
{
    ngx_http_gw_compose_part_t  *p = data;

    ngx_http_gw_compose_ctx_t  *ctx;

    if (rc == NGX_AGAIN && sr->buffered) {
        return rc;
    }

    p->answered = 1;

    if (p->state != NGX_HTTP_GW_COMPOSE_RUNNING) {
        return NGX_OK;
    }

    ctx = p->ctx;

    p->state = NGX_HTTP_GW_COMPOSE_DONE;

    if (p->timer.timer_set) {
        ngx_del_timer(&p->timer);
    }

    ngx_http_gw_compose_part_result(p, sr, rc);

    if (!ctx->finished) {
        (void) ngx_http_post_request(ctx->request, NULL);
    }

    return NGX_OK;
}


static void
ngx_http_gw_compose_part_result(ngx_http_gw_compose_part_t *p,
    ngx_http_request_t *sr, ngx_int_t rc)
{
    json_t                           *v;
    size_t                            len, off;
    ngx_buf_t                        *b;
    ngx_uint_t                        i, status;
    json_error_t                      err;
    ngx_http_gw_compose_rename_t     *rn;
    ngx_http_gw_compose_part_conf_t  *pc;

    pc = p->conf;

    status = sr->headers_out.status;

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        status = rc;

    } else if (status == 0) {
        status = (rc == NGX_OK) ? NGX_HTTP_OK : NGX_HTTP_BAD_GATEWAY;
    }

    p->status = status;

    if (p->too_big) {
        p->reason = "too_large";
        return;
    }

    if (rc == NGX_ERROR) {
        p->reason = "error";
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "gw_compose: part \"%V\" failed", &pc->name);
        return;
    }

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE
        || !ngx_http_gw_compose_status_ok(pc, status))
    {
        if (!ngx_http_gw_compose_status_ok(pc, status)) {
            ngx_log_error(NGX_LOG_WARN, sr->connection->log, 0,
                          "gw_compose: part \"%V\" answered %ui",
                          &pc->name, status);
            return;
        }

        /* an accepted error status: there is no body to read but nginx's */

        p->raw = json_null();
        p->value = json_null();
        p->ok = 1;
        return;
    }

    b = sr->out ? sr->out->buf : NULL;
    len = b ? (size_t) (b->last - b->pos) : 0;

    if (pc->verbatim) {
        if (len == 0) {
            ngx_str_set(&p->text, "null");
            p->ok = 1;
            return;
        }

        if (ngx_http_gw_compose_json_check(b->pos, len, &off) != NGX_OK) {
            p->reason = "invalid_json";
            ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                          "gw_compose: part \"%V\" returned invalid JSON "
                          "at offset %uz", &pc->name, off);
            return;
        }

        p->text.data = b->pos;
        p->text.len = len;

        ngx_http_gw_compose_trim(&p->text);

        p->ok = 1;
        return;
    }

    if (len == 0) {
        p->raw = json_null();

    } else {
        p->raw = json_loadb((const char *) b->pos, len, JSON_DECODE_ANY,
                            &err);

        if (p->raw == NULL) {
            p->reason = "invalid_json";
            ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                          "gw_compose: part \"%V\" returned invalid JSON: "
                          "%s at offset %d", &pc->name, err.text,
                          err.position);
            return;
        }
    }

    v = p->raw;

    if (pc->target) {
        v = ngx_http_gw_compose_json_get(v, pc->target);

        if (v == NULL) {
            p->reason = "no_target";
            ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                          "gw_compose: part \"%V\" has no target field",
                          &pc->name);
            return;
        }
    }

    if (pc->allow) {
        v = ngx_http_gw_compose_json_allow(v, pc->allow);

    } else if (pc->deny || pc->rename) {
        v = json_deep_copy(v);

    } else {
        v = json_incref(v);
    }

    if (v == NULL) {
        p->reason = "error";
        return;
    }

    p->value = v;

    if (pc->deny) {
        ngx_http_gw_compose_json_deny(v, pc->deny);
    }

    if (pc->rename) {
        rn = pc->rename->elts;

        for (i = 0; i < pc->rename->nelts; i++) {
            ngx_http_gw_compose_json_rename(v, rn[i].from, rn[i].to);
        }
    }

    if (pc->merge && !json_is_object(v)) {
        p->reason = "not_object";
        ngx_log_error(NGX_LOG_ERR, sr->connection->log, 0,
                      "gw_compose: part \"%V\" is merged but did not "
                      "return an object", &pc->name);
        return;
    }

    p->ok = 1;
}


static ngx_uint_t
ngx_http_gw_compose_status_ok(ngx_http_gw_compose_part_conf_t *conf,
    ngx_uint_t status)
{
    ngx_uint_t  i, *code;

    if (conf->status_ok == NULL) {
        return status >= 200 && status < 300;
    }

    code = conf->status_ok->elts;

    for (i = 0; i < conf->status_ok->nelts; i++) {
        if (code[i] == status) {
            return 1;
        }
    }

    return 0;
}


static void
ngx_http_gw_compose_part_timeout(ngx_event_t *ev)
{
    ngx_http_gw_compose_part_t  *p = ev->data;

    ngx_connection_t    *c;
    ngx_http_request_t  *r;

    r = p->ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (p->state == NGX_HTTP_GW_COMPOSE_RUNNING) {
        ngx_log_error(NGX_LOG_WARN, c->log, 0,
                      "gw_compose: part \"%V\" timed out after %Mms",
                      &p->conf->name, p->conf->timeout);

        p->state = NGX_HTTP_GW_COMPOSE_DONE;
        p->status = NGX_HTTP_GATEWAY_TIME_OUT;
        p->timedout = 1;
    }

    ngx_http_gw_compose_resume(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_gw_compose_timeout(ngx_event_t *ev)
{
    ngx_http_gw_compose_ctx_t  *ctx = ev->data;

    ngx_uint_t                   i;
    ngx_connection_t            *c;
    ngx_http_request_t          *r;
    ngx_http_gw_compose_part_t  *p;

    r = ctx->request;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    if (ctx->finished) {
        return;
    }

    ngx_log_error(NGX_LOG_WARN, c->log, 0,
                  "gw_compose: request timed out after %Mms",
                  ctx->conf->timeout);

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];

        if (p->state != NGX_HTTP_GW_COMPOSE_DONE) {
            p->state = NGX_HTTP_GW_COMPOSE_DONE;
            p->status = NGX_HTTP_GATEWAY_TIME_OUT;
            p->timedout = 1;
        }
    }

    ngx_http_gw_compose_finish(r, ctx, NGX_OK);

    ngx_http_run_posted_requests(c);
}


/* the client's body in one piece, from memory or the temporary file */

static ngx_int_t
ngx_http_gw_compose_read_body(ngx_http_request_t *r, ngx_str_t *body)
{
    u_char       *p;
    size_t        len, size;
    ssize_t       n;
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    ngx_str_null(body);

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    len = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);
    }

    p = ngx_pnalloc(r->pool, len ? len : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    body->data = p;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (ngx_buf_in_memory(b)) {
            p = ngx_cpymem(p, b->pos, b->last - b->pos);
            continue;
        }

        if (!b->in_file) {
            continue;       /* the last, empty buffer of a chunked body */
        }

        size = b->file_last - b->file_pos;

        n = ngx_read_file(b->file, p, size, b->file_pos);

        if (n != (ssize_t) size) {
            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "gw_compose: could not read the request body "
                          "from \"%V\"", &b->file->name);
            return NGX_ERROR;
        }

        p += size;
    }

    body->len = p - body->data;

    return NGX_OK;
}


static void
ngx_http_gw_compose_trim(ngx_str_t *s)
{
    while (s->len
           && (s->data[0] == ' ' || s->data[0] == '\t'
               || s->data[0] == CR || s->data[0] == LF))
    {
        s->data++;
        s->len--;
    }

    while (s->len
           && (s->data[s->len - 1] == ' ' || s->data[s->len - 1] == '\t'
               || s->data[s->len - 1] == CR || s->data[s->len - 1] == LF))
    {
        s->len--;
    }
}


static void
ngx_http_gw_compose_cleanup(void *data)
{
    ngx_http_gw_compose_ctx_t  *ctx = data;

    ngx_uint_t                   i;
    ngx_http_gw_compose_part_t  *p;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];

        if (p->timer.timer_set) {
            ngx_del_timer(&p->timer);
        }

        json_decref(p->raw);
        json_decref(p->value);
    }

    json_decref(ctx->request_json);
}

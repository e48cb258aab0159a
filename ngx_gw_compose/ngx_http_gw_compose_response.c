/*
 * Copyright (C) ngx_gw authors
 *
 * The answer of gw_compose: the merged JSON, or a problem naming the part
 * that failed, with the parts' outcomes in X-Gw-Compose-Parts.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_gw_shared.h"
#include "ngx_http_gw_compose_module.h"


typedef struct {
    const char                      *name;
    const char                      *detail;
} ngx_http_gw_compose_reason_t;


static ngx_int_t ngx_http_gw_compose_send_json(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx);
static ngx_buf_t *ngx_http_gw_compose_join(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx);
static ngx_int_t ngx_http_gw_compose_send_problem(ngx_http_request_t *r,
    ngx_http_gw_compose_part_t *p);
static ngx_int_t ngx_http_gw_compose_add_header(ngx_http_request_t *r,
    char *name, ngx_str_t *value);
static u_char *ngx_http_gw_compose_uint(u_char *p, ngx_uint_t n);


/* the problem's detail for each reason a part fails without a status */
static ngx_http_gw_compose_reason_t  ngx_http_gw_compose_reasons[] = {
    { "too_large", "returned a body larger than gw_compose_max_body" },
    { "invalid_json", "returned invalid JSON" },
    { "no_target", "returned no value at its target" },
    { "not_object", "returned no JSON object to merge" },
    { "skipped", "was not called because a part it needs failed" },
    { "unresolved", "was not called because a value it needs is missing" },
    { "bad_request", "needs a value the request body does not have" },
    { "unsafe_uri", "was not called because its URI is unsafe" },
    { "cancelled", "was cancelled" },
    { NULL, "failed" }
};


static ngx_str_t  ngx_http_gw_compose_json_type =
    ngx_string("application/json");


void
ngx_http_gw_compose_finish(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_int_t rc)
{
    ngx_str_t                    complete;
    ngx_uint_t                   i;
    ngx_http_gw_compose_part_t  *p, *failed;

    ctx->finished = 1;

    if (ctx->timer.timer_set) {
        ngx_del_timer(&ctx->timer);
    }

    failed = NULL;

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];

        if (p->timer.timer_set) {
            ngx_del_timer(&p->timer);
        }

        /* answering early: what is still pending will not be used */

        if (p->state == NGX_HTTP_GW_COMPOSE_RUNNING) {
            p->state = NGX_HTTP_GW_COMPOSE_DONE;
            p->reason = "cancelled";

        } else if (p->state == NGX_HTTP_GW_COMPOSE_NEW) {
            p->state = NGX_HTTP_GW_COMPOSE_DONE;
            p->reason = "skipped";
        }

        /*
         * a part still running holds the connection until it ends: tell
         * the client not to send its next request on it meanwhile
         */

        if (p->sr && !p->answered) {
            r->keepalive = 0;
        }

        if (!p->ok) {
            ctx->complete = 0;

            if (p->conf->optional) {
                continue;
            }

            /* name the cause rather than a part it stopped */

            if (failed == NULL
                || (failed->reason
                    && (ngx_strcmp(failed->reason, "cancelled") == 0
                        || ngx_strcmp(failed->reason, "skipped") == 0)
                    && (p->reason == NULL
                        || (ngx_strcmp(p->reason, "cancelled") != 0
                            && ngx_strcmp(p->reason, "skipped") != 0))))
            {
                failed = p;
            }
        }
    }

    if (rc == NGX_ERROR) {
        ctx->complete = 0;
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_gw_compose_summary(r, ctx, &ctx->summary) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ctx->complete) {
        ngx_str_set(&complete, "true");

    } else {
        ngx_str_set(&complete, "false");
    }

    if (ngx_http_gw_compose_add_header(r, "X-Gw-Compose-Parts",
                                       &ctx->summary)
        != NGX_OK
        || ngx_http_gw_compose_add_header(r, "X-Gw-Compose-Complete",
                                          &complete)
           != NGX_OK)
    {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (failed) {
        rc = ngx_http_gw_compose_send_problem(r, failed);

    } else {
        rc = ngx_http_gw_compose_send_json(r, ctx);
    }

    ngx_http_finalize_request(r, rc);
}


static ngx_int_t
ngx_http_gw_compose_send_json(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx)
{
    size_t                       len;
    json_t                      *root, *v, *old;
    ngx_int_t                    rc;
    ngx_buf_t                   *b;
    ngx_str_t                   *name;
    ngx_uint_t                   i;
    ngx_chain_t                  out;
    ngx_http_gw_compose_part_t  *p;

    if (!ctx->conf->has_merge) {
        b = ngx_http_gw_compose_join(r, ctx);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        goto send;
    }

    root = json_object();
    if (root == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];
        name = &p->conf->name;

        if (p->conf->merge) {
            if (p->ok
                && ngx_http_gw_compose_json_merge(root, p->value) != NGX_OK)
            {
                goto failed;
            }

            continue;
        }

        v = p->ok ? p->value : json_null();

        old = json_object_getn(root, (const char *) name->data, name->len);

        if (json_is_object(old) && json_is_object(v)) {
            if (ngx_http_gw_compose_json_merge(old, v) != NGX_OK) {
                goto failed;
            }

            continue;
        }

        if (json_object_setn(root, (const char *) name->data, name->len, v)
            != 0)
        {
            goto failed;
        }
    }

    len = json_dumpb(root, NULL, 0, NGX_HTTP_GW_COMPOSE_JSON_FLAGS);
    if (len == 0) {
        goto failed;
    }

    b = ngx_create_temp_buf(r->pool, len + 1);
    if (b == NULL) {
        goto failed;
    }

    b->last += json_dumpb(root, (char *) b->pos, len,
                          NGX_HTTP_GW_COMPOSE_JSON_FLAGS);
    *b->last++ = LF;

    json_decref(root);

send:

    b->last_buf = 1;
    b->last_in_chain = 1;

    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_type = ngx_http_gw_compose_json_type;
    r->headers_out.content_type_len = ngx_http_gw_compose_json_type.len;
    r->headers_out.content_type_lowcase = NULL;
    r->headers_out.content_length_n = b->last - b->pos;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);

failed:

    json_decref(root);

    return NGX_HTTP_INTERNAL_SERVER_ERROR;
}


/*
 * The response without merges: one key per part, the parts copied as sent
 * or written from their changed values.
 */

static ngx_buf_t *
ngx_http_gw_compose_join(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx)
{
    size_t                       len;
    ngx_buf_t                   *b;
    ngx_uint_t                   i;
    ngx_http_gw_compose_part_t  *p;

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];

        if (!p->ok) {
            ngx_str_set(&p->text, "null");

        } else if (p->text.data == NULL) {
            len = json_dumpb(p->value, NULL, 0,
                             NGX_HTTP_GW_COMPOSE_JSON_FLAGS);
            if (len == 0) {
                return NULL;
            }

            p->text.data = ngx_pnalloc(r->pool, len);
            if (p->text.data == NULL) {
                return NULL;
            }

            p->text.len = json_dumpb(p->value, (char *) p->text.data, len,
                                     NGX_HTTP_GW_COMPOSE_JSON_FLAGS);
        }
    }

    len = sizeof("{}\n") - 1;

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];
        len += sizeof(",\"\":") - 1 + p->conf->name.len + p->text.len;
    }

    b = ngx_create_temp_buf(r->pool, len);
    if (b == NULL) {
        return NULL;
    }

    *b->last++ = '{';

    for (i = 0; i < ctx->nparts; i++) {
        p = &ctx->parts[i];

        if (i) {
            *b->last++ = ',';
        }

        /* part names are plain ASCII letters, digits, "_" and "-" */

        *b->last++ = '"';
        b->last = ngx_cpymem(b->last, p->conf->name.data, p->conf->name.len);
        *b->last++ = '"';
        *b->last++ = ':';
        b->last = ngx_cpymem(b->last, p->text.data, p->text.len);
    }

    *b->last++ = '}';
    *b->last++ = LF;

    return b;
}


static ngx_int_t
ngx_http_gw_compose_send_problem(ngx_http_request_t *r,
    ngx_http_gw_compose_part_t *p)
{
    u_char                          *last;
    ngx_str_t                       *name;
    ngx_http_gw_problem_t            problem;
    ngx_http_gw_compose_reason_t    *reason;

    ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));

    name = &p->conf->name;

    if (p->timedout || p->status == NGX_HTTP_GATEWAY_TIME_OUT) {
        problem.status = NGX_HTTP_GATEWAY_TIME_OUT;

    } else if (p->reason && ngx_strcmp(p->reason, "bad_request") == 0) {
        problem.status = NGX_HTTP_BAD_REQUEST;

    } else {
        problem.status = NGX_HTTP_BAD_GATEWAY;
    }

    problem.detail.data = ngx_pnalloc(r->pool, name->len + 128);
    if (problem.detail.data == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (p->timedout) {
        last = ngx_sprintf(problem.detail.data, "part \"%V\" timed out",
                           name);

    } else if (p->reason == NULL) {
        last = ngx_sprintf(problem.detail.data,
                           "part \"%V\" failed with status %ui",
                           name, p->status);

    } else {
        for (reason = ngx_http_gw_compose_reasons; reason->name; reason++) {
            if (ngx_strcmp(reason->name, p->reason) == 0) {
                break;
            }
        }

        last = ngx_sprintf(problem.detail.data, "part \"%V\" %s",
                           name, reason->detail);
    }

    problem.detail.len = last - problem.detail.data;

    return ngx_http_gw_problem_send(r, &problem);
}


/* "product=200, reviews=504, seller=-:skipped" */

ngx_int_t
ngx_http_gw_compose_summary(ngx_http_request_t *r,
    ngx_http_gw_compose_ctx_t *ctx, ngx_str_t *out)
{
    u_char                      *p;
    size_t                       len;
    ngx_uint_t                   i;
    ngx_http_gw_compose_part_t  *part;

    if (ctx->summary.data) {
        *out = ctx->summary;
        return NGX_OK;
    }

    len = 0;

    for (i = 0; i < ctx->nparts; i++) {
        len += ctx->parts[i].conf->name.len + sizeof(", =:") - 1
               + NGX_INT_T_LEN + sizeof("unresolved") - 1;
    }

    p = ngx_pnalloc(r->pool, len ? len : 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

    for (i = 0; i < ctx->nparts; i++) {
        part = &ctx->parts[i];

        if (i) {
            *p++ = ','; *p++ = ' ';
        }

        /* written by hand: ngx_sprintf() cost more than the rest */

        p = ngx_cpymem(p, part->conf->name.data, part->conf->name.len);
        *p++ = '=';

        if (part->status) {
            p = ngx_http_gw_compose_uint(p, part->status);

        } else {
            *p++ = '-';
        }

        if (part->reason && !part->timedout) {
            *p++ = ':';
            p = ngx_cpymem(p, part->reason, ngx_strlen(part->reason));
        }
    }

    out->len = p - out->data;

    return NGX_OK;
}


static ngx_int_t
ngx_http_gw_compose_add_header(ngx_http_request_t *r, char *name,
    ngx_str_t *value)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value = *value;

    return NGX_OK;
}


static u_char *
ngx_http_gw_compose_uint(u_char *p, ngx_uint_t n)
{
    u_char  *q, buf[NGX_INT_T_LEN];

    q = buf + NGX_INT_T_LEN;

    do {
        *--q = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, q, buf + NGX_INT_T_LEN - q);
}


/*
 * Copyright (C) ngx_gw authors
 *
 * gw_metrics_show: the zone as Prometheus text 0.0.4, OpenMetrics 1.0,
 * JSON, or the dashboard page.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>
#include <nginx.h>

#include "ngx_http_gw_shared.h"
#include "ngx_http_gw_metrics_module.h"


#define NGX_HTTP_GW_METRICS_BUF_SIZE   262144
#define NGX_HTTP_GW_METRICS_LINE_MAX   16384


typedef struct {
    ngx_pool_t                   *pool;
    ngx_chain_t                  *first;
    ngx_chain_t                 **last;
    ngx_buf_t                    *buf;
    ngx_uint_t                    error;
    ngx_uint_t                    om;           /* OpenMetrics */
    ngx_uint_t                    started;      /* family header written */
    ngx_uint_t                    nsamples;     /* JSON: items written */
    ngx_http_gw_metrics_zone_t   *zone;
} ngx_http_gw_metrics_out_t;


typedef struct {
    ngx_uint_t                    kind;
    char                         *name;         /* of the family */
    char                         *type;
    char                         *unit;         /* NULL: none */
    char                         *help;
    char                         *json;         /* the JSON member */
    ngx_uint_t                    slot;         /* ROUTE counters */
} ngx_http_gw_metrics_family_t;


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    next;         /* in the chain, index + 1 */
    ngx_atomic_uint_t             requests;
    ngx_atomic_uint_t             errors;
    ngx_atomic_uint_t             request_bytes;
    ngx_atomic_uint_t             response_bytes;
    ngx_atomic_uint_t             last_seen;
} ngx_http_gw_metrics_consumer_t;


static ngx_uint_t ngx_http_gw_metrics_format(ngx_http_request_t *r,
    ngx_str_t *arg);
static u_char *ngx_http_gw_metrics_reserve(ngx_http_gw_metrics_out_t *o,
    size_t size);
static void ngx_http_gw_metrics_printf(ngx_http_gw_metrics_out_t *o,
    const char *fmt, ...);
static void ngx_http_gw_metrics_labels(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_node_t *node, char *le, ngx_uint_t braces);
static u_char *ngx_http_gw_metrics_seconds(u_char *p, uint64_t us,
    ngx_uint_t fixed);
static void ngx_http_gw_metrics_header(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_family_t *f);
static void ngx_http_gw_metrics_text(ngx_http_gw_metrics_out_t *o);
static void ngx_http_gw_metrics_text_counters(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_family_t *f);
static void ngx_http_gw_metrics_text_histogram(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_family_t *f);
static void ngx_http_gw_metrics_text_gauge(ngx_http_gw_metrics_out_t *o,
    char *name, char *type, char *unit, char *help, char *labels,
    uint64_t value);
static void ngx_http_gw_metrics_json(ngx_http_gw_metrics_out_t *o);
static void ngx_http_gw_metrics_json_labels(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_node_t *node);
static void ngx_http_gw_metrics_json_histogram(ngx_http_gw_metrics_out_t *o,
    ngx_atomic_t *slots, ngx_atomic_uint_t sum);
static void ngx_http_gw_metrics_json_consumers(ngx_http_gw_metrics_out_t *o);
static int ngx_http_gw_metrics_consumer_cmp(const void *one,
    const void *two);
static ngx_uint_t ngx_http_gw_metrics_kind(ngx_http_gw_metrics_node_t *node);
static u_char *ngx_http_gw_metrics_key(ngx_http_gw_metrics_node_t *node);


static ngx_http_gw_metrics_family_t  ngx_http_gw_metrics_families[] = {

    { NGX_HTTP_GW_METRICS_REQUESTS, "gw_http_requests", "counter", NULL,
      "HTTP requests by route, method and status code.", "requests", 0 },

    { NGX_HTTP_GW_METRICS_ROUTE, "gw_http_request_duration_seconds",
      "histogram", "seconds",
      "Time from the first byte of the request to the log phase.",
      NULL, 0 },

    { NGX_HTTP_GW_METRICS_ROUTE, "gw_upstream_response_duration_seconds",
      "histogram", "seconds",
      "Time spent on upstream responses, summed over the request's tries.",
      NULL, 1 },

    { NGX_HTTP_GW_METRICS_ROUTE, "gw_http_request_bytes", "counter", "bytes",
      "Bytes received from clients, request line and headers included.",
      NULL, 2 },

    { NGX_HTTP_GW_METRICS_ROUTE, "gw_http_response_bytes", "counter",
      "bytes", "Bytes sent to clients, headers included.", NULL, 3 },

    { NGX_HTTP_GW_METRICS_AUTH, "gw_auth_requests", "counter", NULL,
      "Authentication outcomes by route, method and result.", "auth", 0 },

    { NGX_HTTP_GW_METRICS_RATE, "gw_ratelimit_requests", "counter", NULL,
      "Rate limit decisions by route and result.", "ratelimit", 0 },

    { NGX_HTTP_GW_METRICS_CACHE, "gw_cache_requests", "counter", NULL,
      "Cache lookups by route and status.", "cache", 0 },

    { NGX_HTTP_GW_METRICS_COMPOSE, "gw_compose_parts", "counter", NULL,
      "Composed parts by route, part and result.", "compose", 0 },

    { 0, NULL, NULL, NULL, NULL, NULL, 0 }
};


/* in the order of the formats, NGX_HTTP_GW_METRICS_FMT_* */
static ngx_str_t  ngx_http_gw_metrics_media_types[] = {
    ngx_string("text/plain"),
    ngx_string("application/openmetrics-text"),
    ngx_string("application/json"),
    ngx_string("text/html")
};


static ngx_str_t  ngx_http_gw_metrics_type_text =
    ngx_string("text/plain; version=0.0.4; charset=utf-8");
static ngx_str_t  ngx_http_gw_metrics_type_om =
    ngx_string("application/openmetrics-text; version=1.0.0; charset=utf-8");
static ngx_str_t  ngx_http_gw_metrics_type_json =
    ngx_string("application/json");
static ngx_str_t  ngx_http_gw_metrics_type_html =
    ngx_string("text/html; charset=utf-8");


ngx_int_t
ngx_http_gw_metrics_show_handler(ngx_http_request_t *r)
{
    off_t                            len;
    ngx_int_t                        rc;
    ngx_str_t                        arg;
    ngx_uint_t                       format;
    ngx_buf_t                       *b;
    ngx_chain_t                     *cl;
    ngx_table_elt_t                 *h;
    ngx_http_gw_problem_t            problem;
    ngx_http_gw_metrics_out_t        o;
    ngx_http_gw_metrics_loc_conf_t  *mlcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
        problem.status = NGX_HTTP_NOT_ALLOWED;
        ngx_str_set(&problem.detail, "the metrics are read with GET or HEAD");
        return ngx_http_gw_problem_send(r, &problem);
    }

    format = ngx_http_gw_metrics_format(r, &arg);

    if (format == NGX_HTTP_GW_METRICS_FMT_UNKNOWN) {
        ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
        problem.status = NGX_HTTP_BAD_REQUEST;
        ngx_str_set(&problem.detail, "format must be prometheus, "
                                     "openmetrics, json or html");
        return ngx_http_gw_problem_send(r, &problem);
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    mlcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_metrics_module);

    ngx_memzero(&o, sizeof(ngx_http_gw_metrics_out_t));
    o.pool = r->pool;
    o.last = &o.first;
    o.zone = mlcf->show_zone->data;
    o.om = (format == NGX_HTTP_GW_METRICS_FMT_OPENMETRICS);

    switch (format) {

    case NGX_HTTP_GW_METRICS_FMT_HTML:
        r->headers_out.content_type = ngx_http_gw_metrics_type_html;
        break;

    case NGX_HTTP_GW_METRICS_FMT_JSON:
        r->headers_out.content_type = ngx_http_gw_metrics_type_json;
        ngx_http_gw_metrics_json(&o);
        break;

    case NGX_HTTP_GW_METRICS_FMT_OPENMETRICS:
        r->headers_out.content_type = ngx_http_gw_metrics_type_om;
        ngx_http_gw_metrics_text(&o);
        break;

    default:
        r->headers_out.content_type = ngx_http_gw_metrics_type_text;
        ngx_http_gw_metrics_text(&o);
    }

    if (format == NGX_HTTP_GW_METRICS_FMT_HTML) {
        b = ngx_calloc_buf(r->pool);
        if (b == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        b->pos = ngx_http_gw_metrics_dashboard.data;
        b->last = b->pos + ngx_http_gw_metrics_dashboard.len;
        b->memory = 1;

        o.first = ngx_alloc_chain_link(r->pool);
        if (o.first == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        o.first->buf = b;
        o.first->next = NULL;
    }

    if (o.error || o.first == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    len = 0;

    for (cl = o.first; cl; cl = cl->next) {
        len += ngx_buf_size(cl->buf);

        if (cl->next == NULL) {
            cl->buf->last_buf = (r == r->main) ? 1 : 0;
            cl->buf->last_in_chain = 1;
        }
    }

    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.status = NGX_HTTP_OK;
    r->headers_out.content_length_n = len;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Vary");
    ngx_str_set(&h->value, "Accept");

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Cache-Control");
    ngx_str_set(&h->value, "no-store");

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    return ngx_http_output_filter(r, o.first);
}


static ngx_uint_t
ngx_http_gw_metrics_format(ngx_http_request_t *r, ngx_str_t *arg)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    if (ngx_http_arg(r, (u_char *) "format", 6, arg) == NGX_OK) {
        return ngx_http_gw_metrics_format_name(arg->data, arg->len);
    }

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].key.len == sizeof("Accept") - 1
            && ngx_strncasecmp(h[i].key.data, (u_char *) "Accept",
                               sizeof("Accept") - 1) == 0)
        {
            return ngx_http_gw_metrics_parse_accept(h[i].value.data,
                                                    h[i].value.len);
        }
    }

    return NGX_HTTP_GW_METRICS_FMT_PROMETHEUS;
}


ngx_uint_t
ngx_http_gw_metrics_format_name(u_char *p, size_t len)
{
    if ((len == 10 && ngx_strncmp(p, "prometheus", 10) == 0)
        || (len == 4 && ngx_strncmp(p, "text", 4) == 0))
    {
        return NGX_HTTP_GW_METRICS_FMT_PROMETHEUS;
    }

    if (len == 11 && ngx_strncmp(p, "openmetrics", 11) == 0) {
        return NGX_HTTP_GW_METRICS_FMT_OPENMETRICS;
    }

    if (len == 4 && ngx_strncmp(p, "json", 4) == 0) {
        return NGX_HTTP_GW_METRICS_FMT_JSON;
    }

    if (len == 4 && ngx_strncmp(p, "html", 4) == 0) {
        return NGX_HTTP_GW_METRICS_FMT_HTML;
    }

    return NGX_HTTP_GW_METRICS_FMT_UNKNOWN;
}


/*
 * The format an Accept header prefers: each format takes the quality of
 * the most specific media range that matches it; the highest quality wins,
 * ties go to the earlier format (Prometheus text first).  Without any
 * match, Prometheus text.
 */

ngx_uint_t
ngx_http_gw_metrics_parse_accept(u_char *p, size_t len)
{
    u_char      *last, *range, *end, *slash, *semi, *q;
    size_t       n;
    ngx_int_t    quality;
    ngx_uint_t   i, spec, best, best_q;
    ngx_str_t   *types;
    ngx_uint_t   fq[4], fs[4];

    types = ngx_http_gw_metrics_media_types;

    for (i = 0; i < 4; i++) {
        fq[i] = 0;
        fs[i] = 0;
    }

    last = p + len;

    while (p < last) {

        while (p < last && (*p == ' ' || *p == ',' || *p == '\t')) {
            p++;
        }

        range = p;

        while (p < last && *p != ',') {
            p++;
        }

        end = p;

        semi = ngx_strlchr(range, end, ';');
        n = (semi ? semi : end) - range;

        while (n && (range[n - 1] == ' ' || range[n - 1] == '\t')) {
            n--;
        }

        slash = ngx_strlchr(range, range + n, '/');
        if (slash == NULL) {
            continue;
        }

        /* the quality, in thousandths */

        quality = 1000;

        while (semi) {
            q = semi + 1;

            while (q < end && (*q == ' ' || *q == '\t')) {
                q++;
            }

            semi = ngx_strlchr(q, end, ';');

            if (end - q > 2 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
                q += 2;
                n = (semi ? semi : end) - q;

                while (n && (q[n - 1] == ' ' || q[n - 1] == '\t')) {
                    n--;
                }

                quality = ngx_atofp(q, n, 3);

                if (quality == NGX_ERROR || quality > 1000) {
                    quality = 0;
                }
            }
        }

        n = (slash - range);

        for (i = 0; i < 4; i++) {

            if (n == 1 && range[0] == '*') {
                spec = 1;

            } else if (n < types[i].len
                       && (size_t) (end - range) > n
                       && ngx_strncasecmp(range, types[i].data, n + 1) == 0)
            {
                if (slash + 2 <= end && slash[1] == '*'
                    && (slash + 2 == end || slash[2] == ';'
                        || slash[2] == ' '))
                {
                    spec = 2;

                } else if ((size_t) (end - range) >= types[i].len
                           && ngx_strncasecmp(range, types[i].data,
                                              types[i].len) == 0
                           && (range + types[i].len == end
                               || range[types[i].len] == ';'
                               || range[types[i].len] == ' '))
                {
                    spec = 3;

                } else {
                    continue;
                }

            } else {
                continue;
            }

            if (spec > fs[i]) {
                fs[i] = spec;
                fq[i] = quality;
            }
        }
    }

    best = NGX_HTTP_GW_METRICS_FMT_PROMETHEUS;
    best_q = 0;

    for (i = 0; i < 4; i++) {
        if (fq[i] > best_q) {
            best = i;
            best_q = fq[i];
        }
    }

    return best;
}


static u_char *
ngx_http_gw_metrics_reserve(ngx_http_gw_metrics_out_t *o, size_t size)
{
    ngx_buf_t    *b;
    ngx_chain_t  *cl;

    if (o->error) {
        return NULL;
    }

    if (o->buf && (size_t) (o->buf->end - o->buf->last) >= size) {
        return o->buf->last;
    }

    b = ngx_create_temp_buf(o->pool, ngx_max(size,
                                             NGX_HTTP_GW_METRICS_BUF_SIZE));
    if (b == NULL) {
        o->error = 1;
        return NULL;
    }

    cl = ngx_alloc_chain_link(o->pool);
    if (cl == NULL) {
        o->error = 1;
        return NULL;
    }

    cl->buf = b;
    cl->next = NULL;

    *o->last = cl;
    o->last = &cl->next;
    o->buf = b;

    return b->last;
}


static void
ngx_http_gw_metrics_printf(ngx_http_gw_metrics_out_t *o, const char *fmt,
    ...)
{
    u_char   *p;
    va_list   args;

    p = ngx_http_gw_metrics_reserve(o, NGX_HTTP_GW_METRICS_LINE_MAX);
    if (p == NULL) {
        return;
    }

    va_start(args, fmt);
    p = ngx_vslprintf(p, p + NGX_HTTP_GW_METRICS_LINE_MAX, fmt, args);
    va_end(args);

    o->buf->last = p;
}


static ngx_uint_t
ngx_http_gw_metrics_kind(ngx_http_gw_metrics_node_t *node)
{
    return ngx_http_gw_metrics_key(node)[0];
}


static u_char *
ngx_http_gw_metrics_key(ngx_http_gw_metrics_node_t *node)
{
    return ngx_http_gw_metrics_node_key(node);
}


/* {name="value",...} with Prometheus's escapes, and "le" last if given */

static void
ngx_http_gw_metrics_labels(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_node_t *node, char *le, ngx_uint_t braces)
{
    u_char      *p, *k, *last, *v, *vlast;
    ngx_str_t    name, value;
    ngx_uint_t   n;

    p = ngx_http_gw_metrics_reserve(o, NGX_HTTP_GW_METRICS_LINE_MAX);
    if (p == NULL) {
        return;
    }

    k = ngx_http_gw_metrics_key(node);
    last = k + node->len;
    k++;

    if (braces) {
        *p++ = '{';
    }

    n = 0;

    for ( ;; ) {
        k = ngx_http_gw_metrics_next_label(k, last, &name, &value);
        if (k == NULL) {
            break;
        }

        if (n++) {
            *p++ = ',';
        }

        p = ngx_cpymem(p, name.data, name.len);
        *p++ = '=';
        *p++ = '"';

        for (v = value.data, vlast = v + value.len; v < vlast; v++) {
            switch (*v) {
            case '\\':
                *p++ = '\\'; *p++ = '\\';
                break;
            case '"':
                *p++ = '\\'; *p++ = '"';
                break;
            case '\n':
                *p++ = '\\'; *p++ = 'n';
                break;
            default:
                *p++ = *v;
            }
        }

        *p++ = '"';
    }

    if (le) {
        if (n) {
            *p++ = ',';
        }

        p = ngx_sprintf(p, "le=\"%s\"", le);
    }

    if (braces) {
        *p++ = '}';
    }

    o->buf->last = p;
}


/* seconds from microseconds: "0.005", "1.0"; or six decimals if fixed */

static u_char *
ngx_http_gw_metrics_seconds(u_char *p, uint64_t us, ngx_uint_t fixed)
{
    u_char    frac[8];
    size_t    n;

    p = ngx_sprintf(p, "%uL.", (uint64_t) (us / 1000000));

    ngx_sprintf(frac, "%06uL", (uint64_t) (us % 1000000));

    n = 6;

    if (!fixed) {
        while (n > 1 && frac[n - 1] == '0') {
            n--;
        }
    }

    return ngx_cpymem(p, frac, n);
}


static void
ngx_http_gw_metrics_header(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_family_t *f)
{
    char  *suffix;

    if (o->started) {
        return;
    }

    o->started = 1;

    if (o->om) {
        ngx_http_gw_metrics_printf(o, "# TYPE %s %s\n", f->name, f->type);

        if (f->unit) {
            ngx_http_gw_metrics_printf(o, "# UNIT %s %s\n", f->name,
                                       f->unit);
        }

        ngx_http_gw_metrics_printf(o, "# HELP %s %s\n", f->name, f->help);
        return;
    }

    suffix = (ngx_strcmp(f->type, "counter") == 0) ? "_total" : "";

    ngx_http_gw_metrics_printf(o, "# HELP %s%s %s\n# TYPE %s%s %s\n",
                               f->name, suffix, f->help, f->name, suffix,
                               f->type);
}


static void
ngx_http_gw_metrics_text(ngx_http_gw_metrics_out_t *o)
{
    time_t                         start;
    ngx_http_gw_metrics_family_t  *f;
    ngx_http_gw_metrics_shctx_t   *sh;
    u_char                         zl[NGX_HTTP_GW_METRICS_MAX_VALUE + 16];

    sh = o->zone->sh;

    for (f = ngx_http_gw_metrics_families; f->name; f++) {
        o->started = 0;

        if (ngx_strcmp(f->type, "histogram") == 0) {
            ngx_http_gw_metrics_text_histogram(o, f);

        } else {
            ngx_http_gw_metrics_text_counters(o, f);
        }
    }

#if (NGX_STAT_STUB)

    ngx_http_gw_metrics_text_gauge(o, "gw_nginx_connections_active", "gauge",
                                   NULL, "Open client connections.", NULL,
                                   *ngx_stat_active);
    ngx_http_gw_metrics_text_gauge(o, "gw_nginx_connections_reading",
                                   "gauge", NULL,
                                   "Connections reading a request header.",
                                   NULL, *ngx_stat_reading);
    ngx_http_gw_metrics_text_gauge(o, "gw_nginx_connections_writing",
                                   "gauge", NULL,
                                   "Connections writing a response.", NULL,
                                   *ngx_stat_writing);
    ngx_http_gw_metrics_text_gauge(o, "gw_nginx_connections_waiting",
                                   "gauge", NULL,
                                   "Idle keepalive connections.", NULL,
                                   *ngx_stat_waiting);
    ngx_http_gw_metrics_text_gauge(o, "gw_nginx_connections_accepted",
                                   "counter", NULL,
                                   "Client connections accepted.", NULL,
                                   *ngx_stat_accepted);
    ngx_http_gw_metrics_text_gauge(o, "gw_nginx_connections_handled",
                                   "counter", NULL,
                                   "Client connections handled.", NULL,
                                   *ngx_stat_handled);

#endif

    ngx_sprintf(zl, "zone=\"%V\"%Z", &o->zone->name);

    ngx_http_gw_metrics_text_gauge(o, "gw_metrics_series", "gauge", NULL,
                                   "Series held by the metrics zone.",
                                   (char *) zl, sh->nseries);
    ngx_http_gw_metrics_text_gauge(o, "gw_metrics_series_max", "gauge", NULL,
                                   "The zone's max_series.", (char *) zl,
                                   o->zone->max_series);
    ngx_http_gw_metrics_text_gauge(o, "gw_metrics_overflow_updates",
                                   "counter", NULL,
                                   "Updates counted under __overflow__.",
                                   (char *) zl, sh->overflowed);
    ngx_http_gw_metrics_text_gauge(o, "gw_metrics_updates_dropped",
                                   "counter", NULL,
                                   "Updates lost because the zone was full.",
                                   (char *) zl, sh->dropped);

    ngx_http_gw_metrics_text_gauge(o, o->om ? "gw_build" : "gw_build_info",
                                   o->om ? "info" : "gauge", NULL,
                                   "The ngx_gw and nginx versions.",
                                   "version=\"" NGX_HTTP_GW_VERSION "\","
                                   "nginx_version=\"" NGINX_VERSION "\"", 1);

    start = sh->start_time;

    ngx_http_gw_metrics_text_gauge(o, "process_start_time_seconds", "gauge",
                                   "seconds",
                                   "When the counters started: the creation "
                                   "of the metrics zone, in Unix time.",
                                   NULL, (uint64_t) start);

    if (o->om) {
        ngx_http_gw_metrics_printf(o, "# EOF\n");
    }
}


static void
ngx_http_gw_metrics_text_gauge(ngx_http_gw_metrics_out_t *o, char *name,
    char *type, char *unit, char *help, char *labels, uint64_t value)
{
    char                          *suffix;
    ngx_http_gw_metrics_family_t   f;

    f.name = name;
    f.type = type;
    f.unit = unit;
    f.help = help;

    o->started = 0;
    ngx_http_gw_metrics_header(o, &f);

    if (ngx_strcmp(type, "counter") == 0) {
        suffix = "_total";

    } else if (ngx_strcmp(type, "info") == 0) {
        suffix = "_info";

    } else {
        suffix = "";
    }

    ngx_http_gw_metrics_printf(o, "%s%s%s%s%s %uL\n", name, suffix,
                               labels ? "{" : "", labels ? labels : "",
                               labels ? "}" : "", value);
}


static void
ngx_http_gw_metrics_text_counters(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_family_t *f)
{
    ngx_uint_t                    i, nb;
    ngx_atomic_uint_t             value;
    ngx_http_gw_metrics_node_t   *node;
    ngx_http_gw_metrics_shctx_t  *sh;

    sh = o->zone->sh;
    nb = sh->nbuckets;

    for (i = 0; i < sh->nheads; i++) {
        for (node = sh->heads[i]; node; node = node->next) {

            if (ngx_http_gw_metrics_kind(node) != f->kind) {
                continue;
            }

            if (f->kind != NGX_HTTP_GW_METRICS_ROUTE) {
                value = node->values[0];

            } else if (f->slot == 2) {
                value = node->values[NGX_HTTP_GW_METRICS_REQ_BYTES(nb)];

            } else {
                value = node->values[NGX_HTTP_GW_METRICS_RESP_BYTES(nb)];
            }

            ngx_http_gw_metrics_header(o, f);
            ngx_http_gw_metrics_printf(o, "%s_total", f->name);
            ngx_http_gw_metrics_labels(o, node, NULL, 1);
            ngx_http_gw_metrics_printf(o, " %uA\n", value);
        }
    }
}


static void
ngx_http_gw_metrics_text_histogram(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_family_t *f)
{
    u_char                        *p;
    ngx_uint_t                     i, j, nb;
    ngx_atomic_t                  *slots;
    ngx_atomic_uint_t              count, sum;
    ngx_http_gw_metrics_node_t    *node;
    ngx_http_gw_metrics_shctx_t   *sh;
    u_char                         le[32];

    sh = o->zone->sh;
    nb = sh->nbuckets;

    for (i = 0; i < sh->nheads; i++) {
        for (node = sh->heads[i]; node; node = node->next) {

            if (ngx_http_gw_metrics_kind(node) != NGX_HTTP_GW_METRICS_ROUTE) {
                continue;
            }

            if (f->slot == 0) {
                slots = &node->values[NGX_HTTP_GW_METRICS_DUR(nb)];
                sum = node->values[NGX_HTTP_GW_METRICS_DUR_SUM(nb)];

            } else {
                slots = &node->values[NGX_HTTP_GW_METRICS_UP(nb)];
                sum = node->values[NGX_HTTP_GW_METRICS_UP_SUM(nb)];
            }

            /* one snapshot, so that +Inf and _count agree */

            count = 0;

            for (j = 0; j <= nb; j++) {
                count += slots[j];
            }

            if (count == 0) {
                continue;
            }

            ngx_http_gw_metrics_header(o, f);

            count = 0;

            for (j = 0; j <= nb; j++) {
                count += slots[j];

                if (j < nb) {
                    p = ngx_http_gw_metrics_seconds(le, sh->buckets[j], 0);
                    *p = '\0';

                } else {
                    ngx_cpystrn(le, (u_char *) "+Inf", sizeof("+Inf"));
                }

                ngx_http_gw_metrics_printf(o, "%s_bucket", f->name);
                ngx_http_gw_metrics_labels(o, node, (char *) le, 1);
                ngx_http_gw_metrics_printf(o, " %uA\n", count);
            }

            ngx_http_gw_metrics_printf(o, "%s_sum", f->name);
            ngx_http_gw_metrics_labels(o, node, NULL, 1);

            p = ngx_http_gw_metrics_reserve(o, 64);
            if (p == NULL) {
                return;
            }

            *p++ = ' ';
            p = ngx_http_gw_metrics_seconds(p, sum, 1);
            *p++ = '\n';
            o->buf->last = p;

            ngx_http_gw_metrics_printf(o, "%s_count", f->name);
            ngx_http_gw_metrics_labels(o, node, NULL, 1);
            ngx_http_gw_metrics_printf(o, " %uA\n", count);
        }
    }
}


static void
ngx_http_gw_metrics_json(ngx_http_gw_metrics_out_t *o)
{
    u_char                        *p;
    ngx_uint_t                     i, j, nb, pages, used;
    ngx_time_t                    *tp;
    ngx_atomic_t                  *v;
    ngx_http_gw_metrics_family_t  *f;
    ngx_http_gw_metrics_node_t    *node;
    ngx_http_gw_metrics_shctx_t   *sh;

    sh = o->zone->sh;
    nb = sh->nbuckets;
    tp = ngx_timeofday();

    pages = (o->zone->shpool->end - o->zone->shpool->start) / ngx_pagesize;
    used = (pages - o->zone->shpool->pfree) * ngx_pagesize;

    ngx_http_gw_metrics_printf(o,
        "{\"version\":\"" NGX_HTTP_GW_VERSION "\","
        "\"nginx_version\":\"" NGINX_VERSION "\","
        "\"time\":%T.%03M,\"start_time\":%T,"
        "\"zone\":{\"name\":\"%V\",\"series\":%uA,\"max_series\":%ui,"
        "\"overflow_updates\":%uA,\"dropped_updates\":%uA,"
        "\"size\":%uz,\"used_bytes\":%ui},",
        tp->sec, tp->msec, sh->start_time, &o->zone->name, sh->nseries,
        o->zone->max_series, sh->overflowed, sh->dropped,
        (size_t) (o->zone->shpool->end - (u_char *) o->zone->shpool), used);

#if (NGX_STAT_STUB)

    ngx_http_gw_metrics_printf(o,
        "\"connections\":{\"active\":%uA,\"reading\":%uA,\"writing\":%uA,"
        "\"waiting\":%uA,\"accepted\":%uA,\"handled\":%uA,"
        "\"requests\":%uA},",
        *ngx_stat_active, *ngx_stat_reading, *ngx_stat_writing,
        *ngx_stat_waiting, *ngx_stat_accepted, *ngx_stat_handled,
        *ngx_stat_requests);

#endif

    ngx_http_gw_metrics_printf(o, "\"buckets\":[");

    for (j = 0; j < nb; j++) {
        p = ngx_http_gw_metrics_reserve(o, 64);
        if (p == NULL) {
            return;
        }

        if (j) {
            *p++ = ',';
        }

        o->buf->last = ngx_http_gw_metrics_seconds(p, sh->buckets[j], 0);
    }

    ngx_http_gw_metrics_printf(o, "],\"routes\":[");

    o->nsamples = 0;

    for (i = 0; i < sh->nheads; i++) {
        for (node = sh->heads[i]; node; node = node->next) {

            if (ngx_http_gw_metrics_kind(node) != NGX_HTTP_GW_METRICS_ROUTE) {
                continue;
            }

            v = node->values;

            ngx_http_gw_metrics_printf(o, "%s{", o->nsamples++ ? "," : "");
            ngx_http_gw_metrics_json_labels(o, node);
            ngx_http_gw_metrics_printf(o,
                ",\"requests\":%uA,\"errors_4xx\":%uA,\"errors_5xx\":%uA,"
                "\"request_bytes\":%uA,\"response_bytes\":%uA,"
                "\"last_seen\":%uA,\"duration\":",
                v[NGX_HTTP_GW_METRICS_NREQUESTS(nb)],
                v[NGX_HTTP_GW_METRICS_ERR4(nb)],
                v[NGX_HTTP_GW_METRICS_ERR5(nb)],
                v[NGX_HTTP_GW_METRICS_REQ_BYTES(nb)],
                v[NGX_HTTP_GW_METRICS_RESP_BYTES(nb)],
                v[NGX_HTTP_GW_METRICS_LAST_SEEN(nb)]);

            ngx_http_gw_metrics_json_histogram(o,
                                     &v[NGX_HTTP_GW_METRICS_DUR(nb)],
                                     v[NGX_HTTP_GW_METRICS_DUR_SUM(nb)]);

            ngx_http_gw_metrics_printf(o, ",\"upstream\":");

            ngx_http_gw_metrics_json_histogram(o,
                                     &v[NGX_HTTP_GW_METRICS_UP(nb)],
                                     v[NGX_HTTP_GW_METRICS_UP_SUM(nb)]);

            ngx_http_gw_metrics_printf(o, "}");
        }
    }

    ngx_http_gw_metrics_printf(o, "]");

    for (f = ngx_http_gw_metrics_families; f->name; f++) {
        if (f->json == NULL) {
            continue;
        }

        ngx_http_gw_metrics_printf(o, ",\"%s\":[", f->json);

        o->nsamples = 0;

        for (i = 0; i < sh->nheads; i++) {
            for (node = sh->heads[i]; node; node = node->next) {

                if (ngx_http_gw_metrics_kind(node) != f->kind) {
                    continue;
                }

                ngx_http_gw_metrics_printf(o, "%s{", o->nsamples++ ? "," : "");
                ngx_http_gw_metrics_json_labels(o, node);
                ngx_http_gw_metrics_printf(o, ",\"value\":%uA}",
                                           node->values[0]);
            }
        }

        ngx_http_gw_metrics_printf(o, "]");
    }

    ngx_http_gw_metrics_json_consumers(o);

    ngx_http_gw_metrics_printf(o, "}\n");
}


static void
ngx_http_gw_metrics_json_labels(ngx_http_gw_metrics_out_t *o,
    ngx_http_gw_metrics_node_t *node)
{
    u_char      *p, *k, *last;
    ngx_str_t    name, value;
    ngx_uint_t   n;

    p = ngx_http_gw_metrics_reserve(o, NGX_HTTP_GW_METRICS_LINE_MAX);
    if (p == NULL) {
        return;
    }

    k = ngx_http_gw_metrics_key(node);
    last = k + node->len;
    k++;

    p = ngx_cpymem(p, "\"labels\":{", sizeof("\"labels\":{") - 1);

    n = 0;

    for ( ;; ) {
        k = ngx_http_gw_metrics_next_label(k, last, &name, &value);
        if (k == NULL) {
            break;
        }

        if (n++) {
            *p++ = ',';
        }

        *p++ = '"';
        p = ngx_cpymem(p, name.data, name.len);
        *p++ = '"';
        *p++ = ':';
        *p++ = '"';
        p = (u_char *) ngx_escape_json(p, value.data, value.len);
        *p++ = '"';
    }

    *p++ = '}';

    o->buf->last = p;
}


static void
ngx_http_gw_metrics_json_histogram(ngx_http_gw_metrics_out_t *o,
    ngx_atomic_t *slots, ngx_atomic_uint_t sum)
{
    u_char             *p;
    ngx_uint_t          j, nb;
    ngx_atomic_uint_t   count;

    nb = o->zone->sh->nbuckets;

    p = ngx_http_gw_metrics_reserve(o, NGX_HTTP_GW_METRICS_LINE_MAX);
    if (p == NULL) {
        return;
    }

    p = ngx_cpymem(p, "{\"buckets\":[", sizeof("{\"buckets\":[") - 1);

    count = 0;

    for (j = 0; j <= nb; j++) {
        count += slots[j];
        p = ngx_sprintf(p, "%s%uA", j ? "," : "", count);
    }

    p = ngx_cpymem(p, "],\"sum\":", sizeof("],\"sum\":") - 1);
    p = ngx_http_gw_metrics_seconds(p, sum, 1);
    p = ngx_sprintf(p, ",\"count\":%uA}", count);

    o->buf->last = p;
}


/* usage per value of a label named "consumer", over all routes */

static void
ngx_http_gw_metrics_json_consumers(ngx_http_gw_metrics_out_t *o)
{
    u_char                          *k, *last;
    uint32_t                         hash;
    ngx_str_t                        name, value;
    ngx_uint_t                       i, j, nb, nheads, *heads;
    ngx_array_t                      consumers;
    ngx_atomic_t                    *v;
    ngx_http_gw_metrics_node_t      *node;
    ngx_http_gw_metrics_shctx_t     *sh;
    ngx_http_gw_metrics_consumer_t  *c, *cs;

    sh = o->zone->sh;
    nb = sh->nbuckets;

    /* a hash of the consumers seen, so that this stays linear */

    for (nheads = 64; nheads < sh->nseries; nheads <<= 1) { /* void */ }

    heads = ngx_pcalloc(o->pool, nheads * sizeof(ngx_uint_t));
    if (heads == NULL) {
        o->error = 1;
        return;
    }

    if (ngx_array_init(&consumers, o->pool, 64,
                       sizeof(ngx_http_gw_metrics_consumer_t))
        != NGX_OK)
    {
        o->error = 1;
        return;
    }

    for (i = 0; i < sh->nheads; i++) {
        for (node = sh->heads[i]; node; node = node->next) {

            if (ngx_http_gw_metrics_kind(node) != NGX_HTTP_GW_METRICS_ROUTE) {
                continue;
            }

            k = ngx_http_gw_metrics_key(node);
            last = k + node->len;
            k++;

            for ( ;; ) {
                k = ngx_http_gw_metrics_next_label(k, last, &name, &value);
                if (k == NULL) {
                    break;
                }

                if (name.len == 8
                    && ngx_strncmp(name.data, "consumer", 8) == 0)
                {
                    break;
                }
            }

            if (k == NULL || value.len == 0) {
                continue;
            }

            hash = ngx_murmur_hash2(value.data, value.len) & (nheads - 1);

            cs = consumers.elts;
            c = NULL;

            for (j = heads[hash]; j; j = cs[j - 1].next) {
                if (cs[j - 1].name.len == value.len
                    && ngx_strncmp(cs[j - 1].name.data, value.data,
                                   value.len)
                       == 0)
                {
                    c = &cs[j - 1];
                    break;
                }
            }

            if (c == NULL) {
                c = ngx_array_push(&consumers);
                if (c == NULL) {
                    o->error = 1;
                    return;
                }

                ngx_memzero(c, sizeof(ngx_http_gw_metrics_consumer_t));
                c->name = value;
                c->next = heads[hash];
                heads[hash] = consumers.nelts;
            }

            v = node->values;

            c->requests += v[NGX_HTTP_GW_METRICS_NREQUESTS(nb)];
            c->errors += v[NGX_HTTP_GW_METRICS_ERR4(nb)]
                         + v[NGX_HTTP_GW_METRICS_ERR5(nb)];
            c->request_bytes += v[NGX_HTTP_GW_METRICS_REQ_BYTES(nb)];
            c->response_bytes += v[NGX_HTTP_GW_METRICS_RESP_BYTES(nb)];
            c->last_seen = ngx_max(c->last_seen,
                                   v[NGX_HTTP_GW_METRICS_LAST_SEEN(nb)]);
        }
    }

    ngx_qsort(consumers.elts, consumers.nelts,
              sizeof(ngx_http_gw_metrics_consumer_t),
              ngx_http_gw_metrics_consumer_cmp);

    ngx_http_gw_metrics_printf(o, ",\"consumers\":[");

    cs = consumers.elts;

    for (j = 0; j < consumers.nelts; j++) {
        k = ngx_http_gw_metrics_reserve(o, NGX_HTTP_GW_METRICS_LINE_MAX);
        if (k == NULL) {
            return;
        }

        k = ngx_cpymem(k, j ? ",{\"consumer\":\"" : "{\"consumer\":\"",
                       j ? sizeof(",{\"consumer\":\"") - 1
                         : sizeof("{\"consumer\":\"") - 1);
        k = (u_char *) ngx_escape_json(k, cs[j].name.data, cs[j].name.len);

        o->buf->last = ngx_sprintf(k,
                           "\",\"requests\":%uA,\"errors\":%uA,"
                           "\"request_bytes\":%uA,\"response_bytes\":%uA,"
                           "\"last_seen\":%uA}",
                           cs[j].requests, cs[j].errors, cs[j].request_bytes,
                           cs[j].response_bytes, cs[j].last_seen);
    }

    ngx_http_gw_metrics_printf(o, "]");
}


static int
ngx_http_gw_metrics_consumer_cmp(const void *one, const void *two)
{
    const ngx_http_gw_metrics_consumer_t  *a = one;
    const ngx_http_gw_metrics_consumer_t  *b = two;

    if (a->requests != b->requests) {
        return (a->requests > b->requests) ? -1 : 1;
    }

    if (a->name.len != b->name.len) {
        return (a->name.len < b->name.len) ? -1 : 1;
    }

    return ngx_strncmp(a->name.data, b->name.data, a->name.len);
}


/*
 * Copyright (C) ngx_gw authors
 *
 * The request side: limits whose key is known without authentication run
 * in PREACCESS, those keyed on the consumer in PRECONTENT (after every
 * ACCESS handler, whatever the load order); the header filter reports the
 * outcome.
 */


#include "ngx_http_gw_ratelimit.h"


static ngx_int_t ngx_http_gw_rate_early_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_rate_late_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_rate_handler(ngx_http_request_t *r,
    ngx_uint_t late);
static ngx_int_t ngx_http_gw_rate_key(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_http_gw_rate_limit_t *limit,
    ngx_str_t *key);
static ngx_http_gw_rate_plan_t *ngx_http_gw_rate_find_plan(
    ngx_http_request_t *r, ngx_http_gw_rate_main_conf_t *rmcf,
    ngx_http_gw_rate_loc_conf_t *rlcf);
static ngx_int_t ngx_http_gw_rate_decide(ngx_http_request_t *r,
    ngx_http_gw_rate_ctx_t *ctx, ngx_uint_t first);
static ngx_int_t ngx_http_gw_rate_reject(ngx_http_request_t *r,
    ngx_http_gw_rate_loc_conf_t *rlcf, ngx_http_gw_rate_ctx_t *ctx,
    ngx_http_gw_rate_result_t *worst);
static ngx_int_t ngx_http_gw_rate_unavailable(ngx_http_request_t *r,
    ngx_http_gw_rate_ctx_t *ctx);
static void ngx_http_gw_rate_cleanup(void *data);
static ngx_int_t ngx_http_gw_rate_header_filter(ngx_http_request_t *r);
static ngx_int_t ngx_http_gw_rate_add_header(ngx_http_request_t *r,
    ngx_str_t *name, u_char *value, size_t len);
static size_t ngx_http_gw_rate_digits(uint64_t n);
static u_char *ngx_http_gw_rate_uint(u_char *p, uint64_t n);


static ngx_http_output_header_filter_pt  ngx_http_next_header_filter;

static ngx_str_t   ngx_http_gw_rate_consumer = ngx_string("gw_auth_consumer");
static ngx_str_t   ngx_http_gw_rate_auth_plan = ngx_string("gw_auth_plan");
static ngx_uint_t  ngx_http_gw_rate_consumer_hash;
static ngx_uint_t  ngx_http_gw_rate_auth_plan_hash;

static ngx_str_t   ngx_http_gw_rate_retry_after = ngx_string("Retry-After");
static ngx_str_t   ngx_http_gw_rate_policy_header =
    ngx_string("RateLimit-Policy");
static ngx_str_t   ngx_http_gw_rate_header = ngx_string("RateLimit");
static ngx_str_t   ngx_http_gw_rate_x_limit =
    ngx_string("X-RateLimit-Limit");
static ngx_str_t   ngx_http_gw_rate_x_remaining =
    ngx_string("X-RateLimit-Remaining");
static ngx_str_t   ngx_http_gw_rate_x_reset =
    ngx_string("X-RateLimit-Reset");


ngx_int_t
ngx_http_gw_rate_handler_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_gw_rate_early_handler;

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_gw_rate_late_handler;

    ngx_http_next_header_filter = ngx_http_top_header_filter;
    ngx_http_top_header_filter = ngx_http_gw_rate_header_filter;

    return NGX_OK;
}


/*
 * Whether ngx_gw_auth is loaded is known only once every module's
 * postconfiguration has run (it adds its variables there), so it is looked
 * up here, in each worker.
 */

ngx_int_t
ngx_http_gw_rate_init_process(ngx_cycle_t *cycle)
{
    ngx_http_core_main_conf_t     *cmcf;
    ngx_http_gw_rate_main_conf_t  *rmcf;

    if (ngx_http_cycle_get_module_main_conf(cycle, ngx_http_module) == NULL)
    {
        return NGX_OK;
    }

    cmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_core_module);
    rmcf = ngx_http_cycle_get_module_main_conf(cycle,
                                               ngx_http_gw_ratelimit_module);

    if (cmcf == NULL || rmcf == NULL) {
        return NGX_OK;
    }

    ngx_http_gw_rate_consumer_hash =
        ngx_hash_key(ngx_http_gw_rate_consumer.data,
                     ngx_http_gw_rate_consumer.len);
    ngx_http_gw_rate_auth_plan_hash =
        ngx_hash_key(ngx_http_gw_rate_auth_plan.data,
                     ngx_http_gw_rate_auth_plan.len);

    rmcf->auth = (ngx_hash_find(&cmcf->variables_hash,
                                ngx_http_gw_rate_consumer_hash,
                                ngx_http_gw_rate_consumer.data,
                                ngx_http_gw_rate_consumer.len)
                  != NULL);

    return ngx_http_gw_rate_redis_init_process(cycle);
}


static ngx_int_t
ngx_http_gw_rate_early_handler(ngx_http_request_t *r)
{
    return ngx_http_gw_rate_handler(r, 0);
}


static ngx_int_t
ngx_http_gw_rate_late_handler(ngx_http_request_t *r)
{
    return ngx_http_gw_rate_handler(r, 1);
}


/*
 * The context outlives internal redirects (found through the pool
 * cleanup, as realip does), so that a request is counted once per phase.
 */

ngx_http_gw_rate_ctx_t *
ngx_http_gw_rate_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_gw_rate_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_gw_ratelimit_module);

    if (ctx == NULL && (r->internal || r->filter_finalize)) {
        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_gw_rate_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_gw_ratelimit_module);
                break;
            }
        }
    }

    return ctx;
}


static void
ngx_http_gw_rate_cleanup(void *data)
{
    /* the context lives in the request pool; this marks where it is */
}


static ngx_int_t
ngx_http_gw_rate_handler(ngx_http_request_t *r, ngx_uint_t late)
{
    ngx_str_t                      key;
    ngx_uint_t                     i, first, plan_late, default_late;
    ngx_array_t                   *limits;
    ngx_pool_cleanup_t            *cln;
    ngx_http_gw_rate_ctx_t        *ctx;
    ngx_http_gw_rate_plan_t       *plan;
    ngx_http_gw_rate_limit_t      *limit;
    ngx_http_gw_rate_result_t     *res;
    ngx_http_gw_rate_loc_conf_t   *rlcf;
    ngx_http_gw_rate_main_conf_t  *rmcf;

    if (r != r->main) {
        return NGX_DECLINED;
    }

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_ratelimit_module);

    if (rlcf->limits == NULL) {
        return NGX_DECLINED;
    }

    rmcf = ngx_http_get_module_main_conf(r, ngx_http_gw_ratelimit_module);

    /* the default plan variable, $gw_auth_plan, waits for authentication */

    plan_late = rlcf->plan_var ? rlcf->plan_late : 1;

    /* the default key is the consumer's when ngx_gw_auth is loaded */

    default_late = rmcf->auth;

    if (!(late ? rlcf->has_late : rlcf->has_early)
        && (rmcf->plans.nelts == 0 || plan_late != late))
    {
        return NGX_DECLINED;
    }

    ctx = ngx_http_gw_rate_get_ctx(r);

    if (ctx == NULL) {
        cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_gw_rate_ctx_t));
        if (cln == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx = cln->data;
        ngx_memzero(ctx, sizeof(ngx_http_gw_rate_ctx_t));

        cln->handler = ngx_http_gw_rate_cleanup;

        /* room for the location's policies: a plan's may grow it */

        if (ngx_array_init(&ctx->results, r->pool,
                           ngx_max(rlcf->limits->nelts, 1),
                           sizeof(ngx_http_gw_rate_result_t))
            != NGX_OK)
        {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ctx->status = NGX_HTTP_GW_RATE_EXEMPT;
        ngx_http_set_ctx(r, ctx, ngx_http_gw_ratelimit_module);
    }

    if (late) {
        if (ctx->late_done) {
            return NGX_DECLINED;
        }

        ctx->late_done = 1;

    } else {
        if (ctx->early_done) {
            return NGX_DECLINED;
        }

        ctx->early_done = 1;
    }

    ctx->headers = rlcf->headers;

    limits = rlcf->limits;
    plan = NULL;

    if (rmcf->plans.nelts && plan_late == late) {
        plan = ngx_http_gw_rate_find_plan(r, rmcf, rlcf);

        if (plan) {
            limits = &plan->limits;
        }
    }

    first = ctx->results.nelts;
    limit = limits->elts;

    for (i = 0; i < limits->nelts; i++) {

        /* a plan's limits all run in the plan variable's phase */

        if (plan == NULL
            && (limit[i].key ? limit[i].late : default_late) != late)
        {
            continue;
        }

        if (ngx_http_gw_rate_key(r, rmcf, &limit[i], &key) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (key.len == 0) {
            continue;
        }

        res = ngx_array_push(&ctx->results);
        if (res == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        ngx_memzero(res, sizeof(ngx_http_gw_rate_result_t));

        res->limit = &limit[i];
        res->key = key;
        res->hash = ngx_http_gw_rate_hash(limit[i].id, key.data, key.len);
    }

    if (ctx->results.nelts == first) {
        return NGX_DECLINED;
    }

    if (rmcf->redis && rmcf->redis->fail_closed) {
        res = ctx->results.elts;

        for (i = first; i < ctx->results.nelts; i++) {
            if (res[i].limit->zone->sync
                && res[i].limit->zone->sh->redis_down)
            {
                ctx->results.nelts = first;
                return ngx_http_gw_rate_unavailable(r, ctx);
            }
        }
    }

    return ngx_http_gw_rate_decide(r, ctx, first);
}


static ngx_int_t
ngx_http_gw_rate_key(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_http_gw_rate_limit_t *limit,
    ngx_str_t *key)
{
    ngx_http_variable_value_t  *vv;

    if (limit->key_var) {
        vv = ngx_http_get_indexed_variable(r, limit->key_var - 1);
        if (vv == NULL) {
            return NGX_ERROR;
        }

        if (vv->not_found) {
            ngx_str_null(key);

        } else {
            key->data = vv->data;
            key->len = vv->len;
        }

        return NGX_OK;
    }

    if (limit->key) {
        return ngx_http_complex_value(r, limit->key, key);
    }

    /* the default: the authenticated consumer, else the client address */

    if (rmcf->auth) {
        vv = ngx_http_get_variable(r, &ngx_http_gw_rate_consumer,
                                   ngx_http_gw_rate_consumer_hash);

        if (vv && !vv->not_found && vv->len) {
            key->data = vv->data;
            key->len = vv->len;
            return NGX_OK;
        }
    }

    *key = r->connection->addr_text;

    return NGX_OK;
}


static ngx_http_gw_rate_plan_t *
ngx_http_gw_rate_find_plan(ngx_http_request_t *r,
    ngx_http_gw_rate_main_conf_t *rmcf, ngx_http_gw_rate_loc_conf_t *rlcf)
{
    ngx_str_t                   name;
    ngx_uint_t                  i;
    ngx_http_gw_rate_plan_t    *plan;
    ngx_http_variable_value_t  *vv;

    if (rlcf->plan_var) {
        if (ngx_http_complex_value(r, rlcf->plan_var, &name) != NGX_OK) {
            return NULL;
        }

    } else if (rmcf->auth) {
        vv = ngx_http_get_variable(r, &ngx_http_gw_rate_auth_plan,
                                   ngx_http_gw_rate_auth_plan_hash);

        if (vv == NULL || vv->not_found) {
            return NULL;
        }

        name.data = vv->data;
        name.len = vv->len;

    } else {
        return NULL;
    }

    if (name.len == 0) {
        return NULL;
    }

    plan = rmcf->plans.elts;

    for (i = 0; i < rmcf->plans.nelts; i++) {
        if (plan[i].name.len == name.len
            && ngx_strncmp(plan[i].name.data, name.data, name.len) == 0)
        {
            return &plan[i];
        }
    }

    return NULL;
}


/*
 * Checks every policy from "first" on, under the locks of all their zones
 * (taken in one order), and changes the counters only when all of them
 * admit the request: a rejected request costs no policy a token.
 */

static ngx_int_t
ngx_http_gw_rate_decide(ngx_http_request_t *r, ngx_http_gw_rate_ctx_t *ctx,
    ngx_uint_t first)
{
    int64_t                        old;
    ngx_uint_t                     i, j, nzones, rejected;
    ngx_http_gw_rate_zone_t       *zones[NGX_HTTP_GW_RATE_MAX_ZONES], *zone;
    ngx_http_gw_rate_result_t     *res, *worst;
    ngx_http_gw_rate_loc_conf_t   *rlcf;
    ngx_http_gw_rate_main_conf_t  *rmcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_ratelimit_module);
    rmcf = ngx_http_get_module_main_conf(r, ngx_http_gw_ratelimit_module);

    res = ctx->results.elts;
    nzones = 0;

    for (i = first; i < ctx->results.nelts; i++) {
        zone = res[i].limit->zone;

        for (j = 0; j < nzones; j++) {
            if (zones[j] == zone) {
                break;
            }
        }

        if (j < nzones) {
            continue;
        }

        /* insertion by index: every worker locks in the same order */

        for (j = nzones; j > 0 && zones[j - 1]->index > zone->index; j--) {
            zones[j] = zones[j - 1];
        }

        zones[j] = zone;
        nzones++;
    }

    for (j = 0; j < nzones; j++) {
        ngx_shmtx_lock(&zones[j]->shpool->mutex);
    }

    rejected = 0;
    worst = NULL;

    for (i = first; i < ctx->results.nelts; i++) {
        res[i].node = ngx_http_gw_rate_lookup(res[i].limit->zone,
                                              res[i].hash);

        ngx_http_gw_rate_evaluate(rmcf, &res[i]);

        if (res[i].rejected) {
            rejected++;

            if (worst == NULL || res[i].retry > worst->retry) {
                worst = &res[i];
            }
        }
    }

    if (!rejected) {

        /*
         * known keys first: an insertion may free idle nodes, and these
         * are no longer idle once updated
         */

        for (i = first; i < ctx->results.nelts; i++) {
            if (res[i].node) {
                zone = res[i].limit->zone;

                old = res[i].node->state;

                ngx_http_gw_rate_touch(zone, res[i].node);

                res[i].node->state = res[i].state;
                res[i].node->expire = res[i].expire;

                if (zone->sync) {
                    ngx_http_gw_rate_sync_hit(zone, res[i].node, &res[i],
                                              old, 0);
                }
            }
        }

        for (i = first; i < ctx->results.nelts; i++) {
            if (res[i].node) {
                continue;
            }

            res[i].node = ngx_http_gw_rate_insert(res[i].limit->zone,
                                                  res[i].hash,
                                                  r->connection->log);
            if (res[i].node == NULL) {
                ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                              "gw_rate_zone \"%V\" has no room for a key",
                              &res[i].limit->zone->shm_zone->shm.name);
                continue;
            }

            res[i].node->kind = (u_char) res[i].limit->kind;
            res[i].node->state = res[i].state;
            res[i].node->expire = res[i].expire;

            if (res[i].limit->zone->sync) {
                ngx_http_gw_rate_sync_hit(res[i].limit->zone, res[i].node,
                                          &res[i], res[i].state, 1);
            }
        }
    }

    if (rejected) {
        for (i = first; i < ctx->results.nelts; i++) {
            if (res[i].rejected == 2 && res[i].node) {
                ngx_http_gw_rate_sync_want(res[i].limit->zone, res[i].node);
            }
        }
    }

    for (j = nzones; j > 0; j--) {
        ngx_shmtx_unlock(&zones[j - 1]->shpool->mutex);
    }

    for (i = first; i < ctx->results.nelts; i++) {
        res[i].node = NULL;

        /* the policies that would admit report what they still have */

        if (rejected && !res[i].rejected) {
            res[i].remaining = res[i].now_remaining;
            res[i].reset = res[i].now_reset;
        }
    }

    if (!rejected) {
        if (ctx->status == NGX_HTTP_GW_RATE_EXEMPT) {
            ctx->status = NGX_HTTP_GW_RATE_PASSED;
        }

        return NGX_DECLINED;
    }

    return ngx_http_gw_rate_reject(r, rlcf, ctx, worst);
}


static ngx_int_t
ngx_http_gw_rate_reject(ngx_http_request_t *r,
    ngx_http_gw_rate_loc_conf_t *rlcf, ngx_http_gw_rate_ctx_t *ctx,
    ngx_http_gw_rate_result_t *worst)
{
    u_char                 *p;
    ngx_http_gw_problem_t   problem;

    ctx->retry_after = (worst->retry + 999) / 1000;

    if (ctx->retry_after == 0) {
        ctx->retry_after = 1;
    }

    ngx_log_error(rlcf->log_level, r->connection->log, 0,
                  "%slimiting requests by policy \"%V\", key \"%V\", "
                  "retry in %uL ms",
                  rlcf->dry_run ? "dry run, " : "", &worst->limit->name,
                  &worst->key, worst->retry);

    if (rlcf->dry_run) {
        ctx->status = NGX_HTTP_GW_RATE_DRY_RUN_REJECTED;
        ctx->retry_after = 0;
        return NGX_DECLINED;
    }

    ctx->status = NGX_HTTP_GW_RATE_REJECTED;

    ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));

    problem.status = rlcf->status;

    p = ngx_pnalloc(r->pool, worst->limit->name.len + NGX_INT64_LEN + 64);
    if (p == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    problem.detail.data = p;
    p = ngx_sprintf(p, "rate limit policy \"%V\" exceeded, retry in %uL s",
                    &worst->limit->name, ctx->retry_after);
    problem.detail.len = p - problem.detail.data;

    return ngx_http_gw_problem_finalize(r, &problem);
}


/* fail=closed while Redis is unreachable */

static ngx_int_t
ngx_http_gw_rate_unavailable(ngx_http_request_t *r,
    ngx_http_gw_rate_ctx_t *ctx)
{
    ngx_http_gw_problem_t         problem;
    ngx_http_gw_rate_loc_conf_t  *rlcf;

    rlcf = ngx_http_get_module_loc_conf(r, ngx_http_gw_ratelimit_module);

    ngx_log_error(rlcf->log_level, r->connection->log, 0,
                  "gw_rate_redis is unreachable, rejecting (fail=closed)");

    ctx->status = NGX_HTTP_GW_RATE_REJECTED;
    ctx->headers = 0;

    ngx_memzero(&problem, sizeof(ngx_http_gw_problem_t));
    problem.status = NGX_HTTP_SERVICE_UNAVAILABLE;
    ngx_str_set(&problem.detail, "the rate limit store is unavailable");

    return ngx_http_gw_problem_finalize(r, &problem);
}


/*
 * The policy closest to exhaustion: the fewest remaining, then the
 * longest wait.
 */

ngx_http_gw_rate_result_t *
ngx_http_gw_rate_closest(ngx_http_gw_rate_ctx_t *ctx, ngx_uint_t kind)
{
    ngx_uint_t                  i;
    ngx_http_gw_rate_result_t  *res, *best;

    res = ctx->results.elts;
    best = NULL;

    for (i = 0; i < ctx->results.nelts; i++) {

        if (kind && res[i].limit->kind != kind) {
            continue;
        }

        if (best == NULL
            || res[i].remaining < best->remaining
            || (res[i].remaining == best->remaining
                && res[i].reset > best->reset))
        {
            best = &res[i];
        }
    }

    return best;
}


static ngx_int_t
ngx_http_gw_rate_header_filter(ngx_http_request_t *r)
{
    u_char                     *p, *q;
    size_t                      len;
    ngx_str_t                   remaining, reset;
    ngx_uint_t                  i;
    ngx_http_gw_rate_ctx_t     *ctx;
    ngx_http_gw_rate_result_t  *res, *best;

    if (r != r->main) {
        return ngx_http_next_header_filter(r);
    }

    ctx = ngx_http_gw_rate_get_ctx(r);

    if (ctx == NULL || ctx->results.nelts == 0) {
        return ngx_http_next_header_filter(r);
    }

    res = ctx->results.elts;

    if (ctx->retry_after) {
        p = ngx_pnalloc(r->pool,
                        ngx_http_gw_rate_digits(ctx->retry_after));
        if (p == NULL) {
            return NGX_ERROR;
        }

        q = ngx_http_gw_rate_uint(p, ctx->retry_after);

        if (ngx_http_gw_rate_add_header(r, &ngx_http_gw_rate_retry_after,
                                        p, q - p)
            != NGX_OK)
        {
            return NGX_ERROR;
        }
    }

    if (!ctx->headers) {
        return ngx_http_next_header_filter(r);
    }

    best = ngx_http_gw_rate_closest(ctx, 0);

    /*
     * one buffer of the exact size for every value (the header list points
     * into it); what does not change comes written from the configuration
     */

    len = 0;

    for (i = 0; i < ctx->results.nelts; i++) {
        len += sizeof(", ") - 1 + res[i].limit->policy.len
               + sizeof(", \"\";r=;t=") - 1 + res[i].limit->name.len
               + ngx_http_gw_rate_digits(res[i].remaining)
               + ngx_http_gw_rate_digits(res[i].reset);

        if (res[i].window != res[i].limit->window) {
            len += ngx_http_gw_rate_digits(res[i].window);
        }
    }

    p = ngx_pnalloc(r->pool, len);
    if (p == NULL) {
        return NGX_ERROR;
    }

    /* RateLimit-Policy: "100r/s";q=100;w=1, "1000/day";q=1000;w=86400 */

    q = p;

    for (i = 0; i < ctx->results.nelts; i++) {
        if (i) {
            *q++ = ','; *q++ = ' ';
        }

        if (res[i].window == res[i].limit->window) {
            q = ngx_cpymem(q, res[i].limit->policy.data,
                           res[i].limit->policy.len);
            continue;
        }

        /* a calendar period: months and DST days differ in length */

        q = ngx_cpymem(q, res[i].limit->policy.data,
                       res[i].limit->policy.len
                       - ngx_http_gw_rate_digits(res[i].limit->window));
        q = ngx_http_gw_rate_uint(q, res[i].window);
    }

    if (ngx_http_gw_rate_add_header(r, &ngx_http_gw_rate_policy_header,
                                    p, q - p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    p = q;

    ngx_str_null(&remaining);
    ngx_str_null(&reset);

    for (i = 0; i < ctx->results.nelts; i++) {
        if (i) {
            *q++ = ','; *q++ = ' ';
        }

        *q++ = '"';
        q = ngx_cpymem(q, res[i].limit->name.data, res[i].limit->name.len);
        q = ngx_cpymem(q, "\";r=", sizeof("\";r=") - 1);

        /* the X-RateLimit-* values are the closest policy's, shared */

        if (&res[i] == best) {
            remaining.data = q;
        }

        q = ngx_http_gw_rate_uint(q, res[i].remaining);

        if (&res[i] == best) {
            remaining.len = q - remaining.data;
        }

        q = ngx_cpymem(q, ";t=", sizeof(";t=") - 1);

        if (&res[i] == best) {
            reset.data = q;
        }

        q = ngx_http_gw_rate_uint(q, res[i].reset);

        if (&res[i] == best) {
            reset.len = q - reset.data;
        }
    }

    if (ngx_http_gw_rate_add_header(r, &ngx_http_gw_rate_header, p, q - p)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_gw_rate_add_header(r, &ngx_http_gw_rate_x_limit,
                                    best->limit->limit_text.data,
                                    best->limit->limit_text.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_gw_rate_add_header(r, &ngx_http_gw_rate_x_remaining,
                                    remaining.data, remaining.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_gw_rate_add_header(r, &ngx_http_gw_rate_x_reset,
                                    reset.data, reset.len)
        != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_next_header_filter(r);
}


static ngx_int_t
ngx_http_gw_rate_add_header(ngx_http_request_t *r, ngx_str_t *name,
    u_char *value, size_t len)
{
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key = *name;

    h->value.data = value;
    h->value.len = len;

#if (nginx_version >= 1023000)
    h->next = NULL;
#endif

    return NGX_OK;
}


/* header values are written by hand: ngx_sprintf() is the slower part */

static size_t
ngx_http_gw_rate_digits(uint64_t n)
{
    size_t  len;

    len = 1;

    while (n >= 10) {
        n /= 10;
        len++;
    }

    return len;
}


static u_char *
ngx_http_gw_rate_uint(u_char *p, uint64_t n)
{
    u_char  *q, buf[NGX_INT64_LEN];

    q = buf + NGX_INT64_LEN;

    do {
        *--q = (u_char) ('0' + n % 10);
        n /= 10;
    } while (n);

    return ngx_cpymem(p, q, buf + NGX_INT64_LEN - q);
}

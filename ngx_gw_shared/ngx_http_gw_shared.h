
/*
 * Copyright (C) ngx_gw authors
 *
 * Code shared by the ngx_gw modules.  It holds no global data: every module
 * links its own copy.
 */


#ifndef _NGX_HTTP_GW_SHARED_H_INCLUDED_
#define _NGX_HTTP_GW_SHARED_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>


#define NGX_HTTP_GW_VERSION  "0.1.0"


/* An RFC 9457 problem; every error the gateway generates is one. */
typedef struct {
    ngx_uint_t   status;
    ngx_str_t    type;          /* URI reference; empty means about:blank */
    ngx_str_t    title;         /* empty means the status's reason phrase */
    ngx_str_t    detail;        /* may be empty */
} ngx_http_gw_problem_t;


/*
 * Sends the problem as the response; returns what a content handler
 * returns.  When the location has an error_page for the status, the status
 * is returned instead, so that the operator's page wins.
 */
ngx_int_t ngx_http_gw_problem_send(ngx_http_request_t *r,
    ngx_http_gw_problem_t *problem);

/*
 * The same for phase handlers (access, preaccess): sends, finalizes the
 * request and returns NGX_DONE, which stops the phase engine.
 */
ngx_int_t ngx_http_gw_problem_finalize(ngx_http_request_t *r,
    ngx_http_gw_problem_t *problem);

/* The problem's JSON body, allocated from the pool. */
ngx_int_t ngx_http_gw_problem_body(ngx_pool_t *pool,
    ngx_http_gw_problem_t *problem, ngx_str_t *body);


#endif /* _NGX_HTTP_GW_SHARED_H_INCLUDED_ */


/*
 * Copyright (C) ngx_gw authors
 *
 * A module with a deliberate heap overflow, built by t/000-harness.t to
 * prove that the runner's valgrind mode catches a real memory error.  It
 * is never part of the product.
 */


#include <ngx_config.h>
#include <ngx_core.h>


static ngx_int_t ngx_gw_bad_init_process(ngx_cycle_t *cycle);


static ngx_core_module_t  ngx_gw_bad_module_ctx = {
    ngx_string("gw_bad"),
    NULL,
    NULL
};


ngx_module_t  ngx_gw_bad_module = {
    NGX_MODULE_V1,
    &ngx_gw_bad_module_ctx,
    NULL,
    NGX_CORE_MODULE,
    NULL,
    NULL,
    ngx_gw_bad_init_process,
    NULL,
    NULL,
    NULL,
    NULL,
    NGX_MODULE_V1_PADDING
};


ngx_module_t  *ngx_modules[] = {
    &ngx_gw_bad_module,
    NULL
};


char  *ngx_module_names[] = {
    "ngx_gw_bad_module",
    NULL
};


char  *ngx_module_order[] = {
    NULL
};


static ngx_int_t
ngx_gw_bad_init_process(ngx_cycle_t *cycle)
{
    u_char  *p;

    p = ngx_alloc(16, cycle->log);
    if (p == NULL) {
        return NGX_ERROR;
    }

    p[16] = 'x';

    ngx_free(p);

    return NGX_OK;
}

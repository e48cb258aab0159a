
#include <ngx_config.h>
#include <ngx_core.h>
#include "ngx_http_gw_metrics_module.h"
ngx_str_t  ngx_http_gw_metrics_dashboard = ngx_string("<html></html>\n");

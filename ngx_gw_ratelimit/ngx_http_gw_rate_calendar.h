
/*
 * Copyright (C) ngx_gw authors
 *
 * Calendar arithmetic for quotas: civil dates, weeks, months and time
 * zones (fixed offsets and TZif data).  Plain C over integers and byte
 * buffers, with no nginx dependency, so that the unit test
 * (test/ngx_http_gw_rate_calendar_test.c) and fuzzers link this file alone.
 * Times are seconds since the Unix epoch, UTC.
 */


#ifndef _NGX_HTTP_GW_RATE_CALENDAR_H_INCLUDED_
#define _NGX_HTTP_GW_RATE_CALENDAR_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>


#define NGX_GW_CAL_MINUTE  1
#define NGX_GW_CAL_HOUR    2
#define NGX_GW_CAL_DAY     3
#define NGX_GW_CAL_WEEK    4
#define NGX_GW_CAL_MONTH   5

#define NGX_GW_TZ_MAX_TRANSITIONS  4096


/* a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"), for after the table */
typedef struct {
    int32_t       std_offset;  /* seconds east of UTC */
    int32_t       dst_offset;
    int32_t       start_time;  /* local seconds after midnight */
    int32_t       end_time;
    uint8_t       start_m, start_w, start_d;
    uint8_t       end_m, end_w, end_d;
    uint8_t       has_dst;
    uint8_t       valid;
} ngx_gw_tz_rule_t;


typedef struct {
    int64_t      *times;       /* transition instants, ascending */
    int32_t      *offsets;     /* UTC offset from times[i] on, seconds */
    uint32_t      n;
    int32_t       initial;     /* before the first transition; or fixed */
    ngx_gw_tz_rule_t  rule;    /* after the last transition, if valid */
} ngx_gw_tz_t;


int64_t ngx_gw_cal_days_from_civil(int64_t y, unsigned m, unsigned d);
void ngx_gw_cal_civil_from_days(int64_t days, int64_t *y, unsigned *m,
    unsigned *d);
unsigned ngx_gw_cal_weekday(int64_t days);
unsigned ngx_gw_cal_month_days(int64_t y, unsigned m);

int32_t ngx_gw_tz_offset(const ngx_gw_tz_t *tz, int64_t t);
int64_t ngx_gw_tz_local_to_utc(const ngx_gw_tz_t *tz, int64_t local);
void ngx_gw_cal_period(const ngx_gw_tz_t *tz, unsigned unit, int64_t t,
    int64_t *start, int64_t *end);

/* "+05:30", "-08", "+0100", "UTC", "Z"; returns 0 or -1 */
int ngx_gw_tz_parse_offset(const unsigned char *p, size_t len,
    int32_t *offset);

/*
 * Parses a TZif (RFC 8536) file.  With times == NULL it only counts the
 * transitions into *n.  The footer's POSIX TZ rule, when the file has one
 * in the "M" form, goes into *rule (if not NULL).  Returns 0 or -1 for
 * malformed data.
 */
int ngx_gw_tzif_parse(const unsigned char *p, size_t len, uint32_t *n,
    int64_t *times, int32_t *offsets, int32_t *initial,
    ngx_gw_tz_rule_t *rule);

/* a POSIX TZ string; returns 0, or -1 for what it does not support */
int ngx_gw_tz_parse_rule(const unsigned char *p, size_t len,
    ngx_gw_tz_rule_t *rule);


#endif /* _NGX_HTTP_GW_RATE_CALENDAR_H_INCLUDED_ */

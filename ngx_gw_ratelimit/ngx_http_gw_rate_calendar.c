
/*
 * Copyright (C) ngx_gw authors
 *
 * Calendar arithmetic for quotas; see ngx_http_gw_rate_calendar.h.  The
 * civil date conversions are the proleptic Gregorian day counts (days
 * since 1970-01-01), computed per 400-year era.
 */


#include "ngx_http_gw_rate_calendar.h"


static int64_t ngx_gw_cal_floor_div(int64_t a, int64_t b);
static uint32_t ngx_gw_tzif_u32(const unsigned char *p);
static int64_t ngx_gw_tzif_i64(const unsigned char *p);
static uint32_t ngx_gw_tz_search(const ngx_gw_tz_t *tz, int64_t t);
static int ngx_gw_tz_after_table(const ngx_gw_tz_t *tz, int64_t t);
static int64_t ngx_gw_tz_rule_day(int64_t y, unsigned m, unsigned w,
    unsigned d);
static void ngx_gw_tz_rule_year(const ngx_gw_tz_rule_t *rule, int64_t y,
    int64_t *start, int64_t *end);
static int32_t ngx_gw_tz_rule_offset(const ngx_gw_tz_rule_t *rule,
    int64_t t);
static const unsigned char *ngx_gw_tz_parse_name(const unsigned char *p,
    const unsigned char *last);
static const unsigned char *ngx_gw_tz_parse_time(const unsigned char *p,
    const unsigned char *last, int32_t *value);
static const unsigned char *ngx_gw_tz_parse_date(const unsigned char *p,
    const unsigned char *last, uint8_t *m, uint8_t *w, uint8_t *d,
    int32_t *time);


static int64_t
ngx_gw_cal_floor_div(int64_t a, int64_t b)
{
    int64_t  q;

    q = a / b;

    if ((a % b != 0) && ((a < 0) != (b < 0))) {
        q--;
    }

    return q;
}


int64_t
ngx_gw_cal_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t   era, yoe, doy, doe;

    y -= (m <= 2);
    era = ngx_gw_cal_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}


void
ngx_gw_cal_civil_from_days(int64_t days, int64_t *y, unsigned *m,
    unsigned *d)
{
    int64_t   z, era, doe, yoe, doy, mp;

    z = days + 719468;
    era = ngx_gw_cal_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;

    *d = (unsigned) (doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned) (mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}


/* 0 is Monday; 1970-01-01 was a Thursday */

unsigned
ngx_gw_cal_weekday(int64_t days)
{
    return (unsigned) (days + 3 - ngx_gw_cal_floor_div(days + 3, 7) * 7);
}


unsigned
ngx_gw_cal_month_days(int64_t y, unsigned m)
{
    return (unsigned) (ngx_gw_cal_days_from_civil(y + (m == 12),
                                                  m == 12 ? 1 : m + 1, 1)
                       - ngx_gw_cal_days_from_civil(y, m, 1));
}


/* the index of the last transition at or before t, or tz->n if none */

static uint32_t
ngx_gw_tz_search(const ngx_gw_tz_t *tz, int64_t t)
{
    uint32_t  lo, hi, mid;

    if (tz->n == 0 || t < tz->times[0]) {
        return tz->n;
    }

    lo = 0;
    hi = tz->n;

    while (hi - lo > 1) {
        mid = lo + (hi - lo) / 2;

        if (tz->times[mid] <= t) {
            lo = mid;

        } else {
            hi = mid;
        }
    }

    return lo;
}


/* whether the footer's rule, rather than the table, says what t is */

static int
ngx_gw_tz_after_table(const ngx_gw_tz_t *tz, int64_t t)
{
    return tz->rule.valid && (tz->n == 0 || t >= tz->times[tz->n - 1]);
}


int32_t
ngx_gw_tz_offset(const ngx_gw_tz_t *tz, int64_t t)
{
    uint32_t  i;

    if (tz == NULL) {
        return 0;
    }

    if (ngx_gw_tz_after_table(tz, t)) {
        return ngx_gw_tz_rule_offset(&tz->rule, t);
    }

    i = ngx_gw_tz_search(tz, t);

    return (i == tz->n) ? tz->initial : tz->offsets[i];
}


/* day d (0 is Sunday) of week w (5 is the last) of month m */

static int64_t
ngx_gw_tz_rule_day(int64_t y, unsigned m, unsigned w, unsigned d)
{
    int64_t   first, day;
    unsigned  sunday_based;

    first = ngx_gw_cal_days_from_civil(y, m, 1);
    sunday_based = (ngx_gw_cal_weekday(first) + 1) % 7;

    day = first + (d + 7 - sunday_based) % 7 + (int64_t) (w - 1) * 7;

    while (day >= first + ngx_gw_cal_month_days(y, m)) {
        day -= 7;
    }

    return day;
}


/* the UTC instants at which DST starts and ends in year y */

static void
ngx_gw_tz_rule_year(const ngx_gw_tz_rule_t *rule, int64_t y, int64_t *start,
    int64_t *end)
{
    *start = ngx_gw_tz_rule_day(y, rule->start_m, rule->start_w,
                                rule->start_d) * 86400
             + rule->start_time - rule->std_offset;
    *end = ngx_gw_tz_rule_day(y, rule->end_m, rule->end_w, rule->end_d)
           * 86400 + rule->end_time - rule->dst_offset;
}


static int32_t
ngx_gw_tz_rule_offset(const ngx_gw_tz_rule_t *rule, int64_t t)
{
    int64_t   y, start, end;
    unsigned  m, d;
    int       dst;

    if (!rule->has_dst) {
        return rule->std_offset;
    }

    ngx_gw_cal_civil_from_days(ngx_gw_cal_floor_div(t + rule->std_offset,
                                                    86400),
                               &y, &m, &d);

    ngx_gw_tz_rule_year(rule, y, &start, &end);

    if (start < end) {
        dst = (t >= start && t < end);

    } else {
        dst = !(t >= end && t < start);
    }

    return dst ? rule->dst_offset : rule->std_offset;
}


/*
 * The first instant whose local time is at or after "local": for a
 * repeated local time the earlier one, for a local time skipped by a
 * transition (a gap) the transition itself.
 */

int64_t
ngx_gw_tz_local_to_utc(const ngx_gw_tz_t *tz, int64_t local)
{
    int32_t   before, after;
    int64_t   t, y, start, end;
    uint32_t  i;
    unsigned  m, d;

    if (tz == NULL || (tz->n == 0 && !tz->rule.valid)) {
        return local - (tz ? tz->initial : 0);
    }

    /* transitions are far more than two days apart */

    before = ngx_gw_tz_offset(tz, local - 86400 * 2);
    after = ngx_gw_tz_offset(tz, local + 86400 * 2);

    t = local - before;

    if (ngx_gw_tz_offset(tz, t) == before) {
        return t;
    }

    t = local - after;

    if (ngx_gw_tz_offset(tz, t) == after) {
        return t;
    }

    /* a gap: the transition between local - after and local - before */

    if (ngx_gw_tz_after_table(tz, local - before)) {
        ngx_gw_cal_civil_from_days(ngx_gw_cal_floor_div(local, 86400), &y,
                                   &m, &d);
        ngx_gw_tz_rule_year(&tz->rule, y, &start, &end);

        if (start > local - after && start <= local - before) {
            return start;
        }

        if (end > local - after && end <= local - before) {
            return end;
        }

        return local - before;
    }

    i = ngx_gw_tz_search(tz, local - before);

    return (i == tz->n) ? local - before : tz->times[i];
}


void
ngx_gw_cal_period(const ngx_gw_tz_t *tz, unsigned unit, int64_t t,
    int64_t *start, int64_t *end)
{
    int64_t   lt, days, y, first, next;
    unsigned  m, d, wd;

    lt = t + ngx_gw_tz_offset(tz, t);

    switch (unit) {

    case NGX_GW_CAL_MINUTE:
    case NGX_GW_CAL_HOUR:

        /* in the offset now in effect; a DST change cuts the period */

        d = (unit == NGX_GW_CAL_MINUTE) ? 60 : 3600;
        *start = t - (lt - ngx_gw_cal_floor_div(lt, d) * d);
        *end = *start + d;
        return;

    case NGX_GW_CAL_DAY:
        days = ngx_gw_cal_floor_div(lt, 86400);
        first = days;
        next = days + 1;
        break;

    case NGX_GW_CAL_WEEK:
        days = ngx_gw_cal_floor_div(lt, 86400);
        wd = ngx_gw_cal_weekday(days);
        first = days - wd;
        next = first + 7;
        break;

    default: /* NGX_GW_CAL_MONTH */
        days = ngx_gw_cal_floor_div(lt, 86400);
        ngx_gw_cal_civil_from_days(days, &y, &m, &d);
        first = ngx_gw_cal_days_from_civil(y, m, 1);
        next = ngx_gw_cal_days_from_civil(y + (m == 12), m == 12 ? 1 : m + 1,
                                          1);
        break;
    }

    *start = ngx_gw_tz_local_to_utc(tz, first * 86400);
    *end = ngx_gw_tz_local_to_utc(tz, next * 86400);
}


int
ngx_gw_tz_parse_offset(const unsigned char *p, size_t len, int32_t *offset)
{
    int32_t   sign, h, mi;
    size_t    i, digits;

    if ((len == 3 && p[0] == 'U' && p[1] == 'T' && p[2] == 'C')
        || (len == 1 && p[0] == 'Z'))
    {
        *offset = 0;
        return 0;
    }

    if (len < 3 || (p[0] != '+' && p[0] != '-')) {
        return -1;
    }

    sign = (p[0] == '-') ? -1 : 1;
    h = 0;
    mi = 0;
    digits = 0;

    for (i = 1; i < len; i++) {

        if (p[i] == ':') {
            if (digits != 2 || i != 3) {
                return -1;
            }
            continue;
        }

        if (p[i] < '0' || p[i] > '9') {
            return -1;
        }

        if (digits < 2) {
            h = h * 10 + (p[i] - '0');

        } else if (digits < 4) {
            mi = mi * 10 + (p[i] - '0');

        } else {
            return -1;
        }

        digits++;
    }

    if ((digits != 2 && digits != 4) || h > 14 || mi > 59
        || (h == 14 && mi != 0))
    {
        return -1;
    }

    *offset = sign * (h * 3600 + mi * 60);

    return 0;
}


static uint32_t
ngx_gw_tzif_u32(const unsigned char *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | (uint32_t) p[3];
}


static int64_t
ngx_gw_tzif_i64(const unsigned char *p)
{
    return (int64_t) (((uint64_t) ngx_gw_tzif_u32(p) << 32)
                      | ngx_gw_tzif_u32(p + 4));
}


int
ngx_gw_tzif_parse(const unsigned char *p, size_t len, uint32_t *n,
    int64_t *times, int32_t *offsets, int32_t *initial,
    ngx_gw_tz_rule_t *rule)
{
    const unsigned char  *f, *fe, *last;

    size_t                size, tsize;
    uint32_t              i, isutcnt, isstdcnt, leapcnt, timecnt, typecnt;
    uint32_t              charcnt, type;
    const unsigned char  *h, *trans, *idx, *types;

    h = p;
    tsize = 4;

    for ( ;; ) {
        if (len - (size_t) (h - p) < 44
            || h[0] != 'T' || h[1] != 'Z' || h[2] != 'i' || h[3] != 'f')
        {
            return -1;
        }

        isutcnt = ngx_gw_tzif_u32(h + 20);
        isstdcnt = ngx_gw_tzif_u32(h + 24);
        leapcnt = ngx_gw_tzif_u32(h + 28);
        timecnt = ngx_gw_tzif_u32(h + 32);
        typecnt = ngx_gw_tzif_u32(h + 36);
        charcnt = ngx_gw_tzif_u32(h + 40);

        if (timecnt > NGX_GW_TZ_MAX_TRANSITIONS || typecnt == 0
            || typecnt > 256 || charcnt > 65536 || leapcnt > 65536
            || (isutcnt != 0 && isutcnt != typecnt)
            || (isstdcnt != 0 && isstdcnt != typecnt))
        {
            return -1;
        }

        size = (size_t) timecnt * tsize + timecnt + (size_t) typecnt * 6
               + charcnt + (size_t) leapcnt * (tsize + 4) + isstdcnt
               + isutcnt;

        if (len - (size_t) (h - p) - 44 < size) {
            return -1;
        }

        /* version 2 and later repeat the data with 64-bit times */

        if (tsize == 4 && h[4] >= '2') {
            h += 44 + size;
            tsize = 8;
            continue;
        }

        break;
    }

    trans = h + 44;
    idx = trans + (size_t) timecnt * tsize;
    types = idx + timecnt;

    for (i = 0; i < timecnt; i++) {
        if (idx[i] >= typecnt) {
            return -1;
        }

        if (i > 0) {
            if (tsize == 8) {
                if (ngx_gw_tzif_i64(trans + i * 8)
                    <= ngx_gw_tzif_i64(trans + (i - 1) * 8))
                {
                    return -1;
                }

            } else if ((int32_t) ngx_gw_tzif_u32(trans + i * 4)
                       <= (int32_t) ngx_gw_tzif_u32(trans + (i - 1) * 4))
            {
                return -1;
            }
        }
    }

    *n = timecnt;

    /* RFC 8536: type 0 applies before the first transition */

    *initial = (int32_t) ngx_gw_tzif_u32(types);

    /* version 2+: "\n" POSIX TZ "\n" after the 64-bit data */

    if (rule) {
        rule->valid = 0;
        last = p + len;
        f = h + 44 + size;

        if (tsize == 8 && f < last && *f == '\n') {
            for (fe = f + 1; fe < last && *fe != '\n'; fe++) {
                /* void */
            }

            if (fe < last && fe > f + 1
                && ngx_gw_tz_parse_rule(f + 1, fe - f - 1, rule) != 0)
            {
                rule->valid = 0;
            }
        }
    }

    if (times == NULL) {
        return 0;
    }

    for (i = 0; i < timecnt; i++) {
        times[i] = (tsize == 8)
                   ? ngx_gw_tzif_i64(trans + i * 8)
                   : (int64_t) (int32_t) ngx_gw_tzif_u32(trans + i * 4);

        type = idx[i];
        offsets[i] = (int32_t) ngx_gw_tzif_u32(types + type * 6);

        if (offsets[i] < -26 * 3600 || offsets[i] > 26 * 3600) {
            return -1;
        }
    }

    return 0;
}


/* "EST", "<+0530>" */

static const unsigned char *
ngx_gw_tz_parse_name(const unsigned char *p, const unsigned char *last)
{
    const unsigned char  *start;

    start = p;

    if (p < last && *p == '<') {
        while (p < last && *p != '>') {
            p++;
        }

        return (p < last) ? p + 1 : NULL;
    }

    while (p < last && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
    {
        p++;
    }

    return (p - start >= 3) ? p : NULL;
}


/* [+-]hh[:mm[:ss]], hours up to 167 */

static const unsigned char *
ngx_gw_tz_parse_time(const unsigned char *p, const unsigned char *last,
    int32_t *value)
{
    int32_t   sign, part, v;
    unsigned  i, digits;

    sign = 1;

    if (p < last && (*p == '+' || *p == '-')) {
        sign = (*p++ == '-') ? -1 : 1;
    }

    v = 0;

    for (i = 0; i < 3; i++) {
        part = 0;
        digits = 0;

        while (p < last && *p >= '0' && *p <= '9' && digits < 3) {
            part = part * 10 + (*p++ - '0');
            digits++;
        }

        if (digits == 0 || (i == 0 && part > 167) || (i > 0 && part > 59)) {
            return NULL;
        }

        v += part * (i == 0 ? 3600 : i == 1 ? 60 : 1);

        if (p == last || *p != ':') {
            break;
        }

        p++;
    }

    *value = sign * v;

    return p;
}


/* "Mm.w.d[/time]" */

static const unsigned char *
ngx_gw_tz_parse_date(const unsigned char *p, const unsigned char *last,
    uint8_t *m, uint8_t *w, uint8_t *d, int32_t *time)
{
    unsigned  v[3], i;

    if (p == last || *p++ != 'M') {
        return NULL;
    }

    for (i = 0; i < 3; i++) {
        v[i] = 0;

        if (p == last || *p < '0' || *p > '9') {
            return NULL;
        }

        while (p < last && *p >= '0' && *p <= '9' && v[i] < 100) {
            v[i] = v[i] * 10 + (*p++ - '0');
        }

        if (i < 2) {
            if (p == last || *p++ != '.') {
                return NULL;
            }
        }
    }

    if (v[0] < 1 || v[0] > 12 || v[1] < 1 || v[1] > 5 || v[2] > 6) {
        return NULL;
    }

    *m = (uint8_t) v[0];
    *w = (uint8_t) v[1];
    *d = (uint8_t) v[2];
    *time = 7200;

    if (p < last && *p == '/') {
        return ngx_gw_tz_parse_time(p + 1, last, time);
    }

    return p;
}


int
ngx_gw_tz_parse_rule(const unsigned char *p, size_t len,
    ngx_gw_tz_rule_t *rule)
{
    int32_t               off;
    const unsigned char  *last;

    last = p + len;

    rule->valid = 0;
    rule->has_dst = 0;

    p = ngx_gw_tz_parse_name(p, last);
    if (p == NULL) {
        return -1;
    }

    /* POSIX offsets are west of UTC */

    p = ngx_gw_tz_parse_time(p, last, &off);
    if (p == NULL) {
        return -1;
    }

    rule->std_offset = -off;
    rule->dst_offset = rule->std_offset + 3600;

    if (p == last) {
        rule->valid = 1;
        return 0;
    }

    p = ngx_gw_tz_parse_name(p, last);
    if (p == NULL) {
        return -1;
    }

    if (p < last && *p != ',') {
        p = ngx_gw_tz_parse_time(p, last, &off);
        if (p == NULL) {
            return -1;
        }

        rule->dst_offset = -off;
    }

    if (p == last || *p++ != ',') {
        return -1;
    }

    p = ngx_gw_tz_parse_date(p, last, &rule->start_m, &rule->start_w,
                             &rule->start_d, &rule->start_time);
    if (p == NULL || p == last || *p++ != ',') {
        return -1;
    }

    p = ngx_gw_tz_parse_date(p, last, &rule->end_m, &rule->end_w,
                             &rule->end_d, &rule->end_time);
    if (p != last) {
        return -1;
    }

    rule->has_dst = 1;
    rule->valid = 1;

    return 0;
}


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


int32_t
ngx_gw_tz_offset(const ngx_gw_tz_t *tz, int64_t t)
{
    uint32_t  i;

    if (tz == NULL) {
        return 0;
    }

    i = ngx_gw_tz_search(tz, t);

    return (i == tz->n) ? tz->initial : tz->offsets[i];
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
    int64_t   t;
    uint32_t  i;

    if (tz == NULL || tz->n == 0) {
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
    int64_t *times, int32_t *offsets, int32_t *initial)
{
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

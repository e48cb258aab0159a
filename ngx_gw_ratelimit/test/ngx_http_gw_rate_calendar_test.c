
/*
 * Copyright (C) ngx_gw authors
 *
 * Unit test of the quota calendar (ngx_http_gw_rate_calendar.c): civil
 * dates, month lengths, leap years, weeks, fixed offsets and TZif zones
 * with DST.  The zones are checked against the C library's localtime_r()
 * from 2020 to 2070 (after 2037 through the TZif footer's POSIX rule);
 * the module itself never calls it.
 *
 *   cc -I.. -o calendar_test ngx_http_gw_rate_calendar_test.c \
 *       ../ngx_http_gw_rate_calendar.c && ./calendar_test
 *
 * Prints one line per failure and "ok N" at the end; exits 1 on failure.
 */


#define _DEFAULT_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ngx_http_gw_rate_calendar.h"


static int  failures;
static int  checks;


static void check(int ok, const char *what, long long a, long long b);
static void test_civil(void);
static void test_offsets(void);
static void test_periods_fixed(void);
static int load_zone(const char *name, ngx_gw_tz_t *tz);
static void test_zone(const char *name);
static void test_dst_days(void);
static void test_rules(void);
static int parse_rule(const char *s, ngx_gw_tz_rule_t *rule);


static void
check(int ok, const char *what, long long a, long long b)
{
    checks++;

    if (!ok) {
        failures++;
        printf("FAIL %s: %lld %lld\n", what, a, b);
    }
}


static void
test_civil(void)
{
    int64_t   y, days;
    unsigned  m, d, i;

    static const unsigned  lengths[] = {
        31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
    };

    check(ngx_gw_cal_days_from_civil(1970, 1, 1) == 0, "epoch", 0, 0);
    check(ngx_gw_cal_days_from_civil(2000, 3, 1) == 11017, "2000-03-01",
          ngx_gw_cal_days_from_civil(2000, 3, 1), 11017);
    check(ngx_gw_cal_days_from_civil(1969, 12, 31) == -1, "1969-12-31",
          ngx_gw_cal_days_from_civil(1969, 12, 31), -1);

    /* leap years: every 4, not every 100, every 400 */

    check(ngx_gw_cal_month_days(2024, 2) == 29, "2024 leap", 0, 0);
    check(ngx_gw_cal_month_days(2023, 2) == 28, "2023 not leap", 0, 0);
    check(ngx_gw_cal_month_days(1900, 2) == 28, "1900 not leap", 0, 0);
    check(ngx_gw_cal_month_days(2000, 2) == 29, "2000 leap", 0, 0);
    check(ngx_gw_cal_month_days(2100, 2) == 28, "2100 not leap", 0, 0);

    for (i = 0; i < 12; i++) {
        if (i == 1) {
            continue;
        }

        check(ngx_gw_cal_month_days(2025, i + 1) == lengths[i],
              "month length", i + 1, ngx_gw_cal_month_days(2025, i + 1));
    }

    /* round trips over 1600..2400 */

    for (days = -135140; days < 157000; days++) {
        ngx_gw_cal_civil_from_days(days, &y, &m, &d);

        if (ngx_gw_cal_days_from_civil(y, m, d) != days
            || m < 1 || m > 12 || d < 1 || d > ngx_gw_cal_month_days(y, m))
        {
            check(0, "round trip", days, ngx_gw_cal_days_from_civil(y, m, d));
            break;
        }
    }

    checks++;

    /* weekdays, Monday is 0 */

    check(ngx_gw_cal_weekday(0) == 3, "1970-01-01 Thursday",
          ngx_gw_cal_weekday(0), 3);
    check(ngx_gw_cal_weekday(ngx_gw_cal_days_from_civil(2024, 2, 29)) == 3,
          "2024-02-29 Thursday", 0, 0);
    check(ngx_gw_cal_weekday(ngx_gw_cal_days_from_civil(2026, 12, 7)) == 0,
          "2026-12-07 Monday", 0, 0);
    check(ngx_gw_cal_weekday(-1) == 2, "1969-12-31 Wednesday",
          ngx_gw_cal_weekday(-1), 2);
}


static void
test_offsets(void)
{
    int32_t  off;

    off = 0;

    check(ngx_gw_tz_parse_offset((const unsigned char *) "+05:30", 6, &off)
          == 0 && off == 19800, "+05:30", off, 19800);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "-08", 3, &off)
          == 0 && off == -28800, "-08", off, -28800);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "+0545", 5, &off)
          == 0 && off == 20700, "+0545", off, 20700);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "UTC", 3, &off)
          == 0 && off == 0, "UTC", off, 0);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "+14:00", 6, &off)
          == 0 && off == 50400, "+14:00", off, 50400);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "+14:30", 6, &off)
          == -1, "+14:30 refused", 0, 0);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "+5:30", 5, &off)
          == -1, "+5:30 refused", 0, 0);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "+05:60", 6, &off)
          == -1, "+05:60 refused", 0, 0);
    check(ngx_gw_tz_parse_offset((const unsigned char *) "05:00", 5, &off)
          == -1, "05:00 refused", 0, 0);
}


static void
test_periods_fixed(void)
{
    int64_t      t, start, end;
    ngx_gw_tz_t  utc, india;

    memset(&utc, 0, sizeof(ngx_gw_tz_t));
    memset(&india, 0, sizeof(ngx_gw_tz_t));
    india.initial = 19800;

    /* 2024-02-29 13:45:10 UTC, a Thursday */

    t = ngx_gw_cal_days_from_civil(2024, 2, 29) * 86400 + 13 * 3600
        + 45 * 60 + 10;

    ngx_gw_cal_period(&utc, NGX_GW_CAL_MINUTE, t, &start, &end);
    check(start == t - 10 && end == t + 50, "minute", start, end);

    ngx_gw_cal_period(&utc, NGX_GW_CAL_HOUR, t, &start, &end);
    check(start == t - 2710 && end == start + 3600, "hour", start, end);

    /* in +05:30 hours begin at half past, UTC */

    ngx_gw_cal_period(&india, NGX_GW_CAL_HOUR, t, &start, &end);
    check(start == t - 910 && end == start + 3600, "hour +05:30", start,
          end);

    ngx_gw_cal_period(&utc, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2024, 2, 29) * 86400
          && end == ngx_gw_cal_days_from_civil(2024, 3, 1) * 86400,
          "day", start, end);

    /* 13:45 UTC is 19:15 in India, the same date; midnight is 18:30 UTC */

    ngx_gw_cal_period(&india, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2024, 2, 28) * 86400 + 66600
          && end == start + 86400, "day +05:30", start, end);

    /* the week of Thursday 2024-02-29 began on Monday 2024-02-26 */

    ngx_gw_cal_period(&utc, NGX_GW_CAL_WEEK, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2024, 2, 26) * 86400
          && end == ngx_gw_cal_days_from_civil(2024, 3, 4) * 86400,
          "week", start, end);

    /* a week across a year: Wednesday 2025-01-01 is in 2024-12-30's */

    ngx_gw_cal_period(&utc, NGX_GW_CAL_WEEK,
                      ngx_gw_cal_days_from_civil(2025, 1, 1) * 86400 + 5,
                      &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2024, 12, 30) * 86400,
          "week across a year", start, end);

    /* February of a leap year has 29 days */

    ngx_gw_cal_period(&utc, NGX_GW_CAL_MONTH, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2024, 2, 1) * 86400
          && end - start == 29 * 86400, "leap February", start, end);

    ngx_gw_cal_period(&utc, NGX_GW_CAL_MONTH,
                      ngx_gw_cal_days_from_civil(2023, 2, 10) * 86400,
                      &start, &end);
    check(end - start == 28 * 86400, "February", start, end);

    /* December ends on January 1st of the next year */

    ngx_gw_cal_period(&utc, NGX_GW_CAL_MONTH,
                      ngx_gw_cal_days_from_civil(2025, 12, 31) * 86400
                      + 86399, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2025, 12, 1) * 86400
          && end == ngx_gw_cal_days_from_civil(2026, 1, 1) * 86400,
          "December", start, end);

    /* the last instant of a month in +05:30 is already the next month */

    ngx_gw_cal_period(&india, NGX_GW_CAL_MONTH,
                      ngx_gw_cal_days_from_civil(2025, 4, 30) * 86400
                      + 20 * 3600, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2025, 5, 1) * 86400 - 19800
          && end == ngx_gw_cal_days_from_civil(2025, 6, 1) * 86400 - 19800,
          "month +05:30", start, end);
}


static int
load_zone(const char *name, ngx_gw_tz_t *tz)
{
    FILE           *f;
    char            path[256];
    size_t          len;
    unsigned char  *buf;

    snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", name);

    f = fopen(path, "rb");
    if (f == NULL) {
        return -1;
    }

    buf = malloc(1 << 18);
    if (buf == NULL) {
        fclose(f);
        return -1;
    }

    len = fread(buf, 1, 1 << 18, f);
    fclose(f);

    memset(tz, 0, sizeof(ngx_gw_tz_t));

    if (ngx_gw_tzif_parse(buf, len, &tz->n, NULL, NULL, &tz->initial, NULL)
        != 0)
    {
        free(buf);
        return -1;
    }

    tz->times = malloc(sizeof(int64_t) * (tz->n + 1));
    tz->offsets = malloc(sizeof(int32_t) * (tz->n + 1));

    if (tz->times == NULL || tz->offsets == NULL
        || ngx_gw_tzif_parse(buf, len, &tz->n, tz->times, tz->offsets,
                             &tz->initial, &tz->rule)
           != 0)
    {
        free(buf);
        return -1;
    }

    free(buf);

    return 0;
}


/*
 * Against localtime_r() from 2020 to 2035: the offset at every instant
 * probed, and for every day, week and month period: start <= t < end,
 * the start is local midnight (or the first instant after a gap), the
 * start's local date is the period's first day.
 */

static void
test_zone(const char *name)
{
    int64_t      t, start, end;
    struct tm    tm, ts;
    ngx_gw_tz_t  tz;
    time_t       tt;
    int          bad;

    if (load_zone(name, &tz) != 0) {
        check(0, name, 0, 0);
        return;
    }

    setenv("TZ", name, 1);
    tzset();

    bad = 0;

    /* 2020 to 2070: past 2037 the footer's rule takes over */

    for (t = 1577836800; t < 3155760000LL && bad < 5; t += 7919) {
        tt = (time_t) t;
        localtime_r(&tt, &tm);

        if (ngx_gw_tz_offset(&tz, t) != tm.tm_gmtoff) {
            check(0, "offset", t, tm.tm_gmtoff);
            bad++;
            continue;
        }

        ngx_gw_cal_period(&tz, NGX_GW_CAL_DAY, t, &start, &end);

        tt = (time_t) start;
        localtime_r(&tt, &ts);

        if (!(start <= t && t < end) || ts.tm_mday != tm.tm_mday
            || ((ts.tm_hour != 0 || ts.tm_min != 0 || ts.tm_sec != 0)
                && ngx_gw_tz_offset(&tz, start - 1)
                   == ngx_gw_tz_offset(&tz, start)))
        {
            check(0, "day period", t, start);
            bad++;
        }

        ngx_gw_cal_period(&tz, NGX_GW_CAL_WEEK, t, &start, &end);

        tt = (time_t) start;
        localtime_r(&tt, &ts);

        if (!(start <= t && t < end) || ts.tm_wday != 1) {
            check(0, "week period", t, start);
            bad++;
        }

        ngx_gw_cal_period(&tz, NGX_GW_CAL_MONTH, t, &start, &end);

        tt = (time_t) start;
        localtime_r(&tt, &ts);

        if (!(start <= t && t < end) || ts.tm_mday != 1
            || ts.tm_mon != tm.tm_mon)
        {
            check(0, "month period", t, start);
            bad++;
        }

        tt = (time_t) end;
        localtime_r(&tt, &ts);

        if (ts.tm_mday != 1 || ts.tm_mon != (tm.tm_mon + 1) % 12) {
            check(0, "month end", t, end);
            bad++;
        }

        checks += 4;
    }

    free(tz.times);
    free(tz.offsets);
}


/* the exact lengths of days with a DST change */

static void
test_dst_days(void)
{
    int64_t      t, start, end;
    ngx_gw_tz_t  tz;

    if (load_zone("Europe/Berlin", &tz) != 0) {
        check(0, "Europe/Berlin", 0, 0);
        return;
    }

    /* 2025-03-30 has 23 hours in Berlin, 2025-10-26 has 25 */

    t = ngx_gw_cal_days_from_civil(2025, 3, 30) * 86400 + 12 * 3600;
    ngx_gw_cal_period(&tz, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2025, 3, 30) * 86400 - 3600
          && end - start == 23 * 3600, "Berlin spring day", start, end);

    t = ngx_gw_cal_days_from_civil(2025, 10, 26) * 86400 + 12 * 3600;
    ngx_gw_cal_period(&tz, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2025, 10, 26) * 86400 - 7200
          && end - start == 25 * 3600, "Berlin autumn day", start, end);

    /* the week of that change has 7 x 24 + 1 hours */

    ngx_gw_cal_period(&tz, NGX_GW_CAL_WEEK, t, &start, &end);
    check(end - start == 7 * 86400 + 3600, "Berlin autumn week", start,
          end);

    free(tz.times);
    free(tz.offsets);

    /* Santiago skips midnight: the day starts at 01:00 local */

    if (load_zone("America/Santiago", &tz) != 0) {
        check(0, "America/Santiago", 0, 0);
        return;
    }

    /* on 2025-09-07 00:00 (-04) clocks went to 01:00 (-03) */

    t = ngx_gw_cal_days_from_civil(2025, 9, 7) * 86400 + 15 * 3600;
    ngx_gw_cal_period(&tz, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2025, 9, 7) * 86400 + 4 * 3600
          && end - start == 23 * 3600, "Santiago gap day", start, end);

    free(tz.times);
    free(tz.offsets);
}


static int
parse_rule(const char *s, ngx_gw_tz_rule_t *rule)
{
    return ngx_gw_tz_parse_rule((const unsigned char *) s, strlen(s), rule);
}


/* POSIX TZ strings, and the rule alone past the table */

static void
test_rules(void)
{
    int64_t           t, start, end;
    ngx_gw_tz_t       tz;
    ngx_gw_tz_rule_t  rule;

    static const char  *bad[] = {
        "EST", "EST5EDT,M3.2.0", "EST5EDT,J60,J300", "EST5EDT,M13.1.0,M1.1.0",
        "<+05", "X5", "EST5EDT,M3.6.0,M11.1.0", "EST5EDT,M3.2.7,M11.1.0",
        "EST5EDT,M3.2.0/200,M11.1.0", NULL
    };
    const char  **b;

    memset(&rule, 0, sizeof(ngx_gw_tz_rule_t));

    check(parse_rule("IST-5:30", &rule)
          == 0 && rule.std_offset == 19800 && !rule.has_dst, "IST-5:30",
          rule.std_offset, 19800);

    check(parse_rule("<-04>4<-03>,M9.1.6/24,M4.1.6/24", &rule)
          == 0 && rule.std_offset == -14400 && rule.dst_offset == -10800
          && rule.start_time == 86400 && rule.start_m == 9, "Santiago rule",
          rule.std_offset, rule.dst_offset);

    check(parse_rule("<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", &rule)
          == 0 && rule.std_offset == 37800 && rule.dst_offset == 39600,
          "Lord Howe rule", rule.std_offset, rule.dst_offset);

    for (b = bad; *b; b++) {
        check(parse_rule(*b, &rule) == -1, *b, 0, 0);
    }

    /* a slim zone: the rule alone, in 2031 */

    memset(&tz, 0, sizeof(ngx_gw_tz_t));
    parse_rule("CET-1CEST,M3.5.0,M10.5.0/3", &tz.rule);
    tz.initial = 3600;

    t = ngx_gw_cal_days_from_civil(2031, 3, 30) * 86400 + 12 * 3600;
    ngx_gw_cal_period(&tz, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2031, 3, 30) * 86400 - 3600
          && end - start == 23 * 3600, "rule spring day 2031", start, end);

    t = ngx_gw_cal_days_from_civil(2031, 10, 26) * 86400 + 12 * 3600;
    ngx_gw_cal_period(&tz, NGX_GW_CAL_DAY, t, &start, &end);
    check(start == ngx_gw_cal_days_from_civil(2031, 10, 26) * 86400 - 7200
          && end - start == 25 * 3600, "rule autumn day 2031", start, end);
}


int
main(void)
{
    test_civil();
    test_rules();
    test_offsets();
    test_periods_fixed();
    test_dst_days();

    test_zone("Europe/Berlin");
    test_zone("America/New_York");
    test_zone("America/Santiago");
    test_zone("Australia/Lord_Howe");
    test_zone("Asia/Kolkata");
    test_zone("Pacific/Chatham");
    test_zone("UTC");

    if (failures) {
        printf("%d of %d checks failed\n", failures, checks);
        return 1;
    }

    printf("ok %d\n", checks);

    return 0;
}

/* rtime.c: parsing and formatting durations and timestamps. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "die.h"
#include "rtime.h"

static const struct {
	const char *name;
	int64_t micros;
} units[] = {
	{ "us", 1 }, { "microsecond", 1 }, { "microseconds", 1 },
	{ "ms", 1000 }, { "milli", 1000 }, { "millis", 1000 },
	{ "millisecond", 1000 }, { "milliseconds", 1000 },
	{ "s", MICROS_PER_SECOND }, { "sec", MICROS_PER_SECOND },
	{ "secs", MICROS_PER_SECOND }, { "second", MICROS_PER_SECOND },
	{ "seconds", MICROS_PER_SECOND },
	{ "m", 60 * MICROS_PER_SECOND }, { "min", 60 * MICROS_PER_SECOND },
	{ "mins", 60 * MICROS_PER_SECOND },
	{ "minute", 60 * MICROS_PER_SECOND },
	{ "minutes", 60 * MICROS_PER_SECOND },
	{ "h", 3600 * MICROS_PER_SECOND }, { "hr", 3600 * MICROS_PER_SECOND },
	{ "hrs", 3600 * MICROS_PER_SECOND },
	{ "hour", 3600 * MICROS_PER_SECOND },
	{ "hours", 3600 * MICROS_PER_SECOND },
	{ "d", 86400 * MICROS_PER_SECOND }, { "day", 86400 * MICROS_PER_SECOND },
	{ "days", 86400 * MICROS_PER_SECOND },
	{ "w", 7 * 86400 * MICROS_PER_SECOND },
	{ "week", 7 * 86400 * MICROS_PER_SECOND },
	{ "weeks", 7 * 86400 * MICROS_PER_SECOND },
};

int
duration_parse(const char *s, int64_t *micros, char *err)
{
	const char *p = s;
	double total = 0;
	int terms = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (strncasecmp(p, "interval", 8) == 0 && isspace((unsigned char)p[8]))
		p += 8;
	for (;;) {
		char *end;
		double n;
		const char *u;
		size_t ulen, i;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p == '-')
			return seterr(err, "'%s': a duration cannot be negative",
			    s);
		if (!isdigit((unsigned char)*p) && *p != '.')
			return seterr(err, "'%s' is not a duration (e.g. "
			    "\"10 minutes\", 250ms, 5s, 1h)", s);
		errno = 0;
		n = strtod(p, &end);
		if (end == p || errno || !isfinite(n))
			return seterr(err, "'%s' is not a duration", s);
		p = end;
		while (isspace((unsigned char)*p))
			p++;
		u = p;
		while (isalpha((unsigned char)*p))
			p++;
		ulen = (size_t)(p - u);
		if (ulen == 0)
			return seterr(err, "'%s': a duration needs a unit "
			    "(e.g. 5s, \"10 minutes\")", s);
		for (i = 0; i < sizeof units / sizeof units[0]; i++)
			if (strlen(units[i].name) == ulen &&
			    strncasecmp(units[i].name, u, ulen) == 0)
				break;
		if (i == sizeof units / sizeof units[0])
			return seterr(err, "'%s': unknown unit '%.*s'", s,
			    (int)ulen, u);
		total += n * (double)units[i].micros;
		terms++;
	}
	if (terms == 0)
		return seterr(err, "empty duration");
	if (total >= 9.2e18)
		return seterr(err, "'%s': duration too long", s);
	*micros = (int64_t)llround(total);
	return 0;
}

size_t
duration_format(int64_t micros, char *buf)
{
	static const struct {
		const char *unit;
		int64_t micros;
	} parts[] = {
		{ "d", 86400 * MICROS_PER_SECOND }, { "h", 3600 * MICROS_PER_SECOND },
		{ "m", 60 * MICROS_PER_SECOND }, { "s", MICROS_PER_SECOND },
		{ "ms", 1000 }, { "us", 1 },
	};
	size_t len = 0;

	if (micros <= 0)
		return (size_t)sprintf(buf, "0s");
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		int64_t n = micros / parts[i].micros;

		if (n > 0) {
			len += (size_t)sprintf(buf + len, "%lld%s",
			    (long long)n, parts[i].unit);
			micros -= n * parts[i].micros;
		}
	}
	return len;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	*y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y += *m <= 2;
}

/* Read exactly `digits` decimal digits. */
static bool
read_digits(const char **p, const char *end, int digits, int *out)
{
	int v = 0;

	for (int i = 0; i < digits; i++) {
		if (*p >= end || !isdigit((unsigned char)**p))
			return false;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return true;
}

static bool
is_epoch_number(const char *s, size_t n)
{
	size_t i = 0;
	bool digits = false, dot = false;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		i++;
	for (; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			digits = true;
		else if (s[i] == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digits;
}

static int
parse_epoch_seconds(const char *s, size_t n, int64_t *micros, char *err)
{
	char buf[64];
	const char *dot;
	int64_t secs, frac = 0;
	bool negative;
	char *end;

	if (n >= sizeof buf)
		return seterr(err, "'%.*s' is not a timestamp", (int)n, s);
	memcpy(buf, s, n);
	buf[n] = '\0';
	negative = buf[0] == '-';
	dot = strchr(buf, '.');
	errno = 0;
	secs = strtoll(buf, &end, 10);
	if (errno || secs > 9223372036854LL || secs < -9223372036854LL)
		return seterr(err, "'%s' is out of the timestamp range", buf);
	if (dot) {
		int scale = 100000;

		for (const char *q = dot + 1; *q && scale > 0; q++, scale /= 10)
			frac += (*q - '0') * scale;
	}
	if (negative)
		frac = -frac;
	/* secs is bounded above, but the fraction can still step past
	 * INT64_MAX/MIN ("9223372036854.9"; found by tests/fuzz/fuzz_parse). */
	secs *= MICROS_PER_SECOND;
	if ((frac > 0 && secs > INT64_MAX - frac) ||
	    (frac < 0 && secs < INT64_MIN - frac))
		return seterr(err, "'%s' is out of the timestamp range", buf);
	*micros = secs + frac;
	return 0;
}

int
timestamp_parse(const char *s, size_t n, int64_t *micros, char *err)
{
	const char *p = s, *end = s + n;
	int year, mon, day, hour = 0, min = 0, sec = 0;
	int64_t frac = 0, offset = 0, days;

	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (is_epoch_number(p, (size_t)(end - p)))
		return parse_epoch_seconds(p, (size_t)(end - p), micros, err);
	if (!read_digits(&p, end, 4, &year) || p >= end || *p++ != '-' ||
	    !read_digits(&p, end, 2, &mon) || p >= end || *p++ != '-' ||
	    !read_digits(&p, end, 2, &day))
		goto bad;
	if (p < end && (*p == 'T' || *p == 't' || *p == ' ')) {
		p++;
		if (!read_digits(&p, end, 2, &hour) || p >= end ||
		    *p++ != ':' || !read_digits(&p, end, 2, &min))
			goto bad;
		if (p < end && *p == ':') {
			p++;
			if (!read_digits(&p, end, 2, &sec))
				goto bad;
			if (p < end && (*p == '.' || *p == ',')) {
				int64_t scale = 100000;

				p++;
				if (p >= end || !isdigit((unsigned char)*p))
					goto bad;
				for (; p < end && isdigit((unsigned char)*p);
				    p++, scale /= 10)
					frac += (*p - '0') * scale;
			}
		}
		while (p < end && *p == ' ')
			p++;
		if (p < end && (*p == 'Z' || *p == 'z')) {
			p++;
		} else if (p < end && (*p == '+' || *p == '-')) {
			int sign = *p++ == '-' ? -1 : 1, oh, om = 0;

			if (!read_digits(&p, end, 2, &oh))
				goto bad;
			if (p < end && *p == ':')
				p++;
			if (p < end && !read_digits(&p, end, 2, &om))
				goto bad;
			offset = sign * (oh * 3600 + om * 60);
		}
	}
	if (p != end)
		goto bad;
	if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 ||
	    min > 59 || sec > 60)
		goto bad;
	days = days_from_civil(year, mon, day);
	*micros = ((days * 86400 + hour * 3600 + min * 60 + sec) - offset) *
	    MICROS_PER_SECOND + frac;
	return 0;
bad:
	return seterr(err, "'%.*s' is not a timestamp (ISO-8601 or epoch "
	    "seconds)", (int)(n > 64 ? 64 : n), s);
}

static void
split_time(int64_t micros, int64_t *y, int *mo, int *d, int *h, int *mi,
    int *s, int64_t *frac)
{
	int64_t secs = floor_div(micros, MICROS_PER_SECOND);
	int64_t days = floor_div(secs, 86400);
	int64_t rem = secs - days * 86400;

	/* The remainder, not micros - secs * 1e6: near INT64_MIN that
	 * product overflows (found by tests/fuzz/fuzz_frame). */
	*frac = micros % MICROS_PER_SECOND;
	if (*frac < 0)
		*frac += MICROS_PER_SECOND;
	civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600);
	*mi = (int)(rem / 60 % 60);
	*s = (int)(rem % 60);
}

size_t
timestamp_format_iso(int64_t micros, char *buf)
{
	int64_t y, frac;
	int mo, d, h, mi, s;

	split_time(micros, &y, &mo, &d, &h, &mi, &s, &frac);
	return (size_t)snprintf(buf, TIMESTAMP_BUFSIZE,
	    "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", (long long)y, mo, d, h,
	    mi, s, (int)(frac / 1000));
}

size_t
timestamp_format_console(int64_t micros, char *buf)
{
	int64_t y, frac;
	int mo, d, h, mi, s, len;

	split_time(micros, &y, &mo, &d, &h, &mi, &s, &frac);
	len = snprintf(buf, TIMESTAMP_BUFSIZE, "%04lld-%02d-%02d %02d:%02d:%02d",
	    (long long)y, mo, d, h, mi, s);
	if (frac != 0) {
		len += snprintf(buf + len, TIMESTAMP_BUFSIZE - (size_t)len,
		    ".%06d", (int)frac);
		while (buf[len - 1] == '0')
			buf[--len] = '\0';
	}
	return (size_t)len;
}

int64_t
now_micros(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * MICROS_PER_SECOND + ts.tv_nsec / 1000;
}

int64_t
monotonic_micros(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * MICROS_PER_SECOND + ts.tv_nsec / 1000;
}

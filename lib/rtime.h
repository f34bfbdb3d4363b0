/*
 * rtime.h: durations and timestamps as users write them and runnel shows them.
 *
 * All times are int64 microseconds: durations as a length, timestamps since
 * the Unix epoch in UTC, as Spark's TimestampType.
 *
 * Durations: Spark style ("10 minutes", "1 hour 30 minutes", "interval 5
 * seconds") and short ("250ms", "5s", "10m", "1h", "1d", "1h30m").  A bare
 * number is refused: "5" could mean anything.
 *
 * Timestamps: ISO-8601 ("2026-11-24T12:00:00Z", "2026-11-24 12:00:00.123",
 * with an optional offset "+01:00"; none means UTC), a date alone, or epoch
 * seconds (integer or fractional).
 */
#ifndef RUNNEL_RTIME_H
#define RUNNEL_RTIME_H

#include <stddef.h>
#include <stdint.h>

#define MICROS_PER_SECOND	INT64_C(1000000)

/* Returns 0 and *micros (>= 0), or -1 with err. */
int duration_parse(const char *s, int64_t *micros, char *err);
/* Write a duration the short way ("10m", "1h30m", "250ms"); buf >= 64. */
size_t duration_format(int64_t micros, char *buf);

/* Parse exactly n bytes at s.  Returns 0, or -1 with err. */
int timestamp_parse(const char *s, size_t n, int64_t *micros, char *err);

#define TIMESTAMP_BUFSIZE 40
/* 2026-11-24T12:00:00.000Z (milliseconds, UTC). */
size_t timestamp_format_iso(int64_t micros, char *buf);
/* 2026-11-24 12:00:00 with the fraction only when non-zero, as Spark's show. */
size_t timestamp_format_console(int64_t micros, char *buf);

/* Wall clock and monotonic clock, microseconds. */
int64_t now_micros(void);
int64_t monotonic_micros(void);

/* floor(a / b) for b > 0, correct for negative a. */
static inline int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b != 0 && a < 0) ? q - 1 : q;
}

#endif

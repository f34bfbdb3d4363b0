/*
 * source_rate.c: "rate:N": N rows a second, with the fields of Spark's
 * rate source: timestamp TIMESTAMP and value BIGINT, a counter from 0.
 * For demos and benchmarks.
 *
 * Schedule: row v is due at start + t(v) and carries that time as its
 * timestamp, so timestamps are exact and evenly spaced (1/N s apart)
 * however late ssrc reads.  With --ramp-up R the rate climbs linearly
 * from 0 to N over R, as Spark's rampUpTime: rows due by time t are
 * N t^2 / 2R while t <= R, so t(v) = sqrt(2 R v / N) there, and
 * R/2 + v/N after.  Spark makes each second's rows at once, at the end
 * of the second; here each row is emitted as soon as it is due, rows due
 * within a millisecond together, so latency measurements see the real
 * spacing.
 *
 * s->fd is a timerfd (CLOCK_REALTIME, absolute) set to the next row's
 * due time.  Position: "start=MICROS value=V" (the schedule's start and
 * the next value), so a checkpointed rate source resumes its counter and
 * its schedule; the rows due while nothing ran come at once (bounded by
 * --max-batch-rows per batch), as Spark's rate source catches up.
 * Bounded (--trigger once|available-now): the rows due at open, then the
 * end: on a first run, row 0 alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "die.h"
#include "rtime.h"
#include "source.h"

#define GRANULE_US	1000	/* rows due within this go out together */

struct rate_source {
	int64_t per_second;	/* N */
	int64_t ramp_us;	/* R */
	int64_t start;		/* wall-clock micros of value 0 */
	int64_t next;		/* the next value */
	int64_t bound;		/* bounded: values below this; else -1 */
	bool have_start;
	bool more;		/* stopped at the row limit */
};

/* Micros from the start at which value v is due. */
static int64_t
due_after(const struct rate_source *r, int64_t v)
{
	__int128 n = r->per_second;

	if (r->ramp_us > 0) {
		/* The ramp holds N R / 2 rows (R in seconds). */
		if ((__int128)v * 2 * MICROS_PER_SECOND <
		    n * (__int128)r->ramp_us)
			return (int64_t)sqrt(2.0 * (double)v *
			    (double)r->ramp_us * 1e6 / (double)n);
		return r->ramp_us / 2 +
		    (int64_t)((__int128)v * MICROS_PER_SECOND / n);
	}
	return (int64_t)((__int128)v * MICROS_PER_SECOND / n);
}

/* How many values are due t micros after the start (t >= 0). */
static int64_t
due_count(const struct rate_source *r, int64_t t)
{
	int64_t v;

	if (r->ramp_us == 0)	/* v * 1e6 / N <= t  <=>  v * 1e6 < (t+1) N */
		return (int64_t)(((__int128)(t + 1) * r->per_second +
		    MICROS_PER_SECOND - 1) / MICROS_PER_SECOND);
	/* Invert the ramp in floating point, then settle exactly. */
	if ((double)t < (double)r->ramp_us)
		v = (int64_t)((double)t * (double)t * (double)r->per_second /
		    (2.0 * (double)r->ramp_us * 1e6));
	else
		v = (int64_t)(((double)t - (double)r->ramp_us / 2) *
		    (double)r->per_second / 1e6);
	if (v < 0)
		v = 0;
	while (v > 0 && due_after(r, v - 1) > t)
		v--;
	while (due_after(r, v) <= t)
		v++;
	return v;
}

static int
rate_init(struct source *s, char *err)
{
	struct rate_source *r = xcalloc(1, sizeof *r);
	char *end;
	long long n;

	s->priv = r;
	r->bound = -1;
	errno = 0;
	n = strtoll(s->arg, &end, 10);
	if (end == s->arg || *end != '\0' || errno || n <= 0 ||
	    n > 1000000000)
		return seterr(err, "source 'rate:%s': N must be rows a "
		    "second, 1 to 1000000000 (e.g. rate:1000)", s->arg);
	r->per_second = n;
	r->ramp_us = s->opt.ramp_up;
	snprintf(s->name, sizeof s->name, "rate:%lld", n);
	if (schema_add(&s->schema, "timestamp", TYPE_TIMESTAMP, err) < 0 ||
	    schema_add(&s->schema, "value", TYPE_BIGINT, err) < 0)
		return -1;
	return 0;
}

static void
arm(struct source *s)
{
	struct rate_source *r = s->priv;
	int64_t at = r->start + due_after(r, r->next), now = now_micros();
	struct itimerspec its;

	memset(&its, 0, sizeof its);
	if (at < now + GRANULE_US)
		at = now + GRANULE_US;
	its.it_value.tv_sec = (time_t)(at / MICROS_PER_SECOND);
	its.it_value.tv_nsec = (long)(at % MICROS_PER_SECOND) * 1000;
	timerfd_settime(s->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

static int
rate_open(struct source *s, char *err)
{
	struct rate_source *r = s->priv;
	int64_t now = now_micros();
	struct itimerspec its;

	s->fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->fd < 0)
		return seterr(err, "%s: timerfd: %s", s->name,
		    strerror(errno));
	if (!r->have_start) {
		r->start = now;
		r->next = 0;
	}
	if (s->opt.bounded) {
		r->bound = now < r->start ? 0 : due_count(r, now - r->start);
		if (r->bound < r->next)
			r->bound = r->next;
	}
	/* Readable at once: rows may be due already. */
	memset(&its, 0, sizeof its);
	its.it_value.tv_nsec = 1;
	timerfd_settime(s->fd, 0, &its, NULL);
	return 0;
}

static int
rate_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	struct rate_source *r = s->priv;
	int64_t now = now_micros(), t;
	uint64_t expirations;

	if (may_read && read(s->fd, &expirations, sizeof expirations) < 0 &&
	    errno != EAGAIN)
		return seterr(err, "%s: timerfd: %s", s->name,
		    strerror(errno));
	r->more = false;
	while (r->bound < 0 || r->next < r->bound) {
		t = r->start + due_after(r, r->next);
		if (t > now)
			break;
		if (o->rows >= limit) {
			r->more = true;
			return SOURCE_MORE;
		}
		fw_i64(o->w, t);
		fw_i64(o->w, r->next);
		ro_end(o);
		r->next++;
	}
	if (r->bound >= 0 && r->next >= r->bound)
		return SOURCE_END;
	arm(s);
	return SOURCE_OK;
}

static bool
rate_buffered(const struct source *s)
{
	const struct rate_source *r = s->priv;

	return r->more;
}

static void
rate_position(const struct source *s, struct strbuf *out)
{
	const struct rate_source *r = s->priv;

	sb_addf(out, "start=%" PRId64 " value=%" PRId64, r->start, r->next);
}

static int
rate_seek(struct source *s, const char *pos, char *err)
{
	struct rate_source *r = s->priv;
	int64_t start, next;
	int used = 0;

	if (sscanf(pos, "start=%" SCNd64 " value=%" SCNd64 "%n", &start,
	    &next, &used) != 2 || pos[used] != '\0' || next < 0)
		return seterr(err, "%s: bad position '%s'", s->name, pos);
	r->start = start;
	r->next = next;
	r->have_start = true;
	r->more = false;
	return 0;
}

static void
rate_close(struct source *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->priv);
	s->priv = NULL;
	s->fd = -1;
}

const struct source_type source_rate = {
	.scheme = "rate",
	.bare = false,
	.init = rate_init,
	.open = rate_open,
	.read = rate_read,
	.buffered = rate_buffered,
	.position = rate_position,
	.seek = rate_seek,
	.close = rate_close,
};

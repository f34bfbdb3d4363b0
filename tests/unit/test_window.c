/*
 * Unit tests for lib/window.c and lib/watermark.c: Spark's window
 * assignment (tumbling, sliding, offsets, negative times, slides that do
 * not divide the size) and watermark arithmetic.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "die.h"
#include "rtime.h"
#include "watermark.h"
#include "window.h"
#include "unit.h"

#define MIN_	(60 * MICROS_PER_SECOND)
/* 2026-11-24 12:MM as microseconds, for the guide's examples. */
#define AT(h, m)	(INT64_C(1795521600000000) + ((h) - 12) * 60 * MIN_ + (m) * MIN_)

static char err[ERRBUF_SIZE];

/* Assign and compare with the expected starts, in order. */
static int
same_starts(const struct window_spec *w, int64_t t, const int64_t *want,
    int nwant)
{
	int64_t got[64];
	int n = window_assign(w, t, got, err);

	if (n != nwant) {
		printf("#   t=%lld: %d windows, want %d\n", (long long)t, n,
		    nwant);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (got[i] != want[i]) {
			printf("#   t=%lld: window %d starts at %lld, want "
			    "%lld\n", (long long)t, i, (long long)got[i],
			    (long long)want[i]);
			return 0;
		}
	}
	return 1;
}

static void
test_tumbling(void)
{
	struct window_spec w;

	CHECK(window_spec_time(&w, 10, 10, 0, err) == 0, "tumbling spec");
	CHECK(w.kind == WINDOW_TUMBLING, "slide == size is tumbling");
	CHECK(window_max_per_row(&w) == 1, "tumbling: one window per row");
	CHECK(same_starts(&w, 0, (int64_t[]){ 0 }, 1),
	    "event at a window start belongs to [start, end)");
	CHECK(same_starts(&w, 9, (int64_t[]){ 0 }, 1), "last instant of [0,10)");
	CHECK(same_starts(&w, 10, (int64_t[]){ 10 }, 1),
	    "event at a window end belongs to the next window");
	CHECK(same_starts(&w, -1, (int64_t[]){ -10 }, 1),
	    "negative time: [-10, 0) (floor, not truncation)");
	CHECK(same_starts(&w, -10, (int64_t[]){ -10 }, 1),
	    "negative time at a window start");
	CHECK(same_starts(&w, -11, (int64_t[]){ -20 }, 1),
	    "negative time: [-20, -10)");
	CHECK(window_spec_time(&w, 10 * MIN_, 10 * MIN_, 0, err) == 0 &&
	    same_starts(&w, AT(12, 7), (int64_t[]){ AT(12, 0) }, 1),
	    "12:07 in a 10 minute window is [12:00, 12:10)");
}

static void
test_offsets(void)
{
	struct window_spec w;

	CHECK(window_spec_time(&w, 10 * MIN_, 10 * MIN_, 2 * MIN_, err) == 0,
	    "--start 2m spec");
	CHECK(same_starts(&w, AT(12, 5), (int64_t[]){ AT(12, 2) }, 1),
	    "start 2m: 12:05 is in [12:02, 12:12)");
	CHECK(same_starts(&w, AT(12, 2), (int64_t[]){ AT(12, 2) }, 1),
	    "start 2m: 12:02 starts its window");
	CHECK(same_starts(&w, AT(12, 1), (int64_t[]){ AT(11, 52) }, 1),
	    "start 2m: 12:01 is in [11:52, 12:02)");
	CHECK(same_starts(&w, -1, (int64_t[]){ -8 * MIN_ }, 1),
	    "start 2m, negative time: [-8m, 2m)");
	CHECK(window_spec_time(&w, 10 * MIN_, 10 * MIN_, -3 * MIN_, err) == 0,
	    "negative start spec");
	CHECK(same_starts(&w, AT(12, 5), (int64_t[]){ AT(11, 57) }, 1),
	    "start -3m is start 7m: 12:05 is in [11:57, 12:07)");
	CHECK(window_spec_time(&w, 60, 60, 0, err) == 0 &&
	    same_starts(&w, 59, (int64_t[]){ 0 }, 1), "start 0 is the epoch");
}

static void
test_sliding(void)
{
	struct window_spec w;

	CHECK(window_spec_time(&w, 10 * MIN_, 5 * MIN_, 0, err) == 0,
	    "10m/5m spec");
	CHECK(w.kind == WINDOW_SLIDING, "slide < size is sliding");
	CHECK(window_max_per_row(&w) == 2, "10m/5m: two windows per row");
	CHECK(same_starts(&w, AT(12, 7),
	    (int64_t[]){ AT(12, 5), AT(12, 0) }, 2),
	    "guide: 12:07 is in 12:05-12:15 and 12:00-12:10, latest first");
	CHECK(same_starts(&w, AT(12, 5),
	    (int64_t[]){ AT(12, 5), AT(12, 0) }, 2),
	    "12:05 is in [12:05,12:15) and [12:00,12:10), not [11:55,12:05)");
	CHECK(same_starts(&w, AT(12, 4),
	    (int64_t[]){ AT(12, 0), AT(11, 55) }, 2),
	    "guide: the late donkey 12:04 is in 12:00-12:10 and 11:55-12:05");
	CHECK(same_starts(&w, -1, (int64_t[]){ -5 * MIN_, -10 * MIN_ }, 2),
	    "negative time, sliding");

	/* The examples in Spark's TimeWindowing comment: 12:05 with window
	 * 12m, slide 5m, start 0m and 2m. */
	CHECK(window_spec_time(&w, 12 * MIN_, 5 * MIN_, 0, err) == 0 &&
	    same_starts(&w, AT(12, 5),
	    (int64_t[]){ AT(12, 5), AT(12, 0), AT(11, 55) }, 3),
	    "spark: 12m/5m start 0m at 12:05: three windows");
	CHECK(window_spec_time(&w, 12 * MIN_, 5 * MIN_, 2 * MIN_, err) == 0 &&
	    same_starts(&w, AT(12, 5), (int64_t[]){ AT(12, 2), AT(11, 57) }, 2),
	    "spark: 12m/5m start 2m at 12:05: 11:52-12:04 filtered out");
}

static void
test_slide_not_dividing(void)
{
	struct window_spec w;
	int bad = 0;

	CHECK(window_spec_time(&w, 10, 3, 0, err) == 0, "10/3 spec");
	CHECK(window_max_per_row(&w) == 4, "10/3: ceil(10/3) = 4 candidates");
	CHECK(same_starts(&w, 0, (int64_t[]){ 0, -3, -6, -9 }, 4),
	    "10/3 at 0: four windows ([-9,1) contains 0)");
	CHECK(same_starts(&w, 1, (int64_t[]){ 0, -3, -6 }, 3),
	    "10/3 at 1: [-9,1) filtered out as Spark's Filter does");
	CHECK(same_starts(&w, -1, (int64_t[]){ -3, -6, -9 }, 3),
	    "10/3 at -1");
	/* Against brute force: every k with 3k+1 <= t < 3k+1+10, newest
	 * first, for many t on both sides of the epoch. */
	CHECK(window_spec_time(&w, 10, 3, 1, err) == 0, "10/3 start 1 spec");
	for (int64_t t = -40; t <= 40 && !bad; t++) {
		int64_t want[8];
		int n = 0;

		for (int64_t k = 20; k >= -20; k--)
			if (3 * k + 1 <= t && t < 3 * k + 11)
				want[n++] = 3 * k + 1;
		if (!same_starts(&w, t, want, n))
			bad = 1;
	}
	CHECK(!bad, "10/3 start 1: same windows as brute force, -40..40");
}

static void
test_specs(void)
{
	struct window_spec w;

	CHECK(window_spec_time(&w, 5, 10, 0, err) < 0,
	    "slide > size refused, as Spark");
	CHECK(window_spec_time(&w, 0, 0, 0, err) < 0, "zero size refused");
	CHECK(window_spec_time(&w, 10, 0, 0, err) < 0, "zero slide refused");
	CHECK(window_spec_time(&w, 10, 5, 5, err) < 0,
	    "start == slide refused");
	CHECK(window_spec_time(&w, 10, 5, -5, err) < 0,
	    "|negative start| == slide refused");
	CHECK(window_spec_time(&w, 10, 5, 4, err) == 0, "start < slide taken");
	CHECK(window_spec_session(&w, 0, err) < 0, "zero gap refused");
	CHECK(window_spec_session(&w, 30, err) == 0 &&
	    w.kind == WINDOW_SESSION, "session spec");
	CHECK(same_starts(&w, -7, (int64_t[]){ -7 }, 1) && w.size == 30,
	    "session: [t, t + gap)");
	CHECK_STR(window_kind_name(WINDOW_SLIDING), "sliding", "kind name");
	CHECK(window_spec_time(&w, 10, 10, 0, err) == 0 &&
	    window_assign(&w, INT64_MAX - 3, (int64_t[1]){ 0 }, err) < 0,
	    "a window end past the range is an error, not a wrap");
	CHECK(window_spec_time(&w, 10, 10, 0, err) == 0 &&
	    window_assign(&w, INT64_MIN + 3, (int64_t[1]){ 0 }, err) < 0,
	    "a window start before the range is an error");
}

static void
test_watermark(void)
{
	struct watermark wm;

	watermark_init(&wm, 10 * MIN_);
	CHECK(wm.current == TIME_MIN_MICROS, "no watermark before events");
	CHECK(!watermark_is_late(&wm, INT64_MIN + 1), "nothing is late yet");
	CHECK(!watermark_commit(&wm), "a batch without rows moves nothing");

	/* The programming guide: batch 0 12:07, 12:08; batch 1 12:14,
	 * 12:09; batch 2 ... 12:21. */
	watermark_observe(&wm, AT(12, 7));
	watermark_observe(&wm, AT(12, 8));
	CHECK(wm.batch_min == AT(12, 7) && wm.batch_max == AT(12, 8),
	    "batch min and max");
	CHECK(watermark_commit(&wm) && wm.current == AT(11, 58),
	    "after batch 0: 12:08 - 10m = 11:58");
	CHECK(wm.batch_rows == 0, "commit starts a new batch");
	watermark_observe(&wm, AT(12, 14));
	watermark_observe(&wm, AT(12, 9));
	CHECK(watermark_commit(&wm) && wm.current == AT(12, 4),
	    "after batch 1: 12:04");
	CHECK(watermark_is_late(&wm, AT(12, 4)), "window end == watermark is late");
	CHECK(!watermark_is_late(&wm, AT(12, 4) + 1), "end after it is not");
	watermark_observe(&wm, AT(12, 21));
	CHECK(watermark_commit(&wm) && wm.current == AT(12, 11),
	    "after batch 2: 12:11");
	watermark_observe(&wm, AT(12, 17));
	watermark_observe(&wm, AT(12, 4));
	CHECK(!watermark_commit(&wm) && wm.current == AT(12, 11),
	    "older events never move it back");

	/* Spark's milliseconds. */
	CHECK(watermark_candidate(1999, 0) == 1000, "max floored to the ms");
	CHECK(watermark_candidate(-1, 0) == -1000,
	    "negative max floored, not truncated");
	CHECK(watermark_candidate(10000, 1500) == 9000,
	    "delay truncated to the ms");
	CHECK(watermark_candidate(INT64_MIN, 1000000) == TIME_MIN_MICROS,
	    "saturates low");

	watermark_init(&wm, 0);
	watermark_observe(&wm, -5 * MIN_);
	CHECK(watermark_commit(&wm) && wm.current == -5 * MIN_,
	    "negative watermark (before 1970)");
	watermark_propose(&wm, 7000);
	CHECK(wm.current == -5 * MIN_, "a proposal waits for the commit");
	CHECK(watermark_commit(&wm) && wm.current == 7000,
	    "proposal taken at the commit");
	watermark_propose(&wm, 5000);
	CHECK(!watermark_commit(&wm) && wm.current == 7000,
	    "a lower proposal is ignored");
	watermark_finish(&wm);
	CHECK(wm.current == TIME_MAX_MICROS &&
	    watermark_is_late(&wm, TIME_MAX_MICROS - 1),
	    "finish: +infinity, every window closes");
	watermark_observe(&wm, 0);
	CHECK(!watermark_commit(&wm) && wm.current == TIME_MAX_MICROS,
	    "stays at +infinity");
}

int
main(void)
{
	test_tumbling();
	test_offsets();
	test_sliding();
	test_slide_not_dividing();
	test_specs();
	test_watermark();
	return unit_done();
}

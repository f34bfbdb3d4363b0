/*
 * watermark.c: Spark's watermark arithmetic.
 *
 * Spark keeps event-time statistics and the watermark in milliseconds
 * (EventTimeWatermarkExec adds microsToMillis(t), i.e. floorDiv by 1000;
 * getDelayMs truncates the delay) and compares window ends with
 * watermarkMs * 1000.  We keep microseconds on the wire but round the same
 * way, so a watermark here is always a whole millisecond and equals
 * Spark's for the same data.
 */
#include "rtime.h"
#include "watermark.h"

static void
reset_batch(struct watermark *wm)
{
	wm->batch_min = TIME_MAX_MICROS;
	wm->batch_max = TIME_MIN_MICROS;
	wm->batch_rows = 0;
}

void
watermark_init(struct watermark *wm, int64_t delay)
{
	wm->delay = delay;
	wm->current = TIME_MIN_MICROS;
	wm->pending = TIME_MIN_MICROS;
	reset_batch(wm);
}

int64_t
watermark_candidate(int64_t max_event, int64_t delay)
{
	int64_t ms = floor_div(max_event, 1000) - delay / 1000;

	/* ms >= INT64_MIN / 1000 - INT64_MAX / 1000: no overflow above;
	 * only the scaling back to microseconds can leave the range. */
	if (ms <= TIME_MIN_MICROS / 1000)
		return TIME_MIN_MICROS;
	if (ms >= TIME_MAX_MICROS / 1000)
		return TIME_MAX_MICROS - 1;
	return ms * 1000;
}

void
watermark_propose(struct watermark *wm, int64_t candidate)
{
	if (candidate > wm->pending)
		wm->pending = candidate;
}

bool
watermark_commit(struct watermark *wm)
{
	int64_t next = wm->current;

	/* As WatermarkTracker.updateWatermark: only a batch that saw rows
	 * moves the watermark, and only forward. */
	if (wm->batch_rows > 0) {
		int64_t c = watermark_candidate(wm->batch_max, wm->delay);

		if (c > next)
			next = c;
	}
	if (wm->pending > next)
		next = wm->pending;
	reset_batch(wm);
	if (next <= wm->current)
		return false;
	wm->current = next;
	return true;
}

void
watermark_finish(struct watermark *wm)
{
	wm->current = TIME_MAX_MICROS;
	wm->pending = TIME_MAX_MICROS;
}

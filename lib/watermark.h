/*
 * watermark.h: the event-time watermark of a query, tracked batch by batch
 * as Spark's EventTimeWatermarkExec and WatermarkTracker do.
 *
 * During batch N every row's event time is observed (late rows too, as
 * Spark's watermark operator sits before the filter that drops them).  At
 * the end of batch N, watermark_commit() computes
 *
 *	candidate = max event time of batch N - delay
 *
 * in whole milliseconds as Spark does (event times are floored to the
 * millisecond, the delay is truncated to it) and, when the candidate is
 * later than the current watermark, makes it current: it is the watermark
 * in effect for batch N+1 on.  A batch without rows leaves it alone.
 *
 * Invariants: current never decreases; it is TIME_MIN_MICROS until the
 * first batch with rows ends, and TIME_MAX_MICROS after watermark_finish()
 * (end of input).  A window is late when its end <= current.
 */
#ifndef RUNNEL_WATERMARK_H
#define RUNNEL_WATERMARK_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"

struct watermark {
	int64_t delay;		/* microseconds, >= 0 */
	int64_t current;	/* in effect for the batch being read */
	int64_t pending;	/* proposed (processing time), not yet current */
	/* Event-time statistics of the batch being read. */
	int64_t batch_min, batch_max, batch_rows;
};

void watermark_init(struct watermark *wm, int64_t delay);

/* Count event time t in the batch being read. */
static inline void
watermark_observe(struct watermark *wm, int64_t t)
{
	if (t > wm->batch_max)
		wm->batch_max = t;
	if (t < wm->batch_min)
		wm->batch_min = t;
	wm->batch_rows++;
}

/* True when a window ending at END is late for the batch being read:
 * Spark's "end <= watermark" (WatermarkSupport.watermarkExpression). */
static inline bool
watermark_is_late(const struct watermark *wm, int64_t end)
{
	return end <= wm->current;
}

/*
 * The watermark Spark derives from a maximum event time and a delay:
 * (floor(max / 1000) - delay / 1000) * 1000, saturating at the range ends.
 */
int64_t watermark_candidate(int64_t max_event, int64_t delay);

/*
 * Offer a watermark computed another way (the idle timeout's processing
 * time).  It becomes current at the next watermark_commit(), never lowering
 * the watermark.
 */
void watermark_propose(struct watermark *wm, int64_t candidate);

/*
 * End of a batch: fold the batch's maximum event time and any proposal into
 * the watermark and start a new batch's statistics.  Returns true when the
 * current watermark advanced (the caller announces it).
 */
bool watermark_commit(struct watermark *wm);

/* End of input: the watermark moves to +infinity and stays there. */
void watermark_finish(struct watermark *wm);

#endif

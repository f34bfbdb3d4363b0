/*
 * window.h: event-time window assignment, as Spark's window() and
 * session_window().
 *
 * Windows are half-open intervals [start, start + size) of microseconds.
 * Tumbling and sliding windows start at startTime + k * slide for every
 * integer k (aligned to the Unix epoch plus the offset), so a row at time t
 * falls in every such window with start <= t < start + size: exactly one
 * for tumbling windows (slide == size), ceil(size / slide) or one fewer for
 * sliding ones.  A session window starts as [t, t + gap); merging sessions
 * needs the aggregation's state and is scount's job.
 *
 * Invariants (checked by window_spec_init, with Spark's rules from
 * TimeWindow.checkInputDataTypes): size > 0, 0 < slide <= size,
 * |start| < slide; for sessions slide == size == gap and start == 0.
 */
#ifndef RUNNEL_WINDOW_H
#define RUNNEL_WINDOW_H

#include <stddef.h>
#include <stdint.h>

enum window_kind {
	WINDOW_TUMBLING,
	WINDOW_SLIDING,
	WINDOW_SESSION,
};

struct window_spec {
	enum window_kind kind;
	int64_t size;	/* window duration; the gap for sessions */
	int64_t slide;	/* == size for tumbling windows and sessions */
	int64_t start;	/* offset of the window grid from the epoch */
};

/*
 * Fill w for windows of SIZE sliding by SLIDE (SLIDE == SIZE: tumbling)
 * offset by START.  Returns 0, or -1 with err naming the rule broken.
 */
int window_spec_time(struct window_spec *w, int64_t size, int64_t slide,
    int64_t start, char *err);
/* Fill w for session windows of GAP.  Returns 0, or -1 with err. */
int window_spec_session(struct window_spec *w, int64_t gap, char *err);

/* "tumbling", "sliding" or "session", as in the @window header item. */
const char *window_kind_name(enum window_kind kind);

/*
 * The most windows one row can fall in: ceil(size / slide), the number of
 * candidates Spark's TimeWindowing rule generates (1 for tumbling windows
 * and sessions).  Size the array given to window_assign() with it.
 */
int64_t window_max_per_row(const struct window_spec *w);

/*
 * Write the start of every window containing time t to starts[] (room for
 * window_max_per_row() entries), in Spark's order: the latest window first.
 * Each window ends at start + w->size.  Returns how many, or -1 with err
 * when a window bound would not fit in 64 bits.
 */
int window_assign(const struct window_spec *w, int64_t t, int64_t *starts,
    char *err);

#endif

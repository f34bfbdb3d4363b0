/*
 * window.c: window assignment as Spark's TimeWindowing and SessionWindowing
 * analyzer rules compute it.
 *
 * Spark expands each row into ceil(size / slide) candidate windows counting
 * back from the last window start at or before t, then, when slide does not
 * divide size, filters out the candidates that do not contain t.  We do the
 * same arithmetic and skip the filtered candidates, so the windows and
 * their order are Spark's.  The alternative of enumerating forward from
 * floor((t - size) / slide) gives the same set in the opposite order; we
 * keep Spark's order so that unaggregated output reads the same.
 */
#include <stdbool.h>
#include <stddef.h>	/* die.h uses size_t without including it */

#include "die.h"
#include "window.h"

int
window_spec_time(struct window_spec *w, int64_t size, int64_t slide,
    int64_t start, char *err)
{
	/* The messages follow TimeWindow.checkInputDataTypes. */
	if (size <= 0)
		return seterr(err, "the window duration must be greater than 0");
	if (slide <= 0)
		return seterr(err, "the slide duration must be greater than 0");
	if (slide > size)
		return seterr(err, "the slide duration must be less than or "
		    "equal to the window duration");
	if (start <= -slide || start >= slide)
		return seterr(err, "the absolute value of the start time must "
		    "be less than the slide duration");
	w->kind = slide == size ? WINDOW_TUMBLING : WINDOW_SLIDING;
	w->size = size;
	w->slide = slide;
	w->start = start;
	return 0;
}

int
window_spec_session(struct window_spec *w, int64_t gap, char *err)
{
	/* Spark filters out every row when the gap is not positive; a
	 * constant gap like ours can be refused up front instead. */
	if (gap <= 0)
		return seterr(err, "the session gap must be greater than 0");
	w->kind = WINDOW_SESSION;
	w->size = gap;
	w->slide = gap;
	w->start = 0;
	return 0;
}

const char *
window_kind_name(enum window_kind kind)
{
	switch (kind) {
	case WINDOW_TUMBLING: return "tumbling";
	case WINDOW_SLIDING: return "sliding";
	case WINDOW_SESSION: return "session";
	}
	return "?";
}

int64_t
window_max_per_row(const struct window_spec *w)
{
	if (w->kind != WINDOW_SLIDING)
		return 1;
	return w->size / w->slide + (w->size % w->slide != 0);
}

int
window_assign(const struct window_spec *w, int64_t t, int64_t *starts,
    char *err)
{
	int64_t n = window_max_per_row(w), shifted, rem, last;
	bool exact = w->size % w->slide == 0;
	int count = 0;

	if (w->kind == WINDOW_SESSION) {
		if (__builtin_add_overflow(t, w->size, &last))
			goto overflow;
		starts[0] = t;
		return 1;
	}
	/* remainder <- (t - start) % slide, made non-negative as Spark's
	 * CaseWhen does; lastStart <- t - remainder. */
	if (__builtin_sub_overflow(t, w->start, &shifted))
		goto overflow;
	rem = shifted % w->slide;
	if (rem < 0)
		rem += w->slide;
	if (__builtin_sub_overflow(t, rem, &last))
		goto overflow;
	for (int64_t i = 0; i < n; i++) {
		int64_t back, start, end;

		if (__builtin_mul_overflow(i, w->slide, &back) ||
		    __builtin_sub_overflow(last, back, &start) ||
		    __builtin_add_overflow(start, w->size, &end))
			goto overflow;
		/* Spark's Filter: only needed when slide does not divide
		 * size, where the oldest candidate may end at or before t. */
		if (!exact && !(start <= t && t < end))
			continue;
		starts[count++] = start;
	}
	return count;
overflow:
	return seterr(err, "the windows of time %lld do not fit in the "
	    "timestamp range", (long long)t);
}

/*
 * progress.h: a batch's progress report in the shape of Spark's
 * StreamingQueryProgress (its json, one object per line), built from the
 * counters each stage appends to the epoch frame (runnel(5)) and the
 * sink's own clock.  Keys and their order are Spark's (progress.scala,
 * jsonValue); maps (durationMs, eventTime) have sorted keys, and a key
 * whose value Spark would not write (a rate that is NaN or infinite, an
 * empty map) is left out, as Spark does:
 *
 *   id, runId           @query and @run (else @run_id) of the header
 *   name                null (@name when the header has one)
 *   timestamp           ssrc.start: when the batch began, ISO-8601 UTC
 *   batchId             the epoch's N
 *   numInputRows        ssrc.rows
 *   inputRowsPerSecond  numInputRows / seconds since the previous batch
 *                       began (0.0 for the first, as Spark)
 *   processedRowsPerSecond  numInputRows / triggerExecution seconds
 *   durationMs          addBatch: the sink's time on the batch, from its
 *                       first row (or its epoch frame) to committed;
 *                       commitOffsets: writing the checkpoint's commit;
 *                       getBatch: ssrc.end - ssrc.start, the time the
 *                       source took to gather the batch;
 *                       triggerExecution: ssrc.start to the end of the
 *                       sink's work (wall clock)
 *   eventTime           min, max (swindow.min_event, swindow.max_event),
 *                       avg (swindow.avg_event, when a stage sends it),
 *                       watermark (swindow.watermark; with @watermark in
 *                       the header and none yet, the epoch, as Spark;
 *                       "+infinity" for the final flush), ISO-8601
 *   stateOperators      one per stateful stage S (an item S.state_rows):
 *                       operatorName S, numRowsTotal S.state_rows,
 *                       numRowsUpdated S.updated, numRowsRemoved
 *                       S.removed, memoryUsedBytes S.mem_bytes,
 *                       numRowsDroppedByWatermark S.dropped plus, for the
 *                       first one, swindow.dropped; times 0;
 *                       numShufflePartitions and numStateStoreInstances 1
 *   sources             [{description @source, startOffset, endOffset,
 *                       latestOffset (null: not reported yet),
 *                       numInputRows, inputRowsPerSecond,
 *                       processedRowsPerSecond}]
 *   sink                {description: the SINK argument, numOutputRows}
 */
#ifndef RUNNEL_PROGRESS_H
#define RUNNEL_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "schema.h"
#include "strbuf.h"

struct progress {
	const struct schema *header;	/* for @query, @run_id, @source... */
	const char *sink;		/* the SINK argument */
	int64_t prev_start;		/* ssrc.start of the previous batch, or
					 * -1 */
};

/* What the sink measured for one batch (microseconds). */
struct progress_times {
	int64_t add_batch;	/* begin -> end returned */
	int64_t commit;		/* checkpoint commit, or -1 when none */
	int64_t done;		/* wall clock when all was done */
};

void progress_init(struct progress *p, const struct schema *header,
    const char *sink);

/*
 * Note batch e's start for the next batch's inputRowsPerSecond: call for
 * every epoch, shown or not, after progress_format() when it is shown.
 */
void progress_note(struct progress *p, const struct epoch *e);

/*
 * Append batch e's progress object and a newline to out.  rows: rows the
 * sink wrote for it.  Returns 0, or -1 with err (out of memory).
 */
int progress_format(const struct progress *p, const struct epoch *e,
    long long rows, const struct progress_times *t, struct strbuf *out,
    char *err);

#endif

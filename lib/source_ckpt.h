/*
 * source_ckpt.h: ssrc's side of a checkpoint (checkpoint.h says the
 * protocol): opening it, resuming the source, logging each batch in
 * offsets/N, compacting the source's journal, and telling the source when
 * a batch is committed (for --clean-source).
 *
 * offsets/N is text, one key=value a line, then the source's journal
 * lines for the batch after a line "journal":
 *
 *     batch=7
 *     nodata=0
 *     final=0
 *     rows=1200
 *     start=next=3 offset=0 line=0       source position before the batch
 *     end=next=5 offset=0 line=0         source position after it
 *     journal
 *     take 3 7 a.csv                     what the source took (source.h)
 *
 * WHEN offsets/N IS WRITTEN.  The end of a batch is only known when it
 * ends, so ssrc writes offsets/N when batch N ends, after N's rows went
 * out and BEFORE its epoch frame \.e N.  That is safe: no stage acts on a
 * batch before its epoch frame (state N and commit N are written only on
 * \.e N), so before offsets/N exists nothing of batch N is in any state
 * or sink.  A crash before offsets/N leaves C <= N-1 and no offsets/N:
 * the next run plans batch N again from the end of offsets/N-1, and the
 * rows the dead run had sent were only ever seen by stages that died with
 * it (a stage whose input ends without \.x exits without committing).  A
 * crash after offsets/N finds it as C+1 (or older than C): replayed
 * exactly (the same start, the same number of rows, the same end), so
 * whatever a sink may have made visible of N is made again identically.
 *
 * THE JOURNAL.  offsets/N carries the journal lines of batch N; they are
 * pruned with N (ssink's --retain), so every `interval` batches (half of
 * retain, at least 1) and at every start the journal so far is compacted
 * into DIR/sources/SCHEME/journal ("upto=B" then the source's compact()
 * lines).  A run restores the compacted journal, skipping entries of
 * batches after the one it resumes from (plans made again), then the
 * journals of offsets/B+1 ... of that batch.  Pruning removes batches
 * <= C - retain, and the compaction is never more than retain/2 batches
 * behind the newest batch, so no journal line is lost.
 *
 * COMMITS AND CLEAN-UP.  ssrc does not see ssink's commits; it looks for
 * DIR/commits/N at each batch boundary (and, at the end of a run, for a
 * bounded time) and calls source_done() with the end position of the
 * newest committed batch, so --clean-source touches only files of
 * committed batches.  A file left because its commit came late is cleaned
 * by the next run (source_done() with the end of C at start).
 */
#ifndef RUNNEL_SOURCE_CKPT_H
#define RUNNEL_SOURCE_CKPT_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoint.h"
#include "source.h"
#include "strbuf.h"

/* One batch as offsets/N says. */
struct batch_plan {
	int64_t batch;
	bool nodata, final;
	uint64_t rows;
	char *start, *end;	/* positions, malloc'd */
};

struct source_ckpt {
	struct checkpoint *ck;
	struct source *src;
	char *abs_dir;		/* the directory, absolute, for @checkpoint */
	int retain;
	int64_t commit;		/* C when the run started */
	bool have_replay;	/* replay holds batch C+1 to replay */
	struct batch_plan replay;
	char *start;		/* the next batch starts here (NULL: the
				   source's own start) */
	int64_t compact_upto;	/* the compacted journal has batches <= */
	int64_t interval;	/* compact every so many batches */
	struct strbuf body, pos;

	/* Batches whose end awaits a commit before source_done(). */
	struct pending_done {
		int64_t batch;
		char *pos;
	} *pend;
	size_t npend, cap;
};

/*
 * Open DIR for source s (after source_init(), before source_open()):
 * take the run lock (wait: queue), find C, check that DIR belongs to this
 * source, restore the source's journal, seek it to where batch C+1
 * starts (the start of the batch to replay, or the end of C), and clean
 * up after C.  pipeline: ssrc's description of the query (metadata).
 * warn (ERRBUF_SIZE) gets "" or a warning to print (a checkpoint file
 * that was damaged, a source that is not replayable, a clean-up that
 * failed).  Returns 0, or -1 with err.
 */
int sck_open(struct source_ckpt *k, struct source *s, const char *dir,
    const char *pipeline, bool wait, int retain, char *warn, char *err);

/* The first batch of this run: C+1. */
static inline int64_t
sck_first_batch(const struct source_ckpt *k)
{
	return k->commit + 1;
}

/* The source is open: a fresh one's first batch starts at its position
 * now (call after source_open()). */
void sck_opened(struct source_ckpt *k);

/*
 * Batch n ends now: write offsets/n (start = where it began, end = the
 * source's position now, the source's journal), then compact if due.
 * Returns 0 or -1 with err.
 */
int sck_log(struct source_ckpt *k, int64_t n, bool nodata, bool final,
    uint64_t rows, char *err);

/* The replayed batch C+1 has been read: the source goes to its end. */
int sck_replayed(struct source_ckpt *k, char *err);

/*
 * Batch n's epoch frame is out (after sck_log() or the replay): remember
 * its end for source_done(), then call source_done() for the newest
 * batch committed so far.  With wait_us > 0, first wait up to that long
 * for the commit of the last batch noted (the end of a run).  warn gets
 * "" or a clean-up failure to print.
 */
void sck_batch_out(struct source_ckpt *k, int64_t n);
void sck_check_commits(struct source_ckpt *k, int64_t wait_us, char *warn);

/* Release the lock and free k (the files stay). */
void sck_close(struct source_ckpt *k);

#endif

/*
 * checkpoint.h: a query's checkpoint directory, and the recovery protocol
 * that gives exactly-once output across kill -9 of any stage at any time.
 *
 * LAYOUT (as Spark's, so people who know Spark can read it)
 *
 *   DIR/metadata              query id (stable across runs), format, pipeline
 *   DIR/offsets/N             ssrc: what batch N is, written BEFORE emitting N
 *   DIR/commits/N             ssink: written AFTER batch N is durable
 *   DIR/state/STAGE/N         a stateful stage's state at the end of batch N
 *   DIR/sources/SOURCE/NAME   a source's own files (e.g. the file source's log)
 *   DIR/.lock, .lock-stages   one run at a time (qlock.h)
 *
 * N is a batch id, decimal, no leading zeros.  Every file is written with
 * af_write() (atomicfile.h): temp file, fsync, rename, fsync dir; a
 * "runnel KIND v1" first line and a "crc32c=... size=..." last line, so
 * `cat` shows it and a damaged file is detected.  Other names (editor
 * backups, ".N.tmp-..." leftovers) are ignored; leftovers are removed when
 * ssrc opens the checkpoint.
 *
 * WHO WRITES WHAT, AND WHEN (the recovery protocol)
 *
 * 1. Open.  ssrc calls ckpt_create(): creates DIR if needed, takes the run
 *    lock (a second run fails: "checkpoint 'DIR' is in use by pid 1234 (use
 *    --wait to queue)"), waits out stages of a previous run, writes
 *    metadata the first time.  ssrc sets header metadata @checkpoint=DIR
 *    and @run=ckpt_run_id(ck) (plus @retain=N for ssink).
 *    Every other stage that keeps state or commits calls ckpt_join() with
 *    those two values when it reads the header, before touching anything.
 *    Stateless stages need not open the checkpoint at all.
 *
 * 2. Find C.  C = the last usable commit (ckpt_last_commit(); -1 when
 *    there is none).  Every stage computes it from the same files with the
 *    same rule, and no commit newer than C can appear before every stage
 *    has opened (ssink commits C+1 only after each stage forwarded batch
 *    C+1), so all stages agree on C without talking.
 *
 * 3. Load.  Each stateful stage loads state/STAGE/C (ckpt_read_state();
 *    C = -1: start empty).  The first epoch it then sees must be C+1; a
 *    stage should fail on any other batch id (a stream that does not
 *    belong to this checkpoint).
 *
 * 4. Resume (ssrc, ckpt_resume()).  The stream resumes at batch C+1:
 *    - offsets/C+1 exists: batch C+1 was planned, maybe emitted, not
 *      committed: ssrc replays it exactly (same rows, same epoch items
 *      such as nodata=1 and final=1), then plans C+2 after its end;
 *    - otherwise ssrc plans a new batch C+1 starting at the end position
 *      recorded in offsets/C (C = -1: the source's start).
 *    What lies beyond is stale and ckpt_resume() deletes it: offsets and
 *    numbered source files newer than C+1 (newer than C when there is
 *    nothing to replay), states and commits newer than C.  A sink can only
 *    have made batch C+1 visible (it commits in order), so only C+1 must
 *    be replayed exactly; later batches are planned again, maybe
 *    differently, and a stale plan must never be replayed by a later run.
 *
 * 5. Each batch N:
 *    - ssrc writes offsets/N BEFORE emitting any row of N.  The body is
 *      ssrc's: it must be enough to replay N exactly, i.e. the source
 *      position at the START and at the END of N and the epoch items that
 *      are not counters (nodata=1, final=1).  No-data batches get an
 *      offsets file too (start = end): a no-data batch can produce rows
 *      (windows closed by the watermark, the final flush) that a
 *      transactional sink may have committed just before a crash, so it
 *      must be replayed as a no-data batch, not re-planned as a data batch
 *      with new input in it.
 *    - each stateful stage writes state/STAGE/N at the end of N, BEFORE
 *      forwarding the epoch frame \.e N (ckpt_write_state()), every batch
 *      including no-data ones, so that state C exists for whatever C.
 *      The state bytes are the stage's business; with them goes a config
 *      string ("scount keys=word aggs=count mode=update") that the next
 *      run must match (change detection, below).
 *    - ssink writes commits/N AFTER batch N is durable in the sink
 *      (ckpt_commit()), with the sink's position if it has one, then
 *      prunes (ckpt_prune()).  Sinks make a replay harmless: the file
 *      sink rewrites batch N's own part files, the Kafka sink skips a
 *      batch whose transaction already committed and reads back what an
 *      attempt left, from the position in commits/C.
 *    So when commits/N exists, offsets/N and every state/.../N are on
 *    disk: C is always a consistent cut.
 *
 * 6. Pruning (ssink, after each commit C): keep the last `retain` commits
 *    (default 100) and their offsets, states and numbered source files:
 *    files numbered <= C - retain go, everything newer than C stays.
 *    retain >= 1 keeps what resuming needs (commits/C, offsets/C,
 *    state/.../C, offsets/C+1); the corruption fallback below also needs
 *    batch C-1, so it works with retain >= 2.  Non-numbered files under
 *    sources/ are never pruned: they are the source's to manage.
 *
 * 7. Corruption (a checksum mismatch, a truncated file, a file that
 *    fails to parse).  Always reported with its path, e.g.
 *    "checkpoint: 'DIR/offsets/7': checksum mismatch (file corrupted or
 *    truncated)".  ckpt_last_commit() checks commits/N and every existing
 *    state/STAGE/N of the newest commit N:
 *    - all good: C = N;
 *    - one is bad and offsets/N is good and batch N-1 is committed (or
 *      N = 0): fall back to C = N-1 and replay batch N: safe, because
 *      the replay reads the same offsets and state N-1, so it produces
 *      the same rows, and the sinks are idempotent per batch.  The
 *      warning names the bad file ("...; replaying from batch 7"); the
 *      rule applies again if batch N-1 is bad too;
 *    - otherwise: error, nothing is guessed.
 *    A bad metadata, a bad offsets/C+1 (batch C+1 may be visible in a
 *    sink: it must be replayed exactly or not at all), a bad offsets/C
 *    when there is no offsets/C+1, or a missing state/STAGE/C are errors.
 *    To recover by hand from a bad state/STAGE/C when state C-1 is good:
 *    remove commits/C (the rule above then replays C).
 *
 * 8. Change detection.  A stateful stage passes a config string to
 *    ckpt_write_state() and ckpt_read_state(): space-separated key=value
 *    words (bare words allowed), first word the command.  It should hold
 *    exactly what the state's meaning depends on (keys, aggregates, window
 *    spec, output mode if it changes what is kept), never harmless things
 *    (a filter upstream, the sink's format).  Loading state made with a
 *    different string fails, naming each key that changed:
 *    "checkpoint: 'DIR/state/scount/7': the query changed in a way its
 *    state cannot follow: keys was 'word', now 'word,lang' (use a new
 *    checkpoint directory)".  A stage whose state is missing at C >= 0
 *    (added to the query later) fails too.  ssrc can compare
 *    ckpt_meta(ck, "pipeline") with its own description the same way.
 *
 * 9. Paused end (--trigger available-now with a checkpoint): nothing
 *    special here; stages keep open windows in state C and the next run
 *    loads them.
 *
 * A stage name (STAGE) is [A-Za-z0-9_.-]+ not starting with a dot.  Two
 * stateful stages of the same command in one query need distinct names
 * (e.g. "scount" and "scount.2").
 *
 * ERRORS: calls return -1 (or NULL) with err filled, ERRBUF_SIZE bytes,
 * starting "checkpoint: " or "checkpoint 'DIR' ...", ready for die("%s").
 * Nothing prints.
 */
#ifndef RUNNEL_CHECKPOINT_H
#define RUNNEL_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "die.h"

#define CKPT_FORMAT		1	/* the layout version in metadata */
#define CKPT_RETAIN_DEFAULT	100

struct checkpoint;

/* ---- opening and closing ---- */

/*
 * ssrc: open DIR as the run that owns it, creating it (mkdir -p) and its
 * metadata when new.  pipeline describes the query as ssrc knows it (kept
 * in metadata the first time only; newlines become spaces).  wait: queue
 * behind a running query instead of failing.  Removes temp files left by
 * writers that died.  Returns NULL with err when DIR is in use, is not a
 * checkpoint (not empty, no metadata), or cannot be written.
 */
struct checkpoint *ckpt_create(const char *dir, const char *pipeline,
    int wait, char *err);

/*
 * A downstream stage: open the existing checkpoint DIR as part of run
 * run_id (both from the header: @checkpoint, @run).  Fails when DIR is
 * not a checkpoint or another run has taken it over.
 */
struct checkpoint *ckpt_join(const char *dir, const char *run_id,
    char *err);

/* Release the locks and free ck (NULL is fine).  Files stay. */
void ckpt_close(struct checkpoint *ck);

/* The directory as given, the query id (metadata "id", stable across
 * runs), this run's id (ssrc's, a UUID), and any metadata key (NULL if
 * absent: "id", "format", "created", "pipeline").  Valid until
 * ckpt_close(). */
const char *ckpt_dir(const struct checkpoint *ck);
const char *ckpt_query_id(const struct checkpoint *ck);
const char *ckpt_run_id(const struct checkpoint *ck);
const char *ckpt_meta(const struct checkpoint *ck, const char *key);

/* ---- recovery ---- */

/*
 * The last usable commit C (rule 7 above) into *c, -1 when none.  When it
 * had to fall back past a damaged file, warn (ERRBUF_SIZE, may be NULL)
 * says which and from which batch the stream replays; otherwise warn is
 * "".  Only ssrc needs to print the warning (every stage would find it).
 */
int ckpt_last_commit(struct checkpoint *ck, int64_t *c, char *warn,
    char *err);

/* What ssrc needs to resume; filled by ckpt_resume(). */
struct ckpt_resume {
	int64_t commit;		/* C; the next batch is C+1 */
	char *replay;		/* body of offsets/C+1 to replay, or NULL */
	size_t replay_len;
	char *last;		/* body of offsets/C when replay is NULL and
				 * C >= 0: start batch C+1 at its end */
	size_t last_len;
	char warn[ERRBUF_SIZE];	/* "" or a fallback to print (rule 7) */
};

/*
 * ssrc, after ckpt_create() and before emitting the header: find C, read
 * what batch C+1 continues from, and delete plans newer than C+1 (rule 4).
 * r owns replay and last: release with ckpt_resume_free().
 */
int ckpt_resume(struct checkpoint *ck, struct ckpt_resume *r, char *err);
void ckpt_resume_free(struct ckpt_resume *r);

/* ---- per batch ---- */

/* ssrc: offsets/N, before emitting batch N.  body: any bytes (JSON
 * recommended), not interpreted here. */
int ckpt_write_offsets(struct checkpoint *ck, int64_t n, const void *body,
    size_t len, char *err);

/* Read offsets/N: 1 and *body (malloc'd, NUL-terminated, caller frees),
 * 0 when absent, -1 on error (damaged file). */
int ckpt_read_offsets(struct checkpoint *ck, int64_t n, char **body,
    size_t *len, char *err);

/*
 * A stateful stage: state/STAGE/N, at the end of batch N before forwarding
 * its epoch frame.  config: the change-detection string (rule 8), one line.
 * blob: the state, any bytes; the caller keeps ownership.
 */
int ckpt_write_state(struct checkpoint *ck, const char *stage, int64_t n,
    const char *config, const void *blob, size_t len, char *err);

/*
 * Load state/STAGE/N written with the same config.  Returns 1 with *blob
 * (malloc'd, NUL-terminated, caller frees) and *len; 0 when n < 0 (no
 * commit yet: start empty; *blob = NULL); -1 when the file is missing,
 * damaged, or was written with a different config (the message names
 * what changed).
 */
int ckpt_read_state(struct checkpoint *ck, const char *stage, int64_t n,
    const char *config, char **blob, size_t *len, char *err);

/*
 * ssink: commits/N, after batch N is durable in the sink.  sink: where
 * the sink stands after N, one line of the sink's own (the Kafka sink's
 * end offsets, lib/sink_kafka.c), or NULL; written as "sink=..." so that
 * the run that replays N+1 knows where N+1 can have begun.
 */
int ckpt_commit(struct checkpoint *ck, int64_t n, const char *sink,
    char *err);
/* The sink line of commits/N: 1 and *sink (malloc'd, caller frees), 0
 * when the file has none or is absent, -1 when it is damaged. */
int ckpt_read_commit_sink(struct checkpoint *ck, int64_t n, char **sink,
    char *err);

/*
 * ssink, after ckpt_commit(ck, c): remove batches numbered <= c - retain
 * (rule 6).  retain >= 1.  Safe to interrupt at any point.
 */
int ckpt_prune(struct checkpoint *ck, int64_t c, int retain, char *err);

/* ---- a source's own files ---- */

/*
 * DIR/sources/SOURCE/NAME, atomically, with a checksum (kind "source").
 * SOURCE and NAME follow the stage name rule.  A decimal NAME is a
 * per-batch file: deleted by ckpt_resume() when newer than C+1, pruned
 * with its batch.  Other names are kept until the source replaces them.
 * Read: 1 / 0 absent / -1 as ckpt_read_offsets().
 */
int ckpt_write_source(struct checkpoint *ck, const char *source,
    const char *name, const void *body, size_t len, char *err);
int ckpt_read_source(struct checkpoint *ck, const char *source,
    const char *name, char **body, size_t *len, char *err);

#endif

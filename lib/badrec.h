/*
 * badrec.h: what ssrc does with a bad record (a csv or json record that
 * does not fit the --schema: a wrong field count, malformed csv or JSON,
 * a JSON value that is not an object, a value not of its field's type).
 *
 *   fail  (default) the reader's error ends ssrc, exit 1, with a message
 *         naming where the record is and why it is bad:
 *         "in/a.csv:3: age: 'x' is not an INT", or for Kafka
 *         "topic 't' partition 0 offset 41: age: 'x' is not an INT";
 *   skip  (--skip-bad) the record is dropped and counted; the count of
 *         each batch goes on its epoch frame (ssrc.bad=N), the total and
 *         the first reason on stderr at the end;
 *   keep  (--bad-records-path DIR) as skip, and each bad record is also
 *         written, with its origin and reason, as Databricks'
 *         badRecordsPath does:
 *
 *           DIR/20261130T120000/bad_records/part-00007-QUERYID.json
 *
 *         The directory is named by the start time of the run (UTC), as
 *         Databricks names it by the creation time of its reader; the
 *         file by the batch (00007) and the query id (@query), so that
 *         runs sharing DIR never write the same file.  One JSON object a
 *         line: {"path":"in/a.csv","line":3,"record":"bob,x","reason":
 *         "age: 'x' is not an INT"} ("record": the record's raw text
 *         without its last newline; a csv record may span lines), or for
 *         Kafka {"topic":"t","partition":0,"offset":41,"record":...,
 *         "reason":...}.  Any bytes give valid JSON (json_out.h).
 *
 * Files: one per batch that has bad records, written through
 * atomicfile.h (a temp file, renamed when the batch ends), so a reader of
 * DIR sees a batch's bad records all or not at all.  Directories under
 * DIR are created as needed; one that is a symbolic link is refused.
 * Memory is bounded: lines go to the temp file as a buffer fills.
 *
 * Exactly once with a checkpoint: ssrc commits batch N's file after
 * offsets/N is logged and before N's epoch frame, so a batch that crashed
 * before its offsets were logged never left a file.  A run on a
 * checkpoint resumes at C+1 and writes again every batch id from there
 * (C+1 replayed exactly, later logged batches planned again); at start it
 * looks for files that earlier runs of the query (a checkpoint's query id
 * is stable) wrote for those ids, and when such a batch ends its file is
 * rewritten where it was, or removed if the batch now has no bad record:
 * a batch never has two files, and a committed batch's file stays.  The
 * same scan removes the temp files of this query that a killed run left
 * (the checkpoint's run lock says no other run of it is alive).
 *
 * The library never prints: badrec_summary() gives the line for ssrc.
 */
#ifndef RUNNEL_BADREC_H
#define RUNNEL_BADREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "atomicfile.h"
#include "die.h"
#include "strbuf.h"

enum badrec_mode {
	BADREC_FAIL,
	BADREC_SKIP,
	BADREC_KEEP,
};

/* Where a bad record comes from. */
struct bad_origin {
	const char *path;	/* file, "stdin", "socket:HOST:PORT"... */
	long line;		/* the line the record starts on; 0: none */
	const char *topic;	/* non-NULL: a Kafka message, and then: */
	int32_t partition;
	int64_t offset;
};

#define BADREC_STAMP_SIZE 20	/* "20261130T120000" */
#define BADREC_ID_SIZE 64

struct badrec {
	enum badrec_mode mode;
	char *dir;			/* --bad-records-path (keep) */
	char stamp[BADREC_STAMP_SIZE];	/* this run's directory under dir */
	char query[BADREC_ID_SIZE];	/* the query id, in file names */
	int64_t batch;			/* the batch bad records go to */
	struct badrec_earlier {		/* files of earlier runs to redo */
		int64_t batch;		/* -1: done with */
		char *top;		/* the directory under dir */
	} *earlier;
	size_t nearlier, cap;
	uint64_t total;			/* bad records this run */
	char first[ERRBUF_SIZE];	/* the first one's message */
	struct af_tmp tmp;		/* the batch's file, while open */
	bool open;
	struct strbuf buf;		/* lines not yet in tmp */
};

/* Set up a policy; dir (copied) only for BADREC_KEEP.  No I/O. */
void badrec_init(struct badrec *b, enum badrec_mode mode, const char *dir);

/*
 * Before the first batch: remember the query id (for file names) and the
 * first batch's id, take the run's start time, and (keep) create DIR
 * (mkdir -p) so that a DIR that cannot be made fails at start; with a
 * checkpoint, find the files earlier runs wrote for batches from the
 * first on (above).  Returns 0 or -1 with err.
 */
int badrec_start(struct badrec *b, const char *query_id, int64_t batch,
    bool checkpoint, char *err);

/* Does the policy want the raw text of bad records (keep)?  Readers
 * collect it only then. */
static inline bool
badrec_wants_raw(const struct badrec *b)
{
	return b != NULL && b->mode == BADREC_KEEP;
}

/* "in/a.csv:3", "stdin", "topic 't' partition 0 offset 41" into buf. */
void badrec_where(const struct bad_origin *w, char *buf, size_t size);

/*
 * A bad record: raw[0..n) is its text (may be NULL when the policy does
 * not want it), reason says why ("age: 'x' is not an INT").  fail: err =
 * "WHERE: REASON", returns -1.  skip, keep: counts it (keep: writes its
 * line), returns 0, or -1 with err when the file cannot be written.
 */
int badrec_add(struct badrec *b, const struct bad_origin *w,
    const char *raw, size_t n, const char *reason, char *err);

/*
 * Batch n ends: commit its file, if it has bad records (else remove an
 * earlier run's file of n); the next bad records go to batch n + 1.  Returns 0 or -1 with err (the file could
 * not be written: the batch must not be emitted).
 */
int badrec_end_batch(struct badrec *b, int64_t n, char *err);

/*
 * The line for stderr at the end, into buf (ERRBUF_SIZE or more), or ""
 * when nothing was skipped: "skipped 3 bad records (first: in/a.csv:3:
 * age: 'x' is not an INT)".
 */
void badrec_summary(const struct badrec *b, char *buf, size_t size);

/* Drop an uncommitted file (its batch never ended) and free b. */
void badrec_free(struct badrec *b);

#endif

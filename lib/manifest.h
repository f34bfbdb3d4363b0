/*
 * manifest.h: the file sink's log of committed batches, DIR/_runnel_metadata/
 * (what Spark keeps in _spark_metadata): the commit point of the file sink
 * and what tells readers committed part files from leftovers.
 *
 * FILES (every one written atomically and checksummed with af_write(),
 * kind "manifest": a "runnel manifest v1" first line, a "crc32c=..." last
 * line, JSON lines in between):
 *
 *   QUERYID-NNNNN        one per committed batch NNNNN (the batch id, at
 *                        least 5 digits) of query QUERYID, written AFTER the
 *                        batch's part files are in place;
 *   compact-SSSSSS       the lines of many batch files folded together;
 *   .lock                flock(2)ed while compacting (never removed);
 *   .*.tmp-PID-SEQ       af_write()'s temp files (a writer that died).
 *
 * Lines (JSON objects, one per line, keys in this order):
 *
 *   {"batchId":7,"queryId":"Q","runId":"R","timestamp":"2026-...Z",
 *    "format":"csv","schema":"word STRING, count BIGINT",
 *    "partitionSchema":"","numFiles":1,"numOutputRows":2}
 *   {"batchId":7,"queryId":"Q","path":"part-00007-Q.csv","numRows":2,
 *    "size":14}
 *
 * path is relative to DIR.  THE READER'S RULE: the committed part files
 * are the union of the "path" lines of every file here (temp dot-files
 * aside), duplicates removed; a batch is committed when a batch line for
 * its (queryId, batchId) exists.  A crash during compaction can leave a
 * line in two files, never lose one, hence "duplicates removed":
 *
 *   cd DIR/_runnel_metadata &&
 *       grep -h '^{' -- * | jq -r 'select(.path) | .path' | sort -u
 *
 * COMPACTION keeps the directory small: when MANIFEST_FOLD_AT batch files
 * have accumulated, they are folded into a new compact file and removed;
 * then, while the newest compact file is at least half the size of the
 * one before it, the two are merged (as a binary counter carries).  So a
 * directory holds fewer than MANIFEST_FOLD_AT batch files and O(log n)
 * compact files, and each line is rewritten O(log n) times.  Several
 * queries may write into one DIR at once (their names differ): compaction
 * takes .lock and is skipped when another writer is compacting.
 */
#ifndef RUNNEL_MANIFEST_H
#define RUNNEL_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define MANIFEST_DIR		"_runnel_metadata"
#define MANIFEST_FOLD_AT	10

struct manifest {
	char *dir;		/* DIR/_runnel_metadata */
	int lock_fd;		/* DIR/_runnel_metadata/.lock */
	struct strbuf body;	/* the batch being described */
	struct strbuf scratch;
	int64_t batch;		/* -1 between batches */
	const char *query_id;
	char *run_id, *format, *schema, *partition_schema; /* batch line */
	size_t nfiles;
	int64_t rows;
};

/*
 * Open (creating it and syncing DIR when new) DIR/_runnel_metadata for
 * query query_id ([A-Za-z0-9_-]+, the caller checks).  m borrows query_id.
 */
int manifest_open(struct manifest *m, const char *data_dir,
    const char *query_id, char *err);
void manifest_close(struct manifest *m);

/*
 * Describe batch n: its batch line fields come from the arguments
 * (strings are copied); then manifest_add() once per part file, then
 * manifest_commit() writes QUERYID-NNNNN atomically.
 */
void manifest_begin(struct manifest *m, int64_t n, const char *run_id,
    const char *format, const char *schema, const char *partition_schema);
void manifest_add(struct manifest *m, const char *path, int64_t rows,
    int64_t size);
int manifest_commit(struct manifest *m, char *err);

/* The name of batch n's manifest file for query q ("Q-00007"). */
void manifest_name(struct strbuf *out, const char *q, int64_t n);

/*
 * Fold and merge (see COMPACTION above) if due.  Returns 0 (also when
 * another writer holds the lock), or -1 with err when a manifest file
 * cannot be read or is damaged (it is left in place) or a write fails.
 */
int manifest_compact(struct manifest *m, char *err);

#endif

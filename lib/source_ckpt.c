/* source_ckpt.c: ssrc's side of a checkpoint (see source_ckpt.h). */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "rtime.h"
#include "source_ckpt.h"

#define COMMIT_POLL_US	20000	/* how often the end-of-run wait looks */

static void
plan_free(struct batch_plan *p)
{
	free(p->start);
	free(p->end);
	memset(p, 0, sizeof *p);
}

/* Find "key=" at the start of a line of body (before "journal"); the
 * value runs to the end of the line.  NULL when absent. */
static char *
plan_value(const char *body, const char *key)
{
	size_t klen = strlen(key);

	for (const char *p = body; *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len == 7 && strncmp(p, "journal", 7) == 0)
			break;
		if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
			return xstrndup(p + klen + 1, len - klen - 1);
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return NULL;
}

/* The journal lines of an offsets body ("" when none). */
static const char *
plan_journal(const char *body)
{
	const char *p = body;

	for (;;) {
		if (strncmp(p, "journal\n", 8) == 0)
			return p + 8;
		if (strcmp(p, "journal") == 0)
			return p + 7;
		if ((p = strchr(p, '\n')) == NULL)
			return "";
		p++;
	}
}

static int
plan_i64(const char *body, const char *key, int64_t *v)
{
	char *s = plan_value(body, key), *end;
	int rc = -1;

	if (s != NULL) {
		errno = 0;
		*v = strtoll(s, &end, 10);
		rc = end == s || *end != '\0' || errno ? -1 : 0;
	}
	free(s);
	return rc;
}

/* Parse offsets/n's body.  -1 with err naming the file. */
static int
plan_parse(struct source_ckpt *k, int64_t n, const char *body,
    struct batch_plan *p, char *err)
{
	int64_t batch, nodata, final, rows;

	memset(p, 0, sizeof *p);
	if (plan_i64(body, "batch", &batch) < 0 || batch != n ||
	    plan_i64(body, "nodata", &nodata) < 0 ||
	    plan_i64(body, "final", &final) < 0 ||
	    plan_i64(body, "rows", &rows) < 0 || rows < 0 ||
	    (p->start = plan_value(body, "start")) == NULL ||
	    (p->end = plan_value(body, "end")) == NULL) {
		plan_free(p);
		return seterr(err, "checkpoint: '%s/offsets/%" PRId64 "': "
		    "not an offsets file of ssrc", ckpt_dir(k->ck), n);
	}
	p->batch = n;
	p->nodata = nodata != 0;
	p->final = final != 0;
	p->rows = (uint64_t)rows;
	return 0;
}

/* "ssrc ... source=SPEC": the SPEC a metadata pipeline names, or NULL. */
static const char *
pipeline_source(const char *pipeline)
{
	const char *p = pipeline ? strstr(pipeline, " source=") : NULL;

	return p ? p + strlen(" source=") : NULL;
}

static int
write_compact(struct source_ckpt *k, int64_t upto, char *err)
{
	sb_reset(&k->body);
	sb_addf(&k->body, "upto=%" PRId64 "\n", upto);
	source_compact(k->src, &k->body);
	if (ckpt_write_source(k->ck, k->src->type->scheme, "journal",
	    k->body.buf, k->body.len, err) < 0)
		return -1;
	k->compact_upto = upto;
	return 0;
}

/*
 * Give the source its journal: the compacted one (entries of batches <=
 * last), then offsets/B+1 .. last.  Then compact at once, so that this
 * run's pruning can never outrun the compacted journal.
 */
static int
restore_journal(struct source_ckpt *k, int64_t last, char *err)
{
	const char *scheme = k->src->type->scheme;
	int64_t upto = -1;
	char *body;
	size_t len;
	int r;

	if (k->src->type->restore == NULL)
		return 0;
	r = ckpt_read_source(k->ck, scheme, "journal", &body, &len, err);
	if (r < 0)
		return -1;
	if (r == 1) {
		char *nl = strchr(body, '\n');

		if (sscanf(body, "upto=%" SCNd64, &upto) != 1) {
			free(body);
			return seterr(err, "checkpoint: '%s/sources/%s/"
			    "journal': no upto= line", ckpt_dir(k->ck),
			    scheme);
		}
		r = source_restore(k->src, nl ? nl + 1 : "", last, err);
		free(body);
		if (r < 0)
			return -1;
	}
	for (int64_t b = upto + 1; b <= last; b++) {
		r = ckpt_read_offsets(k->ck, b, &body, &len, err);
		if (r < 0)
			return -1;
		if (r == 0)
			return seterr(err, "checkpoint: '%s/offsets/%" PRId64
			    "' is missing: the journal of source '%s' has a "
			    "gap", ckpt_dir(k->ck), b, k->src->name);
		r = source_restore(k->src, plan_journal(body), last, err);
		free(body);
		if (r < 0)
			return -1;
	}
	return write_compact(k, last, err);
}

int
sck_open(struct source_ckpt *k, struct source *s, const char *dir,
    const char *pipeline, bool wait, int retain, char *warn, char *err)
{
	struct ckpt_resume r;
	const char *was, *now;
	char *resume_at = NULL, msg[ERRBUF_SIZE];
	struct batch_plan last;
	int64_t fixed;

	memset(k, 0, sizeof *k);
	warn[0] = '\0';
	k->src = s;
	k->retain = retain;
	k->interval = retain / 2 > 0 ? retain / 2 : 1;
	k->compact_upto = -1;
	sb_init(&k->body);
	sb_init(&k->pos);
	if ((k->ck = ckpt_create(dir, pipeline, wait, err)) == NULL)
		return -1;
	if ((k->abs_dir = realpath(ckpt_dir(k->ck), NULL)) == NULL)
		return seterr(err, "checkpoint: '%s': %s", dir,
		    strerror(errno));
	was = pipeline_source(ckpt_meta(k->ck, "pipeline"));
	now = pipeline_source(pipeline);
	if (was != NULL && now != NULL && strcmp(was, now) != 0)
		return seterr(err, "checkpoint '%s' belongs to source '%s', "
		    "not '%s' (use a new checkpoint directory)",
		    ckpt_dir(k->ck), was, now);
	if (ckpt_resume(k->ck, &r, err) < 0)
		return -1;
	if (r.warn[0] != '\0')
		snprintf(warn, ERRBUF_SIZE, "%s", r.warn);
	k->commit = r.commit;
	memset(&last, 0, sizeof last);
	if (r.replay != NULL &&
	    plan_parse(k, r.commit + 1, r.replay, &k->replay, err) < 0)
		goto fail;
	if (r.last != NULL && plan_parse(k, r.commit, r.last, &last, err) < 0)
		goto fail;
	k->have_replay = r.replay != NULL;
	if (k->have_replay && !source_replayable(s)) {
		snprintf(msg, sizeof msg, "%s is not replayable: batch %"
		    PRId64 " cannot be replayed; it is planned again with "
		    "new input", s->name, r.commit + 1);
		if (warn[0] == '\0')
			snprintf(warn, ERRBUF_SIZE, "%s", msg);
		k->have_replay = false;
		plan_free(&k->replay);
	}
	/* The journal entries that count: up to the batch replayed, or C. */
	fixed = k->have_replay ? r.commit + 1 : r.commit;
	if (restore_journal(k, fixed, err) < 0)
		goto fail;
	if (k->have_replay)
		resume_at = k->replay.start;
	else if (last.end != NULL)
		resume_at = last.end;
	if (resume_at != NULL && source_replayable(s)) {
		if (source_seek(s, resume_at, err) < 0)
			goto fail;
		k->start = xstrdup(resume_at);
		/* Files read by C are committed: clean up after them. */
		if (source_done(s, resume_at, msg) < 0 && warn[0] == '\0')
			snprintf(warn, ERRBUF_SIZE, "%s", msg);
	}
	plan_free(&last);
	ckpt_resume_free(&r);
	return 0;
fail:
	plan_free(&last);
	ckpt_resume_free(&r);
	return -1;
}

void
sck_opened(struct source_ckpt *k)
{
	if (k->start != NULL)
		return;
	sb_reset(&k->pos);
	source_position(k->src, &k->pos);
	k->start = xstrdup(k->pos.buf);
}

int
sck_log(struct source_ckpt *k, int64_t n, bool nodata, bool final,
    uint64_t rows, char *err)
{
	sb_reset(&k->pos);
	source_position(k->src, &k->pos);
	sb_reset(&k->body);
	sb_addf(&k->body, "batch=%" PRId64 "\nnodata=%d\nfinal=%d\nrows=%"
	    PRIu64 "\nstart=%s\nend=%s\njournal\n", n, nodata, final, rows,
	    k->start ? k->start : k->pos.buf, k->pos.buf);
	source_journal(k->src, n, &k->body);
	if (ckpt_write_offsets(k->ck, n, k->body.buf, k->body.len, err) < 0)
		return -1;
	free(k->start);
	k->start = xstrdup(k->pos.buf);
	/* Compact every interval (retain/2) batches even when nothing new
	 * was journaled: pruning removes offsets older than retain batches,
	 * and an entry logged just after the last compaction must be in the
	 * journal before its offsets file can go (a file that spans more
	 * batches than --retain left a gap otherwise). */
	if (n - k->compact_upto >= k->interval)
		return write_compact(k, n, err);
	return 0;
}

int
sck_replayed(struct source_ckpt *k, char *err)
{
	if (source_seek(k->src, k->replay.end, err) < 0)
		return -1;
	free(k->start);
	k->start = xstrdup(k->replay.end);
	return 0;
}

void
sck_batch_out(struct source_ckpt *k, int64_t n)
{
	if (!source_has_done(k->src) || k->start == NULL)
		return;
	if (k->npend == k->cap) {
		k->cap = k->cap ? 2 * k->cap : 16;
		k->pend = xrealloc(k->pend, k->cap * sizeof *k->pend);
	}
	k->pend[k->npend].batch = n;
	k->pend[k->npend].pos = xstrdup(k->start);
	k->npend++;
}

static bool
committed(struct source_ckpt *k, int64_t n)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/commits/%" PRId64, ckpt_dir(k->ck),
	    n);
	return stat(path, &st) == 0;
}

void
sck_check_commits(struct source_ckpt *k, int64_t wait_us, char *warn)
{
	int64_t deadline = monotonic_micros() + wait_us;
	size_t i, done = 0;

	warn[0] = '\0';
	if (k->npend == 0)
		return;
	while (wait_us > 0 && !committed(k, k->pend[k->npend - 1].batch) &&
	    monotonic_micros() < deadline) {
		struct timespec ts = { 0, COMMIT_POLL_US * 1000 };

		nanosleep(&ts, NULL);
	}
	/* Commits come in order: the newest one found covers the rest. */
	for (i = k->npend; i > 0; i--)
		if (committed(k, k->pend[i - 1].batch)) {
			done = i;
			break;
		}
	if (done == 0)
		return;
	if (source_done(k->src, k->pend[done - 1].pos, warn) < 0 &&
	    warn[0] == '\0')
		snprintf(warn, ERRBUF_SIZE, "clean-up failed");
	for (i = 0; i < done; i++)
		free(k->pend[i].pos);
	memmove(k->pend, k->pend + done, (k->npend - done) * sizeof *k->pend);
	k->npend -= done;
}

void
sck_close(struct source_ckpt *k)
{
	for (size_t i = 0; i < k->npend; i++)
		free(k->pend[i].pos);
	free(k->pend);
	plan_free(&k->replay);
	free(k->start);
	free(k->abs_dir);
	sb_free(&k->body);
	sb_free(&k->pos);
	ckpt_close(k->ck);
	memset(k, 0, sizeof *k);
}

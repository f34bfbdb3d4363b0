/* manifest.c: the file sink's _runnel_metadata log (see manifest.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "die.h"
#include "json_out.h"
#include "manifest.h"
#include "rtime.h"

#define KIND		"manifest"
#define COMPACT_PREFIX	"compact-"

int
manifest_open(struct manifest *m, const char *data_dir, const char *query_id,
    char *err)
{
	struct strbuf p;

	memset(m, 0, sizeof *m);
	m->lock_fd = -1;
	m->batch = -1;
	m->query_id = query_id;
	sb_init(&m->body);
	sb_init(&m->scratch);
	sb_init(&p);
	sb_addf(&p, "%s/%s", data_dir, MANIFEST_DIR);
	m->dir = p.buf;
	if (mkdir(m->dir, 0777) == 0) {
		if (af_sync_dir(data_dir, err) < 0)
			goto fail;
	} else if (errno != EEXIST) {
		seterr(err, "cannot create directory '%s': %s", m->dir,
		    strerror(errno));
		goto fail;
	}
	sb_init(&p);
	sb_addf(&p, "%s/.lock", m->dir);
	m->lock_fd = open(p.buf, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0666);
	if (m->lock_fd < 0) {
		seterr(err, "cannot open '%s': %s", p.buf, strerror(errno));
		sb_free(&p);
		goto fail;
	}
	sb_free(&p);
	return 0;
fail:
	manifest_close(m);
	return -1;
}

/* Drop the batch line's fields kept from manifest_begin() to commit. */
static void
head_free(struct manifest *m)
{
	free(m->run_id);
	free(m->format);
	free(m->schema);
	free(m->partition_schema);
	m->run_id = m->format = m->schema = m->partition_schema = NULL;
}

void
manifest_close(struct manifest *m)
{
	if (m->lock_fd >= 0)
		close(m->lock_fd);
	m->lock_fd = -1;
	free(m->dir);
	m->dir = NULL;
	sb_free(&m->body);
	sb_free(&m->scratch);
	head_free(m);
}

void
manifest_name(struct strbuf *out, const char *q, int64_t n)
{
	sb_addf(out, "%s-%05lld", q, (long long)n);
}

void
manifest_begin(struct manifest *m, int64_t n, const char *run_id,
    const char *format, const char *schema, const char *partition_schema)
{
	head_free(m);
	m->run_id = xstrdup(run_id ? run_id : "");
	m->format = xstrdup(format);
	m->schema = xstrdup(schema);
	m->partition_schema = xstrdup(partition_schema);
	m->batch = n;
	m->nfiles = 0;
	m->rows = 0;
	sb_reset(&m->body);
}

static void
add_key_str(struct strbuf *out, const char *key, const char *v)
{
	sb_addf(out, ",\"%s\":", key);
	json_out_string(out, v, strlen(v));
}

static void
line_start(struct strbuf *out, const struct manifest *m)
{
	sb_addf(out, "{\"batchId\":%lld", (long long)m->batch);
	add_key_str(out, "queryId", m->query_id);
}

void
manifest_add(struct manifest *m, const char *path, int64_t rows,
    int64_t size)
{
	line_start(&m->body, m);
	add_key_str(&m->body, "path", path);
	sb_addf(&m->body, ",\"numRows\":%lld,\"size\":%lld}\n",
	    (long long)rows, (long long)size);
	m->nfiles++;
	m->rows += rows;
}

int
manifest_commit(struct manifest *m, char *err)
{
	char when[TIMESTAMP_BUFSIZE];
	struct strbuf *s = &m->scratch;
	size_t name_at;
	int rc;

	sb_reset(s);
	line_start(s, m);
	add_key_str(s, "runId", m->run_id);
	timestamp_format_iso(now_micros(), when);
	add_key_str(s, "timestamp", when);
	add_key_str(s, "format", m->format);
	add_key_str(s, "schema", m->schema);
	add_key_str(s, "partitionSchema", m->partition_schema);
	sb_addf(s, ",\"numFiles\":%zu,\"numOutputRows\":%lld}\n", m->nfiles,
	    (long long)m->rows);
	sb_add(s, m->body.buf ? m->body.buf : "", m->body.len);
	/* The path goes after the body in the same buffer: one allocation. */
	name_at = s->len + 1;
	sb_addc(s, '\0');
	sb_addf(s, "%s/", m->dir);
	manifest_name(s, m->query_id, m->batch);
	rc = af_write(s->buf + name_at, KIND, s->buf, name_at - 1, err);
	m->batch = -1;
	return rc;
}

/* ---- compaction ---- */

struct entry {
	char *name;
	uint64_t seq;		/* compact files: their number */
	off_t size;
};

struct listing {
	struct entry *batches, *compacts;
	size_t nbatches, ncompacts;
};

static void
listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->nbatches; i++)
		free(l->batches[i].name);
	for (size_t i = 0; i < l->ncompacts; i++)
		free(l->compacts[i].name);
	free(l->batches);
	free(l->compacts);
	memset(l, 0, sizeof *l);
}

/* "compact-000012" -> 12; -1 when the name is not a compact file's. */
static int64_t
compact_seq(const char *name)
{
	const char *p = name + strlen(COMPACT_PREFIX);
	char *end;
	unsigned long long v;

	if (strncmp(name, COMPACT_PREFIX, strlen(COMPACT_PREFIX)) != 0 ||
	    *p < '0' || *p > '9')
		return -1;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (*end != '\0' || errno != 0 || v > INT64_MAX)
		return -1;
	return (int64_t)v;
}

/* A batch file's name: QUERY-DIGITS with QUERY of [A-Za-z0-9_-]. */
static bool
is_batch_name(const char *name)
{
	const char *dash = strrchr(name, '-');

	if (dash == NULL || dash == name || dash[1] == '\0')
		return false;
	for (const char *p = dash + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	for (const char *p = name; p < dash; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name,
	    ((const struct entry *)b)->name);
}

static int
by_seq(const void *a, const void *b)
{
	uint64_t x = ((const struct entry *)a)->seq;
	uint64_t y = ((const struct entry *)b)->seq;

	return x < y ? -1 : x > y;
}

static void
push(struct entry **v, size_t *n, const char *name, uint64_t seq,
    off_t size)
{
	*v = xrealloc(*v, (*n + 1) * sizeof **v);
	(*v)[*n].name = xstrdup(name);
	(*v)[*n].seq = seq;
	(*v)[*n].size = size;
	(*n)++;
}

static int
list_dir(struct manifest *m, struct listing *l, char *err)
{
	DIR *d = opendir(m->dir);
	struct dirent *de;

	memset(l, 0, sizeof *l);
	if (d == NULL)
		return seterr(err, "cannot read directory '%s': %s", m->dir,
		    strerror(errno));
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int64_t seq;

		if (de->d_name[0] == '.')
			continue;
		if ((seq = compact_seq(de->d_name)) >= 0) {
			if (fstatat(dirfd(d), de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0)
				continue;	/* removed meanwhile */
			push(&l->compacts, &l->ncompacts, de->d_name,
			    (uint64_t)seq, st.st_size);
		} else if (is_batch_name(de->d_name)) {
			push(&l->batches, &l->nbatches, de->d_name, 0, 0);
		}
	}
	closedir(d);
	if (l->nbatches > 1)
		qsort(l->batches, l->nbatches, sizeof *l->batches, by_name);
	if (l->ncompacts > 1)
		qsort(l->compacts, l->ncompacts, sizeof *l->compacts, by_seq);
	return 0;
}

static char *
path_of(struct manifest *m, const char *name)
{
	sb_reset(&m->scratch);
	sb_addf(&m->scratch, "%s/%s", m->dir, name);
	return m->scratch.buf;
}

/* Append the body of file name to out.  1 read, 0 gone, -1 error. */
static int
append_body(struct manifest *m, const char *name, struct strbuf *out,
    char *err)
{
	char *body;
	size_t len;
	int r = af_read(path_of(m, name), KIND, &body, &len, err);

	if (r <= 0)
		return r;
	sb_add(out, body, len);
	if (len > 0 && body[len - 1] != '\n')
		sb_addc(out, '\n');
	free(body);
	return 1;
}

static void
compact_name(char buf[64], uint64_t seq)
{
	snprintf(buf, 64, COMPACT_PREFIX "%06llu", (unsigned long long)seq);
}

static int
write_compact(struct manifest *m, uint64_t seq, const struct strbuf *body,
    char *err)
{
	char name[64];

	compact_name(name, seq);
	return af_write(path_of(m, name), KIND, body->buf ? body->buf : "",
	    body->len, err);
}

static void
remove_file(struct manifest *m, const char *name)
{
	unlink(path_of(m, name));
}

static int
compact_locked(struct manifest *m, char *err)
{
	struct listing l;
	struct strbuf body;
	char name[64];
	uint64_t seq;
	int rc = -1;

	if (list_dir(m, &l, err) < 0)
		return -1;
	sb_init(&body);
	if (l.nbatches < MANIFEST_FOLD_AT) {
		rc = 0;
		goto out;
	}
	/* Fold: write the new compact file first, then remove what it
	 * holds, so a crash in between duplicates lines, never loses one. */
	for (size_t i = 0; i < l.nbatches; i++)
		if (append_body(m, l.batches[i].name, &body, err) < 0)
			goto out;
	seq = l.ncompacts ? l.compacts[l.ncompacts - 1].seq + 1 : 1;
	if (write_compact(m, seq, &body, err) < 0)
		goto out;
	for (size_t i = 0; i < l.nbatches; i++)
		remove_file(m, l.batches[i].name);
	compact_name(name, seq);
	push(&l.compacts, &l.ncompacts, name, seq, (off_t)body.len);
	/* Merge the newest two while the newest is at least half the size
	 * of the one before (a binary counter's carry). */
	while (l.ncompacts >= 2) {
		struct entry *a = &l.compacts[l.ncompacts - 2];
		struct entry *b = &l.compacts[l.ncompacts - 1];

		if (b->size * 2 < a->size)
			break;
		sb_reset(&body);
		if (append_body(m, a->name, &body, err) < 0 ||
		    append_body(m, b->name, &body, err) < 0)
			goto out;
		if (write_compact(m, b->seq + 1, &body, err) < 0)
			goto out;
		remove_file(m, a->name);
		remove_file(m, b->name);
		free(a->name);
		free(b->name);
		l.ncompacts--;
		a->seq = b->seq + 1;
		a->size = (off_t)body.len;
		compact_name(name, a->seq);
		a->name = xstrdup(name);
	}
	rc = 0;
out:
	sb_free(&body);
	listing_free(&l);
	return rc;
}

int
manifest_compact(struct manifest *m, char *err)
{
	int rc;

	if (flock(m->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK || errno == EINTR)
			return 0;	/* another writer is at it */
		return seterr(err, "cannot lock '%s/.lock': %s", m->dir,
		    strerror(errno));
	}
	rc = compact_locked(m, err);
	flock(m->lock_fd, LOCK_UN);
	return rc;
}

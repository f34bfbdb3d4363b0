/*
 * badrec.c: the bad-record policy and the bad-record files of
 * --bad-records-path (badrec.h says the layout and why).
 *
 * Lines are built in a buffer and handed to the temp file when it holds
 * BADREC_FLUSH bytes, so a batch of many bad records costs bounded
 * memory; the temp file is renamed to its name only when the batch ends.
 * The rejected alternative, one file per bad record, would make a flood
 * of bad input a flood of files.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "badrec.h"
#include "json_out.h"
#include "rtime.h"

#define BADREC_FLUSH (64 * 1024)
#define BADREC_SUBDIR "bad_records"

void
badrec_init(struct badrec *b, enum badrec_mode mode, const char *dir)
{
	memset(b, 0, sizeof *b);
	b->mode = mode;
	b->dir = mode == BADREC_KEEP && dir != NULL ? xstrdup(dir) : NULL;
	b->tmp.fd = -1;
	sb_init(&b->buf);
}

/* mkdir -p for the user's DIR (whose own path may go through symlinks:
 * the user chose it). */
static int
make_user_dir(const char *dir, char *err)
{
	char *p = xstrdup(dir);
	struct stat st;
	int rc = 0;

	for (char *s = p + 1; ; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) < 0 && errno != EEXIST) {
			rc = seterr(err, "--bad-records-path: cannot create "
			    "'%s': %s", p, strerror(errno));
			break;
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (rc == 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		rc = seterr(err, "--bad-records-path: '%s': not a directory",
		    dir);
	free(p);
	return rc;
}

/* mkdir of a directory we own under DIR, accepting an existing real
 * directory but never a symlink (someone else's, to make us write
 * elsewhere).  A new one is synced into its parent, so that a committed
 * file cannot lose its directory entry in a power loss. */
static int
make_own_dir(const char *path, const char *parent, char *err)
{
	struct stat st;

	if (mkdir(path, 0777) == 0)
		return af_sync_dir(parent, err);
	if (errno != EEXIST)
		return seterr(err, "--bad-records-path: cannot create '%s': "
		    "%s", path, strerror(errno));
	if (lstat(path, &st) < 0)
		return seterr(err, "--bad-records-path: cannot read '%s': %s",
		    path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return seterr(err, "--bad-records-path: '%s': not a directory "
		    "(a symbolic link is not followed)", path);
	return 0;
}

void
badrec_where(const struct bad_origin *w, char *buf, size_t size)
{
	if (w->topic != NULL)
		snprintf(buf, size, "topic '%s' partition %" PRId32
		    " offset %" PRId64, w->topic, w->partition, w->offset);
	else if (w->line > 0)
		snprintf(buf, size, "%s:%ld", w->path, w->line);
	else
		snprintf(buf, size, "%s", w->path);
}

/* The file's name in its directory. */
static void
file_name(const struct badrec *b, struct strbuf *out)
{
	sb_addf(out, "part-%05" PRId64 "-%s.json", b->batch, b->query);
}

/* Is name one of this query's files, "part-B-QUERY.json" (temp: the name
 * of its temp file without the dot, "part-B-QUERY.json.tmp-PID-SEQ")?
 * Sets *batch. */
static bool
our_file(const struct badrec *b, const char *name, bool temp,
    int64_t *batch)
{
	size_t n = strlen(name), q = strlen(b->query);
	char *end;
	long long v;

	if (strncmp(name, "part-", 5) != 0 || n < 5 + 1 + 1 + q + 5)
		return false;
	errno = 0;
	v = strtoll(name + 5, &end, 10);
	if (end == name + 5 || errno != 0 || v < 0 || *end != '-' ||
	    strncmp(end + 1, b->query, q) != 0 ||
	    strncmp(end + 1 + q, ".json", 5) != 0)
		return false;
	end += 1 + q + 5;
	if (temp ? strncmp(end, ".tmp-", 5) != 0 : *end != '\0')
		return false;
	*batch = v;
	return true;
}

/* Note the files of batches >= first in DIR/TOP/bad_records. */
static void
scan_top(struct badrec *b, int dirfd_, const char *top, int64_t first)
{
	struct dirent *de;
	int64_t batch;
	DIR *d;
	int fd, sub;

	fd = openat(dirfd_, top, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0)
		return;
	sub = openat(fd, BADREC_SUBDIR, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	if (sub < 0 || (d = fdopendir(sub)) == NULL) {
		if (sub >= 0)
			close(sub);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		/* A temp file of this query is a dead run's: under the
		 * checkpoint's run lock no other run of it is alive. */
		if (af_is_temp(de->d_name) && our_file(b, de->d_name + 1, true,
		    &batch)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (!our_file(b, de->d_name, false, &batch) || batch < first)
			continue;
		if (b->nearlier == b->cap) {
			b->cap = b->cap ? 2 * b->cap : 8;
			b->earlier = xrealloc(b->earlier,
			    b->cap * sizeof *b->earlier);
		}
		b->earlier[b->nearlier].batch = batch;
		b->earlier[b->nearlier].top = xstrdup(top);
		b->nearlier++;
	}
	closedir(d);
}

/*
 * With a checkpoint: the files that earlier runs of this query wrote for
 * batches this run will write again (first and after: a replay, or plans
 * made again).  Each will be rewritten where it is, or removed if its
 * batch now has no bad record, so that no batch has two files.
 */
static void
scan_earlier(struct badrec *b, int64_t first)
{
	struct dirent *de;
	DIR *d;
	int fd;

	fd = open(b->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] != '.')
			scan_top(b, dirfd(d), de->d_name, first);
	}
	closedir(d);
}

/* The earlier file of batch n, or NULL. */
static struct badrec_earlier *
earlier(struct badrec *b, int64_t n)
{
	for (size_t i = 0; i < b->nearlier; i++)
		if (b->earlier[i].batch == n)
			return &b->earlier[i];
	return NULL;
}

int
badrec_start(struct badrec *b, const char *query_id, int64_t batch,
    bool checkpoint, char *err)
{
	time_t t = (time_t)floor_div(now_micros(), MICROS_PER_SECOND);
	struct tm tm;

	snprintf(b->query, sizeof b->query, "%s", query_id);
	b->batch = batch;
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(b->stamp, sizeof b->stamp, "%Y%m%dT%H%M%S", &tm) == 0)
		snprintf(b->stamp, sizeof b->stamp, "%lld", (long long)t);
	if (b->mode != BADREC_KEEP)
		return 0;
	if (b->dir == NULL || b->dir[0] == '\0')
		return seterr(err, "--bad-records-path: empty directory name");
	if (make_user_dir(b->dir, err) < 0)
		return -1;
	if (checkpoint)
		scan_earlier(b, batch);
	return 0;
}

/* Make err say which option's files failed. */
static void
prefix(char *err)
{
	char msg[ERRBUF_SIZE];

	if (strncmp(err, "--bad-records-path", 18) == 0)
		return;
	memcpy(msg, err, ERRBUF_SIZE);
	msg[ERRBUF_SIZE - 1] = '\0';
	seterr(err, "--bad-records-path: %s", msg);
}

/* Open the temp file of the current batch's file. */
static int
open_file(struct badrec *b, char *err)
{
	const struct badrec_earlier *e = earlier(b, b->batch);
	struct strbuf top, sub, path;
	int rc;

	sb_init(&top);
	sb_init(&sub);
	sb_init(&path);
	sb_addf(&top, "%s/%s", b->dir, e != NULL ? e->top : b->stamp);
	sb_addf(&sub, "%s/" BADREC_SUBDIR, top.buf);
	sb_addf(&path, "%s/", sub.buf);
	file_name(b, &path);
	rc = make_own_dir(top.buf, b->dir, err);
	if (rc == 0)
		rc = make_own_dir(sub.buf, top.buf, err);
	if (rc == 0)
		rc = af_begin(&b->tmp, path.buf, err);
	if (rc == 0)
		b->open = true;
	else
		prefix(err);
	sb_free(&top);
	sb_free(&sub);
	sb_free(&path);
	return rc;
}

static int
flush_lines(struct badrec *b, char *err)
{
	if (b->buf.len == 0)
		return 0;
	if (af_append(&b->tmp, b->buf.buf, b->buf.len, err) < 0)
		return -1;
	sb_reset(&b->buf);
	return 0;
}

/* Strip the newline (LF or CRLF) that ends a record's last line. */
static size_t
without_newline(const char *raw, size_t n)
{
	if (n > 0 && raw[n - 1] == '\n')
		n--;
	if (n > 0 && raw[n - 1] == '\r')
		n--;
	return n;
}

static int
keep(struct badrec *b, const struct bad_origin *w, const char *raw,
    size_t n, const char *reason, char *err)
{
	struct strbuf *o = &b->buf;

	if (!b->open && open_file(b, err) < 0)
		return -1;
	if (w->topic != NULL) {
		sb_adds(o, "{\"topic\":");
		json_out_string(o, w->topic, strlen(w->topic));
		sb_addf(o, ",\"partition\":%" PRId32 ",\"offset\":%" PRId64,
		    w->partition, w->offset);
	} else {
		sb_adds(o, "{\"path\":");
		json_out_string(o, w->path, strlen(w->path));
		if (w->line > 0)
			sb_addf(o, ",\"line\":%ld", w->line);
	}
	sb_adds(o, ",\"record\":");
	json_out_string(o, raw != NULL ? raw : "",
	    raw != NULL ? without_newline(raw, n) : 0);
	sb_adds(o, ",\"reason\":");
	json_out_string(o, reason, strlen(reason));
	sb_adds(o, "}\n");
	if (o->len >= BADREC_FLUSH)
		return flush_lines(b, err);
	return 0;
}

int
badrec_add(struct badrec *b, const struct bad_origin *w, const char *raw,
    size_t n, const char *reason, char *err)
{
	char where[ERRBUF_SIZE];

	badrec_where(w, where, sizeof where);
	if (b == NULL || b->mode == BADREC_FAIL)
		return seterr(err, "%s: %s", where, reason);
	if (b->total++ == 0)
		seterr(b->first, "%s: %s", where, reason);
	if (b->mode == BADREC_KEEP)
		return keep(b, w, raw, n, reason, err);
	return 0;
}

/* Batch n has no bad record now: remove the file an earlier run wrote
 * for it (a plan made again without them). */
static int
remove_earlier(struct badrec *b, const struct badrec_earlier *e, char *err)
{
	struct strbuf dir, path;
	int rc = 0;

	sb_init(&dir);
	sb_init(&path);
	sb_addf(&dir, "%s/%s/" BADREC_SUBDIR, b->dir, e->top);
	sb_addf(&path, "%s/", dir.buf);
	file_name(b, &path);
	if (unlink(path.buf) < 0 && errno != ENOENT)
		rc = seterr(err, "--bad-records-path: cannot remove '%s': %s",
		    path.buf, strerror(errno));
	else if (af_sync_dir(dir.buf, err) < 0)
		rc = -1;
	sb_free(&dir);
	sb_free(&path);
	return rc;
}

int
badrec_end_batch(struct badrec *b, int64_t n, char *err)
{
	struct badrec_earlier *e;
	int rc = 0;

	/* The first earlier file of n is the one an open file replaces;
	 * any other (there should be none) goes. */
	if ((e = earlier(b, n)) != NULL && b->open)
		e->batch = -1;
	while (rc == 0 && (e = earlier(b, n)) != NULL) {
		rc = remove_earlier(b, e, err);
		e->batch = -1;	/* done with */
	}
	if (b->open) {
		b->open = false;
		if (rc < 0 || flush_lines(b, err) < 0) {
			af_abort(&b->tmp);
			rc = -1;
		} else {
			rc = af_commit(&b->tmp, err);
		}
		if (rc < 0)
			prefix(err);
	}
	sb_reset(&b->buf);
	b->batch = n + 1;
	return rc;
}

void
badrec_summary(const struct badrec *b, char *buf, size_t size)
{
	buf[0] = '\0';
	if (b->total == 0)
		return;
	if (b->mode == BADREC_KEEP)
		snprintf(buf, size, "skipped %" PRIu64 " bad record%s, kept in "
		    "'%s' (first: %s)", b->total, b->total == 1 ? "" : "s",
		    b->dir, b->first);
	else
		snprintf(buf, size, "skipped %" PRIu64 " bad record%s (first: "
		    "%s)", b->total, b->total == 1 ? "" : "s", b->first);
}

void
badrec_free(struct badrec *b)
{
	if (b->open)
		af_abort(&b->tmp);
	b->open = false;
	free(b->dir);
	b->dir = NULL;
	for (size_t i = 0; i < b->nearlier; i++)
		free(b->earlier[i].top);
	free(b->earlier);
	b->earlier = NULL;
	b->nearlier = b->cap = 0;
	sb_free(&b->buf);
}

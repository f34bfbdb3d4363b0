/* checkpoint.c: the checkpoint directory and its recovery rules.  The
 * protocol is in checkpoint.h; this file keeps to it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "checkpoint.h"
#include "qlock.h"
#include "rtime.h"
#include "strbuf.h"

struct checkpoint {
	char *dir;
	struct qlock lock;
	char run_id[QLOCK_ID_SIZE];
	char *meta;		/* metadata body, lines cut into strings */
	size_t meta_len;
	struct strbuf path;	/* scratch for building paths */
};

/* Subdirectories holding per-batch files; state/ and sources/ hold one
 * directory per stage or source. */
static const char *const flat_dirs[] = { "offsets", "commits" };
static const char *const nested_dirs[] = { "state", "sources" };

/* ---- small helpers ---- */

/* Copy an inner error behind the "checkpoint: " prefix. */
static int
wrap(char *err, const char *inner)
{
	return seterr(err, "checkpoint: %s", inner);
}

/* af_sync_dir() with the "checkpoint: " prefix. */
static int
sync_dir(const char *dir, char *err)
{
	char inner[ERRBUF_SIZE];

	return af_sync_dir(dir, inner) < 0 ? wrap(err, inner) : 0;
}

static const char *
pathf(struct checkpoint *ck, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Build a path in ck's scratch buffer; valid until the next pathf(). */
static const char *
pathf(struct checkpoint *ck, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die(EXIT_RUNTIME, "out of memory");
	va_end(ap);
	sb_reset(&ck->path);
	sb_adds(&ck->path, ck->dir);
	sb_addc(&ck->path, '/');
	sb_adds(&ck->path, s);
	free(s);
	return ck->path.buf;
}

/* A stage, source or file name: [A-Za-z0-9_.-]+, not starting with '.'. */
static int
name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.')
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_.-") == n;
}

/* A batch number as a file name: canonical decimal, else -1. */
static int64_t
batch_of(const char *name)
{
	int64_t n = 0;
	size_t len = strlen(name);

	if (len == 0 || len > 18 || (name[0] == '0' && len > 1))
		return -1;
	for (const char *p = name; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

/* Open a directory without following a symlink at its last component:
 * NULL with errno ENOENT when absent. */
static DIR *
open_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;

	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

static int
dir_error(const char *path, char *err)
{
	if (errno == ELOOP || errno == ENOTDIR)
		return seterr(err, "checkpoint: '%s': not a directory (a "
		    "symbolic link is not followed)", path);
	return seterr(err, "checkpoint: cannot read '%s': %s", path,
	    strerror(errno));
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/*
 * The batch numbers of the files in path, ascending, into *out (malloc'd,
 * caller frees; NULL when none).  A missing directory has none.
 */
static int
list_batches(const char *path, int64_t **out, size_t *count, char *err)
{
	size_t n = 0, cap = 0;
	int64_t *v = NULL;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*count = 0;
	if ((d = open_dir(path)) == NULL)
		return errno == ENOENT ? 0 : dir_error(path, err);
	while ((de = readdir(d)) != NULL) {
		int64_t b = batch_of(de->d_name);

		if (b < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = b;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_i64);
	*out = v;
	*count = n;
	return 0;
}

/*
 * The subdirectory names of path (each passing name_ok), into *out: a
 * malloc'd array of malloc'd strings; free with free_names().
 */
static int
list_subdirs(const char *path, char ***out, size_t *count, char *err)
{
	size_t n = 0, cap = 0;
	char **v = NULL;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*count = 0;
	if ((d = open_dir(path)) == NULL)
		return errno == ENOENT ? 0 : dir_error(path, err);
	while ((de = readdir(d)) != NULL) {
		struct stat st;

		if (!name_ok(de->d_name) || fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	*out = v;
	*count = n;
	return 0;
}

static void
free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* mkdir, accepting an existing real directory (not a symlink to one).
 * Returns 1 when created, 0 when it was there, -1 on error. */
static int
make_dir(const char *path, char *err)
{
	struct stat st;

	if (mkdir(path, 0777) == 0)
		return 1;
	if (errno != EEXIST)
		return seterr(err, "checkpoint: cannot create '%s': %s", path,
		    strerror(errno));
	if (lstat(path, &st) < 0)
		return seterr(err, "checkpoint: cannot read '%s': %s", path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return seterr(err, "checkpoint: '%s': not a directory (a "
		    "symbolic link is not followed)", path);
	return 0;
}

/*
 * mkdir -p for the user's DIR (whose own path may use symlinks).  Each
 * directory made is synced into its parent: a checkpoint whose directory
 * entry a power loss could take away would give the next run a new query
 * id, and the sinks' batches of the old one would look foreign.
 */
static int
make_dirs(const char *dir, char *err)
{
	char *p = xstrdup(dir), *parent;
	struct stat st;
	int rc = 0;

	for (char *s = p + 1; rc == 0; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) == 0) {
			char *slash = strrchr(p, '/');

			parent = slash == NULL ? xstrdup(".") : slash == p ?
			    xstrdup("/") : xstrndup(p, (size_t)(slash - p));
			rc = sync_dir(parent, err);
			free(parent);
		} else if (errno != EEXIST) {
			rc = seterr(err, "checkpoint: cannot create '%s': %s",
			    p, strerror(errno));
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (rc == 0 && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		rc = seterr(err, "checkpoint: '%s': not a directory", dir);
	free(p);
	return rc;
}

/* Remove af_begin() leftovers in path.  Only under the run lock. */
static int
remove_temps(const char *path, char *err)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = open_dir(path)) == NULL)
		return errno == ENOENT ? 0 : dir_error(path, err);
	while ((de = readdir(d)) != NULL)
		if (af_is_temp(de->d_name) &&
		    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			rc = seterr(err, "checkpoint: cannot remove "
			    "'%s/%s': %s", path, de->d_name, strerror(errno));
	closedir(d);
	return rc;
}

/* Remove the numbered files of path with lo <= N <= hi. */
static int
remove_batches(const char *path, int64_t lo, int64_t hi, char *err)
{
	struct dirent *de;
	DIR *d;
	int rc = 0;

	if ((d = open_dir(path)) == NULL)
		return errno == ENOENT ? 0 : dir_error(path, err);
	while ((de = readdir(d)) != NULL) {
		int64_t b = batch_of(de->d_name);

		if (b >= 0 && b >= lo && b <= hi &&
		    unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
			rc = seterr(err, "checkpoint: cannot remove "
			    "'%s/%s': %s", path, de->d_name, strerror(errno));
	}
	closedir(d);
	return rc;
}

/*
 * Remove the numbered files of every per-batch directory: those numbered
 * lo..hi in commits/ and state/STAGE/, lo_ahead..hi_ahead in offsets/ and
 * sources/SOURCE/ (which run up to one batch ahead of the commits).
 */
static int
remove_all_batches(struct checkpoint *ck, int64_t lo, int64_t hi,
    int64_t lo_ahead, int64_t hi_ahead, char *err)
{
	char **names;
	size_t n;
	int rc = 0;

	if (remove_batches(pathf(ck, "offsets"), lo_ahead, hi_ahead, err) < 0 ||
	    remove_batches(pathf(ck, "commits"), lo, hi, err) < 0)
		return -1;
	for (size_t k = 0; k < 2 && rc == 0; k++) {
		int ahead = strcmp(nested_dirs[k], "sources") == 0;

		if (list_subdirs(pathf(ck, "%s", nested_dirs[k]), &names, &n,
		    err) < 0)
			return -1;
		for (size_t i = 0; i < n && rc == 0; i++)
			rc = remove_batches(pathf(ck, "%s/%s", nested_dirs[k],
			    names[i]), ahead ? lo_ahead : lo,
			    ahead ? hi_ahead : hi, err);
		free_names(names, n);
	}
	return rc;
}

static void
make_uuid(char out[QLOCK_ID_SIZE])
{
	static uint64_t counter;
	unsigned char b[16];

	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b) {
		/* No entropy source: unique enough from time, pid and a
		 * counter, mixed by splitmix64. */
		uint64_t x = (uint64_t)now_micros() ^
		    ((uint64_t)getpid() << 32) ^ ++counter;

		for (int i = 0; i < 16; i += 8) {
			uint64_t z = (x += 0x9e3779b97f4a7c15ull);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
			z ^= z >> 31;
			memcpy(b + i, &z, 8);
		}
	}
	b[6] = (b[6] & 0x0f) | 0x40;	/* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	snprintf(out, QLOCK_ID_SIZE, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
}

static int
bad_batch(int64_t n, char *err)
{
	return seterr(err, "checkpoint: bad batch id %lld", (long long)n);
}

/* ---- metadata ---- */

/* A file body as NUL-terminated lines, for item_of(). */
static void
split_lines(char *body, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (body[i] == '\n')
			body[i] = '\0';
}

/* The value of "KEY=value" among len bytes of NUL-terminated lines. */
static const char *
item_of(const char *lines, size_t len, const char *key)
{
	size_t klen = strlen(key);

	for (size_t i = 0; i < len; i += strlen(lines + i) + 1)
		if (strncmp(lines + i, key, klen) == 0 &&
		    lines[i + klen] == '=')
			return lines + i + klen + 1;
	return NULL;
}

/* Parse the metadata body in place; check it is a format we read. */
static int
load_meta(struct checkpoint *ck, char *body, size_t len, char *err)
{
	const char *format, *id;

	split_lines(body, len);
	ck->meta = body;
	ck->meta_len = len;
	format = ckpt_meta(ck, "format");
	id = ckpt_meta(ck, "id");
	if (format == NULL || id == NULL || *id == '\0')
		return seterr(err, "checkpoint: '%s/metadata': no %s", ck->dir,
		    format == NULL ? "format" : "query id");
	if (strcmp(format, "1") != 0)
		return seterr(err, "checkpoint: '%s/metadata': format %s is "
		    "not supported (this runnel reads format %d)", ck->dir,
		    format, CKPT_FORMAT);
	return 0;
}

static int
read_meta(struct checkpoint *ck, char *err)
{
	char inner[ERRBUF_SIZE];
	size_t len;
	char *body;
	int r;

	r = af_read(pathf(ck, "metadata"), "metadata", &body, &len, inner);
	if (r < 0)
		return wrap(err, inner);
	if (r == 0)
		return 0;
	return load_meta(ck, body, len, err) < 0 ? -1 : 1;
}

static int
write_meta(struct checkpoint *ck, const char *pipeline, char *err)
{
	char id[QLOCK_ID_SIZE], when[TIMESTAMP_BUFSIZE], inner[ERRBUF_SIZE];
	struct strbuf sb;
	size_t start;
	int r;

	make_uuid(id);
	timestamp_format_iso(now_micros(), when);
	sb_init(&sb);
	sb_addf(&sb, "id=%s\nformat=%d\ncreated=%s\npipeline=", id,
	    CKPT_FORMAT, when);
	start = sb.len;
	sb_adds(&sb, pipeline ? pipeline : "");
	for (size_t i = start; i < sb.len; i++)
		if (sb.buf[i] == '\n' || sb.buf[i] == '\r')
			sb.buf[i] = ' ';
	sb_addc(&sb, '\n');
	r = af_write(pathf(ck, "metadata"), "metadata", sb.buf, sb.len, inner);
	if (r < 0) {
		sb_free(&sb);
		return wrap(err, inner);
	}
	/* Keep what we wrote as the loaded metadata. */
	return load_meta(ck, sb.buf, sb.len, err);
}

const char *
ckpt_meta(const struct checkpoint *ck, const char *key)
{
	return item_of(ck->meta, ck->meta_len, key);
}

const char *
ckpt_dir(const struct checkpoint *ck)
{
	return ck->dir;
}

const char *
ckpt_query_id(const struct checkpoint *ck)
{
	return ckpt_meta(ck, "id");
}

const char *
ckpt_run_id(const struct checkpoint *ck)
{
	return ck->run_id;
}

/* ---- opening ---- */

static struct checkpoint *
ck_new(const char *dir)
{
	struct checkpoint *ck = xcalloc(1, sizeof *ck);
	size_t n = strlen(dir);

	/* "DIR/" and "DIR" are the same checkpoint; keep messages tidy. */
	while (n > 1 && dir[n - 1] == '/')
		n--;
	ck->dir = xstrndup(dir, n);
	qlock_init(&ck->lock);
	sb_init(&ck->path);
	return ck;
}

void
ckpt_close(struct checkpoint *ck)
{
	if (ck == NULL)
		return;
	qlock_release(&ck->lock);
	free(ck->dir);
	free(ck->meta);
	sb_free(&ck->path);
	free(ck);
}

/* Without metadata, DIR may hold only what a creation that died left. */
static int
check_foreign(struct checkpoint *ck, char *err)
{
	static const char *const ours[] = { ".lock", ".lock-stages",
		"offsets", "commits", "state", "sources", ".", ".." };
	struct dirent *de;
	const char *bad = NULL;
	DIR *d;

	if ((d = open_dir(ck->dir)) == NULL)
		return dir_error(ck->dir, err);
	while (bad == NULL && (de = readdir(d)) != NULL) {
		size_t i;

		for (i = 0; i < sizeof ours / sizeof ours[0]; i++)
			if (strcmp(de->d_name, ours[i]) == 0)
				break;
		if (i == sizeof ours / sizeof ours[0] &&
		    !af_is_temp(de->d_name))
			bad = de->d_name;
	}
	if (bad != NULL)
		seterr(err, "checkpoint: '%s' is not a checkpoint directory "
		    "(it has '%s' and no metadata)", ck->dir, bad);
	closedir(d);
	return bad ? -1 : 0;
}

struct checkpoint *
ckpt_create(const char *dir, const char *pipeline, int wait, char *err)
{
	struct checkpoint *ck;
	int64_t *commits;
	size_t ncommits;
	int created = 0, r;

	if (*dir == '\0') {
		seterr(err, "checkpoint: empty directory name");
		return NULL;
	}
	ck = ck_new(dir);
	make_uuid(ck->run_id);
	/* Refuse a foreign directory before leaving lock files in it. */
	if (make_dirs(ck->dir, err) < 0 ||
	    (access(pathf(ck, "metadata"), F_OK) < 0 && errno == ENOENT &&
	    check_foreign(ck, err) < 0))
		goto fail;
	if (qlock_run(&ck->lock, ck->dir, ck->run_id, wait, err) < 0)
		goto fail;
	/* From here on, no other process writes in DIR. */
	for (size_t k = 0; k < 2; k++) {
		if ((r = make_dir(pathf(ck, "%s", flat_dirs[k]), err)) < 0)
			goto fail;
		created |= r;
		if ((r = make_dir(pathf(ck, "%s", nested_dirs[k]), err)) < 0)
			goto fail;
		created |= r;
	}
	if (created && sync_dir(ck->dir, err) < 0)
		goto fail;
	if (remove_temps(ck->dir, err) < 0 ||
	    remove_temps(pathf(ck, "offsets"), err) < 0 ||
	    remove_temps(pathf(ck, "commits"), err) < 0)
		goto fail;
	for (size_t k = 0; k < 2; k++) {
		char *base = xstrdup(pathf(ck, "%s", nested_dirs[k]));
		char **names;
		size_t n;

		r = list_subdirs(base, &names, &n, err);
		for (size_t i = 0; i < n && r == 0; i++)
			r = remove_temps(pathf(ck, "%s/%s", nested_dirs[k],
			    names[i]), err);
		free_names(names, n);
		free(base);
		if (r < 0)
			goto fail;
	}
	if ((r = read_meta(ck, err)) < 0)
		goto fail;
	if (r == 0) {
		/* A query id lost with commits in place: a transactional
		 * sink keyed on the id could not recognise its batches. */
		if (list_batches(pathf(ck, "commits"), &commits, &ncommits,
		    err) < 0)
			goto fail;
		free(commits);
		if (ncommits > 0) {
			seterr(err, "checkpoint: '%s/metadata' is missing but "
			    "the checkpoint has commits", ck->dir);
			goto fail;
		}
		if (write_meta(ck, pipeline, err) < 0)
			goto fail;
	}
	return ck;
fail:
	ckpt_close(ck);
	return NULL;
}

struct checkpoint *
ckpt_join(const char *dir, const char *run_id, char *err)
{
	struct checkpoint *ck;
	struct stat st;
	int r;

	if (run_id == NULL || *run_id == '\0') {
		seterr(err, "checkpoint: no run id for '%s' (the header has "
		    "no @run)", dir);
		return NULL;
	}
	ck = ck_new(dir);
	if (stat(ck->dir, &st) < 0) {
		seterr(err, "checkpoint: '%s': %s", ck->dir, strerror(errno));
		goto fail;
	}
	snprintf(ck->run_id, sizeof ck->run_id, "%s", run_id);
	if (qlock_join(&ck->lock, ck->dir, run_id, err) < 0)
		goto fail;
	if ((r = read_meta(ck, err)) < 0)
		goto fail;
	if (r == 0) {
		seterr(err, "checkpoint: '%s/metadata' is missing: not a "
		    "checkpoint directory", ck->dir);
		goto fail;
	}
	return ck;
fail:
	ckpt_close(ck);
	return NULL;
}

/* ---- recovery ---- */

/* Is this framed file good?  1 yes, 0 absent, -1 damaged (err says). */
static int
check_file(const char *path, const char *kind, char *err)
{
	size_t len;
	char *body;
	int r;

	r = af_read(path, kind, &body, &len, err);
	free(body);
	return r;
}

/*
 * Is batch N's commit usable: commits/N and every existing state/S/N
 * good?  1 yes, 0 no with bad (ERRBUF_SIZE) naming the file, -1 on an
 * error that is not about a damaged file.
 */
static int
commit_usable(struct checkpoint *ck, int64_t n, char **stages,
    size_t nstages, char *bad)
{
	int r;

	r = check_file(pathf(ck, "commits/%lld", (long long)n), "commit", bad);
	if (r == 0)
		seterr(bad, "'%s': missing", ck->path.buf);
	if (r <= 0)
		return 0;
	for (size_t i = 0; i < nstages; i++) {
		r = check_file(pathf(ck, "state/%s/%lld", stages[i],
		    (long long)n), "state", bad);
		if (r < 0)
			return 0;
	}
	return 1;
}

int
ckpt_last_commit(struct checkpoint *ck, int64_t *c, char *warn, char *err)
{
	char bad[ERRBUF_SIZE], first[ERRBUF_SIZE];
	int64_t *commits;
	size_t ncommits, nstages;
	char **stages;
	ssize_t i;
	int rc = 0;

	*c = -1;
	first[0] = '\0';
	if (warn != NULL)
		warn[0] = '\0';
	if (list_batches(pathf(ck, "commits"), &commits, &ncommits, err) < 0)
		return -1;
	if (list_subdirs(pathf(ck, "state"), &stages, &nstages, err) < 0) {
		free(commits);
		return -1;
	}
	for (i = (ssize_t)ncommits - 1; i >= 0; i--) {
		int64_t n = commits[i];
		char inner[ERRBUF_SIZE];
		int off;

		if (commit_usable(ck, n, stages, nstages, bad)) {
			*c = n;
			break;
		}
		/* Fall back to N-1 only if N can be replayed exactly and
		 * N-1 is a commit to fall back to. */
		off = check_file(pathf(ck, "offsets/%lld", (long long)n),
		    "offsets", inner);
		if (off != 1 ||
		    (n > 0 && (i == 0 || commits[i - 1] != n - 1))) {
			rc = wrap(err, bad);
			break;
		}
		if (first[0] == '\0')
			snprintf(first, sizeof first, "%s", bad);
	}
	if (rc == 0 && first[0] != '\0')
		seterr(warn, "checkpoint: %s; replaying from batch %lld", first,
		    (long long)(*c + 1));
	free(commits);
	free_names(stages, nstages);
	return rc;
}

int
ckpt_read_offsets(struct checkpoint *ck, int64_t n, char **body,
    size_t *len, char *err)
{
	char inner[ERRBUF_SIZE];
	int r;

	r = af_read(pathf(ck, "offsets/%lld", (long long)n), "offsets", body,
	    len, inner);
	return r < 0 ? wrap(err, inner) : r;
}

int
ckpt_resume(struct checkpoint *ck, struct ckpt_resume *r, char *err)
{
	int64_t c, keep;
	int got;

	memset(r, 0, sizeof *r);
	if (ckpt_last_commit(ck, &c, r->warn, err) < 0)
		return -1;
	r->commit = c;
	got = ckpt_read_offsets(ck, c + 1, &r->replay, &r->replay_len, err);
	if (got < 0)
		goto fail;
	if (got == 0 && c >= 0) {
		got = ckpt_read_offsets(ck, c, &r->last, &r->last_len, err);
		if (got < 0)
			goto fail;
		if (got == 0) {
			seterr(err, "checkpoint: '%s/offsets/%lld' is missing: "
			    "cannot tell where batch %lld starts", ck->dir,
			    (long long)c, (long long)(c + 1));
			goto fail;
		}
	}
	/* Rule 4: nothing newer than C is committed, and nothing newer than
	 * C+1 can be visible anywhere: those plans go. */
	keep = r->replay != NULL ? c + 1 : c;
	if (remove_all_batches(ck, c + 1, INT64_MAX, keep + 1, INT64_MAX,
	    err) < 0)
		goto fail;
	return 0;
fail:
	ckpt_resume_free(r);
	return -1;
}

void
ckpt_resume_free(struct ckpt_resume *r)
{
	free(r->replay);
	free(r->last);
	r->replay = r->last = NULL;
	r->replay_len = r->last_len = 0;
}

/* ---- per batch ---- */

static int
write_file(struct checkpoint *ck, const char *path, const char *kind,
    const void *body, size_t len, char *err)
{
	char inner[ERRBUF_SIZE];

	if (af_write(path, kind, body, len, inner) < 0)
		return wrap(err, inner);
	return 0;
}

int
ckpt_write_offsets(struct checkpoint *ck, int64_t n, const void *body,
    size_t len, char *err)
{
	if (n < 0)
		return bad_batch(n, err);
	return write_file(ck, pathf(ck, "offsets/%lld", (long long)n),
	    "offsets", body, len, err);
}

/* Make DIR/top/name if needed (a stage's or source's directory). */
static int
sub_dir(struct checkpoint *ck, const char *top, const char *name, char *err)
{
	int r;

	if (!name_ok(name))
		return seterr(err, "checkpoint: bad %s name '%s'",
		    strcmp(top, "state") == 0 ? "stage" : "source", name);
	r = make_dir(pathf(ck, "%s/%s", top, name), err);
	if (r == 1 && sync_dir(pathf(ck, "%s", top), err) < 0)
		return -1;
	return r < 0 ? -1 : 0;
}

int
ckpt_write_state(struct checkpoint *ck, const char *stage, int64_t n,
    const char *config, const void *blob, size_t len, char *err)
{
	struct strbuf sb;
	int rc;

	if (n < 0)
		return bad_batch(n, err);
	if (strchr(config, '\n') != NULL)
		return seterr(err, "checkpoint: stage config has a newline");
	if (sub_dir(ck, "state", stage, err) < 0)
		return -1;
	/* The config line goes first, the stage's bytes after it: one file,
	 * one checksum, so state and config cannot disagree.  This copies
	 * the blob once; a writev-based af_write would avoid it if large
	 * states make that matter. */
	sb_init(&sb);
	sb_addf(&sb, "config=%s\n", config);
	sb_add(&sb, blob, len);
	rc = write_file(ck, pathf(ck, "state/%s/%lld", stage, (long long)n),
	    "state", sb.buf, sb.len, err);
	sb_free(&sb);
	return rc;
}

/* Find key (up to '=' or the end of the word) in a config string. */
static const char *
config_find(const char *cfg, const char *key, size_t klen, size_t *wlen)
{
	const char *p = cfg;

	while (*p) {
		size_t n = strcspn(p, " ");
		size_t k = strcspn(p, "= ");

		if (k == klen && strncmp(p, key, klen) == 0) {
			*wlen = n;
			return p;
		}
		p += n;
		p += strspn(p, " ");
	}
	return NULL;
}

/* Describe one side of a key: "'value'", "set" (a bare word), "unset". */
static void
describe(struct strbuf *sb, const char *word, size_t wlen, size_t klen)
{
	if (word == NULL)
		sb_adds(sb, "unset");
	else if (wlen == klen)
		sb_adds(sb, "set");
	else
		sb_addf(sb, "'%.*s'", (int)(wlen - klen - 1), word + klen + 1);
}

/* "keys was 'word', now 'word,lang'; mode was unset, now 'append'". */
static void
config_diff(struct strbuf *sb, const char *old, const char *new)
{
	const char *sides[2] = { old, new };

	for (int side = 0; side < 2; side++) {
		const char *p = sides[side];

		while (*p) {
			size_t n = strcspn(p, " "), k = strcspn(p, "= ");
			size_t ow = 0, nw = 0;
			const char *o = config_find(old, p, k, &ow);
			const char *w = config_find(new, p, k, &nw);

			/* Keys of new that old has were seen on side 0. */
			if ((side == 0 || o == NULL) &&
			    (o == NULL || w == NULL || ow != nw ||
			    memcmp(o, w, ow) != 0)) {
				if (sb->len > 0)
					sb_adds(sb, "; ");
				sb_add(sb, p, k);
				sb_adds(sb, " was ");
				describe(sb, o, ow, k);
				sb_adds(sb, ", now ");
				describe(sb, w, nw, k);
			}
			p += n;
			p += strspn(p, " ");
		}
	}
	if (sb->len == 0)	/* same words, different spacing or order */
		sb_addf(sb, "config was '%s', now '%s'", old, new);
}

int
ckpt_read_state(struct checkpoint *ck, const char *stage, int64_t n,
    const char *config, char **blob, size_t *len, char *err)
{
	char inner[ERRBUF_SIZE];
	const char *path;
	size_t blen, clen;
	char *body, *nl;
	int r;

	*blob = NULL;
	*len = 0;
	if (n < 0)
		return 0;
	if (!name_ok(stage))
		return seterr(err, "checkpoint: bad stage name '%s'", stage);
	path = pathf(ck, "state/%s/%lld", stage, (long long)n);
	r = af_read(path, "state", &body, &blen, inner);
	if (r < 0)
		return wrap(err, inner);
	if (r == 0)
		return seterr(err, "checkpoint: '%s' is missing: the "
		    "checkpoint has no state for this stage (was it added to "
		    "the query after the checkpoint was made?)", path);
	nl = memchr(body, '\n', blen);
	if (nl == NULL || strncmp(body, "config=", 7) != 0) {
		free(body);
		return seterr(err, "checkpoint: '%s': no config line", path);
	}
	*nl = '\0';
	if (strcmp(body + 7, config) != 0) {
		struct strbuf why;

		sb_init(&why);
		config_diff(&why, body + 7, config);
		seterr(err, "checkpoint: '%s': the query changed in a way its "
		    "state cannot follow: %s (use a new checkpoint directory)",
		    path, why.buf);
		sb_free(&why);
		free(body);
		return -1;
	}
	/* Hand back the bytes after the config line, in place. */
	clen = (size_t)(nl - body) + 1;
	memmove(body, body + clen, blen - clen);
	body[blen - clen] = '\0';
	*blob = body;
	*len = blen - clen;
	return 1;
}

int
ckpt_commit(struct checkpoint *ck, int64_t n, const char *sink, char *err)
{
	char when[TIMESTAMP_BUFSIZE];
	struct strbuf body;
	int rc;

	if (n < 0)
		return bad_batch(n, err);
	if (sink != NULL && strchr(sink, '\n') != NULL)
		return seterr(err, "checkpoint: a sink position is one line");
	timestamp_format_iso(now_micros(), when);
	sb_init(&body);
	sb_addf(&body, "batch=%lld\nrun=%s\ntime=%s\n", (long long)n,
	    ck->run_id, when);
	if (sink != NULL)
		sb_addf(&body, "sink=%s\n", sink);
	rc = write_file(ck, pathf(ck, "commits/%lld", (long long)n),
	    "commit", body.buf, body.len, err);
	sb_free(&body);
	return rc;
}

int
ckpt_read_commit_sink(struct checkpoint *ck, int64_t n, char **sink,
    char *err)
{
	char inner[ERRBUF_SIZE], *body;
	const char *value;
	size_t len;
	int r;

	*sink = NULL;
	if (n < 0)
		return 0;
	r = af_read(pathf(ck, "commits/%lld", (long long)n), "commit", &body,
	    &len, inner);
	if (r <= 0)
		return r < 0 ? wrap(err, inner) : 0;
	split_lines(body, len);
	if ((value = item_of(body, len, "sink")) != NULL)
		*sink = xstrdup(value);
	free(body);
	return *sink != NULL;
}

int
ckpt_prune(struct checkpoint *ck, int64_t c, int retain, char *err)
{
	if (retain < 1)
		return seterr(err, "checkpoint: retain must be at least 1");
	if (c - retain < 0)
		return 0;
	return remove_all_batches(ck, 0, c - retain, 0, c - retain, err);
}

/* ---- a source's own files ---- */

int
ckpt_write_source(struct checkpoint *ck, const char *source,
    const char *name, const void *body, size_t len, char *err)
{
	if (!name_ok(name))
		return seterr(err, "checkpoint: bad source file name '%s'",
		    name);
	if (sub_dir(ck, "sources", source, err) < 0)
		return -1;
	return write_file(ck, pathf(ck, "sources/%s/%s", source, name),
	    "source", body, len, err);
}

int
ckpt_read_source(struct checkpoint *ck, const char *source,
    const char *name, char **body, size_t *len, char *err)
{
	char inner[ERRBUF_SIZE];
	int r;

	*body = NULL;
	*len = 0;
	if (!name_ok(source) || !name_ok(name))
		return seterr(err, "checkpoint: bad source file name '%s/%s'",
		    source, name);
	r = af_read(pathf(ck, "sources/%s/%s", source, name), "source", body,
	    len, inner);
	return r < 0 ? wrap(err, inner) : r;
}

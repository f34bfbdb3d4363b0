/*
 * tailer.c: follow a growing file across rotation (see tailer.h for the
 * contract).
 *
 * Invariants: buf[start, end) holds bytes read from fd and not yet
 * returned; `consumed` is the file offset of buf[start], so the read offset
 * of fd is consumed + (end - start).  buf[start, start + scanned) is known
 * to hold no newline, so a long partial line is not searched again on
 * every read.  inotify events are only wake-ups: whatever they say, the
 * tailer looks at the file and PATH again (two stats), which is simpler and
 * cannot be led astray by lost or coalesced events.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "tailer.h"

#define CHUNK		(64 * 1024)
#define EVBUF_SIZE	(16 * 1024)
/* While far behind, look at PATH every this many bytes read, so that two
 * rotations during a long read do not hide the file in between. */
#define PEEK_BYTES	(1024 * 1024)

struct tailer {
	char *path, *dir;	/* PATH and its directory */
	const char *base;	/* PATH's name, in path */
	size_t max_line;
	int64_t poll_us;

	int fd;			/* the file being read, -1 when none */
	uint64_t dev, ino;	/* of fd */
	int64_t consumed;	/* file offset of buf[start] */
	char *buf;
	size_t start, end, cap, scanned;
	int next_fd;		/* PATH's newer file once seen, or -1 */
	uint64_t next_dev, next_ino;
	bool next_full;		/* next_fd had data when last looked at */
	bool flush;		/* fd is finished: its rest is a line */
	int64_t since_peek;	/* bytes read since PATH was looked at */

	int ifd, dir_wd, file_wd, next_wd;
	char *evbuf;
};

/* Empty the buffer (nothing in it will be returned). */
static void
buf_reset(struct tailer *t, int64_t offset)
{
	t->start = t->end = t->scanned = 0;
	t->consumed = offset;
}

static void
watch_dir(struct tailer *t)
{
	if (t->ifd < 0 || t->dir_wd >= 0)
		return;
	/* Names coming and going only: writes are watched on the files
	 * themselves, so writes to the other files of a busy log
	 * directory do not wake us. */
	t->dir_wd = inotify_add_watch(t->ifd, t->dir, IN_CREATE |
	    IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_DELETE_SELF |
	    IN_MOVE_SELF | IN_ONLYDIR);
}

/* A watch on exactly the file open as fd, through /proc (PATH may
 * already name another file); -1 if that cannot be had. */
static int
watch_fd(struct tailer *t, int fd, uint32_t mask)
{
	char proc[64];

	snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
	return inotify_add_watch(t->ifd, proc, mask);
}

/* Watch the file being read: writes to it wake us up, also once it has
 * been renamed away.  (If it was the next file, the kernel hands back
 * that file's watch, with this mask.) */
static void
watch_file(struct tailer *t)
{
	if (t->ifd < 0)
		return;
	if (t->file_wd >= 0)
		inotify_rm_watch(t->ifd, t->file_wd);	/* may be gone */
	t->file_wd = watch_fd(t, t->fd, IN_MODIFY | IN_ATTRIB |
	    IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF);
}

/* Make fd (already open on file st) the file being read, from offset. */
static int
use_file(struct tailer *t, int fd, const struct stat *st, int64_t offset,
    const char *name, char *err)
{
	if (offset > 0 && lseek(fd, offset, SEEK_SET) < 0) {
		seterr(err, "cannot seek '%s': %s", name, strerror(errno));
		close(fd);
		return -1;
	}
	if (t->fd >= 0)
		close(t->fd);
	t->fd = fd;
	t->dev = st->st_dev;
	t->ino = st->st_ino;
	t->flush = false;
	t->since_peek = 0;
	buf_reset(t, offset);
	watch_file(t);
	return 0;
}

/* Open path; 1 when opened, 0 when it is missing, -1 on another error. */
static int
open_file(const char *path, int *fd, struct stat *st, char *err)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return seterr(err, "cannot open '%s': %s", path,
		    strerror(errno));
	}
	if (fstat(*fd, st) != 0) {
		int e = errno;

		close(*fd);
		return seterr(err, "cannot stat '%s': %s", path, strerror(e));
	}
	if (!S_ISREG(st->st_mode)) {
		close(*fd);
		return seterr(err, S_ISDIR(st->st_mode) ?
		    "'%s' is a directory" : "'%s' is not a regular file",
		    path);
	}
	return 1;
}

/* Offset just after the last newline of fd (size bytes), 0 if none. */
static int64_t
last_line_end(int fd, int64_t size)
{
	char b[4096];
	int64_t pos = size;

	while (pos > 0) {
		size_t n = pos < (int64_t)sizeof b ? (size_t)pos : sizeof b;
		ssize_t r = pread(fd, b, n, pos - (int64_t)n);

		if (r != (ssize_t)n)
			return 0;
		for (size_t i = n; i > 0; i--)
			if (b[i - 1] == '\n')
				return pos - (int64_t)n + (int64_t)i;
		pos -= (int64_t)n;
	}
	return 0;
}

/* Resume: the file with inode (dev, ino) in PATH's directory, if any. */
static int
find_inode(const struct tailer *t, uint64_t dev, uint64_t ino)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	int fd = -1;

	if (d == NULL)
		return -1;
	while (fd < 0 && (de = readdir(d)) != NULL) {
		struct stat st;

		if (de->d_ino != ino || fstatat(dirfd(d), de->d_name, &st,
		    AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode) && st.st_ino == ino &&
		    st.st_dev == dev)
			fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
	}
	closedir(d);
	return fd;
}

/* Read one chunk into buf: >0 bytes, 0 at end of file, -1 error. */
static ssize_t
read_more(struct tailer *t, char *err)
{
	ssize_t n;

	if (t->cap - t->end < CHUNK && t->start > 0) {
		memmove(t->buf, t->buf + t->start, t->end - t->start);
		t->end -= t->start;
		t->start = 0;
	}
	if (t->cap - t->end < CHUNK) {
		if (t->end - t->start > t->max_line)
			return seterr(err, "'%s': line longer than %zu "
			    "bytes at offset %lld", t->path, t->max_line,
			    (long long)t->consumed);
		t->cap = t->cap * 2 < t->end + CHUNK ? t->end + CHUNK :
		    t->cap * 2;
		t->buf = xrealloc(t->buf, t->cap);
	}
	do
		n = read(t->fd, t->buf + t->end, t->cap - t->end);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return seterr(err, "cannot read '%s': %s", t->path,
		    strerror(errno));
	t->end += (size_t)n;
	return n;
}

/* Discard queued inotify events, noting watches that went away. */
static void
drain_events(struct tailer *t)
{
	ssize_t n;

	if (t->ifd < 0)
		return;
	while ((n = read(t->ifd, t->evbuf, EVBUF_SIZE)) > 0 ||
	    (n < 0 && errno == EINTR)) {
		for (char *p = t->evbuf; n > 0 && p < t->evbuf + n;) {
			const struct inotify_event *ev = (const void *)p;

			p += sizeof *ev + ev->len;
			if (!(ev->mask & IN_IGNORED))
				continue;
			if (ev->wd == t->dir_wd)
				t->dir_wd = -1;
			if (ev->wd == t->file_wd)
				t->file_wd = -1;
			if (ev->wd == t->next_wd)
				t->next_wd = -1;
		}
	}
}

/*
 * Look at PATH while reading fd.  A file there other than fd is the next
 * one: keep it open (so that it cannot be rotated away unseen), and note
 * whether it has data, which means its writer has moved on from fd.  An
 * empty next file is replaced if PATH changes again; one with data is kept
 * until read, and what PATH holds then comes after it.
 */
static int
peek(struct tailer *t, char *err)
{
	struct stat st;
	int fd, r;

	t->since_peek = 0;
	if (stat(t->path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_dev == t->dev && st.st_ino == t->ino))
		return 0;
	if (t->next_fd < 0 || (!t->next_full && (st.st_dev != t->next_dev ||
	    st.st_ino != t->next_ino))) {
		if ((r = open_file(t->path, &fd, &st, err)) < 0)
			return -1;
		if (r == 0)
			return 0;
		if (st.st_dev == t->dev && st.st_ino == t->ino) {
			close(fd);	/* renamed back meanwhile */
			return 0;
		}
		if (t->next_fd >= 0)
			close(t->next_fd);
		if (t->next_wd >= 0)
			inotify_rm_watch(t->ifd, t->next_wd);
		t->next_fd = fd;
		t->next_dev = st.st_dev;
		t->next_ino = st.st_ino;
		/* Its first write is what lets us switch. */
		t->next_wd = t->ifd < 0 ? -1 : watch_fd(t, fd, IN_MODIFY);
	} else if (fstat(t->next_fd, &st) != 0) {
		return seterr(err, "cannot stat '%s': %s", t->path,
		    strerror(errno));
	}
	t->next_full = st.st_size > 0;
	return 0;
}

/*
 * At the end of the data: the file shrank below what was read
 * (copytruncate): read it again from 0.  Then look at PATH for a next
 * file; with no file yet, open PATH if it is there now.
 */
static int
check(struct tailer *t, char *err)
{
	struct stat st;
	int fd;

	drain_events(t);
	watch_dir(t);		/* again, if the directory was missing */
	if (t->fd >= 0) {
		if (fstat(t->fd, &st) != 0)
			return seterr(err, "cannot stat '%s': %s", t->path,
			    strerror(errno));
		if (st.st_size < t->consumed + (int64_t)(t->end - t->start)) {
			if (lseek(t->fd, 0, SEEK_SET) < 0)
				return seterr(err, "cannot seek '%s': %s",
				    t->path, strerror(errno));
			buf_reset(t, 0);
			return 0;
		}
		return peek(t, err);
	}
	switch (open_file(t->path, &fd, &st, err)) {
	case 0:
		return 0;
	case 1:
		return use_file(t, fd, &st, 0, t->path, err);
	default:
		return -1;
	}
}

/* fd is finished: move to the next file, from its start. */
static int
switch_file(struct tailer *t, char *err)
{
	struct stat st;
	int fd = t->next_fd;

	t->next_fd = -1;
	t->next_wd = -1;	/* becomes the file watch in use_file() */
	t->next_full = false;
	if (fstat(fd, &st) != 0) {
		seterr(err, "cannot stat '%s': %s", t->path, strerror(errno));
		close(fd);
		return -1;
	}
	return use_file(t, fd, &st, 0, t->path, err);
}

/* Is a line ready at buf[start]?  Sets *len (without the newline). */
static bool
have_line(struct tailer *t, size_t *len)
{
	char *nl = memchr(t->buf + t->start + t->scanned, '\n',
	    t->end - t->start - t->scanned);

	if (nl) {
		*len = (size_t)(nl - (t->buf + t->start));
		return true;
	}
	t->scanned = t->end - t->start;
	return false;
}

/*
 * Make a line ready if one can be had without blocking: 1 when a complete
 * line is at buf[start] (or the finished rest of a rotated file, with
 * `flush`), 0 when not, -1 on error.
 */
static int
fill(struct tailer *t, char *err)
{
	bool checked = false;
	size_t len;

	for (;;) {
		ssize_t n;

		if (t->end > t->start && have_line(t, &len))
			return 1;
		if (t->flush) {
			if (t->end > t->start)
				return 1;
			if (switch_file(t, err) < 0)
				return -1;
			continue;
		}
		if (t->fd >= 0) {
			if ((n = read_more(t, err)) < 0)
				return -1;
			if (n > 0) {
				t->since_peek += n;
				if (t->since_peek >= PEEK_BYTES &&
				    peek(t, err) < 0)
					return -1;
				continue;
			}
			if (t->next_full) {
				/* The next file had data before this read
				 * found the end: fd is complete. */
				t->flush = true;
				continue;
			}
		}
		if (checked)
			return 0;
		checked = true;
		if (check(t, err) < 0)
			return -1;
	}
}

int
tailer_next(struct tailer *t, const char **line, size_t *len, char *err)
{
	int r = fill(t, err);
	size_t n;

	if (r <= 0)
		return r;
	*line = t->buf + t->start;
	if (have_line(t, &n)) {
		*len = n;
		n++;
	} else {		/* flush: the rest of a finished file */
		n = *len = t->end - t->start;
	}
	t->start += n;
	t->consumed += (int64_t)n;
	t->scanned = 0;
	return 1;
}

int
tailer_fd(const struct tailer *t)
{
	return t->ifd;
}

bool
tailer_polling(const struct tailer *t)
{
	return t->ifd < 0;
}

int64_t
tailer_timeout(const struct tailer *t)
{
	/* A watch we could not have (no directory yet, no /proc): poll. */
	return t->ifd < 0 || t->dir_wd < 0 || (t->fd >= 0 &&
	    t->file_wd < 0) || (t->next_fd >= 0 && t->next_wd < 0) ?
	    t->poll_us : -1;
}

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
tailer_wait(struct tailer *t, int64_t timeout_us, char *err)
{
	int64_t deadline = timeout_us < 0 ? -1 : mono_us() + timeout_us;

	for (;;) {
		int r = fill(t, err);
		int64_t w = tailer_timeout(t), now = mono_us();
		struct pollfd pfd = { .fd = t->ifd, .events = POLLIN };
		int ms;

		if (r != 0)
			return r;
		if (deadline >= 0) {
			if (now >= deadline)
				return 0;
			if (w < 0 || deadline - now < w)
				w = deadline - now;
		}
		ms = w < 0 ? -1 : w > INT_MAX / 2 * INT64_C(1000) ?
		    INT_MAX / 2 : (int)((w + 999) / 1000);
		if (poll(t->ifd >= 0 ? &pfd : NULL, t->ifd >= 0, ms) < 0) {
			if (errno == EINTR)
				return 0;
			return seterr(err, "poll: %s", strerror(errno));
		}
	}
}

void
tailer_position(const struct tailer *t, struct tailer_pos *pos)
{
	pos->dev = t->fd >= 0 ? t->dev : 0;
	pos->ino = t->fd >= 0 ? t->ino : 0;
	pos->offset = t->fd >= 0 ? t->consumed : 0;
}

/* Open at the start position the options ask for. */
static int
start(struct tailer *t, const struct tailer_opts *o, char *err)
{
	struct stat st;
	int fd, r = open_file(t->path, &fd, &st, err);
	const struct tailer_pos *p = o->resume;

	if (r < 0)
		return -1;
	if (p && p->ino != 0 && (r == 0 || st.st_dev != p->dev ||
	    st.st_ino != p->ino)) {
		/* Rotated while we were away: finish the old file first. */
		int old = find_inode(t, p->dev, p->ino);
		struct stat ost;

		if (old >= 0 && fstat(old, &ost) == 0) {
			if (r == 1)
				close(fd);
			return use_file(t, old, &ost, ost.st_size < p->offset ?
			    0 : p->offset, t->path, err);
		}
		if (old >= 0)
			close(old);
		/* The old file is gone: read PATH from its start. */
		if (r == 0)
			return 0;
		return use_file(t, fd, &st, 0, t->path, err);
	}
	if (r == 0)
		return 0;
	if (p && p->ino != 0)
		return use_file(t, fd, &st, st.st_size < p->offset ? 0 :
		    p->offset, t->path, err);
	if (p == NULL && o->from_end)
		return use_file(t, fd, &st, last_line_end(fd, st.st_size),
		    t->path, err);
	return use_file(t, fd, &st, 0, t->path, err);
}

struct tailer *
tailer_open(const char *path, const struct tailer_opts *opts, char *err)
{
	static const struct tailer_opts defaults;
	struct tailer *t;
	const char *env = getenv("RUNNEL_FORCE_POLL");
	const char *slash;

	if (opts == NULL)
		opts = &defaults;
	if (path[0] == '\0') {
		seterr(err, "empty file name");
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->path = xstrdup(path);
	slash = strrchr(t->path, '/');
	if (slash == NULL) {
		t->dir = xstrdup(".");
		t->base = t->path;
	} else {
		t->dir = slash == t->path ? xstrdup("/") :
		    xstrndup(t->path, (size_t)(slash - t->path));
		t->base = slash + 1;
	}
	t->max_line = opts->max_line ? opts->max_line : 64 << 20;
	t->poll_us = opts->poll_us > 0 ? opts->poll_us : 1000000;
	t->fd = t->next_fd = t->ifd = t->dir_wd = t->file_wd = t->next_wd = -1;
	t->cap = CHUNK * 2;
	t->buf = xmalloc(t->cap);
	if (t->base[0] == '\0') {
		seterr(err, "'%s' is a directory", path);
		tailer_close(t);
		return NULL;
	}
	if (!opts->force_poll && !(env && strcmp(env, "1") == 0)) {
		t->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (t->ifd >= 0)
			t->evbuf = xmalloc(EVBUF_SIZE);
	}
	/* Watch before looking, so a file created in between wakes us. */
	watch_dir(t);
	if (start(t, opts, err) < 0) {
		tailer_close(t);
		return NULL;
	}
	return t;
}

void
tailer_close(struct tailer *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	if (t->next_fd >= 0)
		close(t->next_fd);
	if (t->ifd >= 0)
		close(t->ifd);
	free(t->evbuf);
	free(t->buf);
	free(t->dir);
	free(t->path);
	free(t);
}

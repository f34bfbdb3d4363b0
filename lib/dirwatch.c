/*
 * dirwatch.c: new files of a directory, each once, oldest first (see
 * dirwatch.h for the contract).
 *
 * One hash table, keyed by name, holds every file the watch knows: taken
 * ones (forever, so a name is never handed out twice), ready ones (waiting
 * for dirwatch_next()), ones inotify saw created and not yet closed
 * (writing), and ones a scan found that must settle first.  Ready files are
 * sorted only when dirwatch_next() is called: arrivals are cheap, and the
 * order is recomputed with every file that arrived in between, as Spark's
 * re-listing does.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
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
#include "dirwatch.h"

enum state { ST_TAKEN, ST_READY, ST_WRITING, ST_SETTLING };

struct entry {
	struct entry *next;	/* hash chain */
	uint64_t hash;
	unsigned gen;		/* the scan that last saw it */
	unsigned char state;
	int64_t mtime_ns, size;
	uint64_t dev, ino;
	int64_t sig_since;	/* monotonic us: signature last changed */
	char name[];
};

struct dirwatch {
	char *dir;		/* as given, trailing slashes dropped */
	char *pattern;
	bool latest_first;
	int64_t poll_us, settle_us;

	int ifd, wd;		/* inotify, or -1 when polling */
	char *evbuf;
	bool rescan;		/* an event asked for a rescan */
	bool overflowed;	/* ... because events were lost */

	struct entry **bucket;
	size_t nbucket, nentry;
	size_t nready, nsettling;
	unsigned gen;

	int64_t next_poll;	/* monotonic us (polling) */
	struct stat dirst;	/* DIR as of the last poll */
	bool confirm;		/* rescan once more after a change */
	int64_t settle_due;	/* monotonic us, when nsettling > 0 */

	struct entry **sortbuf;
	size_t sortcap;
};

#define EVBUF_SIZE (64 * 1024)

static int64_t
mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t
hash_name(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
	return h;
}

/* The Spark rules for names a file source ignores, plus the pattern. */
static bool
eligible(const struct dirwatch *dw, const char *name)
{
	size_t n = strlen(name);
	static const char copying[] = "._COPYING_";

	if (name[0] == '.' || name[0] == '_')
		return false;
	if (n >= sizeof copying - 1 &&
	    strcmp(name + n - (sizeof copying - 1), copying) == 0)
		return false;
	return dw->pattern == NULL || fnmatch(dw->pattern, name, 0) == 0;
}

static struct entry *
lookup(const struct dirwatch *dw, const char *name, uint64_t h)
{
	struct entry *e;

	for (e = dw->bucket[h & (dw->nbucket - 1)]; e; e = e->next)
		if (e->hash == h && strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

static void
grow_table(struct dirwatch *dw)
{
	size_t n = dw->nbucket * 2;
	struct entry **b = xcalloc(n, sizeof *b);

	for (size_t i = 0; i < dw->nbucket; i++) {
		struct entry *e = dw->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(dw->bucket);
	dw->bucket = b;
	dw->nbucket = n;
}

/* Add a new entry in state TAKEN; the caller sets it up. */
static struct entry *
insert(struct dirwatch *dw, const char *name, uint64_t h)
{
	size_t len = strlen(name);
	struct entry *e = xcalloc(1, sizeof *e + len + 1);

	if (dw->nentry >= dw->nbucket)
		grow_table(dw);
	memcpy(e->name, name, len + 1);
	e->hash = h;
	e->state = ST_TAKEN;
	e->next = dw->bucket[h & (dw->nbucket - 1)];
	dw->bucket[h & (dw->nbucket - 1)] = e;
	dw->nentry++;
	return e;
}

/* Move e to state s, keeping the counters right. */
static void
set_state(struct dirwatch *dw, struct entry *e, enum state s)
{
	if (e->state == ST_READY)
		dw->nready--;
	else if (e->state == ST_SETTLING)
		dw->nsettling--;
	e->state = (unsigned char)s;
	if (s == ST_READY)
		dw->nready++;
	else if (s == ST_SETTLING)
		dw->nsettling++;
}

static void
remove_entry(struct dirwatch *dw, struct entry *e)
{
	struct entry **p = &dw->bucket[e->hash & (dw->nbucket - 1)];

	while (*p != e)
		p = &(*p)->next;
	*p = e->next;
	set_state(dw, e, ST_TAKEN);
	dw->nentry--;
	free(e);
}

/* Record what stat says; a changed signature restarts settling. */
static void
set_sig(struct entry *e, const struct stat *st, int64_t now)
{
	int64_t mt = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;

	if (e->mtime_ns != mt || e->size != (int64_t)st->st_size ||
	    e->ino != (uint64_t)st->st_ino || e->dev != (uint64_t)st->st_dev)
		e->sig_since = now;
	e->mtime_ns = mt;
	e->size = st->st_size;
	e->ino = st->st_ino;
	e->dev = st->st_dev;
}

/* Find or add a file that is not taken; NULL if it is taken. */
static struct entry *
upsert(struct dirwatch *dw, const char *name, const struct stat *st,
    enum state fresh, int64_t now)
{
	uint64_t h = hash_name(name);
	struct entry *e = lookup(dw, name, h);

	if (e && e->state == ST_TAKEN)
		return NULL;
	if (e == NULL) {
		e = insert(dw, name, h);
		e->sig_since = now;
		set_state(dw, e, fresh);
	}
	set_sig(e, st, now);
	e->gen = dw->gen;
	return e;
}

/* stat name in DIR, following symlinks; 0 when it is a regular file. */
static int
stat_file(const struct dirwatch *dw, int dfd, const char *name,
    struct stat *st)
{
	char path[PATH_MAX];

	if (dfd >= 0)
		return fstatat(dfd, name, st, 0) == 0 && S_ISREG(st->st_mode) ?
		    0 : -1;
	if (snprintf(path, sizeof path, "%s/%s", dw->dir, name) >=
	    (int)sizeof path)
		return -1;
	return stat(path, st) == 0 && S_ISREG(st->st_mode) ? 0 : -1;
}

/* Settled: old enough, or unchanged for settle_us. */
static void
settle_pass(struct dirwatch *dw, int64_t now)
{
	int64_t real = real_ns(), due = INT64_MAX;

	if (dw->nsettling == 0)
		return;
	for (size_t i = 0; i < dw->nbucket; i++) {
		struct entry *e = dw->bucket[i], *next;

		for (; e; e = next) {
			struct stat st;
			int64_t a, b;

			next = e->next;
			if (e->state != ST_SETTLING)
				continue;
			if (stat_file(dw, -1, e->name, &st) != 0) {
				remove_entry(dw, e);
				continue;
			}
			set_sig(e, &st, now);
			a = e->sig_since + dw->settle_us;
			b = now + (e->mtime_ns + dw->settle_us * 1000 - real) /
			    1000;
			if (now >= a || now >= b) {
				set_state(dw, e, ST_READY);
				continue;
			}
			if (a < due)
				due = a;
			if (b < due)
				due = b;
		}
	}
	dw->settle_due = due;
}

/*
 * List DIR.  Unknown files become fresh (READY on the first scan, SETTLING
 * later); with lost events (overflow), WRITING files may have missed their
 * close and settle instead.  Files no longer there are forgotten unless
 * taken.
 */
static int
scan(struct dirwatch *dw, enum state fresh, bool lost, char *err)
{
	DIR *d = opendir(dw->dir);
	struct dirent *de;
	int64_t now = mono_us();

	if (d == NULL)
		return seterr(err, "cannot open directory '%s': %s", dw->dir,
		    strerror(errno));
	dw->gen++;
	errno = 0;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		struct entry *e;
		uint64_t h;

		if (de->d_type == DT_DIR || !eligible(dw, de->d_name))
			continue;
		h = hash_name(de->d_name);
		e = lookup(dw, de->d_name, h);
		if (e && e->state == ST_TAKEN)
			continue;	/* no stat for what is done */
		if (stat_file(dw, dirfd(d), de->d_name, &st) != 0)
			continue;
		e = upsert(dw, de->d_name, &st, fresh, now);
		if (lost && e->state == ST_WRITING)
			set_state(dw, e, ST_SETTLING);
	}
	if (errno != 0) {
		seterr(err, "cannot read directory '%s': %s", dw->dir,
		    strerror(errno));
		closedir(d);
		return -1;
	}
	closedir(d);
	for (size_t i = 0; i < dw->nbucket; i++) {
		struct entry *e = dw->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			if (e->state != ST_TAKEN && e->gen != dw->gen)
				remove_entry(dw, e);
		}
	}
	settle_pass(dw, now);
	return 0;
}

/* One inotify event about a name in DIR. */
static void
on_event(struct dirwatch *dw, const struct inotify_event *ev, int64_t now)
{
	const char *name = ev->name;
	struct entry *e;
	struct stat st;

	if (ev->mask & IN_ISDIR) {
		/* Not read (no recursion), but Spark-style re-listing on a
		 * new subdirectory costs little and catches anything a
		 * rename of a whole tree may have hidden from events. */
		if (ev->mask & (IN_CREATE | IN_MOVED_TO))
			dw->rescan = true;
		return;
	}
	if (!eligible(dw, name))
		return;
	e = lookup(dw, name, hash_name(name));
	if (e && e->state == ST_TAKEN)
		return;
	if (ev->mask & (IN_DELETE | IN_MOVED_FROM)) {
		if (e)
			remove_entry(dw, e);
	} else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
		if (stat_file(dw, -1, name, &st) == 0) {
			e = upsert(dw, name, &st, ST_READY, now);
			set_state(dw, e, ST_READY);
		} else if (e) {
			remove_entry(dw, e);
		}
	} else if (ev->mask & IN_CREATE) {
		char path[PATH_MAX];
		enum state s = ST_WRITING;

		if (snprintf(path, sizeof path, "%s/%s", dw->dir, name) >=
		    (int)sizeof path || lstat(path, &st) != 0)
			return;
		/* A symlink or a hard link arrives complete, as a rename
		 * does; only a file created by open(2) is still being
		 * written and waits for its close. */
		if (S_ISLNK(st.st_mode) || (S_ISREG(st.st_mode) &&
		    st.st_nlink > 1))
			s = ST_READY;
		if (stat_file(dw, -1, name, &st) != 0)
			return;
		e = upsert(dw, name, &st, s, now);
		set_state(dw, e, s);
	}
}

/* Drain the inotify queue without blocking. */
static int
read_events(struct dirwatch *dw, char *err)
{
	int64_t now = mono_us();

	for (;;) {
		ssize_t n = read(dw->ifd, dw->evbuf, EVBUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return seterr(err, "cannot read inotify events for "
			    "'%s': %s", dw->dir, n < 0 ? strerror(errno) :
			    "end of file");
		for (char *p = dw->evbuf; p < dw->evbuf + n;) {
			const struct inotify_event *ev = (const void *)p;

			p += sizeof *ev + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				dw->rescan = dw->overflowed = true;
				continue;
			}
			if (ev->wd != dw->wd)
				continue;
			if (ev->mask & (IN_IGNORED | IN_DELETE_SELF |
			    IN_MOVE_SELF | IN_UNMOUNT))
				return seterr(err, "directory '%s' was "
				    "removed or moved", dw->dir);
			if (ev->len > 0)
				on_event(dw, ev, now);
		}
	}
}

static bool
dir_changed(const struct stat *a, const struct stat *b)
{
	return a->st_dev != b->st_dev || a->st_ino != b->st_ino ||
	    a->st_mtim.tv_sec != b->st_mtim.tv_sec ||
	    a->st_mtim.tv_nsec != b->st_mtim.tv_nsec ||
	    a->st_ctim.tv_sec != b->st_ctim.tv_sec ||
	    a->st_ctim.tv_nsec != b->st_ctim.tv_nsec;
}

/*
 * Polling: rescan when DIR's stat changed, and once more at the next poll
 * after that, since a file added in the same timestamp tick as the change
 * we saw (but after our listing) leaves the stat as it was.
 */
static int
poll_dir(struct dirwatch *dw, int64_t now, char *err)
{
	struct stat st;
	bool changed;

	dw->next_poll = now + dw->poll_us;
	if (stat(dw->dir, &st) != 0)
		return seterr(err, "cannot open directory '%s': %s", dw->dir,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return seterr(err, "'%s' is not a directory", dw->dir);
	changed = dir_changed(&st, &dw->dirst);
	dw->dirst = st;
	if (!changed && !dw->confirm)
		return 0;
	dw->confirm = changed;
	return scan(dw, ST_SETTLING, false, err);
}

int
dirwatch_update(struct dirwatch *dw, char *err)
{
	int64_t now = mono_us();

	if (dw->ifd >= 0 && read_events(dw, err) < 0)
		return -1;
	if (dw->ifd < 0 && now >= dw->next_poll && poll_dir(dw, now, err) < 0)
		return -1;
	if (dw->rescan) {
		bool lost = dw->overflowed;

		dw->rescan = dw->overflowed = false;
		if (scan(dw, ST_SETTLING, lost, err) < 0)
			return -1;
	}
	if (dw->nsettling > 0 && now >= dw->settle_due)
		settle_pass(dw, now);
	return (int)(dw->nready > INT_MAX ? INT_MAX : dw->nready);
}

int64_t
dirwatch_timeout(const struct dirwatch *dw)
{
	int64_t now = mono_us(), t = -1;

	if (dw->rescan)
		return 0;
	if (dw->ifd < 0)
		t = dw->next_poll > now ? dw->next_poll - now : 0;
	if (dw->nsettling > 0) {
		int64_t s = dw->settle_due > now ? dw->settle_due - now : 0;

		if (t < 0 || s < t)
			t = s;
	}
	return t;
}

int
dirwatch_wait(struct dirwatch *dw, int64_t timeout_us, char *err)
{
	int64_t deadline = timeout_us < 0 ? -1 : mono_us() + timeout_us;

	for (;;) {
		int n = dirwatch_update(dw, err);
		int64_t t = dirwatch_timeout(dw), now = mono_us();
		struct pollfd pfd = { .fd = dw->ifd, .events = POLLIN };
		int ms;

		if (n != 0)
			return n;
		if (deadline >= 0) {
			if (now >= deadline)
				return 0;
			if (t < 0 || deadline - now < t)
				t = deadline - now;
		}
		/* Round up: waking a little late is fine, spinning is not. */
		ms = t < 0 ? -1 : t > INT_MAX / 2 * INT64_C(1000) ?
		    INT_MAX / 2 : (int)((t + 999) / 1000);
		if (poll(dw->ifd >= 0 ? &pfd : NULL, dw->ifd >= 0, ms) < 0) {
			if (errno == EINTR)
				return 0;
			return seterr(err, "poll: %s", strerror(errno));
		}
	}
}

struct dirwatch *
dirwatch_open(const char *dir, const struct dirwatch_opts *opts, char *err)
{
	static const struct dirwatch_opts defaults;
	struct dirwatch *dw;
	const char *env = getenv("RUNNEL_FORCE_POLL");
	bool force;
	size_t len = strlen(dir);
	struct stat st;

	if (opts == NULL)
		opts = &defaults;
	if (opts->pattern && opts->pattern[0] == '\0') {
		seterr(err, "empty file name pattern");
		return NULL;
	}
	if (stat(dir, &st) != 0) {
		seterr(err, "cannot open directory '%s': %s", dir,
		    strerror(errno));
		return NULL;
	}
	if (!S_ISDIR(st.st_mode)) {
		seterr(err, "'%s' is not a directory", dir);
		return NULL;
	}
	dw = xcalloc(1, sizeof *dw);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	dw->dir = xstrndup(dir, len);
	dw->pattern = opts->pattern ? xstrdup(opts->pattern) : NULL;
	dw->latest_first = opts->latest_first;
	dw->poll_us = opts->poll_us > 0 ? opts->poll_us : 1000000;
	dw->settle_us = opts->settle_us > 0 ? opts->settle_us : dw->poll_us;
	dw->nbucket = 64;
	dw->bucket = xcalloc(dw->nbucket, sizeof *dw->bucket);
	dw->ifd = dw->wd = -1;

	force = opts->force_poll || (env && strcmp(env, "1") == 0);
	if (!force)
		dw->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (dw->ifd >= 0) {
		/* Watch before listing, so nothing falls between the two. */
		dw->wd = inotify_add_watch(dw->ifd, dw->dir, IN_CLOSE_WRITE |
		    IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
		    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
		if (dw->wd < 0) {
			int e = errno;

			close(dw->ifd);
			dw->ifd = -1;
			/* Out of watches or unsupported: poll.  Anything
			 * else is about DIR itself. */
			if (e != ENOSPC && e != ENOSYS && e != EOPNOTSUPP &&
			    e != ENOMEM) {
				seterr(err, "cannot watch directory '%s': %s",
				    dw->dir, strerror(e));
				dirwatch_close(dw);
				return NULL;
			}
		} else {
			dw->evbuf = xmalloc(EVBUF_SIZE);
		}
	}
	if (dw->ifd < 0 && stat(dw->dir, &dw->dirst) != 0)
		memset(&dw->dirst, 0, sizeof dw->dirst);
	if (scan(dw, ST_READY, false, err) < 0) {
		dirwatch_close(dw);
		return NULL;
	}
	dw->next_poll = mono_us() + dw->poll_us;
	dw->confirm = true;	/* a change in the tick of the listing */
	/* Files created between the watch and the listing are not complete
	 * just because the listing saw them: let their events say so. */
	if (dw->ifd >= 0 && read_events(dw, err) < 0) {
		dirwatch_close(dw);
		return NULL;
	}
	return dw;
}

void
dirwatch_close(struct dirwatch *dw)
{
	if (dw == NULL)
		return;
	if (dw->ifd >= 0)
		close(dw->ifd);
	for (size_t i = 0; i < dw->nbucket; i++) {
		struct entry *e = dw->bucket[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(dw->bucket);
	free(dw->sortbuf);
	free(dw->evbuf);
	free(dw->pattern);
	free(dw->dir);
	free(dw);
}

void
dirwatch_mark_taken(struct dirwatch *dw, const char *name)
{
	uint64_t h = hash_name(name);
	struct entry *e = lookup(dw, name, h);

	if (e == NULL)
		e = insert(dw, name, h);
	set_state(dw, e, ST_TAKEN);
}

int
dirwatch_fd(const struct dirwatch *dw)
{
	return dw->ifd;
}

bool
dirwatch_polling(const struct dirwatch *dw)
{
	return dw->ifd < 0;
}

size_t
dirwatch_ready(const struct dirwatch *dw)
{
	return dw->nready;
}

static int
cmp_oldest(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a;
	const struct entry *y = *(struct entry *const *)b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns < y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

static int
cmp_newest(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a;
	const struct entry *y = *(struct entry *const *)b;

	if (x->mtime_ns != y->mtime_ns)
		return x->mtime_ns > y->mtime_ns ? -1 : 1;
	return strcmp(x->name, y->name);
}

void
dirwatch_list_init(struct dirwatch_list *l)
{
	memset(l, 0, sizeof *l);
}

void
dirwatch_list_free(struct dirwatch_list *l)
{
	free(l->file);
	free(l->text);
	memset(l, 0, sizeof *l);
}

size_t
dirwatch_next(struct dirwatch *dw, size_t max, struct dirwatch_list *out)
{
	size_t n = 0, k, need = 0, dlen = strlen(dw->dir);
	char *p;

	out->n = out->text_len = 0;
	if (dw->nready == 0)
		return 0;
	if (dw->sortcap < dw->nready) {
		dw->sortcap = dw->nready;
		free(dw->sortbuf);
		dw->sortbuf = xmalloc(dw->sortcap * sizeof *dw->sortbuf);
	}
	for (size_t i = 0; i < dw->nbucket; i++)
		for (struct entry *e = dw->bucket[i]; e; e = e->next)
			if (e->state == ST_READY)
				dw->sortbuf[n++] = e;
	qsort(dw->sortbuf, n, sizeof *dw->sortbuf,
	    dw->latest_first ? cmp_newest : cmp_oldest);
	k = max == 0 || max > n ? n : max;

	/* Size the text first so that pointers into it never move. */
	for (size_t i = 0; i < k; i++)
		need += 2 * strlen(dw->sortbuf[i]->name) + dlen + 3;
	if (out->text_cap < need) {
		free(out->text);
		out->text = xmalloc(need);
		out->text_cap = need;
	}
	if (out->cap < k) {
		free(out->file);
		out->file = xmalloc(k * sizeof *out->file);
		out->cap = k;
	}
	p = out->text;
	for (size_t i = 0; i < k; i++) {
		struct entry *e = dw->sortbuf[i];
		struct dirwatch_file *f = &out->file[i];
		size_t len = strlen(e->name);

		f->name = p;
		memcpy(p, e->name, len + 1);
		p += len + 1;
		f->path = p;
		memcpy(p, dw->dir, dlen);
		p += dlen;
		if (dlen == 0 || dw->dir[dlen - 1] != '/')
			*p++ = '/';
		memcpy(p, e->name, len + 1);
		p += len + 1;
		f->mtime_ns = e->mtime_ns;
		f->size = e->size;
		set_state(dw, e, ST_TAKEN);
	}
	out->text_len = (size_t)(p - out->text);
	out->n = k;
	return k;
}

/* --clean-source */

int
dirwatch_clean_parse(const char *arg, enum dirwatch_clean_mode *mode,
    const char **archive, char *err)
{
	*archive = NULL;
	if (strcmp(arg, "delete") == 0) {
		*mode = DIRWATCH_DELETE;
	} else if (strcmp(arg, "off") == 0) {
		*mode = DIRWATCH_KEEP;
	} else if (strncmp(arg, "archive:", 8) == 0 && arg[8] != '\0') {
		*mode = DIRWATCH_ARCHIVE;
		*archive = arg + 8;
	} else {
		return seterr(err, "'%s' is not delete, archive:DIR or off",
		    arg);
	}
	return 0;
}

/* Drop the last component of an absolute path ("/a/b" -> "/a", "/a" ->
 * "/"); returns false at the root. */
static bool
strip_last(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == NULL || (slash == path && path[1] == '\0'))
		return false;
	if (slash == path)
		slash[1] = '\0';
	else
		*slash = '\0';
	return true;
}

/*
 * Resolve path as realpath(3) would if it existed: the longest existing
 * prefix through realpath, then the rest lexically ("." dropped, ".."
 * pops), which is what mkdir -p of it would create.  out has PATH_MAX.
 */
static int
resolve(const char *path, char *out, char *err)
{
	char abs[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];
	const char *rest;
	size_t plen;

	if (path[0] == '/') {
		if (snprintf(abs, sizeof abs, "%s", path) >= (int)sizeof abs)
			return seterr(err, "path too long: '%s'", path);
	} else {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return seterr(err, "getcwd: %s", strerror(errno));
		if (snprintf(abs, sizeof abs, "%s/%s", cwd, path) >=
		    (int)sizeof abs)
			return seterr(err, "path too long: '%s'", path);
	}
	plen = strlen(abs);
	{
		char prefix[PATH_MAX];

		memcpy(prefix, abs, plen + 1);
		while (realpath(prefix, real) == NULL) {
			if (errno != ENOENT || !strip_last(prefix))
				return seterr(err, "cannot resolve '%s': %s",
				    path, strerror(errno));
		}
		rest = abs + strlen(prefix);
	}
	snprintf(out, PATH_MAX, "%s", real);
	while (*rest) {
		size_t n;

		while (*rest == '/')
			rest++;
		n = strcspn(rest, "/");
		if (n == 0 || (n == 1 && rest[0] == '.')) {
			/* nothing */
		} else if (n == 2 && rest[0] == '.' && rest[1] == '.') {
			strip_last(out);
		} else {
			size_t ol = strlen(out);

			if (ol + n + 2 > PATH_MAX)
				return seterr(err, "path too long: '%s'", path);
			if (ol > 1)
				out[ol++] = '/';
			memcpy(out + ol, rest, n);
			out[ol + n] = '\0';
		}
		rest += n;
	}
	return 0;
}

int
dirwatch_archive_check(const char *dir, const char *archive, char *err)
{
	char d[PATH_MAX], a[PATH_MAX];
	size_t dl;

	if (resolve(dir, d, err) < 0 || resolve(archive, a, err) < 0)
		return -1;
	dl = strlen(d);
	if (strcmp(d, "/") == 0 || (strncmp(a, d, dl) == 0 &&
	    (a[dl] == '\0' || a[dl] == '/')))
		return seterr(err, "archive directory '%s' is inside the "
		    "source directory '%s'", archive, dir);
	return 0;
}

/* mkdir -p */
static int
make_dirs(const char *dir, char *err)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (n >= sizeof path)
		return seterr(err, "path too long: '%s'", dir);
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(path, 0777) != 0 && errno != EEXIST)
			return seterr(err, "cannot create directory '%s': %s",
			    path, strerror(errno));
		*p = c;
		if (c == '\0')
			break;
	}
	return 0;
}

/* Archive across file systems: copy to a hidden temp name in the archive,
 * fsync, link to the final name (which fails rather than overwrite), then
 * remove the temp and the source. */
static int
copy_across(const char *src, const char *dst, const char *archive, char *err)
{
	char tmp[PATH_MAX], buf[64 * 1024];
	struct stat st;
	struct timespec times[2];
	int in, out, rc = -1;
	ssize_t n;

	if (snprintf(tmp, sizeof tmp, "%s/.archive-XXXXXX", archive) >=
	    (int)sizeof tmp)
		return seterr(err, "path too long: '%s'", archive);
	if ((in = open(src, O_RDONLY | O_CLOEXEC)) < 0)
		return seterr(err, "cannot open '%s': %s", src,
		    strerror(errno));
	if ((out = mkostemp(tmp, O_CLOEXEC)) < 0) {
		seterr(err, "cannot create '%s': %s", tmp, strerror(errno));
		close(in);
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			seterr(err, "cannot read '%s': %s", src,
			    strerror(errno));
			goto out;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				seterr(err, "cannot write '%s': %s", tmp,
				    strerror(errno));
				goto out;
			}
			off += w;
		}
	}
	if (fstat(in, &st) == 0) {
		fchmod(out, st.st_mode & 07777);
		times[0] = st.st_atim;
		times[1] = st.st_mtim;
		futimens(out, times);
	}
	if (fsync(out) != 0) {
		seterr(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (link(tmp, dst) != 0) {
		seterr(err, errno == EEXIST ? "cannot archive '%s': '%s' "
		    "already exists" : "cannot archive '%s' as '%s': %s", src,
		    dst, strerror(errno));
		goto out;
	}
	if (unlink(src) != 0) {
		seterr(err, "cannot delete '%s': %s", src, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(in);
	close(out);
	unlink(tmp);
	return rc;
}

int
dirwatch_clean(const char *path, enum dirwatch_clean_mode mode,
    const char *archive, char *err)
{
	char dst[PATH_MAX];
	const char *base = strrchr(path, '/');

	if (mode == DIRWATCH_KEEP)
		return 0;
	if (mode == DIRWATCH_DELETE) {
		if (unlink(path) != 0)
			return seterr(err, "cannot delete '%s': %s", path,
			    strerror(errno));
		return 0;
	}
	base = base ? base + 1 : path;
	if (archive == NULL || *archive == '\0')
		return seterr(err, "no archive directory for '%s'", path);
	if (snprintf(dst, sizeof dst, "%s/%s", archive, base) >=
	    (int)sizeof dst)
		return seterr(err, "path too long: '%s/%s'", archive, base);
	if (make_dirs(archive, err) < 0)
		return -1;
	if (renameat2(AT_FDCWD, path, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno == EINVAL || errno == ENOSYS) {
		/* The file system cannot rename without replacing: link
		 * (which never replaces) and unlink instead. */
		if (link(path, dst) == 0) {
			if (unlink(path) != 0)
				return seterr(err, "cannot delete '%s': %s",
				    path, strerror(errno));
			return 0;
		}
	}
	if (errno == EXDEV)
		return copy_across(path, dst, archive, err);
	if (errno == EEXIST)
		return seterr(err, "cannot archive '%s': '%s' already exists",
		    path, dst);
	return seterr(err, "cannot archive '%s' as '%s': %s", path, dst,
	    strerror(errno));
}

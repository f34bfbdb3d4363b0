/*
 * source_file.c: "file:DIR": each new file of DIR read once, oldest
 * modification time first (lib/dirwatch.h says which files, when, and in
 * what order), decoded as text, csv or json like stdin (lib/stream_in.h),
 * each file with its own csv header.  Messages name the file and line.
 *
 * Batches: each time the taken files are all read, the source takes the
 * files ready then (at most --max-files-per-trigger of them) as one list,
 * and says SOURCE_BATCH once that list is read: one trigger's files are
 * one batch, as in Spark's file source.  With opt.bounded (--trigger once
 * or available-now) only the files there at open are taken.
 *
 * A file that cannot be opened or read when its turn comes (deleted,
 * unreadable) is an error: the records it holds would otherwise be lost
 * silently.
 *
 * Taken files: every file taken gets a sequence number, 0, 1, 2, ... in
 * the order it is read, and stays in e[] (sequence number = index) for
 * the life of the source: the journal (source.h) records each as
 * "take SEQ BATCH NAME" (NAME escaped: backslash, newline, CR, TAB), so a
 * checkpointed query never takes a name twice, and a position
 * "next=K offset=O line=L" (file K is read up to byte O, its line L;
 * every file before K is read) resumes exactly.  "clean K" records that
 * --clean-source has dealt with every file before K.
 *
 * s->fd is an epoll descriptor over the watch's inotify descriptor and a
 * timer (lib/wakeup.h), so polling and settling files wake ssrc through
 * the same wait.  Regular files never block, so while files are taken and
 * not yet read the source reports itself buffered and ssrc reads on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "die.h"
#include "dirwatch.h"
#include "source.h"
#include "stream_in.h"
#include "wakeup.h"

struct taken {
	int64_t batch;		/* the batch whose journal has it; -1: none
				   yet */
	char *name;		/* in DIR */
	char *path;		/* DIR/name */
};

struct file_source {
	struct dirwatch *dw;
	struct wakeup w;
	struct dirwatch_list list;	/* scratch for dirwatch_next() */
	struct taken *e;		/* every file taken; index = seq */
	size_t n, cap;
	size_t cur;			/* e[cur] is being read, or next */
	size_t journaled;		/* e[0, journaled) are journaled */
	bool list_open;			/* files of one trigger being read */
	struct stream_in in;		/* on e[cur] when fd >= 0 */
	int fd;				/* -1 between files */
	struct source_options ropt;	/* s->opt, without the csv header
					   for a file resumed mid-way */

	/* Where open() starts (a checkpoint's position). */
	bool have_start;
	size_t start_file;
	uint64_t start_offset;
	long start_line;

	/* --clean-source */
	enum dirwatch_clean_mode clean;
	const char *archive;
	size_t cleaned;			/* e[0, cleaned) dealt with */
	size_t clean_journaled;		/* "clean K" last journaled */

	struct dirwatch_opts wopts;
};

static int
file_init(struct source *s, char *err)
{
	struct file_source *fs = xcalloc(1, sizeof *fs);

	fs->fd = fs->w.epfd = fs->w.timerfd = -1;
	dirwatch_list_init(&fs->list);
	s->priv = fs;
	if (s->arg[0] == '\0')
		return seterr(err, "source 'file:' needs a directory: "
		    "file:DIR");
	fs->wopts.pattern = s->opt.pattern;
	fs->wopts.latest_first = s->opt.latest_first;
	if (s->opt.pattern != NULL && s->opt.pattern[0] == '\0')
		return seterr(err, "--pattern: empty pattern");
	if (s->opt.clean_source != NULL) {
		if (dirwatch_clean_parse(s->opt.clean_source, &fs->clean,
		    &fs->archive, err) < 0)
			return -1;
		if (fs->clean == DIRWATCH_ARCHIVE &&
		    dirwatch_archive_check(s->arg, fs->archive, err) < 0)
			return -1;
	}
	return source_stream_schema(s, err);
}

/* Add a taken file; name is copied. */
static struct taken *
add_taken(struct file_source *fs, const char *dir, const char *name,
    int64_t batch)
{
	struct taken *t;
	size_t dlen = strlen(dir), nlen = strlen(name);

	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 64;
		fs->e = xrealloc(fs->e, fs->cap * sizeof *fs->e);
	}
	t = &fs->e[fs->n++];
	t->batch = batch;
	t->name = xstrdup(name);
	t->path = xmalloc(dlen + nlen + 2);
	memcpy(t->path, dir, dlen);
	if (dlen == 0 || dir[dlen - 1] != '/')
		t->path[dlen++] = '/';
	memcpy(t->path + dlen, name, nlen + 1);
	return t;
}

static void
close_current(struct file_source *fs)
{
	if (fs->fd < 0)
		return;
	stream_in_free(&fs->in);
	close(fs->fd);
	fs->fd = -1;
}

/* Start reading e[cur] from byte offset (its line line). */
static int
open_current(struct source *s, uint64_t offset, long line, char *err)
{
	struct file_source *fs = s->priv;
	const char *path = fs->e[fs->cur].path;
	struct stat st;

	fs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0)
		return seterr(err, "cannot open '%s': %s", path,
		    strerror(errno));
	if (offset > 0) {
		if (fstat(fs->fd, &st) < 0 || (uint64_t)st.st_size < offset ||
		    lseek(fs->fd, (off_t)offset, SEEK_SET) < 0) {
			close(fs->fd);
			fs->fd = -1;
			return seterr(err, "cannot resume '%s' at byte %" PRIu64
			    ": the file is shorter (changed since it was "
			    "read)", path, offset);
		}
	}
	fs->ropt = s->opt;
	fs->ropt.header = s->opt.header && offset == 0;
	stream_in_init(&fs->in, fs->fd, path, &fs->ropt, s->opt.schema);
	fs->in.line = fs->in.commit_line = line;
	fs->in.offset = fs->in.commit_offset = offset;
	return 0;
}

/* Go to file k, byte offset, line line: before open, remembered. */
static int
go_to(struct source *s, size_t k, uint64_t offset, long line, char *err)
{
	struct file_source *fs = s->priv;

	close_current(fs);
	fs->cur = k;
	/* The rest of the files taken before is the rest of a trigger. */
	fs->list_open = k < fs->n;
	if (k < fs->n && (offset > 0 || line > 0))
		return open_current(s, offset, line, err);
	return 0;
}

static int
file_open(struct source *s, char *err)
{
	struct file_source *fs = s->priv;

	if ((fs->dw = dirwatch_open(s->arg, &fs->wopts, err)) == NULL)
		return -1;
	for (size_t i = 0; i < fs->n; i++)
		dirwatch_mark_taken(fs->dw, fs->e[i].name);
	if (wakeup_open(&fs->w, dirwatch_fd(fs->dw), err) < 0)
		return -1;
	wakeup_arm(&fs->w, 0);	/* read what is there at once */
	s->fd = fs->w.epfd;
	if (fs->have_start) {
		fs->have_start = false;
		return go_to(s, fs->start_file, fs->start_offset,
		    fs->start_line, err);
	}
	return 0;
}

/* Take the next trigger's files.  Returns how many. */
static size_t
take_files(struct source *s)
{
	struct file_source *fs = s->priv;
	size_t k = dirwatch_next(fs->dw, s->opt.max_files, &fs->list);

	for (size_t i = 0; i < k; i++)
		add_taken(fs, s->arg, fs->list.file[i].name, -1);
	fs->list_open = k > 0;
	return k;
}

static int
file_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	struct file_source *fs = s->priv;

	if (may_read)
		wakeup_clear(&fs->w);
	for (;;) {
		if (fs->fd >= 0) {
			int st = stream_in_read(&fs->in, o, limit, true, err);

			if (st != SOURCE_END)
				return st;	/* -1, MORE, or OK: read on */
			close_current(fs);
			fs->cur++;
			continue;
		}
		if (fs->cur < fs->n) {
			if (open_current(s, 0, 0, err) < 0)
				return -1;
			continue;
		}
		if (fs->list_open) {
			fs->list_open = false;
			return SOURCE_BATCH;
		}
		if (s->replaying)
			return SOURCE_BATCH;	/* nothing new in a replay */
		/* What was there at open is the snapshot: no update. */
		if (!s->opt.bounded && dirwatch_update(fs->dw, err) < 0)
			return -1;
		if (take_files(s) == 0) {
			if (s->opt.bounded)
				return SOURCE_END;
			wakeup_arm(&fs->w, dirwatch_timeout(fs->dw));
			return SOURCE_OK;
		}
	}
}

static bool
file_buffered(const struct source *s)
{
	const struct file_source *fs = s->priv;

	return fs->fd >= 0 || fs->cur < fs->n || fs->list_open ||
	    (fs->dw != NULL && dirwatch_ready(fs->dw) > 0);
}

static void
file_position(const struct source *s, struct strbuf *out)
{
	const struct file_source *fs = s->priv;

	if (fs->fd >= 0)
		sb_addf(out, "next=%zu offset=%" PRIu64 " line=%ld", fs->cur,
		    fs->in.commit_offset, fs->in.commit_line);
	else if (fs->have_start)
		sb_addf(out, "next=%zu offset=%" PRIu64 " line=%ld",
		    fs->start_file, fs->start_offset, fs->start_line);
	else
		sb_addf(out, "next=%zu offset=0 line=0", fs->cur);
}

static int
parse_position(const struct source *s, const char *pos, size_t *k,
    uint64_t *offset, long *line, char *err)
{
	const struct file_source *fs = s->priv;
	int used = 0;

	if (sscanf(pos, "next=%zu offset=%" SCNu64 " line=%ld%n", k, offset,
	    line, &used) != 3 || pos[used] != '\0' || *line < 0)
		return seterr(err, "%s: bad position '%s'", s->name, pos);
	if (*k > fs->n || (*k == fs->n && (*offset > 0 || *line > 0)))
		return seterr(err, "%s: position '%s' names file %zu, but "
		    "the journal has %zu files", s->name, pos, *k, fs->n);
	return 0;
}

static int
file_seek(struct source *s, const char *pos, char *err)
{
	struct file_source *fs = s->priv;
	uint64_t offset;
	size_t k;
	long line;

	if (parse_position(s, pos, &k, &offset, &line, err) < 0)
		return -1;
	if (fs->dw == NULL) {
		fs->have_start = true;
		fs->start_file = k;
		fs->start_offset = offset;
		fs->start_line = line;
		return 0;
	}
	return go_to(s, k, offset, line, err);
}

/* Names in journal lines: \\ \n \r \t escaped, so one line each. */
static void
put_name(struct strbuf *out, const char *name)
{
	for (const char *p = name; *p; p++) {
		switch (*p) {
		case '\\': sb_adds(out, "\\\\"); break;
		case '\n': sb_adds(out, "\\n"); break;
		case '\r': sb_adds(out, "\\r"); break;
		case '\t': sb_adds(out, "\\t"); break;
		default: sb_addc(out, *p);
		}
	}
}

/* Undo put_name() in place; false on a bad escape. */
static bool
unescape_name(char *s)
{
	char *w = s;

	for (char *p = s; *p; p++) {
		if (*p != '\\') {
			*w++ = *p;
			continue;
		}
		switch (*++p) {
		case '\\': *w++ = '\\'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		default: return false;
		}
	}
	*w = '\0';
	return w != s;
}

static void
put_taken(struct strbuf *out, size_t seq, const struct taken *t)
{
	sb_addf(out, "take %zu %" PRId64 " ", seq, t->batch);
	put_name(out, t->name);
	sb_addc(out, '\n');
}

static void
file_journal(struct source *s, int64_t n, struct strbuf *out)
{
	struct file_source *fs = s->priv;

	for (; fs->journaled < fs->n; fs->journaled++) {
		fs->e[fs->journaled].batch = n;
		put_taken(out, fs->journaled, &fs->e[fs->journaled]);
	}
	if (fs->cleaned > fs->clean_journaled) {
		sb_addf(out, "clean %zu\n", fs->cleaned);
		fs->clean_journaled = fs->cleaned;
	}
}

static void
file_compact(const struct source *s, struct strbuf *out)
{
	const struct file_source *fs = s->priv;

	for (size_t i = 0; i < fs->journaled; i++)
		put_taken(out, i, &fs->e[i]);
	if (fs->cleaned > 0)
		sb_addf(out, "clean %zu\n", fs->cleaned);
}

static int
restore_line(struct source *s, char *line, int64_t last, char *err)
{
	struct file_source *fs = s->priv;
	size_t seq, clean;
	int64_t batch;
	int used = 0;

	if (sscanf(line, "clean %zu%n", &clean, &used) == 1 &&
	    line[used] == '\0') {
		if (clean > fs->cleaned)
			fs->cleaned = fs->clean_journaled = clean;
		return 0;
	}
	if (sscanf(line, "take %zu %" SCNd64 "%n", &seq, &batch, &used) != 2 ||
	    line[used] != ' ' || !unescape_name(line + ++used))
		return seterr(err, "%s: bad journal line '%s'", s->name, line);
	if (batch > last)
		return 0;	/* a plan that will be made again */
	if (seq < fs->n && strcmp(fs->e[seq].name, line + used) == 0)
		return 0;	/* in the compacted journal and in offsets */
	if (seq != fs->n)
		return seterr(err, "%s: journal: file %zu ('%s') follows "
		    "file %zu", s->name, seq, line + used,
		    fs->n ? fs->n - 1 : 0);
	add_taken(fs, s->arg, line + used, batch);
	fs->journaled = fs->n;
	return 0;
}

static int
file_restore(struct source *s, const char *lines, int64_t last, char *err)
{
	char *copy = xstrdup(lines), *p = copy, *nl;
	int rc = 0;

	for (; *p && rc == 0; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p) - 1;
		else
			*nl = '\0';
		if (*p != '\0')
			rc = restore_line(s, p, last, err);
	}
	free(copy);
	return rc;
}

static int
file_done(struct source *s, const char *pos, char *err)
{
	struct file_source *fs = s->priv;
	char first[ERRBUF_SIZE];
	uint64_t offset;
	size_t k;
	long line;
	int rc = 0;

	if (fs->clean == DIRWATCH_KEEP)
		return 0;
	if (parse_position(s, pos, &k, &offset, &line, err) < 0)
		return -1;
	for (; fs->cleaned < k; fs->cleaned++) {
		const char *path = fs->e[fs->cleaned].path;
		struct stat st;

		if (lstat(path, &st) < 0 && errno == ENOENT)
			continue;	/* cleaned before, by us or by hand */
		if (dirwatch_clean(path, fs->clean, fs->archive, first) < 0 &&
		    rc == 0) {
			rc = -1;
			seterr(err, "--clean-source: %s", first);
		}
	}
	return rc;
}

static void
file_close(struct source *s)
{
	struct file_source *fs = s->priv;

	if (fs == NULL)
		return;
	close_current(fs);
	dirwatch_close(fs->dw);
	dirwatch_list_free(&fs->list);
	wakeup_close(&fs->w);
	for (size_t i = 0; i < fs->n; i++) {
		free(fs->e[i].name);
		free(fs->e[i].path);
	}
	free(fs->e);
	free(fs);
	s->priv = NULL;
	s->fd = -1;
}

const struct source_type source_file = {
	.scheme = "file",
	.bare = false,
	.init = file_init,
	.open = file_open,
	.read = file_read,
	.buffered = file_buffered,
	.position = file_position,
	.seek = file_seek,
	.close = file_close,
	.journal = file_journal,
	.compact = file_compact,
	.restore = file_restore,
	.done = file_done,
};

/*
 * source_file.c: "file:DIR": each new file of DIR read once, oldest
 * modification time first (lib/dirwatch.h says which files, when, and in
 * what order), decoded as text, csv or json like stdin (lib/stream_in.h),
 * each file with its own csv header.  Messages name the file and line.
 *
 * A file that cannot be opened when its turn comes (deleted, unreadable)
 * is an error: the records it holds would otherwise be lost silently.
 *
 * s->fd is an epoll descriptor over the watch's inotify descriptor and a
 * timer (lib/wakeup.h), so polling and settling files wake ssrc through
 * the same wait.  Regular files never block, so while files are taken and
 * not yet read the source reports itself buffered and ssrc reads on.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "dirwatch.h"
#include "source.h"
#include "stream_in.h"
#include "wakeup.h"

struct file_source {
	struct dirwatch *dw;
	struct wakeup w;
	struct dirwatch_list list;	/* files taken, read in order */
	size_t next;			/* list.file[next] opens next */
	struct stream_in in;		/* on list.file[next - 1] */
	int fd;				/* -1 between files */
	uint64_t files;			/* files read to their end */

	/* Settings ssrc's options give (see file_settings()). */
	struct dirwatch_opts wopts;
	size_t max_files;		/* 0: every ready file at once */
	bool snapshot;			/* end once what was there is read */
};

/*
 * The file source's own options.  struct source_options does not carry
 * them yet; until it does (proposed fields: max_files for
 * --max-files-per-trigger, latest_first, pattern, snapshot for --trigger
 * once|available-now, clean_source), these are the defaults: every ready
 * file at once, oldest first, all names, never ending.
 */
static void
file_settings(const struct source *s, struct file_source *fs)
{
	(void)s;
	fs->wopts.pattern = NULL;
	fs->wopts.latest_first = false;
	fs->max_files = 0;
	fs->snapshot = false;
}

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
	file_settings(s, fs);
	return source_stream_schema(s, err);
}

static int
file_open(struct source *s, char *err)
{
	struct file_source *fs = s->priv;

	if ((fs->dw = dirwatch_open(s->arg, &fs->wopts, err)) == NULL)
		return -1;
	if (wakeup_open(&fs->w, dirwatch_fd(fs->dw), err) < 0)
		return -1;
	wakeup_arm(&fs->w, 0);	/* read what is there at once */
	s->fd = fs->w.epfd;
	return 0;
}

/* Start reading the next taken file. */
static int
open_next(struct source *s, char *err)
{
	struct file_source *fs = s->priv;
	const char *path = fs->list.file[fs->next].path;

	fs->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fs->fd < 0)
		return seterr(err, "cannot open '%s': %s", path,
		    strerror(errno));
	fs->next++;
	stream_in_init(&fs->in, fs->fd, path, &s->opt, s->opt.schema);
	return 0;
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
			fs->files++;
			continue;
		}
		if (fs->next < fs->list.n) {
			if (open_next(s, err) < 0)
				return -1;
			continue;
		}
		/* What was there at open is the snapshot: no update. */
		if (!fs->snapshot && dirwatch_update(fs->dw, err) < 0)
			return -1;
		fs->next = 0;
		if (dirwatch_next(fs->dw, fs->max_files, &fs->list) == 0) {
			if (fs->snapshot)
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

	return fs->fd >= 0 || fs->next < fs->list.n ||
	    (fs->dw != NULL && dirwatch_ready(fs->dw) > 0);
}

/* "files=N" read to their end, then the file being read and where. */
static void
file_position(const struct source *s, struct strbuf *out)
{
	const struct file_source *fs = s->priv;

	sb_addf(out, "files=%" PRIu64, fs->files);
	if (fs->fd >= 0) {
		sb_addf(out, " file=%s ", fs->list.file[fs->next - 1].name);
		stream_in_position(&fs->in, out);
	}
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
	.seek = NULL,
	.close = file_close,
};

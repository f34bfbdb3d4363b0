/*
 * source_tail.c: "tail:PATH": the lines of a growing file, followed as
 * `tail -F` does across rotation (lib/tailer.h says how), as records
 * `value` (--format text) or the --schema fields (--format json, one
 * object per line).  csv is refused: a quoted newline would split a
 * record across reads of a file that may rotate in between.
 *
 * The file is read from its start (nothing is missed); with a position
 * (seek) from just after the last line a checkpoint recorded, also in the
 * rotated file if it is still in PATH's directory.  The input never ends,
 * unless bounded (--trigger once|available-now): then it ends once every
 * complete line there is read (a last line without its newline waits for
 * the next run).
 *
 * s->fd is an epoll descriptor over the tailer's inotify descriptor and a
 * timer (lib/wakeup.h), so polling works through the same wait as inotify.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "json_in.h"
#include "rtime.h"
#include "source.h"
#include "tailer.h"
#include "wakeup.h"

struct tail_source {
	struct tailer *t;
	struct wakeup w;
	struct json_in *json;
	struct tailer_pos resume;
	bool have_resume;
	bool more;		/* stopped at the row limit */
	uint64_t ino;		/* file of `line` */
	long line;		/* lines of that file taken, for messages */
};

static int
tail_init(struct source *s, char *err)
{
	struct tail_source *ts = xcalloc(1, sizeof *ts);

	ts->w.epfd = ts->w.timerfd = -1;
	s->priv = ts;
	if (s->arg[0] == '\0')
		return seterr(err, "source 'tail:' needs a file: tail:PATH");
	if (s->opt.format == SOURCE_CSV)
		return seterr(err, "source 'tail:' reads --format text or "
		    "json, not csv");
	return source_stream_schema(s, err);
}

static int
tail_start(struct source *s, char *err)
{
	struct tail_source *ts = s->priv;
	struct tailer_opts o = { .max_line = s->opt.max_record,
	    .resume = ts->have_resume ? &ts->resume : NULL };

	tailer_close(ts->t);
	wakeup_close(&ts->w);
	s->fd = -1;
	if ((ts->t = tailer_open(s->arg, &o, err)) == NULL)
		return -1;
	if (wakeup_open(&ts->w, tailer_fd(ts->t), err) < 0)
		return -1;
	wakeup_arm(&ts->w, 0);	/* read what is there at once */
	s->fd = ts->w.epfd;
	return 0;
}

static int
tail_open(struct source *s, char *err)
{
	struct tail_source *ts = s->priv;

	if (ts->json == NULL && s->opt.format == SOURCE_JSON)
		ts->json = json_in_new(s->opt.schema, s->arg);
	return tail_start(s, err);
}

static int
tail_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	struct tail_source *ts = s->priv;
	struct tailer_pos pos;
	const char *p;
	size_t n;
	int r = 0;

	if (may_read)
		wakeup_clear(&ts->w);
	o->arrival = now_micros();
	ts->more = false;
	while (o->rows < limit && (r = tailer_next(ts->t, &p, &n, err)) == 1) {
		tailer_position(ts->t, &pos);
		if (pos.ino != ts->ino) {
			ts->ino = pos.ino;
			ts->line = 0;
		}
		ts->line++;
		if (ts->json != NULL) {
			if (json_in_line(ts->json, p, n, ts->line, o, err) < 0)
				return -1;
			continue;
		}
		if (n > 0 && p[n - 1] == '\r')
			n--;	/* CRLF, as the other text sources */
		fw_field(o->w, p, n);
		ro_end(o);
	}
	if (r < 0)
		return -1;
	if (o->rows >= limit) {
		ts->more = true;
		return SOURCE_MORE;
	}
	if (s->opt.bounded)
		return SOURCE_END;	/* caught up with the file */
	wakeup_arm(&ts->w, tailer_timeout(ts->t));
	return SOURCE_OK;
}

static bool
tail_buffered(const struct source *s)
{
	const struct tail_source *ts = s->priv;

	return ts->more;
}

static void
tail_position(const struct source *s, struct strbuf *out)
{
	const struct tail_source *ts = s->priv;
	struct tailer_pos pos = ts->resume;

	if (ts->t != NULL)
		tailer_position(ts->t, &pos);
	sb_addf(out, "dev=%" PRIu64 " ino=%" PRIu64 " offset=%" PRId64,
	    pos.dev, pos.ino, pos.offset);
}

/* Resume from "dev=D ino=I offset=O" (tail_position()'s line); before
 * or after open. */
static int
tail_seek(struct source *s, const char *position, char *err)
{
	struct tail_source *ts = s->priv;
	struct tailer_pos pos;
	int used = 0;

	if (sscanf(position, "dev=%" SCNu64 " ino=%" SCNu64 " offset=%"
	    SCNd64 "%n", &pos.dev, &pos.ino, &pos.offset, &used) != 3 ||
	    position[used] != '\0' || pos.offset < 0)
		return seterr(err, "%s: bad position '%s'", s->name, position);
	ts->resume = pos;
	ts->have_resume = true;
	return ts->t != NULL ? tail_start(s, err) : 0;
}

static void
tail_close(struct source *s)
{
	struct tail_source *ts = s->priv;

	if (ts == NULL)
		return;
	tailer_close(ts->t);
	wakeup_close(&ts->w);
	json_in_free(ts->json);
	free(ts);
	s->priv = NULL;
	s->fd = -1;
}

const struct source_type source_tail = {
	.scheme = "tail",
	.bare = false,
	.init = tail_init,
	.open = tail_open,
	.read = tail_read,
	.buffered = tail_buffered,
	.position = tail_position,
	.seek = tail_seek,
	.close = tail_close,
};

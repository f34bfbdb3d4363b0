/*
 * source_stdin.c: the "stdin" (or "-") source: lines of standard input,
 * as text, csv or json.  Not replayable: what was read is gone.
 *
 * stdin is never set non-blocking (that flag belongs to the open file,
 * shared with the shell or the terminal); ssrc polls it before each read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "source.h"
#include "stream_in.h"

static int
stdin_init(struct source *s, char *err)
{
	return source_stream_schema(s, err);
}

static int
stdin_open(struct source *s, char *err)
{
	struct stream_in *in;

	if (fcntl(STDIN_FILENO, F_GETFL) < 0)
		return seterr(err, "stdin: %s", strerror(errno));
	in = xmalloc(sizeof *in);
	stream_in_init(in, STDIN_FILENO, s->name, &s->opt,
	    s->opt.schema);
	s->priv = in;
	s->fd = STDIN_FILENO;
	return 0;
}

static void
stdin_close(struct source *s)
{
	if (s->priv != NULL) {
		stream_in_free(s->priv);
		free(s->priv);
		s->priv = NULL;
	}
	s->fd = -1;
}

const struct source_type source_stdin = {
	.scheme = "stdin",
	.bare = true,
	.init = stdin_init,
	.open = stdin_open,
	.read = stream_source_read,
	.buffered = stream_source_buffered,
	.position = stream_source_position,
	.seek = NULL,
	.close = stdin_close,
};

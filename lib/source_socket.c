/*
 * source_socket.c: "socket:[HOST:]PORT": a TCP client reading lines, as
 * Spark's socket source (which is for testing: it is not replayable, and
 * neither is this).  HOST defaults to localhost.  The peer closing the
 * connection is the end of input.  There is no silent reconnect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "die.h"
#include "socket.h"
#include "source.h"
#include "stream_in.h"

struct socket_source {
	struct hostport addr;
	struct stream_in in;
};

static int
socket_init(struct source *s, char *err)
{
	struct socket_source *ss;
	char where[HOSTPORT_BUFSIZE], msg[ERRBUF_SIZE];

	ss = xcalloc(1, sizeof *ss);
	s->priv = ss;
	if (hostport_parse(s->arg, "localhost", &ss->addr, msg) < 0)
		return seterr(err, "source '%s': %s", s->spec, msg);
	hostport_format(&ss->addr, where);
	snprintf(s->name, sizeof s->name, "socket:%s", where);
	return source_stream_schema(s, err);
}

static int
socket_open(struct source *s, char *err)
{
	struct socket_source *ss = s->priv;
	int fd = tcp_connect(&ss->addr, err);

	if (fd < 0)
		return -1;
	stream_in_init(&ss->in, fd, s->name, &s->opt, s->opt.schema);
	s->fd = fd;
	return 0;
}

static int
socket_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	struct socket_source *ss = s->priv;

	return stream_in_read(&ss->in, o, limit, may_read, err);
}

static bool
socket_buffered(const struct source *s)
{
	const struct socket_source *ss = s->priv;

	return stream_in_buffered(&ss->in);
}

static void
socket_position(const struct source *s, struct strbuf *out)
{
	const struct socket_source *ss = s->priv;

	stream_in_position(&ss->in, out);
}

static void
socket_close(struct source *s)
{
	struct socket_source *ss = s->priv;

	if (ss == NULL)
		return;
	if (s->fd >= 0) {
		close(s->fd);
		stream_in_free(&ss->in);
	}
	free(ss);
	s->priv = NULL;
	s->fd = -1;
}

const struct source_type source_socket = {
	.scheme = "socket",
	.bare = false,
	.init = socket_init,
	.open = socket_open,
	.read = socket_read,
	.buffered = socket_buffered,
	.position = socket_position,
	.seek = NULL,
	.close = socket_close,
};

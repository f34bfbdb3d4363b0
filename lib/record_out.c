/* record_out.c: writing decoded records into the current batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "record_out.h"

void
ro_init(struct record_out *o, struct frame_writer *w, bool add_timestamp)
{
	memset(o, 0, sizeof *o);
	o->w = w;
	o->add_timestamp = add_timestamp;
	fw_init(&o->scratch, -1);
}

void
ro_free(struct record_out *o)
{
	free(o->scratch.buf);
	o->scratch.buf = NULL;
}

void
ro_end(struct record_out *o)
{
	if (o->add_timestamp)
		fw_i64(o->w, o->arrival);
	fw_end_record(o->w);
	o->rows++;
}

struct frame_writer *
ro_begin(struct record_out *o)
{
	o->scratch.len = 0;
	o->scratch.nfields = 0;
	return &o->scratch;
}

void
ro_room(struct record_out *o, size_t n)
{
	struct frame_writer *s = &o->scratch;

	if (s->cap - s->len >= n)
		return;
	while (s->cap - s->len < n)
		s->cap *= 2;
	s->buf = xrealloc(s->buf, s->cap);
}

void
ro_commit(struct record_out *o)
{
	struct slice all = { o->scratch.buf, o->scratch.len };

	/* One raw "field" holding the record's TAB-joined fields; the
	 * writer is at a record boundary, so no separator goes before it. */
	fw_field_raw(o->w, all);
	ro_end(o);
}

void
ro_raw_lines(struct record_out *o, const char *p, size_t n, uint64_t nrows)
{
	struct frame_writer *w = o->w;

	o->rows += nrows;
	if (n <= w->cap - w->len) {
		memcpy(w->buf + w->len, p, n);
		w->len += n;
		return;
	}
	if (fw_flush(w) < 0)
		return;
	if (n < w->cap) {
		memcpy(w->buf, p, n);
		w->len = n;
		return;
	}
	/* Bigger than the writer's buffer: skip the copy. */
	while (n > 0) {
		ssize_t k = write(w->fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			w->error = errno;
			return;
		}
		p += k;
		n -= (size_t)k;
	}
}

int
ro_bad(struct record_out *o, const char *name, long line, const char *raw,
    size_t n, const char *reason, char *err)
{
	struct bad_origin here = { .path = name, .line = line };
	const struct bad_origin *w = o->kafka_origin ? &o->origin : &here;

	if (badrec_add(o->policy, w, raw, n, reason, err) < 0)
		return -1;
	o->rows++;
	o->bad++;
	return 0;
}

void
ro_origin_kafka(struct record_out *o, const char *topic, int32_t partition,
    int64_t offset)
{
	o->kafka_origin = true;
	o->origin.path = NULL;
	o->origin.line = 0;
	o->origin.topic = topic;
	o->origin.partition = partition;
	o->origin.offset = offset;
}

void
ro_origin_clear(struct record_out *o)
{
	o->kafka_origin = false;
	memset(&o->origin, 0, sizeof o->origin);
}

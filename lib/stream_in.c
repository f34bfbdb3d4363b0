/*
 * stream_in.c: chunked reading and line cutting for byte-stream sources.
 *
 * This is the hot path of `ssrc - | ssplit | scount`.  Lines are found
 * with memchr(), and a text line with none of the four bytes a frame
 * escapes (backslash, TAB, CR, NUL; LF cannot occur) is already its own
 * data frame, so runs of such lines go out with one copy (ro_raw_lines())
 * instead of a byte-by-byte escape.  The next position of each of the
 * four bytes is found with memchr() too and remembered, so the input is
 * scanned a bounded number of times however the special bytes fall.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "rtime.h"
#include "stream_in.h"

#define STREAM_BUFSIZE	(1024 * 1024)
#define STREAM_MIN_READ	(256 * 1024)

void
stream_in_init(struct stream_in *in, int fd, const char *name,
    const struct source_options *opt, const struct schema *schema)
{
	memset(in, 0, sizeof *in);
	in->fd = fd;
	in->name = name;
	in->format = opt->format;
	in->raw_ok = !opt->include_timestamp;
	in->max_record = opt->max_record;
	in->schema = schema;
	in->cap = STREAM_BUFSIZE;
	in->buf = xmalloc(in->cap);
	if (opt->format == SOURCE_CSV)
		in->csv = csv_in_new(schema, opt->header, name,
		    opt->max_record);
	else if (opt->format == SOURCE_JSON)
		in->json = json_in_new(schema, name);
}

void
stream_in_free(struct stream_in *in)
{
	free(in->buf);
	in->buf = NULL;
	csv_in_free(in->csv);
	in->csv = NULL;
	json_in_free(in->json);
	in->json = NULL;
}

static int
too_long(struct stream_in *in, long line, char *err)
{
	return seterr(err, "%s:%ld: line longer than %zu bytes "
	    "(--max-record-size)", in->name, line, in->max_record);
}

/* One text line through the escaping writer. */
static void
text_line(struct record_out *o, const char *p, size_t n, bool crlf)
{
	if (crlf && n > 0 && p[n - 1] == '\r')
		n--;
	fw_field(o->w, p, n);
	ro_end(o);
}

static const char special_byte[4] = { '\\', '\t', '\r', '\0' };

static const char *
find_special(const char *p, const char *end, const char *next[4])
{
	const char *first = end;

	for (int i = 0; i < 4; i++) {
		if (next[i] < p) {
			next[i] = memchr(p, special_byte[i], (size_t)(end - p));
			if (next[i] == NULL)
				next[i] = end;
		}
		if (next[i] < first)
			first = next[i];
	}
	return first;
}

/* Take the complete text lines of the buffer, up to the row limit. */
static int
text_lines(struct stream_in *in, struct record_out *o, uint64_t limit,
    char *err)
{
	const char *p = in->buf + in->pos, *end = in->buf + in->len;
	const char *run = p, *next[4] = { NULL, NULL, NULL, NULL };
	const char *special = in->raw_ok ? find_special(p, end, next) : p;
	uint64_t nrun = 0;

	while (p < end) {
		const char *nl;

		if (o->rows + nrun >= limit) {
			in->more = memchr(p, '\n', (size_t)(end - p)) != NULL;
			break;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		if ((size_t)(nl - p) > in->max_record) {
			ro_raw_lines(o, run, (size_t)(p - run), nrun);
			return too_long(in, in->line + (long)nrun + 1, err);
		}
		/* Without raw_ok special is just p: an empty first line
		 * would pass as raw and lose its timestamp field (found by
		 * tests/fuzz/fuzz_csv). */
		if (in->raw_ok && special >= nl) {
			nrun++;
			p = nl + 1;
			continue;
		}
		if (nrun > 0) {
			ro_raw_lines(o, run, (size_t)(p - run), nrun);
			in->line += (long)nrun;
			nrun = 0;
		}
		text_line(o, p, (size_t)(nl - p), true);
		in->line++;
		p = run = nl + 1;
		if (in->raw_ok && special < p)
			special = find_special(p, end, next);
	}
	if (nrun > 0) {
		ro_raw_lines(o, run, (size_t)(p - run), nrun);
		in->line += (long)nrun;
	}
	in->offset += (uint64_t)(p - (in->buf + in->pos));
	in->pos = (size_t)(p - in->buf);
	in->commit_line = in->line;
	in->commit_offset = in->offset;
	return 0;
}

/* Take complete csv or json lines, up to the row limit. */
static int
decoded_lines(struct stream_in *in, struct record_out *o, uint64_t limit,
    char *err)
{
	const char *p = in->buf + in->pos, *end = in->buf + in->len;
	int rc = 0;

	while (p < end && rc == 0) {
		const char *nl;

		if (o->rows >= limit) {
			in->more = memchr(p, '\n', (size_t)(end - p)) != NULL;
			break;
		}
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			break;
		if ((size_t)(nl - p) > in->max_record)
			return too_long(in, in->line + 1, err);
		in->line++;
		if (in->csv != NULL)
			rc = csv_in_line(in->csv, p, (size_t)(nl - p) + 1,
			    in->line, o, err);
		else
			rc = json_in_line(in->json, p, (size_t)(nl - p),
			    in->line, o, err);
		in->offset += (uint64_t)(nl + 1 - p);
		p = nl + 1;
		if (in->csv == NULL || !csv_in_pending(in->csv)) {
			in->commit_line = in->line;
			in->commit_offset = in->offset;
		}
	}
	in->pos = (size_t)(p - in->buf);
	return rc;
}

static int
drain(struct stream_in *in, struct record_out *o, uint64_t limit, char *err)
{
	int rc;

	in->more = false;
	if (in->format == SOURCE_TEXT)
		rc = text_lines(in, o, limit, err);
	else
		rc = decoded_lines(in, o, limit, err);
	if (rc == 0 && !in->more && in->len - in->pos > in->max_record)
		return too_long(in, in->line + 1, err);
	return rc;
}

/* The input ended: its last line may lack a newline. */
static int
finish(struct stream_in *in, struct record_out *o, char *err)
{
	const char *p = in->buf + in->pos;
	size_t n = in->len - in->pos;
	int rc = 0;

	if (n > 0) {
		in->line++;
		if (in->format == SOURCE_TEXT)
			text_line(o, p, n, false);
		else if (in->csv != NULL)
			rc = csv_in_line(in->csv, p, n, in->line, o, err);
		else
			rc = json_in_line(in->json, p, n, in->line, o, err);
		in->offset += n;
		in->pos = in->len;
	}
	if (rc == 0 && in->csv != NULL)
		rc = csv_in_finish(in->csv, o, err);
	in->commit_line = in->line;
	in->commit_offset = in->offset;
	in->done = true;
	return rc;
}

/* Read once into the buffer.  Returns 0 or -1 with err. */
static int
fill(struct stream_in *in, struct record_out *o, char *err)
{
	ssize_t n;

	if (in->pos > 0) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	if (in->cap - in->len < STREAM_MIN_READ) {
		/* Only a line not yet complete is this long; drain()
		 * bounds it by max_record. */
		in->cap *= 2;
		in->buf = xrealloc(in->buf, in->cap);
	}
	do
		n = read(in->fd, in->buf + in->len, in->cap - in->len);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n < 0)
		return seterr(err, "%s: read error: %s", in->name,
		    strerror(errno));
	if (n == 0)
		in->eof = true;
	else if (!in->raw_ok)
		o->arrival = now_micros();
	in->len += (size_t)n;
	return 0;
}

int
stream_in_read(struct stream_in *in, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	if (in->done)
		return SOURCE_END;
	if (drain(in, o, limit, err) < 0)
		return -1;
	if (in->more)
		return SOURCE_MORE;
	if (may_read && !in->eof) {
		if (fill(in, o, err) < 0 || drain(in, o, limit, err) < 0)
			return -1;
		if (in->more)
			return SOURCE_MORE;
	}
	if (!in->eof)
		return SOURCE_OK;
	if (finish(in, o, err) < 0)
		return -1;
	return SOURCE_END;
}

bool
stream_in_buffered(const struct stream_in *in)
{
	return in->more || (in->eof && !in->done);
}

void
stream_in_position(const struct stream_in *in, struct strbuf *out)
{
	sb_addf(out, "offset=%" PRIu64 " line=%ld", in->commit_offset,
	    in->commit_line);
}

int
stream_source_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	return stream_in_read(s->priv, o, limit, may_read, err);
}

bool
stream_source_buffered(const struct source *s)
{
	return stream_in_buffered(s->priv);
}

void
stream_source_position(const struct source *s, struct strbuf *out)
{
	stream_in_position(s->priv, out);
}

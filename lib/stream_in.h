/*
 * stream_in.h: records from a byte stream (stdin, a socket; later a file
 * or a followed file): reading big chunks, cutting lines, decoding them
 * as text, csv or json.
 *
 * Text: one record per line, field value = the line without its newline
 * (and without the CR of a CRLF); a last line without newline is a record
 * too.  csv and json: see csv_in.h and json_in.h.  A line longer than
 * max_record bytes is an error naming it.
 *
 * The stream reads only when told it may (stream_in_read()'s may_read),
 * so it never blocks; between reads it keeps at most one partial line
 * (plus the lines left when a batch reached its row limit).  Nothing is
 * allocated per record.
 *
 * The functions named stream_source_* are the source_type operations of
 * every byte-stream source whose priv is a struct stream_in.
 */
#ifndef RUNNEL_STREAM_IN_H
#define RUNNEL_STREAM_IN_H

#include <stdbool.h>
#include <stdint.h>

#include "csv_in.h"
#include "json_in.h"
#include "record_out.h"
#include "source.h"

struct stream_in {
	int fd;
	const char *name;	/* for messages */
	enum source_format format;
	bool raw_ok;		/* text lines may be copied as frames */
	size_t max_record;
	const struct schema *schema;
	char *buf;
	size_t cap, pos, len;	/* unread input is buf[pos, len) */
	long line;		/* lines taken */
	uint64_t offset;	/* bytes taken */
	long commit_line;	/* the position after the last whole record */
	uint64_t commit_offset;
	bool more;		/* stopped at the row limit with lines left */
	bool eof, done;
	struct csv_in *csv;
	struct json_in *json;
};

/* Read fd (not owned) as s's options say, naming it name in messages;
 * schema (csv, json) and name must outlive in. */
void stream_in_init(struct stream_in *in, int fd, const char *name,
    const struct source_options *opt, const struct schema *schema);
void stream_in_free(struct stream_in *in);
/* As source_type.read.  Returns an enum source_status or -1 with err. */
int stream_in_read(struct stream_in *in, struct record_out *o,
    uint64_t limit, bool may_read, char *err);
bool stream_in_buffered(const struct stream_in *in);
void stream_in_position(const struct stream_in *in, struct strbuf *out);

/* source_type operations for sources whose priv is a stream_in. */
int stream_source_read(struct source *s, struct record_out *o,
    uint64_t limit, bool may_read, char *err);
bool stream_source_buffered(const struct source *s);
void stream_source_position(const struct source *s, struct strbuf *out);

#endif

/*
 * source.h: where ssrc's records come from.
 *
 * The SOURCE argument is "SCHEME:ARG" ("socket:9999") or a bare name
 * ("stdin", or "-" for it).  Each kind of source is one struct
 * source_type, in its own lib/source_NAME.c, and one line of the table in
 * source.c: adding a source takes nothing else in the library or in ssrc.
 *
 * Life of a source, as cmd/ssrc.c drives it:
 *   source_init()   find SOURCE in the table, check its argument and the
 *                   options that concern it, set s->schema (the fields of
 *                   every record); no I/O, so its errors are usage errors;
 *   source_open()   open, connect...; its errors are runtime errors;
 *   then, until source_read() says SOURCE_END:
 *                   wait until s->fd is readable (poll()) unless
 *                   source_buffered() says records wait in memory, then
 *                   source_read() turns what is there into records;
 *   source_close()  (also fine after a failed or missing open).
 * source_read() never blocks: it reads at most once, and only when the
 * caller saw the input ready, so the caller alone decides when a batch
 * ends (the input would block, a timer, a row cap) and can stop on a
 * signal between reads.
 *
 * Positions: source_position() writes one line of text saying where the
 * input stands after the last record emitted ("offset=1234 line=56" for a
 * byte stream).  A checkpoint logs it at the end of each batch
 * (DIR/offsets/N); a replayable source (seek != NULL) can start from such
 * a position again.  socket and stdin are not replayable.
 *
 * Formats: byte-stream sources (stdin, socket) decode lines as text
 * (field value), csv or json (the --schema fields); --include-timestamp
 * adds a last field timestamp, the arrival time of the input.
 */
#ifndef RUNNEL_SOURCE_H
#define RUNNEL_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "record_out.h"
#include "schema.h"
#include "strbuf.h"

enum source_format {
	SOURCE_TEXT,
	SOURCE_CSV,
	SOURCE_JSON,
};

/* Options as ssrc parsed them; each source checks those it takes. */
struct source_options {
	enum source_format format;
	const struct schema *schema;	/* --schema; NULL when not given */
	bool header;			/* --header */
	bool include_timestamp;		/* --include-timestamp */
	size_t max_record;		/* --max-record-size, bytes */
};

/* What source_read() returns (or -1 with err). */
enum source_status {
	SOURCE_OK,	/* everything read so far was emitted; wait for input */
	SOURCE_MORE,	/* stopped at the limit; records wait in memory */
	SOURCE_END,	/* the input ended and its last records were emitted */
};

#define SOURCE_NAME_MAX 320

struct source {
	const struct source_type *type;
	const char *spec;	/* the SOURCE argument, as given */
	const char *arg;	/* what follows "SCHEME:" ("" for a bare name) */
	char name[SOURCE_NAME_MAX];	/* for messages: "stdin",
					   "socket:localhost:9999" */
	struct source_options opt;
	struct schema schema;	/* fields of every record, in order */
	int fd;			/* readable when input waits; -1: none */
	void *priv;		/* the type's own state */
};

struct source_type {
	const char *scheme;	/* "socket", or a bare name: "stdin" */
	bool bare;		/* named without ":ARG" */
	int (*init)(struct source *s, char *err);
	int (*open)(struct source *s, char *err);
	/* Emit records into o until o->rows reaches limit.  With may_read,
	 * read the input once (the caller saw s->fd readable); without,
	 * only decode what is buffered. */
	int (*read)(struct source *s, struct record_out *o, uint64_t limit,
	    bool may_read, char *err);
	bool (*buffered)(const struct source *s);
	void (*position)(const struct source *s, struct strbuf *out);
	/* Resume from a position; NULL: the source is not replayable. */
	int (*seek)(struct source *s, const char *position, char *err);
	void (*close)(struct source *s);
};

/*
 * Look SOURCE up and check it with the options.  Returns 0, or -1 with
 * err: an unknown scheme (the message lists the known ones), one not
 * supported yet, a bad argument or option.  spec and opt's schema must
 * outlive s.
 */
int source_init(struct source *s, const char *spec,
    const struct source_options *opt, char *err);
int source_open(struct source *s, char *err);
/* Returns an enum source_status or -1 with err. */
int source_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err);
bool source_buffered(const struct source *s);
void source_position(const struct source *s, struct strbuf *out);
bool source_replayable(const struct source *s);
void source_close(struct source *s);

/* For source types: the record schema of a byte stream per opt (value
 * STRING for text, else the --schema fields; then timestamp TIMESTAMP
 * with --include-timestamp) into s->schema.  Returns 0 or -1 with err. */
int source_stream_schema(struct source *s, char *err);

#endif

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
 *   [checkpoint]    source_restore() with what earlier runs journaled,
 *                   source_seek() to where the stream resumes;
 *   source_open()   open, connect...; its errors are runtime errors;
 *   then, until source_read() says SOURCE_END:
 *                   wait until s->fd is readable (poll()) unless
 *                   source_buffered() says records wait in memory, then
 *                   source_read() turns what is there into records;
 *   source_close()  (also fine after a failed or missing open).
 * source_read() never blocks: it reads at most once, and only when the
 * caller saw the input ready, so the caller alone decides when a batch
 * ends (the input would block, a timer, a row cap) and can stop on a
 * signal between reads.  A source that has its own batch boundaries
 * (file: --max-files-per-trigger files, or every file ready at once)
 * says SOURCE_BATCH when it reaches one.
 *
 * Bounded input (opt.bounded, --trigger once|available-now): the source
 * takes what is there when it opens and then says SOURCE_END (file: the
 * files listed at open; tail: up to the end of the file; rate: the rows
 * due at open; stdin and socket end anyway).
 *
 * Positions: source_position() writes one line of text saying where the
 * input stands after the last record emitted ("offset=1234 line=56" for a
 * byte stream).  A checkpoint logs it at the end of each batch
 * (DIR/offsets/N); a replayable source (seek != NULL) can start from such
 * a position again.  socket and stdin are not replayable.  A source whose
 * position cannot say everything a later run needs (the file source:
 * which files it has taken, so that they are never read twice) keeps a
 * journal: text lines that ssrc stores with each batch's offsets and, now
 * and then, compacted in DIR/sources/SCHEME/journal, and gives back with
 * source_restore() before the source opens.
 *
 * Formats: byte-stream sources (stdin, socket, file) decode lines as text
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
	bool bounded;			/* --trigger once|available-now */
	/* file: */
	size_t max_files;		/* --max-files-per-trigger; 0: all */
	bool latest_first;		/* --latest-first */
	const char *pattern;		/* --pattern GLOB, or NULL */
	const char *clean_source;	/* --clean-source, or NULL */
	/* rate: */
	int64_t ramp_up;		/* --ramp-up, micros; 0: none */
	unsigned given;			/* enum source_option_flag: the
					   options given, for messages */
};

/* Which options ssrc was given, for sources to refuse those that are not
 * theirs (source_check_options()). */
enum source_option_flag {
	SOPT_MAX_FILES = 1 << 0,
	SOPT_LATEST_FIRST = 1 << 1,
	SOPT_PATTERN = 1 << 2,
	SOPT_CLEAN_SOURCE = 1 << 3,
	SOPT_RAMP_UP = 1 << 4,
	SOPT_INCLUDE_TS = 1 << 5,
	SOPT_FORMAT = 1 << 6,		/* --format other than text */
	SOPT_KAFKA = 1 << 7,		/* --bootstrap-servers, -X, ... */
};

/* What source_read() returns (or -1 with err). */
enum source_status {
	SOURCE_OK,	/* everything read so far was emitted; wait for input */
	SOURCE_MORE,	/* stopped at the limit; records wait in memory */
	SOURCE_END,	/* the input ended and its last records were emitted */
	SOURCE_BATCH,	/* a batch of the source's own ends here (file: the
			   files of one trigger); end the data batch now,
			   even without rows, then read on */
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
	bool replaying;		/* ssrc replays a logged batch: read only
				   what was taken before (file: no new
				   file; say SOURCE_BATCH when none is left) */
	const char *replay_end;	/* while replaying: the batch's logged end
				   position.  ssrc reads exactly the batch's
				   logged number of rows from its start; a
				   source whose order is not fixed (Kafka's
				   partitions) should also stop each part of
				   its input at this position */
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
	/* Resume from a position; NULL: the source is not replayable.
	 * Called before open (the position a run resumes from) or after
	 * (the end of a replayed batch). */
	int (*seek)(struct source *s, const char *position, char *err);
	void (*close)(struct source *s);

	/* Optional (NULL: nothing to say).  journal() appends the lines
	 * (each ending in a newline) that say what the source took since
	 * the last call, as part of batch n; compact() appends lines
	 * equivalent to every journal line so far plus its state of
	 * clean-up; restore() takes both kinds back, before open, skipping
	 * entries of batches after last (plans that will be made again). */
	void (*journal)(struct source *s, int64_t n, struct strbuf *out);
	void (*compact)(const struct source *s, struct strbuf *out);
	int (*restore)(struct source *s, const char *lines, int64_t last,
	    char *err);
	/* Optional: everything before position pos is done with (written
	 * downstream, or committed with a checkpoint): --clean-source may
	 * delete or archive it.  Returns 0, or -1 with err, a warning: the
	 * source goes on either way. */
	int (*done)(struct source *s, const char *pos, char *err);
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
/* Returns 0 or -1 with err ("file:in: bad position '...'"). */
int source_seek(struct source *s, const char *position, char *err);
void source_close(struct source *s);
/* The optional calls; each is a no-op (0) when the type has none. */
void source_journal(struct source *s, int64_t n, struct strbuf *out);
void source_compact(const struct source *s, struct strbuf *out);
int source_restore(struct source *s, const char *lines, int64_t last,
    char *err);
int source_done(struct source *s, const char *pos, char *err);
/* Does source_done() do anything (--clean-source given, and a source
 * that cleans)? */
bool source_has_done(const struct source *s);

/* For source types: refuse (-1 with err) any option in s->opt.given that is
 * not in allowed, naming the first one and the source. */
int source_check_options(const struct source *s, unsigned allowed,
    char *err);

/* For source types: the record schema of a byte stream per opt (value
 * STRING for text, else the --schema fields; then timestamp TIMESTAMP
 * with --include-timestamp) into s->schema.  Returns 0 or -1 with err. */
int source_stream_schema(struct source *s, char *err);

#endif

/*
 * sink.h: where a query's result goes: the sink interface behind ssink(1).
 *
 * A sink type is a table entry (struct sink_type) naming the SINK argument
 * it answers to ("console", "stdout", "file:DIR", "kafka:TOPIC"), the
 * options it accepts and its operations.  ssink(1) drives every sink the
 * same way:
 *
 *   open         once, with the options and the input's schema;
 *   begin        when a batch that will be output starts (its first row,
 *                or its epoch frame for an empty batch that is shown);
 *   row          for each data record of that batch, raw wire fields;
 *   end          at the batch's epoch frame: the COMMIT POINT.  When end
 *                returns 0 the batch is visible/durable in the sink (shown
 *                on the console, written to stdout, renamed into place,
 *                committed in Kafka), so a checkpoint may record it;
 *   position     (optional) after end, with a checkpoint: one line for
 *                the commit, given back to the next run (resume);
 *   notice       (optional) after end: a line for stderr, if any;
 *   discard      (optional) instead of close after a failure;
 *   close        once, at the end of the stream (final) or on a stop
 *                (pause), after the last end; frees the sink's state even
 *                when it fails.
 *
 * Batches the command elides (no-data batches that brought no rows, see
 * runnel(7)) reach no operation at all.  The batch id is only certain at
 * the epoch frame, which ends the batch (end gets it); begin gets the id
 * the batch will have when the command knows it: with a checkpoint the
 * first batch is C+1 (checkpoint.h) and each next one follows the last
 * epoch frame by one; -1 otherwise.  A sink that relies on it checks it
 * against the epoch frame at end.  Such a sink sets begin_batch, which is
 * then called instead of begin (optional, so that the sinks that have no
 * use for the id keep their begin).
 *
 * Every operation returns 0; -1 with err filled (a message without the
 * command's name, e.g. "write error on stdout: No space left on device");
 * SINK_BAD_ROW (row only) when the record holds a malformed value, err
 * naming the field, for the command to prefix with the input line; or
 * SINK_GONE when the reader went away (EPIPE on a pipe): the command then
 * exits quietly with status 0, as a Unix filter does.
 *
 * Before open, ssink calls check (when the type has one) with the input's
 * schema: a mistake it finds (a --partition-by field the input lacks) is a
 * usage error, exit 2, and nothing has been written yet.
 *
 * Adding a sink: write lib/sink_NAME.c defining `const struct sink_type
 * sink_NAME`, declare it below and put it in the table in lib/sink.c.
 * Options only one sink takes travel outside sink_options (the kafka
 * sink's: sink_kafka_settings()); ssink refuses them for other sinks
 * through the type's options bits.
 */
#ifndef RUNNEL_SINK_H
#define RUNNEL_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "frame.h"
#include "schema.h"
#include "strbuf.h"

#define SINK_GONE	(-2)
#define SINK_BAD_ROW	(-3)

/* Options a sink type may accept; ssink refuses the others (exit 2). */
enum {
	SINK_OPT_FORMAT = 1 << 0,	/* --format */
	SINK_OPT_HEADER = 1 << 1,	/* --header, --no-header */
	SINK_OPT_NUM_ROWS = 1 << 2,	/* --num-rows */
	SINK_OPT_TRUNCATE = 1 << 3,	/* --no-truncate */
	SINK_OPT_PARTITION_BY = 1 << 4,	/* --partition-by */
	SINK_OPT_KAFKA = 1 << 5,	/* --bootstrap-servers, --key, --value,
					 * --timeout, -X (sink_kafka.h) */
};
#define SINK_NOPTS	6		/* bits above */

enum sink_format {
	SINK_FORMAT_NONE,
	SINK_FORMAT_CSV,
	SINK_FORMAT_JSON,
	SINK_FORMAT_TSV,
};

/* Everything the command line can say to a sink; later sinks add fields. */
struct sink_options {
	const char *target;		/* after "scheme:" (DIR, TOPIC), or NULL */
	enum sink_format format;	/* resolved: never NONE for a sink with
					 * SINK_OPT_FORMAT */
	bool header;			/* csv/tsv header row (--header,
					 * --no-header, else the type's
					 * header_default) */
	const char *const *partition_by; /* --partition-by fields, in order */
	size_t npartition_by;
	const char *query_id;		/* the query's id (names the file
					 * sink's part files): never NULL */
	const char *run_id;		/* this run's id, or "" */
	/* With a checkpoint: the batch this run replays first (the
	 * header's @replay: a run before this one planned it and may have
	 * written part of it), else -1; and the position the sink gave for
	 * the last commit (position below), or NULL. */
	int64_t replay_batch;
	const char *resume;
	long long num_rows;		/* console: rows shown (default 20) */
	bool truncate;			/* console: cut cells at 20 chars */
	int fd;				/* where console/stdout write (1) */
};

struct sink;

struct sink_type {
	const char *name;		/* scheme: "console", "file" */
	const char *alias;		/* another name ("-"), or NULL */
	const char *target;		/* "DIR" when it needs "name:DIR", or NULL */
	unsigned options;		/* SINK_OPT_* accepted */
	const enum sink_format *formats; /* accepted, NONE-terminated; the
					 * first is the default */
	bool supported;			/* false: recognised, not implemented */
	bool header_default;		/* csv header without --header or
					 * --no-header */

	/* The operations (see the top of this file).  open returns the
	 * sink's state, or NULL with err.  check may be NULL; it returns
	 * 0, or -1 with err for a usage error. */
	int (*check)(const struct sink_options *o, const struct schema *s,
	    char *err);
	void *(*open)(const struct sink_options *o, const struct schema *s,
	    char *err);
	int (*begin)(void *state, char *err);
	int (*begin_batch)(void *state, int64_t batch, char *err);
	int (*row)(void *state, const struct record *rec, char *err);
	int (*end)(void *state, const struct epoch *e, char *err);
	int (*close)(void *state, bool final, char *err);
	/* Optional: where the sink stands after the last end, one line,
	 * malloc'd (or NULL), recorded in the checkpoint's commit and given
	 * back to the next run as sink_options.resume. */
	char *(*position)(void *state);
	/* Optional: after end, something the user should know about that
	 * batch (not an error), as one line in buf (ERRBUF_SIZE); false if
	 * nothing.  The command shows it on stderr. */
	bool (*notice)(void *state, char *buf);
	/* Optional: after a failure, before the command exits: release
	 * what outlives the process or runs beside it (temporary files, a
	 * client's threads), writing nothing more. */
	void (*discard)(void *state);
};

struct sink {
	const struct sink_type *type;
	void *state;
};

/* The sink types, and the SINK argument -> type lookup. */
extern const struct sink_type sink_console;
extern const struct sink_type sink_stdout;
extern const struct sink_type sink_file;
extern const struct sink_type sink_kafka;

/*
 * Find the type for SINK argument arg ("console", "-", "file:out").
 * Returns it and sets *target to what follows "scheme:" (or NULL), or
 * returns NULL with err for an unknown name, a missing or unexpected
 * target.  A recognised type that is not supported yet is returned: the
 * caller checks ->supported.
 */
const struct sink_type *sink_lookup(const char *arg, const char **target,
    char *err);
/* "console, -, stdout, file:DIR, kafka:TOPIC", for messages and usage. */
const char *sink_names(void);

const char *sink_format_name(enum sink_format f);
/* Returns the format named name, or SINK_FORMAT_NONE. */
enum sink_format sink_format_parse(const char *name);
bool sink_accepts_format(const struct sink_type *t, enum sink_format f);

/* Thin wrappers that call the type's operations. */
/* The type's check, or 0 when it has none. */
int sink_check(const struct sink_type *t, const struct sink_options *o,
    const struct schema *s, char *err);
int sink_open(struct sink *k, const struct sink_type *t,
    const struct sink_options *o, const struct schema *s, char *err);
int sink_begin(struct sink *k, int64_t batch, char *err);
int sink_row(struct sink *k, const struct record *rec, char *err);
int sink_end(struct sink *k, const struct epoch *e, char *err);
int sink_close(struct sink *k, bool final, char *err);
/* The type's position, or NULL when it has none. */
char *sink_position(struct sink *k);
/* The type's notice; false when it has none. */
bool sink_notice(struct sink *k, char *buf);
/* After a failure: the type's discard, if it has one (then the sink is
 * gone). */
void sink_discard(struct sink *k);

/*
 * Write all of buf to fd and empty buf: the output path shared by the
 * console and stdout sinks.  name is for the message ("stdout").
 * Returns 0, SINK_GONE on EPIPE, or -1 with err "write error on NAME: ...".
 */
int sink_write_all(int fd, const char *name, struct strbuf *buf, char *err);

#endif

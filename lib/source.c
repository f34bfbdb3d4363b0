/*
 * source.c: the table of sources and the calls that dispatch through it.
 *
 * A scheme with a NULL type is a name CLI.md promises that this build
 * does not read yet: it is recognised, and refused with a usage error,
 * rather than called unknown.  Adding it means writing its
 * lib/source_NAME.c and putting its type here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "source.h"

extern const struct source_type source_socket, source_stdin, source_file,
    source_tail, source_kafka, source_rate;

#define STREAM_OPTS	(SOPT_FORMAT | SOPT_INCLUDE_TS)
#define FILE_OPTS	(SOPT_FORMAT | SOPT_MAX_FILES | SOPT_LATEST_FIRST | \
			 SOPT_PATTERN | SOPT_CLEAN_SOURCE)

static const struct {
	const char *scheme;
	const char *usage;		/* as CLI.md writes it */
	const struct source_type *type;	/* NULL: not supported yet */
	unsigned options;		/* the source_option_flags it takes */
} sources[] = {
	{ "socket", "socket:[HOST:]PORT", &source_socket, STREAM_OPTS },
	{ "stdin", "stdin or -", &source_stdin, STREAM_OPTS },
	{ "file", "file:DIR", &source_file, FILE_OPTS },
	{ "tail", "tail:PATH", &source_tail, SOPT_FORMAT },
	{ "kafka", "kafka:TOPIC[,TOPIC...]", &source_kafka,
	    SOPT_FORMAT | SOPT_KAFKA },
	{ "rate", "rate:N", &source_rate, SOPT_RAMP_UP },
};
#define NSOURCES (sizeof sources / sizeof sources[0])

static void
list(char *buf, size_t size, bool supported_only)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NSOURCES && len < size; i++) {
		if (supported_only && sources[i].type == NULL)
			continue;
		len += (size_t)snprintf(buf + len, size - len, "%s%s",
		    len ? ", " : "", sources[i].usage);
	}
}

int
source_init(struct source *s, const char *spec,
    const struct source_options *opt, char *err)
{
	const char *colon = strchr(spec, ':');
	size_t n = colon ? (size_t)(colon - spec) : strlen(spec);
	char known[512];
	size_t i;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->spec = spec;
	s->opt = *opt;
	schema_init(&s->schema);
	if (strcmp(spec, "-") == 0)
		n = strlen("stdin"), spec = "stdin";
	for (i = 0; i < NSOURCES; i++)
		if (strlen(sources[i].scheme) == n &&
		    strncmp(sources[i].scheme, spec, n) == 0)
			break;
	if (i == NSOURCES) {
		list(known, sizeof known, false);
		return seterr(err, "unknown source '%s' (known: %s)", s->spec,
		    known);
	}
	if (sources[i].type == NULL) {
		list(known, sizeof known, true);
		return seterr(err, "source '%s:' is not supported yet (this "
		    "build reads %s)", sources[i].scheme, known);
	}
	s->type = sources[i].type;
	if (s->type->bare && colon != NULL)
		return seterr(err, "source '%s' takes no argument (write %s)",
		    s->spec, sources[i].usage);
	if (!s->type->bare && colon == NULL)
		return seterr(err, "source '%s' needs an argument: %s",
		    s->spec, sources[i].usage);
	s->arg = colon ? colon + 1 : "";
	snprintf(s->name, sizeof s->name, "%s", spec);
	if (source_check_options(s, sources[i].options, err) < 0)
		return -1;
	return s->type->init(s, err);
}

int
source_open(struct source *s, char *err)
{
	return s->type->open(s, err);
}

int
source_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	return s->type->read(s, o, limit, may_read, err);
}

bool
source_buffered(const struct source *s)
{
	return s->type->buffered(s);
}

void
source_position(const struct source *s, struct strbuf *out)
{
	s->type->position(s, out);
}

bool
source_replayable(const struct source *s)
{
	return s->type->seek != NULL;
}

int
source_seek(struct source *s, const char *position, char *err)
{
	if (s->type->seek == NULL)
		return seterr(err, "%s: cannot resume from a position (the "
		    "source is not replayable)", s->name);
	return s->type->seek(s, position, err);
}

void
source_journal(struct source *s, int64_t n, struct strbuf *out)
{
	if (s->type->journal != NULL)
		s->type->journal(s, n, out);
}

void
source_compact(const struct source *s, struct strbuf *out)
{
	if (s->type->compact != NULL)
		s->type->compact(s, out);
}

int
source_restore(struct source *s, const char *lines, int64_t last, char *err)
{
	if (s->type->restore == NULL)
		return 0;
	return s->type->restore(s, lines, last, err);
}

int
source_done(struct source *s, const char *pos, char *err)
{
	if (s->type->done == NULL)
		return 0;
	return s->type->done(s, pos, err);
}

bool
source_has_done(const struct source *s)
{
	/* --clean-source is the only clean-up there is. */
	return s->type->done != NULL && s->opt.clean_source != NULL;
}

static const struct {
	unsigned flag;
	const char *name;
} option_names[] = {
	{ SOPT_MAX_FILES, "--max-files-per-trigger" },
	{ SOPT_LATEST_FIRST, "--latest-first" },
	{ SOPT_PATTERN, "--pattern" },
	{ SOPT_CLEAN_SOURCE, "--clean-source" },
	{ SOPT_RAMP_UP, "--ramp-up" },
	{ SOPT_INCLUDE_TS, "--include-timestamp" },
	{ SOPT_FORMAT, "--format csv|json" },
	{ SOPT_KAFKA, "--bootstrap-servers, --starting-offsets, -X, "
	    "--include-headers, --timeout, --group, "
	    "--max-offsets-per-trigger" },
};

int
source_check_options(const struct source *s, unsigned allowed, char *err)
{
	for (size_t i = 0; i < sizeof option_names / sizeof option_names[0];
	    i++)
		if ((s->opt.given & option_names[i].flag) &&
		    !(allowed & option_names[i].flag))
			return seterr(err, "%s is not an option of source "
			    "'%s:'", option_names[i].name, s->type->scheme);
	return 0;
}

void
source_close(struct source *s)
{
	if (s->type != NULL && s->type->close != NULL)
		s->type->close(s);
	schema_free(&s->schema);
	s->type = NULL;
}

int
source_stream_schema(struct source *s, char *err)
{
	schema_free(&s->schema);
	schema_init(&s->schema);
	if (s->opt.format == SOURCE_TEXT) {
		if (schema_add(&s->schema, "value", TYPE_STRING, err) < 0)
			return -1;
	} else if (s->opt.schema == NULL) {
		return seterr(err, "--format %s needs --schema (e.g. "
		    "--schema 'name STRING, age INT')",
		    s->opt.format == SOURCE_CSV ? "csv" : "json");
	} else {
		schema_copy(&s->schema, s->opt.schema);
	}
	if (s->opt.include_timestamp &&
	    schema_add(&s->schema, "timestamp", TYPE_TIMESTAMP, err) < 0)
		return seterr(err, "--include-timestamp: the schema already "
		    "has a field 'timestamp'");
	return 0;
}

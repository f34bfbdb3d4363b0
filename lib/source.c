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

extern const struct source_type source_socket, source_stdin;

static const struct {
	const char *scheme;
	const char *usage;		/* as CLI.md writes it */
	const struct source_type *type;	/* NULL: not supported yet */
} sources[] = {
	{ "socket", "socket:[HOST:]PORT", &source_socket },
	{ "stdin", "stdin or -", &source_stdin },
	{ "file", "file:DIR", NULL },
	{ "tail", "tail:PATH", NULL },
	{ "kafka", "kafka:TOPIC[,TOPIC...]", NULL },
	{ "rate", "rate:N", NULL },
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

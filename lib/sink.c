/*
 * sink.c: the table of sink types, the SINK argument lookup and the
 * dispatch of the sink operations (see sink.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "sink.h"

static const struct sink_type *const sink_table[] = {
	&sink_console,
	&sink_stdout,
	&sink_file,
	&sink_kafka,
};

#define NSINKS (sizeof sink_table / sizeof sink_table[0])

const char *
sink_names(void)
{
	static char names[256];
	size_t len = 0;

	if (names[0] != '\0')
		return names;
	for (size_t i = 0; i < NSINKS; i++) {
		const struct sink_type *t = sink_table[i];
		int n;

		if (t->alias)
			n = snprintf(names + len, sizeof names - len, "%s%s, %s",
			    i ? ", " : "", t->name, t->alias);
		else
			n = snprintf(names + len, sizeof names - len, "%s%s%s%s",
			    i ? ", " : "", t->name, t->target ? ":" : "",
			    t->target ? t->target : "");
		if (n < 0 || (size_t)n >= sizeof names - len)
			break;
		len += (size_t)n;
	}
	return names;
}

const struct sink_type *
sink_lookup(const char *arg, const char **target, char *err)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);

	*target = NULL;
	for (size_t i = 0; i < NSINKS; i++) {
		const struct sink_type *t = sink_table[i];

		if (colon == NULL && t->alias && strcmp(arg, t->alias) == 0)
			return t;
		if (strlen(t->name) != n || memcmp(arg, t->name, n) != 0)
			continue;
		if (t->target == NULL && colon != NULL) {
			seterr(err, "sink '%s' takes no '%s'", t->name, colon);
			return NULL;
		}
		if (t->target != NULL && (colon == NULL || colon[1] == '\0')) {
			seterr(err, "sink '%s' needs a %s: %s:%s", t->name,
			    t->target, t->name, t->target);
			return NULL;
		}
		*target = colon ? colon + 1 : NULL;
		return t;
	}
	seterr(err, "unknown sink '%s' (sinks: %s)", arg, sink_names());
	return NULL;
}

static const char *const format_names[] = {
	[SINK_FORMAT_NONE] = "none",
	[SINK_FORMAT_CSV] = "csv",
	[SINK_FORMAT_JSON] = "json",
	[SINK_FORMAT_TSV] = "tsv",
};

const char *
sink_format_name(enum sink_format f)
{
	return format_names[f];
}

enum sink_format
sink_format_parse(const char *name)
{
	for (size_t i = 1; i < sizeof format_names / sizeof format_names[0];
	    i++)
		if (strcmp(name, format_names[i]) == 0)
			return (enum sink_format)i;
	return SINK_FORMAT_NONE;
}

bool
sink_accepts_format(const struct sink_type *t, enum sink_format f)
{
	if (t->formats == NULL)
		return false;
	for (const enum sink_format *p = t->formats; *p != SINK_FORMAT_NONE;
	    p++)
		if (*p == f)
			return true;
	return false;
}

int
sink_check(const struct sink_type *t, const struct sink_options *o,
    const struct schema *s, char *err)
{
	return t->check ? t->check(o, s, err) : 0;
}

int
sink_open(struct sink *k, const struct sink_type *t,
    const struct sink_options *o, const struct schema *s, char *err)
{
	k->type = t;
	k->state = t->open(o, s, err);
	return k->state ? 0 : -1;
}

int
sink_begin(struct sink *k, int64_t batch, char *err)
{
	if (k->type->begin_batch != NULL)
		return k->type->begin_batch(k->state, batch, err);
	return k->type->begin(k->state, err);
}

int
sink_row(struct sink *k, const struct record *rec, char *err)
{
	return k->type->row(k->state, rec, err);
}

int
sink_end(struct sink *k, const struct epoch *e, char *err)
{
	return k->type->end(k->state, e, err);
}

int
sink_close(struct sink *k, bool final, char *err)
{
	int rc = 0;

	if (k->state != NULL)
		rc = k->type->close(k->state, final, err);
	k->state = NULL;
	return rc;
}

char *
sink_position(struct sink *k)
{
	if (k->state == NULL || k->type->position == NULL)
		return NULL;
	return k->type->position(k->state);
}

bool
sink_notice(struct sink *k, char *buf)
{
	if (k->state == NULL || k->type->notice == NULL)
		return false;
	return k->type->notice(k->state, buf);
}

void
sink_discard(struct sink *k)
{
	/* Without a discard the state stays: freed by the exit. */
	if (k->state == NULL || k->type->discard == NULL)
		return;
	k->type->discard(k->state);
	k->state = NULL;
}

int
sink_write_all(int fd, const char *name, struct strbuf *buf, char *err)
{
	size_t off = 0;

	while (off < buf->len) {
		ssize_t n = write(fd, buf->buf + off, buf->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			sb_reset(buf);
			if (e == EPIPE)
				return SINK_GONE;
			return seterr(err, "write error on %s: %s", name,
			    strerror(e));
		}
		off += (size_t)n;
	}
	sb_reset(buf);
	return 0;
}

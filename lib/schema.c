/* schema.c: field lists, query metadata and Spark DDL parsing. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "die.h"
#include "schema.h"
#include "strbuf.h"

static const struct {
	const char *word;
	enum field_type type;
} type_words[] = {
	{ "STRING", TYPE_STRING },	{ "VARCHAR", TYPE_STRING },
	{ "INT", TYPE_INT },		{ "INTEGER", TYPE_INT },
	{ "BIGINT", TYPE_BIGINT },	{ "LONG", TYPE_BIGINT },
	{ "DOUBLE", TYPE_DOUBLE },	{ "FLOAT", TYPE_DOUBLE },
	{ "BOOLEAN", TYPE_BOOLEAN },	{ "BOOL", TYPE_BOOLEAN },
	{ "TIMESTAMP", TYPE_TIMESTAMP },
};

const char *
type_name(enum field_type type)
{
	switch (type) {
	case TYPE_STRING: return "STRING";
	case TYPE_INT: return "INT";
	case TYPE_BIGINT: return "BIGINT";
	case TYPE_DOUBLE: return "DOUBLE";
	case TYPE_BOOLEAN: return "BOOLEAN";
	case TYPE_TIMESTAMP: return "TIMESTAMP";
	}
	return "?";
}

int
type_parse(const char *word, size_t len, enum field_type *type)
{
	for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++) {
		if (strlen(type_words[i].word) == len &&
		    strncasecmp(type_words[i].word, word, len) == 0) {
			*type = type_words[i].type;
			return 0;
		}
	}
	return -1;
}

void
schema_init(struct schema *s)
{
	memset(s, 0, sizeof *s);
}

void
schema_free(struct schema *s)
{
	for (size_t i = 0; i < s->nfields; i++)
		free(s->fields[i].name);
	for (size_t i = 0; i < s->nmeta; i++) {
		free(s->meta[i].key);
		free(s->meta[i].value);
	}
	free(s->fields);
	free(s->meta);
	schema_init(s);
}

void
schema_copy(struct schema *dst, const struct schema *src)
{
	schema_init(dst);
	for (size_t i = 0; i < src->nfields; i++)
		schema_add(dst, src->fields[i].name, src->fields[i].type, NULL);
	for (size_t i = 0; i < src->nmeta; i++)
		schema_set_meta(dst, src->meta[i].key, src->meta[i].value);
}

bool
field_name_valid(const char *name)
{
	if (name[0] == '\0' || name[0] == '@')
		return false;
	return strpbrk(name, "\t\n\r\\:") == NULL;
}

int
schema_add(struct schema *s, const char *name, enum field_type type, char *err)
{
	if (!field_name_valid(name))
		return seterr(err, "'%s' is not a valid field name", name);
	if (schema_find(s, name) >= 0)
		return seterr(err, "field '%s' appears twice", name);
	s->fields = xrealloc(s->fields, (s->nfields + 1) * sizeof *s->fields);
	s->fields[s->nfields].name = xstrdup(name);
	s->fields[s->nfields].type = type;
	return (int)s->nfields++;
}

int
schema_find(const struct schema *s, const char *name)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return (int)i;
	return -1;
}

void
schema_remove(struct schema *s, size_t i)
{
	if (i >= s->nfields)
		return;
	free(s->fields[i].name);
	memmove(&s->fields[i], &s->fields[i + 1],
	    (s->nfields - i - 1) * sizeof *s->fields);
	s->nfields--;
}

void
schema_field_list(const struct schema *s, struct strbuf *out)
{
	for (size_t i = 0; i < s->nfields; i++) {
		if (i > 0)
			sb_adds(out, ", ");
		sb_adds(out, s->fields[i].name);
	}
}

const char *
schema_meta(const struct schema *s, const char *key)
{
	for (size_t i = 0; i < s->nmeta; i++)
		if (strcmp(s->meta[i].key, key) == 0)
			return s->meta[i].value;
	return NULL;
}

void
schema_set_meta(struct schema *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->nmeta; i++) {
		if (strcmp(s->meta[i].key, key) == 0) {
			free(s->meta[i].value);
			s->meta[i].value = xstrdup(value);
			return;
		}
	}
	s->meta = xrealloc(s->meta, (s->nmeta + 1) * sizeof *s->meta);
	s->meta[s->nmeta].key = xstrdup(key);
	s->meta[s->nmeta].value = xstrdup(value);
	s->nmeta++;
}

/*
 * DDL: comma-separated "name TYPE" pairs; a name may be quoted with
 * backquotes as in Spark.  NOT NULL and COMMENT clauses are not accepted:
 * every field is nullable, as in a streaming source.
 */
int
schema_parse_ddl(struct schema *s, const char *ddl, char *err)
{
	const char *p = ddl;
	char name[256];

	schema_init(s);
	for (;;) {
		size_t n = 0;
		const char *t;
		enum field_type type;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '`') {
			for (p++; *p && *p != '`'; p++)
				if (n < sizeof name - 1)
					name[n++] = *p;
			if (*p != '`')
				goto bad_quote;
			p++;
		} else {
			while (*p && !isspace((unsigned char)*p) && *p != ',' &&
			    *p != ':')
				if (n < sizeof name - 1)
					name[n++] = *p++;
				else
					p++;
		}
		name[n] = '\0';
		if (n == 0) {
			seterr(err, "schema '%s': expected a field name at "
			    "column %zu", ddl, (size_t)(p - ddl) + 1);
			goto fail;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == ':')	/* Spark also accepts "name: TYPE" */
			for (p++; isspace((unsigned char)*p); p++)
				;
		t = p;
		while (isalnum((unsigned char)*p))
			p++;
		if (p == t) {
			seterr(err, "schema '%s': field '%s' has no type",
			    ddl, name);
			goto fail;
		}
		if (type_parse(t, (size_t)(p - t), &type) < 0) {
			seterr(err, "schema '%s': unknown type '%.*s' for "
			    "field '%s' (use STRING, INT, BIGINT, DOUBLE, "
			    "BOOLEAN or TIMESTAMP)", ddl, (int)(p - t), t,
			    name);
			goto fail;
		}
		if (schema_add(s, name, type, err) < 0) {
			char inner[ERRBUF_SIZE];

			snprintf(inner, sizeof inner, "%s", err ? err : "");
			seterr(err, "schema '%s': %s", ddl, inner);
			goto fail;
		}
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0')
			break;
		if (*p != ',') {
			seterr(err, "schema '%s': expected ',' at column %zu",
			    ddl, (size_t)(p - ddl) + 1);
			goto fail;
		}
		p++;
	}
	return 0;
bad_quote:
	seterr(err, "schema '%s': unterminated backquote", ddl);
fail:
	schema_free(s);
	return -1;
}

/*
 * schema.h: typed fields and query metadata, as carried by the header frame.
 *
 * A schema is an ordered list of fields, each with a name and one of Spark's
 * types.  Query metadata are key=value pairs (query id, checkpoint, the batch
 * to resume after, the event-time field...) that every stage forwards.
 * Parsing accepts Spark DDL ('name STRING, age INT'); the header frame form
 * is documented in runnel(5).  A schema owns all its strings.
 */
#ifndef RUNNEL_SCHEMA_H
#define RUNNEL_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

enum field_type {
	TYPE_STRING,
	TYPE_INT,	/* 32-bit signed */
	TYPE_BIGINT,	/* 64-bit signed */
	TYPE_DOUBLE,
	TYPE_BOOLEAN,
	TYPE_TIMESTAMP,	/* microseconds since the Unix epoch, UTC */
};

struct field {
	char *name;
	enum field_type type;
};

struct meta {
	char *key;
	char *value;
};

struct schema {
	struct field *fields;
	size_t nfields;
	struct meta *meta;
	size_t nmeta;
};

const char *type_name(enum field_type type);
/* Case-insensitive; accepts Spark's aliases (INTEGER, LONG, BOOL, STRING...). */
int type_parse(const char *word, size_t len, enum field_type *type);

void schema_init(struct schema *s);
void schema_free(struct schema *s);
void schema_copy(struct schema *dst, const struct schema *src);

/* Append a field; returns its index, or -1 if the name is taken or invalid. */
int schema_add(struct schema *s, const char *name, enum field_type type, char *err);
/* Index of field NAME, or -1. */
int schema_find(const struct schema *s, const char *name);
struct strbuf;
/* Append "a, b, c" (the field names) to out, for messages. */
void schema_field_list(const struct schema *s, struct strbuf *out);
/* Remove field i, shifting the later ones. */
void schema_remove(struct schema *s, size_t i);

/* Query metadata: NULL when absent.  set replaces an existing key. */
const char *schema_meta(const struct schema *s, const char *key);
void schema_set_meta(struct schema *s, const char *key, const char *value);

/* Parse Spark DDL: "name STRING, age INT".  Returns 0 or -1 with err. */
int schema_parse_ddl(struct schema *s, const char *ddl, char *err);

/* A field name is valid when non-empty and free of tab, newline, CR,
 * backslash and ':' and does not start with '@'. */
bool field_name_valid(const char *name);

#endif

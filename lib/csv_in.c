/*
 * csv_in.c: CSV to frames with libcsv.
 *
 * libcsv reports cells and row ends through callbacks that cannot stop
 * it, so the callbacks collect the cells of a record (into one reused
 * buffer: no allocation per record) and the first error is kept and
 * returned once csv_parse() comes back.  Feeding a line at a time costs a
 * call per line but tells us which line a record starts on; we read that
 * from the parser's state (pstate 0 is libcsv's ROW_NOT_BEGUN, stable in
 * its public struct since 3.0).
 *
 * Bad records (record_out.h, badrec.h): a record with the wrong number of
 * cells, a cell not of its type, malformed quoting, or a quote left open
 * at the end goes to ro_bad(), named by the line it starts on.  When the
 * policy skips it we go on with the next record: after malformed quoting
 * the parser is started afresh at the next line (the rest of the line
 * where the quoting broke belongs to the bad record).  The raw text of a
 * record (its physical lines) is collected only when the policy keeps
 * bad records.
 */
#include <csv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv_in.h"
#include "die.h"
#include "strbuf.h"
#include "value.h"

#define ROW_NOT_BEGUN 0

struct cell {
	size_t off, len;
	bool null;
};

struct csv_in {
	struct csv_parser p;
	const struct schema *schema;
	const char *name;
	size_t max_record;
	bool skip_header;
	struct strbuf bytes;	/* the current record's cells, back to back */
	struct cell *cell;
	size_t ncells, cap;
	long line;		/* line being fed */
	long start;		/* line the current record started on */
	size_t record_bytes;	/* input bytes of the current record */
	struct strbuf raw;	/* the current record's lines, when kept */
	struct record_out *o;	/* where the callbacks write */
	char *err;
	int failed;
};

/* RFC 4180: no space is insignificant. */
static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

struct csv_in *
csv_in_new(const struct schema *schema, bool header, const char *name,
    size_t max_record)
{
	struct csv_in *c = xcalloc(1, sizeof *c);

	if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL)
	    != 0)
		die(EXIT_RUNTIME, "out of memory (csv parser)");
	csv_set_space_func(&c->p, no_space);
	c->schema = schema;
	c->name = name;
	c->max_record = max_record;
	c->skip_header = header;
	sb_init(&c->bytes);
	sb_init(&c->raw);
	/* Allocate now: on_row() points into bytes.buf even when every
	 * cell is empty, and NULL + 0 is UB (tests/fuzz/fuzz_csv). */
	sb_grow(&c->bytes, 0);
	return c;
}

void
csv_in_free(struct csv_in *c)
{
	if (c == NULL)
		return;
	csv_free(&c->p);
	sb_free(&c->bytes);
	sb_free(&c->raw);
	free(c->cell);
	free(c);
}

static void
on_cell(void *s, size_t len, void *data)
{
	struct csv_in *c = data;
	struct cell *cell;

	if (c->failed)
		return;
	if (c->ncells == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 16;
		c->cell = xrealloc(c->cell, c->cap * sizeof *c->cell);
	}
	cell = &c->cell[c->ncells++];
	cell->off = c->bytes.len;
	cell->len = len;
	cell->null = s == NULL;
	if (len > 0)
		sb_add(&c->bytes, s, len);
}

/* The current record is bad: hand it to the policy, naming the line it
 * starts on; keep the error when the policy does not skip it. */
__attribute__((format(printf, 2, 3)))
static void
bad(struct csv_in *c, const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (ro_bad(c->o, c->name, c->start, c->raw.buf, c->raw.len, msg,
	    c->err) < 0)
		c->failed = 1;
}

/* Forget the cells collected (a record done with, or dropped). */
static void
drop_cells(struct csv_in *c)
{
	c->ncells = 0;
	sb_reset(&c->bytes);
}

/* Start the parser afresh (after malformed quoting was skipped). */
static void
restart(struct csv_in *c)
{
	csv_free(&c->p);
	if (csv_init(&c->p, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL)
	    != 0)
		die(EXIT_RUNTIME, "out of memory (csv parser)");
	csv_set_space_func(&c->p, no_space);
	drop_cells(c);
}

static void
on_row(int term, void *data)
{
	struct csv_in *c = data;
	const struct schema *s = c->schema;
	struct frame_writer *w;
	char verr[ERRBUF_SIZE];

	(void)term;
	if (c->failed)
		return;
	if (c->skip_header) {
		c->skip_header = false;
		goto done;
	}
	if (c->ncells != s->nfields) {
		bad(c, "record has %zu fields, the schema has %zu", c->ncells,
		    s->nfields);
		goto done;
	}
	w = ro_begin(c->o);
	for (size_t i = 0; i < c->ncells; i++) {
		const struct cell *cell = &c->cell[i];
		const char *text = c->bytes.buf + cell->off;
		enum field_type t = s->fields[i].type;

		ro_room(c->o, ro_field_room(cell->len));
		if (cell->null || (cell->len == 0 && t != TYPE_STRING)) {
			fw_null(w);
		} else if (value_write_text(w, t, text, cell->len, verr) < 0) {
			bad(c, "%s: %s", s->fields[i].name, verr);
			goto done;
		}
	}
	ro_commit(c->o);
done:
	drop_cells(c);
}

/* csv_parse() stopped early: malformed quoting is a bad record (skipped
 * or not); anything else (out of memory) is an error. */
static int
parse_error(struct csv_in *c, char *err)
{
	if (csv_error(&c->p) != CSV_EPARSE)
		return seterr(err, "%s:%ld: csv: %s", c->name, c->line,
		    csv_strerror(csv_error(&c->p)));
	if (c->line == c->start)
		bad(c, "malformed csv: a quote inside an unquoted field, or "
		    "text after a closing quote");
	else
		bad(c, "malformed csv on line %ld: a quote inside an unquoted "
		    "field, or text after a closing quote", c->line);
	if (c->failed)
		return -1;
	restart(c);
	return 0;
}

int
csv_in_line(struct csv_in *c, const char *p, size_t n, long line,
    struct record_out *o, char *err)
{
	if (c->failed)
		return seterr(err, "%s: csv reader used after an error",
		    c->name);
	c->line = line;
	if (c->p.pstate == ROW_NOT_BEGUN) {
		c->start = line;
		c->record_bytes = 0;
		sb_reset(&c->raw);
	}
	c->record_bytes += n;
	if (c->max_record > 0 && c->record_bytes > c->max_record)
		return seterr(err, "%s:%ld: record longer than %zu bytes "
		    "(--max-record-size)", c->name, c->start, c->max_record);
	c->o = o;
	c->err = err;
	if (ro_wants_raw(o))
		sb_add(&c->raw, p, n);
	if (csv_parse(&c->p, p, n, on_cell, on_row, c) != n && !c->failed)
		return parse_error(c, err);
	return c->failed ? -1 : 0;
}

int
csv_in_finish(struct csv_in *c, struct record_out *o, char *err)
{
	if (c->failed)
		return seterr(err, "%s: csv reader used after an error",
		    c->name);
	c->o = o;
	c->err = err;
	if (csv_fini(&c->p, on_cell, on_row, c) != 0 && !c->failed) {
		if (c->line == c->start)
			bad(c, "unterminated quoted field");
		else
			bad(c, "unterminated quoted field (the record starts "
			    "on line %ld, the input ends on line %ld)",
			    c->start, c->line);
		if (c->failed)
			return -1;
		restart(c);
	}
	return c->failed ? -1 : 0;
}

bool
csv_in_pending(const struct csv_in *c)
{
	return c->p.pstate != ROW_NOT_BEGUN;
}

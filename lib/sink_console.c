/*
 * sink_console.c: the console sink, Spark's ConsoleSink: each batch as
 *
 *   -------------------------------------------
 *   Batch: N
 *   -------------------------------------------
 *   <Dataset.show(numRows, truncate), see console.h>
 *   <an empty line: Spark's println after a string ending in newline>
 *
 * Only the first num_rows rows of a batch are kept (Spark's show takes
 * numRows + 1 rows to learn whether to print "only showing top N rows"),
 * so a huge batch costs no memory here.  The batch is written at its end,
 * in one write, and that write is the commit point.
 */
#include <stdlib.h>

#include "console.h"
#include "die.h"
#include "sink.h"
#include "value.h"

struct console_sink {
	const struct schema *schema;
	int fd;
	long long num_rows;
	struct console_table table;
	long long rows;		/* rows in the current batch */
	struct strbuf cell, out;
};

static void *
console_open(const struct sink_options *o, const struct schema *s,
    char *err)
{
	struct console_sink *c = xcalloc(1, sizeof *c);

	c->schema = s;
	c->fd = o->fd;
	c->num_rows = o->num_rows;
	console_table_init(&c->table, s, o->truncate ? CONSOLE_TRUNCATE : 0);
	sb_init(&c->cell);
	sb_init(&c->out);
	return c;
}

static int
console_begin(void *state, char *err)
{
	struct console_sink *c = state;

	console_table_reset(&c->table);
	c->rows = 0;
	return 0;
}

static int
console_row(void *state, const struct record *rec, char *err)
{
	struct console_sink *c = state;

	/* Rows past num_rows are only counted: they are not shown. */
	if (c->rows++ >= c->num_rows)
		return 0;
	for (size_t i = 0; i < c->schema->nfields; i++) {
		const struct field *fd = &c->schema->fields[i];

		sb_reset(&c->cell);
		if (value_render(fd->type, rec->field[i], RENDER_CONSOLE,
		    &c->cell) < 0) {
			seterr(err, "%s: malformed %s value '%.*s'",
			    fd->name, type_name(fd->type),
			    (int)(rec->field[i].n > 40 ? 40 : rec->field[i].n),
			    rec->field[i].p);
			return SINK_BAD_ROW;
		}
		console_table_add(&c->table, c->cell.buf ? c->cell.buf : "",
		    c->cell.len);
	}
	return 0;
}

static int
console_end(void *state, const struct epoch *e, char *err)
{
	struct console_sink *c = state;

	console_batch_banner(e->batch, &c->out);
	console_table_show(&c->table, c->rows > c->num_rows, c->num_rows,
	    &c->out);
	sb_addc(&c->out, '\n');
	return sink_write_all(c->fd, "stdout", &c->out, err);
}

static int
console_close(void *state, bool final, char *err)
{
	struct console_sink *c = state;

	console_table_free(&c->table);
	sb_free(&c->cell);
	sb_free(&c->out);
	free(c);
	return 0;
}

const struct sink_type sink_console = {
	.name = "console",
	.options = SINK_OPT_NUM_ROWS | SINK_OPT_TRUNCATE,
	.supported = true,
	.open = console_open,
	.begin = console_begin,
	.row = console_row,
	.end = console_end,
	.close = console_close,
};

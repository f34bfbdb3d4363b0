/*
 * console.c: Spark's show() table (see console.h for the rules copied).
 *
 * Cells are converted once, when added: escaped, cut and measured into
 * one text buffer, so showing is a single pass of copies and padding.
 */
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "die.h"
#include "utf8.h"

/* Spark's Utils.fullWidthRegex: characters a terminal draws two wide. */
static bool
full_width(int32_t cp)
{
	return (cp >= 0x1100 && cp <= 0x115F) ||
	    (cp >= 0x2E80 && cp <= 0xA4CF) ||
	    (cp >= 0xAC00 && cp <= 0xD7A3) ||
	    (cp >= 0xF900 && cp <= 0xFAFF) ||
	    (cp >= 0xFE10 && cp <= 0xFE19) ||
	    (cp >= 0xFE30 && cp <= 0xFE6F) ||
	    (cp >= 0xFF00 && cp <= 0xFF60) ||
	    (cp >= 0xFFE0 && cp <= 0xFFE6);
}

/* The letter SchemaUtils.escapeMetaCharacters writes after a backslash. */
static char
meta_letter(int32_t cp)
{
	switch (cp) {
	case '\n': return 'n';
	case '\r': return 'r';
	case '\t': return 't';
	case '\f': return 'f';
	case '\b': return 'b';
	case '\v': return 'v';
	case '\a': return 'a';
	default: return 0;
	}
}

/*
 * Building one cell: units counts Java chars (UTF-16 code units), which
 * is what Spark's length, substring and padding use; width counts half
 * widths.  cut_* remember the state once `keep` units are written, the
 * place where a cell that turns out too long is cut.
 */
struct cellbuild {
	struct strbuf *text;
	size_t start, units, width;
	size_t keep;
	bool cut_seen, cut_qmark;
	size_t cut_len, cut_width;
};

static void
put_char(struct cellbuild *b, const char *bytes, size_t n, size_t units,
    size_t width)
{
	if (!b->cut_seen && b->units < b->keep && b->units + units > b->keep) {
		/* substring(0, keep) splits a surrogate pair: Java keeps the
		 * high half, which prints as '?'. */
		b->cut_seen = b->cut_qmark = true;
		b->cut_len = b->text->len - b->start;
		b->cut_width = b->width;
	}
	sb_add(b->text, bytes, n);
	b->units += units;
	b->width += width;
	if (!b->cut_seen && b->units == b->keep) {
		b->cut_seen = true;
		b->cut_len = b->text->len - b->start;
		b->cut_width = b->width;
	}
}

static void
add_cell(struct console_table *t, const char *s, size_t n, bool cut)
{
	struct cellbuild b = {
		.text = &t->text,
		.start = t->text.len,
		.keep = (size_t)(t->truncate < 4 ? t->truncate :
		    t->truncate - 3),
	};
	struct console_cell *c;
	char enc[4];

	for (size_t i = 0; i < n;) {
		int32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);
		char letter;

		if (cp < 0) {
			put_char(&b, enc, utf8_encode(UTF8_REPLACEMENT, enc), 1,
			    1);
		} else if ((letter = meta_letter(cp)) != 0) {
			put_char(&b, "\\", 1, 1, 1);
			put_char(&b, &letter, 1, 1, 1);
		} else {
			size_t units = cp >= 0x10000 ? 2 : 1;

			put_char(&b, s + i, len, units,
			    units + (full_width(cp) ? 1 : 0));
		}
		i += len;
	}
	if (cut && t->truncate > 0 && b.units > (size_t)t->truncate) {
		t->text.len = b.start + b.cut_len;
		b.width = b.cut_width;
		if (b.cut_qmark) {
			sb_addc(&t->text, '?');
			b.width++;
		}
		if (t->truncate >= 4) {
			sb_add(&t->text, "...", 3);
			b.width += 3;
		}
	}
	if (t->ncells == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->cell = xrealloc(t->cell, t->cap * sizeof *t->cell);
	}
	c = &t->cell[t->ncells];
	c->off = b.start;
	c->len = t->text.len - b.start;
	c->width = b.width;
	if (c->width > t->width[t->ncells % t->ncols])
		t->width[t->ncells % t->ncols] = c->width;
	t->ncells++;
}

void
console_table_init(struct console_table *t, const struct schema *s,
    int truncate)
{
	memset(t, 0, sizeof *t);
	t->ncols = s->nfields;
	t->truncate = truncate;
	sb_init(&t->text);
	/* One more slot so a schema without fields needs no special case. */
	t->width = xcalloc(t->ncols + 1, sizeof *t->width);
	for (size_t i = 0; i < t->ncols; i++)
		t->width[i] = CONSOLE_MIN_WIDTH;
	for (size_t i = 0; i < t->ncols; i++)
		add_cell(t, s->fields[i].name, strlen(s->fields[i].name), false);
}

void
console_table_free(struct console_table *t)
{
	sb_free(&t->text);
	free(t->cell);
	free(t->width);
	memset(t, 0, sizeof *t);
}

void
console_table_reset(struct console_table *t)
{
	t->ncells = t->ncols;
	t->text.len = t->ncols ? t->cell[t->ncols - 1].off +
	    t->cell[t->ncols - 1].len : 0;
	for (size_t i = 0; i < t->ncols; i++) {
		t->width[i] = CONSOLE_MIN_WIDTH;
		if (t->cell[i].width > t->width[i])
			t->width[i] = t->cell[i].width;
	}
}

void
console_table_add(struct console_table *t, const char *s, size_t n)
{
	if (t->ncols > 0)
		add_cell(t, s, n, true);
}

size_t
console_table_rows(const struct console_table *t)
{
	if (t->ncols == 0)
		return 0;
	return (t->ncells - t->ncols + t->ncols - 1) / t->ncols;
}

static void
add_spaces(struct strbuf *out, size_t n)
{
	sb_grow(out, n);
	memset(out->buf + out->len, ' ', n);
	out->len += n;
	out->buf[out->len] = '\0';
}

static void
show_separator(const struct console_table *t, struct strbuf *out)
{
	sb_addc(out, '+');
	for (size_t i = 0; i < t->ncols; i++) {
		sb_grow(out, t->width[i] + 1);
		memset(out->buf + out->len, '-', t->width[i]);
		out->len += t->width[i];
		out->buf[out->len++] = '+';
		out->buf[out->len] = '\0';
	}
	if (t->ncols == 0)
		sb_addc(out, '+');
	sb_addc(out, '\n');
}

static void
show_row(const struct console_table *t, size_t first, struct strbuf *out)
{
	sb_addc(out, '|');
	for (size_t i = 0; i < t->ncols; i++) {
		const struct console_cell *c = &t->cell[first + i];
		size_t pad = t->width[i] - c->width;

		if (t->truncate > 0)
			add_spaces(out, pad);
		sb_add(out, t->text.buf + c->off, c->len);
		if (t->truncate <= 0)
			add_spaces(out, pad);
		sb_addc(out, '|');
	}
	if (t->ncols == 0)
		sb_addc(out, '|');
	sb_addc(out, '\n');
}

void
console_table_show(const struct console_table *t, bool more_rows,
    long long num_rows, struct strbuf *out)
{
	/* Only complete rows are shown. */
	size_t rows = t->ncols ? t->ncells / t->ncols : 1;

	show_separator(t, out);
	show_row(t, 0, out);
	show_separator(t, out);
	for (size_t r = 1; r < rows; r++)
		show_row(t, r * t->ncols, out);
	show_separator(t, out);
	if (more_rows)
		sb_addf(out, "only showing top %lld %s\n", num_rows,
		    num_rows == 1 ? "row" : "rows");
}

void
console_batch_banner(int64_t batch, struct strbuf *out)
{
	sb_addf(out, "%s\nBatch: %lld\n%s\n", CONSOLE_DASHES, (long long)batch,
	    CONSOLE_DASHES);
}

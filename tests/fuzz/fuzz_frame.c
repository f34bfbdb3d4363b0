/*
 * fuzz_frame.c: the frame protocol's reading side (lib/frame.c) on any
 * bytes, and what stages do with the frames they read: decode control
 * frames, split and unescape records, render values (lib/value.c) for
 * the sinks (csv_out, json_out, the console table) and aggregate them
 * (lib/aggregate.c).
 *
 * Input: the first byte picks how the rest reaches frame_reader:
 *   bit 0  through a pipe (else a memfd, as a file would);
 *   bit 1  a 64-byte starting buffer, so that buffer growth and the
 *          moving of a partial frame happen on small inputs too (the
 *          reader starts with 256 KiB, more than an input usually is);
 *   bit 2  max_line 100 bytes, so the over-long frame error happens.
 * The rest is the stream.  Seeds start with a digit, e.g. "0\\.h\t...".
 *
 * Properties checked, besides the sanitizers:
 *   - a decoded header, written with fw_header() and decoded again, is
 *     the same schema; the same for epoch and watermark frames;
 *   - unescaping a field and escaping it again gives the original bytes
 *     (when they hold no raw CR or NUL, which the writer would escape);
 *   - agg_parse_i64() (the fast path) agrees with value_get_i64();
 *   - json_out_record() output, when it succeeds, is valid JSON (jansson
 *     parses it) and csv_out_record() output is one CSV record with as
 *     many fields as the schema (libcsv parses it);
 *   - aggregate state saved, loaded and saved again is the same text.
 */
#include <csv.h>
#include <jansson.h>

#include "aggregate.h"
#include "ckstage.h"
#include "console.h"
#include "csv_out.h"
#include "fuzz_common.h"
#include "json_out.h"
#include "value.h"

struct ctx {
	struct schema s;		/* the last good header */
	bool have_header;
	struct record rec;
	struct strbuf tmp, out, scratch;
	char *ubuf;			/* unescape buffer */
	size_t ubuf_cap;
	/* aggregates over the header's fields */
	struct aggs aggs;
	void *acc;
	bool aggs_on;
	struct console_table table;
	bool table_on;
	char err[ERRBUF_SIZE];
};

/* Encode with fn into a fresh memfd writer, return the bytes in sb. */
static void
writer_open(struct frame_writer *w)
{
	fw_init(w, fuzz_memfd("fuzz-w"));
}

static void
writer_take(struct frame_writer *w, struct strbuf *sb)
{
	int fd = w->fd;

	FUZZ_ASSERT(fw_close(w) == 0, "writing to a memfd failed");
	fuzz_slurp(fd, sb);
	close(fd);
}

/* Read back the single frame in sb (a line). */
static struct frame
one_frame(struct strbuf *sb)
{
	struct frame f;

	FUZZ_ASSERT(sb->len > 0 && sb->buf[sb->len - 1] == '\n' &&
	    memchr(sb->buf, '\n', sb->len) == sb->buf + sb->len - 1,
	    "writer produced %zu bytes that are not one line", sb->len);
	sb->buf[--sb->len] = '\0';
	f.text = sb->buf;
	f.len = sb->len;
	if (f.len >= 3 && f.text[0] == '\\' && f.text[1] == '.')
		f.kind = f.text[2] == 'h' ? FRAME_HEADER : f.text[2] == 'e' ?
		    FRAME_EPOCH : f.text[2] == 'w' ? FRAME_WATERMARK :
		    FRAME_END;
	else
		f.kind = FRAME_DATA;
	return f;
}

static bool
schema_equal(const struct schema *a, const struct schema *b)
{
	if (a->nfields != b->nfields || a->nmeta != b->nmeta)
		return false;
	for (size_t i = 0; i < a->nfields; i++)
		if (strcmp(a->fields[i].name, b->fields[i].name) != 0 ||
		    a->fields[i].type != b->fields[i].type)
			return false;
	for (size_t i = 0; i < a->nmeta; i++) {
		const char *v = schema_meta(b, a->meta[i].key);

		if (v == NULL || strcmp(v, a->meta[i].value) != 0)
			return false;
	}
	return true;
}

static void
aggs_setup(struct ctx *c)
{
	aggs_init(&c->aggs);
	for (size_t i = 0; i < c->s.nfields && i < 8; i++) {
		enum field_type t = c->s.fields[i].type;
		const char *name = c->s.fields[i].name;

		if (t == TYPE_INT || t == TYPE_BIGINT || t == TYPE_DOUBLE) {
			FUZZ_ASSERT(aggs_add(&c->aggs, AGG_SUM, &c->s, name,
			    c->err) == 0, "%s", c->err);
			FUZZ_ASSERT(aggs_add(&c->aggs, AGG_AVG, &c->s, name,
			    c->err) == 0, "%s", c->err);
		}
		FUZZ_ASSERT(aggs_add(&c->aggs, AGG_MIN, &c->s, name, c->err)
		    == 0, "%s", c->err);
		FUZZ_ASSERT(aggs_add(&c->aggs, AGG_MAX, &c->s, name, c->err)
		    == 0, "%s", c->err);
	}
	c->acc = xcalloc(1, aggs_size(&c->aggs));
	c->aggs_on = true;
}

/* Save the block, load it into a new one, save that: same text. */
static void
aggs_roundtrip(struct ctx *c)
{
	struct strbuf a, b;
	void *acc2 = xcalloc(1, aggs_size(&c->aggs));
	struct record rec;

	sb_init(&a);
	sb_init(&b);
	record_init(&rec);
	aggs_save(&c->aggs, c->acc, &a);
	record_split(&rec, a.buf, a.len);
	FUZZ_ASSERT(rec.nfields == aggs_saved_fields(&c->aggs),
	    "saved %zu fields, expected %zu", rec.nfields,
	    aggs_saved_fields(&c->aggs));
	FUZZ_ASSERT(aggs_load(&c->aggs, acc2, rec.field, c->err) == 0,
	    "saved state does not load: %s: '%s'", c->err, a.buf);
	aggs_save(&c->aggs, acc2, &b);
	FUZZ_ASSERT(a.len == b.len && memcmp(a.buf, b.buf, a.len) == 0,
	    "aggregate state changed in a save/load: '%s' vs '%s'", a.buf,
	    b.buf);
	/* acc2 is merged into acc: what scount does when sessions merge */
	aggs_absorb(&c->aggs, c->acc, acc2);
	record_free(&rec);
	sb_free(&a);
	sb_free(&b);
	free(acc2);
}

static void
aggs_teardown(struct ctx *c)
{
	struct frame_writer w;

	if (!c->aggs_on)
		return;
	if (aggs_gc_wanted(&c->aggs)) {
		aggs_gc_begin(&c->aggs);
		aggs_gc_move(&c->aggs, c->acc);
		aggs_gc_end(&c->aggs);
	}
	fw_init(&w, -1);
	aggs_write(&c->aggs, c->acc, &w);
	fw_end_record(&w);
	free(w.buf);
	aggs_roundtrip(c);
	aggs_release(&c->aggs, c->acc);
	aggs_free(&c->aggs);
	free(c->acc);
	c->acc = NULL;
	c->aggs_on = false;
}

static void
on_header(struct ctx *c, const struct frame *f)
{
	struct schema again;
	struct frame_writer w;
	struct frame g;

	aggs_teardown(c);
	if (c->table_on)
		console_table_free(&c->table);
	c->table_on = false;
	if (c->have_header)
		schema_free(&c->s);
	c->have_header = false;
	if (header_decode(f, &c->s, c->err) < 0)
		return;
	c->have_header = true;

	writer_open(&w);
	fw_header(&w, &c->s);
	writer_take(&w, &c->scratch);
	g = one_frame(&c->scratch);
	FUZZ_ASSERT(g.kind == FRAME_HEADER, "fw_header wrote '%s'", g.text);
	FUZZ_ASSERT(header_decode(&g, &again, c->err) == 0,
	    "re-encoded header does not decode: %s: '%s'", c->err, g.text);
	FUZZ_ASSERT(schema_equal(&c->s, &again),
	    "header changed in a round trip: '%s'", g.text);
	schema_free(&again);

	aggs_setup(c);
	console_table_init(&c->table, &c->s, (c->s.nfields & 1) ?
	    CONSOLE_TRUNCATE : 0);
	c->table_on = true;
}

static void
on_epoch(struct ctx *c, const struct frame *f)
{
	struct epoch e, e2;
	struct frame_writer w;
	struct frame g;
	int64_t v;

	if (epoch_decode(f, &e, c->err) < 0)
		return;
	(void)epoch_get_i64(&e, "nodata", &v);
	(void)epoch_get_i64(&e, "final", &v);
	(void)epoch_sum_suffix(&e, ".dropped");
	(void)epoch_sum_suffix(&e, "");

	writer_open(&w);
	fw_epoch_begin(&w, e.batch);
	fw_epoch_items(&w, e.items, e.items_len);
	fw_epoch_i64(&w, "fuzz.rows", e.batch);
	fw_epoch_str(&w, "fuzz.s", "a\tb\\c");
	FUZZ_ASSERT(fw_epoch_end(&w) == 0, "epoch write failed");
	writer_take(&w, &c->scratch);
	g = one_frame(&c->scratch);
	FUZZ_ASSERT(g.kind == FRAME_EPOCH &&
	    epoch_decode(&g, &e2, c->err) == 0,
	    "re-encoded epoch does not decode: '%s'", g.text);
	FUZZ_ASSERT(e2.batch == e.batch, "epoch batch changed");
	FUZZ_ASSERT(e2.items_len >= e.items_len &&
	    memcmp(e2.items, e.items, e.items_len) == 0,
	    "epoch items changed: '%s'", g.text);
}

static void
on_watermark(struct ctx *c, const struct frame *f)
{
	struct frame_writer w;
	struct frame g;
	int64_t v, v2;

	if (watermark_decode(f, &v, c->err) < 0)
		return;
	writer_open(&w);
	FUZZ_ASSERT(fw_watermark(&w, v) == 0, "watermark write failed");
	writer_take(&w, &c->scratch);
	g = one_frame(&c->scratch);
	FUZZ_ASSERT(watermark_decode(&g, &v2, c->err) == 0 && v2 == v,
	    "watermark %lld changed in a round trip: '%s'", (long long)v,
	    g.text);
}

/* Check one raw field of type t. */
static void
on_field(struct ctx *c, struct slice f, enum field_type t)
{
	struct frame_writer w;
	int64_t i1, i2;
	double d;
	long n;
	int r1, r2;

	if (c->ubuf_cap < f.n + 1) {
		c->ubuf_cap = f.n + 1;
		c->ubuf = xrealloc(c->ubuf, c->ubuf_cap);
	}
	n = field_unescape(f, c->ubuf);
	if (n >= 0 && !field_is_null(f) && memchr(f.p, '\r', f.n) == NULL &&
	    memchr(f.p, '\0', f.n) == NULL) {
		fw_init(&w, -1);
		if (f.n + 1 > w.cap) {	/* keep it in the buffer */
			w.cap = 2 * f.n + 1;
			w.buf = xrealloc(w.buf, w.cap);
		}
		fw_field(&w, c->ubuf, (size_t)n);
		FUZZ_ASSERT(w.len == f.n && memcmp(w.buf, f.p, f.n) == 0,
		    "field changed in an unescape/escape round trip");
		free(w.buf);
	}
	FUZZ_ASSERT(field_is_plain(f) == (memchr(f.p, '\\', f.n) == NULL),
	    "field_is_plain");

	r1 = value_get_i64(f, &i1);
	r2 = agg_parse_i64(f, &i2);
	FUZZ_ASSERT(r1 == r2 && (r1 < 0 || i1 == i2),
	    "agg_parse_i64 and value_get_i64 disagree on '%.*s'", (int)f.n,
	    f.p);
	(void)value_get_f64(f, &d);

	sb_reset(&c->tmp);
	(void)value_render(t, f, RENDER_PLAIN, &c->tmp);
	sb_reset(&c->tmp);
	if (value_render(t, f, RENDER_CONSOLE, &c->tmp) >= 0 && c->table_on)
		console_table_add(&c->table, c->tmp.buf ? c->tmp.buf : "",
		    c->tmp.len);
}

static void
check_json(struct ctx *c)
{
	json_error_t jerr;
	json_t *j;

	j = json_loadb(c->out.buf, c->out.len, JSON_ALLOW_NUL, &jerr);
	FUZZ_ASSERT(j != NULL && json_is_object(j),
	    "json_out_record wrote invalid JSON (%s): '%s'",
	    j ? "not an object" : jerr.text, c->out.buf);
	/* Not "== nfields": names that differ only in invalid UTF-8 both
	 * become U+FFFD, so their keys collide (a known limit). */
	FUZZ_ASSERT(json_object_size(j) <= c->s.nfields &&
	    (json_object_size(j) > 0 || c->s.nfields == 0),
	    "json_out_record wrote %zu keys for %zu fields",
	    json_object_size(j), c->s.nfields);
	json_decref(j);
}

struct csv_count {
	size_t cells, rows;
};

static void
count_cell(void *s, size_t n, void *data)
{
	(void)s;
	(void)n;
	((struct csv_count *)data)->cells++;
}

static void
count_row(int t, void *data)
{
	(void)t;
	((struct csv_count *)data)->rows++;
}

static void
check_csv(struct ctx *c)
{
	struct csv_parser p;
	struct csv_count k = { 0, 0 };
	size_t n;

	FUZZ_ASSERT(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) == 0, "csv");
	n = csv_parse(&p, c->out.buf, c->out.len, count_cell, count_row, &k);
	FUZZ_ASSERT(n == c->out.len, "csv_out_record wrote bad CSV: '%s'",
	    c->out.buf);
	FUZZ_ASSERT(csv_fini(&p, count_cell, count_row, &k) == 0,
	    "csv_out_record wrote bad CSV: '%s'", c->out.buf);
	csv_free(&p);
	/* libcsv sees a line holding one empty unquoted field as no row. */
	FUZZ_ASSERT(k.rows == 1 || (c->s.nfields == 1 && k.rows == 0),
	    "csv_out_record wrote %zu rows: '%s'", k.rows, c->out.buf);
	FUZZ_ASSERT(k.rows == 0 || k.cells == c->s.nfields,
	    "csv_out_record wrote %zu cells for %zu fields: '%s'", k.cells,
	    c->s.nfields, c->out.buf);
}

static void
on_data(struct ctx *c, const struct frame *f)
{
	struct record *rec = &c->rec;

	record_split(rec, f->text, f->len);
	FUZZ_ASSERT(rec->nfields >= 1, "record_split gave no field");
	for (size_t i = 0; i < rec->nfields; i++) {
		enum field_type t = (enum field_type)(i % 6);

		if (c->have_header && i < c->s.nfields)
			t = c->s.fields[i].type;
		on_field(c, rec->field[i], t);
	}
	if (!c->have_header || rec->nfields != c->s.nfields)
		return;
	sb_reset(&c->out);
	if (json_out_record(&c->out, &c->s, rec, &c->tmp, c->err) == 0)
		check_json(c);
	sb_reset(&c->out);
	if (csv_out_record(&c->out, &c->s, rec, &c->tmp, c->err) == 0)
		check_csv(c);
	if (c->aggs_on)
		(void)aggs_add_row(&c->aggs, c->acc, rec->field, c->err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_reader r;
	struct frame f;
	struct ctx c;
	unsigned mode;
	int fd = -1;

	if (size < 1)
		return 0;
	mode = data[0];
	data++;
	size--;
	if (mode & 1)
		fd = fuzz_pipe_with(data, size);
	if (fd < 0)
		fd = fuzz_memfd_with("fuzz-frames", data, size);

	memset(&c, 0, sizeof c);
	record_init(&c.rec);
	sb_init(&c.tmp);
	sb_init(&c.out);
	sb_init(&c.scratch);

	frame_reader_init(&r, fd, "fuzz");
	if (mode & 2) {
		r.cap = 64;
		r.buf = xrealloc(r.buf, r.cap);
	}
	if (mode & 4)
		r.max_line = 100;
	for (;;) {
		if (frame_next(&r, &f, c.err) < 0 || f.kind == FRAME_EOF)
			break;
		FUZZ_ASSERT(f.text[f.len] == '\0' &&
		    memchr(f.text, '\n', f.len) == NULL, "frame not a line");
		switch (f.kind) {
		case FRAME_HEADER: on_header(&c, &f); break;
		case FRAME_EPOCH: on_epoch(&c, &f); break;
		case FRAME_WATERMARK: on_watermark(&c, &f); break;
		case FRAME_END: {
			bool final;

			(void)end_decode(&f, &final, c.err);
			break;
		}
		case FRAME_DATA: on_data(&c, &f); break;
		case FRAME_EOF: break;
		}
	}
	if (c.table_on) {
		sb_reset(&c.out);
		console_table_show(&c.table, true, 3, &c.out);
		console_table_free(&c.table);
	}
	aggs_teardown(&c);
	frame_reader_free(&r);
	close(fd);
	if (c.have_header)
		schema_free(&c.s);
	record_free(&c.rec);
	sb_free(&c.tmp);
	sb_free(&c.out);
	sb_free(&c.scratch);
	free(c.ubuf);
	return 0;
}

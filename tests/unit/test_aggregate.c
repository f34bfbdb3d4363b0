/* test_aggregate.c: unit tests of lib/aggregate (scount's accumulators). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "die.h"
#include "frame.h"
#include "unit.h"

static struct schema sc;
static struct record rec;

/* Split a TAB-separated wire line into rec (the text must outlive it). */
static const struct slice *
row(const char *line)
{
	record_split(&rec, line, strlen(line));
	return rec.field;
}

/* The output fields of acc, as a line (static buffer). */
static const char *
written(struct aggs *a, const void *acc)
{
	static char out[256];
	struct frame_writer w;

	fw_init(&w, -1);	/* never flushed: read from the buffer */
	aggs_write(a, acc, &w);
	snprintf(out, sizeof out, "%.*s", (int)w.len, w.buf);
	free(w.buf);
	return out;
}

static void
test_types(void)
{
	struct aggs a;
	char err[ERRBUF_SIZE];

	aggs_init(&a);
	CHECK(aggs_add(&a, AGG_SUM, &sc, "s", err) < 0 &&
	    strstr(err, "not a number"), "sum of a STRING is refused");
	CHECK(aggs_add(&a, AGG_AVG, &sc, "t", err) < 0,
	    "avg of a TIMESTAMP is refused");
	CHECK(aggs_add(&a, AGG_MIN, &sc, "nope", err) < 0 &&
	    strstr(err, "'nope'"), "an unknown field is refused");
	CHECK(aggs_add(&a, AGG_SUM, &sc, "i", err) == 0 &&
	    a.agg[0].out == TYPE_BIGINT && strcmp(a.agg[0].name, "sum_i") == 0,
	    "sum of an INT is a BIGINT named sum_i");
	CHECK(aggs_add(&a, AGG_AVG, &sc, "i", err) == 0 &&
	    a.agg[1].out == TYPE_DOUBLE, "avg is a DOUBLE");
	CHECK(aggs_add(&a, AGG_MAX, &sc, "s", err) == 0 &&
	    a.agg[2].out == TYPE_STRING, "max of a STRING is a STRING");
	CHECK(aggs_size(&a) == 8 + 3 * 16,
	    "8 bytes of count, 16 per aggregate");
	aggs_free(&a);
}

static void
test_rows_and_absorb(void)
{
	struct aggs a;
	char err[ERRBUF_SIZE];
	void *x, *y;
	char l1[] = "5\t1.5\tpear\t10", l2[] = "\\N\t\\N\t\\N\t\\N",
	    l3[] = "-2\t0.25\tapple\t30", l4[] = "7\tNaN\tzebra\t20",
	    l5[] = "x\t1\ty\t1";

	aggs_init(&a);
	aggs_add(&a, AGG_SUM, &sc, "i", err);
	aggs_add(&a, AGG_MIN, &sc, "d", err);
	aggs_add(&a, AGG_MAX, &sc, "d", err);
	aggs_add(&a, AGG_MIN, &sc, "s", err);
	aggs_add(&a, AGG_MAX, &sc, "s", err);
	x = xcalloc(1, aggs_size(&a));
	y = xcalloc(1, aggs_size(&a));
	CHECK_STR(written(&a, x), "0\t\\N\t\\N\t\\N\t\\N\t\\N",
	    "an empty group: count 0, aggregates null");
	CHECK(aggs_add_row(&a, x, row(l1), err) == 0, "a row adds");
	CHECK(aggs_add_row(&a, x, row(l2), err) == 0, "a null row adds");
	CHECK_STR(written(&a, x), "2\t5\t1.5\t1.5\tpear\tpear",
	    "nulls are skipped, count counts them");
	aggs_add_row(&a, y, row(l3), err);
	aggs_add_row(&a, y, row(l4), err);
	CHECK_STR(written(&a, y), "2\t5\t0.25\tNaN\tapple\tzebra",
	    "NaN is the largest double");
	aggs_absorb(&a, x, y);
	free(y);
	CHECK_STR(written(&a, x), "4\t10\t0.25\tNaN\tapple\tzebra",
	    "absorbing merges counts, sums, minima and maxima");
	CHECK(a.str_garbage == strlen("pear") * 2,
	    "the losing strings become garbage");
	CHECK(aggs_add_row(&a, x, row(l5), err) < 0 &&
	    strcmp(err, "i: 'x' is not an INT") == 0,
	    "a bad number is an error naming the field");
	aggs_gc_begin(&a);
	aggs_gc_move(&a, x);
	aggs_gc_end(&a);
	CHECK(a.str_garbage == 0 && a.str_len == strlen("applezebra"),
	    "collection keeps only live strings");
	CHECK_STR(written(&a, x), "5\t10\t0.25\tNaN\tapple\tzebra",
	    "results survive collection");
	aggs_release(&a, x);
	CHECK(a.str_garbage == a.str_len, "a released block is all garbage");
	free(x);
	aggs_free(&a);
}

int
main(void)
{
	char err[ERRBUF_SIZE];

	prog_init("test_aggregate");
	record_init(&rec);
	if (schema_parse_ddl(&sc, "i INT, d DOUBLE, s STRING, t TIMESTAMP",
	    err) < 0) {
		printf("not ok 1 - schema: %s\n", err);
		return 1;
	}
	test_types();
	test_rows_and_absorb();
	schema_free(&sc);
	record_free(&rec);
	return unit_done();
}

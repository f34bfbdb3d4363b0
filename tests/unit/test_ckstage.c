/*
 * test_ckstage.c: unit tests of the stateful stages' state text
 * (lib/ckstage: hex floats, the reader) and of the accumulators' save and
 * load (lib/aggregate).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "ckstage.h"
#include "die.h"
#include "frame.h"
#include "unit.h"

/* Format v, parse it back with strtod: the same bits? */
static int
f64_round_trips(double v, const char *want)
{
	struct strbuf sb;
	double back;
	int ok;

	sb_init(&sb);
	state_put_f64(&sb, v);
	back = strtod(sb.buf, NULL);
	ok = (isnan(v) ? isnan(back) : memcmp(&v, &back, sizeof v) == 0) &&
	    (want == NULL || strcmp(sb.buf, want) == 0);
	if (!ok)
		printf("#   %a wrote '%s'\n", v, sb.buf);
	sb_free(&sb);
	return ok;
}

static void
test_f64(void)
{
	CHECK(f64_round_trips(0.0, "0x0p+0"), "0 as a hex float");
	CHECK(f64_round_trips(-0.0, "-0x0p+0"), "-0 keeps its sign");
	CHECK(f64_round_trips(1.0, "0x1p+0"), "1");
	CHECK(f64_round_trips(1.5, "0x1.8p+0"), "1.5, trailing zeros cut");
	CHECK(f64_round_trips(-0.1, "-0x1.999999999999ap-4"), "-0.1 exactly");
	CHECK(f64_round_trips(1e300, NULL), "1e300");
	CHECK(f64_round_trips(4.9e-324, "0x0.0000000000001p-1022"),
	    "the smallest subnormal");
	CHECK(f64_round_trips(-1e-310, NULL), "a negative subnormal");
	CHECK(f64_round_trips(HUGE_VAL, "inf"), "inf");
	CHECK(f64_round_trips(-HUGE_VAL, "-inf"), "-inf");
	CHECK(f64_round_trips(NAN, "nan"), "nan");
	CHECK(f64_round_trips(0x1.fffffffffffffp+1023, NULL), "DBL_MAX");
}

static void
test_reader(void)
{
	char blob[] = "format=1\nwatermark=-inf\nrows=2\na\t1\nb\t2\n";
	char err[ERRBUF_SIZE];
	struct sreader r;
	const char *v;
	int64_t n;

	sreader_init(&r, blob, strlen(blob), "ck/state/x/3");
	CHECK(sreader_i64(&r, "format", false, &n, err) == 0 && n == 1,
	    "an integer item");
	CHECK(sreader_i64(&r, "watermark", true, &n, err) == 0 &&
	    n == TIME_MIN_MICROS, "-inf as a time");
	CHECK(sreader_item(&r, "rows", &v, err) == 0 && strcmp(v, "2") == 0,
	    "an item as text");
	CHECK(sreader_record(&r, 2, err) == 0 && r.rec.field[0].n == 1 &&
	    r.rec.field[0].p[0] == 'a', "a record");
	CHECK(sreader_record(&r, 3, err) == -1, "a record of the wrong width");
	CHECK_STR(err, "checkpoint: 'ck/state/x/3': line 7: 2 fields, "
	    "expected 3", "the error names the file and its line");
	CHECK(sreader_done(&r), "done at the end");
	CHECK(sreader_item(&r, "more", &v, err) == -1, "nothing past the end");
	CHECK_STR(err, "checkpoint: 'ck/state/x/3': line 8: missing 'more=' "
	    "(truncated state)", "truncation is named");
	sreader_free(&r);

	char bad[] = "format=x\n";
	sreader_init(&r, bad, strlen(bad), "p");
	CHECK(sreader_i64(&r, "format", false, &n, err) == -1,
	    "a bad integer");
	CHECK_STR(err, "checkpoint: 'p': line 3: format: 'x' is not an "
	    "integer", "its message");
	sreader_free(&r);
}

static struct record rec;

static const struct slice *
row(const char *line)
{
	record_split(&rec, line, strlen(line));
	return rec.field;
}

static void
test_aggs(void)
{
	struct schema sc;
	struct aggs a, b;
	struct strbuf sb, sb2;
	char err[ERRBUF_SIZE];
	void *acc, *acc2;

	schema_init(&sc);
	schema_add(&sc, "k", TYPE_STRING, NULL);
	schema_add(&sc, "n", TYPE_INT, NULL);
	schema_add(&sc, "x", TYPE_DOUBLE, NULL);
	schema_add(&sc, "s", TYPE_STRING, NULL);
	schema_add(&sc, "b", TYPE_BOOLEAN, NULL);
	aggs_init(&a);
	aggs_init(&b);
	aggs_add(&a, AGG_SUM, &sc, "n", err);
	aggs_add(&a, AGG_AVG, &sc, "n", err);
	aggs_add(&a, AGG_MAX, &sc, "x", err);
	aggs_add(&a, AGG_MIN, &sc, "s", err);
	aggs_add(&a, AGG_MAX, &sc, "s", err);
	aggs_add(&a, AGG_MIN, &sc, "b", err);
	aggs_add(&b, AGG_SUM, &sc, "n", err);
	aggs_add(&b, AGG_AVG, &sc, "n", err);
	aggs_add(&b, AGG_MAX, &sc, "x", err);
	aggs_add(&b, AGG_MIN, &sc, "s", err);
	aggs_add(&b, AGG_MAX, &sc, "s", err);
	aggs_add(&b, AGG_MIN, &sc, "b", err);
	CHECK(aggs_saved_fields(&a) == 1 + 2 + 2 + 2 + 1 + 1 + 2,
	    "fields: count, 2 per number, 1 per string");
	acc = xcalloc(1, aggs_size(&a));
	acc2 = xcalloc(1, aggs_size(&a));
	aggs_add_row(&a, acc, row("k\t5\t0.1\ta\\tb\ttrue"), err);
	aggs_add_row(&a, acc, row("k\t-2\t\\N\tz\tfalse"), err);
	aggs_add_row(&a, acc, row("k\t\\N\t-3\t\\N\t\\N"), err);
	sb_init(&sb);
	sb_init(&sb2);
	aggs_save(&a, acc, &sb);
	CHECK_STR(sb.buf, "3\t2\t3\t2\t0x1.8p+1\t2\t0x1.999999999999ap-4\t"
	    "a\\tb\tz\t2\t0", "saved as text, strings in wire form");
	record_split(&rec, sb.buf, sb.len);
	CHECK(aggs_load(&b, acc2, rec.field, err) == 0, "loads");
	aggs_save(&b, acc2, &sb2);
	CHECK_STR(sb2.buf, sb.buf, "and saves the same again");

	/* An empty block: nulls and zero counts. */
	memset(acc2, 0, aggs_size(&a));
	sb_reset(&sb);
	aggs_save(&a, acc2, &sb);
	CHECK_STR(sb.buf, "0\t0\t0\t0\t0x0p+0\t0\t0x0p+0\t\\N\t\\N\t0\t0",
	    "an empty block");
	CHECK(aggs_load(&b, acc2, row("1\tx\t0\t0\t0\t0\t0\t\\N\t\\N\t0\t0"),
	    err) == -1, "a bad number is refused");
	CHECK_STR(err, "sum_n: 'x' is not a count", "and named");

	sb_free(&sb);
	sb_free(&sb2);
	free(acc);
	free(acc2);
	aggs_free(&a);
	aggs_free(&b);
	schema_free(&sc);
	record_free(&rec);
}

int
main(void)
{
	test_f64();
	test_reader();
	test_aggs();
	return unit_done();
}

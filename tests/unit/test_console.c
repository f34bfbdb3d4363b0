/*
 * Unit tests for lib/console.c: Spark's show() table.  The expected
 * strings follow Dataset.showString; the end-to-end goldens are in
 * tests/fixtures/console.
 */
#include <stdlib.h>

#include "console.h"
#include "die.h"
#include "unit.h"

static void
schema_of(struct schema *s, const char *ddl)
{
	char err[ERRBUF_SIZE];

	schema_init(s);
	if (schema_parse_ddl(s, ddl, err) < 0) {
		printf("# bad ddl '%s': %s\n", ddl, err);
		exit(1);
	}
}

/* Show t (more_rows, num_rows) into a fresh string the caller frees. */
static char *
show(struct console_table *t, bool more, long long num_rows)
{
	struct strbuf out;

	sb_init(&out);
	console_table_show(t, more, num_rows, &out);
	return out.buf;
}

static void
add(struct console_table *t, const char *s)
{
	console_table_add(t, s, strlen(s));
}

static void
test_basic(void)
{
	struct schema s;
	struct console_table t;
	char *got;

	schema_of(&s, "word STRING, count BIGINT");
	console_table_init(&t, &s, CONSOLE_TRUNCATE);
	add(&t, "hello");
	add(&t, "2");
	add(&t, "world");
	add(&t, "1");
	CHECK(console_table_rows(&t) == 2, "two rows");
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+-----+-----+\n"
	    "| word|count|\n"
	    "+-----+-----+\n"
	    "|hello|    2|\n"
	    "|world|    1|\n"
	    "+-----+-----+\n", "word count, right-aligned");
	free(got);

	/* reset keeps the names, forgets rows and their widths */
	console_table_reset(&t);
	CHECK(console_table_rows(&t) == 0, "reset: no rows");
	add(&t, "a");
	add(&t, "12345678");
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+----+--------+\n"
	    "|word|   count|\n"
	    "+----+--------+\n"
	    "|   a|12345678|\n"
	    "+----+--------+\n", "reset recomputes widths");
	free(got);

	console_table_reset(&t);
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+----+-----+\n"
	    "|word|count|\n"
	    "+----+-----+\n"
	    "+----+-----+\n", "empty table: names between borders");
	free(got);
	console_table_free(&t);
	schema_free(&s);
}

static void
test_min_width_and_footer(void)
{
	struct schema s;
	struct console_table t;
	char *got;

	schema_of(&s, "a INT, bb INT");
	console_table_init(&t, &s, CONSOLE_TRUNCATE);
	add(&t, "1");
	add(&t, "");
	got = show(&t, true, 1);
	CHECK_STR(got,
	    "+---+---+\n"
	    "|  a| bb|\n"
	    "+---+---+\n"
	    "|  1|   |\n"
	    "+---+---+\n"
	    "only showing top 1 row\n", "min width 3, singular footer");
	free(got);
	got = show(&t, true, 20);
	CHECK(strstr(got, "only showing top 20 rows\n") != NULL,
	    "plural footer");
	free(got);
	console_table_free(&t);
	schema_free(&s);
}

static void
test_truncation(void)
{
	struct schema s;
	struct console_table t;
	char *got;

	schema_of(&s, "a_column_name_longer_than_twenty STRING");
	console_table_init(&t, &s, CONSOLE_TRUNCATE);
	add(&t, "12345678901234567890");
	add(&t, "123456789012345678901");
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+--------------------------------+\n"
	    "|a_column_name_longer_than_twenty|\n"
	    "+--------------------------------+\n"
	    "|            12345678901234567890|\n"
	    "|            12345678901234567...|\n"
	    "+--------------------------------+\n",
	    "20 chars kept, 21 cut to 17 + ..., name not cut");
	free(got);
	console_table_free(&t);

	console_table_init(&t, &s, 0);
	add(&t, "123456789012345678901");
	add(&t, "x");
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+--------------------------------+\n"
	    "|a_column_name_longer_than_twenty|\n"
	    "+--------------------------------+\n"
	    "|123456789012345678901           |\n"
	    "|x                               |\n"
	    "+--------------------------------+\n",
	    "truncate=false: whole cells, left-aligned");
	free(got);
	console_table_free(&t);

	/* Spark's show(n, truncate) with truncate < 4: cut, no ellipsis */
	console_table_init(&t, &s, 3);
	add(&t, "abcdef");
	got = show(&t, false, 20);
	CHECK(strstr(got, "|                             abc|\n") != NULL,
	    "truncate 3: first 3 characters, no ...");
	free(got);
	console_table_free(&t);
	schema_free(&s);
}

static void
test_escapes_and_utf8(void)
{
	struct schema s;
	struct console_table t;
	char *got;

	schema_of(&s, "v STRING");
	console_table_init(&t, &s, CONSOLE_TRUNCATE);
	add(&t, "a\tb\nc\rd\fe\bf\vg\ah");
	add(&t, "h\xc3\xa9llo");	/* é: 1 wide */
	add(&t, "\xe6\x97\xa5\xe6\x9c\xac");	/* 日本: 2 wide each */
	add(&t, "bad\xff\xe2\x82z");	/* FF, then a cut sequence */
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+--------------------+\n"
	    "|                   v|\n"
	    "+--------------------+\n"
	    "|a\\tb\\nc\\rd\\fe\\bf\\...|\n"
	    "|               h\xc3\xa9llo|\n"
	    "|                \xe6\x97\xa5\xe6\x9c\xac|\n"
	    "|              bad\xef\xbf\xbd\xef\xbf\xbdz|\n"
	    "+--------------------+\n",
	    "escapes count 2 and may be cut in half, as Spark; widths in "
	    "characters");
	free(got);
	console_table_free(&t);

	/* the escape is not split in a table without truncation */
	console_table_init(&t, &s, 0);
	add(&t, "a\tb");
	got = show(&t, false, 20);
	CHECK(strstr(got, "|a\\tb|\n") != NULL, "tab shown as \\t");
	free(got);
	console_table_free(&t);

	/* an emoji counts 2 (a UTF-16 pair); a cut through it leaves '?' */
	console_table_init(&t, &s, CONSOLE_TRUNCATE);
	add(&t, "0123456789012345\xf0\x9f\x98\x80xyzw");
	add(&t, "\xf0\x9f\x98\x80");
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+--------------------+\n"
	    "|                   v|\n"
	    "+--------------------+\n"
	    "|0123456789012345?...|\n"
	    "|                  \xf0\x9f\x98\x80|\n"
	    "+--------------------+\n",
	    "surrogate pairs count 2, a split one prints '?'");
	free(got);
	console_table_free(&t);

	/* full-width: Hangul and full-width Latin count 2 */
	console_table_init(&t, &s, 0);
	add(&t, "\xed\x95\x9c\xea\xb5\xad");	/* 한국 */
	add(&t, "\xef\xbc\xa1");	/* Ａ */
	got = show(&t, false, 20);
	CHECK_STR(got,
	    "+----+\n"
	    "|v   |\n"
	    "+----+\n"
	    "|\xed\x95\x9c\xea\xb5\xad|\n"
	    "|\xef\xbc\xa1  |\n"
	    "+----+\n", "full-width characters are two wide");
	free(got);
	console_table_free(&t);
	schema_free(&s);
}

static void
test_banner(void)
{
	struct strbuf out;

	sb_init(&out);
	console_batch_banner(12, &out);
	CHECK_STR(out.buf,
	    "-------------------------------------------\n"
	    "Batch: 12\n"
	    "-------------------------------------------\n", "banner");
	CHECK(strlen(CONSOLE_DASHES) == 43, "43 dashes");
	sb_free(&out);
}

int
main(void)
{
	test_basic();
	test_min_width_and_footer();
	test_truncation();
	test_escapes_and_utf8();
	test_banner();
	return unit_done();
}

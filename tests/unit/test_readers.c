/*
 * test_readers.c: the csv and json readers of ssrc (lib/csv_in.c,
 * lib/json_in.c) and the raw path of lib/record_out.c, fed in memory.
 * The frame writer's fd is -1 and nothing here fills its buffer, so the
 * frames written are read back from w.buf.
 */
#include <stdlib.h>
#include <string.h>

#include "csv_in.h"
#include "die.h"
#include "frame.h"
#include "json_in.h"
#include "record_out.h"
#include "reader_fixture.h"
#include "schema.h"
#include "unit.h"

static void
setup(struct fixture *f, const char *ddl, bool ts)
{
	fixture_setup(f, ddl, ts);
}

static void
test_csv(void)
{
	struct fixture f;
	struct csv_in *c;

	setup(&f, "id INT, name STRING, score DOUBLE", false);
	c = csv_in_new(&f.s, true, "stdin", 1 << 20);
	CHECK(csv_feed(c, &f, "id,name,score\n1,\"a, b\",2.5\n"
	    "2,\"say \"\"hi\"\"\",1e3\r\n3,\"two\nlines\",\n4,,-0\n"
	    "5,\"\",7") == 0, "csv: header, quotes, CRLF, newlines parse");
	CHECK_STR(output(&f), "1\ta, b\t2.5\n2\tsay \"hi\"\t1000\n"
	    "3\ttwo\\nlines\t\\N\n4\t\\N\t-0\n5\t\t7\n",
	    "csv: cells typed, escaped; empty is null, quoted \"\" is empty");
	CHECK(f.o.rows == 5, "csv: five records counted");
	CHECK(!csv_in_pending(c), "csv: nothing pending at the end");
	csv_in_free(c);
	teardown(&f);

	setup(&f, "a STRING, b STRING", false);
	c = csv_in_new(&f.s, false, "stdin", 1 << 20);
	CHECK(csv_feed(c, &f, " x , y \n\n") == 0, "csv: spaces kept");
	CHECK_STR(output(&f), " x \t y \n",
	    "csv: spaces are data and blank lines are skipped");
	csv_in_free(c);
	teardown(&f);
}

static void
test_csv_errors(void)
{
	struct fixture f;
	struct csv_in *c;

	setup(&f, "id INT, name STRING", false);
	c = csv_in_new(&f.s, false, "stdin", 1 << 20);
	CHECK(csv_feed(c, &f, "1,a\n\"x\ny\",b\nzz,c\n") < 0 &&
	    strcmp(f.err, "stdin:2: id: 'x\ny' is not an INT") == 0,
	    "csv: a bad cell names the line its record starts on");
	CHECK_STR(output(&f), "1\ta\n", "csv: the bad record wrote nothing");
	csv_in_free(c);
	teardown(&f);

	setup(&f, "id INT, name STRING", false);
	c = csv_in_new(&f.s, false, "socket:localhost:9", 1 << 20);
	CHECK(csv_feed(c, &f, "1,a\n2,b,c\n") < 0, "csv: extra field fails");
	CHECK_STR(f.err, "socket:localhost:9:2: record has 3 fields, the "
	    "schema has 2", "csv: field count message");
	csv_in_free(c);
	teardown(&f);

	setup(&f, "a STRING", false);
	c = csv_in_new(&f.s, false, "stdin", 1 << 20);
	CHECK(csv_feed(c, &f, "ok\n\"open\nstill open\n") < 0 &&
	    strstr(f.err, "unterminated quoted field") != NULL &&
	    strstr(f.err, "starts on line 2") != NULL,
	    "csv: unterminated quote at the end is an error");
	csv_in_free(c);
	teardown(&f);

	setup(&f, "a STRING", false);
	c = csv_in_new(&f.s, false, "stdin", 1 << 20);
	CHECK(csv_feed(c, &f, "a\"b\n") < 0 &&
	    strncmp(f.err, "stdin:1: malformed csv", 22) == 0,
	    "csv: a quote inside an unquoted field is an error");
	csv_in_free(c);
	teardown(&f);

	setup(&f, "a STRING", false);
	c = csv_in_new(&f.s, false, "stdin", 10);
	CHECK(csv_feed(c, &f, "\"12345\n67890\n\"\n") < 0 &&
	    strcmp(f.err, "stdin:1: record longer than 10 bytes "
	    "(--max-record-size)") == 0, "csv: a record over the limit");
	csv_in_free(c);
	teardown(&f);
}

static int
json_feed(struct json_in *j, struct fixture *f, const char *text)
{
	const char *p = text;
	long line = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);

		if (json_in_line(j, p, n, ++line, &f->o, f->err) < 0)
			return -1;
		p += n + (nl != NULL);
	}
	return 0;
}

static void
test_json(void)
{
	struct fixture f;
	struct json_in *j;

	setup(&f, "name STRING, age INT, big BIGINT, x DOUBLE, ok BOOLEAN, "
	    "t TIMESTAMP", false);
	j = json_in_new(&f.s, "stdin");
	CHECK(json_feed(j, &f,
	    "{\"name\":\"a\\tb\",\"age\":42,\"big\":9007199254740993,"
	    "\"x\":1.5,\"ok\":true,\"t\":\"2026-11-24T12:00:00Z\"}\n"
	    "{\"age\":null,\"x\":2,\"ok\":\"false\",\"t\":1700000000.25,"
	    "\"extra\":[1]}\n"
	    "  \n"
	    "{\"name\":{\"k\":[1,2]},\"age\":\"7\",\"t\":1,\"x\":\"NaN\"}\r\n"
	    "{\"name\":12,\"t\":\"2026-11-24 13:00:00+01:00\"}") == 0,
	    "json: typed objects parse");
	CHECK_STR(output(&f),
	    "a\\tb\t42\t9007199254740993\t1.5\ttrue\t1795521600000000\n"
	    "\\N\t\\N\t\\N\t2\tfalse\t1700000000250000\n"
	    "{\"k\":[1,2]}\t7\t\\N\tNaN\t\\N\t1000000\n"
	    "12\t\\N\t\\N\t\\N\t\\N\t1795521600000000\n",
	    "json: values by name; missing/null are null; blank skipped");
	CHECK(f.o.rows == 4, "json: four records counted");
	json_in_free(j);
	teardown(&f);

	setup(&f, "s STRING", true);
	j = json_in_new(&f.s, "stdin");
	CHECK(json_feed(j, &f, "{\"s\":\"a\\u0000b\"}") == 0,
	    "json: NUL in a string");
	CHECK_STR(output(&f), "a\\0b\t1000000\n",
	    "json: NUL escaped; arrival timestamp appended");
	json_in_free(j);
	teardown(&f);
}

static void
test_json_errors(void)
{
	static const struct {
		const char *ddl, *line, *err;
	} cases[] = {
		{ "age INT", "{\"age\":\"x\"}", "stdin:1: age: 'x' is not an INT" },
		{ "age INT", "{\"age\":1.5}", "stdin:1: age: '1.5' is not an INT" },
		{ "age INT", "{\"age\":3000000000}",
		  "stdin:1: age: '3000000000' is not an INT" },
		{ "ok BOOLEAN", "{\"ok\":1}", "stdin:1: ok: '1' is not a BOOLEAN" },
		{ "t TIMESTAMP", "{\"t\":\"soon\"}",
		  "stdin:1: t: 'soon' is not a TIMESTAMP" },
		{ "t TIMESTAMP", "{\"t\":true}",
		  "stdin:1: t: 'true' is not a TIMESTAMP" },
		{ "x DOUBLE", "{\"x\":[1]}", "stdin:1: x: '[1]' is not a DOUBLE" },
		{ "a STRING", "[1,2]",
		  "stdin:1: expected a JSON object, one per line" },
	};
	struct fixture f;
	struct json_in *j;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char what[128];

		setup(&f, cases[i].ddl, false);
		j = json_in_new(&f.s, "stdin");
		snprintf(what, sizeof what, "json error: %s", cases[i].line);
		CHECK(json_feed(j, &f, cases[i].line) < 0, what);
		CHECK_STR(f.err, cases[i].err, what);
		CHECK(f.w.len == 0, "json: nothing written for a bad record");
		json_in_free(j);
		teardown(&f);
	}
	setup(&f, "a STRING", false);
	j = json_in_new(&f.s, "stdin");
	CHECK(json_feed(j, &f, "{\"a\":1}\n{\"a\":}") < 0 &&
	    strncmp(f.err, "stdin:2: invalid JSON at column", 31) == 0,
	    "json: syntax error names the line");
	json_in_free(j);
	teardown(&f);
}

static void
test_raw(void)
{
	struct fixture f;
	char big[100000];

	setup(&f, "value STRING", false);
	ro_raw_lines(&f.o, "a\nb\n", 4, 2);
	fw_field(&f.w, "c\td", 3);
	ro_end(&f.o);
	CHECK_STR(output(&f), "a\nb\nc\\td\n", "raw lines and escaped lines "
	    "keep their order");
	CHECK(f.o.rows == 3, "raw: rows counted");
	/* A run bigger than the buffer goes to the fd: -1 here, an error
	 * kept for the next flush. */
	memset(big, 'x', sizeof big);
	ro_raw_lines(&f.o, big, sizeof big, 1);
	CHECK(f.w.error != 0 && fw_flush(&f.w) < 0,
	    "raw: a failed direct write shows at the next flush");
	teardown(&f);
}

int
main(void)
{
	test_csv();
	test_csv_errors();
	test_json();
	test_json_errors();
	test_raw();
	return unit_done();
}

/* Unit tests for durations, timestamps, schemas and typed values. */
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "die.h"
#include "rtime.h"
#include "schema.h"
#include "strbuf.h"
#include "value.h"
#include "unit.h"

static int64_t
dur(const char *s)
{
	int64_t v;
	char err[ERRBUF_SIZE];

	return duration_parse(s, &v, err) == 0 ? v : -1;
}

static void
test_durations(void)
{
	const int64_t S = MICROS_PER_SECOND;
	char err[ERRBUF_SIZE], buf[64];
	int64_t v;

	CHECK(dur("10 minutes") == 600 * S, "10 minutes");
	CHECK(dur("5 seconds") == 5 * S, "5 seconds");
	CHECK(dur("1 hour") == 3600 * S, "1 hour");
	CHECK(dur("250ms") == 250000, "250ms");
	CHECK(dur("5s") == 5 * S, "5s");
	CHECK(dur("10m") == 600 * S, "10m");
	CHECK(dur("1h") == 3600 * S, "1h");
	CHECK(dur("1d") == 86400 * S, "1d");
	CHECK(dur("1h30m") == 5400 * S, "1h30m");
	CHECK(dur("interval 1 minute 30 seconds") == 90 * S, "interval form");
	CHECK(dur("1.5s") == 1500000, "fractional");
	CHECK(dur("10 MINUTES") == 600 * S, "case-insensitive unit");
	CHECK(duration_parse("5", &v, err) < 0 && strstr(err, "unit"),
	    "bare number refused");
	CHECK(duration_parse("-5s", &v, err) < 0 && strstr(err, "negative"),
	    "negative refused");
	CHECK(duration_parse("5 fortnights", &v, err) < 0 &&
	    strstr(err, "fortnights"), "unknown unit named");
	CHECK(duration_parse("", &v, err) < 0, "empty refused");
	CHECK(duration_parse("abc", &v, err) < 0, "garbage refused");
	duration_format(5400 * S, buf);
	CHECK_STR(buf, "1h30m", "format 1h30m");
	duration_format(250000, buf);
	CHECK_STR(buf, "250ms", "format 250ms");
}

static int64_t
ts(const char *s)
{
	int64_t v;

	return timestamp_parse(s, strlen(s), &v, NULL) == 0 ? v : -42;
}

static void
test_timestamps(void)
{
	const int64_t T = INT64_C(1795003200) * MICROS_PER_SECOND;	/* 2026-11-19T... */
	int64_t base = ts("2026-11-24T12:00:00Z");
	char buf[TIMESTAMP_BUFSIZE];

	(void)T;
	CHECK(base == INT64_C(1795521600) * MICROS_PER_SECOND, "ISO with Z");
	CHECK(ts("2026-11-24 12:00:00") == base, "space, no offset is UTC");
	CHECK(ts("2026-11-24T12:00:00") == base, "T, no offset is UTC");
	CHECK(ts("2026-11-24T13:00:00+01:00") == base, "offset +01:00");
	CHECK(ts("2026-11-24T07:00:00-0500") == base, "offset -0500");
	CHECK(ts("2026-11-24 12:00:00.123") == base + 123000, "milliseconds");
	CHECK(ts("2026-11-24T12:00:00.123456Z") == base + 123456,
	    "microseconds");
	CHECK(ts("2026-11-24T12:00Z") == base, "no seconds");
	CHECK(ts("2026-11-24") == base - 12 * 3600 * MICROS_PER_SECOND,
	    "date alone is midnight");
	CHECK(ts("1795521600") == base, "epoch seconds");
	CHECK(ts("1795521600.5") == base + 500000, "fractional epoch seconds");
	CHECK(ts("-1.5") == -1500000, "negative epoch seconds");
	CHECK(ts("0") == 0, "the epoch");
	CHECK(ts("1969-12-31T23:59:59Z") == -MICROS_PER_SECOND, "before 1970");
	CHECK(ts("2026-13-01") == -42, "month 13 refused");
	CHECK(ts("yesterday") == -42, "words refused");
	CHECK(ts("2026-11-24T12:00:00Zjunk") == -42, "trailing junk refused");
	CHECK(ts("") == -42, "empty refused");

	timestamp_format_iso(base, buf);
	CHECK_STR(buf, "2026-11-24T12:00:00.000Z", "ISO output");
	timestamp_format_iso(base + 123999, buf);
	CHECK_STR(buf, "2026-11-24T12:00:00.123Z", "ISO output truncates to ms");
	timestamp_format_iso(-1, buf);
	CHECK_STR(buf, "1969-12-31T23:59:59.999Z", "ISO output before 1970");
	timestamp_format_console(base, buf);
	CHECK_STR(buf, "2026-11-24 12:00:00", "console output");
	timestamp_format_console(base + 120000, buf);
	CHECK_STR(buf, "2026-11-24 12:00:00.12", "console trims zeros");
	CHECK(floor_div(-1, 10) == -1 && floor_div(-10, 10) == -1 &&
	    floor_div(9, 10) == 0, "floor_div");
}

static void
test_schema(void)
{
	struct schema s;
	char err[ERRBUF_SIZE];

	CHECK(schema_parse_ddl(&s, "name STRING, age INT, eventTime TIMESTAMP",
	    err) == 0, "DDL parses");
	CHECK(s.nfields == 3 && s.fields[1].type == TYPE_INT &&
	    s.fields[2].type == TYPE_TIMESTAMP &&
	    strcmp(s.fields[2].name, "eventTime") == 0, "DDL fields");
	schema_free(&s);
	CHECK(schema_parse_ddl(&s, "a bigint,b double , c boolean,`d e` string",
	    err) == 0 && s.nfields == 4 && s.fields[0].type == TYPE_BIGINT &&
	    strcmp(s.fields[3].name, "d e") == 0, "lowercase types, backquotes");
	schema_free(&s);
	CHECK(schema_parse_ddl(&s, "a: LONG", err) == 0 &&
	    s.fields[0].type == TYPE_BIGINT, "colon form and alias");
	schema_free(&s);
	CHECK(schema_parse_ddl(&s, "a STRUCT", err) < 0 &&
	    strstr(err, "STRUCT"), "unknown type named");
	CHECK(schema_parse_ddl(&s, "a INT, a STRING", err) < 0 &&
	    strstr(err, "twice"), "duplicate field refused");
	CHECK(schema_parse_ddl(&s, "a", err) < 0 && strstr(err, "no type"),
	    "missing type refused");
	CHECK(schema_parse_ddl(&s, "a INT b INT", err) < 0, "missing comma");
	CHECK(schema_parse_ddl(&s, "", err) < 0, "empty schema refused");
}

/* Encode user text through value_write_text and read the wire field back. */
static int
encode(enum field_type t, const char *text, char *out, size_t size)
{
	char path[] = "/tmp/runnel-unit-XXXXXX";
	int fd = mkstemp(path);
	struct frame_writer w;
	ssize_t n;
	int rc;

	unlink(path);
	fw_init(&w, fd);
	rc = value_write_text(&w, t, text, strlen(text), NULL);
	fw_close(&w);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, size - 1);
	out[n < 0 ? 0 : n] = '\0';
	close(fd);
	return rc;
}

static void
test_values(void)
{
	char out[128], err[ERRBUF_SIZE];
	struct strbuf sb;
	struct frame_writer w;

	CHECK(encode(TYPE_INT, " 42 ", out, sizeof out) == 0 &&
	    strcmp(out, "42") == 0, "INT with spaces");
	CHECK(encode(TYPE_INT, "2147483648", out, sizeof out) < 0,
	    "INT overflow refused");
	CHECK(encode(TYPE_BIGINT, "2147483648", out, sizeof out) == 0,
	    "BIGINT takes it");
	CHECK(encode(TYPE_INT, "4x", out, sizeof out) < 0, "INT junk refused");
	CHECK(encode(TYPE_DOUBLE, "0.1", out, sizeof out) == 0 &&
	    strcmp(out, "0.1") == 0, "DOUBLE shortest form");
	CHECK(encode(TYPE_BOOLEAN, "TRUE", out, sizeof out) == 0 &&
	    strcmp(out, "true") == 0, "BOOLEAN");
	CHECK(encode(TYPE_BOOLEAN, "yes", out, sizeof out) < 0,
	    "BOOLEAN junk refused");
	CHECK(encode(TYPE_TIMESTAMP, "1970-01-01T00:00:01Z", out,
	    sizeof out) == 0 && strcmp(out, "1000000") == 0,
	    "TIMESTAMP to micros");
	fw_init(&w, -1);
	CHECK(value_write_text(&w, TYPE_INT, "x", 1, err) < 0 &&
	    strcmp(err, "'x' is not an INT") == 0, "type error message");
	w.len = 0;
	fw_close(&w);

	sb_init(&sb);
	value_render(TYPE_TIMESTAMP, (struct slice){ "1000000", 7 },
	    RENDER_PLAIN, &sb);
	CHECK_STR(sb.buf, "1970-01-01T00:00:01.000Z", "render TIMESTAMP");
	sb_reset(&sb);
	value_render(TYPE_DOUBLE, (struct slice){ "2", 1 }, RENDER_PLAIN, &sb);
	CHECK_STR(sb.buf, "2.0", "render DOUBLE as Java");
	sb_reset(&sb);
	value_render(TYPE_DOUBLE, (struct slice){ "1e10", 4 }, RENDER_PLAIN,
	    &sb);
	CHECK_STR(sb.buf, "1.0E10", "render large DOUBLE as Java");
	sb_reset(&sb);
	value_render(TYPE_DOUBLE, (struct slice){ "0.3333333333333333", 18 },
	    RENDER_PLAIN, &sb);
	CHECK_STR(sb.buf, "0.3333333333333333", "render 1/3 in 16 digits");
	sb_reset(&sb);
	value_render(TYPE_STRING, (struct slice){ "a\\tb", 4 }, RENDER_PLAIN,
	    &sb);
	CHECK_STR(sb.buf, "a\tb", "render unescapes");
	sb_reset(&sb);
	CHECK(value_render(TYPE_STRING, (struct slice){ "\\N", 2 },
	    RENDER_CONSOLE, &sb) == 1 && strcmp(sb.buf, "null") == 0,
	    "render null on console");
	sb_free(&sb);
}

int
main(void)
{
	test_durations();
	test_timestamps();
	test_schema();
	test_values();
	return unit_done();
}

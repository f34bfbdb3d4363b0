/*
 * Unit tests for the sinks' writers: lib/utf8.c, lib/csv_out.c,
 * lib/json_out.c.
 */
#include <stdlib.h>

#include "csv_out.h"
#include "die.h"
#include "json_out.h"
#include "unit.h"
#include "utf8.h"

static void
test_utf8(void)
{
	static const struct {
		const char *s;
		size_t n, len;
		int32_t cp;
		const char *what;
	} cases[] = {
		{ "A", 1, 1, 'A', "ASCII" },
		{ "\xc3\xa9", 2, 2, 0xE9, "two bytes" },
		{ "\xe6\x97\xa5", 3, 3, 0x65E5, "three bytes" },
		{ "\xf0\x9f\x98\x80", 4, 4, 0x1F600, "four bytes" },
		{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10FFFF, "U+10FFFF" },
		{ "\xc0\xaf", 2, 1, -1, "overlong C0: one byte invalid" },
		{ "\xe0\x80\xaf", 3, 1, -1, "overlong E0 80: one byte invalid" },
		{ "\xed\xa0\x80", 3, 1, -1, "surrogate: one byte invalid" },
		{ "\xf4\x90\x80\x80", 4, 1, -1, "past 10FFFF: one byte invalid" },
		{ "\xe2\x82", 2, 2, -1, "truncated: the maximal subpart" },
		{ "\xe2\x82z", 3, 2, -1, "cut by ASCII: the maximal subpart" },
		{ "\xf0\x9f\x98", 3, 3, -1, "truncated four-byte sequence" },
		{ "\x80", 1, 1, -1, "lone continuation byte" },
		{ "\xff", 1, 1, -1, "FF" },
	};
	char buf[4];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int32_t cp;
		size_t len = utf8_decode(cases[i].s, cases[i].n, &cp);

		CHECK(len == cases[i].len && cp == cases[i].cp, cases[i].what);
	}
	CHECK(utf8_encode(0x1F600, buf) == 4 &&
	    memcmp(buf, "\xf0\x9f\x98\x80", 4) == 0, "encode four bytes");
	CHECK(utf8_encode(UTF8_REPLACEMENT, buf) == 3 &&
	    memcmp(buf, "\xef\xbf\xbd", 3) == 0, "encode U+FFFD");
}

static const char *
csv_field(struct strbuf *sb, const char *s, size_t n)
{
	sb_reset(sb);
	csv_out_field(sb, s, n);
	return sb->buf;
}

static void
test_csv(void)
{
	struct strbuf sb, tmp;
	struct schema s;
	struct record rec;
	char err[ERRBUF_SIZE];
	const char *line = "a,b\t\\N\t1795521600000000\t2.5\ttrue\t"
	    "x\\ty\\\\z";

	sb_init(&sb);
	sb_init(&tmp);
	CHECK_STR(csv_field(&sb, "plain", 5), "plain", "plain: unquoted");
	CHECK_STR(csv_field(&sb, "a b ", 4), "a b ", "spaces: unquoted");
	CHECK_STR(csv_field(&sb, "", 0), "\"\"", "empty string: quoted");
	CHECK_STR(csv_field(&sb, "a,b", 3), "\"a,b\"", "comma: quoted");
	CHECK_STR(csv_field(&sb, "say \"hi\"", 8), "\"say \"\"hi\"\"\"",
	    "quotes doubled");
	CHECK_STR(csv_field(&sb, "a\nb", 3), "\"a\nb\"", "LF: quoted");
	CHECK_STR(csv_field(&sb, "a\rb", 3), "\"a\rb\"", "CR: quoted");

	schema_init(&s);
	CHECK(schema_parse_ddl(&s, "s STRING, n INT, t TIMESTAMP, d DOUBLE, "
	    "b BOOLEAN, e STRING", err) == 0, "schema");
	record_init(&rec);
	record_split(&rec, line, strlen(line));
	sb_reset(&sb);
	csv_out_header(&sb, &s);
	CHECK(csv_out_record(&sb, &s, &rec, &tmp, err) == 0, "record");
	CHECK_STR(sb.buf, "s,n,t,d,b,e\n"
	    "\"a,b\",,2026-11-24T12:00:00.000Z,2.5,true,x\ty\\z\n",
	    "header and typed record; null empty; unescaped string");

	line = "x\t1\tnot-a-time\t1\ttrue\ty";
	record_split(&rec, line, strlen(line));
	CHECK(csv_out_record(&sb, &s, &rec, &tmp, err) < 0, "bad timestamp");
	CHECK_STR(err, "t: malformed TIMESTAMP value 'not-a-time'",
	    "message names field and value");
	record_free(&rec);
	schema_free(&s);
	sb_free(&sb);
	sb_free(&tmp);
}

static const char *
json_str(struct strbuf *sb, const char *s, size_t n)
{
	sb_reset(sb);
	json_out_string(sb, s, n);
	return sb->buf;
}

static void
test_json(void)
{
	struct strbuf sb, tmp;
	struct schema s;
	struct record rec;
	char err[ERRBUF_SIZE];
	const char *line;

	sb_init(&sb);
	sb_init(&tmp);
	CHECK_STR(json_str(&sb, "plain", 5), "\"plain\"", "plain");
	CHECK_STR(json_str(&sb, "q\"b\\s/", 6), "\"q\\\"b\\\\s/\"",
	    "quote and backslash");
	CHECK_STR(json_str(&sb, "\b\f\n\r\t\x01\x1f\x7f", 8),
	    "\"\\b\\f\\n\\r\\t\\u0001\\u001f\x7f\"", "control characters");
	CHECK(json_str(&sb, "a\0b", 3) && memcmp(sb.buf, "\"a\\u0000b\"", 10)
	    == 0, "NUL");
	CHECK_STR(json_str(&sb, "\xc3\xa9\xf0\x9f\x98\x80", 6),
	    "\"\xc3\xa9\xf0\x9f\x98\x80\"", "valid UTF-8 copied");
	CHECK_STR(json_str(&sb, "a\xff" "b\xe2\x82" "c\xed\xa0\x80", 9),
	    "\"a\\ufffdb\\ufffdc\\ufffd\\ufffd\\ufffd\"",
	    "invalid UTF-8: U+FFFD per maximal subpart");

	schema_init(&s);
	CHECK(schema_parse_ddl(&s, "s STRING, i INT, b BIGINT, d DOUBLE, "
	    "ok BOOLEAN, t TIMESTAMP", err) == 0, "schema");
	record_init(&rec);
	line = "x\\ty\t-1\t9223372036854775807\t1e-7\tfalse\t-1";
	record_split(&rec, line, strlen(line));
	sb_reset(&sb);
	CHECK(json_out_record(&sb, &s, &rec, &tmp, err) == 0, "record");
	CHECK_STR(sb.buf, "{\"s\":\"x\\ty\",\"i\":-1,\"b\":9223372036854775807,"
	    "\"d\":1.0E-7,\"ok\":false,\"t\":\"1969-12-31T23:59:59.999Z\"}",
	    "typed object");
	line = "\\N\t\\N\t\\N\tNaN\t\\N\t\\N";
	record_split(&rec, line, strlen(line));
	sb_reset(&sb);
	CHECK(json_out_record(&sb, &s, &rec, &tmp, err) == 0, "nulls");
	CHECK_STR(sb.buf, "{\"s\":null,\"i\":null,\"b\":null,\"d\":\"NaN\","
	    "\"ok\":null,\"t\":null}", "nulls and NaN");
	line = "x\t1\t1\t1\tmaybe\t1";
	record_split(&rec, line, strlen(line));
	CHECK(json_out_record(&sb, &s, &rec, &tmp, err) < 0 &&
	    strcmp(err, "ok: malformed BOOLEAN value 'maybe'") == 0,
	    "bad boolean refused (it would be invalid JSON)");
	line = "x\t1x\t1\t1\ttrue\t1";
	record_split(&rec, line, strlen(line));
	CHECK(json_out_record(&sb, &s, &rec, &tmp, err) < 0,
	    "bad integer refused");
	record_free(&rec);
	schema_free(&s);
	sb_free(&sb);
	sb_free(&tmp);
}

int
main(void)
{
	test_utf8();
	test_csv();
	test_json();
	return unit_done();
}

/*
 * fuzz_parse.c: the parsers of option values and user text, and the
 * escapers whose output other programs read.  Every input goes through
 * all of them (each is cheap), as bytes or, for the C-string APIs, up to
 * its first NUL:
 *
 *   schema_parse_ddl   a good schema has valid names and, written back as
 *                      DDL, parses to the same schema;
 *   duration_parse     >= 0; duration_format() of it parses back the same
 *                      (below 2^53 us, where a double is exact);
 *   timestamp_parse    formats without UB; for years 0-9999 the console
 *                      form parses back exactly, the ISO form to the ms;
 *   parse_i64_text,    format_i64 / fw_f64 / format_double_java of the
 *   parse_f64_text     value parse back the same;
 *   value_write_text   for each type: the field written is a valid wire
 *                      value of that type;
 *   type_parse, hostport_parse, dirwatch_clean_parse, sink_format_parse,
 *   sink_lookup, kafka_offsets_parse (its format parses back the same);
 *   hive_escape        a safe path component (no '/', no control byte,
 *                      valid UTF-8, never "." or ".."); hive_unescape()
 *                      gives the bytes back;
 *   utf8_decode        makes progress, stays in bounds; a code point
 *                      re-encodes to the same bytes;
 *   json_out_string    valid JSON that jansson decodes (to the same bytes
 *                      when they were valid UTF-8);
 *   csv_out_field      one CSV field that libcsv reads back the same.
 */
#include <csv.h>
#include <jansson.h>
#include <librdkafka/rdkafka.h>
#include <math.h>

#include "csv_out.h"
#include "dirwatch.h"
#include "fuzz_common.h"
#include "hivepath.h"
#include "json_out.h"
#include "kafka.h"
#include "rtime.h"
#include "schema.h"
#include "sink.h"
#include "socket.h"
#include "utf8.h"
#include "value.h"

static void
check_ddl(const char *str)
{
	struct schema s, again;
	struct strbuf ddl;
	char err[ERRBUF_SIZE];
	bool quotable = true;

	if (schema_parse_ddl(&s, str, err) < 0)
		return;
	sb_init(&ddl);
	for (size_t i = 0; i < s.nfields; i++) {
		FUZZ_ASSERT(field_name_valid(s.fields[i].name),
		    "schema has field name '%s'", s.fields[i].name);
		if (strchr(s.fields[i].name, '`') != NULL)
			quotable = false;
		sb_addf(&ddl, "%s`%s` %s", i ? ", " : "", s.fields[i].name,
		    type_name(s.fields[i].type));
	}
	if (quotable) {
		FUZZ_ASSERT(schema_parse_ddl(&again, ddl.buf, err) == 0,
		    "'%s' does not parse: %s", ddl.buf, err);
		FUZZ_ASSERT(again.nfields == s.nfields, "field count changed");
		for (size_t i = 0; i < s.nfields; i++)
			FUZZ_ASSERT(strcmp(again.fields[i].name,
			    s.fields[i].name) == 0 && again.fields[i].type ==
			    s.fields[i].type, "field %zu changed", i);
		schema_free(&again);
	}
	sb_free(&ddl);
	schema_free(&s);
}

static void
check_duration(const char *str)
{
	char err[ERRBUF_SIZE], buf[128];
	int64_t d, d2;

	if (duration_parse(str, &d, err) < 0)
		return;
	FUZZ_ASSERT(d >= 0, "negative duration %lld", (long long)d);
	duration_format(d, buf);
	if (d < (INT64_C(1) << 53) && d > 0) {
		FUZZ_ASSERT(duration_parse(buf, &d2, err) == 0 && d2 == d,
		    "duration %lld formats as '%s' which parses as %lld",
		    (long long)d, buf, (long long)d2);
	}
}

/* Microseconds of 0000-01-01 and of 10000-01-01, UTC. */
#define YEAR0_MICROS	(INT64_C(-62167219200) * MICROS_PER_SECOND)
#define YEAR10K_MICROS	(INT64_C(253402300800) * MICROS_PER_SECOND)

static void
check_timestamp(const uint8_t *data, size_t size)
{
	char err[ERRBUF_SIZE], iso[TIMESTAMP_BUFSIZE], con[TIMESTAMP_BUFSIZE];
	int64_t v, v2;
	size_t n;

	if (timestamp_parse((const char *)data, size, &v, err) < 0)
		return;
	n = timestamp_format_iso(v, iso);
	FUZZ_ASSERT(n < TIMESTAMP_BUFSIZE, "iso form too long");
	n = timestamp_format_console(v, con);
	FUZZ_ASSERT(n < TIMESTAMP_BUFSIZE, "console form too long");
	if (v < YEAR0_MICROS || v >= YEAR10K_MICROS)
		return;
	FUZZ_ASSERT(timestamp_parse(con, strlen(con), &v2, err) == 0 &&
	    v2 == v, "%lld shows as '%s', which parses as %lld",
	    (long long)v, con, (long long)v2);
	FUZZ_ASSERT(timestamp_parse(iso, strlen(iso), &v2, err) == 0 &&
	    v2 == v - (v % 1000 + 1000) % 1000,
	    "%lld is '%s' in ISO, which parses as %lld", (long long)v, iso,
	    (long long)v2);
}

static void
check_numbers(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char buf[64];
	int64_t i, i2;
	double d, d2;
	size_t n;

	if (parse_i64_text(s, size, &i) == 0) {
		n = format_i64(buf, i);
		FUZZ_ASSERT(parse_i64_text(buf, n, &i2) == 0 && i2 == i,
		    "integer %lld does not read back", (long long)i);
	}
	if (parse_f64_text(s, size, &d) == 0) {
		struct frame_writer w;

		n = format_double_java(d, buf, sizeof buf);
		FUZZ_ASSERT(n < sizeof buf, "format_double_java overflow");
		FUZZ_ASSERT(parse_f64_text(buf, n, &d2) == 0 &&
		    (d2 == d || (isnan(d) && isnan(d2))),
		    "double '%s' does not read back", buf);
		fw_init(&w, -1);
		fw_f64(&w, d);
		FUZZ_ASSERT(parse_f64_text(w.buf, w.len, &d2) == 0 &&
		    ((d2 == d && signbit(d2) == signbit(d)) ||
		    (isnan(d) && isnan(d2))),	/* a NaN has no sign */
		    "fw_f64 wrote '%.*s'", (int)w.len, w.buf);
		free(w.buf);
	}
}

static void
check_values(const uint8_t *data, size_t size)
{
	struct frame_writer w;
	char err[ERRBUF_SIZE];
	char *ubuf = xmalloc(2 * size + 64);

	for (int t = TYPE_STRING; t <= TYPE_TIMESTAMP; t++) {
		struct slice f;

		fw_init(&w, -1);
		if (w.cap < 2 * size + 64) {	/* never flush to fd -1 */
			w.cap = 2 * size + 64;
			w.buf = xrealloc(w.buf, w.cap);
		}
		if (value_write_text(&w, (enum field_type)t,
		    (const char *)data, size, err) == 0) {
			f.p = w.buf;
			f.n = w.len;
			FUZZ_ASSERT(memchr(f.p, '\t', f.n) == NULL &&
			    memchr(f.p, '\n', f.n) == NULL,
			    "a field with a TAB or LF");
			FUZZ_ASSERT(wire_valid(f, (enum field_type)t, ubuf) &&
			    !field_is_null(f), "value_write_text wrote '%.*s' "
			    "for a %s", (int)f.n, f.p,
			    type_name((enum field_type)t));
		}
		free(w.buf);
	}
	free(ubuf);
}

static void
check_options(const uint8_t *data, size_t size, const char *str)
{
	struct hostport hp;
	enum field_type type;
	enum dirwatch_clean_mode mode;
	const char *archive, *target;
	char err[ERRBUF_SIZE];
	rd_kafka_topic_partition_list_t *list, *again;

	(void)type_parse((const char *)data, size, &type);
	if (hostport_parse(str, "localhost", &hp, err) == 0)
		FUZZ_ASSERT(memchr(hp.host, '\0', sizeof hp.host) != NULL &&
		    memchr(hp.port, '\0', sizeof hp.port) != NULL,
		    "hostport not terminated");
	(void)dirwatch_clean_parse(str, &mode, &archive, err);
	(void)sink_format_parse(str);
	(void)sink_lookup(str, &target, err);

	list = kafka_offsets_parse(str, err);
	if (list != NULL) {
		char *s = kafka_offsets_format(list);

		again = kafka_offsets_parse(s, err);
		FUZZ_ASSERT(again != NULL && again->cnt == list->cnt,
		    "offsets '%s' do not read back: %s", s, err);
		for (int i = 0; i < list->cnt; i++)
			FUZZ_ASSERT(strcmp(again->elems[i].topic,
			    list->elems[i].topic) == 0 &&
			    again->elems[i].partition ==
			    list->elems[i].partition &&
			    again->elems[i].offset == list->elems[i].offset,
			    "offsets '%s': entry %d changed", s, i);
		rd_kafka_topic_partition_list_destroy(again);
		rd_kafka_topic_partition_list_destroy(list);
		free(s);
	}
}

/* Is s[0..n) valid UTF-8 (utf8_decode finds no invalid sequence)? */
static bool
check_utf8(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	bool valid = true;
	size_t i = 0;

	while (i < size) {
		int32_t cp;
		size_t k = utf8_decode(s + i, size - i, &cp);
		char enc[4];

		FUZZ_ASSERT(k >= 1 && k <= 4 && k <= size - i,
		    "utf8_decode took %zu of %zu bytes", k, size - i);
		if (cp < 0) {
			valid = false;
		} else {
			FUZZ_ASSERT(cp <= 0x10FFFF &&
			    (cp < 0xD800 || cp > 0xDFFF), "bad code point");
			FUZZ_ASSERT(utf8_encode((uint32_t)cp, enc) == k &&
			    memcmp(enc, s + i, k) == 0,
			    "U+%04X does not re-encode to its bytes", cp);
		}
		i += k;
	}
	return valid;
}

static void
check_hive(const uint8_t *data, size_t size, bool utf8)
{
	struct strbuf sb;
	size_t n;

	sb_init(&sb);
	hive_escape(&sb, (const char *)data, size);
	for (size_t i = 0; i < sb.len; i++) {
		unsigned char c = (unsigned char)sb.buf[i];

		FUZZ_ASSERT(c != '/' && c >= 0x20 && c != 0x7f && c != '\\',
		    "hive_escape left byte 0x%02x", c);
	}
	FUZZ_ASSERT(check_utf8((const uint8_t *)sb.buf, sb.len),
	    "hive_escape wrote invalid UTF-8");
	n = hive_unescape(sb.buf, sb.len);
	FUZZ_ASSERT(n == size && (size == 0 || memcmp(sb.buf, data, size) == 0),
	    "hive_unescape did not give the bytes back");
	sb_reset(&sb);
	hive_component(&sb, "k", (const char *)data, size);
	FUZZ_ASSERT(strcmp(sb.buf, ".") != 0 && strcmp(sb.buf, "..") != 0 &&
	    memchr(sb.buf, '/', sb.len) == NULL, "unsafe component '%s'",
	    sb.buf);
	sb_free(&sb);
	(void)utf8;
}

static void
check_json_string(const uint8_t *data, size_t size, bool utf8)
{
	struct strbuf sb;
	json_error_t jerr;
	json_t *j;

	sb_init(&sb);
	json_out_string(&sb, (const char *)data, size);
	j = json_loadb(sb.buf, sb.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	FUZZ_ASSERT(j != NULL && json_is_string(j),
	    "json_out_string wrote invalid JSON: %s", j ? "not a string" :
	    jerr.text);
	if (utf8)
		FUZZ_ASSERT(json_string_length(j) == size && (size == 0 ||
		    memcmp(json_string_value(j), data, size) == 0),
		    "json_out_string changed valid UTF-8");
	json_decref(j);
	sb_free(&sb);
}

struct one_field {
	struct strbuf value;
	size_t cells, rows;
};

static void
got_cell(void *s, size_t n, void *data)
{
	struct one_field *f = data;

	f->cells++;
	sb_add(&f->value, s ? s : "", n);
}

static void
got_row(int t, void *data)
{
	(void)t;
	((struct one_field *)data)->rows++;
}

static int
no_space(unsigned char c)
{
	(void)c;
	return 0;
}

static void
check_csv_field(const uint8_t *data, size_t size)
{
	struct csv_parser p;
	struct strbuf sb;
	struct one_field f;

	sb_init(&sb);
	sb_init(&f.value);
	f.cells = f.rows = 0;
	csv_out_field(&sb, (const char *)data, size);
	sb_addc(&sb, '\n');
	FUZZ_ASSERT(csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) == 0, "csv");
	csv_set_space_func(&p, no_space);
	FUZZ_ASSERT(csv_parse(&p, sb.buf, sb.len, got_cell, got_row, &f) ==
	    sb.len, "csv_out_field wrote bad CSV");
	FUZZ_ASSERT(csv_fini(&p, got_cell, got_row, &f) == 0,
	    "csv_out_field wrote bad CSV");
	csv_free(&p);
	FUZZ_ASSERT(f.cells == 1 && f.rows == 1 && f.value.len == size &&
	    (size == 0 || memcmp(f.value.buf, data, size) == 0),
	    "csv_out_field: %zu cells, %zu rows, %zu bytes back of %zu",
	    f.cells, f.rows, f.value.len, size);
	sb_free(&f.value);
	sb_free(&sb);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *str = xmalloc(size + 1);
	bool utf8;

	if (size > 0)
		memcpy(str, data, size);
	str[size] = '\0';

	check_ddl(str);
	check_duration(str);
	check_timestamp(data, size);
	check_numbers(data, size);
	check_values(data, size);
	check_options(data, size, str);
	utf8 = check_utf8(data, size);
	check_hive(data, size, utf8);
	check_json_string(data, size, utf8);
	check_csv_field(data, size);
	free(str);
	return 0;
}

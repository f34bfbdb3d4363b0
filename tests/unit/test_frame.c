/* Unit tests for lib/frame.c: round trips, escapes, nulls, control frames. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "die.h"
#include "frame.h"
#include "unit.h"

/* Write frames with w into a pipe-free temp file and read them back. */
static int
tmpfile_fd(void)
{
	char path[] = "/tmp/runnel-unit-XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	return fd;
}

static void
test_round_trip_all_bytes(void)
{
	struct frame_writer w;
	struct frame_reader r;
	struct frame f;
	struct record rec;
	char value[256], out[600], err[ERRBUF_SIZE];
	int fd = tmpfile_fd();
	long n;

	for (int i = 0; i < 256; i++)
		value[i] = (char)i;
	fw_init(&w, fd);
	fw_field(&w, value, sizeof value);
	fw_null(&w);
	fw_field(&w, "", 0);
	fw_field_str(&w, "\\N");
	fw_field_str(&w, "\\.x");
	fw_end_record(&w);
	CHECK(fw_close(&w) == 0, "writer flushes");
	lseek(fd, 0, SEEK_SET);

	frame_reader_init(&r, fd, "tmp");
	CHECK(frame_next(&r, &f, err) == 0, "read one frame");
	CHECK(f.kind == FRAME_DATA, "escaped data is a data frame");
	record_init(&rec);
	record_split(&rec, f.text, f.len);
	CHECK(rec.nfields == 5, "five fields");
	n = field_unescape(rec.field[0], out);
	CHECK(n == 256 && memcmp(out, value, 256) == 0,
	    "all 256 byte values survive");
	CHECK(field_is_null(rec.field[1]), "null is \\N");
	CHECK(rec.field[2].n == 0 && !field_is_null(rec.field[2]),
	    "empty string is not null");
	CHECK(!field_is_null(rec.field[3]), "the string \\N is not null");
	n = field_unescape(rec.field[3], out);
	CHECK(n == 2 && memcmp(out, "\\N", 2) == 0, "the string \\N survives");
	n = field_unescape(rec.field[4], out);
	CHECK(n == 3 && memcmp(out, "\\.x", 3) == 0,
	    "a value looking like a control frame survives");
	CHECK(frame_next(&r, &f, err) == 0 && f.kind == FRAME_EOF, "then EOF");
	record_free(&rec);
	frame_reader_free(&r);
	close(fd);
}

static void
test_control_frames(void)
{
	struct frame_writer w;
	struct frame_reader r;
	struct frame f;
	struct schema s, got;
	struct epoch e;
	char err[ERRBUF_SIZE];
	int fd = tmpfile_fd();
	int64_t v;
	bool final;

	schema_init(&s);
	schema_add(&s, "word", TYPE_STRING, NULL);
	schema_add(&s, "count", TYPE_BIGINT, NULL);
	schema_add(&s, "ts", TYPE_TIMESTAMP, NULL);
	schema_set_meta(&s, "query", "q\t1=x");
	fw_init(&w, fd);
	fw_header(&w, &s);
	fw_epoch_begin(&w, 7);
	fw_epoch_i64(&w, "ssrc.rows", 12);
	fw_epoch_i64(&w, "swindow.dropped", 2);
	fw_epoch_i64(&w, "scount.dropped", 3);
	fw_epoch_end(&w);
	fw_watermark(&w, 1732449600000000);
	fw_watermark(&w, TIME_MAX_MICROS);
	fw_end(&w, true);
	fw_end(&w, false);
	fw_close(&w);
	lseek(fd, 0, SEEK_SET);
	frame_reader_init(&r, fd, "tmp");

	CHECK(frame_next(&r, &f, err) == 0 && f.kind == FRAME_HEADER, "header");
	CHECK(header_decode(&f, &got, err) == 0, "header decodes");
	CHECK(got.nfields == 3 && got.fields[2].type == TYPE_TIMESTAMP &&
	    strcmp(got.fields[1].name, "count") == 0, "header fields");
	CHECK_STR(schema_meta(&got, "query"), "q\t1=x",
	    "metadata with tab and '=' survives");
	CHECK(frame_next(&r, &f, err) == 0 && f.kind == FRAME_EPOCH, "epoch");
	CHECK(epoch_decode(&f, &e, err) == 0 && e.batch == 7, "epoch batch");
	CHECK(epoch_get_i64(&e, "ssrc.rows", &v) == 0 && v == 12, "epoch item");
	CHECK(epoch_get_i64(&e, "ssrc.nope", &v) < 0, "absent epoch item");
	CHECK(epoch_sum_suffix(&e, ".dropped") == 5, "sum of .dropped items");
	CHECK(frame_next(&r, &f, err) == 0 && f.kind == FRAME_WATERMARK &&
	    watermark_decode(&f, &v, err) == 0 && v == 1732449600000000,
	    "watermark");
	CHECK(frame_next(&r, &f, err) == 0 &&
	    watermark_decode(&f, &v, err) == 0 && v == TIME_MAX_MICROS,
	    "watermark inf");
	CHECK(frame_next(&r, &f, err) == 0 && f.kind == FRAME_END &&
	    end_decode(&f, &final, err) == 0 && final, "end final");
	CHECK(frame_next(&r, &f, err) == 0 && end_decode(&f, &final, err) == 0
	    && !final, "end pause");
	schema_free(&s);
	schema_free(&got);
	frame_reader_free(&r);
	close(fd);
}

static void
test_bad_input(void)
{
	struct frame_reader r;
	struct frame f;
	char err[ERRBUF_SIZE], out[16];
	int fd = tmpfile_fd();
	struct slice bad = { "ab\\", 3 }, bad2 = { "a\\qb", 4 };

	CHECK(write(fd, "ok\n\\.q\tx\nno newline", 19) == 19, "write input");
	lseek(fd, 0, SEEK_SET);
	frame_reader_init(&r, fd, "tmp");
	CHECK(frame_next(&r, &f, err) == 0 && f.kind == FRAME_DATA, "data line");
	CHECK(frame_next(&r, &f, err) < 0 && strstr(err, "tmp:2") &&
	    strstr(err, "unknown control frame"), "unknown control frame");
	CHECK(frame_next(&r, &f, err) < 0 && strstr(err, "no newline"),
	    "truncated last frame");
	CHECK(field_unescape(bad, out) < 0, "lone trailing backslash");
	CHECK(field_unescape(bad2, out) < 0, "unknown escape");
	frame_reader_free(&r);
	close(fd);
}

static void
test_long_lines(void)
{
	struct frame_writer w;
	struct frame_reader r;
	struct frame f;
	char err[ERRBUF_SIZE];
	int fd = tmpfile_fd();
	size_t big = 3 << 20;
	char *value = malloc(big);
	int ok = 1;

	memset(value, 'x', big);
	fw_init(&w, fd);
	for (int i = 0; i < 3; i++) {
		fw_field(&w, value, big - (size_t)i);
		fw_end_record(&w);
	}
	fw_close(&w);
	lseek(fd, 0, SEEK_SET);
	frame_reader_init(&r, fd, "tmp");
	for (int i = 0; i < 3; i++)
		ok &= frame_next(&r, &f, err) == 0 && f.len == big - (size_t)i;
	CHECK(ok, "multi-megabyte frames read back whole");
	frame_reader_free(&r);
	lseek(fd, 0, SEEK_SET);
	frame_reader_init(&r, fd, "tmp");
	r.max_line = 1 << 20;
	CHECK(frame_next(&r, &f, err) < 0 && strstr(err, "longer than"),
	    "frames over max_line are refused");
	frame_reader_free(&r);
	free(value);
	close(fd);
}

static void
test_numbers(void)
{
	char buf[32];

	format_i64(buf, 0);
	CHECK_STR(buf, "0", "format 0");
	format_i64(buf, INT64_MIN);
	CHECK_STR(buf, "-9223372036854775808", "format INT64_MIN");
	format_i64(buf, 1234567);
	CHECK_STR(buf, "1234567", "format positive");
}

int
main(void)
{
	test_round_trip_all_bytes();
	test_control_frames();
	test_bad_input();
	test_long_lines();
	test_numbers();
	return unit_done();
}

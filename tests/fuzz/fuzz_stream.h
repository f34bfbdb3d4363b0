/*
 * fuzz_stream.h: the harness of fuzz_csv and fuzz_json: bytes through
 * stream_in (lib/stream_in.c: chunked reading, line cutting, row limits,
 * --max-record-size) into the csv, json or text decoder, with a schema
 * that has every type, and the frames written checked field by field.
 *
 * Input: the first byte holds options, the rest is the stream.
 *   bit 0    --header (csv: the first record is skipped)
 *   bit 1    --max-record-size 40 (else 1 MiB)
 *   bit 2    --include-timestamp (also turns off the raw-copy fast path
 *            of text lines)
 *   bit 3    text format instead of csv/json (one STRING field)
 *   bits 4-5 rows per read: unlimited, 1, 2, 5 (SOURCE_MORE, the lines
 *            kept for later)
 *   bit 6    fed through a pipe in small chunks, a read after each (else
 *            all at once from a memfd): partial lines across reads
 *   bit 7    a bad-record policy (badrec.h), from a second byte: bit 0
 *            keep (--bad-records-path, in a scratch directory), else
 *            skip (--skip-bad); without bit 7 the policy is fail
 * Seeds start with a printable option byte: '@' (0x40) is "chunked, no
 * options", '0' (0x30) "1 row per read"; 0x80 0x00 "skip", 0x80 0x01
 * "keep".
 *
 * Properties: every frame written is a data frame with as many fields as
 * the schema (+1 with the timestamp), each field null or a valid wire
 * value of its type; the frames written are the rows counted less the
 * bad ones; the reader ends (SOURCE_END or an error) within a bounded
 * number of calls; with keep, the bad-records files hold one valid JSON
 * object per bad record, with its record and reason.
 */
#ifndef RUNNEL_FUZZ_STREAM_H
#define RUNNEL_FUZZ_STREAM_H

#include <jansson.h>
#include <strings.h>
#include <sys/ioctl.h>

#include "badrec.h"

#include "fuzz_common.h"
#include "rtime.h"
#include "schema.h"
#include "source.h"
#include "stream_in.h"
#include "value.h"

#define FUZZ_DDL "s STRING, i INT, b BIGINT, d DOUBLE, ok BOOLEAN, t TIMESTAMP"

static char bad_base[256];	/* scratch for --bad-records-path */

static void
bad_cleanup(void)
{
	if (bad_base[0] != '\0')
		fuzz_rm_rf(bad_base);
}

/* Check each line of each bad-records file under dir; count them. */
static uint64_t
check_bad_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		char path[1024];
		struct stat st;
		struct strbuf sb;
		int fd;

		if (de->d_name[0] == '.' || snprintf(path, sizeof path,
		    "%s/%s", dir, de->d_name) >= (int)sizeof path ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += check_bad_files(path);
			continue;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			abort();
		sb_init(&sb);
		fuzz_slurp(fd, &sb);
		close(fd);
		for (char *p = sb.buf, *end = sb.buf + sb.len; p < end;) {
			char *nl = memchr(p, '\n', (size_t)(end - p));
			json_error_t jerr;
			json_t *j;

			FUZZ_ASSERT(nl != NULL, "bad-records line without "
			    "newline in %s", path);
			j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL,
			    &jerr);
			FUZZ_ASSERT(j != NULL && json_is_object(j) &&
			    json_is_string(json_object_get(j, "reason")) &&
			    json_is_string(json_object_get(j, "record")),
			    "bad-records line is not a good JSON object (%s): "
			    "'%.*s'", j ? "keys" : jerr.text, (int)(nl - p), p);
			json_decref(j);
			n++;
			p = nl + 1;
		}
		sb_free(&sb);
	}
	closedir(d);
	return n;
}

/* Check every frame of the output; returns the number of records. */
static uint64_t
check_output(int fd, const struct schema *s, bool ts)
{
	struct frame_reader r;
	struct frame f;
	struct record rec;
	char err[ERRBUF_SIZE];
	char *ubuf = NULL;
	size_t ucap = 0;
	uint64_t n = 0;
	size_t want = s->nfields + (ts ? 1 : 0);

	if (lseek(fd, 0, SEEK_SET) != 0)
		abort();
	frame_reader_init(&r, fd, "output");
	record_init(&rec);
	for (;;) {
		FUZZ_ASSERT(frame_next(&r, &f, err) == 0,
		    "the reader wrote a bad frame stream: %s", err);
		if (f.kind == FRAME_EOF)
			break;
		FUZZ_ASSERT(f.kind == FRAME_DATA, "a control frame '%.20s' "
		    "in the output", f.text);
		record_split(&rec, f.text, f.len);
		FUZZ_ASSERT(rec.nfields == want, "%zu fields, want %zu: '%s'",
		    rec.nfields, want, f.text);
		for (size_t i = 0; i < rec.nfields; i++) {
			enum field_type t = i < s->nfields ?
			    s->fields[i].type : TYPE_TIMESTAMP;

			if (ucap < rec.field[i].n + 1) {
				ucap = rec.field[i].n + 1;
				ubuf = xrealloc(ubuf, ucap);
			}
			FUZZ_ASSERT(wire_valid(rec.field[i], t, ubuf),
			    "field %zu ('%.*s') is not a wire %s", i,
			    (int)rec.field[i].n, rec.field[i].p,
			    type_name(t));
		}
		n++;
	}
	record_free(&rec);
	frame_reader_free(&r);
	free(ubuf);
	return n;
}

static int
run_stream(const uint8_t *data, size_t size, enum source_format format)
{
	static const uint64_t limits[4] = { UINT64_MAX, 1, 2, 5 };
	struct source_options opt;
	struct schema s;
	struct stream_in in;
	struct frame_writer w;
	struct record_out o;
	char err[ERRBUF_SIZE];
	uint64_t limit, rows, hash, calls = 0, max_calls;
	struct badrec policy;
	char bad_dir[300];
	unsigned flags, policy_flags = 0;
	int in_fd, wfd = -1, out_fd, st = SOURCE_OK;
	size_t fed = 0;

	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;
	if (flags & 128) {
		if (size < 1)
			return 0;
		policy_flags = data[0];
		data++;
		size--;
	}
	hash = fuzz_hash(data, size);

	memset(&opt, 0, sizeof opt);
	opt.format = (flags & 8) ? SOURCE_TEXT : format;
	opt.header = flags & 1;
	opt.max_record = (flags & 2) ? 40 : 1 << 20;
	opt.include_timestamp = flags & 4;
	limit = limits[(flags >> 4) & 3];
	if (opt.format == SOURCE_TEXT) {
		schema_init(&s);
		schema_add(&s, "value", TYPE_STRING, NULL);
	} else if (schema_parse_ddl(&s, FUZZ_DDL, err) < 0) {
		abort();
	}
	opt.schema = &s;

	if (flags & 64) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0)
			abort();
		if (size > 65536)
			(void)fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
		in_fd = p[0];
		wfd = p[1];
	} else {
		in_fd = fuzz_memfd_with("fuzz-in", data, size);
		fed = size;
	}
	out_fd = fuzz_memfd("fuzz-out");
	fw_init(&w, out_fd);
	ro_init(&o, &w, opt.include_timestamp);
	o.arrival = 1764000000000000;
	if (flags & 128) {
		if (bad_base[0] == '\0') {
			fuzz_scratch_dir("bad", bad_base, sizeof bad_base);
			atexit(bad_cleanup);
		}
		snprintf(bad_dir, sizeof bad_dir, "%s/d", bad_base);
		fuzz_rm_rf(bad_dir);
		badrec_init(&policy, (policy_flags & 1) ? BADREC_KEEP :
		    BADREC_SKIP, bad_dir);
		FUZZ_ASSERT(badrec_start(&policy, "q", 0, false, err) == 0,
		    "badrec_start: %s", err);
		o.policy = &policy;
	}
	stream_in_init(&in, in_fd, "fuzz", &opt, &s);

	/* Each call takes a row, reads, or ends: more calls than that is a
	 * reader that spins. */
	max_calls = 4 * (uint64_t)size + 64;
	for (;;) {
		bool may_read = true;
		int avail = 0;

		if (wfd >= 0) {
			/* Feed the next chunk (1 to 64 bytes, sizes from the
			 * hash) once the reader has taken the last one.  A
			 * read is allowed only when the pipe holds bytes or
			 * is closed: it must never block here. */
			if (ioctl(in_fd, FIONREAD, &avail) < 0)
				abort();
			if (avail == 0) {
				size_t k = 1 + (size_t)((hash >> (calls % 58))
				    & 63);

				if (k > size - fed)
					k = size - fed;
				fuzz_write_all(wfd, data + fed, k);
				fed += k;
				avail = (int)k;
				if (fed == size) {
					close(wfd);
					wfd = -1;
				}
			}
			may_read = wfd < 0 || avail > 0;
		}
		st = stream_in_read(&in, &o, limit == UINT64_MAX ? UINT64_MAX :
		    o.rows + limit, may_read, err);
		FUZZ_ASSERT(++calls <= max_calls, "stream_in_read called %llu "
		    "times on %zu bytes", (unsigned long long)calls, size);
		if (st < 0 || st == SOURCE_END)
			break;
		if (st == SOURCE_MORE)
			FUZZ_ASSERT(stream_in_buffered(&in), "SOURCE_MORE but "
			    "nothing buffered");
	}
	if (st == SOURCE_END) {
		/* Every byte fed was taken. */
		FUZZ_ASSERT(in.commit_offset == fed,
		    "ended at offset %llu of %zu",
		    (unsigned long long)in.commit_offset, fed);
	}
	{
		struct strbuf pos;

		sb_init(&pos);
		stream_in_position(&in, &pos);
		sb_free(&pos);
	}
	FUZZ_ASSERT(fw_flush(&w) == 0, "writing to a memfd failed");
	rows = check_output(out_fd, &s, opt.include_timestamp);
	FUZZ_ASSERT(o.bad <= o.rows && rows == o.rows - o.bad,
	    "%llu frames written, %llu rows counted, %llu bad",
	    (unsigned long long)rows, (unsigned long long)o.rows,
	    (unsigned long long)o.bad);
	if (getenv("FUZZ_DEBUG") != NULL)	/* for writing seeds */
		fprintf(stderr, "fuzz_stream: %llu rows, %llu bad, %s\n",
		    (unsigned long long)o.rows, (unsigned long long)o.bad,
		    st < 0 ? err : "ended");
	if (flags & 128) {
		char summary[ERRBUF_SIZE];

		FUZZ_ASSERT(o.bad == policy.total, "%llu bad, policy saw %llu",
		    (unsigned long long)o.bad,
		    (unsigned long long)policy.total);
		if (badrec_end_batch(&policy, 0, err) == 0 &&
		    policy.mode == BADREC_KEEP)
			FUZZ_ASSERT(check_bad_files(bad_dir) == o.bad,
			    "%llu bad records, not as many lines kept",
			    (unsigned long long)o.bad);
		badrec_summary(&policy, summary, sizeof summary);
		badrec_free(&policy);
	}

	if (wfd >= 0)
		close(wfd);
	stream_in_free(&in);
	ro_free(&o);
	fw_close(&w);
	close(out_fd);
	close(in_fd);
	schema_free(&s);
	return 0;
}

#endif

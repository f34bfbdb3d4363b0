/*
 * reader_fixture.h: what the reader tests (test_readers.c, test_badrec.c)
 * share: a frame writer with no fd, whose buffer holds what the csv and
 * json readers wrote through record_out, and a schema from DDL.  With a
 * bad-record policy (fixture_policy) its state is freed with the rest.
 */
#ifndef RUNNEL_READER_FIXTURE_H
#define RUNNEL_READER_FIXTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrec.h"
#include "csv_in.h"
#include "die.h"
#include "frame.h"
#include "record_out.h"
#include "schema.h"

struct fixture {
	struct frame_writer w;
	struct record_out o;
	struct schema s;
	struct badrec b;
	bool has_policy;
	char err[ERRBUF_SIZE];
	char out[4096];
};

/* ts: --include-timestamp, arrival at 1 s past the epoch. */
static inline void
fixture_setup(struct fixture *f, const char *ddl, bool ts)
{
	memset(f, 0, sizeof *f);
	fw_init(&f->w, -1);
	ro_init(&f->o, &f->w, ts);
	f->o.arrival = 1000000;
	if (schema_parse_ddl(&f->s, ddl, f->err) < 0) {
		printf("# bad ddl: %s\n", f->err);
		exit(1);
	}
}

/* Bad records go through a policy (lib/badrec.h) of query "q". */
static inline void
fixture_policy(struct fixture *f, enum badrec_mode mode, const char *dir)
{
	badrec_init(&f->b, mode, dir);
	if (badrec_start(&f->b, "q", 0, false, f->err) < 0) {
		printf("# badrec_start: %s\n", f->err);
		exit(1);
	}
	f->o.policy = &f->b;
	f->has_policy = true;
}

/* The frames written so far, as a string (cut at 4 KiB). */
static inline const char *
output(struct fixture *f)
{
	size_t n = f->w.len < sizeof f->out - 1 ? f->w.len : sizeof f->out - 1;

	memcpy(f->out, f->w.buf, n);
	f->out[n] = '\0';
	return f->out;
}

static inline void
teardown(struct fixture *f)
{
	if (f->has_policy)
		badrec_free(&f->b);
	ro_free(&f->o);
	free(f->w.buf);
	schema_free(&f->s);
}

/* Feed text line by line, as stream_in does; returns the first error. */
static inline int
csv_feed(struct csv_in *c, struct fixture *f, const char *text)
{
	const char *p = text;
	long line = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (csv_in_line(c, p, n, ++line, &f->o, f->err) < 0)
			return -1;
		p += n;
	}
	return csv_in_finish(c, &f->o, f->err);
}

#endif

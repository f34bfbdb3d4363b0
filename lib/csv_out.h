/*
 * csv_out.h: writing records as CSV (RFC 4180) text.
 *
 * A field is quoted only when it must be: when it holds a comma, a double
 * quote, CR or LF (quotes inside are doubled), and when it is the empty
 * string, so that "" (empty) stays distinct from an empty field (null).
 * Lines end with LF, as Spark's CSV writer and Unix tools expect, not
 * RFC 4180's CRLF.  Values are shown as value_render(RENDER_PLAIN) does:
 * timestamps 2026-11-24T12:00:00.000Z, doubles as Java prints them.
 *
 * libcsv's csv_write() quotes every field, so it is not used here.
 * Everything is appended to a strbuf; the caller decides where it goes.
 */
#ifndef RUNNEL_CSV_OUT_H
#define RUNNEL_CSV_OUT_H

#include <stddef.h>

#include "frame.h"
#include "schema.h"
#include "strbuf.h"

/* Append s[0..n) as one CSV field (no separator). */
void csv_out_field(struct strbuf *out, const char *s, size_t n);
/* Append the header line: the field names. */
void csv_out_header(struct strbuf *out, const struct schema *s);
/*
 * Append rec (wire fields of schema s) as one line.  tmp is scratch
 * space, reused between calls.  Returns 0, or -1 with err naming the
 * field of a malformed value; out may then hold part of the line.
 */
int csv_out_record(struct strbuf *out, const struct schema *s,
    const struct record *rec, struct strbuf *tmp, char *err);

#endif

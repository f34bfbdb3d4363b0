/*
 * frame.h: the frame protocol between stages (see runnel(5)).
 *
 * One frame per line.  A data record is its fields joined by TAB, each
 * escaped as in PostgreSQL's COPY text format: backslash, TAB, LF, CR and
 * NUL become \\ \t \n \r \0, and a null is the two bytes \N.  Any other
 * byte passes through, so every byte sequence survives a round trip.
 * Control frames start with "\." which no escaped field can start with:
 *
 *   \.h  TAB items        header: @key=value metadata and name:TYPE fields
 *   \.e  TAB N TAB items  end of batch N; items are key=value counters
 *   \.w  TAB MICROS       watermark for the batches after this point
 *   \.x  TAB final|pause  end of stream
 *
 * Invariants: the header is the first frame; data records come in batches,
 * each closed by an epoch frame; \.x comes after an epoch frame, last.
 * Reading never allocates per frame: a frame's text points into the
 * reader's buffer and is valid until the next call.  Writing escapes into
 * the writer's buffer, flushed when full or by fw_flush().
 */
#ifndef RUNNEL_FRAME_H
#define RUNNEL_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"

#define FRAME_DEFAULT_MAX_LINE	((size_t)64 << 20)
/* Timestamps +/- infinity, as carried by watermark frames. */
#define TIME_MAX_MICROS		INT64_MAX
#define TIME_MIN_MICROS		INT64_MIN

enum frame_kind {
	FRAME_DATA,
	FRAME_HEADER,
	FRAME_EPOCH,
	FRAME_WATERMARK,
	FRAME_END,
	FRAME_EOF,	/* input ended; not a frame on the wire */
};

struct frame {
	enum frame_kind kind;
	char *text;	/* the line without its newline, NUL-terminated */
	size_t len;
};

struct frame_reader {
	int fd;
	const char *name;	/* for messages, e.g. "stdin" */
	char *buf;
	size_t cap, pos, len;
	size_t max_line;
	long line;		/* number of the frame last returned, from 1 */
	bool eof;
};

void frame_reader_init(struct frame_reader *r, int fd, const char *name);
void frame_reader_free(struct frame_reader *r);
/*
 * Read the next frame into f.  Returns 0, or -1 with err on a read error,
 * an over-long line, a last line without newline or an unknown control
 * frame.  At the end of input f->kind is FRAME_EOF.
 */
int frame_next(struct frame_reader *r, struct frame *f, char *err);
/* True when the next frame_next() will not need to read (no blocking). */
bool frame_reader_buffered(const struct frame_reader *r);

/* A field as it appears on the wire, still escaped. */
struct slice {
	const char *p;
	size_t n;
};

struct record {
	struct slice *field;
	size_t nfields, cap;
};

void record_init(struct record *rec);
void record_free(struct record *rec);
/* Split a data line into raw fields (no copy, no unescaping). */
void record_split(struct record *rec, const char *text, size_t len);

static inline bool
field_is_null(struct slice f)
{
	return f.n == 2 && f.p[0] == '\\' && f.p[1] == 'N';
}

/*
 * Unescape f into out, which must hold f.n + 1 bytes; NUL-terminates and
 * returns the length, or -1 on a bad escape (a lone backslash or \N inside
 * a longer field).  A null field is not unescaped: test it first.
 */
long field_unescape(struct slice f, char *out);
/* True when field f has no escapes, so its raw bytes are its value. */
static inline bool
field_is_plain(struct slice f)
{
	for (size_t i = 0; i < f.n; i++)
		if (f.p[i] == '\\')
			return false;
	return true;
}

struct frame_writer {
	int fd;
	char *buf;
	size_t len, cap;
	size_t nfields;		/* fields written in the current record */
	int error;		/* errno of the first failed write, or 0 */
};

void fw_init(struct frame_writer *w, int fd);
/* Flushes, then frees the buffer.  Returns fw_flush()'s result. */
int fw_close(struct frame_writer *w);
/* Write what is buffered.  Returns 0, or -1 with errno set (sticky). */
int fw_flush(struct frame_writer *w);

void fw_field(struct frame_writer *w, const char *s, size_t n);
void fw_field_str(struct frame_writer *w, const char *s);
void fw_field_raw(struct frame_writer *w, struct slice f);
void fw_null(struct frame_writer *w);
void fw_i64(struct frame_writer *w, int64_t v);
void fw_f64(struct frame_writer *w, double v);
void fw_bool(struct frame_writer *w, bool v);
void fw_end_record(struct frame_writer *w);

void fw_header(struct frame_writer *w, const struct schema *s);
/* Epoch frame: begin, any number of items, end (which flushes). */
void fw_epoch_begin(struct frame_writer *w, int64_t batch);
void fw_epoch_items(struct frame_writer *w, const char *items, size_t n);
void fw_epoch_i64(struct frame_writer *w, const char *key, int64_t v);
void fw_epoch_str(struct frame_writer *w, const char *key, const char *v);
int fw_epoch_end(struct frame_writer *w);
int fw_watermark(struct frame_writer *w, int64_t micros);
int fw_end(struct frame_writer *w, bool final);

/* Decoded control frames. */
int header_decode(const struct frame *f, struct schema *s, char *err);

struct epoch {
	int64_t batch;
	const char *items;	/* raw TAB-separated key=value items */
	size_t items_len;
};
int epoch_decode(const struct frame *f, struct epoch *e, char *err);
/* Look up an integer item KEY in e's items. Returns 0 or -1 if absent. */
int epoch_get_i64(const struct epoch *e, const char *key, int64_t *v);
/* Sum every integer item whose key ends with SUFFIX (e.g. ".dropped"). */
int64_t epoch_sum_suffix(const struct epoch *e, const char *suffix);

int watermark_decode(const struct frame *f, int64_t *micros, char *err);
/* Sets *final: true for "final", false for "pause". */
int end_decode(const struct frame *f, bool *final, char *err);

/* Write v in decimal to buf (at least 21 bytes); returns the length. */
size_t format_i64(char *buf, int64_t v);

#endif

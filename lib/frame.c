/*
 * frame.c: reading and writing frames (runnel(5)).
 *
 * The reader keeps one growing buffer and hands out lines in place; the
 * writer escapes straight into its buffer.  Neither allocates per frame,
 * which is what lets a four-stage pipeline keep up with mawk.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "frame.h"

#define READ_CHUNK	(64 * 1024)
#define WRITE_BUFSIZE	(64 * 1024)

void
frame_reader_init(struct frame_reader *r, int fd, const char *name)
{
	memset(r, 0, sizeof *r);
	r->fd = fd;
	r->name = name;
	r->cap = 4 * READ_CHUNK;
	r->buf = xmalloc(r->cap);
	r->max_line = FRAME_DEFAULT_MAX_LINE;
}

void
frame_reader_free(struct frame_reader *r)
{
	free(r->buf);
	r->buf = NULL;
}

bool
frame_reader_buffered(const struct frame_reader *r)
{
	return r->eof || memchr(r->buf + r->pos, '\n', r->len - r->pos);
}

static int
classify(struct frame_reader *r, struct frame *f, char *err)
{
	const char *t = f->text;

	f->kind = FRAME_DATA;
	if (f->len < 2 || t[0] != '\\' || t[1] != '.')
		return 0;
	if (f->len >= 3 && (f->len == 3 || t[3] == '\t')) {
		switch (t[2]) {
		case 'h': f->kind = FRAME_HEADER; return 0;
		case 'e': f->kind = FRAME_EPOCH; return 0;
		case 'w': f->kind = FRAME_WATERMARK; return 0;
		case 'x': f->kind = FRAME_END; return 0;
		}
	}
	return seterr(err, "%s:%ld: unknown control frame '%.*s'", r->name,
	    r->line, (int)(f->len > 16 ? 16 : f->len), t);
}

int
frame_next(struct frame_reader *r, struct frame *f, char *err)
{
	size_t scanned = r->pos;

	for (;;) {
		char *nl = memchr(r->buf + scanned, '\n', r->len - scanned);
		ssize_t n;

		if (nl != NULL) {
			*nl = '\0';
			f->text = r->buf + r->pos;
			f->len = (size_t)(nl - f->text);
			r->pos = (size_t)(nl - r->buf) + 1;
			r->line++;
			return classify(r, f, err);
		}
		scanned = r->len;
		if (r->eof) {
			if (r->pos < r->len)
				return seterr(err, "%s:%ld: last frame has no "
				    "newline (upstream stage died?)", r->name,
				    r->line + 1);
			f->kind = FRAME_EOF;
			f->text = NULL;
			f->len = 0;
			return 0;
		}
		if (r->pos > 0 && r->cap - r->len < READ_CHUNK) {
			memmove(r->buf, r->buf + r->pos, r->len - r->pos);
			r->len -= r->pos;
			scanned -= r->pos;
			r->pos = 0;
		}
		if (r->cap - r->len < READ_CHUNK) {
			if (r->len - r->pos >= r->max_line)
				return seterr(err, "%s:%ld: frame longer than "
				    "%zu bytes", r->name, r->line + 1,
				    r->max_line);
			r->cap *= 2;
			r->buf = xrealloc(r->buf, r->cap);
		}
		do
			n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return seterr(err, "%s: read error: %s", r->name,
			    strerror(errno));
		if (n == 0)
			r->eof = true;
		r->len += (size_t)n;
	}
}

void
record_init(struct record *rec)
{
	memset(rec, 0, sizeof *rec);
}

void
record_free(struct record *rec)
{
	free(rec->field);
	record_init(rec);
}

void
record_split(struct record *rec, const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	rec->nfields = 0;
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));

		if (rec->nfields == rec->cap) {
			rec->cap = rec->cap ? 2 * rec->cap : 16;
			rec->field = xrealloc(rec->field,
			    rec->cap * sizeof *rec->field);
		}
		rec->field[rec->nfields].p = p;
		rec->field[rec->nfields].n = (size_t)((tab ? tab : end) - p);
		rec->nfields++;
		if (tab == NULL)
			break;
		p = tab + 1;
	}
}

long
field_unescape(struct slice f, char *out)
{
	size_t o = 0;

	for (size_t i = 0; i < f.n; i++) {
		char c = f.p[i];

		if (c == '\\') {
			if (++i == f.n)
				return -1;
			switch (f.p[i]) {
			case '\\': c = '\\'; break;
			case 't': c = '\t'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case '0': c = '\0'; break;
			default: return -1;
			}
		}
		out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

void
fw_init(struct frame_writer *w, int fd)
{
	memset(w, 0, sizeof *w);
	w->fd = fd;
	w->cap = WRITE_BUFSIZE;
	w->buf = xmalloc(w->cap);
}

int
fw_flush(struct frame_writer *w)
{
	size_t off = 0;

	if (w->error) {
		errno = w->error;
		w->len = 0;
		return -1;
	}
	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			w->error = errno;
			w->len = 0;
			return -1;
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

int
fw_close(struct frame_writer *w)
{
	int rc = fw_flush(w);
	int saved = errno;

	free(w->buf);
	w->buf = NULL;
	errno = saved;
	return rc;
}

/* Make room for n more bytes. */
static inline void
reserve(struct frame_writer *w, size_t n)
{
	if (w->len + n <= w->cap)
		return;
	fw_flush(w);
	if (n > w->cap) {
		w->cap = n;
		w->buf = xrealloc(w->buf, w->cap);
	}
}

static inline void
separate(struct frame_writer *w)
{
	if (w->nfields++ > 0)
		w->buf[w->len++] = '\t';
}

/* Escape table: 0 = copy; otherwise the letter after the backslash. */
static const char escape_letter[256] = {
	['\\'] = '\\', ['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\0'] = '0',
};

void
fw_field(struct frame_writer *w, const char *s, size_t n)
{
	char *o;

	reserve(w, 2 * n + 1);
	separate(w);
	o = w->buf + w->len;
	for (size_t i = 0; i < n; i++) {
		char e = escape_letter[(unsigned char)s[i]];

		if (e) {
			*o++ = '\\';
			*o++ = e;
		} else {
			*o++ = s[i];
		}
	}
	w->len = (size_t)(o - w->buf);
}

void
fw_field_str(struct frame_writer *w, const char *s)
{
	fw_field(w, s, strlen(s));
}

void
fw_field_raw(struct frame_writer *w, struct slice f)
{
	reserve(w, f.n + 1);
	separate(w);
	memcpy(w->buf + w->len, f.p, f.n);
	w->len += f.n;
}

void
fw_null(struct frame_writer *w)
{
	reserve(w, 3);
	separate(w);
	w->buf[w->len++] = '\\';
	w->buf[w->len++] = 'N';
}

size_t
format_i64(char *buf, int64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	buf[len] = '\0';
	return len;
}

void
fw_i64(struct frame_writer *w, int64_t v)
{
	reserve(w, 24);
	separate(w);
	w->len += format_i64(w->buf + w->len, v);
}

void
fw_f64(struct frame_writer *w, double v)
{
	char buf[40];
	int n;

	if (isnan(v)) {
		n = snprintf(buf, sizeof buf, "NaN");
	} else if (isinf(v)) {
		n = snprintf(buf, sizeof buf, v > 0 ? "Infinity" : "-Infinity");
	} else {
		/* The shortest of 15, 16, 17 digits that reads back the same. */
		for (int digits = 15; digits <= 17; digits++) {
			n = snprintf(buf, sizeof buf, "%.*g", digits, v);
			if (strtod(buf, NULL) == v)
				break;
		}
	}
	fw_field(w, buf, (size_t)n);
}

void
fw_bool(struct frame_writer *w, bool v)
{
	fw_field_str(w, v ? "true" : "false");
}

void
fw_end_record(struct frame_writer *w)
{
	reserve(w, 1);
	w->buf[w->len++] = '\n';
	w->nfields = 0;
}

static void
put_bytes(struct frame_writer *w, const char *s, size_t n)
{
	reserve(w, n);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void
fw_header(struct frame_writer *w, const struct schema *s)
{
	put_bytes(w, "\\.h", 3);
	w->nfields = 1;
	for (size_t i = 0; i < s->nmeta; i++) {
		size_t kn = strlen(s->meta[i].key);
		size_t vn = strlen(s->meta[i].value);
		char *item = xmalloc(kn + vn + 2);

		item[0] = '@';
		memcpy(item + 1, s->meta[i].key, kn);
		item[kn + 1] = '=';
		memcpy(item + kn + 2, s->meta[i].value, vn);
		fw_field(w, item, kn + vn + 2);
		free(item);
	}
	for (size_t i = 0; i < s->nfields; i++) {
		const char *t = type_name(s->fields[i].type);

		reserve(w, strlen(s->fields[i].name) + strlen(t) + 2);
		separate(w);
		put_bytes(w, s->fields[i].name, strlen(s->fields[i].name));
		put_bytes(w, ":", 1);
		put_bytes(w, t, strlen(t));
	}
	fw_end_record(w);
}

void
fw_epoch_begin(struct frame_writer *w, int64_t batch)
{
	put_bytes(w, "\\.e", 3);
	w->nfields = 1;
	fw_i64(w, batch);
}

void
fw_epoch_items(struct frame_writer *w, const char *items, size_t n)
{
	if (n == 0)
		return;
	reserve(w, n + 1);
	separate(w);
	put_bytes(w, items, n);
}

void
fw_epoch_i64(struct frame_writer *w, const char *key, int64_t v)
{
	size_t kn = strlen(key);

	reserve(w, kn + 26);
	separate(w);
	put_bytes(w, key, kn);
	put_bytes(w, "=", 1);
	w->len += format_i64(w->buf + w->len, v);
}

void
fw_epoch_str(struct frame_writer *w, const char *key, const char *v)
{
	size_t kn = strlen(key), before;

	reserve(w, kn + 2);
	separate(w);
	put_bytes(w, key, kn);
	put_bytes(w, "=", 1);
	before = w->nfields;
	w->nfields = 0;
	fw_field(w, v, strlen(v));
	w->nfields = before;
}

int
fw_epoch_end(struct frame_writer *w)
{
	fw_end_record(w);
	return fw_flush(w);
}

int
fw_watermark(struct frame_writer *w, int64_t micros)
{
	put_bytes(w, "\\.w", 3);
	w->nfields = 1;
	if (micros == TIME_MAX_MICROS) {
		separate(w);
		put_bytes(w, "inf", 3);
	} else {
		fw_i64(w, micros);
	}
	fw_end_record(w);
	return fw_flush(w);
}

int
fw_end(struct frame_writer *w, bool final)
{
	put_bytes(w, final ? "\\.x\tfinal\n" : "\\.x\tpause\n", 10);
	w->nfields = 0;
	return fw_flush(w);
}

/* Parse a decimal int64 occupying exactly [p, p+n). */
static int
parse_i64(const char *p, size_t n, int64_t *v)
{
	char buf[32], *end;
	long long x;

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	errno = 0;
	x = strtoll(buf, &end, 10);
	if (errno || *end != '\0' || end == buf)
		return -1;
	*v = x;
	return 0;
}

int
header_decode(const struct frame *f, struct schema *s, char *err)
{
	struct record rec;
	char *buf = xmalloc(f->len + 1);
	int rc = 0;

	schema_init(s);
	record_init(&rec);
	record_split(&rec, f->text, f->len);
	for (size_t i = 1; i < rec.nfields && rc == 0; i++) {
		struct slice item = rec.field[i];
		long n = field_unescape(item, buf);
		char *sep;
		enum field_type type;

		if (n < 0) {
			rc = seterr(err, "bad escape in header item %zu", i);
		} else if (buf[0] == '@') {
			sep = strchr(buf, '=');
			if (sep == NULL) {
				rc = seterr(err, "header item '%s' has no '='",
				    buf);
			} else {
				*sep = '\0';
				schema_set_meta(s, buf + 1, sep + 1);
			}
		} else if ((sep = strrchr(buf, ':')) == NULL ||
		    type_parse(sep + 1, strlen(sep + 1), &type) < 0) {
			rc = seterr(err, "header item '%s' is not NAME:TYPE",
			    buf);
		} else {
			*sep = '\0';
			if (schema_add(s, buf, type, err) < 0)
				rc = -1;
		}
	}
	record_free(&rec);
	free(buf);
	if (rc < 0)
		schema_free(s);
	return rc;
}

int
epoch_decode(const struct frame *f, struct epoch *e, char *err)
{
	const char *p = f->text + 4, *end = f->text + f->len;
	const char *tab;

	if (f->len < 5)
		return seterr(err, "epoch frame without a batch number");
	tab = memchr(p, '\t', (size_t)(end - p));
	if (parse_i64(p, (size_t)((tab ? tab : end) - p), &e->batch) < 0 ||
	    e->batch < 0)
		return seterr(err, "epoch frame with a bad batch number");
	e->items = tab ? tab + 1 : end;
	e->items_len = (size_t)(end - e->items);
	return 0;
}

int
epoch_get_i64(const struct epoch *e, const char *key, int64_t *v)
{
	size_t kn = strlen(key);
	const char *p = e->items, *end = e->items + e->items_len;

	while (p < end) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *iend = tab ? tab : end;

		if ((size_t)(iend - p) > kn && memcmp(p, key, kn) == 0 &&
		    p[kn] == '=')
			return parse_i64(p + kn + 1, (size_t)(iend - p) - kn - 1,
			    v);
		p = iend + 1;
	}
	return -1;
}

int64_t
epoch_sum_suffix(const struct epoch *e, const char *suffix)
{
	size_t sn = strlen(suffix);
	const char *p = e->items, *end = e->items + e->items_len;
	int64_t sum = 0;

	while (p < end) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *iend = tab ? tab : end;
		const char *eq = memchr(p, '=', (size_t)(iend - p));
		int64_t v;

		if (eq && (size_t)(eq - p) >= sn &&
		    memcmp(eq - sn, suffix, sn) == 0 &&
		    parse_i64(eq + 1, (size_t)(iend - eq - 1), &v) == 0)
			/* Wrapping, not signed overflow (UB), whatever
			 * the items say (found by tests/fuzz/fuzz_frame). */
			sum = (int64_t)((uint64_t)sum + (uint64_t)v);
		p = iend + 1;
	}
	return sum;
}

int
watermark_decode(const struct frame *f, int64_t *micros, char *err)
{
	if (f->len == 7 && memcmp(f->text + 4, "inf", 3) == 0) {
		*micros = TIME_MAX_MICROS;
		return 0;
	}
	if (f->len < 5 || parse_i64(f->text + 4, f->len - 4, micros) < 0)
		return seterr(err, "bad watermark frame");
	return 0;
}

int
end_decode(const struct frame *f, bool *final, char *err)
{
	if (f->len == 9 && memcmp(f->text + 4, "final", 5) == 0)
		*final = true;
	else if (f->len == 9 && memcmp(f->text + 4, "pause", 5) == 0)
		*final = false;
	else
		return seterr(err, "bad end-of-stream frame");
	return 0;
}

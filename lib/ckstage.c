/*
 * ckstage.c: a stateful stage's use of the checkpoint, and the state text
 * helpers (ckstage.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckstage.h"
#include "value.h"

/* The state file's first two lines ("runnel state v1", "config=...") come
 * before the blob: reader line numbers count from the file's start. */
#define BLOB_FIRST_LINE 3

/* Is name one of the comma-separated words of list? */
static bool
listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (list != NULL && *list != '\0') {
		size_t w = strcspn(list, ",");

		if (w == n && strncmp(list, name, n) == 0)
			return true;
		list += w;
		if (*list == ',')
			list++;
	}
	return false;
}

int
ckstage_open(struct ckstage *cs, const char *cmd, const struct schema *in,
    struct schema *out, char *err)
{
	const char *dir = schema_meta(in, "checkpoint");
	const char *run = schema_meta(in, "run");
	const char *stages = schema_meta(in, "stages");
	struct strbuf sb;
	char warn[ERRBUF_SIZE];

	memset(cs, 0, sizeof *cs);
	cs->commit = -1;
	if (dir == NULL)
		return 0;
	if (run == NULL || *run == '\0')
		return seterr(err, "stdin:1: the header names checkpoint '%s' "
		    "but no run (@run)", dir);
	/* The first free name of cmd, cmd.2, cmd.3, ... */
	sb_init(&sb);
	sb_adds(&sb, cmd);
	for (int k = 2; listed(stages, sb.buf); k++) {
		sb_reset(&sb);
		sb_addf(&sb, "%s.%d", cmd, k);
	}
	cs->name = xstrdup(sb.buf);
	sb_reset(&sb);
	if (stages != NULL && *stages != '\0')
		sb_addf(&sb, "%s,", stages);
	sb_adds(&sb, cs->name);
	schema_set_meta(out, "stages", sb.buf);
	sb_free(&sb);

	cs->ck = ckpt_join(dir, run, err);
	if (cs->ck == NULL)
		goto fail;
	/* A fallback past a damaged file is ssrc's to report; every stage
	 * finds the same C from the same files. */
	if (ckpt_last_commit(cs->ck, &cs->commit, warn, err) < 0)
		goto fail;
	cs->next = cs->commit + 1;
	return 1;
fail:
	ckstage_close(cs);
	return -1;
}

const char *
ckstage_path(struct ckstage *cs, int64_t n)
{
	free(cs->path);
	if (asprintf(&cs->path, "%s/state/%s/%lld", ckpt_dir(cs->ck),
	    cs->name, (long long)n) < 0)
		die(EXIT_RUNTIME, "out of memory");
	return cs->path;
}

int
ckstage_load(struct ckstage *cs, const char *config, char **blob,
    size_t *len, char *err)
{
	*blob = NULL;
	*len = 0;
	if (cs->ck == NULL || cs->commit < 0)
		return 0;
	return ckpt_read_state(cs->ck, cs->name, cs->commit, config, blob,
	    len, err);
}

int
ckstage_batch(struct ckstage *cs, int64_t n, char *err)
{
	if (cs->ck == NULL || n == cs->next) {
		cs->next = n + 1;
		return 0;
	}
	if (cs->next == cs->commit + 1)
		return seterr(err, "batch %lld, but checkpoint '%s' is "
		    "committed up to batch %lld, so the stream must resume at "
		    "batch %lld (is the input from another query?)",
		    (long long)n, ckpt_dir(cs->ck), (long long)cs->commit,
		    (long long)cs->next);
	return seterr(err, "batch %lld after batch %lld: batch ids of a "
	    "checkpointed query go up by one", (long long)n,
	    (long long)(cs->next - 1));
}

int
ckstage_save(struct ckstage *cs, int64_t n, const char *config,
    const void *blob, size_t len, char *err)
{
	if (cs->ck == NULL)
		return 0;
	return ckpt_write_state(cs->ck, cs->name, n, config, blob, len, err);
}

void
ckstage_close(struct ckstage *cs)
{
	ckpt_close(cs->ck);
	free(cs->name);
	free(cs->path);
	cs->ck = NULL;
	cs->name = cs->path = NULL;
}

/* ---- the state text ---- */

void
state_put_i64(struct strbuf *sb, int64_t v)
{
	char buf[24];

	sb_add(sb, buf, format_i64(buf, v));
}

void
state_put_time(struct strbuf *sb, int64_t v)
{
	if (v == TIME_MAX_MICROS)
		sb_adds(sb, "inf");
	else if (v == TIME_MIN_MICROS)
		sb_adds(sb, "-inf");
	else
		state_put_i64(sb, v);
}

/*
 * Hex floats by hand: printf("%a") is exact too, but a state of 100k
 * groups writes one per aggregate per group at every batch, and this is
 * several times faster.  Assumes IEEE 754 binary64 doubles, as every
 * platform we build on has (C11 Annex F).
 */
void
state_put_f64(struct strbuf *sb, double v)
{
	static const char hex[] = "0123456789abcdef";
	char buf[40];
	size_t n = 0;
	uint64_t bits, m;
	int e, exp;

	memcpy(&bits, &v, sizeof bits);
	e = (int)((bits >> 52) & 0x7ff);
	m = bits & ((UINT64_C(1) << 52) - 1);
	if (e == 0x7ff) {
		sb_adds(sb, m != 0 ? "nan" : bits >> 63 ? "-inf" : "inf");
		return;
	}
	if (bits >> 63)
		buf[n++] = '-';
	buf[n++] = '0';
	buf[n++] = 'x';
	buf[n++] = e != 0 ? '1' : '0';
	exp = e != 0 ? e - 1023 : (m != 0 ? -1022 : 0);
	if (m != 0) {
		int digits = 13;

		while ((m & 0xf) == 0) {
			m >>= 4;
			digits--;
		}
		buf[n++] = '.';
		for (int i = digits - 1; i >= 0; i--)
			buf[n++] = hex[(m >> (4 * i)) & 0xf];
	}
	buf[n++] = 'p';
	if (exp >= 0)
		buf[n++] = '+';
	n += format_i64(buf + n, exp);
	sb_add(sb, buf, n);
}

void
sreader_init(struct sreader *r, char *blob, size_t len, const char *path)
{
	r->p = blob;
	r->end = blob + len;
	r->path = path;
	r->line = BLOB_FIRST_LINE - 1;
	record_init(&r->rec);
}

void
sreader_free(struct sreader *r)
{
	record_free(&r->rec);
}

bool
sreader_done(const struct sreader *r)
{
	return r->p >= r->end;
}

int
sreader_error(struct sreader *r, char *err, const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return seterr(err, "checkpoint: '%s': line %ld: %s", r->path, r->line,
	    msg);
}

/* Cut the next line; NULL at the end. */
static char *
next_line(struct sreader *r, size_t *n)
{
	char *s = r->p, *nl;

	if (r->p >= r->end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(r->end - s));
	if (nl == NULL)
		nl = r->end;
	*nl = '\0';
	*n = (size_t)(nl - s);
	r->p = nl + 1;
	r->line++;
	return s;
}

int
sreader_item(struct sreader *r, const char *key, const char **value,
    char *err)
{
	size_t n, k = strlen(key);
	char *s = next_line(r, &n);

	if (s == NULL) {
		r->line++;
		return sreader_error(r, err, "missing '%s=' (truncated state)",
		    key);
	}
	if (n <= k || strncmp(s, key, k) != 0 || s[k] != '=')
		return sreader_error(r, err, "expected '%s=', found '%.40s'",
		    key, s);
	*value = s + k + 1;
	return 0;
}

int
sreader_i64(struct sreader *r, const char *key, bool time, int64_t *v,
    char *err)
{
	const char *s;

	if (sreader_item(r, key, &s, err) < 0)
		return -1;
	if (time && strcmp(s, "inf") == 0)
		*v = TIME_MAX_MICROS;
	else if (time && strcmp(s, "-inf") == 0)
		*v = TIME_MIN_MICROS;
	else if (parse_i64_text(s, strlen(s), v) < 0)
		return sreader_error(r, err, "%s: '%.40s' is not an integer",
		    key, s);
	return 0;
}

int
sreader_record(struct sreader *r, size_t nfields, char *err)
{
	size_t n;
	char *s = next_line(r, &n);

	if (s == NULL) {
		r->line++;
		return sreader_error(r, err, "missing record (truncated "
		    "state)");
	}
	record_split(&r->rec, s, n);
	if (r->rec.nfields != nfields)
		return sreader_error(r, err, "%zu fields, expected %zu",
		    r->rec.nfields, nfields);
	return 0;
}

int
sreader_get_i64(struct sreader *r, struct slice f, int64_t *v, char *err)
{
	if (value_get_i64(f, v) < 0)
		return sreader_error(r, err, "'%.*s' is not an integer",
		    (int)(f.n > 40 ? 40 : f.n), f.p);
	return 0;
}

int
sreader_get_f64(struct sreader *r, struct slice f, double *v, char *err)
{
	char buf[64], *end;

	if (f.n == 0 || f.n >= sizeof buf)
		goto bad;
	memcpy(buf, f.p, f.n);
	buf[f.n] = '\0';
	*v = strtod(buf, &end);
	if (*end == '\0')
		return 0;
bad:
	return sreader_error(r, err, "'%.*s' is not a number",
	    (int)(f.n > 40 ? 40 : f.n), f.p);
}

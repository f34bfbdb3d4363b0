/*
 * ssplit: explode a field into one record per token, as Spark's
 * explode(split(value, RE)).
 *
 * This is the hot path of a word count, so the default split (runs of
 * white space) works on the raw wire field, escapes included: an escaped
 * TAB, LF or CR (\t \n \r) is white space, an escaped backslash or NUL is
 * part of a token, and a token is written out as the very bytes it was
 * read as.  The other fields are copied raw too, so a record costs a scan
 * of its bytes and a few memcpy()s, and nothing is allocated per record.
 * --sep and --regex match the unescaped value; a field without escapes
 * (the usual case) is its own unescaped form, so only fields with escapes
 * are unescaped, into a buffer reused from record to record.
 */
#include <getopt.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stage.h"
#include "strbuf.h"

#define SYNOPSIS "ssplit [FIELD] [--sep STRING | --regex RE] [--as NAME] " \
	"[--lower]"

enum split_mode {
	SPLIT_SPACE,	/* runs of white space (Java's \s+) */
	SPLIT_SEP,	/* a literal separator */
	SPLIT_REGEX,	/* a POSIX extended regular expression */
};

struct ssplit {
	struct stage st;
	enum split_mode mode;
	const char *sep;
	size_t sep_len;
	regex_t re;
	bool lower;
	size_t fi;		/* index of the field to split */
	struct slice pre, post;	/* raw fields before and after it */
	bool has_pre, has_post;
	struct strbuf scratch;	/* lowercased or unescaped field */
	int64_t rows_in, rows_out;
};

/*
 * Byte classes of the raw field for SPLIT_SPACE: white space that stays
 * raw on the wire (space, VT, FF), the escape character, and the rest.
 * TAB, LF and CR never appear raw: they come escaped.
 */
enum { C_TOKEN, C_SPACE, C_ESCAPE };
static const unsigned char byte_class[256] = {
	[' '] = C_SPACE, ['\v'] = C_SPACE, ['\f'] = C_SPACE,
	['\\'] = C_ESCAPE,
};

static void
emit(struct ssplit *s, const char *tok, size_t n, bool raw)
{
	struct frame_writer *w = &s->st.out;

	if (s->has_pre)
		fw_field_raw(w, s->pre);
	if (raw) {
		struct slice t = { tok, n };

		fw_field_raw(w, t);
	} else {
		fw_field(w, tok, n);
	}
	if (s->has_post)
		fw_field_raw(w, s->post);
	fw_end_record(w);
	s->rows_out++;
}

/* Split raw field bytes [p, p + n) on white space, escapes included. */
static void
split_space(struct ssplit *s, const char *p, size_t n)
{
	size_t i = 0, start = 0;
	bool in_token = false;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		switch (byte_class[c]) {
		case C_TOKEN:
			if (!in_token) {
				start = i;
				in_token = true;
			}
			i++;
			break;
		case C_SPACE:
			if (in_token) {
				emit(s, p + start, i - start, true);
				in_token = false;
			}
			i++;
			break;
		default:
			if (i + 1 >= n)
				stage_die(&s->st, "bad escape in field '%s'",
				    s->st.schema.fields[s->fi].name);
			switch (p[i + 1]) {
			case 't': case 'n': case 'r':
				if (in_token) {
					emit(s, p + start, i - start, true);
					in_token = false;
				}
				break;
			case '\\': case '0':
				if (!in_token) {
					start = i;
					in_token = true;
				}
				break;
			default:
				stage_die(&s->st, "bad escape '\\%c' in field "
				    "'%s'", p[i + 1],
				    s->st.schema.fields[s->fi].name);
			}
			i += 2;
			break;
		}
	}
	if (in_token)
		emit(s, p + start, n - start, true);
}

/* Split value bytes [p, p + n) on the literal separator. */
static void
split_sep(struct ssplit *s, const char *p, size_t n, bool raw)
{
	const char *end = p + n;

	for (;;) {
		const char *m = memmem(p, (size_t)(end - p), s->sep,
		    s->sep_len);
		const char *tend = m ? m : end;

		if (tend > p)
			emit(s, p, (size_t)(tend - p), raw);
		if (m == NULL)
			break;
		p = m + s->sep_len;
	}
}

/*
 * Split value bytes [p, p + n) on matches of the regular expression, as
 * Java's String.split does: an empty match splits between two characters.
 * REG_STARTEND lets the value hold NUL bytes and need no terminator.
 */
static void
split_regex(struct ssplit *s, const char *p, size_t n, bool raw)
{
	size_t start = 0, from = 0;

	while (from <= n) {
		regmatch_t m[1];

		m[0].rm_so = (regoff_t)from;
		m[0].rm_eo = (regoff_t)n;
		if (regexec(&s->re, p, 1, m,
		    REG_STARTEND | (from > 0 ? REG_NOTBOL : 0)) != 0)
			break;
		if ((size_t)m[0].rm_so > start)
			emit(s, p + start, (size_t)m[0].rm_so - start, raw);
		if (m[0].rm_eo == m[0].rm_so) {
			start = (size_t)m[0].rm_so;
			from = (size_t)m[0].rm_so + 1;
		} else {
			start = (size_t)m[0].rm_eo;
			from = start;
		}
	}
	if (n > start)
		emit(s, p + start, n - start, raw);
}

static inline char
ascii_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

/* Copy raw field f into the scratch buffer, lowercasing ASCII letters but
 * not the letter of an escape (\N must not become \n). */
static struct slice
lower_raw(struct ssplit *s, struct slice f)
{
	char *o;

	sb_reset(&s->scratch);
	sb_grow(&s->scratch, f.n);
	o = s->scratch.buf;
	for (size_t i = 0; i < f.n; i++) {
		o[i] = ascii_lower(f.p[i]);
		if (f.p[i] == '\\' && i + 1 < f.n) {
			i++;
			o[i] = f.p[i];
		}
	}
	/* Terminated although REG_STARTEND does not need it: ASan's
	 * regexec() interceptor reads up to a NUL. */
	o[f.n] = '\0';
	return (struct slice){ o, f.n };
}

static void
split_record(struct ssplit *s)
{
	struct record *rec = &s->st.rec;
	struct slice f = rec->field[s->fi];
	const char *line = s->st.frame.text;
	size_t len = s->st.frame.len;

	s->rows_in++;
	if (field_is_null(f))
		return;
	s->has_pre = s->fi > 0;
	if (s->has_pre)
		s->pre = (struct slice){ line, (size_t)(f.p - 1 - line) };
	s->has_post = s->fi + 1 < rec->nfields;
	if (s->has_post) {
		const char *q = f.p + f.n + 1;

		s->post = (struct slice){ q, (size_t)(line + len - q) };
	}
	if (s->mode == SPLIT_SPACE) {
		if (s->lower)
			f = lower_raw(s, f);
		split_space(s, f.p, f.n);
		return;
	}
	if (field_is_plain(f)) {
		/* No escapes: the raw bytes are the value. */
		if (s->lower)
			f = lower_raw(s, f);
	} else {
		long n;

		sb_reset(&s->scratch);
		sb_grow(&s->scratch, f.n);
		n = field_unescape(f, s->scratch.buf);
		if (n < 0)
			stage_die(&s->st, "bad escape in field '%s'",
			    s->st.schema.fields[s->fi].name);
		if (s->lower)
			for (long i = 0; i < n; i++)
				s->scratch.buf[i] =
				    ascii_lower(s->scratch.buf[i]);
		if (s->mode == SPLIT_SEP)
			split_sep(s, s->scratch.buf, (size_t)n, false);
		else
			split_regex(s, s->scratch.buf, (size_t)n, false);
		return;
	}
	if (s->mode == SPLIT_SEP)
		split_sep(s, f.p, f.n, true);
	else
		split_regex(s, f.p, f.n, true);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "sep", required_argument, NULL, 's' },
		{ "regex", required_argument, NULL, 'r' },
		{ "as", required_argument, NULL, 'a' },
		{ "lower", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct ssplit s;
	const char *field = "value", *as = "word", *regex = NULL;
	struct schema out;
	char err[ERRBUF_SIZE];
	int c, fi, rc;
	bool done = false, both = false;

	prog_init(argv[0]);
	argv[0] = (char *)prog_name();	/* getopt's messages name the command */
	memset(&s, 0, sizeof s);
	s.mode = SPLIT_SPACE;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			both |= s.mode == SPLIT_REGEX;
			s.mode = SPLIT_SEP;
			s.sep = optarg;
			break;
		case 'r':
			both |= s.mode == SPLIT_SEP;
			s.mode = SPLIT_REGEX;
			regex = optarg;
			break;
		case 'a':
			as = optarg;
			break;
		case 'l':
			s.lower = true;
			break;
		case 'h':
			usage_exit(SYNOPSIS, EXIT_OK);
		case 'V':
			version_exit();
		default:
			usage_exit(SYNOPSIS, EXIT_USAGE);
		}
	}
	if (optind < argc)
		field = argv[optind++];
	if (optind < argc)
		usage_exit(SYNOPSIS, EXIT_USAGE);

	if (both)
		die(EXIT_USAGE, "--sep and --regex cannot be used together");
	if (s.mode == SPLIT_SEP && s.sep[0] == '\0')
		die(EXIT_USAGE, "--sep: the separator is empty");
	if (s.mode == SPLIT_SEP)
		s.sep_len = strlen(s.sep);
	if (!field_name_valid(as))
		die(EXIT_USAGE, "--as: '%s' is not a valid field name", as);
	if (s.mode == SPLIT_REGEX &&
	    (rc = regcomp(&s.re, regex, REG_EXTENDED)) != 0) {
		regerror(rc, &s.re, err, sizeof err);
		die(EXIT_USAGE, "--regex: '%s': %s", regex, err);
	}

	stage_catch_signals();
	stage_open(&s.st);
	if ((fi = schema_find(&s.st.schema, field)) < 0) {
		struct strbuf names;

		sb_init(&names);
		schema_field_list(&s.st.schema, &names);
		die(EXIT_USAGE, "no field '%s' in the input (fields: %s)",
		    field, names.buf ? names.buf : "none");
	}
	if (s.st.schema.fields[fi].type != TYPE_STRING)
		die(EXIT_USAGE, "field '%s' is %s %s, not a STRING", field,
		    s.st.schema.fields[fi].type == TYPE_INT ? "an" : "a",
		    type_name(s.st.schema.fields[fi].type));
	s.fi = (size_t)fi;
	schema_init(&out);
	for (size_t i = 0; i < s.st.schema.nmeta; i++)
		schema_set_meta(&out, s.st.schema.meta[i].key,
		    s.st.schema.meta[i].value);
	for (size_t i = 0; i < s.st.schema.nfields; i++) {
		const struct field *f = &s.st.schema.fields[i];

		if (schema_add(&out, i == s.fi ? as : f->name,
		    i == s.fi ? TYPE_STRING : f->type, err) < 0)
			die(EXIT_USAGE, "--as: %s", err);
	}
	fw_header(&s.st.out, &out);
	schema_free(&out);
	sb_init(&s.scratch);

	while (!done) {
		struct epoch e;
		int64_t wm;
		bool final;

		switch (stage_next(&s.st)) {
		case FRAME_DATA:
			split_record(&s);
			break;
		case FRAME_EPOCH:
			if (epoch_decode(&s.st.frame, &e, err) < 0)
				stage_die(&s.st, "%s", err);
			fw_epoch_begin(&s.st.out, e.batch);
			fw_epoch_items(&s.st.out, e.items, e.items_len);
			fw_epoch_i64(&s.st.out, "ssplit.rows_in", s.rows_in);
			fw_epoch_i64(&s.st.out, "ssplit.rows_out", s.rows_out);
			fw_epoch_end(&s.st.out);
			stage_flush(&s.st);
			s.rows_in = s.rows_out = 0;
			break;
		case FRAME_WATERMARK:
			if (watermark_decode(&s.st.frame, &wm, err) < 0)
				stage_die(&s.st, "%s", err);
			fw_watermark(&s.st.out, wm);
			stage_flush(&s.st);
			break;
		case FRAME_END:
			if (end_decode(&s.st.frame, &final, err) < 0)
				stage_die(&s.st, "%s", err);
			fw_end(&s.st.out, final);
			done = true;
			break;
		default:
			break;
		}
	}

	stage_close(&s.st);
	sb_free(&s.scratch);
	if (s.mode == SPLIT_REGEX)
		regfree(&s.re);
	return EXIT_OK;
}

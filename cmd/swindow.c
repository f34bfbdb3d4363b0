/*
 * swindow: assign event-time windows to records and keep the watermark.
 *
 * A stateless stage: each input row becomes one row per window it falls in,
 * with window_start and window_end (TIMESTAMP) appended.  With --watermark
 * it is also the query's watermark operator: it tracks the batch's maximum
 * event time, announces the new watermark (\.w) after forwarding each epoch
 * frame, and drops the rows whose window ended at or before the watermark
 * in effect, counting them.  Sessions are not merged here: merging needs
 * the aggregation's state, which scount has (see swindow(1)).
 *
 * Checkpoint (the header has @checkpoint, lib/ckstage.h): the watermark
 * is the state.  State N holds the watermark computed at the end of batch
 * N, the one in effect from N+1 on, so the watermark is committed before
 * the state is written and the epoch frame forwarded.  A resumed run
 * announces the loaded watermark (\.w) right after its header, because
 * the stages after us loaded their state N without it: they received it
 * after batch N's epoch frame.  The window spec and the event-time field
 * are the config (a change makes the state unusable); the delay is not:
 * Spark lets it change, and the watermark then never goes back.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ckstage.h"
#include "die.h"
#include "frame.h"
#include "rtime.h"
#include "schema.h"
#include "stage.h"
#include "value.h"
#include "watermark.h"
#include "window.h"

#define SYNOPSIS \
	"swindow --time FIELD --size DURATION [--slide DURATION] " \
	"[--start DURATION] [--watermark DELAY] [--idle-timeout DURATION]\n" \
	"       swindow --time FIELD --session GAP [--watermark DELAY] " \
	"[--idle-timeout DURATION]"

/* More windows per row than this is a typo (--slide 1ms --size 1d). */
#define MAX_WINDOWS_PER_ROW	1000000

enum {
	OPT_TIME = 256, OPT_SIZE, OPT_SLIDE, OPT_START, OPT_SESSION,
	OPT_WATERMARK, OPT_IDLE, OPT_VERSION,
};

static const struct option longopts[] = {
	{ "time", required_argument, NULL, OPT_TIME },
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "slide", required_argument, NULL, OPT_SLIDE },
	{ "start", required_argument, NULL, OPT_START },
	{ "session", required_argument, NULL, OPT_SESSION },
	{ "watermark", required_argument, NULL, OPT_WATERMARK },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

struct swindow {
	struct stage st;
	struct schema out;
	struct window_spec spec;
	struct watermark wm;
	bool has_watermark;
	int64_t idle;		/* idle timeout, microseconds; 0: none */
	int tfield;		/* index of the event-time field */
	bool tstring;		/* it is a STRING, rewritten as TIMESTAMP */
	int64_t *starts;	/* window_max_per_row() entries */
	char *text;		/* unescaped STRING time, grown as needed */
	size_t text_cap;
	bool in_batch;		/* rows read since the last epoch frame */
	bool data_since_poll;
	int64_t idle_deadline;	/* monotonic microseconds */
	int64_t rows_in, rows_out, dropped;
	struct ckstage ck;
	char *config;		/* the checkpoint's change-detection string */
	int64_t loaded_wm;	/* the checkpoint's watermark, or -inf */
	struct strbuf state;
};

static int64_t
parse_signed_duration(const char *opt, const char *value)
{
	/* Spark accepts a negative startTime (|start| < slide); our duration
	 * syntax has no sign, so take one here. */
	if (value[0] == '-')
		return -option_duration(opt, value + 1, true);
	return option_duration(opt, value, true);
}

static void
idle_fire(struct swindow *s)
{
	/* Processing time stands in for event time: the watermark moves as
	 * if a row stamped "now" had arrived.  Mid-batch the proposal waits
	 * for the batch's end, so a watermark is only ever announced between
	 * batches, as the protocol requires. */
	watermark_propose(&s->wm, watermark_candidate(now_micros(),
	    s->wm.delay));
	if (!s->in_batch && watermark_commit(&s->wm)) {
		fw_watermark(&s->st.out, s->wm.current);
		stage_flush(&s->st);
	}
}

/*
 * Block until a frame can be read, firing the idle timeout each time no
 * data row has come for s->idle.  The reader may already hold whole frames
 * (it reads in chunks), and poll() cannot see those: check first.
 */
static void
wait_input(struct swindow *s)
{
	if (s->idle == 0 || frame_reader_buffered(&s->st.in))
		return;
	if (s->data_since_poll) {
		s->idle_deadline = monotonic_micros() + s->idle;
		s->data_since_poll = false;
	}
	for (;;) {
		struct pollfd pfd = { .fd = s->st.in.fd, .events = POLLIN };
		int64_t left = s->idle_deadline - monotonic_micros();
		int rc;

		if (left <= 0) {
			idle_fire(s);
			s->idle_deadline = monotonic_micros() + s->idle;
			continue;
		}
		left = (left + 999) / 1000;
		rc = poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (rc > 0)
			return;
		if (rc < 0 && errno != EINTR)
			die(EXIT_RUNTIME, "stdin: poll: %s", strerror(errno));
	}
}

/* The event time of the current row, or die naming field and line. */
static int64_t
event_time(struct swindow *s)
{
	struct slice f = s->st.rec.field[s->tfield];
	const char *name = s->st.schema.fields[s->tfield].name;
	char err[ERRBUF_SIZE];
	int64_t t;
	long n;

	if (field_is_null(f))
		stage_die(&s->st, "%s: null is not a timestamp", name);
	if (!s->tstring) {
		if (value_get_i64(f, &t) < 0)
			stage_die(&s->st, "%s: '%.*s' is not a timestamp", name,
			    (int)(f.n > 64 ? 64 : f.n), f.p);
		return t;
	}
	if (f.n + 1 > s->text_cap) {
		s->text_cap = 2 * (f.n + 1);
		s->text = xrealloc(s->text, s->text_cap);
	}
	n = field_unescape(f, s->text);
	if (n < 0 || timestamp_parse(s->text, (size_t)n, &t, err) < 0)
		stage_die(&s->st, "%s: '%.*s' is not a timestamp", name,
		    (int)(f.n > 64 ? 64 : f.n), f.p);
	return t;
}

static void
write_row(struct swindow *s, const struct frame *f, int64_t t, int64_t start)
{
	struct frame_writer *w = &s->st.out;

	if (s->tstring) {
		for (size_t i = 0; i < s->st.rec.nfields; i++) {
			if ((int)i == s->tfield)
				fw_i64(w, t);
			else
				fw_field_raw(w, s->st.rec.field[i]);
		}
	} else {
		/* The line is its fields joined by tabs: copy it whole. */
		fw_field_raw(w, (struct slice){ f->text, f->len });
	}
	fw_i64(w, start);
	fw_i64(w, start + s->spec.size);
	fw_end_record(w);
}

static void
on_data(struct swindow *s)
{
	int64_t t = event_time(s);
	int n;

	s->rows_in++;
	s->in_batch = true;
	s->data_since_poll = true;
	watermark_observe(&s->wm, t);
	n = window_assign(&s->spec, t, s->starts, s->st.err);
	if (n < 0)
		stage_die(&s->st, "%s: %s", s->st.schema.fields[s->tfield].name,
		    s->st.err);
	for (int i = 0; i < n; i++) {
		if (s->has_watermark &&
		    watermark_is_late(&s->wm, s->starts[i] + s->spec.size)) {
			s->dropped++;
			continue;
		}
		write_row(s, &s->st.frame, t, s->starts[i]);
		s->rows_out++;
	}
}

/*
 * The config: what the state's meaning depends on.  Durations in their
 * short form, so a change from "10m" to "600s" is no change.
 */
static char *
make_config(const struct swindow *s)
{
	struct strbuf sb;
	char buf[64];

	sb_init(&sb);
	sb_adds(&sb, "swindow time=");
	for (const char *p = s->st.schema.fields[s->tfield].name; *p; p++) {
		if (*p == ' ' || *p == '%')
			sb_addf(&sb, "%%%02X", (unsigned char)*p);
		else
			sb_addc(&sb, *p);
	}
	sb_addf(&sb, " window=%s", window_kind_name(s->spec.kind));
	duration_format(s->spec.size, buf);
	if (s->spec.kind == WINDOW_SESSION) {
		sb_addf(&sb, " gap=%s", buf);
		return sb.buf;
	}
	sb_addf(&sb, " size=%s", buf);
	duration_format(s->spec.slide, buf);
	sb_addf(&sb, " slide=%s start=", buf);
	duration_format(s->spec.start < 0 ? -s->spec.start : s->spec.start,
	    buf);
	sb_addf(&sb, "%s%s", s->spec.start < 0 ? "-" : "", buf);
	return sb.buf;
}

/* Load state C (the watermark) before the header is written. */
static void
load_state(struct swindow *s)
{
	struct sreader r;
	char *blob;
	size_t len;
	int64_t format;
	int got;

	got = ckstage_load(&s->ck, s->config, &blob, &len, s->st.err);
	if (got < 0)
		die(EXIT_RUNTIME, "%s", s->st.err);
	if (got == 0)
		return;
	sreader_init(&r, blob, len, ckstage_path(&s->ck, s->ck.commit));
	if (sreader_i64(&r, "format", false, &format, s->st.err) < 0)
		goto bad;
	if (format != 1) {
		sreader_error(&r, s->st.err, "state format %lld, this swindow "
		    "reads format 1", (long long)format);
		goto bad;
	}
	if (sreader_i64(&r, "watermark", true, &s->loaded_wm, s->st.err) < 0)
		goto bad;
	sreader_free(&r);
	free(blob);
	/* The delay may have changed: the watermark still never goes back,
	 * as Spark keeps the stored one until a new candidate passes it. */
	if (s->has_watermark)
		s->wm.current = s->loaded_wm;
	return;
bad:
	die(EXIT_RUNTIME, "%s", s->st.err);
}

/* Write state N: the watermark in effect from batch N+1 on. */
static void
save_state(struct swindow *s, int64_t batch)
{
	char buf[64];

	sb_reset(&s->state);
	sb_adds(&s->state, "format=1\nwatermark=");
	/* Without --watermark ours is not a watermark (no delay): keep the
	 * loaded one for a later run that has one again. */
	state_put_time(&s->state, s->has_watermark ? s->wm.current :
	    s->loaded_wm);
	if (s->has_watermark) {
		duration_format(s->wm.delay, buf);
		sb_addf(&s->state, "\ndelay=%s", buf);
	}
	sb_addc(&s->state, '\n');
	if (ckstage_save(&s->ck, batch, s->config, s->state.buf,
	    s->state.len, s->st.err) < 0)
		die(EXIT_RUNTIME, "%s", s->st.err);
}

static void
on_epoch(struct swindow *s)
{
	struct frame_writer *w = &s->st.out;
	struct epoch e;
	int64_t final = 0;
	int64_t in_effect = s->wm.current;
	int64_t batch_rows = s->wm.batch_rows, batch_min = s->wm.batch_min;
	int64_t batch_max = s->wm.batch_max;
	bool advanced;

	if (epoch_decode(&s->st.frame, &e, s->st.err) < 0 ||
	    ckstage_batch(&s->ck, e.batch, s->st.err) < 0)
		stage_die(&s->st, "%s", s->st.err);
	if (epoch_get_i64(&e, "final", &final) < 0)
		final = 0;
	/* The last batch runs with watermark +infinity so that append mode
	 * emits every open window: announce it before the batch's end. */
	if (final && s->has_watermark && s->wm.current != TIME_MAX_MICROS) {
		watermark_finish(&s->wm);
		fw_watermark(w, TIME_MAX_MICROS);
	}
	/* The watermark for batch N+1 is part of state N. */
	advanced = watermark_commit(&s->wm);
	if (ckstage_on(&s->ck))
		save_state(s, e.batch);
	fw_epoch_begin(w, e.batch);
	fw_epoch_items(w, e.items, e.items_len);
	fw_epoch_i64(w, "swindow.rows_in", s->rows_in);
	fw_epoch_i64(w, "swindow.rows_out", s->rows_out);
	fw_epoch_i64(w, "swindow.dropped", s->dropped);
	if (s->has_watermark && in_effect != TIME_MIN_MICROS) {
		if (in_effect == TIME_MAX_MICROS)
			fw_epoch_str(w, "swindow.watermark", "inf");
		else
			fw_epoch_i64(w, "swindow.watermark", in_effect);
	}
	if (batch_rows > 0) {
		fw_epoch_i64(w, "swindow.min_event", batch_min);
		fw_epoch_i64(w, "swindow.max_event", batch_max);
	}
	fw_epoch_end(w);
	/* The watermark for batch N+1 follows batch N's epoch frame. */
	if (advanced && s->has_watermark)
		fw_watermark(w, s->wm.current);
	stage_flush(&s->st);
	s->rows_in = s->rows_out = s->dropped = 0;
	s->in_batch = false;
}

static void
open_output(struct swindow *s, const char *tname)
{
	struct schema *in = &s->st.schema, *out = &s->out;
	char buf[32];

	s->tfield = schema_find(in, tname);
	if (s->tfield < 0)
		die(EXIT_RUNTIME, "stdin:1: --time: no field '%s' in the input",
		    tname);
	switch (in->fields[s->tfield].type) {
	case TYPE_TIMESTAMP:
		break;
	case TYPE_STRING:
		s->tstring = true;
		break;
	default:
		die(EXIT_RUNTIME, "stdin:1: --time: field '%s' is %s, not a "
		    "TIMESTAMP or STRING", tname,
		    type_name(in->fields[s->tfield].type));
	}
	if (s->has_watermark && schema_meta(in, "watermark") != NULL)
		die(EXIT_RUNTIME, "stdin:1: the input already has a watermark "
		    "(@watermark=%s): one swindow --watermark per query",
		    schema_meta(in, "watermark"));
	schema_copy(out, in);
	/* Later stages see typed event time whatever the source gave. */
	out->fields[s->tfield].type = TYPE_TIMESTAMP;
	if (schema_add(out, "window_start", TYPE_TIMESTAMP, s->st.err) < 0 ||
	    schema_add(out, "window_end", TYPE_TIMESTAMP, s->st.err) < 0)
		die(EXIT_RUNTIME, "stdin:1: the input already has window "
		    "fields (window_start, window_end): %s", s->st.err);
	schema_set_meta(out, "event_time", tname);
	schema_set_meta(out, "window", window_kind_name(s->spec.kind));
	if (s->spec.kind == WINDOW_SESSION) {
		format_i64(buf, s->spec.size);
		schema_set_meta(out, "session_gap", buf);
	}
	if (s->has_watermark) {
		format_i64(buf, s->wm.delay);
		schema_set_meta(out, "watermark", buf);
	}
	if (ckstage_open(&s->ck, "swindow", in, out, s->st.err) < 0)
		die(EXIT_RUNTIME, "%s", s->st.err);
	if (ckstage_on(&s->ck)) {
		s->config = make_config(s);
		load_state(s);
	}
	fw_header(&s->st.out, out);
	/* A resumed run: the watermark in effect for the next batch, which
	 * the stages after us have not loaded (see the top). */
	if (s->has_watermark && s->wm.current != TIME_MIN_MICROS)
		fw_watermark(&s->st.out, s->wm.current);
	stage_flush(&s->st);
}

int
main(int argc, char **argv)
{
	static struct swindow s;
	const char *tname = NULL, *size_arg = NULL, *slide_arg = NULL;
	const char *start_arg = NULL, *session_arg = NULL;
	int64_t size = 0, slide = 0, start = 0, delay = 0;
	char err[ERRBUF_SIZE];
	int c;

	prog_init(argv[0]);
	argv[0] = (char *)prog_name();	/* getopt's messages name the command */
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TIME:
			tname = optarg;
			break;
		case OPT_SIZE:
			size_arg = optarg;
			size = option_duration("--size", optarg, false);
			break;
		case OPT_SLIDE:
			slide_arg = optarg;
			slide = option_duration("--slide", optarg, false);
			break;
		case OPT_START:
			start_arg = optarg;
			start = parse_signed_duration("--start", optarg);
			break;
		case OPT_SESSION:
			session_arg = optarg;
			size = option_duration("--session", optarg, false);
			break;
		case OPT_WATERMARK:
			s.has_watermark = true;
			delay = option_duration("--watermark", optarg, true);
			break;
		case OPT_IDLE:
			s.idle = option_duration("--idle-timeout", optarg,
			    false);
			break;
		case 'h':
			usage_exit(SYNOPSIS, EXIT_OK);
		case OPT_VERSION:
			version_exit();
		default:
			usage_exit(SYNOPSIS, EXIT_USAGE);
		}
	}
	if (optind < argc)
		die(EXIT_USAGE, "unexpected argument '%s'", argv[optind]);
	if (tname == NULL)
		die(EXIT_USAGE, "--time FIELD is required (the event-time "
		    "field)");
	if (session_arg != NULL) {
		if (size_arg != NULL || slide_arg != NULL || start_arg != NULL)
			die(EXIT_USAGE, "--session cannot be combined with "
			    "--size, --slide or --start");
		if (window_spec_session(&s.spec, size, err) < 0)
			die(EXIT_USAGE, "--session: %s", err);
	} else {
		if (size_arg == NULL)
			die(EXIT_USAGE, "--size DURATION or --session GAP is "
			    "required");
		if (window_spec_time(&s.spec, size, slide_arg ? slide : size,
		    start, err) < 0)
			die(EXIT_USAGE, "%s: %s", slide_arg ? "--slide" :
			    start_arg ? "--start" : "--size", err);
	}
	if (window_max_per_row(&s.spec) > MAX_WINDOWS_PER_ROW)
		die(EXIT_USAGE, "--slide: '%s' makes %lld windows per row "
		    "(at most %d)", slide_arg, (long long)
		    window_max_per_row(&s.spec), MAX_WINDOWS_PER_ROW);
	if (s.idle > 0 && !s.has_watermark)
		die(EXIT_USAGE, "--idle-timeout needs --watermark (it advances "
		    "the watermark)");
	watermark_init(&s.wm, delay);
	s.loaded_wm = TIME_MIN_MICROS;
	sb_init(&s.state);

	stage_catch_signals();

	stage_open(&s.st);
	s.starts = xcalloc((size_t)window_max_per_row(&s.spec),
	    sizeof *s.starts);
	open_output(&s, tname);
	s.idle_deadline = monotonic_micros() + s.idle;

	for (;;) {
		int64_t wm;
		bool final;

		wait_input(&s);
		switch (stage_next(&s.st)) {
		case FRAME_DATA:
			on_data(&s);
			break;
		case FRAME_EPOCH:
			on_epoch(&s);
			break;
		case FRAME_WATERMARK:
			if (s.has_watermark)
				stage_die(&s.st, "a watermark frame from "
				    "upstream: one swindow --watermark per "
				    "query");
			if (watermark_decode(&s.st.frame, &wm, s.st.err) < 0)
				stage_die(&s.st, "%s", s.st.err);
			fw_watermark(&s.st.out, wm);
			stage_flush(&s.st);
			break;
		case FRAME_END:
			if (end_decode(&s.st.frame, &final, s.st.err) < 0)
				stage_die(&s.st, "%s", s.st.err);
			fw_end(&s.st.out, final);
			stage_close(&s.st);
			ckstage_close(&s.ck);
			free(s.config);
			sb_free(&s.state);
			schema_free(&s.out);
			free(s.starts);
			free(s.text);
			return EXIT_OK;
		default:
			stage_die(&s.st, "unexpected frame");
		}
	}
}

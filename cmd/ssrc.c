/*
 * ssrc: the source of a runnel query.  Reads SOURCE, cuts it into
 * micro-batches and writes frames (runnel(5)): a header, the records of
 * each batch followed by its epoch frame, and at the end a final no-data
 * batch and "\.x final" (or, with a checkpoint, "\.x pause").
 *
 * When a batch ends (DESIGN.md 3, HELPERS "Batches and no-data batches"):
 *   default trigger  when the input would block, when the source ends a
 *                    batch of its own (SOURCE_BATCH: the file source's
 *                    files of one trigger), or at --max-batch-rows;
 *   --trigger D      at each tick of D with what came (or at the row
 *                    cap), none when nothing came; a source batch that
 *                    ends between ticks holds further reading until the
 *                    next tick, so each tick takes one source batch;
 *   available-now    as the default trigger, over what is there at start
 *                    (the source is bounded), then the end;
 *   once             everything there at start as one batch, then the end.
 * After a data batch, as soon as no input waits (default) or at the next
 * tick (--trigger D), one no-data batch follows; --heartbeat adds one
 * every DURATION while idle.
 *
 * The end: without a checkpoint, when the input ends (or on SIGINT or
 * SIGTERM) the open batch ends, a no-data batch with final=1 follows and
 * then \.x final: stages flush everything.  With a checkpoint, an
 * available-now run or a stop on a signal is a pause (\.x pause, after a
 * no-data batch if one is due): the state stays in the checkpoint for the
 * next run, as a Spark query stopped and restarted on its checkpoint.
 * Input that really ends and --trigger once stay final as CLI.md says,
 * checkpoint or not: the saved watermark is then +infinity and a later
 * run on the same checkpoint drops windowed rows as late.
 *
 * Checkpoints (lib/source_ckpt.h has the argument for why offsets/N is
 * written at the end of batch N, before its epoch frame): the first batch
 * of a run is C+1; if offsets/C+1 exists it is replayed first, exactly:
 * the source seeks to its start, ssrc reads exactly its rows, seeks to its
 * end, and writes its epoch frame with the same nodata/final items.
 *
 * Signals: SIGINT and SIGTERM set a flag that the loop tests between
 * reads, so a stop request lands at a batch boundary.  They are blocked
 * from that test to the wait (ppoll() unblocks them atomically), so none
 * is lost in between; elsewhere they are delivered at once, so that a
 * second one ends ssrc even while a write to a stuck pipe blocks.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "badrec.h"
#include "checkpoint.h"
#include "die.h"
#include "frame.h"
#include "record_out.h"
#include "rtime.h"
#include "schema.h"
#include "source.h"
#include "source_ckpt.h"
#include "source_kafka.h"
#include "stage.h"
#include "strbuf.h"
#include "uuid.h"

static const char synopsis[] = "ssrc SOURCE [options]";

#define DEFAULT_MAX_BATCH_ROWS	1000000
#define DEFAULT_MAX_RECORD	((size_t)64 << 20)
/* How long the end of a checkpointed run with --clean-source waits for
 * the sink to commit its last batch before leaving the files to the next
 * run. */
#define CLEAN_WAIT_US		(10 * MICROS_PER_SECOND)

enum trigger {
	TRIGGER_DEFAULT,	/* a batch as soon as input is there */
	TRIGGER_INTERVAL,	/* a batch every --trigger DURATION */
	TRIGGER_AVAILABLE_NOW,	/* what is there at start, in batches */
	TRIGGER_ONCE,		/* what is there at start, one batch */
};

struct query {
	struct source src;
	struct frame_writer out;
	struct record_out o;
	enum trigger trigger;
	int64_t interval;	/* --trigger DURATION, micros */
	int64_t heartbeat;	/* --heartbeat, micros; 0: off */
	uint64_t max_rows;	/* rows after which a batch ends */
	int64_t batch;		/* id of the next epoch frame */
	int64_t batch_start;	/* wall clock of the batch's first read */
	int64_t last_epoch;	/* monotonic time of the last epoch frame */
	int64_t next_tick;	/* monotonic time of the next --trigger tick */
	bool nodata_due;	/* a data batch ended; a no-data one follows */
	bool took;		/* --trigger D: the source ended a batch of its
				   own; it ends at the tick, and nothing more
				   is read until then */
	int64_t epochs;		/* epoch frames written by this run */
	bool ckpt_on;
	struct source_ckpt ck;
	struct strbuf pos;	/* scratch: a source position */
	struct badrec bad;	/* --skip-bad, --bad-records-path */
	char query_id[UUID_STRLEN];
	sigset_t wait_mask;	/* the signal mask inside ppoll() and
				   outside waits: stops allowed */
	sigset_t test_mask;	/* from the flag test to ppoll(): blocked */
	char err[ERRBUF_SIZE];
};

static volatile sig_atomic_t stop_requested;

/* The first SIGINT/SIGTERM asks for a stop at the batch boundary; a
 * second one kills at once (the default action). */
static void
on_stop(int sig)
{
	if (stop_requested) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_requested = 1;
}

__attribute__((noreturn, format(printf, 1, 2)))
static void
usage_error(const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warnx_("%s", msg);
	usage_exit(synopsis, EXIT_USAGE);
}

/* "65536", "64M", "64MiB", "1g": bytes, binary multiples. */
static size_t
parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long n, mult = 1;

	errno = 0;
	n = strtoull(s, &end, 10);
	if (end == s || errno || s[0] == '-')
		usage_error("%s: '%s' is not a size (e.g. 1048576, 64M)", opt,
		    s);
	switch (*end) {
	case 'k': case 'K': mult = 1ULL << 10; end++; break;
	case 'm': case 'M': mult = 1ULL << 20; end++; break;
	case 'g': case 'G': mult = 1ULL << 30; end++; break;
	}
	if (mult > 1 && (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0))
		end += strlen(end);
	if (*end != '\0' || n == 0 || n > SIZE_MAX / 4 / mult)
		usage_error("%s: '%s' is not a size (e.g. 1048576, 64M)", opt,
		    s);
	return (size_t)(n * mult);
}

static void
parse_trigger(struct query *q, const char *s)
{
	char err[ERRBUF_SIZE];

	if (strcmp(s, "once") == 0) {
		q->trigger = TRIGGER_ONCE;
		return;
	}
	if (strcmp(s, "available-now") == 0) {
		q->trigger = TRIGGER_AVAILABLE_NOW;
		return;
	}
	if (duration_parse(s, &q->interval, err) < 0)
		usage_error("--trigger: %s; or once, available-now", err);
	if (q->interval == 0)
		usage_error("--trigger: '%s': must be greater than zero", s);
	q->trigger = TRIGGER_INTERVAL;
}

static void
close_all(struct query *q)
{
	char summary[2 * ERRBUF_SIZE];

	/* Whatever the end, say what was skipped (badrec.h). */
	badrec_summary(&q->bad, summary, sizeof summary);
	if (summary[0] != '\0')
		warnx_("%s", summary);
	q->bad.total = 0;
	badrec_free(&q->bad);
	source_close(&q->src);
	ro_free(&q->o);
	free(q->out.buf);
	q->out.buf = NULL;
	sb_free(&q->pos);
	if (q->ckpt_on)
		sck_close(&q->ck);
	q->ckpt_on = false;
}

/* Writing failed: a closed pipe ends ssrc quietly, anything else is an
 * error (e.g. >/dev/full). */
__attribute__((noreturn))
static void
output_failed(struct query *q, int errnum)
{
	close_all(q);
	if (errnum == EPIPE)
		exit(EXIT_OK);
	die(EXIT_RUNTIME, "write error on stdout: %s", strerror(errnum));
}

static void
check_output(struct query *q)
{
	if (q->out.error)
		output_failed(q, q->out.error);
}

__attribute__((noreturn, format(printf, 2, 3)))
static void
fail(struct query *q, const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	close_all(q);
	die(EXIT_RUNTIME, "%s", msg);
}

static void
warn_if(const char *msg)
{
	if (msg[0] != '\0')
		warnx_("warning: %s", msg);
}

/*
 * Batch q->batch's epoch frame is out: the source may clean up after it
 * (--clean-source): at once without a checkpoint, once it is committed
 * with one.
 */
static void
batch_out(struct query *q)
{
	if (!source_has_done(&q->src))
		return;
	if (q->ckpt_on) {
		sck_batch_out(&q->ck, q->batch - 1);
		sck_check_commits(&q->ck, 0, q->err);
	} else {
		sb_reset(&q->pos);
		source_position(&q->src, &q->pos);
		if (source_done(&q->src, q->pos.buf, q->err) == 0)
			q->err[0] = '\0';
	}
	warn_if(q->err);
}

/* Write the epoch frame of the batch that ends now; logged: its offsets
 * are on disk already (a replay). */
static void
emit_epoch(struct query *q, bool nodata, bool final, bool logged)
{
	int64_t end = now_micros();

	if (q->ckpt_on && !logged &&
	    sck_log(&q->ck, q->batch, nodata, final, q->o.rows, q->err) < 0)
		fail(q, "%s", q->err);
	/* After offsets/N, before \.e N: exactly once (badrec.h). */
	if (badrec_end_batch(&q->bad, q->batch, q->err) < 0)
		fail(q, "%s", q->err);
	fw_epoch_begin(&q->out, q->batch++);
	if (nodata)
		fw_epoch_i64(&q->out, "nodata", 1);
	if (final)
		fw_epoch_i64(&q->out, "final", 1);
	/* o.rows counts the bad records taken too (record_out.h). */
	fw_epoch_i64(&q->out, "ssrc.rows", (int64_t)(q->o.rows - q->o.bad));
	if (q->bad.mode != BADREC_FAIL)
		fw_epoch_i64(&q->out, "ssrc.bad", (int64_t)q->o.bad);
	fw_epoch_i64(&q->out, "ssrc.start", nodata ? end : q->batch_start);
	fw_epoch_i64(&q->out, "ssrc.end", end);
	if (fw_epoch_end(&q->out) < 0)
		output_failed(q, errno);
	q->o.rows = 0;
	q->o.bad = 0;
	q->took = false;
	q->epochs++;
	q->last_epoch = monotonic_micros();
	batch_out(q);
}

static void
end_data_batch(struct query *q)
{
	emit_epoch(q, false, false, false);
	q->nodata_due = true;
}

static void
emit_nodata(struct query *q)
{
	emit_epoch(q, true, false, false);
	q->nodata_due = false;
}

/* Micros to wait for input before a timer is due (>= 0); -1: no timer. */
static int64_t
wait_timeout(const struct query *q, int64_t now)
{
	int64_t due = INT64_MAX;	/* monotonic time of the next timer */

	switch (q->trigger) {
	case TRIGGER_DEFAULT:
		if (q->o.rows > 0 || q->nodata_due)
			return 0;
		break;
	case TRIGGER_INTERVAL:
		due = q->next_tick;
		break;
	case TRIGGER_AVAILABLE_NOW:
	case TRIGGER_ONCE:
		return -1;	/* bounded input: no tick, no heartbeat */
	}
	if (q->heartbeat > 0 && q->o.rows == 0 && !q->took &&
	    q->last_epoch + q->heartbeat < due)
		due = q->last_epoch + q->heartbeat;
	if (due == INT64_MAX)
		return -1;
	return due > now ? due - now : 0;
}

/* Wait up to timeout micros (-1: forever) for input, or only for the
 * timeout when watch is false.  Returns true when the source has
 * something to read; false on timeout or a signal. */
static bool
wait_input(struct query *q, int64_t timeout, bool watch)
{
	struct pollfd pfd = { .fd = q->src.fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	bool use_fd = watch && q->src.fd >= 0;
	int n;

	if (timeout >= 0) {
		ts.tv_sec = (time_t)(timeout / MICROS_PER_SECOND);
		ts.tv_nsec = (long)(timeout % MICROS_PER_SECOND) * 1000;
		tsp = &ts;
	}
	sigprocmask(SIG_SETMASK, &q->test_mask, NULL);
	if (stop_requested) {
		sigprocmask(SIG_SETMASK, &q->wait_mask, NULL);
		return false;
	}
	n = ppoll(use_fd ? &pfd : NULL, use_fd ? 1 : 0, tsp, &q->wait_mask);
	sigprocmask(SIG_SETMASK, &q->wait_mask, NULL);
	if (n < 0 && errno != EINTR)
		fail(q, "poll: %s", strerror(errno));
	return n > 0 && use_fd;
}

/* Nothing to read now: act on what the trigger and the timers say. */
static void
on_idle(struct query *q)
{
	int64_t now = monotonic_micros();

	if (q->trigger == TRIGGER_DEFAULT) {
		if (q->o.rows > 0)
			end_data_batch(q);
		else if (q->nodata_due)
			emit_nodata(q);
		else if (q->heartbeat > 0 && now >= q->last_epoch + q->heartbeat)
			emit_nodata(q);
	} else if (q->trigger == TRIGGER_INTERVAL) {
		if (now >= q->next_tick) {
			if (q->o.rows > 0 || q->took)
				end_data_batch(q);
			else if (q->nodata_due && !source_buffered(&q->src))
				emit_nodata(q);
			while (q->next_tick <= now)
				q->next_tick += q->interval;
		}
		if (q->o.rows == 0 && !q->took && q->heartbeat > 0 &&
		    now >= q->last_epoch + q->heartbeat)
			emit_nodata(q);
	}
}

/* Replay batch C+1 exactly as offsets/C+1 logged it. */
static void
replay(struct query *q)
{
	const struct batch_plan *p = &q->ck.replay;

	q->src.replaying = true;
	q->src.replay_end = p->end;
	q->batch_start = now_micros();
	while (q->o.rows < p->rows) {
		bool buffered = source_buffered(&q->src);
		int st;

		if (stop_requested)
			fail(q, "stopped while replaying batch %" PRId64
			    " (run again to finish it)", p->batch);
		if (!buffered && !wait_input(q, -1, true))
			continue;
		st = source_read(&q->src, &q->o, p->rows, !buffered, q->err);
		if (st < 0)
			fail(q, "%s", q->err);
		check_output(q);
		if ((st == SOURCE_END || st == SOURCE_BATCH) &&
		    q->o.rows < p->rows)
			fail(q, "cannot replay batch %" PRId64 ": %s gave %"
			    PRIu64 " of its %" PRIu64 " rows (the input "
			    "changed since it was read)", p->batch,
			    q->src.name, q->o.rows, p->rows);
	}
	q->src.replaying = false;
	q->src.replay_end = NULL;
	if (sck_replayed(&q->ck, q->err) < 0)
		fail(q, "%s", q->err);
	emit_epoch(q, p->nodata, p->final, true);
	q->nodata_due = !p->nodata;
}

/* The input ended or a stop was asked for: close the stream.  Returns
 * true for a final end, false for a pause. */
static bool
finish(struct query *q)
{
	if (q->o.rows > 0 || q->took)
		end_data_batch(q);
	/* CLI.md "End of input": a pause (state kept for the next run) only
	 * with a checkpoint, for available-now or when we were asked to stop
	 * (a service restarted on its checkpoint); input that really ends,
	 * or --trigger once, is final: the watermark goes to +infinity. */
	if (q->ckpt_on && (q->trigger == TRIGGER_AVAILABLE_NOW ||
	    stop_requested)) {
		/* Keep the invariant that \.x follows an epoch frame. */
		if (q->nodata_due || q->epochs == 0)
			emit_nodata(q);
		return false;
	}
	emit_epoch(q, true, true, false);
	return true;
}

/* Read and batch until the input ends or a stop is asked for.  Returns
 * whether the end is final. */
static bool
run(struct query *q)
{
	uint64_t limit = q->trigger == TRIGGER_ONCE ? UINT64_MAX : q->max_rows;

	q->last_epoch = monotonic_micros();
	q->next_tick = q->last_epoch + q->interval;
	if (q->ckpt_on && q->ck.have_replay) {
		replay(q);
		if (q->ck.replay.final)
			return true;
	}
	while (!stop_requested) {
		bool buffered = !q->took && source_buffered(&q->src);
		int st;

		if (!buffered) {
			int64_t timeout = wait_timeout(q, monotonic_micros());

			if (!wait_input(q, timeout, !q->took)) {
				if (!stop_requested)
					on_idle(q);
				continue;
			}
		}
		if (q->o.rows == 0)
			q->batch_start = now_micros();
		st = source_read(&q->src, &q->o, limit, !buffered, q->err);
		if (st < 0)
			fail(q, "%s", q->err);
		check_output(q);
		if (st == SOURCE_END)
			break;
		if (st == SOURCE_BATCH) {
			if (q->trigger == TRIGGER_INTERVAL)
				q->took = true;	/* ends at the tick */
			else if (q->trigger != TRIGGER_ONCE)
				end_data_batch(q);
			continue;
		}
		if (q->o.rows >= limit)
			end_data_batch(q);
	}
	return finish(q);
}

static void
write_header(struct query *q)
{
	struct schema h;
	char run_id[UUID_STRLEN], retain[32];

	if (uuid_random(run_id, q->err) < 0)
		fail(q, "%s", q->err);
	schema_init(&h);
	schema_set_meta(&h, "v", "1");
	if (q->ckpt_on) {
		/* The stable query id, and the run id that holds the lock
		 * (stages join the run with it). */
		schema_set_meta(&h, "query", ckpt_query_id(q->ck.ck));
		schema_set_meta(&h, "run", ckpt_run_id(q->ck.ck));
	} else {
		schema_set_meta(&h, "query", q->query_id);
		schema_set_meta(&h, "run", run_id);
	}
	/* A larger --max-record-size than the default: the stages' frame
	 * limit follows it (stage.c). */
	if (q->src.opt.max_record > DEFAULT_MAX_RECORD) {
		snprintf(retain, sizeof retain, "%zu", q->src.opt.max_record);
		schema_set_meta(&h, "max_record", retain);
	}
	schema_set_meta(&h, "source", q->src.spec);
	if (q->ckpt_on) {
		snprintf(retain, sizeof retain, "%d", q->ck.retain);
		schema_set_meta(&h, "checkpoint", q->ck.abs_dir);
		schema_set_meta(&h, "retain", retain);
		/* The first batch is one an earlier run planned: a sink may
		 * hold part of it already (ssink(1), Kafka). */
		if (q->ck.have_replay) {
			snprintf(retain, sizeof retain, "%" PRId64,
			    sck_first_batch(&q->ck));
			schema_set_meta(&h, "replay", retain);
		}
	}
	for (size_t i = 0; i < q->src.schema.nfields; i++)
		schema_add(&h, q->src.schema.fields[i].name,
		    q->src.schema.fields[i].type, NULL);
	fw_header(&q->out, &h);
	schema_free(&h);
	if (fw_flush(&q->out) < 0)
		output_failed(q, errno);
}

/* From here on SIGINT/SIGTERM only set a flag, seen between reads.
 * SA_RESTART: a signal in the middle of a read or write resumes it. */
static void
catch_signals(struct query *q)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigprocmask(SIG_SETMASK, NULL, &q->wait_mask);
	sigdelset(&q->wait_mask, SIGINT);
	sigdelset(&q->wait_mask, SIGTERM);
	q->test_mask = q->wait_mask;
	sigaddset(&q->test_mask, SIGINT);
	sigaddset(&q->test_mask, SIGTERM);
	sigprocmask(SIG_SETMASK, &q->wait_mask, NULL);
}

/* The end of a checkpointed run: stdout is closed (the stages finish on
 * their own); wait a bounded time for the last commit so that
 * --clean-source can clean up after the last batches. */
static void
ckpt_end(struct query *q)
{
	if (!q->ckpt_on || !source_has_done(&q->src))
		return;
	if (close(STDOUT_FILENO) < 0)
		q->out.fd = -1;
	sck_check_commits(&q->ck, stop_requested ? 0 : CLEAN_WAIT_US, q->err);
	warn_if(q->err);
}

int
main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_SCHEMA, OPT_HEADER, OPT_INCLUDE_TS,
	    OPT_TRIGGER, OPT_HEARTBEAT, OPT_MAX_ROWS, OPT_MAX_RECORD,
	    OPT_MAX_FILES, OPT_LATEST_FIRST, OPT_PATTERN, OPT_CLEAN_SOURCE,
	    OPT_RAMP_UP, OPT_CHECKPOINT, OPT_WAIT, OPT_RETAIN,
	    OPT_BOOTSTRAP, OPT_STARTING_OFFSETS, OPT_INCLUDE_HEADERS,
	    OPT_TIMEOUT, OPT_SKIP_BAD, OPT_BAD_PATH, OPT_VERSION,
	    OPT_GROUP, OPT_MAX_OFFSETS };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "schema", required_argument, NULL, OPT_SCHEMA },
		{ "header", no_argument, NULL, OPT_HEADER },
		{ "include-timestamp", no_argument, NULL, OPT_INCLUDE_TS },
		{ "trigger", required_argument, NULL, OPT_TRIGGER },
		{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
		{ "max-batch-rows", required_argument, NULL, OPT_MAX_ROWS },
		{ "max-record-size", required_argument, NULL, OPT_MAX_RECORD },
		{ "max-files-per-trigger", required_argument, NULL,
		    OPT_MAX_FILES },
		{ "latest-first", no_argument, NULL, OPT_LATEST_FIRST },
		{ "pattern", required_argument, NULL, OPT_PATTERN },
		{ "clean-source", required_argument, NULL, OPT_CLEAN_SOURCE },
		{ "ramp-up", required_argument, NULL, OPT_RAMP_UP },
		{ "checkpoint", required_argument, NULL, OPT_CHECKPOINT },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "retain", required_argument, NULL, OPT_RETAIN },
		{ "bootstrap-servers", required_argument, NULL, OPT_BOOTSTRAP },
		{ "starting-offsets", required_argument, NULL,
		    OPT_STARTING_OFFSETS },
		{ "include-headers", no_argument, NULL, OPT_INCLUDE_HEADERS },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "max-offsets-per-trigger", required_argument, NULL,
		    OPT_MAX_OFFSETS },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "skip-bad", no_argument, NULL, OPT_SKIP_BAD },
		{ "bad-records-path", required_argument, NULL, OPT_BAD_PATH },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static struct query q;
	struct source_options opt = { .format = SOURCE_TEXT,
	    .max_record = DEFAULT_MAX_RECORD };
	static struct kafka_source_settings kafka;
	struct schema user_schema;
	const char *ddl = NULL, *format = "text", *checkpoint = NULL;
	const char *bad_path = NULL;
	enum badrec_mode bad_mode = BADREC_FAIL;
	bool wait = false, retain_given = false;
	int retain = CKPT_RETAIN_DEFAULT;
	struct strbuf pipeline;
	char warn[ERRBUF_SIZE];
	long long n;
	bool final;
	int c;

	prog_init(argv[0]);
	q.max_rows = DEFAULT_MAX_BATCH_ROWS;
	kafka_conf_init(&kafka.conf);
	opterr = 0;	/* our messages name the command, not its path */
	while ((c = getopt_long(argc, argv, ":hX:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_FORMAT:
			format = optarg;
			if (strcmp(optarg, "text") == 0)
				opt.format = SOURCE_TEXT;
			else if (strcmp(optarg, "csv") == 0)
				opt.format = SOURCE_CSV;
			else if (strcmp(optarg, "json") == 0)
				opt.format = SOURCE_JSON;
			else
				usage_error("--format: '%s' is not text, csv "
				    "or json", optarg);
			break;
		case OPT_SCHEMA:
			ddl = optarg;
			break;
		case OPT_HEADER:
			opt.header = true;
			break;
		case OPT_INCLUDE_TS:
			opt.include_timestamp = true;
			opt.given |= SOPT_INCLUDE_TS;
			break;
		case OPT_TRIGGER:
			parse_trigger(&q, optarg);
			break;
		case OPT_HEARTBEAT:
			q.heartbeat = option_duration("--heartbeat", optarg,
			    false);
			break;
		case OPT_MAX_ROWS:
			q.max_rows = (uint64_t)option_count("--max-batch-rows",
			    optarg);
			if (q.max_rows == 0)
				usage_error("--max-batch-rows: must be at "
				    "least 1");
			break;
		case OPT_MAX_RECORD:
			opt.max_record = parse_size("--max-record-size",
			    optarg);
			break;
		case OPT_MAX_FILES:
			n = option_count("--max-files-per-trigger", optarg);
			if (n == 0)
				usage_error("--max-files-per-trigger: must be "
				    "at least 1");
			opt.max_files = (size_t)n;
			opt.given |= SOPT_MAX_FILES;
			break;
		case OPT_LATEST_FIRST:
			opt.latest_first = true;
			opt.given |= SOPT_LATEST_FIRST;
			break;
		case OPT_PATTERN:
			opt.pattern = optarg;
			opt.given |= SOPT_PATTERN;
			break;
		case OPT_CLEAN_SOURCE:
			opt.clean_source = optarg;
			opt.given |= SOPT_CLEAN_SOURCE;
			break;
		case OPT_RAMP_UP:
			opt.ramp_up = option_duration("--ramp-up", optarg,
			    false);
			opt.given |= SOPT_RAMP_UP;
			break;
		case OPT_CHECKPOINT:
			checkpoint = optarg;
			break;
		case OPT_WAIT:
			wait = true;
			break;
		case OPT_RETAIN:
			n = option_count("--retain", optarg);
			if (n < 1 || n > INT_MAX)
				usage_error("--retain: must be at least 1");
			retain = (int)n;
			retain_given = true;
			break;
		case OPT_BOOTSTRAP:
			kafka.conf.bootstrap = optarg;
			opt.given |= SOPT_KAFKA;
			break;
		case OPT_STARTING_OFFSETS:
			kafka.starting_offsets = optarg;
			opt.given |= SOPT_KAFKA;
			break;
		case OPT_INCLUDE_HEADERS:
			kafka.include_headers = true;
			opt.given |= SOPT_KAFKA;
			break;
		case OPT_GROUP:
			kafka.group = optarg;
			opt.given |= SOPT_KAFKA;
			break;
		case OPT_MAX_OFFSETS:
			kafka.max_offsets = option_count(
			    "--max-offsets-per-trigger", optarg);
			if (kafka.max_offsets == 0)
				usage_error("--max-offsets-per-trigger: must "
				    "be at least 1");
			opt.given |= SOPT_KAFKA;
			break;
		case OPT_TIMEOUT:
			kafka.conf.timeout_ms = (int)(option_duration(
			    "--timeout", optarg, false) / 1000);
			if (kafka.conf.timeout_ms <= 0)
				usage_error("--timeout: at least 1ms");
			opt.given |= SOPT_KAFKA;
			break;
		case 'X':
			if (kafka_conf_is_list(optarg)) {
				kafka_conf_list(stdout);
				exit(EXIT_OK);
			}
			if (kafka_conf_add(&kafka.conf, optarg, q.err) < 0)
				usage_error("-X: %s", q.err);
			opt.given |= SOPT_KAFKA;
			break;
		case OPT_SKIP_BAD:
			if (bad_mode == BADREC_FAIL)
				bad_mode = BADREC_SKIP;
			break;
		case OPT_BAD_PATH:
			bad_path = optarg;
			bad_mode = BADREC_KEEP;	/* skips too */
			break;
		case 'h':
			usage_exit(synopsis, EXIT_OK);
		case OPT_VERSION:
			version_exit();
		case ':':
			usage_error("option '%s' needs a value",
			    argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}

	/* Option checks: usage errors, before any I/O. */
	if (optind == argc)
		usage_error("missing SOURCE (e.g. socket:9999, -)");
	if (argc - optind > 1)
		usage_error("one SOURCE only, not also '%s'", argv[optind + 1]);
	if (opt.format != SOURCE_TEXT && ddl == NULL)
		usage_error("--format %s needs --schema (e.g. --schema "
		    "'name STRING, age INT')", format);
	if (opt.format == SOURCE_TEXT && ddl != NULL)
		usage_error("--schema is for --format csv or json (text "
		    "records have one field, value)");
	if (opt.header && opt.format != SOURCE_CSV)
		usage_error("--header is for --format csv");
	if (opt.format != SOURCE_TEXT)
		opt.given |= SOPT_FORMAT;
	if (checkpoint == NULL && (wait || retain_given))
		usage_error("%s is for --checkpoint", wait ? "--wait" :
		    "--retain");
	if (checkpoint != NULL && *checkpoint == '\0')
		usage_error("--checkpoint: empty directory name");
	if (bad_path != NULL && *bad_path == '\0')
		usage_error("--bad-records-path: empty directory name");
	badrec_init(&q.bad, bad_mode, bad_path);
	opt.bounded = q.trigger == TRIGGER_ONCE ||
	    q.trigger == TRIGGER_AVAILABLE_NOW;
	if (q.trigger == TRIGGER_ONCE)
		opt.max_files = 0;	/* one batch: every file */
	schema_init(&user_schema);
	if (ddl != NULL) {
		if (schema_parse_ddl(&user_schema, ddl, q.err) < 0)
			usage_error("--schema: %s", q.err);
		if (user_schema.nfields == 0)
			usage_error("--schema: no fields");
		opt.schema = &user_schema;
	}
	kafka.bounded = opt.bounded;
	kafka.checkpointed = checkpoint != NULL;
	if (q.trigger == TRIGGER_ONCE)
		kafka.max_offsets = 0;	/* one batch, as Spark's Once */
	source_kafka_settings(&kafka);
	if (source_init(&q.src, argv[optind], &opt, q.err) < 0) {
		source_close(&q.src);
		schema_free(&user_schema);
		kafka_conf_free(&kafka.conf);
		usage_error("%s", q.err);
	}

	/* The checkpoint, then the input; a failure leaves no output. */
	sb_init(&q.pos);
	if (checkpoint != NULL) {
		sb_init(&pipeline);
		sb_addf(&pipeline, "ssrc format=%s source=%s", format,
		    q.src.spec);
		q.ckpt_on = sck_open(&q.ck, &q.src, checkpoint, pipeline.buf,
		    wait, retain, warn, q.err) == 0;
		sb_free(&pipeline);
		if (!q.ckpt_on) {
			sck_close(&q.ck);
			schema_free(&user_schema);
			fail(&q, "%s", q.err);
		}
		warn_if(warn);
		if (!source_replayable(&q.src))
			warnx_("warning: %s is not replayable: with a "
			    "checkpoint, what it sent before a failure cannot "
			    "be read again (as Spark's socket source)",
			    q.src.name);
		q.batch = sck_first_batch(&q.ck);
	}
	/* The query id names the bad-record files: stable with a
	 * checkpoint, so that a replay rewrites the same file. */
	if (q.ckpt_on)
		snprintf(q.query_id, sizeof q.query_id, "%s",
		    ckpt_query_id(q.ck.ck));
	else if (uuid_random(q.query_id, q.err) < 0)
		fail(&q, "%s", q.err);
	if (badrec_start(&q.bad, q.query_id, q.batch, q.ckpt_on,
	    q.err) < 0) {
		schema_free(&user_schema);
		fail(&q, "%s", q.err);
	}
	/* A source whose parts have no fixed order (Kafka) opens for the
	 * batch to replay: reading it exactly starts there. */
	if (q.ckpt_on && q.ck.have_replay) {
		q.src.replaying = true;
		q.src.replay_end = q.ck.replay.end;
	}
	if (source_open(&q.src, q.err) < 0) {
		schema_free(&user_schema);
		fail(&q, "%s", q.err);
	}
	if (q.ckpt_on)
		sck_opened(&q.ck);
	/* A closed downstream shows as EPIPE from write(), which ends us
	 * quietly, instead of a signal that would kill us mid-batch. */
	signal(SIGPIPE, SIG_IGN);
	fw_init(&q.out, STDOUT_FILENO);
	ro_init(&q.o, &q.out, opt.include_timestamp);
	if (bad_mode != BADREC_FAIL)
		q.o.policy = &q.bad;
	write_header(&q);
	catch_signals(&q);

	final = run(&q);
	if (fw_end(&q.out, final) < 0)
		output_failed(&q, errno);
	ckpt_end(&q);

	close_all(&q);
	schema_free(&user_schema);
	kafka_conf_free(&kafka.conf);
	return EXIT_OK;
}

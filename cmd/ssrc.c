/*
 * ssrc: the source of a runnel query.  Reads SOURCE, cuts it into
 * micro-batches and writes frames (runnel(5)): a header, the records of
 * each batch followed by its epoch frame, and at the end of input a final
 * no-data batch and "\.x final".
 *
 * When a batch ends (DESIGN.md 3, HELPERS "Batches and no-data batches"):
 *   default trigger  when the input would block, or at --max-batch-rows;
 *   --trigger D      at each tick of D with the rows that came (or at the
 *                    row cap), none when nothing came;
 *   once, available-now  at the end of input: one batch.
 * After a data batch, as soon as no input waits (default) or at the next
 * tick (--trigger D), one no-data batch follows; --heartbeat adds one
 * every DURATION while idle.
 *
 * Signals: SIGINT and SIGTERM are blocked except inside ppoll(), which
 * is where the loop waits and where it looks for input between reads, so
 * a stop request lands at a batch boundary and is never lost between the
 * flag test and the wait.
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
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "frame.h"
#include "record_out.h"
#include "rtime.h"
#include "schema.h"
#include "source.h"
#include "stage.h"
#include "uuid.h"

static const char synopsis[] = "ssrc SOURCE [options]";

#define DEFAULT_MAX_BATCH_ROWS	100000
#define DEFAULT_MAX_RECORD	((size_t)64 << 20)

enum trigger {
	TRIGGER_DEFAULT,	/* a batch as soon as input is there */
	TRIGGER_INTERVAL,	/* a batch every --trigger DURATION */
	TRIGGER_ONCE,		/* once and available-now: one batch */
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
	sigset_t wait_mask;	/* the signal mask inside ppoll() */
	char err[ERRBUF_SIZE];
};

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
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

	if (strcmp(s, "once") == 0 || strcmp(s, "available-now") == 0) {
		q->trigger = TRIGGER_ONCE;
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
	source_close(&q->src);
	ro_free(&q->o);
	free(q->out.buf);
	q->out.buf = NULL;
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

static void
emit_epoch(struct query *q, bool nodata, bool final)
{
	int64_t end = now_micros();

	fw_epoch_begin(&q->out, q->batch++);
	if (nodata)
		fw_epoch_i64(&q->out, "nodata", 1);
	if (final)
		fw_epoch_i64(&q->out, "final", 1);
	fw_epoch_i64(&q->out, "ssrc.rows", (int64_t)q->o.rows);
	fw_epoch_i64(&q->out, "ssrc.start", nodata ? end : q->batch_start);
	fw_epoch_i64(&q->out, "ssrc.end", end);
	if (fw_epoch_end(&q->out) < 0)
		output_failed(q, errno);
	q->o.rows = 0;
	q->last_epoch = monotonic_micros();
}

static void
end_data_batch(struct query *q)
{
	emit_epoch(q, false, false);
	q->nodata_due = true;
}

static void
emit_nodata(struct query *q)
{
	emit_epoch(q, true, false);
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
	case TRIGGER_ONCE:
		return -1;	/* one batch: no tick, no heartbeat */
	}
	if (q->heartbeat > 0 && q->o.rows == 0 &&
	    q->last_epoch + q->heartbeat < due)
		due = q->last_epoch + q->heartbeat;
	if (due == INT64_MAX)
		return -1;
	return due > now ? due - now : 0;
}

/* Wait up to timeout micros (-1: forever) for input.  Returns true when
 * the source has something to read; false on timeout or a signal. */
static bool
wait_input(struct query *q, int64_t timeout)
{
	struct pollfd pfd = { .fd = q->src.fd, .events = POLLIN };
	struct timespec ts, *tsp = NULL;
	int n;

	if (timeout >= 0) {
		ts.tv_sec = (time_t)(timeout / MICROS_PER_SECOND);
		ts.tv_nsec = (long)(timeout % MICROS_PER_SECOND) * 1000;
		tsp = &ts;
	}
	n = ppoll(q->src.fd >= 0 ? &pfd : NULL, q->src.fd >= 0 ? 1 : 0, tsp,
	    &q->wait_mask);
	if (n < 0 && errno != EINTR)
		die(EXIT_RUNTIME, "poll: %s", strerror(errno));
	return n > 0;
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
			if (q->o.rows > 0)
				end_data_batch(q);
			else if (q->nodata_due)
				emit_nodata(q);
			while (q->next_tick <= now)
				q->next_tick += q->interval;
		}
		if (q->o.rows == 0 && q->heartbeat > 0 &&
		    now >= q->last_epoch + q->heartbeat)
			emit_nodata(q);
	}
}

/* Read and batch until the input ends or a stop is asked for. */
static void
run(struct query *q)
{
	uint64_t limit = q->trigger == TRIGGER_ONCE ? UINT64_MAX : q->max_rows;

	q->last_epoch = monotonic_micros();
	q->next_tick = q->last_epoch + q->interval;
	while (!stop_requested) {
		bool buffered = source_buffered(&q->src);
		int st;

		if (!buffered) {
			int64_t timeout = wait_timeout(q, monotonic_micros());

			if (!wait_input(q, timeout)) {
				if (!stop_requested)
					on_idle(q);
				continue;
			}
		}
		if (q->o.rows == 0)
			q->batch_start = now_micros();
		st = source_read(&q->src, &q->o, limit, !buffered, q->err);
		if (st < 0)
			die(EXIT_RUNTIME, "%s", q->err);
		check_output(q);
		if (st == SOURCE_END)
			break;
		if (q->o.rows >= limit)
			end_data_batch(q);
	}
	if (q->o.rows > 0)
		emit_epoch(q, false, false);
	emit_epoch(q, true, true);
	if (fw_end(&q->out, true) < 0)
		output_failed(q, errno);
}

static void
write_header(struct query *q)
{
	struct schema h;
	char id[UUID_STRLEN], run_id[UUID_STRLEN];

	if (uuid_random(id, q->err) < 0 || uuid_random(run_id, q->err) < 0)
		die(EXIT_RUNTIME, "%s", q->err);
	schema_init(&h);
	schema_set_meta(&h, "v", "1");
	schema_set_meta(&h, "query", id);
	schema_set_meta(&h, "run", run_id);
	schema_set_meta(&h, "source", q->src.spec);
	for (size_t i = 0; i < q->src.schema.nfields; i++)
		schema_add(&h, q->src.schema.fields[i].name,
		    q->src.schema.fields[i].type, NULL);
	fw_header(&q->out, &h);
	schema_free(&h);
	if (fw_flush(&q->out) < 0)
		output_failed(q, errno);
}

/* From here on SIGINT/SIGTERM only set a flag, seen between reads. */
static void
catch_signals(struct query *q)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &q->wait_mask);
	sigdelset(&q->wait_mask, SIGINT);
	sigdelset(&q->wait_mask, SIGTERM);
}

int
main(int argc, char **argv)
{
	enum { OPT_FORMAT = 256, OPT_SCHEMA, OPT_HEADER, OPT_INCLUDE_TS,
	    OPT_TRIGGER, OPT_HEARTBEAT, OPT_MAX_ROWS, OPT_MAX_RECORD,
	    OPT_VERSION };
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "schema", required_argument, NULL, OPT_SCHEMA },
		{ "header", no_argument, NULL, OPT_HEADER },
		{ "include-timestamp", no_argument, NULL, OPT_INCLUDE_TS },
		{ "trigger", required_argument, NULL, OPT_TRIGGER },
		{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
		{ "max-batch-rows", required_argument, NULL, OPT_MAX_ROWS },
		{ "max-record-size", required_argument, NULL, OPT_MAX_RECORD },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	static struct query q;
	struct source_options opt = { .format = SOURCE_TEXT,
	    .max_record = DEFAULT_MAX_RECORD };
	struct schema user_schema;
	const char *ddl = NULL, *format = "text";
	int c;

	prog_init(argv[0]);
	q.max_rows = DEFAULT_MAX_BATCH_ROWS;
	opterr = 0;	/* our messages name the command, not its path */
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
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
	schema_init(&user_schema);
	if (ddl != NULL) {
		if (schema_parse_ddl(&user_schema, ddl, q.err) < 0)
			usage_error("--schema: %s", q.err);
		if (user_schema.nfields == 0)
			usage_error("--schema: no fields");
		opt.schema = &user_schema;
	}
	if (source_init(&q.src, argv[optind], &opt, q.err) < 0) {
		source_close(&q.src);
		schema_free(&user_schema);
		usage_error("%s", q.err);
	}

	/* Open the input, then write: a failed connect leaves no output. */
	if (source_open(&q.src, q.err) < 0) {
		source_close(&q.src);
		schema_free(&user_schema);
		die(EXIT_RUNTIME, "%s", q.err);
	}
	/* A closed downstream shows as EPIPE from write(), which ends us
	 * quietly, instead of a signal that would kill us mid-batch. */
	signal(SIGPIPE, SIG_IGN);
	fw_init(&q.out, STDOUT_FILENO);
	ro_init(&q.o, &q.out, opt.include_timestamp);
	write_header(&q);
	catch_signals(&q);

	run(&q);

	close_all(&q);
	schema_free(&user_schema);
	return EXIT_OK;
}

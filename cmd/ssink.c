/*
 * ssink: the end of a runnel pipeline; makes each batch visible in a sink
 * (console table, plain records on stdout; see ssink(1)).
 *
 * The command owns the batch logic shared by every sink: which batches are
 * output (a no-data batch that brought no rows is not), the end of the
 * stream, signals and exit statuses.  The sinks themselves sit behind
 * lib/sink.h.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rtime.h"
#include "sink.h"
#include "stage.h"

#define SYNOPSIS "ssink [SINK] [--format csv|json|tsv] [--no-header] " \
	"[--num-rows N] [--no-truncate]"

/*
 * After SIGINT/SIGTERM, how long to wait between batches for more input
 * before exiting.  The stages upstream were usually signalled too (Ctrl-C
 * reaches the whole pipeline) and are ending their stream; this lets
 * their last batches through without hanging when ssink alone was told
 * to stop.
 */
#define STOP_GRACE_MS	500

static volatile sig_atomic_t stop_signal;

static void
on_stop(int sig)
{
	stop_signal = sig;
}

struct ssink {
	struct stage st;
	struct sink sink;
	sigset_t run_mask;	/* the mask while waiting: signals allowed */
	bool in_batch;		/* begin was called (or rows are pending) */
	int64_t stop_at;	/* after a stop request: when to give up */
	long long rows;		/* rows of the current batch */
	char err[ERRBUF_SIZE];
};

/*
 * Act on a sink operation's result: a closed reader ends quietly, a bad
 * value is named with its input line, other failures (output) are not.
 */
static void
check(struct ssink *k, int rc)
{
	if (rc == 0)
		return;
	if (rc == SINK_GONE)
		exit(EXIT_OK);
	if (rc == SINK_BAD_ROW)
		stage_die(&k->st, "%s", k->err);
	die(EXIT_RUNTIME, "%s", k->err);
}

static void
finish(struct ssink *k, bool final)
{
	check(k, sink_close(&k->sink, final, k->err));
	stage_close(&k->st);
	exit(EXIT_OK);
}

/*
 * Between batches: has a stop been requested, and is it time to stop?
 * Signals are blocked outside waits, so one may be pending rather than
 * caught; the first one seen starts the grace period.
 */
static int64_t
stop_deadline(struct ssink *k)
{
	sigset_t pending;

	if (k->stop_at == 0) {
		sigpending(&pending);
		if (stop_signal || sigismember(&pending, SIGINT) ||
		    sigismember(&pending, SIGTERM))
			k->stop_at = monotonic_micros() +
			    STOP_GRACE_MS * INT64_C(1000);
	}
	return k->stop_at;
}

/*
 * Wait until a frame can be read.  Signals are only delivered inside
 * ppoll (its mask), so none can slip in between the check and the wait.
 * Returns false when ssink should stop now: between batches, after a stop
 * request, once the grace period is over.
 */
static bool
wait_input(struct ssink *k)
{
	struct pollfd p = { .fd = k->st.in.fd, .events = POLLIN };

	for (;;) {
		int64_t deadline = k->in_batch ? 0 : stop_deadline(k);
		int64_t left = deadline ? deadline - monotonic_micros() : 0;
		struct timespec ts = {
			.tv_sec = left / MICROS_PER_SECOND,
			.tv_nsec = (long)(left % MICROS_PER_SECOND) * 1000,
		};
		int n;

		if (deadline && left <= 0)
			return false;
		if (frame_reader_buffered(&k->st.in))
			return true;
		n = ppoll(&p, 1, deadline ? &ts : NULL, &k->run_mask);
		if (n > 0)
			return true;
		if (n < 0 && errno != EINTR)
			return true;	/* let the read report it */
	}
}

static void
handle_epoch(struct ssink *k)
{
	struct epoch e;
	int64_t nodata = 0;

	if (epoch_decode(&k->st.frame, &e, k->err) < 0)
		stage_die(&k->st, "%s", k->err);
	/* A no-data batch that brought no rows is not output (runnel(7)). */
	if (k->rows == 0 && epoch_get_i64(&e, "nodata", &nodata) == 0 &&
	    nodata == 1)
		return;
	if (!k->in_batch)
		check(k, sink_begin(&k->sink, k->err));
	check(k, sink_end(&k->sink, &e, k->err));
	k->in_batch = false;
	k->rows = 0;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "num-rows", required_argument, NULL, 'n' },
		{ "no-truncate", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	static struct ssink k;
	struct sink_options o = {
		.header = true, .num_rows = 20, .truncate = true,
		.fd = STDOUT_FILENO,
	};
	const struct sink_type *type;
	const char *arg = "console", *format_arg = NULL, *given[4] = { 0 };
	unsigned opts = 0;
	struct sigaction sa;
	sigset_t stop_mask;
	int c;

	prog_init(argv[0]);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format_arg = optarg;
			opts |= SINK_OPT_FORMAT;
			given[0] = "--format";
			break;
		case 'H':
			o.header = false;
			opts |= SINK_OPT_HEADER;
			given[1] = "--no-header";
			break;
		case 'n':
			o.num_rows = option_count("--num-rows", optarg);
			opts |= SINK_OPT_NUM_ROWS;
			given[2] = "--num-rows";
			break;
		case 'T':
			o.truncate = false;
			opts |= SINK_OPT_TRUNCATE;
			given[3] = "--no-truncate";
			break;
		case 'h':
			usage_exit(SYNOPSIS, EXIT_OK);
		case 'V':
			version_exit();
		default:
			usage_exit(SYNOPSIS, EXIT_USAGE);
		}
	}
	if (argc - optind > 1)
		usage_exit(SYNOPSIS, EXIT_USAGE);
	if (optind < argc)
		arg = argv[optind];

	/* Option checks: everything that makes a usage error (exit 2). */
	if ((type = sink_lookup(arg, &o.target, k.err)) == NULL)
		die(EXIT_USAGE, "%s", k.err);
	if (!type->supported)
		die(EXIT_USAGE, "sink '%s' is not supported yet", arg);
	for (int bit = 0; bit < 4; bit++)
		if ((opts & (1u << bit)) && !(type->options & (1u << bit)))
			die(EXIT_USAGE, "option '%s' does not apply to sink '%s'",
			    given[bit], type->name);
	if (type->options & SINK_OPT_FORMAT) {
		o.format = type->formats[0];
		if (format_arg != NULL) {
			o.format = sink_format_parse(format_arg);
			if (o.format == SINK_FORMAT_NONE ||
			    !sink_accepts_format(type, o.format))
				die(EXIT_USAGE, "--format: sink '%s' cannot write "
				    "'%s'", type->name, format_arg);
		}
	}

	/* Open the input (its header gives the schema), then the sink. */
	stage_open(&k.st);

	/* From here stop requests are handled between batches (see
	 * wait_input); until the header came there was nothing to finish. */
	sigemptyset(&stop_mask);
	sigaddset(&stop_mask, SIGINT);
	sigaddset(&stop_mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop_mask, &k.run_mask);
	sigdelset(&k.run_mask, SIGINT);
	sigdelset(&k.run_mask, SIGTERM);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (sink_open(&k.sink, type, &o, &k.st.schema, k.err) < 0)
		die(EXIT_RUNTIME, "%s", k.err);

	for (;;) {
		bool final;

		if (!wait_input(&k))
			finish(&k, false);
		switch (stage_next(&k.st)) {
		case FRAME_DATA:
			if (!k.in_batch) {
				check(&k, sink_begin(&k.sink, k.err));
				k.in_batch = true;
			}
			k.rows++;
			check(&k, sink_row(&k.sink, &k.st.rec, k.err));
			break;
		case FRAME_EPOCH:
			handle_epoch(&k);
			break;
		case FRAME_WATERMARK:
			break;	/* event time is the stages' business */
		case FRAME_END:
			if (end_decode(&k.st.frame, &final, k.err) < 0)
				stage_die(&k.st, "%s", k.err);
			if (k.in_batch)
				stage_die(&k.st, "end-of-stream frame inside a "
				    "batch (%lld rows after the last epoch frame)",
				    k.rows);
			finish(&k, final);
		default:
			break;
		}
	}
}

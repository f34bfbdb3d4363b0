/*
 * ssink: the end of a runnel pipeline; makes each batch visible in a sink
 * (console table, plain records on stdout, part files in a directory; see
 * ssink(1)).
 *
 * The command owns the batch logic shared by every sink: which batches are
 * output (a no-data batch that brought no rows is not), the checkpoint's
 * commits (every batch, after the sink made it durable), progress reports,
 * the end of the stream, signals and exit statuses.  The sinks themselves
 * sit behind lib/sink.h.
 *
 * kafka:TOPIC takes its own options (lib/sink_kafka.h).  With a
 * checkpoint its transactional id is "runnel-" and the query id, the one
 * that survives restarts, so that a restarted run fences and aborts what
 * a dead one left open and finds the last batch it committed.  The sink
 * learns a batch's id only at its epoch frame; it begins the transaction
 * at the batch's first row, sends the rows into it, and at the epoch
 * frame commits it with the id, or aborts it if that batch was committed
 * already (a replay after a crash between the Kafka commit and ours).
 * Buffering the rows until the id is known would cost memory for
 * nothing: aborted messages are invisible to read_committed readers.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "kafka.h"
#include "progress.h"
#include "rtime.h"
#include "sink.h"
#include "sink_kafka.h"
#include "stage.h"
#include "uuid.h"

#define SYNOPSIS "ssink [SINK] [--format csv|json|tsv] " \
	"[--header | --no-header] [--partition-by FIELD]... " \
	"[--num-rows N] [--no-truncate] [--progress FILE] " \
	"[--bootstrap-servers HOST:PORT[,...]] [--key FIELD] " \
	"[--value FIELD] [--timeout DURATION] [-X key=value]..."

/*
 * After SIGINT/SIGTERM, ssink goes on with the batches already on their
 * way: the stages upstream were usually signalled too (Ctrl-C reaches the
 * whole process group) and are ending their stream, and a backlog of
 * small batches in the pipes can take seconds to commit.  It stops at a
 * batch boundary once no input came for STOP_IDLE_MS (the upstream was
 * not told to stop, or is idle), or once it has drained for STOP_DRAIN_MS
 * (the upstream goes on producing).  With a checkpoint, what it leaves
 * uncommitted is replayed by the next run; a second signal ends it at
 * once.
 */
#define STOP_IDLE_MS	500
#define STOP_DRAIN_MS	10000

static volatile sig_atomic_t stop_signal;
static volatile sig_atomic_t hup_seen;

/* The first stop request is noted; a second one kills at once (the
 * default action, so the exit status says which signal it was). */
static void
on_stop(int sig)
{
	if (stop_signal) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	stop_signal = sig;
}

/* SIGHUP: reopen the --progress file at the next report (logrotate). */
static void
on_hup(int sig)
{
	(void)sig;
	hup_seen = 1;
}

struct ssink {
	struct stage st;
	struct sink sink;
	sigset_t run_mask;	/* the mask in ppoll() and outside waits:
				   stop signals allowed */
	sigset_t test_mask;	/* from the stop test to ppoll(): blocked */
	bool in_batch;		/* begin was called (or rows are pending) */
	int64_t stop_at;	/* after a stop request: when to give up
				   draining, else 0 */
	long long rows;		/* rows of the current batch */
	int64_t next_batch;	/* the id the next batch will have, or -1
				   (lib/sink.h, begin) */
	int64_t began;		/* monotonic micros of the batch's begin */
	struct checkpoint *ck;	/* with @checkpoint in the header */
	int retain;		/* batches the checkpoint keeps */
	const char *progress_path; /* --progress, or NULL */
	int progress_fd;
	struct progress progress;
	struct strbuf report;
	struct kafka_sink_settings kafka;	/* kafka: options */
	char txn_id[UUID_STRLEN + 16];
	char *resume;		/* the sink position of the last commit */
	char err[ERRBUF_SIZE];
};

/*
 * Act on a sink operation's result: a closed reader ends quietly, a bad
 * value is named with its input line, other failures (output) are not.
 * Either way the sink is discarded first (temporary files removed, a
 * Kafka transaction aborted and its client's threads stopped; nothing
 * more written), so the exit leaves nothing behind.
 */
static void
check(struct ssink *k, int rc)
{
	if (rc == 0)
		return;
	sink_discard(&k->sink);
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
	ckpt_close(k->ck);
	kafka_conf_free(&k->kafka.conf);
	free(k->resume);
	sb_free(&k->report);
	if (k->progress_fd > STDERR_FILENO)
		close(k->progress_fd);
	stage_close(&k->st);
	exit(EXIT_OK);
}

/* Has a stop been requested?  The first time it is seen, the drain
 * (see STOP_IDLE_MS) starts. */
static bool
stop_requested(struct ssink *k)
{
	if (!stop_signal)
		return false;
	if (k->stop_at == 0)
		k->stop_at = monotonic_micros() +
		    STOP_DRAIN_MS * INT64_C(1000);
	return true;
}

/*
 * Wait until a frame can be read.  SIGINT and SIGTERM are blocked from
 * the stop test to ppoll(), which unblocks them atomically, so none slips
 * in between; elsewhere they are delivered at once (a second one must end
 * ssink even while it blocks writing to a stuck reader).  Returns false
 * when ssink should stop now: between batches, after a stop request, when
 * no input came for STOP_IDLE_MS or the drain has lasted STOP_DRAIN_MS.
 */
static bool
wait_input(struct ssink *k)
{
	struct pollfd p = { .fd = k->st.in.fd, .events = POLLIN };

	for (;;) {
		struct timespec ts = {
			.tv_sec = STOP_IDLE_MS / 1000,
			.tv_nsec = (long)(STOP_IDLE_MS % 1000) * 1000000,
		};
		bool stopping = stop_requested(k) && !k->in_batch;
		int n;

		if (stopping && monotonic_micros() >= k->stop_at)
			return false;
		if (frame_reader_buffered(&k->st.in))
			return true;
		sigprocmask(SIG_SETMASK, &k->test_mask, NULL);
		if (stopping != (stop_requested(k) && !k->in_batch)) {
			/* A stop request came since the test: again. */
			sigprocmask(SIG_SETMASK, &k->run_mask, NULL);
			continue;
		}
		n = ppoll(&p, 1, stopping ? &ts : NULL, &k->run_mask);
		sigprocmask(SIG_SETMASK, &k->run_mask, NULL);
		if (n > 0)
			return true;
		if (n == 0 && stopping)
			return false;	/* idle: nothing more is coming */
		if (n < 0 && errno != EINTR)
			return true;	/* let the read report it */
	}
}

/*
 * The checkpoint's commits/N, for every batch, shown or not: ssrc resumes
 * after the last commit, and all state up to N is on disk once the epoch
 * frame reached us (checkpoint.h).  Returns the micros it took.
 */
static int64_t
commit_batch(struct ssink *k, int64_t n)
{
	int64_t t0 = monotonic_micros();
	char *pos = sink_position(&k->sink);

	if (ckpt_commit(k->ck, n, pos, k->err) < 0 ||
	    ckpt_prune(k->ck, n, k->retain, k->err) < 0)
		die(EXIT_RUNTIME, "%s", k->err);
	free(pos);
	return monotonic_micros() - t0;
}

/*
 * Open (or, after SIGHUP, reopen) the --progress file.  Appending, so
 * that a restarted query adds to the report; reopening lets logrotate
 * move the file away and have the next batch start a new one at the same
 * path.  The path is the user's, as a shell redirection is: a symlink
 * there (/dev/stderr) is followed.
 */
static void
open_progress(struct ssink *k)
{
	int fd;

	if (k->progress_path == NULL || strcmp(k->progress_path, "-") == 0)
		return;
	fd = open(k->progress_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0666);
	if (fd < 0)
		die(EXIT_RUNTIME, "cannot open '%s': %s", k->progress_path,
		    strerror(errno));
	if (k->progress_fd > STDERR_FILENO)
		close(k->progress_fd);
	k->progress_fd = fd;
}

/* Write one progress object; one write() so lines never interleave. */
static void
report_progress(struct ssink *k, const struct epoch *e, int64_t add_batch,
    int64_t commit)
{
	struct progress_times t = {
		.add_batch = add_batch, .commit = commit, .done = now_micros(),
	};
	size_t off = 0;

	if (hup_seen) {
		hup_seen = 0;
		open_progress(k);
	}
	sb_reset(&k->report);
	if (progress_format(&k->progress, e, k->rows, &t, &k->report,
	    k->err) < 0)
		die(EXIT_RUNTIME, "%s", k->err);
	while (off < k->report.len) {
		ssize_t n = write(k->progress_fd, k->report.buf + off,
		    k->report.len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(EXIT_RUNTIME, "write error on '%s': %s",
			    strcmp(k->progress_path, "-") == 0 ? "stderr" :
			    k->progress_path, strerror(errno));
		off += (size_t)n;
	}
}

static void
handle_epoch(struct ssink *k)
{
	struct epoch e;
	int64_t nodata = 0, add_batch, commit = -1;

	if (epoch_decode(&k->st.frame, &e, k->err) < 0)
		stage_die(&k->st, "%s", k->err);
	k->next_batch = e.batch + 1;
	/* A no-data batch that brought no rows is not output (runnel(7)). */
	if (k->rows == 0 && epoch_get_i64(&e, "nodata", &nodata) == 0 &&
	    nodata == 1) {
		if (k->ck != NULL)
			commit_batch(k, e.batch);
		progress_note(&k->progress, &e);
		return;
	}
	if (!k->in_batch) {
		k->began = monotonic_micros();
		check(k, sink_begin(&k->sink, e.batch, k->err));
	}
	check(k, sink_end(&k->sink, &e, k->err));
	add_batch = monotonic_micros() - k->began;
	if (sink_notice(&k->sink, k->err))
		warnx_("%s", k->err);
	/* After the sink's commit point (the file sink's manifest). */
	if (k->ck != NULL)
		commit = commit_batch(k, e.batch);
	if (k->progress_fd >= 0)
		report_progress(k, &e, add_batch, commit);
	progress_note(&k->progress, &e);
	k->in_batch = false;
	k->rows = 0;
}

/*
 * With @checkpoint in the header, join the run (before the sink touches
 * anything, checkpoint.h) to write commits.  The query id names the file
 * sink's part files, so it must be the one that survives restarts: the
 * checkpoint's; else the header's; else this run's own.
 */
static void
join_query(struct ssink *k, struct sink_options *o, char *own_id)
{
	const char *dir = schema_meta(&k->st.schema, "checkpoint");
	const char *run = schema_meta(&k->st.schema, "run");
	const char *retain = schema_meta(&k->st.schema, "retain");

	/* @run is what ssrc and the stages use (ckstage.h); checkpoint.h
	 * spoke of @run_id: take either. */
	if (run == NULL)
		run = schema_meta(&k->st.schema, "run_id");
	o->run_id = run ? run : "";
	o->query_id = schema_meta(&k->st.schema, "query");
	k->retain = CKPT_RETAIN_DEFAULT;
	if (retain != NULL) {
		char *end;
		long v = strtol(retain, &end, 10);

		if (*end != '\0' || v < 1 || v > 1000000)
			stage_die(&k->st, "header: bad @retain '%s'", retain);
		k->retain = (int)v;
	}
	k->next_batch = -1;
	o->replay_batch = -1;
	if (dir != NULL) {
		const char *replay = schema_meta(&k->st.schema, "replay");
		int64_t c;

		if ((k->ck = ckpt_join(dir, run, k->err)) == NULL)
			die(EXIT_RUNTIME, "%s", k->err);
		o->query_id = ckpt_query_id(k->ck);
		/* The stream resumes at C+1 (checkpoint.h). */
		if (ckpt_last_commit(k->ck, &c, NULL, k->err) < 0 ||
		    ckpt_read_commit_sink(k->ck, c, &k->resume, k->err) < 0)
			die(EXIT_RUNTIME, "%s", k->err);
		k->next_batch = c + 1;
		o->resume = k->resume;
		/* ssrc replays C+1 (it found the same C). */
		if (replay != NULL) {
			char *end;
			long long v = strtoll(replay, &end, 10);

			if (*end != '\0' || v != c + 1)
				stage_die(&k->st, "header: @replay=%s, but the "
				    "checkpoint's next batch is %lld", replay,
				    (long long)(c + 1));
			o->replay_batch = v;
		}
	}
	/* The Kafka sink's transactions are per query (see the top). */
	if (k->ck != NULL) {
		snprintf(k->txn_id, sizeof k->txn_id, "runnel-%s",
		    o->query_id);
		k->kafka.transactional_id = k->txn_id;
	}
	if (o->query_id == NULL) {
		if (uuid_random(own_id, k->err) < 0)
			die(EXIT_RUNTIME, "%s", k->err);
		o->query_id = own_id;
	}
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "header", no_argument, NULL, 'E' },
		{ "no-header", no_argument, NULL, 'H' },
		{ "partition-by", required_argument, NULL, 'P' },
		{ "progress", required_argument, NULL, 'R' },
		{ "num-rows", required_argument, NULL, 'n' },
		{ "no-truncate", no_argument, NULL, 'T' },
		{ "bootstrap-servers", required_argument, NULL, 'B' },
		{ "key", required_argument, NULL, 'K' },
		{ "value", required_argument, NULL, 'v' },
		{ "timeout", required_argument, NULL, 't' },
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
	const char *arg = "console", *format_arg = NULL;
	const char *given[SINK_NOPTS] = { 0 };
	const char **partition_by = NULL;
	char own_id[UUID_STRLEN];
	int header = -1;
	unsigned opts = 0;
	struct sigaction sa;
	int c;

	prog_init(argv[0]);
	argv[0] = (char *)prog_name();	/* getopt's messages name the command */
	kafka_conf_init(&k.kafka.conf);
	while ((c = getopt_long(argc, argv, "hX:", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format_arg = optarg;
			opts |= SINK_OPT_FORMAT;
			given[0] = "--format";
			break;
		case 'E':
		case 'H':
			header = c == 'E';
			opts |= SINK_OPT_HEADER;
			given[1] = c == 'E' ? "--header" : "--no-header";
			break;
		case 'P':
			partition_by = xrealloc(partition_by,
			    (o.npartition_by + 1) * sizeof *partition_by);
			partition_by[o.npartition_by++] = optarg;
			opts |= SINK_OPT_PARTITION_BY;
			given[4] = "--partition-by";
			break;
		case 'R':
			if (*optarg == '\0')
				die(EXIT_USAGE, "--progress: empty file name");
			k.progress_path = optarg;
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
		case 'B':
			k.kafka.conf.bootstrap = optarg;
			opts |= SINK_OPT_KAFKA;
			given[5] = "--bootstrap-servers";
			break;
		case 'K':
			k.kafka.key_field = optarg;
			opts |= SINK_OPT_KAFKA;
			given[5] = "--key";
			break;
		case 'v':
			k.kafka.value_field = optarg;
			opts |= SINK_OPT_KAFKA;
			given[5] = "--value";
			break;
		case 't': {
			int64_t us = option_duration("--timeout", optarg,
			    false);

			if (us < 1000 || us / 1000 > INT32_MAX)
				die(EXIT_USAGE, "--timeout: '%s': from 1ms to "
				    "24 days", optarg);
			k.kafka.conf.timeout_ms = (int)(us / 1000);
			opts |= SINK_OPT_KAFKA;
			given[5] = "--timeout";
			break;
		}
		case 'X':
			if (kafka_conf_is_list(optarg)) {
				kafka_conf_list(stdout);
				exit(EXIT_OK);
			}
			if (kafka_conf_add(&k.kafka.conf, optarg, k.err) < 0)
				die(EXIT_USAGE, "%s", k.err);
			opts |= SINK_OPT_KAFKA;
			given[5] = "-X";
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
	for (int bit = 0; bit < SINK_NOPTS; bit++)
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
	o.header = header < 0 ? type->header_default : header == 1;
	o.partition_by = partition_by;
	if (type == &sink_kafka) {
		/* Bad -X: librdkafka's message, before any input is read. */
		if (kafka_conf_check(&k.kafka.conf, k.err) < 0)
			die(EXIT_USAGE, "%s", k.err);
		sink_kafka_settings(&k.kafka);
	}

	/* SIGHUP (logrotate) reopens the --progress file instead of ending
	 * the query; the sinks' own files are opened per batch. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_hup;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);

	/* Open the input (its header gives the schema), then the sink. */
	stage_open_sink(&k.st);
	if (sink_check(type, &o, &k.st.schema, k.err) < 0)
		die(EXIT_USAGE, "%s", k.err);
	sb_init(&k.report);
	progress_init(&k.progress, &k.st.schema, arg);
	k.progress_fd = -1;
	if (k.progress_path != NULL && strcmp(k.progress_path, "-") == 0)
		k.progress_fd = STDERR_FILENO;
	open_progress(&k);
	join_query(&k, &o, own_id);

	/* From here stop requests are handled between batches (see
	 * wait_input); until the header came there was nothing to finish. */
	sigprocmask(SIG_SETMASK, NULL, &k.run_mask);
	sigdelset(&k.run_mask, SIGINT);
	sigdelset(&k.run_mask, SIGTERM);
	k.test_mask = k.run_mask;
	sigaddset(&k.test_mask, SIGINT);
	sigaddset(&k.test_mask, SIGTERM);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESTART;	/* a read or write goes on */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigprocmask(SIG_SETMASK, &k.run_mask, NULL);

	if (sink_open(&k.sink, type, &o, &k.st.schema, k.err) < 0)
		die(EXIT_RUNTIME, "%s", k.err);
	free(partition_by);	/* the sink copied what it keeps */

	for (;;) {
		bool final;

		if (!wait_input(&k))
			finish(&k, false);
		switch (stage_next(&k.st)) {
		case FRAME_DATA:
			if (!k.in_batch) {
				k.began = monotonic_micros();
				check(&k, sink_begin(&k.sink, k.next_batch,
				    k.err));
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

/* stage.c: the shared read-process-write loop helpers of every stage. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rtime.h"
#include "stage.h"

static pid_t console_pid = -1;

/* At exit: close our end so the console renderer sees the end, and wait
 * for it, so the shell prompt does not come back before the table. */
static void
wait_console(void)
{
	close(STDOUT_FILENO);
	if (console_pid > 0)
		waitpid(console_pid, NULL, 0);
}

/*
 * A person running "ssrc socket:9999 | ssplit | scount" at a terminal wants
 * the table, not frames (CLI.md: "shown as a table").  When stdout is a
 * terminal, put an ssink (console) between us and it: the ssink next to our
 * own executable if there is one, else the one in PATH.  RUNNEL_FRAMES=1
 * keeps raw frames on the terminal, for debugging.
 */
void
stage_render_if_terminal(void)
{
	char self[4096], sink[4200];
	ssize_t n;
	int fds[2];
	const char *env = getenv("RUNNEL_FRAMES");

	if (!isatty(STDOUT_FILENO) || (env && strcmp(env, "1") == 0))
		return;
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	snprintf(sink, sizeof sink, "ssink");
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(sink, sizeof sink, "%s/ssink", self);
			if (access(sink, X_OK) != 0)
				snprintf(sink, sizeof sink, "ssink");
		}
	}
	if (pipe(fds) < 0)
		return;
	fflush(stdout);
	console_pid = fork();
	if (console_pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if (console_pid == 0) {
		dup2(fds[0], STDIN_FILENO);
		close(fds[0]);
		close(fds[1]);
		execlp(sink, "ssink", (char *)NULL);
		fprintf(stderr, "%s: cannot run '%s' to show the table: %s\n",
		    prog_name(), sink, strerror(errno));
		_exit(127);
	}
	dup2(fds[1], STDOUT_FILENO);
	close(fds[0]);
	close(fds[1]);
	atexit(wait_console);
}

/*
 * The longest frame a stage accepts.  ssrc refuses input records longer
 * than --max-record-size (64 MiB unless @max_record in the header says
 * otherwise); escaping can double a record's bytes on the wire (a record
 * of TABs), and other fields (a timestamp, window bounds, a count) add a
 * little, so a frame may be twice the record plus some slack.  A stage
 * must never refuse what ssrc let through: that would be a failure
 * between stages, not bad input.
 */
static size_t
frame_limit(const struct schema *s)
{
	const char *m = schema_meta(s, "max_record");
	unsigned long long rec = FRAME_DEFAULT_MAX_LINE;

	if (m != NULL) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(m, &end, 10);
		if (errno == 0 && *end == '\0' && end != m && v > rec &&
		    v < SIZE_MAX / 4)
			rec = v;
	}
	return (size_t)(2 * rec + (1 << 20));
}

void
stage_open_sink(struct stage *st)
{
	memset(st, 0, sizeof *st);
	/* A closed downstream shows up as EPIPE from write(), handled in
	 * stage_flush(), instead of killing us before we can clean up. */
	signal(SIGPIPE, SIG_IGN);
	frame_reader_init(&st->in, STDIN_FILENO, "stdin");
	fw_init(&st->out, STDOUT_FILENO);
	record_init(&st->rec);
	if (frame_next(&st->in, &st->frame, st->err) < 0)
		die(EXIT_RUNTIME, "%s", st->err);
	if (st->frame.kind == FRAME_EOF)
		die(EXIT_RUNTIME, "stdin: no input (expected frames from "
		    "ssrc or another stage)");
	if (st->frame.kind != FRAME_HEADER)
		die(EXIT_RUNTIME, "stdin:1: expected a header frame, not '%.20s'"
		    " (is the input from ssrc?)", st->frame.text);
	if (header_decode(&st->frame, &st->schema, st->err) < 0)
		die(EXIT_RUNTIME, "stdin:1: bad header: %s", st->err);
	st->in.max_line = frame_limit(&st->schema);
}

void
stage_open(struct stage *st)
{
	stage_render_if_terminal();
	stage_open_sink(st);
}

void
stage_die(struct stage *st, const char *fmt, ...)
{
	char msg[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	die(EXIT_RUNTIME, "%s:%ld: %s", st->in.name, st->in.line, msg);
}

enum frame_kind
stage_next(struct stage *st)
{
	struct frame *f = &st->frame;

	if (frame_next(&st->in, f, st->err) < 0)
		die(EXIT_RUNTIME, "%s", st->err);
	switch (f->kind) {
	case FRAME_DATA:
		record_split(&st->rec, f->text, f->len);
		if (st->rec.nfields != st->schema.nfields)
			stage_die(st, "record has %zu fields, header says %zu",
			    st->rec.nfields, st->schema.nfields);
		break;
	case FRAME_HEADER:
		stage_die(st, "a second header frame");
	case FRAME_EOF:
		stage_flush(st);
		die(EXIT_RUNTIME, "stdin: input ended without an end-of-stream "
		    "frame (did the upstream stage fail?)");
	default:
		break;
	}
	return f->kind;
}

void
stage_flush(struct stage *st)
{
	if (fw_flush(&st->out) == 0)
		return;
	if (errno == EPIPE)
		exit(EXIT_OK);
	die(EXIT_RUNTIME, "write error on stdout: %s", strerror(errno));
}

void
stage_close(struct stage *st)
{
	stage_flush(st);
	fw_close(&st->out);
	frame_reader_free(&st->in);
	record_free(&st->rec);
	schema_free(&st->schema);
}

static volatile sig_atomic_t signals_seen;

/* First signal: noted (we go on to the end frame); second: default action. */
static void
on_signal(int sig)
{
	if (signals_seen++ > 0) {
		signal(sig, SIG_DFL);
		raise(sig);
	}
}

void
stage_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

void
usage_exit(const char *synopsis, int status)
{
	fprintf(status == 0 ? stdout : stderr, "usage: %s\n", synopsis);
	exit(status);
}

void
version_exit(void)
{
	printf("%s (runnel) %s\n", prog_name(), RUNNEL_VERSION);
	exit(EXIT_OK);
}

int64_t
option_duration(const char *opt, const char *value, bool allow_zero)
{
	char err[ERRBUF_SIZE];
	int64_t micros;

	if (duration_parse(value, &micros, err) < 0)
		die(EXIT_USAGE, "%s: %s", opt, err);
	if (micros == 0 && !allow_zero)
		die(EXIT_USAGE, "%s: '%s': must be greater than zero", opt,
		    value);
	return micros;
}

long long
option_count(const char *opt, const char *value)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(value, &end, 10);
	if (errno || *end != '\0' || end == value || n < 0)
		die(EXIT_USAGE, "%s: '%s' is not a non-negative number", opt,
		    value);
	return n;
}

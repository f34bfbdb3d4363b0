/*
 * stage.h: what every middle stage and the sink share: reading frames from
 * stdin, writing them to stdout, and the messages for broken input.
 *
 * The record contract (every stage follows it):
 *   1. read the header frame, check its fields, write the new header;
 *   2. for each data frame, process it and write zero or more frames;
 *   3. on an epoch frame (end of batch N), act per output mode, append the
 *      stage's counters to the epoch items, forward it and flush;
 *   4. forward watermark frames (a stage that owns state uses them);
 *   5. on \.x (end of stream) emit what "final" requires, forward it, exit 0;
 *   6. input that ends without \.x means the upstream stage died: exit 1
 *      without forwarding an end, so nothing downstream commits past it.
 * Frame text is valid until the next stage_next(); the stage owns nothing
 * it did not copy.
 */
#ifndef RUNNEL_STAGE_H
#define RUNNEL_STAGE_H

#include <stdbool.h>

#include "die.h"
#include "frame.h"
#include "schema.h"

struct stage {
	struct frame_reader in;
	struct frame_writer out;
	struct schema schema;	/* the input's schema, from its header */
	struct record rec;	/* the current data frame, split */
	struct frame frame;	/* the current frame */
	char err[ERRBUF_SIZE];
};

/* Open stdin/stdout and read the header; dies (exit 1) without one.
 * When stdout is a terminal, frames go through a console ssink first
 * (see stage_render_if_terminal). */
void stage_open(struct stage *st);
/* The same without the terminal rendering: for ssink itself. */
void stage_open_sink(struct stage *st);
/* When stdout is a terminal (and RUNNEL_FRAMES is not 1), start ssink as
 * a child reading our stdout, so a person sees Spark's table. */
void stage_render_if_terminal(void);
/* Next frame; data frames are split into st->rec and checked to have as
 * many fields as the schema.  Dies with stage/line on malformed input or
 * on end of input without an end-of-stream frame. */
enum frame_kind stage_next(struct stage *st);
/* Die (exit 1) naming the input line: "NAME: stdin:LINE: message". */
__attribute__((noreturn, format(printf, 2, 3)))
void stage_die(struct stage *st, const char *fmt, ...);
/* Flush stdout; a closed pipe exits quietly (0), another error dies. */
void stage_flush(struct stage *st);
void stage_close(struct stage *st);

/*
 * SIGINT/SIGTERM for a middle stage: it must not die before the batch in
 * flight reaches the sink.  The source finishes its batch and ends the
 * stream on the same signal (a terminal's ^C reaches the whole pipeline),
 * so the first signal is only noted and the stage goes on to the end
 * frame; a second one ends it at once.
 */
void stage_catch_signals(void);

/* Print usage (synopsis) and exit; status 0 to stdout, else to stderr. */
__attribute__((noreturn))
void usage_exit(const char *synopsis, int status);
/* Print "NAME version" and exit 0. */
__attribute__((noreturn))
void version_exit(void);

/* Parse a positive duration option or die with exit 2. */
int64_t option_duration(const char *opt, const char *value, bool allow_zero);
/* Parse a non-negative integer option or die with exit 2. */
long long option_count(const char *opt, const char *value);

#endif

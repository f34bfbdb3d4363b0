/*
 * tailer.h: follow a growing file as `tail -F` does, one complete line at
 * a time (the reading half of the `tail:PATH` source).
 *
 * Lines: a line is returned only once its newline has arrived; a partial
 * last line is held back until it is complete.  The newline is not part of
 * the line; a '\r' before it is (the caller decides).  The one exception is
 * the last line of a file that was rotated away: once the tailer has moved
 * on, that file is finished, so a last line without a newline is returned
 * as it is.  A line longer than max_line is an error, so that a binary file
 * cannot exhaust memory.
 *
 * Rotation, by rename (or delete) and create: PATH now names a new file.
 * The tailer keeps reading the old file, which the writer may still be
 * appending to until it reopens PATH, and switches only when the new file
 * is non-empty (the writer has moved on) and the old one has been read to
 * its end; the new file is then read from offset 0.  So with one writer,
 * no line is lost and none is read twice.  `tail -F` switches as soon as
 * the new file exists, which loses what the writer appends to the old file
 * before its reopen; waiting for the new file to have data is the fix.
 *
 * Copytruncate: the file shrank below the offset read: it is read again
 * from 0.  (What the writer appended between logrotate's copy and its
 * truncate is lost: that is inherent in copytruncate.)
 *
 * Missing: PATH (or its directory) need not exist; the tailer waits for it
 * and reads it from offset 0 when it appears.  A file that disappears
 * without a replacement is read to its end and the tailer keeps waiting.
 *
 * Position: tailer_position() is (device, inode, offset) just after the
 * last line returned, so a checkpoint can resume exactly there with
 * opts.resume: if PATH is still that inode the tailer seeks to the offset
 * (offset 0 if the file is now shorter: it was truncated); if PATH is
 * another file, the old inode is looked for in PATH's directory (where
 * logrotate leaves PATH.1) and read from the offset to its end first.
 *
 * Watching: inotify on PATH's directory (names created, renamed,
 * deleted) and on the files open (writes); polling every poll_us where
 * inotify is unavailable, where the directory does not exist yet, or when
 * forced (opts.force_poll, or RUNNEL_FORCE_POLL=1 in the environment).
 *
 * Limit: the tailer looks at PATH when it reaches the end of the file it
 * reads (and every MiB while far behind).  A reader more than a whole
 * rotation behind (PATH rotated twice before it looked) skips the file in
 * between, as `tail -F` does; logrotate's usual periods are far longer.
 *
 * Nothing here prints; errors return -1 and fill err (ERRBUF_SIZE bytes).
 */
#ifndef RUNNEL_TAILER_H
#define RUNNEL_TAILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tailer;

/* Where reading stands: the next byte to read as a line is at offset in
 * the file (dev, ino).  ino 0 means no file yet: start PATH from 0. */
struct tailer_pos {
	uint64_t dev, ino;
	int64_t offset;
};

struct tailer_opts {
	/* Where to start in a file that exists at open: its start (false,
	 * nothing is missed) or just after its last complete line (true, as
	 * `tail -n 0 -F`).  A file that appears later is read from 0. */
	bool from_end;
	const struct tailer_pos *resume;	/* overrides from_end; copied */
	bool force_poll;
	int64_t poll_us;	/* <= 0: 1 second */
	size_t max_line;	/* 0: 64 MiB */
};

/* Start following path (opts may be NULL).  The file need not exist yet.
 * Returns NULL with err when path is empty or names a directory, or an
 * existing file cannot be opened. */
struct tailer *tailer_open(const char *path, const struct tailer_opts *opts,
    char *err);
void tailer_close(struct tailer *t);

/* Next complete line, without blocking.  Returns 1 with *line and *len
 * (the line is not NUL-terminated and stays valid until the next call on
 * t), 0 when no complete line is there now, or -1 with err (a read error,
 * a line longer than max_line, an open that failed other than "missing"). */
int tailer_next(struct tailer *t, const char **line, size_t *len, char *err);

/* Block until tailer_next() has a line or timeout_us passes (-1: no
 * limit).  Returns 1 when a line is ready, 0 on timeout or when a signal
 * interrupted the wait, -1 with err. */
int tailer_wait(struct tailer *t, int64_t timeout_us, char *err);

/* The inotify descriptor to poll(2) for POLLIN, or -1 when polling. */
int tailer_fd(const struct tailer *t);
bool tailer_polling(const struct tailer *t);
/* Microseconds after which tailer_next() should be tried even without
 * fd activity (polling), or -1 if only the fd can bring news. */
int64_t tailer_timeout(const struct tailer *t);

/* The position after the last line returned (see above). */
void tailer_position(const struct tailer *t, struct tailer_pos *pos);

#endif

/*
 * wakeup.h: one descriptor to poll(2) for a source that waits on an
 * inotify descriptor, a timer, or both (dirwatch and tailer sources).
 *
 * ssrc polls a single s->fd.  A watched directory or followed file
 * needs more: inotify events, and a timer for polling (no inotify, or a
 * directory that does not exist yet) or for a file that must settle.  An
 * epoll instance holding the inotify fd and a timerfd is that one
 * descriptor: readable when either is.  Level-triggered, so nothing is
 * lost between a poll and a read: the owner drains the inotify fd itself
 * (dirwatch_update(), tailer_next()) and calls wakeup_clear() for the
 * timer, then wakeup_arm() with its next timeout.
 */
#ifndef RUNNEL_WAKEUP_H
#define RUNNEL_WAKEUP_H

#include <stdint.h>

struct wakeup {
	int epfd;	/* poll this */
	int timerfd;
};

/* watch_fd: an fd to include (not owned), or -1.  Returns 0 or -1 with
 * err; w is then safe to close either way. */
int wakeup_open(struct wakeup *w, int watch_fd, char *err);
/* Make the fd readable after timeout_us (0: at once), or never (-1). */
void wakeup_arm(struct wakeup *w, int64_t timeout_us);
/* Forget timer expiries seen so far. */
void wakeup_clear(struct wakeup *w);
void wakeup_close(struct wakeup *w);

#endif

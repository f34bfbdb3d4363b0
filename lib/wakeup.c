/* wakeup.c: an epoll fd over an inotify fd and a timerfd (see wakeup.h). */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "die.h"
#include "wakeup.h"

int
wakeup_open(struct wakeup *w, int watch_fd, char *err)
{
	struct epoll_event ev = { .events = EPOLLIN };

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK |
	    TFD_CLOEXEC);
	if (w->epfd < 0 || w->timerfd < 0)
		return seterr(err, "cannot make a wait descriptor: %s",
		    strerror(errno));
	ev.data.fd = w->timerfd;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->timerfd, &ev) != 0)
		return seterr(err, "epoll: %s", strerror(errno));
	if (watch_fd >= 0) {
		ev.data.fd = watch_fd;
		if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, watch_fd, &ev) != 0)
			return seterr(err, "epoll: %s", strerror(errno));
	}
	return 0;
}

void
wakeup_arm(struct wakeup *w, int64_t timeout_us)
{
	struct itimerspec its;

	memset(&its, 0, sizeof its);
	if (timeout_us >= 0) {
		if (timeout_us == 0)
			timeout_us = 1;	/* zero would disarm */
		its.it_value.tv_sec = (time_t)(timeout_us / 1000000);
		its.it_value.tv_nsec = (long)(timeout_us % 1000000) * 1000;
	}
	timerfd_settime(w->timerfd, 0, &its, NULL);
}

void
wakeup_clear(struct wakeup *w)
{
	uint64_t n;

	while (read(w->timerfd, &n, sizeof n) == (ssize_t)sizeof n)
		continue;
}

void
wakeup_close(struct wakeup *w)
{
	if (w->timerfd >= 0)
		close(w->timerfd);
	if (w->epfd >= 0)
		close(w->epfd);
	w->timerfd = w->epfd = -1;
}

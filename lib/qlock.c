/* qlock.c: the run lock and the stage lock of a checkpoint.  See qlock.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "die.h"
#include "qlock.h"
#include "strbuf.h"

#define RUN_LOCK	".lock"
#define STAGE_LOCK	".lock-stages"

void
qlock_init(struct qlock *q)
{
	q->run_fd = q->stage_fd = -1;
}

void
qlock_release(struct qlock *q)
{
	/* Closing the last descriptor drops the flock; no explicit LOCK_UN
	 * needed, and the files stay (see qlock.h). */
	if (q->run_fd >= 0)
		close(q->run_fd);
	if (q->stage_fd >= 0)
		close(q->stage_fd);
	qlock_init(q);
}

static int
open_lock(const char *dir, const char *name, char *err)
{
	struct strbuf path;
	int fd;

	sb_init(&path);
	sb_addf(&path, "%s/%s", dir, name);
	fd = open(path.buf, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0 && errno == ELOOP)
		seterr(err, "'%s': is a symbolic link (refusing to follow it)",
		    path.buf);
	else if (fd < 0)
		seterr(err, "cannot open '%s': %s", path.buf, strerror(errno));
	sb_free(&path);
	return fd;
}

/*
 * Which other process holds a flock on fd's file, from /proc/locks: the
 * kernel's answer, right even in the instant between a holder's flock()
 * and its writing its pid.  0 when unknown (no /proc, or the holder just
 * left).
 */
static pid_t
proc_locks_holder(int fd)
{
	char line[256];
	struct stat st;
	pid_t found = 0;
	FILE *f;

	if (fstat(fd, &st) < 0 || (f = fopen("/proc/locks", "re")) == NULL)
		return 0;
	while (found == 0 && fgets(line, sizeof line, f) != NULL) {
		char type[16], mode[16], rw[16];
		unsigned maj, mnr;
		unsigned long ino;
		long pid;

		/* "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF"; lines
		 * of blocked waiters have "->" after the number: skipped. */
		if (sscanf(line, "%*d: %15s %15s %15s %ld %x:%x:%lu", type,
		    mode, rw, &pid, &maj, &mnr, &ino) != 7)
			continue;
		if (strcmp(type, "FLOCK") == 0 && maj == major(st.st_dev) &&
		    mnr == minor(st.st_dev) &&
		    ino == (unsigned long)st.st_ino && pid != (long)getpid())
			found = (pid_t)pid;
	}
	fclose(f);
	return found;
}

/* Read the first line of DIR/.lock into buf (NUL-terminated, no newline). */
static void
read_run_line(const char *dir, char *buf, size_t size)
{
	struct strbuf path;
	ssize_t n = -1;
	int fd;

	sb_init(&path);
	sb_addf(&path, "%s/%s", dir, RUN_LOCK);
	fd = open(path.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		n = pread(fd, buf, size - 1, 0);
		close(fd);
	}
	sb_free(&path);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

pid_t
qlock_holder(const char *dir)
{
	char line[128];
	long pid;

	read_run_line(dir, line, sizeof line);
	if (sscanf(line, "pid=%ld", &pid) != 1 || pid <= 0)
		return 0;
	return (pid_t)pid;
}

static int
in_use(const char *dir, pid_t pid, char *err)
{
	if (pid > 0)
		return seterr(err, "checkpoint '%s' is in use by pid %ld (use "
		    "--wait to queue)", dir, (long)pid);
	return seterr(err, "checkpoint '%s' is in use (use --wait to queue)",
	    dir);
}

/* flock, failing with errno EWOULDBLOCK (no wait) or EINTR (wait). */
static int
lock_fd(int fd, int op, int wait)
{
	return flock(fd, op | (wait ? 0 : LOCK_NB));
}

int
qlock_run(struct qlock *q, const char *dir, const char *run_id, int wait,
    char *err)
{
	char line[128];
	int fd, sfd, n;

	fd = open_lock(dir, RUN_LOCK, err);
	if (fd < 0)
		return -1;
	if (lock_fd(fd, LOCK_EX, wait) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK) {
			pid_t pid = proc_locks_holder(fd);

			in_use(dir, pid ? pid : qlock_holder(dir), err);
		} else if (e == EINTR) {
			seterr(err, "interrupted while waiting for checkpoint "
			    "'%s'", dir);
		} else {
			seterr(err, "cannot lock '%s/%s': %s", dir, RUN_LOCK,
			    strerror(e));
		}
		close(fd);
		errno = e;
		return -1;
	}
	/* Step 2 of qlock.h: name ourselves before looking for stages of
	 * the previous run.  Write, then cut: a concurrent reader sees our
	 * line, or a mix that matches no run id (and so gives up: safe). */
	n = snprintf(line, sizeof line, "pid=%ld run=%s\n", (long)getpid(),
	    run_id);
	if (n < 0 || (size_t)n >= sizeof line ||
	    pwrite(fd, line, (size_t)n, 0) != n || ftruncate(fd, n) < 0) {
		int e = errno;

		seterr(err, "cannot write '%s/%s': %s", dir, RUN_LOCK,
		    strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	sfd = open_lock(dir, STAGE_LOCK, err);
	if (sfd < 0) {
		close(fd);
		return -1;
	}
	if (lock_fd(sfd, LOCK_EX, wait) < 0) {
		int e = errno;

		if (e == EWOULDBLOCK)
			in_use(dir, proc_locks_holder(sfd), err);
		else if (e == EINTR)
			seterr(err, "interrupted while waiting for checkpoint "
			    "'%s'", dir);
		else
			seterr(err, "cannot lock '%s/%s': %s", dir, STAGE_LOCK,
			    strerror(e));
		close(sfd);
		close(fd);
		errno = e;
		return -1;
	}
	close(sfd);		/* step 4: our own stages may join now */
	q->run_fd = fd;
	return 0;
}

int
qlock_join(struct qlock *q, const char *dir, const char *run_id, char *err)
{
	char line[128];
	const char *run;
	int sfd;

	sfd = open_lock(dir, STAGE_LOCK, err);
	if (sfd < 0)
		return -1;
	/* This can only wait for a starting ssrc's steps 3-4: short. */
	while (flock(sfd, LOCK_SH) < 0) {
		if (errno != EINTR) {
			int e = errno;

			seterr(err, "cannot lock '%s/%s': %s", dir, STAGE_LOCK,
			    strerror(e));
			close(sfd);
			errno = e;
			return -1;
		}
	}
	read_run_line(dir, line, sizeof line);
	run = strstr(line, " run=");
	if (run == NULL || strcmp(run + 5, run_id) != 0) {
		pid_t pid = qlock_holder(dir);

		close(sfd);
		if (pid > 0)
			return seterr(err, "checkpoint '%s' was taken over by "
			    "another run (pid %ld)", dir, (long)pid);
		return seterr(err, "checkpoint '%s' was taken over by another "
		    "run", dir);
	}
	q->stage_fd = sfd;
	return 0;
}

/*
 * Unit tests for lib/tailer.c: appended lines, a partial line held back,
 * rotation by rename (lines written to the old file after the rename are
 * not lost, none is doubled), copytruncate, delete and recreate, a file
 * and a directory that appear later, from-end start, resume from a
 * position (same file, rotated while away, truncated while away), long
 * lines, and a writer process rotating quickly while the reader checks
 * every line number.  Each scenario runs with inotify and with polling
 * (RUNNEL_FORCE_POLL=1).  Every wait loops on a condition with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "tailer.h"
#include "unit.h"

#define DEADLINE_US	(20 * INT64_C(1000000))

static char root[64];
static const char *mode = "inotify";
static const struct tailer_opts fast = { .poll_us = 20000 };

static const char *
at(const char *name)
{
	static char buf[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", root, name);
	return buf[i];
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void
fresh_dir(void)
{
	if (root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	strcpy(root, "/tmp/runnel-tailer-XXXXXX");
	if (mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
}

static void
say(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! write: %s\n", strerror(errno));
		exit(1);
	}
}

static int
append_to(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	say(fd, text);
	close(fd);
}

static void
check(bool ok, const char *what)
{
	char msg[256];

	snprintf(msg, sizeof msg, "%s: %s", mode, what);
	CHECK(ok, msg);
}

/* The next line within the deadline, as a string ("<timeout>", "<error>"
 * otherwise). */
static const char *
next(struct tailer *t)
{
	static char buf[1 << 20];
	char err[ERRBUF_SIZE];
	const char *line;
	size_t len;
	int r = tailer_wait(t, DEADLINE_US, err);

	if (r < 0) {
		printf("# %s\n", err);
		return "<error>";
	}
	if (r == 0)
		return "<timeout>";
	if (tailer_next(t, &line, &len, err) != 1)
		return "<lost>";
	if (len >= sizeof buf)
		len = sizeof buf - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	return buf;
}

/* No complete line now, nor within a short wait. */
static bool
quiet(struct tailer *t)
{
	char err[ERRBUF_SIZE];
	const char *line;
	size_t len;

	return tailer_next(t, &line, &len, err) == 0 &&
	    tailer_wait(t, 100000, err) == 0;
}

static bool
is(const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return true;
	printf("#   got '%s', want '%s'\n", got, want);
	return false;
}

static void
test_append_and_partial(void)
{
	char err[ERRBUF_SIZE];
	struct tailer *t;
	struct tailer_pos pos;
	struct stat st;
	int fd;

	fresh_dir();
	t = tailer_open(at("log"), &fast, err);
	check(t != NULL, "open a file that does not exist yet");
	check(tailer_polling(t) == (tailer_fd(t) < 0), "fd -1 iff polling");
	check(quiet(t), "nothing to read while it is missing");
	tailer_position(t, &pos);
	check(pos.ino == 0 && pos.offset == 0, "no position yet");

	fd = append_to(at("log"));
	say(fd, "a\nb\n");
	check(is(next(t), "a"), "the file appears: first line");
	check(is(next(t), "b"), "second line");
	fstat(fd, &st);
	tailer_position(t, &pos);
	check(pos.ino == st.st_ino && pos.offset == 4,
	    "position: inode and offset after the last line");
	say(fd, "par");
	check(quiet(t), "a partial line is held back");
	tailer_position(t, &pos);
	check(pos.offset == 4, "... and is not in the position");
	say(fd, "tial\n");
	check(is(next(t), "partial"), "the line once its newline arrives");
	say(fd, "\n\n");
	check(is(next(t), ""), "empty lines are lines");
	check(is(next(t), ""), "... each of them");
	close(fd);
	tailer_close(t);
}

static void
test_rotation(void)
{
	char err[ERRBUF_SIZE];
	struct tailer *t;
	struct tailer_pos pos;
	struct stat st;
	int old, new;

	fresh_dir();
	old = append_to(at("log"));
	say(old, "old1\n");
	t = tailer_open(at("log"), &fast, err);
	check(is(next(t), "old1"), "read the first file");
	/* logrotate's create mode: rename, create empty, the daemon goes on
	 * writing to the old file until it reopens */
	say(old, "old2\n");
	rename(at("log"), at("log.1"));
	put(at("log"), "");
	check(is(next(t), "old2"), "a line written before the rename");
	say(old, "old3\n");
	check(is(next(t), "old3"), "a line written to the old file after "
	    "the rename and create");
	say(old, "oldtail");
	check(quiet(t), "still on the old file while the new one is empty");
	new = append_to(at("log"));
	say(new, "new1\n");
	check(is(next(t), "oldtail"), "the old file's unterminated last line, "
	    "once the writer moved on");
	check(is(next(t), "new1"), "then the new file from its start");
	say(new, "new2\n");
	check(is(next(t), "new2"), "and on");
	check(quiet(t), "nothing doubled");
	fstat(new, &st);
	tailer_position(t, &pos);
	check(pos.ino == st.st_ino && pos.offset == 10,
	    "the position is in the new file");
	close(old);

	/* delete and recreate */
	unlink(at("log"));
	say(new, "after-unlink\n");
	check(is(next(t), "after-unlink"), "a deleted file is read to its end");
	close(new);
	new = append_to(at("log"));
	say(new, "recreated\n");
	check(is(next(t), "recreated"), "then the file created in its place");
	close(new);
	tailer_close(t);
}

static void
test_copytruncate(void)
{
	char err[ERRBUF_SIZE];
	struct tailer *t;
	int fd;

	fresh_dir();
	fd = append_to(at("log"));
	say(fd, "line-one\nline-two\n");
	t = tailer_open(at("log"), &fast, err);
	check(is(next(t), "line-one") && is(next(t), "line-two"),
	    "read before the truncate");
	check(quiet(t), "at the end");
	/* logrotate copytruncate: copy, then truncate in place; the writer
	 * (O_APPEND) goes on at the new end */
	ftruncate(fd, 0);
	say(fd, "after\n");
	check(is(next(t), "after"), "copytruncate: read again from 0");
	check(quiet(t), "nothing doubled");
	close(fd);
	tailer_close(t);
}

static void
test_missing_dir(void)
{
	char err[ERRBUF_SIZE];
	struct tailer *t;

	fresh_dir();
	t = tailer_open(at("sub/dir/log"), &fast, err);
	check(t != NULL, "open under a directory that does not exist");
	check(quiet(t), "nothing yet");
	mkdir(at("sub"), 0755);
	mkdir(at("sub/dir"), 0755);
	put(at("sub/dir/log"), "hello\n");
	check(is(next(t), "hello"), "the directory and file appear later");
	tailer_close(t);
}

static void
test_from_end_and_resume(void)
{
	char err[ERRBUF_SIZE];
	struct tailer *t;
	struct tailer_opts o = fast;
	struct tailer_pos pos;
	int fd;

	fresh_dir();
	fd = append_to(at("log"));
	say(fd, "x\ny\npart");
	o.from_end = true;
	t = tailer_open(at("log"), &o, err);
	check(quiet(t), "from the end: old lines are skipped");
	say(fd, "ial\nz\n");
	check(is(next(t), "partial"), "from the end of the last complete line");
	check(is(next(t), "z"), "and on");
	tailer_close(t);

	/* resume in the same file */
	t = tailer_open(at("log"), &fast, err);
	check(is(next(t), "x") && is(next(t), "y"), "read two lines");
	tailer_position(t, &pos);
	tailer_close(t);
	o = fast;
	o.resume = &pos;
	t = tailer_open(at("log"), &o, err);
	check(is(next(t), "partial"), "resume: the line after the position");
	tailer_position(t, &pos);
	tailer_close(t);

	/* rotated while away: the rest of the old file, then the new one */
	rename(at("log"), at("log.1"));
	close(fd);
	fd = append_to(at("log"));
	say(fd, "n1\n");
	t = tailer_open(at("log"), &o, err);
	check(is(next(t), "z"), "resume after a rotation: the rest of the old "
	    "file, found by its inode");
	check(is(next(t), "n1"), "then the new file");
	check(quiet(t), "nothing doubled");
	tailer_position(t, &pos);
	tailer_close(t);

	/* truncated while away */
	ftruncate(fd, 0);
	say(fd, "t\n");
	t = tailer_open(at("log"), &o, err);
	check(is(next(t), "t"), "resume in a file now shorter: from 0");
	tailer_close(t);

	/* the old file is gone: the new one from its start */
	tailer_position(t = tailer_open(at("log"), &fast, err), &pos);
	tailer_close(t);
	pos.ino += 1000000;
	t = tailer_open(at("log"), &o, err);
	check(is(next(t), "t"), "resume when the old file is gone: from 0");
	tailer_close(t);
	close(fd);
}

static void
test_long_lines(void)
{
	char err[ERRBUF_SIZE];
	struct tailer *t;
	struct tailer_opts o = fast;
	const char *line;
	size_t len, n = 300000;
	char *big = xmalloc(n + 2);
	int fd;

	fresh_dir();
	memset(big, 'q', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	fd = append_to(at("log"));
	say(fd, "short\n");
	say(fd, big);
	say(fd, "end\n");
	t = tailer_open(at("log"), &o, err);
	check(is(next(t), "short"), "a short line");
	check(tailer_wait(t, DEADLINE_US, err) == 1 &&
	    tailer_next(t, &line, &len, err) == 1 && len == n &&
	    line[0] == 'q' && line[n - 1] == 'q', "a line of 300000 bytes");
	check(is(next(t), "end"), "the line after it");
	tailer_close(t);

	o.max_line = 1000;
	t = tailer_open(at("log"), &o, err);
	check(is(next(t), "short"), "with max_line 1000");
	check(tailer_wait(t, DEADLINE_US, err) < 0 &&
	    strstr(err, "longer than 1000") && strstr(err, "log"),
	    "a longer line is an error naming the file");
	printf("# %s\n", err);
	tailer_close(t);
	close(fd);
	free(big);

	t = tailer_open(root, &fast, err);
	check(t == NULL && strstr(err, "is a directory"),
	    "a directory is refused");
}

/*
 * A writer process appends numbered lines and rotates every 500 lines as
 * logrotate's create mode and a daemon do: rename, create empty, 3 more
 * lines to the old file, reopen.  The reader must see 0..N-1 in order.
 * The one thing the writer waits for is the reader's contract: before
 * rotating a file away, the reader has reached it (a reader more than a
 * whole rotation behind loses the files in between, as tail -F does).
 */
static void
test_stress(void)
{
	enum { N = 20000, EVERY = 500 };
	char err[ERRBUF_SIZE], buf[64];
	struct tailer *t;
	long want = 0;
	bool ok = true;
	pid_t pid;
	int status, sync[2];

	fresh_dir();
	put(at("log"), "");
	t = tailer_open(at("log"), &fast, err);
	fflush(stdout);
	if (pipe(sync) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		int fd = append_to(at("log")), k = 0;

		close(sync[1]);
		for (int i = 0; i < N; i++) {
			snprintf(buf, sizeof buf, "%d\n", i);
			say(fd, buf);
			if (i % EVERY == EVERY - 4) {
				if (++k > 1 && read(sync[0], buf, 1) != 1)
					_exit(1);
				snprintf(buf, sizeof buf, "log.%d", k);
				rename(at("log"), at(buf));
				close(open(at("log"), O_WRONLY | O_CREAT,
				    0644));
			} else if (i % EVERY == EVERY - 1) {
				close(fd);
				fd = append_to(at("log"));
			}
		}
		close(fd);
		_exit(0);
	}
	close(sync[0]);
	while (want < N) {
		const char *got = next(t);
		char *end;
		long v = strtol(got, &end, 10);

		if (*end != '\0' || v != want) {
			printf("#   line %ld: got '%s'\n", want, got);
			ok = false;
			break;
		}
		if (v > 0 && v % EVERY == 0 && write(sync[1], "+", 1) != 1)
			break;
		want++;
	}
	if (!ok)
		kill(pid, SIGKILL);
	close(sync[1]);
	waitpid(pid, &status, 0);
	check(ok && want == N, "20000 lines across 40 rotations with writes "
	    "to the old file after each: each line once, in order");
	check(quiet(t), "nothing after the last");
	tailer_close(t);
}

static void
run_all(void)
{
	test_append_and_partial();
	test_rotation();
	test_copytruncate();
	test_missing_dir();
	test_from_end_and_resume();
	test_long_lines();
	test_stress();
}

int
main(void)
{
	run_all();
	mode = "poll";
	setenv("RUNNEL_FORCE_POLL", "1", 1);
	run_all();
	unsetenv("RUNNEL_FORCE_POLL");
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}

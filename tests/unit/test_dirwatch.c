/*
 * Unit tests for lib/dirwatch.c: listing order, ignored names, pattern,
 * taken-once, files that appear by rename or by a write in two steps, a
 * rescan after a real inotify queue overflow, polling (forced through
 * RUNNEL_FORCE_POLL=1), and --clean-source.  Every wait is a loop on a
 * condition with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "die.h"
#include "dirwatch.h"
#include "unit.h"

#define DEADLINE_US	(20 * INT64_C(1000000))

static char root[64];

static const char *
at(const char *name)
{
	static char buf[4][PATH_MAX];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%s", root, name);
	return buf[i];
}

static void
put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
	close(fd);
}

static void
set_mtime(const char *path, time_t sec)
{
	struct timespec ts[2] = { { sec, 0 }, { sec, 0 } };

	utimensat(AT_FDCWD, path, ts, 0);
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
	strcpy(root, "/tmp/runnel-dirwatch-XXXXXX");
	if (mkdtemp(root) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		exit(1);
	}
}

/* The names in l, space-separated. */
static const char *
names(const struct dirwatch_list *l)
{
	static char buf[4096];

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			strcat(buf, " ");
		strncat(buf, l->file[i].name, sizeof buf - strlen(buf) - 2);
	}
	return buf;
}

/* Wait until at least n files are ready; returns the number ready. */
static size_t
wait_ready(struct dirwatch *dw, size_t n)
{
	char err[ERRBUF_SIZE];
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		int64_t left;

		if (dirwatch_update(dw, err) < 0) {
			printf("# %s\n", err);
			return 0;
		}
		if (dirwatch_ready(dw) >= n)
			return dirwatch_ready(dw);
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = DEADLINE_US - ((t.tv_sec - t0.tv_sec) * 1000000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000);
		if (left <= 0)
			return dirwatch_ready(dw);
		if (dirwatch_wait(dw, left, err) < 0) {
			printf("# %s\n", err);
			return 0;
		}
	}
}

static void
test_open_errors(void)
{
	char err[ERRBUF_SIZE] = "";
	struct dirwatch *dw;

	fresh_dir();
	dw = dirwatch_open(at("missing"), NULL, err);
	CHECK(dw == NULL, "a missing directory is an error");
	CHECK(strstr(err, at("missing")) && strstr(err, "No such file"),
	    "the message names the missing directory");
	printf("# %s\n", err);
	put(at("plain"), "x\n");
	dw = dirwatch_open(at("plain"), NULL, err);
	CHECK(dw == NULL && strstr(err, "is not a directory"),
	    "a file is not a directory");
	dw = dirwatch_open(root, &(struct dirwatch_opts){ .pattern = "" },
	    err);
	CHECK(dw == NULL, "an empty pattern is refused");
}

static void
test_listing(void)
{
	char err[ERRBUF_SIZE];
	struct dirwatch *dw;
	struct dirwatch_list l;

	fresh_dir();
	put(at("a.csv"), "a\n");
	put(at("b.csv"), "bb\n");
	put(at("c.txt"), "c\n");
	put(at("y.csv"), "y\n");
	put(at("x.csv"), "x\n");
	set_mtime(at("a.csv"), 3000);
	set_mtime(at("b.csv"), 1000);
	set_mtime(at("c.txt"), 2000);
	set_mtime(at("x.csv"), 4000);
	set_mtime(at("y.csv"), 4000);
	put(at(".hidden"), "h\n");
	put(at("_SUCCESS"), "");
	put(at("part-0._COPYING_"), "p\n");
	mkdir(at("sub"), 0755);
	put(at("sub/inner.csv"), "i\n");
	symlink(at("b.csv"), at("link.csv"));
	set_mtime(at("link.csv"), 5000);	/* follows: sets b.csv */
	set_mtime(at("b.csv"), 1000);

	dirwatch_list_init(&l);
	dw = dirwatch_open(root, NULL, err);
	CHECK(dw != NULL, "open a directory");
	CHECK(dirwatch_ready(dw) == 6, "the files there at open are ready");
	CHECK(dirwatch_next(dw, 0, &l) == 6, "all of them at once");
	CHECK_STR(names(&l), "b.csv link.csv c.txt a.csv x.csv y.csv",
	    "oldest first, ties by name; dot, underscore, _COPYING_ and "
	    "subdirectory ignored; a symlink counts");
	CHECK_STR(l.file[0].path, at("b.csv"), "path is DIR/name");
	CHECK(l.file[0].size == 3 && l.file[0].mtime_ns ==
	    INT64_C(1000) * 1000000000, "size and mtime");
	CHECK(dirwatch_next(dw, 0, &l) == 0 && l.n == 0,
	    "nothing is handed out twice");
	CHECK(dirwatch_update(dw, err) == 0, "update finds nothing new");
	dirwatch_close(dw);

	dw = dirwatch_open(root, &(struct dirwatch_opts){
	    .latest_first = true }, err);
	dirwatch_next(dw, 0, &l);
	CHECK_STR(names(&l), "x.csv y.csv a.csv c.txt b.csv link.csv",
	    "latest first: newest first, ties by name");
	dirwatch_close(dw);

	dw = dirwatch_open(root, &(struct dirwatch_opts){ .pattern = "*.csv" },
	    err);
	CHECK(dirwatch_next(dw, 2, &l) == 2, "max 2: two files");
	CHECK_STR(names(&l), "b.csv link.csv", "the two oldest");
	dirwatch_next(dw, 2, &l);
	CHECK_STR(names(&l), "a.csv x.csv", "then the next two");
	dirwatch_next(dw, 2, &l);
	CHECK_STR(names(&l), "y.csv", "then the rest; the pattern drops "
	    "c.txt");
	CHECK(dirwatch_next(dw, 2, &l) == 0, "then none");
	dirwatch_close(dw);

	dw = dirwatch_open(root, NULL, err);
	dirwatch_mark_taken(dw, "a.csv");
	dirwatch_mark_taken(dw, "b.csv");
	dirwatch_mark_taken(dw, "never-seen.csv");
	CHECK(dirwatch_ready(dw) == 4, "files marked taken are not ready");
	dirwatch_next(dw, 0, &l);
	CHECK_STR(names(&l), "link.csv c.txt x.csv y.csv",
	    "a checkpoint's taken files are skipped");
	dirwatch_close(dw);
	CHECK_STR(l.file[0].name, "link.csv", "a list outlives its watch");
	dirwatch_list_free(&l);
}

/* The same scenario with inotify and with polling. */
static void
test_watch(bool poll)
{
	char err[ERRBUF_SIZE], msg[128];
	const char *mode = poll ? "poll" : "inotify";
	struct dirwatch_opts o = { .poll_us = 100000, .settle_us = 2000000 };
	struct dirwatch *dw;
	struct dirwatch_list l;
	int fd;

	fresh_dir();
	if (poll)
		setenv("RUNNEL_FORCE_POLL", "1", 1);
	dirwatch_list_init(&l);
	dw = dirwatch_open(root, &o, err);
	unsetenv("RUNNEL_FORCE_POLL");
	snprintf(msg, sizeof msg, "%s: open an empty directory", mode);
	CHECK(dw && dirwatch_ready(dw) == 0, msg);
	snprintf(msg, sizeof msg, "%s: the mode is as asked", mode);
	CHECK(dirwatch_polling(dw) == poll && (dirwatch_fd(dw) < 0) == poll,
	    msg);

	/* Rename into place: written under a dot-name, seen whole. */
	put(at(".r1.tmp"), "one\ntwo\nthree\n");
	set_mtime(at(".r1.tmp"), 1000);	/* old: polling need not settle */
	rename(at(".r1.tmp"), at("r1.csv"));
	snprintf(msg, sizeof msg, "%s: a file renamed into place is seen",
	    mode);
	CHECK(wait_ready(dw, 1) == 1, msg);
	dirwatch_next(dw, 0, &l);
	snprintf(msg, sizeof msg, "%s: ... whole", mode);
	CHECK(l.n == 1 && strcmp(l.file[0].name, "r1.csv") == 0 &&
	    l.file[0].size == 14, msg);

	/* Written in two steps: not before it is complete. */
	fd = open(at("w1.csv"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
	CHECK(write(fd, "first half\n", 11) == 11, "write part 1");
	snprintf(msg, sizeof msg, "%s: a file being written is not taken",
	    mode);
	CHECK(dirwatch_wait(dw, 300000, err) == 0 && dirwatch_ready(dw) == 0,
	    msg);
	CHECK(write(fd, "second half\n", 12) == 12, "write part 2");
	close(fd);
	snprintf(msg, sizeof msg, "%s: ... and is taken once closed", mode);
	CHECK(wait_ready(dw, 1) == 1, msg);
	dirwatch_next(dw, 0, &l);
	snprintf(msg, sizeof msg, "%s: ... with both parts", mode);
	CHECK(l.n == 1 && strcmp(l.file[0].name, "w1.csv") == 0 &&
	    l.file[0].size == 23, msg);

	/* A ready file deleted before it is taken is forgotten; a taken
	 * name rewritten is not taken again; a subdirectory is not read. */
	put(at("gone.csv"), "g\n");
	set_mtime(at("gone.csv"), 1000);
	wait_ready(dw, 1);
	unlink(at("gone.csv"));
	put(at("r1.csv"), "rewritten\n");
	set_mtime(at("r1.csv"), 1000);
	mkdir(at("sub"), 0755);
	put(at("sub/deep.csv"), "d\n");
	put(at("z1.csv"), "z\n");	/* the barrier: after all of that */
	set_mtime(at("z1.csv"), 1000);
	put(at("z2.csv"), "z\n");
	set_mtime(at("z2.csv"), 1000);
	wait_ready(dw, 2);
	dirwatch_next(dw, 0, &l);
	snprintf(msg, sizeof msg, "%s: deleted, rewritten and nested files "
	    "are not handed out", mode);
	CHECK_STR(names(&l), "z1.csv z2.csv", msg);
	dirwatch_close(dw);
	dirwatch_list_free(&l);
}

/* Flood the inotify queue until it overflows; the rescan must find every
 * file once. */
static void
test_overflow(void)
{
	char err[ERRBUF_SIZE], name[64];
	struct dirwatch_opts o = { .poll_us = 100000, .settle_us = 200000 };
	struct dirwatch *dw;
	struct dirwatch_list l;
	long max = 16384, n, got = 0, dup = 0;
	FILE *f = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	char *seen;

	if (f) {
		if (fscanf(f, "%ld", &max) != 1)
			max = 16384;
		fclose(f);
	}
	if (max > 100000) {
		printf("# max_queued_events is %ld\n", max);
		CHECK(1, "overflow # skip the queue is too long to fill");
		return;
	}
	n = max / 2 + 100;	/* IN_CREATE + IN_CLOSE_WRITE each */
	fresh_dir();
	dirwatch_list_init(&l);
	dw = dirwatch_open(root, &o, err);
	if (dirwatch_polling(dw)) {
		CHECK(1, "overflow # skip no inotify");
		dirwatch_close(dw);
		return;
	}
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof name, "f%06ld", i);
		put(at(name), "x\n");
	}
	seen = xcalloc((size_t)n, 1);
	while (got < n && wait_ready(dw, 1) > 0) {
		dirwatch_next(dw, 0, &l);
		for (size_t i = 0; i < l.n; i++) {
			long k = atol(l.file[i].name + 1);

			if (k < 0 || k >= n || seen[k]++)
				dup++;
			else
				got++;
		}
	}
	CHECK(got == n, "after a queue overflow every file is found");
	CHECK(dup == 0, "... once");
	printf("# %ld files, %ld found\n", n, got);
	free(seen);
	dirwatch_close(dw);
	dirwatch_list_free(&l);
}

static void
test_clean(void)
{
	char err[ERRBUF_SIZE], src[PATH_MAX], arch[PATH_MAX], tricky[PATH_MAX];
	enum dirwatch_clean_mode mode;
	const char *a;
	struct stat st;

	CHECK(dirwatch_clean_parse("delete", &mode, &a, err) == 0 &&
	    mode == DIRWATCH_DELETE && a == NULL, "parse delete");
	CHECK(dirwatch_clean_parse("archive:/x/y", &mode, &a, err) == 0 &&
	    mode == DIRWATCH_ARCHIVE && strcmp(a, "/x/y") == 0,
	    "parse archive:DIR");
	CHECK(dirwatch_clean_parse("off", &mode, &a, err) == 0 &&
	    mode == DIRWATCH_KEEP, "parse off");
	CHECK(dirwatch_clean_parse("archive:", &mode, &a, err) < 0 &&
	    dirwatch_clean_parse("move", &mode, &a, err) < 0,
	    "refuse an empty archive or another word");
	CHECK(strstr(err, "'move'") != NULL, "the message quotes the value");

	fresh_dir();
	snprintf(src, sizeof src, "%s/in", root);
	mkdir(src, 0755);
	CHECK(dirwatch_archive_check(src, at("in/old"), err) < 0,
	    "refuse an archive inside the source (not yet made)");
	printf("# %s\n", err);
	CHECK(dirwatch_archive_check(src, src, err) < 0,
	    "refuse the source itself");
	snprintf(tricky, sizeof tricky, "%s/nope/../in/x", root);
	CHECK(dirwatch_archive_check(src, tricky, err) < 0,
	    "refuse a way in through ..");
	symlink(src, at("alias"));
	CHECK(dirwatch_archive_check(src, at("alias/arch"), err) < 0,
	    "refuse a way in through a symlink");
	CHECK(dirwatch_archive_check(src, at("in-archive"), err) == 0,
	    "accept a sibling whose name starts like the source");
	CHECK(dirwatch_archive_check(at("alias"), at("arch"), err) == 0,
	    "accept an archive outside a symlinked source");

	put(at("in/a.csv"), "a\n");
	CHECK(dirwatch_clean(at("in/a.csv"), DIRWATCH_DELETE, NULL, err) == 0 &&
	    stat(at("in/a.csv"), &st) != 0, "delete removes the file");
	CHECK(dirwatch_clean(at("in/a.csv"), DIRWATCH_DELETE, NULL, err) < 0 &&
	    strstr(err, "in/a.csv"), "deleting a missing file is an error");
	put(at("in/b.csv"), "b\n");
	set_mtime(at("in/b.csv"), 1234);
	snprintf(arch, sizeof arch, "%s/arch/2026", root);
	CHECK(dirwatch_clean(at("in/b.csv"), DIRWATCH_ARCHIVE, arch, err) == 0,
	    "archive a file");
	CHECK(stat(at("in/b.csv"), &st) != 0 && stat(at("arch/2026/b.csv"),
	    &st) == 0 && st.st_mtime == 1234,
	    "... it moves into the archive (made), keeping its name");
	put(at("in/b.csv"), "b again\n");
	CHECK(dirwatch_clean(at("in/b.csv"), DIRWATCH_ARCHIVE, arch, err) < 0 &&
	    strstr(err, "already exists"), "an archived file is never "
	    "overwritten");
	CHECK(stat(at("in/b.csv"), &st) == 0 && stat(at("arch/2026/b.csv"),
	    &st) == 0 && st.st_size == 2, "... both stay as they were");

	/* Another file system, if /dev/shm is one. */
	if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode)) {
		struct stat rs;
		char shm[] = "/dev/shm/runnel-archive-XXXXXX", dst[PATH_MAX];

		stat(root, &rs);
		if (rs.st_dev != st.st_dev && mkdtemp(shm)) {
			put(at("in/c.csv"), "c\n");
			set_mtime(at("in/c.csv"), 4321);
			CHECK(dirwatch_clean(at("in/c.csv"), DIRWATCH_ARCHIVE,
			    shm, err) == 0, "archive across file systems");
			snprintf(dst, sizeof dst, "%s/c.csv", shm);
			CHECK(stat(at("in/c.csv"), &st) != 0 &&
			    stat(dst, &st) == 0 && st.st_size == 2 &&
			    st.st_mtime == 4321, "... copied with its mtime, "
			    "source removed");
			put(at("in/c.csv"), "c again\n");
			CHECK(dirwatch_clean(at("in/c.csv"), DIRWATCH_ARCHIVE,
			    shm, err) < 0 && stat(at("in/c.csv"), &st) == 0,
			    "... never overwriting there either");
			nftw(shm, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		}
	}
}

int
main(void)
{
	test_open_errors();
	test_listing();
	test_watch(false);
	test_watch(true);
	test_overflow();
	test_clean();
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return unit_done();
}

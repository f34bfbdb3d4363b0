/*
 * fuzz_common.h: what the libFuzzer targets in tests/fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput() and runs one input through
 * a part of lib/ that reads untrusted bytes.  Besides the sanitizers'
 * findings (crash, leak, UB), a target checks properties that must hold
 * for every input (FUZZ_ASSERT): what a reader writes is a valid frame,
 * what a writer escapes reads back the same.  A broken property aborts,
 * which libFuzzer reports as a crash with the input that caused it.
 *
 * Built three ways: with -fsanitize=fuzzer (tests/fuzz/fuzz.mk, `make
 * fuzz`); with replay_main.c as a plain program that runs the files
 * given once (tests/helpers/fuzz_replay_*.c, built by `make` into every
 * build directory, run by tests/fuzz.bats); nothing here may print on a
 * good run or depend on the order inputs come in.
 *
 * Header-only (static functions), so each target is one translation unit.
 */
#ifndef RUNNEL_FUZZ_COMMON_H
#define RUNNEL_FUZZ_COMMON_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "die.h"
#include "frame.h"
#include "strbuf.h"
#include "value.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A property that must hold for every input: abort (a finding) if not. */
#define FUZZ_ASSERT(cond, ...) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, \
		    __LINE__, #cond); \
		fprintf(stderr, __VA_ARGS__); \
		fputc('\n', stderr); \
		abort(); \
	} \
} while (0)

/* An anonymous in-memory file; the test's fd for "a file or a stdin". */
static inline int
fuzz_memfd(const char *name)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0) {
		perror("memfd_create");
		abort();
	}
	return fd;
}

/* Write all of p (a harness failure, not a finding, aborts too). */
static inline void
fuzz_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t k = write(fd, c, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			perror("fuzz: write");
			abort();
		}
		c += k;
		n -= (size_t)k;
	}
}

/* A memfd holding data, positioned at its start. */
static inline int
fuzz_memfd_with(const char *name, const void *data, size_t n)
{
	int fd = fuzz_memfd(name);

	fuzz_write_all(fd, data, n);
	if (lseek(fd, 0, SEEK_SET) != 0) {
		perror("lseek");
		abort();
	}
	return fd;
}

/* The whole content of fd (from offset 0) into sb. */
static inline void
fuzz_slurp(int fd, struct strbuf *sb)
{
	char buf[65536];
	off_t off = 0;
	ssize_t n;

	sb_reset(sb);
	while ((n = pread(fd, buf, sizeof buf, off)) > 0) {
		sb_add(sb, buf, (size_t)n);
		off += n;
	}
	if (sb->buf == NULL)
		sb_add(sb, "", 0);
}

/*
 * A pipe whose read end holds exactly data and whose write end is closed
 * (a stage's stdin after its upstream exited), or -1 when data does not
 * fit in the pipe buffer.
 */
static inline int
fuzz_pipe_with(const void *data, size_t n)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) < 0) {
		perror("pipe");
		abort();
	}
	if (n > 65536)
		(void)fcntl(p[1], F_SETPIPE_SZ, (int)(n < 1048576 ? n : 1048576));
	if ((long)n > (long)fcntl(p[1], F_GETPIPE_SZ)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	fuzz_write_all(p[1], data, n);
	close(p[1]);
	return p[0];
}

static inline int
fuzz_rm_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* rm -rf path (never following a symlink). */
static inline void
fuzz_rm_rf(const char *path)
{
	(void)nftw(path, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Make an empty scratch directory TMP/runnel-fuzz-NAME-PID into dir
 * (size bytes), TMP being /dev/shm when writable (no disk I/O for the
 * fsyncs), else $TMPDIR or /tmp.  libFuzzer ends a timed run with
 * _Exit(), so nothing removes it at exit: the directories of processes
 * that are gone are removed here first.
 */
static inline void
fuzz_scratch_dir(const char *name, char *dir, size_t size)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" :
	    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char prefix[64];
	size_t pn;
	DIR *d = opendir(tmp);
	struct dirent *de;

	pn = (size_t)snprintf(prefix, sizeof prefix, "runnel-fuzz-%s-", name);
	while (d != NULL && (de = readdir(d)) != NULL) {
		char *end;
		long pid;

		if (strncmp(de->d_name, prefix, pn) != 0)
			continue;
		pid = strtol(de->d_name + pn, &end, 10);
		if (*end == '\0' && pid > 0 && kill((pid_t)pid, 0) < 0 &&
		    errno == ESRCH &&
		    snprintf(dir, size, "%s/%s", tmp, de->d_name) < (int)size)
			fuzz_rm_rf(dir);
	}
	if (d != NULL)
		closedir(d);
	if (snprintf(dir, size, "%s/%s%ld", tmp, prefix, (long)getpid()) >=
	    (int)size) {
		fprintf(stderr, "fuzz: scratch path too long\n");
		abort();
	}
	fuzz_rm_rf(dir);
	if (mkdir(dir, 0700) < 0) {
		perror(dir);
		abort();
	}
}

/* A cheap, stable hash of the input, to vary chunk sizes and the like
 * deterministically (FNV-1a). */
static inline uint64_t
fuzz_hash(const uint8_t *data, size_t size)
{
	uint64_t h = UINT64_C(1469598103934665603);

	for (size_t i = 0; i < size; i++)
		h = (h ^ data[i]) * UINT64_C(1099511628211);
	return h;
}

/* Is raw wire field f a valid value of type t? */
static inline bool
wire_valid(struct slice f, enum field_type t, char *ubuf)
{
	int64_t v;
	double d;

	if (field_is_null(f))
		return true;
	switch (t) {
	case TYPE_STRING:
		return field_unescape(f, ubuf) >= 0;
	case TYPE_INT:
		return value_get_i64(f, &v) == 0 && v >= INT32_MIN &&
		    v <= INT32_MAX && field_is_plain(f);
	case TYPE_BIGINT:
	case TYPE_TIMESTAMP:
		return value_get_i64(f, &v) == 0 && field_is_plain(f);
	case TYPE_DOUBLE:
		return value_get_f64(f, &d) == 0 && field_is_plain(f);
	case TYPE_BOOLEAN:
		return (f.n == 4 && memcmp(f.p, "true", 4) == 0) ||
		    (f.n == 5 && memcmp(f.p, "false", 5) == 0);
	}
	return false;
}

#endif

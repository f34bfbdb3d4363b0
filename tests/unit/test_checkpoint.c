/* Unit tests for atomic checksummed files, the run lock and the checkpoint
 * directory: round trips, damage detection, last-commit discovery,
 * fallback, resume, pruning, change detection and locking across
 * processes. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "checkpoint.h"
#include "die.h"
#include "qlock.h"
#include "strbuf.h"
#include "unit.h"

static char root[256];

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st; (void)flag; (void)ftw;
	return remove(path);
}

static void
rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory path under root (not created). */
static const char *
fresh(const char *name)
{
	static char buf[512];

	snprintf(buf, sizeof buf, "%s/%s", root, name);
	rm_rf(buf);
	return buf;
}

static char *
slurp_file(const char *path, size_t *len)
{
	struct strbuf sb;
	char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	sb_init(&sb);
	sb_adds(&sb, "");
	if (fd < 0)
		return sb.buf;
	while ((n = read(fd, buf, sizeof buf)) > 0)
		sb_add(&sb, buf, (size_t)n);
	close(fd);
	*len = sb.len;
	return sb.buf;
}

static void
put_file(const char *path, const char *s, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);

	if (fd >= 0) {
		if (write(fd, s, len) != (ssize_t)len)
			perror(path);
		close(fd);
	}
}

static void
flip_byte(const char *path, size_t at)
{
	size_t len = 0;
	char *s = slurp_file(path, &len);

	if (at < len) {
		s[at] ^= 0x20;
		put_file(path, s, len);
	}
	free(s);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static const char *
pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *
pathf(const char *fmt, ...)
{
	static char buf[4][512];
	static int k;
	va_list ap;

	k = (k + 1) % 4;
	va_start(ap, fmt);
	vsnprintf(buf[k], sizeof buf[k], fmt, ap);
	va_end(ap);
	return buf[k];
}

/* ---- atomicfile ---- */

static void
test_crc(void)
{
	CHECK(af_crc32c(0, "123456789", 9) == 0xe3069283u,
	    "crc32c check value of '123456789'");
	CHECK(af_crc32c(0, "", 0) == 0, "crc32c of nothing is 0");
	/* Slicing-by-8 and the byte loop agree, and chunks chain. */
	{
		char buf[1000];
		uint32_t whole, parts;

		for (size_t i = 0; i < sizeof buf; i++)
			buf[i] = (char)(i * 7 + 3);
		whole = af_crc32c(0, buf, sizeof buf);
		parts = af_crc32c(af_crc32c(af_crc32c(0, buf, 3), buf + 3,
		    500), buf + 503, sizeof buf - 503);
		CHECK(whole == parts, "crc32c chains across odd chunk sizes");
	}
}

static void
test_roundtrip(void)
{
	const char *dir = fresh("af");
	char err[ERRBUF_SIZE], *body, *raw;
	const char *p = pathf("%s/f", dir);
	static const char bin[] = "a\0b\nc";
	size_t len, rawlen = 0;

	mkdir(dir, 0777);
	CHECK(af_write(p, "offsets", "{\"a\":1}\n", 8, err) == 0,
	    "af_write a JSON line");
	raw = slurp_file(p, &rawlen);
	CHECK(strncmp(raw, "runnel offsets v1\n{\"a\":1}\ncrc32c=", 33) == 0,
	    "the file is readable text: header, body, checksum line");
	CHECK(strstr(raw, " size=8\n") != NULL && raw[rawlen - 1] == '\n',
	    "the trailer gives the body size and ends the file");
	free(raw);
	CHECK(af_read(p, "offsets", &body, &len, err) == 1 && len == 8 &&
	    strcmp(body, "{\"a\":1}\n") == 0, "af_read gives the body back");
	free(body);

	CHECK(af_write(p, "state", "no newline", 10, err) == 0 &&
	    af_read(p, "state", &body, &len, err) == 1 && len == 10 &&
	    strcmp(body, "no newline") == 0,
	    "a body without a final newline round-trips exactly");
	free(body);
	CHECK(af_write(p, "state", "", 0, err) == 0 &&
	    af_read(p, "state", &body, &len, err) == 1 && len == 0 &&
	    body[0] == '\0', "an empty body round-trips");
	free(body);
	CHECK(af_write(p, "state", bin, sizeof bin, err) == 0 &&
	    af_read(p, "state", &body, &len, err) == 1 &&
	    len == sizeof bin && memcmp(body, bin, sizeof bin) == 0,
	    "binary bytes (NUL, newline) round-trip");
	free(body);
	CHECK(af_write(p, "state", "x\ncrc32c=00000000 size=1\n", 25, err) == 0
	    && af_read(p, "state", &body, &len, err) == 1 && len == 25,
	    "a body that looks like a trailer is not taken for one");
	free(body);

	CHECK(af_read(pathf("%s/none", dir), "state", &body, &len, err) == 0 &&
	    body == NULL, "a missing file reads as 0, not an error");
	CHECK(af_read(p, "offsets", &body, &len, err) < 0 &&
	    strstr(err, "not a runnel offsets file") != NULL,
	    "a file of another kind is refused");
	put_file(p, "hello\n", 6);
	CHECK(af_read(p, "state", &body, &len, err) < 0 &&
	    strstr(err, "not a runnel state file") != NULL,
	    "a foreign file is refused as foreign, not as corrupted");
	put_file(p, "runnel state v2\nwhatever\n", 25);
	CHECK(af_read(p, "state", &body, &len, err) < 0 &&
	    strstr(err, "format version v2 is not supported") != NULL,
	    "a newer format version is named");
	CHECK(af_write(p, "Bad Kind", "", 0, err) < 0, "a bad kind is refused");
	CHECK(af_is_temp(".7.tmp-12-0") && !af_is_temp("7") &&
	    !af_is_temp(".lock"), "af_is_temp knows temp names");
}

static void
test_damage(void)
{
	const char *dir = fresh("damage");
	char err[ERRBUF_SIZE], want[600], *body, *orig;
	const char *p = pathf("%s/7", dir);
	size_t len, olen = 0;
	int all = 1, named = 1;

	mkdir(dir, 0777);
	af_write(p, "offsets", "{\"start\":10,\"end\":20}\n", 22, err);
	orig = slurp_file(p, &olen);
	snprintf(want, sizeof want,
	    "'%s': checksum mismatch (file corrupted or truncated)", p);

	/* Every single flipped byte is caught. */
	for (size_t at = 0; at < olen; at++) {
		put_file(p, orig, olen);
		flip_byte(p, at);
		if (af_read(p, "offsets", &body, &len, err) != -1)
			all = 0;
		else if (at > 17 && strcmp(err, want) != 0)
			named = 0;
		free(body);
	}
	CHECK(all, "every flipped byte is detected");
	CHECK(named, "a flipped byte is reported as a checksum mismatch with "
	    "its path");
	/* Every truncation is caught, the empty file included. */
	all = named = 1;
	for (size_t keep = 0; keep < olen; keep++) {
		put_file(p, orig, keep);
		if (af_read(p, "offsets", &body, &len, err) != -1)
			all = 0;
		else if (strcmp(err, want) != 0)
			named = 0;
		free(body);
	}
	CHECK(all, "every truncation is detected");
	CHECK(named, "a truncation is reported as a checksum mismatch");
	/* Garbage appended is caught too. */
	put_file(p, orig, olen);
	{
		int fd = open(p, O_WRONLY | O_APPEND);

		CHECK(write(fd, "x\n", 2) == 2, "append garbage");
		close(fd);
	}
	CHECK(af_read(p, "offsets", &body, &len, err) < 0 &&
	    strcmp(err, want) == 0, "bytes appended after the trailer are "
	    "detected");
	free(orig);
}

static void
test_symlinks_and_modes(void)
{
	const char *dir = fresh("links");
	char err[ERRBUF_SIZE], *body, *t;
	const char *target = pathf("%s/target", dir);
	const char *link = pathf("%s/link", dir);
	struct af_tmp tmp;
	struct stat st;
	size_t len = 0;
	mode_t old;

	mkdir(dir, 0777);
	put_file(target, "precious\n", 9);
	CHECK(symlink("target", link) == 0, "plant a symlink");
	CHECK(af_read(link, "state", &body, &len, err) < 0 &&
	    strstr(err, "symbolic link") != NULL,
	    "af_read refuses to follow a symlink (O_NOFOLLOW)");

	/* A temp name taken by a planted symlink is skipped (O_EXCL). */
	CHECK(af_begin(&tmp, link, err) == 0, "af_begin");
	{
		char *dash = strrchr(tmp.tmp, '-');
		char next[600];

		snprintf(next, sizeof next, "%.*s-%ld",
		    (int)(dash - tmp.tmp), tmp.tmp, strtol(dash + 1, NULL, 10)
		    + 1);
		af_abort(&tmp);
		CHECK(symlink("target", next) == 0,
		    "plant a symlink at the next temp name");
		CHECK(af_write(link, "state", "new\n", 4, err) == 0,
		    "af_write over a symlink succeeds");
		CHECK(lstat(next, &st) == 0 && S_ISLNK(st.st_mode),
		    "the planted temp symlink was not used");
	}
	t = slurp_file(target, &len);
	CHECK(strcmp(t, "precious\n") == 0,
	    "the symlinks' target is untouched");
	free(t);
	CHECK(lstat(link, &st) == 0 && S_ISREG(st.st_mode),
	    "the symlink was replaced by the file, not written through");

	old = umask(027);
	af_write(pathf("%s/masked", dir), "state", "", 0, err);
	umask(old);
	CHECK(stat(pathf("%s/masked", dir), &st) == 0 &&
	    (st.st_mode & 0777) == 0640, "new files respect the umask");

	/* A FIFO where a file should be does not hang the reader. */
	mkfifo(pathf("%s/fifo", dir), 0666);
	CHECK(af_read(pathf("%s/fifo", dir), "state", &body, &len, err) < 0 &&
	    strstr(err, "not a regular file") != NULL,
	    "a FIFO is refused without blocking");

	/* af_abort leaves nothing; af_commit leaves no temp. */
	CHECK(af_begin(&tmp, pathf("%s/x", dir), err) == 0 &&
	    af_append(&tmp, "abc", 3, err) == 0, "begin and append");
	t = xstrdup(tmp.tmp);
	CHECK(af_commit(&tmp, err) == 0 && !exists(t) &&
	    exists(pathf("%s/x", dir)), "commit renames the temp into place");
	free(t);
	CHECK(af_write(pathf("%s/nodir/x", dir), "state", "", 0, err) < 0 &&
	    strstr(err, "nodir/x") != NULL,
	    "a write that cannot start names the file");
}

/* ---- checkpoint layout and recovery ---- */

static struct checkpoint *
create(const char *dir)
{
	char err[ERRBUF_SIZE];
	struct checkpoint *ck = ckpt_create(dir, "ssrc file:in", 0, err);

	if (ck == NULL)
		printf("# ckpt_create: %s\n", err);
	return ck;
}

/* Lay out batches 0..last with offsets, state of "scount", and commits
 * 0..committed. */
static void
lay_out(struct checkpoint *ck, int64_t last, int64_t committed)
{
	char err[ERRBUF_SIZE], body[64];

	for (int64_t n = 0; n <= last; n++) {
		int len = snprintf(body, sizeof body, "{\"start\":%lld,"
		    "\"end\":%lld}\n", (long long)n * 10,
		    (long long)n * 10 + 10);

		if (ckpt_write_offsets(ck, n, body, (size_t)len, err) < 0 ||
		    ckpt_write_state(ck, "scount", n, "scount keys=word",
		    body, (size_t)len, err) < 0 ||
		    (n <= committed && ckpt_commit(ck, n, NULL, err) < 0))
			printf("# lay_out: %s\n", err);
	}
}

static void
test_create(void)
{
	const char *dir = fresh("new/deep/ck");
	char err[ERRBUF_SIZE], id[64], *meta;
	struct checkpoint *ck;
	size_t len = 0;

	ck = create(dir);
	CHECK(ck != NULL, "ckpt_create makes DIR and its parents");
	if (ck == NULL)
		return;
	CHECK(exists(pathf("%s/offsets", dir)) &&
	    exists(pathf("%s/commits", dir)) &&
	    exists(pathf("%s/state", dir)) &&
	    exists(pathf("%s/sources", dir)) &&
	    exists(pathf("%s/metadata", dir)) &&
	    exists(pathf("%s/.lock", dir)), "the layout is in place");
	CHECK(strlen(ckpt_query_id(ck)) == 36 &&
	    strlen(ckpt_run_id(ck)) == 36, "query and run ids are UUIDs");
	CHECK(strcmp(ckpt_query_id(ck), ckpt_run_id(ck)) != 0,
	    "the run id is not the query id");
	CHECK_STR(ckpt_meta(ck, "pipeline"), "ssrc file:in",
	    "metadata keeps the pipeline description");
	CHECK_STR(ckpt_meta(ck, "format"), "1", "metadata has the format");
	CHECK(ckpt_meta(ck, "created") != NULL && ckpt_meta(ck, "nope") == NULL,
	    "ckpt_meta finds keys, NULL for absent ones");
	meta = slurp_file(pathf("%s/metadata", dir), &len);
	CHECK(strncmp(meta, "runnel metadata v1\nid=", 22) == 0,
	    "metadata is readable text");
	free(meta);
	snprintf(id, sizeof id, "%s", ckpt_query_id(ck));
	ckpt_close(ck);
	ck = ckpt_create(dir, "something else", 0, err);
	CHECK(ck != NULL && strcmp(ckpt_query_id(ck), id) == 0,
	    "the query id is stable across runs");
	CHECK(ck != NULL && strcmp(ckpt_meta(ck, "pipeline"),
	    "ssrc file:in") == 0, "metadata is written once");
	ckpt_close(ck);

	dir = fresh("foreign");
	mkdir(dir, 0777);
	put_file(pathf("%s/README", dir), "mine\n", 5);
	CHECK(ckpt_create(dir, "", 0, err) == NULL &&
	    strstr(err, "is not a checkpoint directory") != NULL &&
	    strstr(err, "README") != NULL, "a foreign directory is refused");
	CHECK(!exists(pathf("%s/.lock", dir)),
	    "and is left as it was (no lock file)");

	dir = fresh("badmeta");
	ckpt_close(create(dir));
	flip_byte(pathf("%s/metadata", dir), 25);
	CHECK(ckpt_create(dir, "", 0, err) == NULL &&
	    strstr(err, "checkpoint: '") == err &&
	    strstr(err, "/metadata': checksum mismatch") != NULL,
	    "damaged metadata is an error naming it");

	dir = fresh("linkdir");
	mkdir(dir, 0777);
	mkdir(pathf("%s/elsewhere", root), 0777);
	symlink("../elsewhere", pathf("%s/offsets", dir));
	CHECK(ckpt_create(dir, "", 0, err) == NULL &&
	    strstr(err, "symbolic link") != NULL,
	    "a symlink in place of offsets/ is refused");
	rm_rf(pathf("%s/elsewhere", root));

	CHECK(ckpt_join(fresh("nothing"), "x", err) == NULL,
	    "joining a missing checkpoint fails");
}

static void
test_last_commit(void)
{
	const char *dir = fresh("last");
	char err[ERRBUF_SIZE], warn[ERRBUF_SIZE];
	struct checkpoint *ck = create(dir);
	struct af_tmp t;
	int64_t c = 99;

	if (ck == NULL)
		return;
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == -1 &&
	    warn[0] == '\0', "no commits: C = -1");
	lay_out(ck, 3, 2);
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == 2,
	    "C is the newest commit");
	/* A gap, stray temp files and names that are not batches. */
	CHECK(ckpt_commit(ck, 5, NULL, err) == 0, "commit 5 after a gap");
	CHECK(af_begin(&t, pathf("%s/commits/6", dir), err) == 0,
	    "a writer starts commits/6");
	close(t.fd);		/* ... and dies: its temp file stays */
	put_file(pathf("%s/commits/7~", dir), "x", 1);
	put_file(pathf("%s/commits/08", dir), "x", 1);
	put_file(pathf("%s/commits/junk", dir), "x", 1);
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == 5 &&
	    warn[0] == '\0',
	    "gaps, temp files and non-batch names are ignored");
	CHECK(exists(t.tmp), "the stray temp is there");
	ckpt_close(ck);
	ck = create(dir);
	CHECK(ck != NULL && !exists(t.tmp) &&
	    exists(pathf("%s/commits/junk", dir)),
	    "ckpt_create removes stray temps, and only them");
	free(t.tmp);
	free(t.path);
	ckpt_close(ck);
}

static void
test_fallback(void)
{
	const char *dir = fresh("fall");
	char err[ERRBUF_SIZE], warn[ERRBUF_SIZE], want[700], *blob;
	struct checkpoint *ck = create(dir);
	struct ckpt_resume r;
	size_t len;
	int64_t c;

	if (ck == NULL)
		return;
	lay_out(ck, 7, 7);
	flip_byte(pathf("%s/commits/7", dir), 20);
	snprintf(want, sizeof want, "checkpoint: '%s/commits/7': checksum "
	    "mismatch (file corrupted or truncated); replaying from batch 7",
	    dir);
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == 6,
	    "a damaged newest commit falls back to the previous one");
	CHECK_STR(warn, want, "the warning names the file and the replay");
	CHECK(ckpt_resume(ck, &r, err) == 0 && r.commit == 6 &&
	    r.replay != NULL && strstr(r.replay, "\"start\":70") != NULL,
	    "resume replays batch 7 from offsets/7");
	CHECK_STR(r.warn, want, "resume carries the warning");
	ckpt_resume_free(&r);
	CHECK(!exists(pathf("%s/commits/7", dir)) &&
	    !exists(pathf("%s/state/scount/7", dir)) &&
	    exists(pathf("%s/offsets/7", dir)),
	    "resume drops the damaged commit and state 7, keeps offsets/7");

	/* A damaged state of the newest commit falls back the same way. */
	ckpt_write_state(ck, "scount", 7, "scount keys=word", "s7", 2, err);
	ckpt_commit(ck, 7, NULL, err);
	flip_byte(pathf("%s/state/scount/7", dir), 30);
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == 6 &&
	    strstr(warn, "state/scount/7': checksum mismatch") != NULL,
	    "a damaged state of the newest commit falls back to batch 6");
	CHECK(ckpt_read_state(ck, "scount", c, "scount keys=word", &blob, &len,
	    err) == 1 && strstr(blob, "\"start\":60") != NULL,
	    "and state 6 loads");
	free(blob);

	/* No fallback when the batch cannot be replayed exactly. */
	unlink(pathf("%s/offsets/7", dir));
	CHECK(ckpt_last_commit(ck, &c, warn, err) < 0 &&
	    strstr(err, "state/scount/7': checksum mismatch") != NULL,
	    "without offsets/7 the damaged state is an error");
	ckpt_close(ck);

	/* No fallback when the previous batch was pruned. */
	dir = fresh("fall2");
	ck = create(dir);
	lay_out(ck, 9, 9);
	ckpt_prune(ck, 9, 2, err);
	flip_byte(pathf("%s/state/scount/9", dir), 30);
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == 8,
	    "with retain 2 a damaged state 9 falls back to 8");
	flip_byte(pathf("%s/state/scount/8", dir), 30);
	CHECK(ckpt_last_commit(ck, &c, warn, err) < 0 &&
	    strstr(err, "state/scount/8': checksum mismatch") != NULL,
	    "damaged states 9 and 8 with batch 7 pruned: an error, no guess");
	ckpt_close(ck);

	/* Batch 0 falls back to "no commit": state before 0 is empty. */
	dir = fresh("fall3");
	ck = create(dir);
	lay_out(ck, 0, 0);
	truncate(pathf("%s/commits/0", dir), 10);
	CHECK(ckpt_last_commit(ck, &c, warn, err) == 0 && c == -1 &&
	    strstr(warn, "replaying from batch 0") != NULL,
	    "a truncated commits/0 replays batch 0 from empty state");
	ckpt_close(ck);
}

static void
test_resume(void)
{
	const char *dir = fresh("resume");
	char err[ERRBUF_SIZE], *body;
	struct checkpoint *ck = create(dir);
	struct ckpt_resume r;
	size_t len;

	if (ck == NULL)
		return;
	CHECK(ckpt_resume(ck, &r, err) == 0 && r.commit == -1 &&
	    r.replay == NULL && r.last == NULL,
	    "a new query starts at batch 0");
	ckpt_resume_free(&r);

	/* Batches 0-4 planned, 0-2 committed, source files 0-4. */
	lay_out(ck, 4, 2);
	for (int n = 0; n <= 4; n++)
		ckpt_write_source(ck, "file", pathf("%d", n), "f\n", 2, err);
	ckpt_write_source(ck, "file", "log", "all\n", 4, err);
	CHECK(ckpt_resume(ck, &r, err) == 0 && r.commit == 2 &&
	    r.replay != NULL && strcmp(r.replay, "{\"start\":30,\"end\":40}\n")
	    == 0 && r.last == NULL, "planned batch 3 is replayed");
	ckpt_resume_free(&r);
	CHECK(exists(pathf("%s/offsets/3", dir)) &&
	    !exists(pathf("%s/offsets/4", dir)) &&
	    !exists(pathf("%s/state/scount/3", dir)) &&
	    !exists(pathf("%s/state/scount/4", dir)) &&
	    exists(pathf("%s/state/scount/2", dir)),
	    "plans newer than C+1 and states newer than C are dropped");
	CHECK(exists(pathf("%s/sources/file/3", dir)) &&
	    !exists(pathf("%s/sources/file/4", dir)) &&
	    exists(pathf("%s/sources/file/log", dir)),
	    "numbered source files follow offsets; named ones stay");
	CHECK(ckpt_read_source(ck, "file", "log", &body, &len, err) == 1 &&
	    strcmp(body, "all\n") == 0, "a source file reads back");
	free(body);

	/* Committed up to 3, nothing planned: continue after offsets/3. */
	ckpt_commit(ck, 3, NULL, err);
	CHECK(ckpt_read_commit_sink(ck, 3, &body, err) == 0 && body == NULL,
	    "a commit without a sink position has none");
	CHECK(ckpt_commit(ck, 3, "{\"t\":{\"0\":7}}", err) == 0 &&
	    ckpt_read_commit_sink(ck, 3, &body, err) == 1 &&
	    strcmp(body, "{\"t\":{\"0\":7}}") == 0,
	    "the sink position reads back from commits/N");
	free(body);
	CHECK(ckpt_read_commit_sink(ck, 9, &body, err) == 0 && body == NULL,
	    "no commits/N: no sink position");
	CHECK(ckpt_commit(ck, 3, "a\nb", err) < 0,
	    "a sink position of two lines is refused");
	CHECK(ckpt_resume(ck, &r, err) == 0 && r.commit == 3 &&
	    r.replay == NULL && r.last != NULL &&
	    strstr(r.last, "\"end\":40") != NULL,
	    "with no plan, batch C+1 starts at the end of offsets/C");
	ckpt_resume_free(&r);

	/* A damaged plan cannot be replayed: error. */
	ckpt_write_offsets(ck, 4, "{}\n", 3, err);
	flip_byte(pathf("%s/offsets/4", dir), 19);
	CHECK(ckpt_resume(ck, &r, err) < 0 &&
	    strstr(err, "offsets/4': checksum mismatch") != NULL,
	    "a damaged offsets/C+1 is an error naming it");
	unlink(pathf("%s/offsets/4", dir));
	unlink(pathf("%s/offsets/3", dir));
	CHECK(ckpt_resume(ck, &r, err) < 0 &&
	    strstr(err, "offsets/3' is missing") != NULL,
	    "no offsets/C and no plan: an error");
	CHECK(ckpt_read_offsets(ck, 3, &body, &len, err) == 0,
	    "ckpt_read_offsets: 0 when absent");
	ckpt_close(ck);
}

static void
test_state(void)
{
	const char *dir = fresh("state");
	char err[ERRBUF_SIZE], *blob;
	static const char bin[] = "k\0v\n\n\tz";
	struct checkpoint *ck = create(dir);
	const char *cfg = "scount keys=word aggs=count mode=update";
	size_t len;

	if (ck == NULL)
		return;
	CHECK(ckpt_read_state(ck, "scount", -1, cfg, &blob, &len, err) == 0 &&
	    blob == NULL, "no commit: no state, start empty");
	CHECK(ckpt_write_state(ck, "scount", 0, cfg, bin, sizeof bin, err) == 0,
	    "write a binary state");
	CHECK(ckpt_read_state(ck, "scount", 0, cfg, &blob, &len, err) == 1 &&
	    len == sizeof bin && memcmp(blob, bin, len) == 0,
	    "the state blob round-trips byte for byte");
	free(blob);
	CHECK(ckpt_read_state(ck, "scount", 0,
	    "scount keys=word,lang aggs=count mode=update", &blob, &len,
	    err) < 0 && strstr(err, "the query changed in a way its state "
	    "cannot follow: keys was 'word', now 'word,lang' (use a new "
	    "checkpoint directory)") != NULL,
	    "a changed key is named with old and new values");
	printf("# %s\n", err);
	CHECK(ckpt_read_state(ck, "scount", 0,
	    "scount keys=word aggs=count window=5m", &blob, &len, err) < 0 &&
	    strstr(err, "mode was 'update', now unset; window was unset, now "
	    "'5m'") != NULL, "removed and added keys are named");
	CHECK(ckpt_read_state(ck, "scount", 1, cfg, &blob, &len, err) < 0 &&
	    strstr(err, "state/scount/1' is missing") != NULL,
	    "a missing state at C >= 0 is an error");
	CHECK(ckpt_write_state(ck, "../x", 1, cfg, "", 0, err) < 0 &&
	    strstr(err, "bad stage name") != NULL, "stage names are checked");
	CHECK(ckpt_write_state(ck, "scount", 1, "a\nb", "", 0, err) < 0,
	    "a config with a newline is refused");
	ckpt_close(ck);
}

static void
test_prune(void)
{
	const char *dir = fresh("prune");
	char err[ERRBUF_SIZE];
	struct checkpoint *ck = create(dir);
	int ok = 1;

	if (ck == NULL)
		return;
	lay_out(ck, 10, 9);	/* offsets/10 planned, not committed */
	for (int n = 0; n <= 10; n++)
		ckpt_write_source(ck, "file", pathf("%d", n), "", 0, err);
	ckpt_write_source(ck, "file", "log", "", 0, err);
	CHECK(ckpt_prune(ck, 9, 3, err) == 0, "prune with retain 3");
	for (int n = 0; n <= 10; n++) {
		int keep = n >= 7;

		if (exists(pathf("%s/commits/%d", dir, n)) !=
		    (keep && n <= 9) ||
		    exists(pathf("%s/offsets/%d", dir, n)) != keep ||
		    exists(pathf("%s/state/scount/%d", dir, n)) != keep ||
		    exists(pathf("%s/sources/file/%d", dir, n)) != keep)
			ok = 0;
	}
	CHECK(ok, "the last 3 commits and everything newer stay, older go");
	CHECK(exists(pathf("%s/sources/file/log", dir)),
	    "a named source file is never pruned");
	CHECK(ckpt_prune(ck, 9, 1, err) == 0 &&
	    exists(pathf("%s/commits/9", dir)) &&
	    exists(pathf("%s/offsets/9", dir)) &&
	    exists(pathf("%s/state/scount/9", dir)) &&
	    exists(pathf("%s/offsets/10", dir)) &&
	    !exists(pathf("%s/commits/8", dir)),
	    "retain 1 keeps exactly what resuming needs");
	CHECK(ckpt_prune(ck, 9, 0, err) < 0, "retain 0 is refused");
	CHECK(ckpt_prune(ck, 1, 100, err) == 0, "nothing to prune is fine");
	ckpt_close(ck);
}

/* ---- locking across processes ---- */

/* Wait (with a deadline) for a byte from fd. */
static int
get_byte(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? c : -1;
}

static void
put_byte(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		_exit(3);
}

/*
 * A child that takes the run lock (how = 'r') or joins run_id (how = 'j'),
 * says 'y' (or 'n' on failure) on up[1], then waits for a byte on down[0]
 * and exits.  It first drops the parent's checkpoint, if any: a forked
 * child shares its parent's flocks, where a real stage (another process
 * started by the shell) has nothing.
 */
static pid_t
holder(const char *dir, char how, const char *run_id,
    struct checkpoint *parents, int up[2], int down[2])
{
	pid_t pid;

	if (pipe(up) < 0 || pipe(down) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char err[ERRBUF_SIZE];
		struct checkpoint *ck;

		ckpt_close(parents);
		close(up[0]);
		close(down[1]);
		ck = how == 'r' ? ckpt_create(dir, "", 0, err) :
		    ckpt_join(dir, run_id, err);
		put_byte(up[1], ck ? 'y' : 'n');
		get_byte(down[0]);
		_exit(0);
	}
	close(up[1]);
	close(down[0]);
	return pid;
}

static void
test_lock(void)
{
	const char *dir = fresh("lock");
	char err[ERRBUF_SIZE], want[600], run[QLOCK_ID_SIZE];
	struct checkpoint *ck, *st;
	int up[2], down[2], status;
	pid_t pid;

	ckpt_close(create(dir));
	pid = holder(dir, 'r', NULL, NULL, up, down);
	CHECK(get_byte(up[0]) == 'y', "a child takes the run lock");
	snprintf(want, sizeof want, "checkpoint '%s' is in use by pid %ld "
	    "(use --wait to queue)", dir, (long)pid);
	CHECK(ckpt_create(dir, "", 0, err) == NULL, "a second run is refused");
	CHECK_STR(err, want, "the message names the holder's pid");
	CHECK(qlock_holder(dir) == pid, "DIR/.lock names the holder");
	put_byte(down[1], 'x');
	waitpid(pid, &status, 0);
	close(up[0]);
	close(down[1]);
	ck = create(dir);
	CHECK(ck != NULL, "the lock is free once the child has exited");
	CHECK(qlock_holder(dir) == getpid(), "and DIR/.lock names us now");
	ckpt_close(ck);

	/* kill -9 leaves no stale lock. */
	pid = holder(dir, 'r', NULL, NULL, up, down);
	get_byte(up[0]);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	close(up[0]);
	close(down[1]);
	ck = create(dir);
	CHECK(ck != NULL, "a holder killed with SIGKILL leaves no lock");

	/* Stages join the run; a stage of a finished run holds up the next. */
	snprintf(run, sizeof run, "%s", ckpt_run_id(ck));
	st = ckpt_join(dir, run, err);
	CHECK(st != NULL && strcmp(ckpt_query_id(st), ckpt_query_id(ck)) == 0,
	    "a stage joins the run and sees the query id");
	ckpt_close(st);
	CHECK(ckpt_join(dir, "00000000-0000-4000-8000-000000000000", err) ==
	    NULL && strstr(err, "was taken over by another run (pid") != NULL,
	    "a stage of another run cannot join");
	pid = holder(dir, 'j', run, ck, up, down);
	CHECK(get_byte(up[0]) == 'y', "a child stage joins");
	ckpt_close(ck);		/* ssrc of that run exits first */
	snprintf(want, sizeof want, "checkpoint '%s' is in use by pid %ld "
	    "(use --wait to queue)", dir, (long)pid);
	CHECK(ckpt_create(dir, "", 0, err) == NULL,
	    "a new run waits for the previous run's stages");
	CHECK_STR(err, want, "and names the stage's pid");
	CHECK(ckpt_join(dir, run, err) == NULL &&
	    strstr(err, "taken over") != NULL,
	    "the failed new run still fences off late stages of the old one");
	put_byte(down[1], 'x');
	waitpid(pid, &status, 0);
	close(up[0]);
	close(down[1]);
	ck = create(dir);
	CHECK(ck != NULL, "the new run starts once the stage exited");
	ckpt_close(ck);

	/* A symlinked lock file is refused. */
	unlink(pathf("%s/.lock", dir));
	symlink("metadata", pathf("%s/.lock", dir));
	CHECK(ckpt_create(dir, "", 0, err) == NULL &&
	    strstr(err, "symbolic link") != NULL,
	    "a symlink as DIR/.lock is refused (O_NOFOLLOW)");
	unlink(pathf("%s/.lock", dir));
}

/* Is some process blocked in flock() on path's file?  (/proc/locks marks
 * waiters with "->".) */
static int
has_waiter(const char *path)
{
	char line[256];
	struct stat st;
	int found = 0;
	FILE *f;

	if (stat(path, &st) < 0 || (f = fopen("/proc/locks", "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		unsigned maj, mnr;
		unsigned long ino;

		if (sscanf(line, "%*d: -> %*s %*s %*s %*d %x:%x:%lu", &maj,
		    &mnr, &ino) == 3 && maj == major(st.st_dev) &&
		    mnr == minor(st.st_dev) && ino == st.st_ino)
			found = 1;
	}
	fclose(f);
	return found;
}

static void
test_wait(void)
{
	const char *dir = fresh("wait");
	char err[ERRBUF_SIZE];
	struct checkpoint *ck;
	int verdict[2], status;
	pid_t pid;

	ckpt_close(create(dir));
	if (pipe(verdict) < 0)
		return;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct checkpoint *mine = ckpt_create(dir, "", 0, err);
		char lock[600];
		struct timespec ts = { 0, 1000000 };
		int ok;

		put_byte(verdict[1], mine ? 'y' : 'n');
		/* Hold until the parent is really blocked (deadline 10 s),
		 * then check it did not get in while we held. */
		snprintf(lock, sizeof lock, "%s/.lock", dir);
		for (int i = 0; i < 10000 && !has_waiter(lock); i++)
			nanosleep(&ts, NULL);
		ok = has_waiter(lock) && qlock_holder(dir) == getpid();
		put_byte(verdict[1], ok ? 'k' : 'X');
		_exit(0);
	}
	close(verdict[1]);
	CHECK(get_byte(verdict[0]) == 'y', "a child holds the run lock");
	ck = ckpt_create(dir, "", 1, err);
	CHECK(ck != NULL, "--wait blocks, then gets the lock");
	CHECK(get_byte(verdict[0]) == 'k',
	    "it was blocked while the child held the lock");
	CHECK(qlock_holder(dir) == getpid(), "and holds it now");
	ckpt_close(ck);
	waitpid(pid, &status, 0);
	close(verdict[0]);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(root, sizeof root, "%s/runnel-ckpt-XXXXXX",
	    tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(root) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	test_crc();
	test_roundtrip();
	test_damage();
	test_symlinks_and_modes();
	test_create();
	test_last_commit();
	test_fallback();
	test_resume();
	test_state();
	test_prune();
	test_lock();
	test_wait();
	rm_rf(root);
	return unit_done();
}

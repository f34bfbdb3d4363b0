/*
 * fuzz_checkpoint.c: loading what a checkpoint directory holds, whatever
 * it holds: lib/atomicfile.c's framed files (af_read), lib/checkpoint.c's
 * metadata, recovery (ckpt_create, ckpt_resume, ckpt_last_commit), states
 * and source files, lib/qlock.c's lock file, lib/ckstage.c's joining,
 * naming and state text reader (struct sreader), and lib/aggregate.c's
 * saved accumulators (aggs_load) as scount keeps them.  The file sink's
 * manifest (lib/manifest.h) is only ever read with af_read(), kind
 * "manifest" (compaction copies bodies, it does not parse them), so part
 * A covers it.
 *
 * Input, part A: the whole input is written to a file and read with
 * af_read(), of the kind named after "runnel " at its start (else
 * "state"); a good file's body, written with af_write() and read again,
 * must come back the same.
 *
 * Part B, when the input holds a line starting "=== ": a checkpoint
 * directory, described as text.  Lines before the first "=== " are
 * settings (config=STAGE CONFIG, stages=LIST for the header's @stages,
 * retain=N, pipeline=TEXT).  Then each section
 *
 *   === PATH [raw | dir | fifo | symlink TARGET]
 *   BODY
 *
 * makes DIR/PATH (components of [A-Za-z0-9_.-], not . or ..): by default
 * a framed file (af_write, so its checksum is right and the parsing
 * behind it is reached) of the kind its top directory implies, "raw"
 * writes BODY as the whole file, "dir" a directory, "fifo" a FIFO,
 * "symlink" a symbolic link.  BODY runs to the newline before the next
 * "=== " line.  Then the harness does what ssrc and a stateful stage do
 * when they start: ckpt_create, ckpt_resume, ckstage_open/load (the
 * state walked as scount's would be: format, mode, evicted, watermark,
 * wm_out, rows, then rows records of a key and aggregates), reads every
 * state and source file, then writes state, commits and prunes one more
 * batch.  Nothing may crash, leak, hang or overflow; errors are fine.
 */
#include <dirent.h>
#include <sys/stat.h>

#include "aggregate.h"
#include "atomicfile.h"
#include "checkpoint.h"
#include "ckstage.h"
#include "count_state.h"
#include "fuzz_common.h"
#include "kafka.h"
#include "schema.h"

#define FUZZ_DDL "s STRING, i INT, b BIGINT, d DOUBLE, ok BOOLEAN, t TIMESTAMP"
#define DEFAULT_CONFIG "scount keys=s aggs=count,sum_i,avg_d mode=update"

static char base[256];		/* our scratch directory, made once */

/* FUZZ_DEBUG=1 in the environment: say why each step stopped (for
 * writing seeds; a fuzzing run must stay quiet). */
#define DEBUG(what, err) do { \
	if (getenv("FUZZ_DEBUG") != NULL) \
		fprintf(stderr, "fuzz_checkpoint: %s: %s\n", what, err); \
} while (0)

static void
cleanup(void)
{
	if (base[0] != '\0')
		fuzz_rm_rf(base);
}

static void
make_base(void)
{
	fuzz_scratch_dir("ck", base, sizeof base);
	atexit(cleanup);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644);

	if (fd < 0)
		return;		/* e.g. a directory is there: fine */
	fuzz_write_all(fd, p, n);
	close(fd);
}

/* ---- part A ---- */

static void
part_a(const uint8_t *data, size_t size)
{
	char path[300], path2[300], kind[17] = "state", err[ERRBUF_SIZE];
	char *body, *body2;
	size_t len, len2, k = 0;
	int r;

	if (size > 7 && memcmp(data, "runnel ", 7) == 0) {
		while (k < 16 && 7 + k < size &&
		    (strchr("abcdefghijklmnopqrstuvwxyz0123456789_-",
		    data[7 + k]) != NULL && data[7 + k] != '\0'))
			k++;
		if (k > 0) {
			memcpy(kind, data + 7, k);
			kind[k] = '\0';
		}
	}
	snprintf(path, sizeof path, "%s/raw", base);
	snprintf(path2, sizeof path2, "%s/raw2", base);
	write_file(path, data, size);
	r = af_read(path, kind, &body, &len, err);
	FUZZ_ASSERT(r == 1 || body == NULL, "af_read %d with a body", r);
	if (r == 1) {
		FUZZ_ASSERT(body[len] == '\0', "body not NUL-terminated");
		FUZZ_ASSERT(af_write(path2, kind, body, len, err) == 0,
		    "af_write: %s", err);
		FUZZ_ASSERT(af_read(path2, kind, &body2, &len2, err) == 1 &&
		    len2 == len && memcmp(body, body2, len) == 0,
		    "a body changed in af_write/af_read: %s", err);
		free(body2);
	}
	free(body);
}

/* ---- part B ---- */

struct settings {
	char *config, *stages, *pipeline;
	int retain;
};

static bool
component_ok(const char *s, size_t n)
{
	if (n == 0 || n > 64 || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789_.-", s[i]) == NULL || s[i] == '\0')
			return false;
	return true;
}

/* Check a relative path; make its parent directories under root. */
static bool
path_ok(const char *root, const char *rel, char *full, size_t size)
{
	const char *p = rel;
	int depth = 0;

	for (;;) {
		size_t n = strcspn(p, "/");

		if (!component_ok(p, n) || ++depth > 4)
			return false;
		if (p[n] == '\0')
			break;
		snprintf(full, size, "%s/%.*s", root, (int)(p - rel + n), rel);
		(void)mkdir(full, 0755);
		p += n + 1;
	}
	snprintf(full, size, "%s/%s", root, rel);
	return strlen(full) < size - 1;
}

static const char *
kind_of(const char *rel)
{
	static const struct {
		const char *top, *kind;
	} kinds[] = {
		{ "metadata", "metadata" }, { "offsets/", "offsets" },
		{ "commits/", "commit" }, { "state/", "state" },
		{ "sources/", "source" }, { "_runnel_metadata/", "manifest" },
	};

	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strncmp(rel, kinds[i].top, strlen(kinds[i].top)) == 0)
			return kinds[i].kind;
	return NULL;
}

static void
make_entry(const char *root, char *head, const char *body, size_t n)
{
	char full[512], target[512], err[ERRBUF_SIZE];
	char *sp = strchr(head, ' ');
	const char *how = "", *kind;

	if (sp != NULL) {
		*sp = '\0';
		how = sp + 1;
	}
	if (!path_ok(root, head, full, sizeof full))
		return;
	if (strcmp(how, "dir") == 0) {
		(void)mkdir(full, 0755);
	} else if (strcmp(how, "fifo") == 0) {
		(void)mkfifo(full, 0644);
	} else if (strncmp(how, "symlink ", 8) == 0) {
		/* Targets inside root only: the harness must not touch
		 * anything else, whatever the input says. */
		if (path_ok(root, how + 8, target, sizeof target))
			(void)symlink(target, full);
	} else if (strcmp(how, "raw") == 0 || (kind = kind_of(head)) == NULL) {
		write_file(full, body, n);
	} else {
		(void)af_write(full, kind, body, n, err);
	}
}

/* Split the description into settings and entries; 0 when it has none. */
static int
build_dir(const char *root, char *text, size_t size, struct settings *st)
{
	char *p = text, *end = text + size;
	int sections = 0;

	/* settings: lines up to the first "=== " */
	while (p < end && strncmp(p, "=== ", 4) != 0) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *line_end = nl ? nl : end;

		*line_end = '\0';
		if (strncmp(p, "config=", 7) == 0)
			st->config = p + 7;
		else if (strncmp(p, "stages=", 7) == 0)
			st->stages = p + 7;
		else if (strncmp(p, "pipeline=", 9) == 0)
			st->pipeline = p + 9;
		else if (strncmp(p, "retain=", 7) == 0)
			st->retain = atoi(p + 7);
		p = nl ? nl + 1 : end;
	}
	while (p < end) {
		char *head = p + 4, *nl = memchr(p, '\n', (size_t)(end - p));
		char *body, *next;

		if (nl == NULL) {
			*end = '\0';
			make_entry(root, head, "", 0);
			break;
		}
		*nl = '\0';
		body = nl + 1;
		/* the body ends at "\n=== " */
		for (next = body; next < end; next++)
			if (next[0] == '\n' && end - next > 4 &&
			    strncmp(next + 1, "=== ", 4) == 0)
				break;
		make_entry(root, head, body, (size_t)(next - body));
		sections++;
		p = next < end ? next + 1 : end;
	}
	return sections;
}

/*
 * scount's own loader (count_state.h) on the text, with one key field,
 * with or without session windows.  What it accepts, saved and loaded
 * again, must save the same.
 */
static void
load_count_state(const char *blob, size_t len, const char *path,
    struct aggs *a, bool session)
{
	struct count_state cs, again;
	struct strbuf first, second;
	char err[ERRBUF_SIZE], *copy = xmalloc(len + 1);

	memcpy(copy, blob, len);
	copy[len] = '\0';
	sb_init(&first);
	sb_init(&second);
	count_state_init(&cs, 1, session, false, -1, aggs_size(a));
	if (count_state_load(&cs, a, "update", copy, len, path, err) == 0) {
		count_state_save(&cs, a, "update", &first);
		free(copy);
		copy = xmalloc(first.len + 1);
		memcpy(copy, first.buf, first.len + 1);
		count_state_init(&again, 1, session, false, -1, aggs_size(a));
		if (count_state_load(&again, a, "update", copy, first.len, path,
		    err) < 0)
			abort();	/* what we wrote must load */
		count_state_save(&again, a, "update", &second);
		if (first.len != second.len ||
		    memcmp(first.buf, second.buf, first.len) != 0)
			abort();	/* and save the same */
		count_state_free(&again);
	} else {
		DEBUG("count_state_load", err);
	}
	count_state_free(&cs);
	sb_free(&first);
	sb_free(&second);
	free(copy);
}

/* What scount's loader reads, with aggregates over FUZZ_DDL. */
static void
walk_state(char *blob, size_t len, const char *path)
{
	static const struct slice row[6] = {
		{ "x", 1 }, { "1", 1 }, { "2", 1 }, { "1.5", 3 },
		{ "true", 4 }, { "0", 1 },
	};
	struct schema s;
	struct aggs a;
	struct sreader r;
	struct strbuf sb;
	char err[ERRBUF_SIZE];
	const char *mode;
	int64_t format, evicted, wm, wm_out, rows;
	size_t nf;
	void *prev = NULL;

	if (schema_parse_ddl(&s, FUZZ_DDL, err) < 0)
		abort();
	aggs_init(&a);
	if (aggs_add(&a, AGG_SUM, &s, "i", err) < 0 ||
	    aggs_add(&a, AGG_AVG, &s, "d", err) < 0 ||
	    aggs_add(&a, AGG_MIN, &s, "s", err) < 0 ||
	    aggs_add(&a, AGG_MAX, &s, "s", err) < 0 ||
	    aggs_add(&a, AGG_MIN, &s, "t", err) < 0 ||
	    aggs_add(&a, AGG_MAX, &s, "b", err) < 0 ||
	    aggs_add(&a, AGG_SUM, &s, "d", err) < 0 ||
	    aggs_add(&a, AGG_MAX, &s, "ok", err) < 0)
		abort();
	/* First: the walk below reads blob in place. */
	for (int session = 0; session < 2; session++)
		load_count_state(blob, len, path, &a, session);
	nf = 1 + aggs_saved_fields(&a);
	sb_init(&sb);
	sreader_init(&r, blob, len, path);
	if (sreader_i64(&r, "format", false, &format, err) < 0 ||
	    sreader_item(&r, "mode", &mode, err) < 0 ||
	    sreader_i64(&r, "evicted", false, &evicted, err) < 0 ||
	    sreader_i64(&r, "watermark", true, &wm, err) < 0 ||
	    sreader_i64(&r, "wm_out", true, &wm_out, err) < 0 ||
	    sreader_i64(&r, "rows", false, &rows, err) < 0) {
		DEBUG("state", err);
		goto out;
	}
	for (int64_t k = 0; k < rows && !sreader_done(&r); k++) {
		void *acc;
		int64_t iv;
		double dv;

		if (sreader_record(&r, nf, err) < 0) {
			DEBUG("state", err);
			break;
		}
		(void)sreader_get_i64(&r, r.rec.field[0], &iv, err);
		(void)sreader_get_f64(&r, r.rec.field[0], &dv, err);
		acc = xcalloc(1, aggs_size(&a));
		if (aggs_load(&a, acc, r.rec.field + 1, err) < 0) {
			DEBUG("aggs_load", err);
			(void)sreader_error(&r, err, "%s", "bad aggregate");
			aggs_release(&a, acc);
			free(acc);
			break;
		}
		(void)aggs_add_row(&a, acc, row, err);
		sb_reset(&sb);
		aggs_save(&a, acc, &sb);
		if (prev != NULL)	/* merge, as sessions do */
			aggs_absorb(&a, acc, prev);
		free(prev);
		prev = acc;
	}
	(void)sreader_done(&r);
out:
	if (prev != NULL) {
		if (aggs_gc_wanted(&a)) {
			aggs_gc_begin(&a);
			aggs_gc_move(&a, prev);
			aggs_gc_end(&a);
		}
		aggs_release(&a, prev);
		free(prev);
	}
	sreader_free(&r);
	sb_free(&sb);
	aggs_free(&a);
	schema_free(&s);
}

/* Read every state/STAGE/N and sources/SOURCE/NAME there is. */
static void
read_all(struct checkpoint *ck, const char *root, const char *config)
{
	static const char *const tops[2] = { "state", "sources" };
	char dir[600], err[ERRBUF_SIZE];

	for (int t = 0; t < 2; t++) {
		DIR *d, *e;
		struct dirent *de, *fe;

		snprintf(dir, sizeof dir, "%s/%s", root, tops[t]);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((de = readdir(d)) != NULL) {
			char sub[900];

			if (de->d_name[0] == '.')
				continue;
			snprintf(sub, sizeof sub, "%s/%s", dir, de->d_name);
			if ((e = opendir(sub)) == NULL)
				continue;
			while ((fe = readdir(e)) != NULL) {
				char *body, *endp;
				size_t len;
				long long n;

				if (fe->d_name[0] == '.')
					continue;
				if (t == 1) {
					if (ckpt_read_source(ck, de->d_name,
					    fe->d_name, &body, &len, err) == 1)
						free(body);
					continue;
				}
				n = strtoll(fe->d_name, &endp, 10);
				if (*endp != '\0')
					continue;
				if (ckpt_read_state(ck, de->d_name, n, config,
				    &body, &len, err) == 1) {
					walk_state(body, len, fe->d_name);
					free(body);
				}
			}
			closedir(e);
		}
		closedir(d);
	}
}

static void
part_b(const uint8_t *data, size_t size)
{
	struct settings st = { NULL, NULL, NULL, 3 };
	struct ckpt_resume res;
	struct checkpoint *ck;
	struct ckstage cs;
	struct schema in, out;
	char root[300], err[ERRBUF_SIZE], *text, *blob;
	size_t len;
	int64_t next;
	bool found = false;

	for (size_t i = 0; i + 4 <= size && !found; i++)
		found = (i == 0 || data[i - 1] == '\n') &&
		    memcmp(data + i, "=== ", 4) == 0;
	if (!found)
		return;
	text = xmalloc(size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	snprintf(root, sizeof root, "%s/ck", base);
	fuzz_rm_rf(root);
	if (mkdir(root, 0755) < 0)
		abort();
	build_dir(root, text, size, &st);
	if (st.config == NULL || strchr(st.config, '\n') != NULL)
		st.config = DEFAULT_CONFIG;

	ck = ckpt_create(root, st.pipeline, 0, err);
	if (ck == NULL) {
		DEBUG("ckpt_create", err);
		goto done;
	}
	(void)ckpt_meta(ck, "id");
	(void)ckpt_meta(ck, "pipeline");
	if (ckpt_resume(ck, &res, err) < 0) {
		DEBUG("ckpt_resume", err);
		ckpt_close(ck);
		goto done;
	}
	next = res.commit + 1;
	ckpt_resume_free(&res);
	read_all(ck, root, st.config);
	/* ssink's sink position from the last commit (a Kafka sink parses
	 * it as offsets). */
	if (ckpt_read_commit_sink(ck, next - 1, &blob, err) == 1) {
		rd_kafka_topic_partition_list_t *pos =
		    kafka_offsets_parse(blob, err);

		if (pos != NULL)
			rd_kafka_topic_partition_list_destroy(pos);
		free(blob);
	}

	/* A stateful stage joining the run, as scount does. */
	schema_init(&in);
	schema_set_meta(&in, "checkpoint", root);
	schema_set_meta(&in, "run", ckpt_run_id(ck));
	if (st.stages != NULL)
		schema_set_meta(&in, "stages", st.stages);
	schema_copy(&out, &in);
	if (ckstage_open(&cs, "scount", &in, &out, err) == 1) {
		int got = ckstage_load(&cs, st.config, &blob, &len, err);

		if (got == 1) {
			walk_state(blob, len, ckstage_path(&cs, cs.commit));
			free(blob);
		}
		if (got >= 0 && ckstage_batch(&cs, next, err) == 0)
			(void)ckstage_save(&cs, next, st.config, "format=1\n",
			    9, err);
		if (got < 0)
			DEBUG("ckstage_load", err);
		ckstage_close(&cs);
	} else {
		DEBUG("ckstage_open", err);
	}
	schema_free(&in);
	schema_free(&out);

	/* ssrc and ssink for one more batch. */
	if (ckpt_write_offsets(ck, next, "offset=0\n", 9, err) == 0 &&
	    ckpt_commit(ck, next, "{\"t\":{\"0\":1}}", err) == 0)
		(void)ckpt_prune(ck, next, st.retain < 1 ? 1 :
		    st.retain > 1000 ? 1000 : st.retain, err);
	(void)ckpt_write_source(ck, "fuzz", "log", "x\n", 2, err);
	ckpt_close(ck);
done:
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (base[0] == '\0')
		make_base();
	part_a(data, size);
	part_b(data, size);
	return 0;
}

/*
 * sink_file.c: the file sink, Spark's FileStreamSink: each batch becomes
 * part files in DIR (csv or json), made visible atomically, and a manifest
 * entry (manifest.h) that commits it.
 *
 * Layout (documented in ssink(1)):
 *
 *   DIR/part-NNNNN-QUERYID.csv               batch NNNNN's rows
 *   DIR/F=v/G=w/part-NNNNN-QUERYID.csv       with --partition-by F,G
 *   DIR/_runnel_metadata/QUERYID-NNNNN       the batch's manifest entry
 *   DIR/.../.part-NNNNN-QUERYID.csv.tmp-PID-SEQ   a part file being
 *                                                 written (af_begin())
 *
 * A part file is named by batch and query, so a replayed batch (same query
 * id, from the checkpoint) renames its files over the old ones instead of
 * adding copies.  The batch id is only known at the batch's epoch frame,
 * so a part file is begun (af_begin()) under the name the batch will have
 * if it follows the last one written, and renamed to its real name when
 * the batch ends; the guess only shows in messages and temp names.
 *
 * The commit sequence of a batch: every part file is fsynced and renamed
 * into place (af_commit(), which also fsyncs its directory), directories
 * created for the batch are synced into their parents, then the manifest
 * entry is written atomically.  That last rename is the commit point: a
 * crash before it leaves part files that no manifest lists (a replay
 * rewrites them); after it, the batch is complete.  ssink writes the
 * checkpoint's commits/N only after end() returns.
 *
 * Memory: each partition of the batch has a buffer, written out whenever
 * it passes FLUSH_AT, so a batch costs at most FLUSH_AT per partition, not
 * its size.  Past MAX_OPEN partitions, a part file's descriptor is closed
 * after each write and its temp file reopened for the next one.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "csv_out.h"
#include "die.h"
#include "hivepath.h"
#include "json_out.h"
#include "manifest.h"
#include "sink.h"
#include "table.h"
#include "value.h"

#define FLUSH_AT	(64 * 1024)
#define MAX_OPEN	128

struct part {
	char *dir;		/* "F=v/G=w" relative to DIR, or "" */
	struct af_tmp t;	/* t.fd is -1 while parked */
	struct strbuf buf;	/* rows not yet written */
	int64_t rows, size;
	bool committed;		/* renamed into place in this batch */
};

struct file_sink {
	char *dir;
	const struct schema *in;	/* the input's schema */
	struct schema out;		/* the fields written in the files */
	size_t *fcols;			/* input index of each out field */
	size_t *pcols, np;		/* input index of each partition
					 * field */
	enum sink_format format;
	bool header;
	const char *ext;		/* "csv", "json" */
	char *query_id, *run_id;
	char *schema_ddl, *partition_ddl;
	struct record frec;		/* the out fields of the current row */
	struct table by_key;		/* raw partition values -> part */
	struct table by_dir;		/* partition directory -> part */
	struct part *parts;
	size_t nparts, cap;
	size_t nopen;			/* parts with an open descriptor */
	char **new_dirs;		/* made in this batch: sync parents */
	size_t nnew_dirs;
	struct manifest m;
	int64_t next;			/* the batch id expected next */
	struct strbuf key, tmp, path;
};

/*
 * The sink whose batch is open, for the exit handler: when ssink exits in
 * the middle of a batch (the upstream stage died, a malformed frame), the
 * batch's temp files are removed rather than left for the next run.
 */
static struct file_sink *live;
static bool exit_handler;

static void
drop_temps_at_exit(void)
{
	if (live == NULL)
		return;
	for (size_t i = 0; i < live->nparts; i++)
		if (live->parts[i].t.tmp != NULL)
			af_abort(&live->parts[i].t);
}

static bool
query_id_valid(const char *q)
{
	size_t n = strlen(q);

	if (n == 0 || n > 64)
		return false;
	for (const char *p = q; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

static int
file_check(const struct sink_options *o, const struct schema *s, char *err)
{
	for (size_t i = 0; i < o->npartition_by; i++) {
		const char *f = o->partition_by[i];

		if (schema_find(s, f) < 0) {
			struct strbuf names;

			sb_init(&names);
			for (size_t k = 0; k < s->nfields; k++)
				sb_addf(&names, "%s%s", k ? ", " : "",
				    s->fields[k].name);
			seterr(err, "--partition-by: no field '%s' in the "
			    "input (fields: %s)", f, names.buf ? names.buf : "");
			sb_free(&names);
			return -1;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(o->partition_by[k], f) == 0)
				return seterr(err, "--partition-by: field '%s' "
				    "given twice", f);
	}
	if (o->npartition_by > 0 && o->npartition_by >= s->nfields)
		return seterr(err, "--partition-by: cannot use all fields as "
		    "partition fields: no field would be left for the files");
	return 0;
}

/* "mkdir -p" of path, which lies under DIR; remember what it creates. */
static int
make_dirs(struct file_sink *f, char *path, char *err)
{
	size_t base = strlen(f->dir);

	for (char *p = path + base + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(path, 0777) == 0) {
			f->new_dirs = xrealloc(f->new_dirs,
			    (f->nnew_dirs + 1) * sizeof *f->new_dirs);
			f->new_dirs[f->nnew_dirs++] = xstrdup(path);
		} else if (errno != EEXIST) {
			int e = errno;

			seterr(err, "cannot create directory '%s': %s", path,
			    strerror(e));
			*p = c;
			return -1;
		} else {
			struct stat st;

			/* lstat: a symlink someone placed at a partition
			 * directory's name would take the rows elsewhere. */
			if (lstat(path, &st) < 0)
				st.st_mode = 0;
			if (!S_ISDIR(st.st_mode)) {
				seterr(err, "cannot create directory '%s': %s",
				    path, S_ISLNK(st.st_mode) ? "a symbolic "
				    "link is there (refusing to follow it)" :
				    "File exists");
				*p = c;
				return -1;
			}
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

/* Create DIR itself (mkdir -p) and sync the parent of what was made. */
static int
make_data_dir(const char *dir, char *err)
{
	char *p = xstrdup(dir), *s;
	char *made = NULL;
	int rc = 0;

	for (s = p + (*p == '/'); rc == 0; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) == 0) {
			if (made == NULL)
				made = xstrdup(p);
		} else if (errno != EEXIST) {
			rc = seterr(err, "cannot create directory '%s': %s", p,
			    strerror(errno));
		}
		*s = c;
		if (c == '\0')
			break;
	}
	if (rc == 0) {
		struct stat st;

		if (stat(dir, &st) < 0)
			rc = seterr(err, "cannot use directory '%s': %s", dir,
			    strerror(errno));
		else if (!S_ISDIR(st.st_mode))
			rc = seterr(err, "cannot use directory '%s': %s", dir,
			    strerror(ENOTDIR));
	}
	/* The first directory made: its entry must reach its parent's
	 * disk blocks, and so must each one below it (each is synced by
	 * the writes that follow into it, or is empty). */
	if (rc == 0 && made != NULL) {
		char *slash = strrchr(made, '/');

		if (slash == NULL)
			rc = af_sync_dir(".", err);
		else {
			*slash = '\0';
			rc = af_sync_dir(*made ? made : "/", err);
		}
	}
	free(made);
	free(p);
	return rc;
}

/*
 * Remove temp files (dot-names from af_begin()) that writers which died
 * left in dir and its partition directories.  A temp name holds its
 * writer's pid; one whose writer still runs (another ssink writing here)
 * is left alone.  Pids are those of this host.
 */
static void
remove_dead_temps(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
			continue;
		if (af_is_temp(name)) {
			const char *t = strstr(name, ".tmp-");
			long pid = strtol(t + 5, NULL, 10);

			if (pid > 0 && (pid == (long)getpid() ||
			    (kill((pid_t)pid, 0) < 0 && errno == ESRCH)))
				unlinkat(dirfd(d), name, 0);
			continue;
		}
		/* Partition directories ("F=v") and the manifest's. */
		if (depth < 64 && de->d_type != DT_REG &&
		    (strchr(name, '=') != NULL ||
		    (depth == 0 && strcmp(name, MANIFEST_DIR) == 0)) &&
		    name[0] != '.') {
			struct strbuf sub;
			struct stat st;

			if (fstatat(dirfd(d), name, &st,
			    AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
				continue;
			sb_init(&sub);
			sb_addf(&sub, "%s/%s", dir, name);
			remove_dead_temps(sub.buf, depth + 1);
			sb_free(&sub);
		}
	}
	closedir(d);
}

/*
 * DIR itself is the user's to name (it may be a symlink), but what the
 * sink creates inside it is not followed through a symlink someone else
 * placed: the manifest directory here, partition directories in
 * make_dirs().
 */
static int
check_manifest_dir(struct file_sink *f, char *err)
{
	struct stat st;
	int rc = 0;

	sb_reset(&f->path);
	sb_addf(&f->path, "%s/%s", f->dir, MANIFEST_DIR);
	if (lstat(f->path.buf, &st) == 0 && !S_ISDIR(st.st_mode))
		rc = seterr(err, "cannot use directory '%s': %s", f->path.buf,
		    S_ISLNK(st.st_mode) ? "a symbolic link is there (refusing "
		    "to follow it)" : strerror(ENOTDIR));
	return rc;
}

static void
add_ddl(struct strbuf *sb, const struct field *fd)
{
	if (sb->len > 0)
		sb_adds(sb, ", ");
	sb_addf(sb, "%s %s", fd->name, type_name(fd->type));
}

static void *
file_open(const struct sink_options *o, const struct schema *s, char *err)
{
	struct file_sink *f;
	struct strbuf ddl, pddl;

	if (!query_id_valid(o->query_id)) {
		seterr(err, "the query id '%s' cannot name files (letters, "
		    "digits, '-' and '_' only)", o->query_id);
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->dir = xstrdup(o->target);
	/* "out/" and "out" are one directory; keep paths tidy. */
	for (size_t n = strlen(f->dir); n > 1 && f->dir[n - 1] == '/'; n--)
		f->dir[n - 1] = '\0';
	f->in = s;
	f->format = o->format;
	f->header = o->header && o->format == SINK_FORMAT_CSV;
	f->ext = sink_format_name(o->format);
	f->query_id = xstrdup(o->query_id);
	f->run_id = xstrdup(o->run_id ? o->run_id : "");
	schema_init(&f->out);
	sb_init(&ddl);
	sb_init(&pddl);
	f->np = o->npartition_by;
	f->pcols = xcalloc(f->np ? f->np : 1, sizeof *f->pcols);
	f->fcols = xcalloc(s->nfields, sizeof *f->fcols);
	for (size_t i = 0; i < f->np; i++) {
		f->pcols[i] = (size_t)schema_find(s, o->partition_by[i]);
		add_ddl(&pddl, &s->fields[f->pcols[i]]);
	}
	for (size_t i = 0; i < s->nfields; i++) {
		bool part = false;

		for (size_t k = 0; k < f->np; k++)
			part |= f->pcols[k] == i;
		if (part)
			continue;
		f->fcols[f->out.nfields] = i;
		schema_add(&f->out, s->fields[i].name, s->fields[i].type, NULL);
		add_ddl(&ddl, &s->fields[i]);
	}
	f->schema_ddl = ddl.buf ? ddl.buf : xstrdup("");
	f->partition_ddl = pddl.buf ? pddl.buf : xstrdup("");
	record_init(&f->frec);
	f->frec.field = xcalloc(f->out.nfields, sizeof *f->frec.field);
	f->frec.nfields = f->frec.cap = f->out.nfields;
	table_init(&f->by_key, sizeof(uint32_t));
	table_init(&f->by_dir, sizeof(uint32_t));
	sb_init(&f->key);
	sb_init(&f->tmp);
	sb_init(&f->path);
	f->m.lock_fd = -1;
	if (make_data_dir(f->dir, err) < 0 || check_manifest_dir(f, err) < 0 ||
	    manifest_open(&f->m, f->dir, f->query_id, err) < 0) {
		sink_file.close(f, false, NULL);
		return NULL;
	}
	remove_dead_temps(f->dir, 0);
	if (!exit_handler)
		atexit(drop_temps_at_exit);
	exit_handler = true;
	live = f;
	return f;
}

/* Give part p an open descriptor (reopening a parked temp file). */
static int
part_unpark(struct file_sink *f, struct part *p, char *err)
{
	if (p->t.fd >= 0)
		return 0;
	p->t.fd = open(p->t.tmp, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (p->t.fd < 0)
		return seterr(err, "cannot write '%s': %s", p->t.path,
		    strerror(errno));
	f->nopen++;
	return 0;
}

static int
part_flush(struct file_sink *f, struct part *p, char *err)
{
	if (part_unpark(f, p, err) < 0)
		return -1;
	if (af_append(&p->t, p->buf.buf, p->buf.len, err) < 0)
		return -1;
	p->size += (int64_t)p->buf.len;
	sb_reset(&p->buf);
	if (f->nopen > MAX_OPEN) {
		close(p->t.fd);
		p->t.fd = -1;
		f->nopen--;
	}
	return 0;
}

static void reset_batch(struct file_sink *f);

/* A row failed: drop the batch's temp files (nothing is in place yet). */
static void
abort_batch(struct file_sink *f)
{
	for (size_t i = 0; i < f->nparts; i++)
		if (f->parts[i].t.tmp != NULL)
			af_abort(&f->parts[i].t);
	reset_batch(f);
}

/* Start a part file for partition directory dir ("" for none). */
static struct part *
part_new(struct file_sink *f, const char *dir, size_t n, char *err)
{
	struct part *p;

	sb_reset(&f->path);
	sb_addf(&f->path, "%s/", f->dir);
	if (n > 0) {
		sb_add(&f->path, dir, n);
		if (make_dirs(f, f->path.buf, err) < 0)
			return NULL;
		sb_addc(&f->path, '/');
	}
	sb_addf(&f->path, "part-%05lld-%s.%s", (long long)f->next,
	    f->query_id, f->ext);
	if (f->nparts == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 8;
		f->parts = xrealloc(f->parts, f->cap * sizeof *f->parts);
	}
	p = &f->parts[f->nparts];
	memset(p, 0, sizeof *p);
	if (af_begin(&p->t, f->path.buf, err) < 0)
		return NULL;
	f->nparts++;
	f->nopen++;
	if (f->nopen > MAX_OPEN) {	/* parked until its first write */
		close(p->t.fd);
		p->t.fd = -1;
		f->nopen--;
	}
	p->dir = xstrndup(dir, n);
	sb_init(&p->buf);
	if (f->header)
		csv_out_header(&p->buf, &f->out);
	return p;
}

/* The part for the current row's partition values. */
static struct part *
part_for(struct file_sink *f, const struct record *rec, char *err)
{
	uint32_t h, id, *v;
	bool created;

	if (f->np == 0)
		return f->nparts ? &f->parts[0] : part_new(f, "", 0, err);
	sb_reset(&f->key);
	for (size_t i = 0; i < f->np; i++) {
		struct slice s = rec->field[f->pcols[i]];

		if (i > 0)
			sb_addc(&f->key, '\t');
		sb_add(&f->key, s.p, s.n);
	}
	h = table_hash(f->key.buf, f->key.len);
	id = table_upsert(&f->by_key, f->key.buf, f->key.len, h, &created);
	v = table_value(&f->by_key, id);
	if (!created)
		return &f->parts[*v];
	/* A new value: its directory, which may be that of another value
	 * (null and "" are both __HIVE_DEFAULT_PARTITION__). */
	sb_reset(&f->key);
	for (size_t i = 0; i < f->np; i++) {
		const struct field *fd = &f->in->fields[f->pcols[i]];
		struct slice s = rec->field[f->pcols[i]];
		int r;

		if (i > 0)
			sb_addc(&f->key, '/');
		sb_reset(&f->tmp);
		/* Spark casts the value to a string: timestamps as
		 * "2026-11-24 12:00:00", the console style. */
		r = value_render(fd->type, s, fd->type == TYPE_TIMESTAMP ?
		    RENDER_CONSOLE : RENDER_PLAIN, &f->tmp);
		if (r < 0) {
			table_delete(&f->by_key, id);
			seterr(err, "%s: malformed %s value '%.*s'", fd->name,
			    type_name(fd->type), (int)(s.n > 40 ? 40 : s.n),
			    s.p);
			return NULL;
		}
		hive_component(&f->key, fd->name, r == 1 ? NULL :
		    (f->tmp.buf ? f->tmp.buf : ""), f->tmp.len);
	}
	h = table_hash(f->key.buf, f->key.len);
	{
		uint32_t did = table_upsert(&f->by_dir, f->key.buf,
		    f->key.len, h, &created);
		uint32_t *dv = table_value(&f->by_dir, did);
		struct part *p;

		if (!created) {
			*(uint32_t *)table_value(&f->by_key, id) = *dv;
			return &f->parts[*dv];
		}
		*dv = (uint32_t)f->nparts;
		*(uint32_t *)table_value(&f->by_key, id) = (uint32_t)f->nparts;
		p = part_new(f, f->key.buf, f->key.len, err);
		if (p == NULL) {
			table_delete(&f->by_dir, did);
			table_delete(&f->by_key, id);
		}
		return p;
	}
}

static int
file_begin(void *state, char *err)
{
	return 0;
}

static int
file_row(void *state, const struct record *rec, char *err)
{
	struct file_sink *f = state;
	struct part *p = part_for(f, rec, err);
	int rc;

	if (p == NULL) {
		abort_batch(f);
		return -1;
	}
	for (size_t i = 0; i < f->out.nfields; i++)
		f->frec.field[i] = rec->field[f->fcols[i]];
	if (f->format == SINK_FORMAT_JSON) {
		rc = json_out_record(&p->buf, &f->out, &f->frec, &f->tmp, err);
		sb_addc(&p->buf, '\n');
	} else {
		rc = csv_out_record(&p->buf, &f->out, &f->frec, &f->tmp, err);
	}
	if (rc < 0) {
		abort_batch(f);
		return SINK_BAD_ROW;
	}
	p->rows++;
	if (p->buf.len >= FLUSH_AT && part_flush(f, p, err) < 0) {
		abort_batch(f);
		return -1;
	}
	return 0;
}

/* Forget the batch's parts (their files are committed or aborted). */
static void
reset_batch(struct file_sink *f)
{
	for (size_t i = 0; i < f->nparts; i++) {
		free(f->parts[i].dir);
		sb_free(&f->parts[i].buf);
	}
	f->nparts = 0;
	f->nopen = 0;
	for (size_t i = 0; i < f->nnew_dirs; i++)
		free(f->new_dirs[i]);
	f->nnew_dirs = 0;
	if (f->np > 0) {
		table_free(&f->by_key);
		table_free(&f->by_dir);
		table_init(&f->by_key, sizeof(uint32_t));
		table_init(&f->by_dir, sizeof(uint32_t));
	}
}

/* Sync the parent of each directory made in this batch, deepest first,
 * so every new entry on the path to a part file is durable. */
static int
sync_new_dirs(struct file_sink *f, char *err)
{
	for (size_t i = f->nnew_dirs; i-- > 0;) {
		char *slash = strrchr(f->new_dirs[i], '/');
		int rc;

		*slash = '\0';
		rc = af_sync_dir(f->new_dirs[i], err);
		*slash = '/';
		if (rc < 0)
			return -1;
	}
	return 0;
}

static int
file_end(void *state, const struct epoch *e, char *err)
{
	struct file_sink *f = state;
	char name[64];
	bool keep;

	snprintf(name, sizeof name, "part-%05lld-", (long long)e->batch);
	for (size_t i = 0; i < f->nparts; i++) {
		struct part *p = &f->parts[i];

		if (part_flush(f, p, err) < 0)
			goto fail;
		if (p->t.fd < 0 && part_unpark(f, p, err) < 0)
			goto fail;
		sb_reset(&f->path);
		sb_addf(&f->path, "%s/%s%s%s%s.%s", f->dir, p->dir,
		    *p->dir ? "/" : "", name, f->query_id, f->ext);
		/* The real name, now that the batch id is known (see the
		 * top of this file): af_commit() renames to t.path. */
		free(p->t.path);
		p->t.path = xstrdup(f->path.buf);
		f->nopen--;
		if (af_commit(&p->t, err) < 0)
			goto fail;
		p->committed = true;
	}
	if (sync_new_dirs(f, err) < 0)
		goto fail;
	manifest_begin(&f->m, e->batch, f->run_id, f->ext, f->schema_ddl,
	    f->partition_ddl);
	for (size_t i = 0; i < f->nparts; i++) {
		struct part *p = &f->parts[i];

		sb_reset(&f->path);
		sb_addf(&f->path, "%s%s%s%s.%s", p->dir, *p->dir ? "/" : "",
		    name, f->query_id, f->ext);
		manifest_add(&f->m, f->path.buf, p->rows, p->size);
	}
	if (manifest_commit(&f->m, err) < 0)
		goto fail;
	reset_batch(f);
	f->next = e->batch + 1;
	return manifest_compact(&f->m, err);
fail:
	/*
	 * Take back what this attempt renamed into place: without its
	 * manifest entry the batch is not committed, and a part file that
	 * no manifest lists would be seen by readers that take every file.
	 * Unless an earlier attempt of this batch (a replay) did commit it:
	 * then the files are that entry's, rewritten with the same rows,
	 * and stay.
	 */
	sb_reset(&f->path);
	sb_addf(&f->path, "%s/", f->m.dir);
	manifest_name(&f->path, f->query_id, e->batch);
	keep = access(f->path.buf, F_OK) == 0;
	for (size_t i = 0; i < f->nparts; i++) {
		struct part *p = &f->parts[i];

		if (p->committed && !keep) {
			sb_reset(&f->path);
			sb_addf(&f->path, "%s/%s%s%s%s.%s", f->dir, p->dir,
			    *p->dir ? "/" : "", name, f->query_id, f->ext);
			unlink(f->path.buf);
		} else if (p->t.tmp != NULL) {
			af_abort(&p->t);
		}
	}
	reset_batch(f);
	return -1;
}

static int
file_close(void *state, bool final, char *err)
{
	struct file_sink *f = state;

	if (live == f)
		live = NULL;
	for (size_t i = 0; i < f->nparts; i++)
		if (f->parts[i].t.tmp != NULL)
			af_abort(&f->parts[i].t);
	reset_batch(f);
	free(f->parts);
	free(f->new_dirs);
	table_free(&f->by_key);
	table_free(&f->by_dir);
	if (f->m.dir != NULL)
		manifest_close(&f->m);
	free(f->frec.field);
	f->frec.field = NULL;
	schema_free(&f->out);
	free(f->fcols);
	free(f->pcols);
	free(f->schema_ddl);
	free(f->partition_ddl);
	free(f->query_id);
	free(f->run_id);
	free(f->dir);
	sb_free(&f->key);
	sb_free(&f->tmp);
	sb_free(&f->path);
	free(f);
	return 0;
}

/* After a failure: the part files under way removed, nothing written. */
static void
file_discard(void *state)
{
	(void)file_close(state, false, NULL);
}

static const enum sink_format file_formats[] = {
	SINK_FORMAT_CSV, SINK_FORMAT_JSON, SINK_FORMAT_NONE,
};

const struct sink_type sink_file = {
	.name = "file",
	.target = "DIR",
	.options = SINK_OPT_FORMAT | SINK_OPT_HEADER | SINK_OPT_PARTITION_BY,
	.formats = file_formats,
	.supported = true,
	.header_default = false,
	.check = file_check,
	.open = file_open,
	.begin = file_begin,
	.row = file_row,
	.end = file_end,
	.close = file_close,
	.discard = file_discard,
};

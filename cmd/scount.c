/*
 * scount: streaming groupBy(...).count() and aggregates, with Spark's
 * output modes (complete, update, append), watermark eviction and session
 * windows.
 *
 * State: one hash table (lib/table.h) keyed by the group's raw wire
 * fields joined by TAB, in output order (window_start, window_end, then
 * the keys as they come in the input), so a group's key is written out as
 * it is stored.  The value holds a batch mark (the last batch that
 * changed the group), for windows the time that decides eviction, and the
 * accumulators (lib/aggregate.h).  Session windows change the value: the
 * table is keyed by the group without the window columns, and the value
 * heads a list, sorted by start, of that group's sessions, kept in a pool
 * of fixed-size records (start, end, next, mark, accumulators).
 *
 * Output order is deterministic: groups in first-seen order (the table's
 * id order), sessions of a group by start time.
 *
 * Everything is flushed at epoch frames only: a stage that emits per
 * batch has nothing to say before the batch ends.
 *
 * Checkpoint (the header has @checkpoint, lib/ckstage.h): state C is
 * loaded before the header is forwarded, and state N written at the end
 * of batch N, after its rows and before its epoch frame.  The state is
 * what makes the rest of the stream come out as it would have without a
 * restart: the groups in first-seen order with their accumulators
 * (sessions in start order), the watermark, the watermark of complete
 * mode's last output, and whether eviction has dropped groups.  Batch
 * marks and the update list need no saving: update mode writes every
 * change at the end of its batch.  Eviction times are not saved either:
 * they are a key field, read back from it.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "ckstage.h"
#include "stage.h"
#include "strbuf.h"
#include "table.h"

#define SYNOPSIS "scount [KEY ...] [--mode MODE] [--sum F] [--min F] " \
	"[--max F] [--avg F]"

enum mode {
	MODE_COMPLETE,
	MODE_UPDATE,
	MODE_APPEND,
};

/* A session window of one group; its accumulator follows it. */
struct session {
	int64_t start, end;
	uint32_t next;		/* next session of the group (index + 1) or 0 */
	uint32_t mark;		/* the last batch (seq) that changed it */
};

/* Sessions live in one array; free ones are chained through next. */
struct pool {
	unsigned char *mem;
	size_t stride;
	uint32_t n, cap;	/* records used (free ones included), room */
	uint32_t free_head;	/* first free record (index + 1), 0 none */
	uint32_t nlive;
};

static const char *const mode_names[] = { "complete", "update", "append" };

/* The start of a group's value in the table. */
struct group {
	uint32_t mark;		/* the last batch (seq) that changed it */
	uint32_t head;		/* sessions: the first (index + 1) or 0 */
	/* int64 eviction time when the mode evicts (not for sessions), then
	 * the accumulator (not for sessions) */
};

struct scount {
	struct stage st;
	enum mode mode;
	struct aggs aggs;
	size_t *key;		/* group key fields, in output order */
	size_t nkeys;
	bool key_span;		/* adjacent in the input, in order */
	int ws, we;		/* window_start, window_end fields, or -1 */
	bool session;
	int evict_f;		/* field whose time closes a group, or -1 */
	int evict_j;		/* its position in the key, or -1 */
	bool evicts;		/* update/append mode and evict_f >= 0 */
	struct table groups;
	size_t acc_off;		/* accumulator's offset in a value */
	struct pool pool;
	uint32_t *upd;		/* groups changed in the batch (update) */
	size_t nupd, upd_cap;
	uint32_t seq;		/* batch sequence number, from 1 */
	int64_t wm;		/* the current watermark */
	int64_t wm_out;		/* watermark at complete mode's last output */
	int64_t min_end;	/* no group closes before this time */
	int64_t rows_in, rows_out, updated, dropped;
	bool evicted;		/* eviction has dropped groups (ever, across
				 * runs of a checkpoint) */
	struct strbuf keybuf;
	struct ckstage ck;
	char *config;		/* the checkpoint's change-detection string */
	struct strbuf state;	/* the state being written, reused */
	char err[ERRBUF_SIZE];
};

/* The session pool. */

static inline struct session *
sess(const struct pool *p, uint32_t idx)
{
	return (struct session *)(void *)(p->mem +
	    (size_t)(idx - 1) * p->stride);
}

static inline void *
sess_acc(const struct pool *p, uint32_t idx)
{
	return (char *)sess(p, idx) + sizeof(struct session);
}

static uint32_t
pool_alloc(struct pool *p)
{
	uint32_t idx;

	if (p->free_head != 0) {
		idx = p->free_head;
		p->free_head = sess(p, idx)->next;
	} else {
		if (p->n == p->cap) {
			if (p->cap >= UINT32_MAX / 2)
				die(EXIT_RUNTIME, "too many sessions");
			p->cap = p->cap ? 2 * p->cap : 64;
			p->mem = xrealloc(p->mem, (size_t)p->cap * p->stride);
		}
		idx = ++p->n;
	}
	memset(sess(p, idx), 0, p->stride);
	p->nlive++;
	return idx;
}

static void
pool_free(struct pool *p, uint32_t idx)
{
	sess(p, idx)->next = p->free_head;
	p->free_head = idx;
	p->nlive--;
}

/* Options and schema. */

struct agg_opt {
	enum agg_op op;
	const char *field;
};


__attribute__((noreturn)) static void
no_field(const struct schema *sc, const char *what, const char *name)
{
	struct strbuf names;

	sb_init(&names);
	schema_field_list(sc, &names);
	die(EXIT_USAGE, "%s: no field '%s' in the input (fields: %s)", what,
	    name, names.buf ? names.buf : "none");
}

static int
find_time(const struct schema *sc, const char *name)
{
	int i = schema_find(sc, name);

	return i >= 0 && sc->fields[i].type == TYPE_TIMESTAMP ? i : -1;
}

/*
 * Decide the group key, the eviction field and the output schema from
 * the input header, the KEY arguments and the aggregates.  Usage errors
 * (unknown field, append without a watermark) exit 2.
 */
static void
setup(struct scount *c, char **keys, size_t nkeys_arg,
    const struct agg_opt *ao, size_t nao, struct schema *out)
{
	const struct schema *sc = &c->st.schema;
	const char *window = schema_meta(sc, "window");
	const char *et_name = schema_meta(sc, "event_time");
	bool *in_key = xcalloc(sc->nfields ? sc->nfields : 1, sizeof *in_key);
	bool *aggregated = xcalloc(sc->nfields ? sc->nfields : 1,
	    sizeof *aggregated);
	int et = -1;

	c->ws = find_time(sc, "window_start");
	c->we = find_time(sc, "window_end");
	if (c->ws < 0 || c->we < 0)
		c->ws = c->we = -1;
	c->session = window && strcmp(window, "session") == 0;
	if (c->session && c->ws < 0)
		die(EXIT_RUNTIME, "stdin:1: the header says @window=session "
		    "but has no window_start/window_end TIMESTAMP fields");
	if (et_name != NULL && (et = find_time(sc, et_name)) >= 0 &&
	    (et == c->ws || et == c->we))
		et = -1;

	for (size_t i = 0; i < nao; i++) {
		if (aggs_add(&c->aggs, ao[i].op, sc, ao[i].field, c->err) < 0) {
			char opt[8];

			snprintf(opt, sizeof opt, "--%s",
			    agg_op_name(ao[i].op));
			if (schema_find(sc, ao[i].field) < 0)
				no_field(sc, opt, ao[i].field);
			die(EXIT_USAGE, "%s: %s", opt, c->err);
		}
		aggregated[c->aggs.agg[i].field] = true;
	}
	if (nkeys_arg > 0) {
		for (size_t i = 0; i < nkeys_arg; i++) {
			int f = schema_find(sc, keys[i]);

			if (f < 0)
				no_field(sc, "key", keys[i]);
			in_key[f] = true;
		}
	} else {
		/* Every field but event-time columns and aggregated ones. */
		for (size_t i = 0; i < sc->nfields; i++)
			in_key[i] = !aggregated[i] &&
			    sc->fields[i].type != TYPE_TIMESTAMP;
	}
	if (c->ws >= 0)
		in_key[c->ws] = in_key[c->we] = false;

	c->key = xcalloc(sc->nfields + 2, sizeof *c->key);
	if (c->ws >= 0 && !c->session) {
		c->key[c->nkeys++] = (size_t)c->ws;
		c->key[c->nkeys++] = (size_t)c->we;
	}
	for (size_t i = 0; i < sc->nfields; i++)
		if (in_key[i])
			c->key[c->nkeys++] = i;
	c->key_span = true;
	for (size_t j = 1; j < c->nkeys; j++)
		if (c->key[j] != c->key[0] + j)
			c->key_span = false;

	if (c->ws >= 0)
		c->evict_f = c->we;
	else if (et >= 0 && in_key[et])
		c->evict_f = et;
	else
		c->evict_f = -1;
	c->evict_j = -1;
	for (size_t j = 0; j < c->nkeys && !c->session; j++)
		if ((int)c->key[j] == c->evict_f)
			c->evict_j = (int)j;
	if (c->mode == MODE_APPEND) {
		if (schema_meta(sc, "watermark") == NULL)
			die(EXIT_USAGE, "append output mode needs a watermark "
			    "(use swindow --watermark)");
		if (c->evict_f < 0)
			die(EXIT_USAGE, "append output mode needs a window "
			    "(use swindow --size) or the event-time field "
			    "among the keys");
	}
	c->evicts = c->mode != MODE_COMPLETE && c->evict_f >= 0;

	schema_init(out);
	for (size_t i = 0; i < sc->nmeta; i++)
		schema_set_meta(out, sc->meta[i].key, sc->meta[i].value);
	if (c->ws >= 0) {
		schema_add(out, "window_start", TYPE_TIMESTAMP, NULL);
		schema_add(out, "window_end", TYPE_TIMESTAMP, NULL);
	}
	for (size_t i = 0; i < sc->nfields; i++)
		if (in_key[i] && schema_add(out, sc->fields[i].name,
		    sc->fields[i].type, c->err) < 0)
			die(EXIT_USAGE, "%s", c->err);
	if (aggs_add_columns(&c->aggs, out, c->err) < 0)
		die(EXIT_USAGE, "%s (rename the input field)", c->err);
	free(in_key);
	free(aggregated);

	if (c->session) {
		table_init(&c->groups, sizeof(struct group));
		c->pool.stride = sizeof(struct session) + aggs_size(&c->aggs);
	} else {
		c->acc_off = sizeof(struct group) + (c->evicts ? 8 : 0);
		table_init(&c->groups, c->acc_off + aggs_size(&c->aggs));
	}
}

/* Rows. */

static int64_t
time_field(struct scount *c, int f)
{
	int64_t v;

	if (agg_parse_i64(c->st.rec.field[f], &v) < 0)
		stage_die(&c->st, "%s: '%.*s' is not a TIMESTAMP",
		    c->st.schema.fields[f].name,
		    (int)(c->st.rec.field[f].n > 40 ? 40 :
		    c->st.rec.field[f].n), c->st.rec.field[f].p);
	return v;
}

/* The group key of the current record: a slice of the record itself when
 * its fields are adjacent, else joined in a reused buffer. */
static const char *
build_key(struct scount *c, size_t *n)
{
	const struct slice *f = c->st.rec.field;

	if (c->nkeys == 0) {
		*n = 0;
		return "";
	}
	if (c->key_span) {
		struct slice a = f[c->key[0]], b = f[c->key[c->nkeys - 1]];

		*n = (size_t)(b.p + b.n - a.p);
		return a.p;
	}
	sb_reset(&c->keybuf);
	for (size_t j = 0; j < c->nkeys; j++) {
		if (j > 0)
			sb_addc(&c->keybuf, '\t');
		sb_add(&c->keybuf, f[c->key[j]].p, f[c->key[j]].n);
	}
	*n = c->keybuf.len;
	return c->keybuf.buf;
}

static void
mark_group(struct scount *c, struct group *g, uint32_t id)
{
	if (g->mark == c->seq)
		return;
	g->mark = c->seq;
	if (!c->session)
		c->updated++;
	if (c->mode == MODE_UPDATE) {
		if (c->nupd == c->upd_cap) {
			c->upd_cap = c->upd_cap ? 2 * c->upd_cap : 256;
			c->upd = xrealloc(c->upd, c->upd_cap * sizeof *c->upd);
		}
		c->upd[c->nupd++] = id;
	}
}

static uint32_t
lookup(struct scount *c)
{
	size_t n;
	const char *key = build_key(c, &n);
	bool created;

	return table_upsert(&c->groups, key, n, table_hash(key, n), &created);
}

static void
add_row(struct scount *c)
{
	const struct slice *f = c->st.rec.field;
	int64_t end = 0;
	uint32_t id;
	char *v;

	c->rows_in++;
	/* Spark filters rows whose event time (so window) is null. */
	if (c->ws >= 0 && field_is_null(f[c->we]))
		return;
	if (c->evicts) {
		if (field_is_null(f[c->evict_f]))
			return;
		end = time_field(c, c->evict_f);
		if (end <= c->wm) {	/* its group was closed already */
			c->dropped++;
			return;
		}
	}
	id = lookup(c);
	v = table_value(&c->groups, id);
	if (c->evicts) {
		/* Every row of a group has the same closing time. */
		memcpy(v + sizeof(struct group), &end, sizeof end);
		if (end < c->min_end)
			c->min_end = end;
	}
	mark_group(c, (struct group *)(void *)v, id);
	if (aggs_add_row(&c->aggs, v + c->acc_off, f, c->err) < 0)
		stage_die(&c->st, "%s", c->err);
}

/*
 * A row of a session window [start, end): merge it, per group, with every
 * session it overlaps or touches (Spark merges when a session starts at
 * or before another's end), else start a new session.  A group's sessions
 * are disjoint and sorted by start, so the ones to merge are adjacent.
 */
static void
add_session_row(struct scount *c)
{
	const struct slice *f = c->st.rec.field;
	struct pool *p = &c->pool;
	int64_t start, end;
	uint32_t id, prev = 0, cur, t;
	struct group *g;
	struct session *s;

	c->rows_in++;
	if (field_is_null(f[c->ws]) || field_is_null(f[c->we]))
		return;
	start = time_field(c, c->ws);
	end = time_field(c, c->we);
	if (c->evicts && end <= c->wm) {
		c->dropped++;
		return;
	}
	id = lookup(c);
	g = table_value(&c->groups, id);
	mark_group(c, g, id);
	for (cur = g->head; cur != 0 && sess(p, cur)->end < start;
	    cur = sess(p, cur)->next)
		prev = cur;
	if (cur != 0 && sess(p, cur)->start <= end) {
		t = cur;
		s = sess(p, t);
		if (start < s->start)
			s->start = start;
		if (end > s->end)
			s->end = end;
		while (s->next != 0 && sess(p, s->next)->start <= s->end) {
			uint32_t o = s->next;
			struct session *os = sess(p, o);

			if (os->end > s->end)
				s->end = os->end;
			aggs_absorb(&c->aggs, sess_acc(p, t), sess_acc(p, o));
			if (os->mark == c->seq)
				c->updated--;	/* counted in t */
			s->next = os->next;
			pool_free(p, o);
		}
	} else {
		t = pool_alloc(p);	/* may move the pool, not the table */
		s = sess(p, t);
		s->start = start;
		s->end = end;
		s->next = cur;
		if (prev != 0)
			sess(p, prev)->next = t;
		else
			g->head = t;
		if (end < c->min_end)
			c->min_end = end;
	}
	if (s->mark != c->seq) {
		s->mark = c->seq;
		c->updated++;
	}
	if (aggs_add_row(&c->aggs, sess_acc(p, t), f, c->err) < 0)
		stage_die(&c->st, "%s", c->err);
}

/* Output. */

static void
write_group(struct scount *c, uint32_t id)
{
	size_t n;
	const char *key = table_key(&c->groups, id, &n);
	const char *v = table_value(&c->groups, id);

	if (c->nkeys > 0)
		fw_field_raw(&c->st.out, (struct slice){ key, n });
	aggs_write(&c->aggs, v + c->acc_off, &c->st.out);
	fw_end_record(&c->st.out);
	c->rows_out++;
}

static void
write_session(struct scount *c, uint32_t id, uint32_t si)
{
	size_t n;
	const char *key = table_key(&c->groups, id, &n);
	const struct session *s = sess(&c->pool, si);

	fw_i64(&c->st.out, s->start);
	fw_i64(&c->st.out, s->end);
	if (c->nkeys > 0)
		fw_field_raw(&c->st.out, (struct slice){ key, n });
	aggs_write(&c->aggs, sess_acc(&c->pool, si), &c->st.out);
	fw_end_record(&c->st.out);
	c->rows_out++;
}

/* Write group id (every session, or only those changed this batch). */
static void
write_any(struct scount *c, uint32_t id, bool changed_only)
{
	const struct group *g = table_value(&c->groups, id);

	if (!c->session) {
		write_group(c, id);
		return;
	}
	for (uint32_t si = g->head; si != 0; si = sess(&c->pool, si)->next)
		if (!changed_only || sess(&c->pool, si)->mark == c->seq)
			write_session(c, id, si);
}

static void
emit_all(struct scount *c)
{
	for (uint32_t id = 0; id < table_end(&c->groups); id++)
		if (table_live(&c->groups, id))
			write_any(c, id, false);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Update mode: the groups changed in this batch, in first-seen order.
 * When most groups changed, a scan beats sorting the list. */
static void
emit_updated(struct scount *c)
{
	/* Nothing changed (the table may still be full, e.g. just loaded
	 * from a checkpoint, while the list was never allocated). */
	if (c->nupd == 0)
		return;
	if (c->nupd * 8 > table_end(&c->groups)) {
		for (uint32_t id = 0; id < table_end(&c->groups); id++) {
			const struct group *g;

			if (!table_live(&c->groups, id))
				continue;
			g = table_value(&c->groups, id);
			if (g->mark == c->seq)
				write_any(c, id, true);
		}
		return;
	}
	qsort(c->upd, c->nupd, sizeof *c->upd, cmp_u32);
	for (size_t i = 0; i < c->nupd; i++)
		write_any(c, c->upd[i], true);
}

/*
 * Close every group (or session) whose time is at or below the watermark:
 * write it when emit (append mode), then drop it from the state.  Skipped
 * outright while the watermark is below the earliest closing time.
 */
static void
evict(struct scount *c, bool emit)
{
	int64_t next_min = INT64_MAX;

	if (!c->evicts || c->wm < c->min_end)
		return;
	for (uint32_t id = 0; id < table_end(&c->groups); id++) {
		char *v;

		if (!table_live(&c->groups, id))
			continue;
		v = table_value(&c->groups, id);
		if (c->session) {
			struct group *g = (struct group *)(void *)v;
			uint32_t prev = 0, si = g->head;

			while (si != 0) {
				struct session *s = sess(&c->pool, si);
				uint32_t next = s->next;

				if (s->end > c->wm) {
					if (s->end < next_min)
						next_min = s->end;
					prev = si;
				} else {
					if (emit)
						write_session(c, id, si);
					aggs_release(&c->aggs,
					    sess_acc(&c->pool, si));
					c->evicted = true;
					if (prev != 0)
						sess(&c->pool,
						    prev)->next = next;
					else
						g->head = next;
					pool_free(&c->pool, si);
				}
				si = next;
			}
			if (g->head == 0)
				table_delete(&c->groups, id);
		} else {
			int64_t end;

			memcpy(&end, v + sizeof(struct group), sizeof end);
			if (end > c->wm) {
				if (end < next_min)
					next_min = end;
				continue;
			}
			if (emit)
				write_group(c, id);
			aggs_release(&c->aggs, v + c->acc_off);
			table_delete(&c->groups, id);
			c->evicted = true;
		}
	}
	c->min_end = next_min;
}

/* Reclaim the string store of min/max when it is mostly garbage. */
static void
collect_strings(struct scount *c)
{
	if (!aggs_gc_wanted(&c->aggs))
		return;
	aggs_gc_begin(&c->aggs);
	for (uint32_t id = 0; id < table_end(&c->groups); id++) {
		char *v;

		if (!table_live(&c->groups, id))
			continue;
		v = table_value(&c->groups, id);
		if (!c->session) {
			aggs_gc_move(&c->aggs, v + c->acc_off);
			continue;
		}
		for (uint32_t si = ((struct group *)(void *)v)->head; si != 0;
		    si = sess(&c->pool, si)->next)
			aggs_gc_move(&c->aggs, sess_acc(&c->pool, si));
	}
	aggs_gc_end(&c->aggs);
}

static size_t
mem_bytes(const struct scount *c)
{
	return table_mem_bytes(&c->groups) + (size_t)c->pool.cap *
	    c->pool.stride + aggs_mem_bytes(&c->aggs) +
	    c->upd_cap * sizeof *c->upd + c->keybuf.cap;
}

/* Checkpoint. */

/* A field name as a config word's part: space, comma and % escaped. */
static void
config_name(struct strbuf *sb, const char *name)
{
	for (const char *p = name; *p; p++) {
		if (*p == ' ' || *p == ',' || *p == '%')
			sb_addf(sb, "%%%02X", (unsigned char)*p);
		else
			sb_addc(sb, *p);
	}
}

/*
 * What the state's meaning depends on (checkpoint.h rule 8): the key
 * fields with their types, the aggregates with their input types, and the
 * kind of window.  The output mode is not in it: the state is the same in
 * every mode, and load_state() applies the finer rule.
 */
static char *
make_config(const struct scount *c)
{
	const struct schema *sc = &c->st.schema;
	const char *window = schema_meta(sc, "window");
	struct strbuf sb;
	bool first = true;

	sb_init(&sb);
	sb_adds(&sb, "scount keys=");
	for (size_t j = 0; j < c->nkeys; j++) {
		const struct field *f = &sc->fields[c->key[j]];

		if ((int)c->key[j] == c->ws || (int)c->key[j] == c->we)
			continue;
		if (!first)
			sb_addc(&sb, ',');
		first = false;
		config_name(&sb, f->name);
		sb_addf(&sb, ":%s", type_name(f->type));
	}
	sb_adds(&sb, " aggs=count");
	for (size_t i = 0; i < c->aggs.n; i++) {
		sb_addc(&sb, ',');
		config_name(&sb, c->aggs.agg[i].name);
		sb_addf(&sb, ":%s", type_name(c->aggs.agg[i].in));
	}
	sb_addf(&sb, " window=%s", c->ws < 0 ? "none" :
	    window != NULL && *window != '\0' && strchr(window, ' ') == NULL ?
	    window : "columns");
	return sb.buf;
}

/* A state record's key: its first nkeys fields, as they lie in the line. */
static const char *
record_key(const struct scount *c, const struct record *r, size_t *n)
{
	if (c->nkeys == 0) {
		*n = 0;
		return "";
	}
	*n = (size_t)(r->field[c->nkeys - 1].p + r->field[c->nkeys - 1].n -
	    r->field[0].p);
	return r->field[0].p;
}

/*
 * Output mode changes between runs (Spark does not check them; we allow
 * what keeps the output right): update and append keep the same state
 * (the open windows), and complete keeps a superset of it, so moving
 * among update and append, or from complete to either, is fine (the first
 * batch evicts what the watermark closes; append writes those windows
 * then).  Complete mode writes the whole table, so it cannot follow a
 * state from which eviction has dropped groups.
 */
static void
check_mode(struct scount *c, struct sreader *r, const char *mode,
    bool evicted)
{
	if (c->mode != MODE_COMPLETE || !evicted)
		return;
	die(EXIT_RUNTIME, "checkpoint: '%s': the query changed in a way its "
	    "state cannot follow: mode was '%s', now 'complete', and the "
	    "watermark has evicted groups that complete mode would have to "
	    "write (use a new checkpoint directory)", r->path, mode);
}

/* Load state C, if any, into the empty table (before the header goes). */
static void
load_state(struct scount *c)
{
	struct sreader r;
	const char *v, *path;
	char *blob;
	size_t len, nf;
	int64_t format, rows, evicted;
	int got;

	got = ckstage_load(&c->ck, c->config, &blob, &len, c->err);
	if (got < 0)
		die(EXIT_RUNTIME, "%s", c->err);
	if (got == 0)
		return;
	path = ckstage_path(&c->ck, c->ck.commit);
	sreader_init(&r, blob, len, path);
	if (sreader_i64(&r, "format", false, &format, c->err) < 0)
		goto bad;
	if (format != 1) {
		sreader_error(&r, c->err, "state format %lld, this scount "
		    "reads format 1", (long long)format);
		goto bad;
	}
	if (sreader_item(&r, "mode", &v, c->err) < 0 ||
	    sreader_i64(&r, "evicted", false, &evicted, c->err) < 0)
		goto bad;
	check_mode(c, &r, v, evicted != 0);
	c->evicted = evicted != 0;
	if (sreader_i64(&r, "watermark", true, &c->wm, c->err) < 0 ||
	    sreader_i64(&r, "wm_out", true, &c->wm_out, c->err) < 0 ||
	    sreader_i64(&r, "rows", false, &rows, c->err) < 0)
		goto bad;
	nf = c->nkeys + (c->session ? 2 : 0) + aggs_saved_fields(&c->aggs);
	for (int64_t i = 0; i < rows; i++) {
		const struct slice *f;
		const char *key;
		size_t n;
		bool created;
		uint32_t id;
		char *val;
		void *acc;
		int64_t start = 0, end = INT64_MAX;

		if (sreader_record(&r, nf, c->err) < 0)
			goto bad;
		f = r.rec.field;
		key = record_key(c, &r.rec, &n);
		id = table_upsert(&c->groups, key, n, table_hash(key, n),
		    &created);
		val = table_value(&c->groups, id);
		if (c->session) {
			struct group *g = (struct group *)(void *)val;
			uint32_t t, last = 0;

			if (sreader_get_i64(&r, f[c->nkeys], &start,
			    c->err) < 0 || sreader_get_i64(&r,
			    f[c->nkeys + 1], &end, c->err) < 0)
				goto bad;
			t = pool_alloc(&c->pool);
			for (uint32_t si = g->head; si != 0;
			    si = sess(&c->pool, si)->next)
				last = si;
			if (last != 0 && sess(&c->pool, last)->end >= start) {
				sreader_error(&r, c->err, "sessions out of "
				    "order");
				goto bad;
			}
			sess(&c->pool, t)->start = start;
			sess(&c->pool, t)->end = end;
			if (last != 0)
				sess(&c->pool, last)->next = t;
			else
				g->head = t;
			acc = sess_acc(&c->pool, t);
			f += c->nkeys + 2;
		} else {
			if (!created) {
				sreader_error(&r, c->err, "group repeated");
				goto bad;
			}
			/* The closing time is a key field; a null one (a
			 * complete-mode group) never closes before the
			 * final batch. */
			if (c->evicts) {
				if (!field_is_null(f[c->evict_j]) &&
				    sreader_get_i64(&r, f[c->evict_j], &end,
				    c->err) < 0)
					goto bad;
				memcpy(val + sizeof(struct group), &end,
				    sizeof end);
			}
			acc = val + c->acc_off;
			f += c->nkeys;
		}
		if (c->evicts && end < c->min_end)
			c->min_end = end;
		if (aggs_load(&c->aggs, acc, f, c->err) < 0) {
			char why[ERRBUF_SIZE];

			snprintf(why, sizeof why, "%s", c->err);
			sreader_error(&r, c->err, "%s", why);
			goto bad;
		}
	}
	if (!sreader_done(&r)) {
		r.line++;
		sreader_error(&r, c->err, "more records than rows=%lld",
		    (long long)rows);
		goto bad;
	}
	sreader_free(&r);
	free(blob);
	return;
bad:
	die(EXIT_RUNTIME, "%s", c->err);
}

/* Write state N: the format load_state() reads. */
static void
save_state(struct scount *c, int64_t batch)
{
	struct strbuf *sb = &c->state;

	sb_reset(sb);
	sb_addf(sb, "format=1\nmode=%s\nevicted=%d\nwatermark=",
	    mode_names[c->mode], c->evicted);
	state_put_time(sb, c->wm);
	sb_adds(sb, "\nwm_out=");
	state_put_time(sb, c->wm_out);
	sb_adds(sb, "\nrows=");
	state_put_i64(sb, c->session ? (int64_t)c->pool.nlive :
	    (int64_t)table_count(&c->groups));
	sb_addc(sb, '\n');
	for (uint32_t id = 0; id < table_end(&c->groups); id++) {
		const char *v, *key;
		size_t n;

		if (!table_live(&c->groups, id))
			continue;
		key = table_key(&c->groups, id, &n);
		v = table_value(&c->groups, id);
		if (!c->session) {
			sb_add(sb, key, n);
			if (c->nkeys > 0)
				sb_addc(sb, '\t');
			aggs_save(&c->aggs, v + c->acc_off, sb);
			sb_addc(sb, '\n');
			continue;
		}
		for (uint32_t si = ((const struct group *)(const void *)v)->head;
		    si != 0; si = sess(&c->pool, si)->next) {
			const struct session *s = sess(&c->pool, si);

			sb_add(sb, key, n);
			if (c->nkeys > 0)
				sb_addc(sb, '\t');
			state_put_i64(sb, s->start);
			sb_addc(sb, '\t');
			state_put_i64(sb, s->end);
			sb_addc(sb, '\t');
			aggs_save(&c->aggs, sess_acc(&c->pool, si), sb);
			sb_addc(sb, '\n');
		}
	}
	if (ckstage_save(&c->ck, batch, c->config, sb->buf, sb->len,
	    c->err) < 0)
		die(EXIT_RUNTIME, "%s", c->err);
}

/* End of batch e: emit per mode, evict, forward the epoch with counters. */
static void
end_batch(struct scount *c, const struct epoch *e)
{
	struct frame_writer *w = &c->st.out;
	int64_t nodata = 0;

	epoch_get_i64(e, "nodata", &nodata);
	switch (c->mode) {
	case MODE_COMPLETE:
		if (nodata != 1 || c->wm != c->wm_out) {
			emit_all(c);
			c->wm_out = c->wm;
		}
		break;
	case MODE_UPDATE:
		emit_updated(c);
		evict(c, false);
		break;
	case MODE_APPEND:
		evict(c, true);
		break;
	}
	/* State N is on disk before anyone downstream sees the end of N. */
	if (ckstage_on(&c->ck))
		save_state(c, e->batch);
	fw_epoch_begin(w, e->batch);
	fw_epoch_items(w, e->items, e->items_len);
	fw_epoch_i64(w, "scount.rows_in", c->rows_in);
	fw_epoch_i64(w, "scount.rows_out", c->rows_out);
	fw_epoch_i64(w, "scount.state_rows", c->session ?
	    (int64_t)c->pool.nlive : (int64_t)table_count(&c->groups));
	fw_epoch_i64(w, "scount.updated", c->updated);
	fw_epoch_i64(w, "scount.dropped", c->dropped);
	fw_epoch_i64(w, "scount.mem_bytes", (int64_t)mem_bytes(c));
	fw_epoch_end(w);
	stage_flush(&c->st);

	c->rows_in = c->rows_out = c->updated = c->dropped = 0;
	c->nupd = 0;
	c->seq++;
	/* Ids may move only here, where no list holds them. */
	table_maybe_compact(&c->groups);
	collect_strings(c);
}

/* Main. */

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "sum", required_argument, NULL, 's' },
		{ "min", required_argument, NULL, 'n' },
		{ "max", required_argument, NULL, 'x' },
		{ "avg", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct scount c;
	struct agg_opt *ao = NULL;
	size_t nao = 0;
	struct schema out;
	bool done = false;
	int opt;

	prog_init(argv[0]);
	argv[0] = (char *)prog_name();	/* getopt's messages name the command */
	memset(&c, 0, sizeof c);
	c.mode = MODE_COMPLETE;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			if (strcmp(optarg, "complete") == 0)
				c.mode = MODE_COMPLETE;
			else if (strcmp(optarg, "update") == 0)
				c.mode = MODE_UPDATE;
			else if (strcmp(optarg, "append") == 0)
				c.mode = MODE_APPEND;
			else
				die(EXIT_USAGE, "--mode: '%s' is not complete, "
				    "update or append", optarg);
			break;
		case 's': case 'n': case 'x': case 'a':
			ao = xrealloc(ao, (nao + 1) * sizeof *ao);
			ao[nao].op = opt == 's' ? AGG_SUM : opt == 'n' ?
			    AGG_MIN : opt == 'x' ? AGG_MAX : AGG_AVG;
			ao[nao++].field = optarg;
			break;
		case 'h':
			usage_exit(SYNOPSIS, EXIT_OK);
		case 'V':
			version_exit();
		default:
			usage_exit(SYNOPSIS, EXIT_USAGE);
		}
	}

	stage_catch_signals();
	stage_open(&c.st);
	aggs_init(&c.aggs);
	sb_init(&c.keybuf);
	setup(&c, argv + optind, (size_t)(argc - optind), ao, nao, &out);
	free(ao);
	c.seq = 1;
	c.wm = c.wm_out = TIME_MIN_MICROS;
	c.min_end = INT64_MAX;
	sb_init(&c.state);
	if (ckstage_open(&c.ck, "scount", &c.st.schema, &out, c.err) < 0)
		die(EXIT_RUNTIME, "%s", c.err);
	if (ckstage_on(&c.ck)) {
		c.config = make_config(&c);
		load_state(&c);
	}
	fw_header(&c.st.out, &out);
	schema_free(&out);

	while (!done) {
		struct epoch e;
		int64_t wm;
		bool final;

		switch (stage_next(&c.st)) {
		case FRAME_DATA:
			if (c.session)
				add_session_row(&c);
			else
				add_row(&c);
			break;
		case FRAME_EPOCH:
			if (epoch_decode(&c.st.frame, &e, c.err) < 0 ||
			    ckstage_batch(&c.ck, e.batch, c.err) < 0)
				stage_die(&c.st, "%s", c.err);
			end_batch(&c, &e);
			break;
		case FRAME_WATERMARK:
			/* Applies from the next batch on; never goes back. */
			if (watermark_decode(&c.st.frame, &wm, c.err) < 0)
				stage_die(&c.st, "%s", c.err);
			if (wm > c.wm)
				c.wm = wm;
			fw_watermark(&c.st.out, wm);
			stage_flush(&c.st);
			break;
		case FRAME_END:
			/* The final batch ran with watermark +inf upstream,
			 * so there is nothing left to flush; on pause the
			 * state is kept for a checkpoint to save. */
			if (end_decode(&c.st.frame, &final, c.err) < 0)
				stage_die(&c.st, "%s", c.err);
			fw_end(&c.st.out, final);
			done = true;
			break;
		default:
			break;
		}
	}

	stage_close(&c.st);
	ckstage_close(&c.ck);
	free(c.config);
	sb_free(&c.state);
	table_free(&c.groups);
	aggs_free(&c.aggs);
	free(c.pool.mem);
	free(c.upd);
	free(c.key);
	sb_free(&c.keybuf);
	return EXIT_OK;
}

/*
 * scount: streaming groupBy(...).count() and aggregates, with Spark's
 * output modes (complete, update, append), watermark eviction and session
 * windows.
 *
 * State (lib/count_state.h): a hash table of groups keyed by their raw
 * wire fields, in output order, each with a batch mark, for windows the
 * time that decides eviction, and the accumulators (lib/aggregate.h); for
 * session windows, each group's list of sessions (lib/sessions.h).
 *
 * Output order is deterministic: groups in first-seen order (the table's
 * id order), sessions of a group by start time.
 *
 * Everything is flushed at epoch frames only: a stage that emits per
 * batch has nothing to say before the batch ends.
 *
 * Checkpoint (the header has @checkpoint, lib/ckstage.h): state C is
 * loaded before the header is forwarded, and state N written at the end
 * of batch N, after its rows and before its epoch frame; what it holds is
 * described in lib/count_state.h.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aggregate.h"
#include "ckstage.h"
#include "count_state.h"
#include "sessions.h"
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

static const char *const mode_names[] = { "complete", "update", "append" };

struct scount {
	struct stage st;
	enum mode mode;
	struct aggs aggs;
	size_t *key;		/* group key fields, in output order */
	size_t nkeys;
	bool key_span;		/* adjacent in the input, in order */
	int ws, we;		/* window_start, window_end fields, or -1 */
	int evict_f;		/* field whose time closes a group, or -1 */
	struct count_state cs;	/* groups, sessions, watermarks; its evicts:
				 * update/append mode and evict_f >= 0 */
	uint32_t *upd;		/* groups changed in the batch (update) */
	size_t nupd, upd_cap;
	uint32_t seq;		/* batch sequence number, from 1 */
	int64_t rows_in, rows_out, updated, dropped;
	struct strbuf keybuf;
	struct ckstage ck;
	char *config;		/* the checkpoint's change-detection string */
	struct strbuf state;	/* the state being written, reused */
	char err[ERRBUF_SIZE];
};

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
	bool session, evicts;
	int et = -1, evict_j = -1;

	c->ws = find_time(sc, "window_start");
	c->we = find_time(sc, "window_end");
	if (c->ws < 0 || c->we < 0)
		c->ws = c->we = -1;
	session = window && strcmp(window, "session") == 0;
	if (session && c->ws < 0)
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
	if (c->ws >= 0 && !session) {
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
	for (size_t j = 0; j < c->nkeys && !session; j++)
		if ((int)c->key[j] == c->evict_f)
			evict_j = (int)j;
	if (c->mode == MODE_APPEND) {
		if (schema_meta(sc, "watermark") == NULL)
			die(EXIT_USAGE, "append output mode needs a watermark "
			    "(use swindow --watermark)");
		if (c->evict_f < 0)
			die(EXIT_USAGE, "append output mode needs a window "
			    "(use swindow --size) or the event-time field "
			    "among the keys");
	}
	evicts = c->mode != MODE_COMPLETE && c->evict_f >= 0;

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

	count_state_init(&c->cs, c->nkeys, session, evicts, evict_j,
	    aggs_size(&c->aggs));
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
mark_group(struct scount *c, struct count_group *g, uint32_t id)
{
	if (g->mark == c->seq)
		return;
	g->mark = c->seq;
	if (!c->cs.session)
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

	return table_upsert(&c->cs.groups, key, n, table_hash(key, n), &created);
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
	if (c->cs.evicts) {
		if (field_is_null(f[c->evict_f]))
			return;
		end = time_field(c, c->evict_f);
		if (end <= c->cs.wm) {	/* its group was closed already */
			c->dropped++;
			return;
		}
	}
	id = lookup(c);
	v = table_value(&c->cs.groups, id);
	if (c->cs.evicts) {
		/* Every row of a group has the same closing time. */
		count_group_set_end(v, end);
		if (end < c->cs.min_end)
			c->cs.min_end = end;
	}
	mark_group(c, (struct count_group *)(void *)v, id);
	if (aggs_add_row(&c->aggs, v + c->cs.acc_off, f, c->err) < 0)
		stage_die(&c->st, "%s", c->err);
}

/*
 * A row of a session window [start, end): merge it, per group, with every
 * session it overlaps or touches, else start a new session
 * (sessions_add()).
 */
static void
add_session_row(struct scount *c)
{
	const struct slice *f = c->st.rec.field;
	struct sessions *p = &c->cs.sessions;
	int64_t start, end;
	uint32_t id, t;
	struct count_group *g;

	c->rows_in++;
	if (field_is_null(f[c->ws]) || field_is_null(f[c->we]))
		return;
	start = time_field(c, c->ws);
	end = time_field(c, c->we);
	if (c->cs.evicts && end <= c->cs.wm) {
		c->dropped++;
		return;
	}
	id = lookup(c);
	g = table_value(&c->cs.groups, id);
	mark_group(c, g, id);
	/* May move the store, not the table: g stays valid. */
	t = sessions_add(p, &g->head, start, end, &c->aggs, c->seq,
	    &c->updated);
	if (t == 0)
		die(EXIT_RUNTIME, "too many sessions");
	/* Every session ends at or after min_end (when it matters: when
	 * evicting) and a merged one only grew: this catches a new one. */
	if (session_at(p, t)->end < c->cs.min_end)
		c->cs.min_end = session_at(p, t)->end;
	if (aggs_add_row(&c->aggs, session_acc(p, t), f, c->err) < 0)
		stage_die(&c->st, "%s", c->err);
}

/* Output. */

static void
write_group(struct scount *c, uint32_t id)
{
	size_t n;
	const char *key = table_key(&c->cs.groups, id, &n);
	const char *v = table_value(&c->cs.groups, id);

	if (c->nkeys > 0)
		fw_field_raw(&c->st.out, (struct slice){ key, n });
	aggs_write(&c->aggs, v + c->cs.acc_off, &c->st.out);
	fw_end_record(&c->st.out);
	c->rows_out++;
}

static void
write_session(struct scount *c, uint32_t id, uint32_t si)
{
	size_t n;
	const char *key = table_key(&c->cs.groups, id, &n);
	const struct session *s = session_at(&c->cs.sessions, si);

	fw_i64(&c->st.out, s->start);
	fw_i64(&c->st.out, s->end);
	if (c->nkeys > 0)
		fw_field_raw(&c->st.out, (struct slice){ key, n });
	aggs_write(&c->aggs, session_acc(&c->cs.sessions, si), &c->st.out);
	fw_end_record(&c->st.out);
	c->rows_out++;
}

/* Write group id (every session, or only those changed this batch). */
static void
write_any(struct scount *c, uint32_t id, bool changed_only)
{
	const struct count_group *g = table_value(&c->cs.groups, id);
	const struct sessions *p = &c->cs.sessions;

	if (!c->cs.session) {
		write_group(c, id);
		return;
	}
	for (uint32_t si = g->head; si != 0; si = session_at(p, si)->next)
		if (!changed_only || session_at(p, si)->mark == c->seq)
			write_session(c, id, si);
}

static void
emit_all(struct scount *c)
{
	for (uint32_t id = 0; id < table_end(&c->cs.groups); id++)
		if (table_live(&c->cs.groups, id))
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
	if (c->nupd * 8 > table_end(&c->cs.groups)) {
		for (uint32_t id = 0; id < table_end(&c->cs.groups); id++) {
			const struct count_group *g;

			if (!table_live(&c->cs.groups, id))
				continue;
			g = table_value(&c->cs.groups, id);
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
	struct sessions *p = &c->cs.sessions;
	int64_t next_min = INT64_MAX;

	if (!c->cs.evicts || c->cs.wm < c->cs.min_end)
		return;
	for (uint32_t id = 0; id < table_end(&c->cs.groups); id++) {
		char *v;

		if (!table_live(&c->cs.groups, id))
			continue;
		v = table_value(&c->cs.groups, id);
		if (c->cs.session) {
			struct count_group *g = (struct count_group *)(void *)v;
			uint32_t prev = 0, si = g->head;

			while (si != 0) {
				struct session *s = session_at(p, si);
				uint32_t next = s->next;

				if (s->end > c->cs.wm) {
					if (s->end < next_min)
						next_min = s->end;
					prev = si;
				} else {
					if (emit)
						write_session(c, id, si);
					aggs_release(&c->aggs,
					    session_acc(p, si));
					c->cs.evicted = true;
					sessions_unlink(p, &g->head, prev, si);
				}
				si = next;
			}
			if (g->head == 0)
				table_delete(&c->cs.groups, id);
		} else {
			int64_t end = count_group_end(v);

			if (end > c->cs.wm) {
				if (end < next_min)
					next_min = end;
				continue;
			}
			if (emit)
				write_group(c, id);
			aggs_release(&c->aggs, v + c->cs.acc_off);
			table_delete(&c->cs.groups, id);
			c->cs.evicted = true;
		}
	}
	c->cs.min_end = next_min;
}

/* Reclaim the string store of min/max when it is mostly garbage. */
static void
collect_strings(struct scount *c)
{
	const struct sessions *p = &c->cs.sessions;

	if (!aggs_gc_wanted(&c->aggs))
		return;
	aggs_gc_begin(&c->aggs);
	for (uint32_t id = 0; id < table_end(&c->cs.groups); id++) {
		char *v;

		if (!table_live(&c->cs.groups, id))
			continue;
		v = table_value(&c->cs.groups, id);
		if (!c->cs.session) {
			aggs_gc_move(&c->aggs, v + c->cs.acc_off);
			continue;
		}
		for (uint32_t si = ((struct count_group *)(void *)v)->head;
		    si != 0; si = session_at(p, si)->next)
			aggs_gc_move(&c->aggs, session_acc(p, si));
	}
	aggs_gc_end(&c->aggs);
}

static size_t
mem_bytes(const struct scount *c)
{
	return table_mem_bytes(&c->cs.groups) +
	    sessions_mem_bytes(&c->cs.sessions) + aggs_mem_bytes(&c->aggs) +
	    c->upd_cap * sizeof *c->upd + c->keybuf.cap;
}

/* Checkpoint. */

/* Load state C, if any, into the empty state (before the header goes). */
static void
load_state(struct scount *c)
{
	char *blob;
	size_t len;
	int got;

	got = ckstage_load(&c->ck, c->config, &blob, &len, c->err);
	if (got < 0)
		die(EXIT_RUNTIME, "%s", c->err);
	if (got == 0)
		return;
	got = count_state_load(&c->cs, &c->aggs, mode_names[c->mode], blob,
	    len, ckstage_path(&c->ck, c->ck.commit), c->err);
	free(blob);
	if (got < 0)
		die(EXIT_RUNTIME, "%s", c->err);
}

/* Write state N. */
static void
save_state(struct scount *c, int64_t batch)
{
	count_state_save(&c->cs, &c->aggs, mode_names[c->mode], &c->state);
	if (ckstage_save(&c->ck, batch, c->config, c->state.buf,
	    c->state.len, c->err) < 0)
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
		if (nodata != 1 || c->cs.wm != c->cs.wm_out) {
			emit_all(c);
			c->cs.wm_out = c->cs.wm;
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
	fw_epoch_i64(w, "scount.state_rows", (int64_t)count_state_rows(&c->cs));
	fw_epoch_i64(w, "scount.updated", c->updated);
	fw_epoch_i64(w, "scount.dropped", c->dropped);
	fw_epoch_i64(w, "scount.mem_bytes", (int64_t)mem_bytes(c));
	fw_epoch_end(w);
	stage_flush(&c->st);

	c->rows_in = c->rows_out = c->updated = c->dropped = 0;
	c->nupd = 0;
	c->seq++;
	/* Ids may move only here, where no list holds them. */
	table_maybe_compact(&c->cs.groups);
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
	sb_init(&c.state);
	if (ckstage_open(&c.ck, "scount", &c.st.schema, &out, c.err) < 0)
		die(EXIT_RUNTIME, "%s", c.err);
	if (ckstage_on(&c.ck)) {
		c.config = count_state_config(&c.st.schema, c.key, c.nkeys,
		    c.ws, c.we, &c.aggs);
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
			if (c.cs.session)
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
			if (wm > c.cs.wm)
				c.cs.wm = wm;
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
	count_state_free(&c.cs);
	aggs_free(&c.aggs);
	free(c.upd);
	free(c.key);
	sb_free(&c.keybuf);
	return EXIT_OK;
}

/*
 * count_state.c: scount's state and its checkpoint text; see
 * count_state.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ckstage.h"
#include "count_state.h"

void
count_state_init(struct count_state *s, size_t nkeys, bool session,
    bool evicts, int evict_j, size_t acc_size)
{
	memset(s, 0, sizeof *s);
	s->nkeys = nkeys;
	s->session = session;
	s->evicts = evicts;
	s->evict_j = evict_j;
	if (session) {
		table_init(&s->groups, sizeof(struct count_group));
		sessions_init(&s->sessions, acc_size);
	} else {
		s->acc_off = sizeof(struct count_group) + (evicts ? 8 : 0);
		table_init(&s->groups, s->acc_off + acc_size);
		sessions_init(&s->sessions, 0);
	}
	s->wm = s->wm_out = TIME_MIN_MICROS;
	s->min_end = INT64_MAX;
}

void
count_state_free(struct count_state *s)
{
	table_free(&s->groups);
	sessions_free(&s->sessions);
}

/* Config. */

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

char *
count_state_config(const struct schema *in, const size_t *key, size_t nkeys,
    int ws, int we, const struct aggs *a)
{
	const char *window = schema_meta(in, "window");
	struct strbuf sb;
	bool first = true;

	sb_init(&sb);
	sb_adds(&sb, "scount keys=");
	for (size_t j = 0; j < nkeys; j++) {
		const struct field *f = &in->fields[key[j]];

		if ((int)key[j] == ws || (int)key[j] == we)
			continue;
		if (!first)
			sb_addc(&sb, ',');
		first = false;
		config_name(&sb, f->name);
		sb_addf(&sb, ":%s", type_name(f->type));
	}
	sb_adds(&sb, " aggs=count");
	for (size_t i = 0; i < a->n; i++) {
		sb_addc(&sb, ',');
		config_name(&sb, a->agg[i].name);
		sb_addf(&sb, ":%s", type_name(a->agg[i].in));
	}
	sb_addf(&sb, " window=%s", ws < 0 ? "none" :
	    window != NULL && *window != '\0' && strchr(window, ' ') == NULL ?
	    window : "columns");
	return sb.buf;
}

/* Load. */

/* A state record's key: its first nkeys fields, as they lie in the line. */
static const char *
record_key(size_t nkeys, const struct record *r, size_t *n)
{
	if (nkeys == 0) {
		*n = 0;
		return "";
	}
	*n = (size_t)(r->field[nkeys - 1].p + r->field[nkeys - 1].n -
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
static int
check_mode(const char *mode, const char *path, const char *was,
    bool evicted, char *err)
{
	if (strcmp(mode, "complete") != 0 || !evicted)
		return 0;
	snprintf(err, ERRBUF_SIZE, "checkpoint: '%s': the query changed in a "
	    "way its state cannot follow: mode was '%s', now 'complete', and "
	    "the watermark has evicted groups that complete mode would have "
	    "to write (use a new checkpoint directory)", path, was);
	return -1;
}

/*
 * The next saved session of a group: after the group's last one (saved
 * in start order, disjoint).  Its accumulator into *acc.
 */
static int
load_session(struct count_state *s, struct sreader *r, struct count_group *g,
    const struct slice *f, int64_t *end, void **acc, char *err)
{
	struct sessions *p = &s->sessions;
	int64_t start;
	uint32_t t, last = 0;

	if (sreader_get_i64(r, f[0], &start, err) < 0 ||
	    sreader_get_i64(r, f[1], end, err) < 0)
		return -1;
	t = sessions_alloc(p);
	if (t == 0) {
		snprintf(err, ERRBUF_SIZE, "too many sessions");
		return -1;
	}
	for (uint32_t si = g->head; si != 0; si = session_at(p, si)->next)
		last = si;
	if (last != 0 && session_at(p, last)->end >= start)
		return sreader_error(r, err, "sessions out of order");
	session_at(p, t)->start = start;
	session_at(p, t)->end = *end;
	sessions_link(p, &g->head, last, t);
	*acc = session_acc(p, t);
	return 0;
}

static int
load_records(struct count_state *s, struct aggs *a, struct sreader *r,
    int64_t rows, char *err)
{
	size_t nf = s->nkeys + (s->session ? 2 : 0) + aggs_saved_fields(a);

	for (int64_t i = 0; i < rows; i++) {
		const struct slice *f;
		const char *key;
		size_t n;
		bool created;
		uint32_t id;
		char *val;
		void *acc = NULL;
		int64_t end = INT64_MAX;

		if (sreader_record(r, nf, err) < 0)
			return -1;
		f = r->rec.field;
		key = record_key(s->nkeys, &r->rec, &n);
		id = table_upsert(&s->groups, key, n, table_hash(key, n),
		    &created);
		val = table_value(&s->groups, id);
		if (s->session) {
			if (load_session(s, r, (struct count_group *)(void *)val,
			    f + s->nkeys, &end, &acc, err) < 0)
				return -1;
			f += s->nkeys + 2;
		} else {
			if (!created)
				return sreader_error(r, err, "group repeated");
			/* The closing time is a key field; a null one (a
			 * complete-mode group) never closes before the
			 * final batch. */
			if (s->evicts) {
				if (!field_is_null(f[s->evict_j]) &&
				    sreader_get_i64(r, f[s->evict_j], &end,
				    err) < 0)
					return -1;
				count_group_set_end(val, end);
			}
			acc = val + s->acc_off;
			f += s->nkeys;
		}
		if (s->evicts && end < s->min_end)
			s->min_end = end;
		if (aggs_load(a, acc, f, err) < 0) {
			char why[ERRBUF_SIZE];

			snprintf(why, sizeof why, "%s", err);
			return sreader_error(r, err, "%s", why);
		}
	}
	if (!sreader_done(r)) {
		r->line++;
		return sreader_error(r, err, "more records than rows=%lld",
		    (long long)rows);
	}
	return 0;
}

int
count_state_load(struct count_state *s, struct aggs *a, const char *mode,
    char *blob, size_t len, const char *path, char *err)
{
	struct sreader r;
	const char *was;
	int64_t format, rows, evicted;
	int rc = -1;

	sreader_init(&r, blob, len, path);
	if (sreader_i64(&r, "format", false, &format, err) < 0)
		goto out;
	if (format != 1) {
		sreader_error(&r, err, "state format %lld, this scount "
		    "reads format 1", (long long)format);
		goto out;
	}
	if (sreader_item(&r, "mode", &was, err) < 0 ||
	    sreader_i64(&r, "evicted", false, &evicted, err) < 0 ||
	    check_mode(mode, path, was, evicted != 0, err) < 0)
		goto out;
	s->evicted = evicted != 0;
	if (sreader_i64(&r, "watermark", true, &s->wm, err) < 0 ||
	    sreader_i64(&r, "wm_out", true, &s->wm_out, err) < 0 ||
	    sreader_i64(&r, "rows", false, &rows, err) < 0)
		goto out;
	rc = load_records(s, a, &r, rows, err);
out:
	sreader_free(&r);
	return rc;
}

/* Save. */

void
count_state_save(const struct count_state *s, const struct aggs *a,
    const char *mode, struct strbuf *sb)
{
	const struct sessions *p = &s->sessions;

	sb_reset(sb);
	sb_addf(sb, "format=1\nmode=%s\nevicted=%d\nwatermark=", mode,
	    s->evicted);
	state_put_time(sb, s->wm);
	sb_adds(sb, "\nwm_out=");
	state_put_time(sb, s->wm_out);
	sb_adds(sb, "\nrows=");
	state_put_i64(sb, (int64_t)count_state_rows(s));
	sb_addc(sb, '\n');
	for (uint32_t id = 0; id < table_end(&s->groups); id++) {
		const char *v, *key;
		size_t n;

		if (!table_live(&s->groups, id))
			continue;
		key = table_key(&s->groups, id, &n);
		v = table_value(&s->groups, id);
		if (!s->session) {
			sb_add(sb, key, n);
			if (s->nkeys > 0)
				sb_addc(sb, '\t');
			aggs_save(a, v + s->acc_off, sb);
			sb_addc(sb, '\n');
			continue;
		}
		for (uint32_t si = ((const struct count_group *)(const void *)
		    v)->head; si != 0; si = session_at(p, si)->next) {
			const struct session *ss = session_at(p, si);

			sb_add(sb, key, n);
			if (s->nkeys > 0)
				sb_addc(sb, '\t');
			state_put_i64(sb, ss->start);
			sb_addc(sb, '\t');
			state_put_i64(sb, ss->end);
			sb_addc(sb, '\t');
			aggs_save(a, session_acc(p, si), sb);
			sb_addc(sb, '\n');
		}
	}
}

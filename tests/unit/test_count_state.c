/*
 * test_count_state.c: unit tests of lib/sessions (merging session
 * windows) and lib/count_state (scount's state text: the exact format
 * that existing checkpoints hold, and save/load round trips).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "count_state.h"
#include "unit.h"

/* Load text into s from a writable copy, as ckstage_load() gives it;
 * the state keeps nothing of the copy. */
static int
load(struct count_state *s, struct aggs *a, const char *mode,
    const char *text, char *err)
{
	char *blob = strdup(text);
	int rc = count_state_load(s, a, mode, blob, strlen(blob), "st", err);

	free(blob);
	return rc;
}

/* Add one row of window [start, end) to group key, as scount does. */
static uint32_t
add(struct count_state *s, struct aggs *a, const char *key, int64_t start,
    int64_t end, uint32_t seq, int64_t *updated)
{
	static const struct slice row[1] = { { "1", 1 } };
	char err[ERRBUF_SIZE];
	bool created;
	uint32_t id = table_upsert(&s->groups, key, strlen(key),
	    table_hash(key, strlen(key)), &created);
	struct count_group *g = table_value(&s->groups, id);
	uint32_t t = sessions_add(&s->sessions, &g->head, start, end, a, seq,
	    updated);

	if (t != 0)
		(void)aggs_add_row(a, session_acc(&s->sessions, t), row, err);
	return t;
}

static void
test_sessions_merge(void)
{
	struct count_state s;
	struct aggs a;
	int64_t updated = 0;
	uint32_t t, head;
	const struct session *x;

	aggs_init(&a);
	count_state_init(&s, 1, true, true, -1, aggs_size(&a));
	add(&s, &a, "u", 1, 6, 1, &updated);
	add(&s, &a, "u", 20, 25, 1, &updated);
	add(&s, &a, "u", 10, 15, 1, &updated);
	CHECK(sessions_count(&s.sessions) == 3 && updated == 3,
	    "disjoint windows are three sessions");
	updated = 0;
	/* [6, 11) touches [1, 6) and overlaps [10, 15): one session. */
	t = add(&s, &a, "u", 6, 11, 2, &updated);
	x = session_at(&s.sessions, t);
	CHECK(x->start == 1 && x->end == 15, "a bridging window merges both");
	CHECK(sessions_count(&s.sessions) == 2 && updated == 1,
	    "merged sessions count once as updated");
	CHECK(aggs_count(session_acc(&s.sessions, t)) == 3,
	    "the merged session absorbed the accumulators");
	head = ((struct count_group *)table_value(&s.groups, 0))->head;
	CHECK(head == t && session_at(&s.sessions, t)->next != 0 &&
	    session_at(&s.sessions, session_at(&s.sessions, t)->next)->start
	    == 20, "the list stays sorted by start");
	count_state_free(&s);
	aggs_free(&a);
}

/* The text of format 1, byte for byte, and a reload that saves the same. */
static void
test_sessions_text(void)
{
	static const char want[] =
	    "format=1\nmode=update\nevicted=0\nwatermark=-inf\nwm_out=-inf\n"
	    "rows=3\n"
	    "u\t1\t6\t1\n"
	    "u\t10\t15\t1\n"
	    "v\t3\t8\t1\n";
	struct count_state s, r;
	struct aggs a;
	struct strbuf sb, sb2;
	char err[ERRBUF_SIZE];
	int64_t updated = 0;

	aggs_init(&a);
	sb_init(&sb);
	sb_init(&sb2);
	count_state_init(&s, 1, true, true, -1, aggs_size(&a));
	add(&s, &a, "u", 10, 15, 1, &updated);
	add(&s, &a, "v", 3, 8, 1, &updated);
	add(&s, &a, "u", 1, 6, 1, &updated);
	count_state_save(&s, &a, "update", &sb);
	CHECK_STR(sb.buf, want, "sessions are saved in format 1");

	count_state_init(&r, 1, true, true, -1, aggs_size(&a));
	CHECK(load(&r, &a, "append", sb.buf, err) == 0,
	    "the saved sessions load");
	CHECK(r.min_end == 6 && count_state_rows(&r) == 3,
	    "loading sets min_end and the rows");
	count_state_save(&r, &a, "update", &sb2);
	CHECK_STR(sb2.buf, want, "a reload saves the same text");
	count_state_free(&r);

	/* Sessions of a group out of start order are refused. */
	count_state_init(&r, 1, true, true, -1, aggs_size(&a));
	CHECK(load(&r, &a, "update", "format=1\nmode=update\nevicted=0\n"
	    "watermark=-inf\nwm_out=-inf\nrows=2\nu\t10\t15\t1\n"
	    "u\t1\t6\t1\n", err) < 0, "sessions out of order fail");
	CHECK_STR(err, "checkpoint: 'st': line 10: sessions out of order",
	    "the error names the path and line (file lines)");
	count_state_free(&r);

	count_state_free(&s);
	aggs_free(&a);
	sb_free(&sb);
	sb_free(&sb2);
}

/* Groups with a closing time in the key; the mode rule on load. */
static void
test_groups_text(void)
{
	static const char text[] =
	    "format=1\nmode=append\nevicted=1\nwatermark=100\nwm_out=-inf\n"
	    "rows=2\n"
	    "a\t200\t2\n"
	    "b\t150\t1\n";
	struct count_state s;
	struct aggs a;
	struct strbuf sb;
	char err[ERRBUF_SIZE];

	aggs_init(&a);
	sb_init(&sb);
	count_state_init(&s, 2, false, true, 1, aggs_size(&a));
	CHECK(load(&s, &a, "update", text, err) == 0, "groups load");
	CHECK(s.evicted && s.wm == 100 && s.min_end == 150,
	    "evicted, watermark and min_end are read");
	CHECK(count_group_end(table_value(&s.groups, 0)) == 200,
	    "a group's closing time comes from its key");
	count_state_save(&s, &a, "append", &sb);
	CHECK_STR(sb.buf, text, "and saves back the same");
	count_state_free(&s);

	count_state_init(&s, 2, false, false, -1, aggs_size(&a));
	CHECK(load(&s, &a, "complete", text, err) < 0,
	    "complete mode cannot follow an evicted state");
	CHECK_STR(err, "checkpoint: 'st': the query changed in a way its "
	    "state cannot follow: mode was 'append', now 'complete', and the "
	    "watermark has evicted groups that complete mode would have to "
	    "write (use a new checkpoint directory)", "the error says why");
	count_state_free(&s);
	aggs_free(&a);
	sb_free(&sb);
}

static void
test_config(void)
{
	struct schema sc;
	struct aggs a;
	char err[ERRBUF_SIZE];
	size_t key[3] = { 0, 1, 2 };
	char *cfg;

	if (schema_parse_ddl(&sc, "window_start TIMESTAMP, "
	    "window_end TIMESTAMP, word STRING, n INT", err) < 0) {
		CHECK(0, "schema");
		return;
	}
	schema_set_meta(&sc, "window", "tumbling");
	aggs_init(&a);
	(void)aggs_add(&a, AGG_SUM, &sc, "n", err);
	cfg = count_state_config(&sc, key, 3, 0, 1, &a);
	CHECK_STR(cfg, "scount keys=word:STRING aggs=count,sum_n:INT "
	    "window=tumbling", "the config leaves out the window columns");
	free(cfg);
	cfg = count_state_config(&sc, key + 2, 1, -1, -1, &a);
	CHECK_STR(cfg, "scount keys=word:STRING aggs=count,sum_n:INT "
	    "window=none", "no window columns: window=none");
	free(cfg);
	aggs_free(&a);
	schema_free(&sc);
}

int
main(void)
{
	test_sessions_merge();
	test_sessions_text();
	test_groups_text();
	test_config();
	return unit_done();
}

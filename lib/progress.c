/* progress.c: StreamingQueryProgress objects from epoch items (progress.h). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "progress.h"
#include "rtime.h"

void
progress_init(struct progress *p, const struct schema *header,
    const char *sink)
{
	p->header = header;
	p->sink = sink;
	p->prev_start = -1;
}

/* The raw value of item key in e, or NULL; *n is its length. */
static const char *
item(const struct epoch *e, const char *key, size_t *n)
{
	size_t kn = strlen(key);
	const char *p = e->items, *end = e->items + e->items_len;

	while (p < end) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *iend = tab ? tab : end;

		if ((size_t)(iend - p) > kn && memcmp(p, key, kn) == 0 &&
		    p[kn] == '=') {
			*n = (size_t)(iend - p) - kn - 1;
			return p + kn + 1;
		}
		p = iend + 1;
	}
	return NULL;
}

static int64_t
item_i64(const struct epoch *e, const char *key, int64_t dflt)
{
	int64_t v;

	return epoch_get_i64(e, key, &v) == 0 ? v : dflt;
}

void
progress_note(struct progress *p, const struct epoch *e)
{
	int64_t start;

	if (epoch_get_i64(e, "ssrc.start", &start) == 0)
		p->prev_start = start;
}

/* json_object_set_new that reports failure instead of leaking. */
static int
set(json_t *o, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(o, key, v);
}

static json_t *
str_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;

	/* Metadata that is not valid UTF-8 cannot be a JSON string. */
	return v ? v : json_null();
}

static json_t *
iso(int64_t micros)
{
	char buf[TIMESTAMP_BUFSIZE];

	timestamp_format_iso(micros, buf);
	return json_string(buf);
}

/* Spark leaves out a rate that is NaN or infinite (safeDoubleToJValue). */
static int
set_rate(json_t *o, const char *key, double v)
{
	if (isnan(v) || isinf(v))
		return 0;
	return set(o, key, json_real(v));
}

static int
add_event_time(json_t *root, const struct progress *p, const struct epoch *e)
{
	json_t *et = json_object();
	const char *w;
	size_t wn;
	int64_t v;
	int rc = 0;

	if (et == NULL)
		return -1;
	/* Sorted keys, as Spark's safeMapToJValue. */
	if (epoch_get_i64(e, "swindow.avg_event", &v) == 0)
		rc |= set(et, "avg", iso(v));
	if (epoch_get_i64(e, "swindow.max_event", &v) == 0)
		rc |= set(et, "max", iso(v));
	if (epoch_get_i64(e, "swindow.min_event", &v) == 0)
		rc |= set(et, "min", iso(v));
	w = item(e, "swindow.watermark", &wn);
	if (w != NULL && wn == 3 && memcmp(w, "inf", 3) == 0)
		rc |= set(et, "watermark", json_string("+infinity"));
	else if (w != NULL && epoch_get_i64(e, "swindow.watermark", &v) == 0)
		rc |= set(et, "watermark", iso(v));
	else if (schema_meta(p->header, "watermark") != NULL)
		rc |= set(et, "watermark", iso(0));
	if (json_object_size(et) == 0) {
		json_decref(et);
		return rc;
	}
	return rc | set(root, "eventTime", et);
}

/* One entry per stage S that reports S.state_rows. */
static int
add_state_operators(json_t *root, const struct epoch *e)
{
	json_t *ops = json_array();
	const char *p = e->items, *end = e->items + e->items_len;
	static const char suffix[] = ".state_rows";
	size_t sn = sizeof suffix - 1;
	int rc = 0;

	if (ops == NULL)
		return -1;
	while (p < end) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *iend = tab ? tab : end;
		const char *eq = memchr(p, '=', (size_t)(iend - p));
		char name[128], key[160];
		size_t nn;
		json_t *op;

		if (eq == NULL || (size_t)(eq - p) <= sn ||
		    memcmp(eq - sn, suffix, sn) != 0 ||
		    (nn = (size_t)(eq - p) - sn) >= sizeof name) {
			p = iend + 1;
			continue;
		}
		memcpy(name, p, nn);
		name[nn] = '\0';
		p = iend + 1;
		if ((op = json_object()) == NULL) {
			json_decref(ops);
			return -1;
		}
#define STAGE_I64(suf, dflt) \
	(snprintf(key, sizeof key, "%s.%s", name, suf), \
	    json_integer(item_i64(e, key, dflt)))
		rc |= set(op, "operatorName", json_string(name));
		rc |= set(op, "numRowsTotal", STAGE_I64("state_rows", 0));
		rc |= set(op, "numRowsUpdated", STAGE_I64("updated", 0));
		rc |= set(op, "allUpdatesTimeMs", json_integer(0));
		rc |= set(op, "numRowsRemoved", STAGE_I64("removed", 0));
		rc |= set(op, "allRemovalsTimeMs", json_integer(0));
		rc |= set(op, "commitTimeMs", json_integer(0));
		rc |= set(op, "memoryUsedBytes", STAGE_I64("mem_bytes", 0));
		snprintf(key, sizeof key, "%s.dropped", name);
		/* Rows swindow dropped as late were dropped for this
		 * operator's sake: Spark counts them on it. */
		rc |= set(op, "numRowsDroppedByWatermark", json_integer(
		    item_i64(e, key, 0) + (json_array_size(ops) == 0 ?
		    item_i64(e, "swindow.dropped", 0) : 0)));
		rc |= set(op, "numShufflePartitions", json_integer(1));
		rc |= set(op, "numStateStoreInstances", json_integer(1));
#undef STAGE_I64
		if (json_array_append_new(ops, op) < 0)
			rc = -1;
	}
	return rc | set(root, "stateOperators", ops);
}

int
progress_format(const struct progress *p, const struct epoch *e,
    long long rows, const struct progress_times *t, struct strbuf *out,
    char *err)
{
	const struct schema *h = p->header;
	const char *run = schema_meta(h, "run");
	int64_t in_rows = item_i64(e, "ssrc.rows", 0);
	int64_t start = item_i64(e, "ssrc.start", t->done);
	int64_t src_end = item_i64(e, "ssrc.end", start);
	int64_t trigger = t->done - start;
	double in_rate, proc_rate;
	json_t *root, *d, *src, *srcs, *sink;
	char *text;
	int rc = 0;

	if (trigger < 0)	/* clocks of two processes: never negative */
		trigger = 0;
	/* Spark: the first trigger has no previous one: rate 0.0. */
	if (p->prev_start < 0)
		in_rate = 0.0;
	else
		in_rate = (double)in_rows /
		    ((double)(start - p->prev_start) / 1e6);
	proc_rate = (double)in_rows / ((double)trigger / 1e6);
	if (in_rows == 0 && trigger == 0)
		proc_rate = NAN;
	if (run == NULL)
		run = schema_meta(h, "run_id");

	if ((root = json_object()) == NULL)
		goto oom;
	rc |= set(root, "id", str_or_null(schema_meta(h, "query")));
	rc |= set(root, "runId", str_or_null(run));
	rc |= set(root, "name", str_or_null(schema_meta(h, "name")));
	rc |= set(root, "timestamp", iso(start));
	rc |= set(root, "batchId", json_integer(e->batch));
	rc |= set(root, "numInputRows", json_integer(in_rows));
	rc |= set_rate(root, "inputRowsPerSecond", in_rate);
	rc |= set_rate(root, "processedRowsPerSecond", proc_rate);

	if ((d = json_object()) == NULL)
		goto oom;
	rc |= set(d, "addBatch", json_integer(t->add_batch / 1000));
	if (t->commit >= 0)
		rc |= set(d, "commitOffsets", json_integer(t->commit / 1000));
	rc |= set(d, "getBatch", json_integer((src_end - start) / 1000));
	rc |= set(d, "triggerExecution", json_integer(trigger / 1000));
	rc |= set(root, "durationMs", d);

	rc |= add_event_time(root, p, e);
	rc |= add_state_operators(root, e);

	if ((srcs = json_array()) == NULL || (src = json_object()) == NULL)
		goto oom;
	rc |= set(src, "description", str_or_null(schema_meta(h, "source")));
	rc |= set(src, "startOffset", json_null());
	rc |= set(src, "endOffset", json_null());
	rc |= set(src, "latestOffset", json_null());
	rc |= set(src, "numInputRows", json_integer(in_rows));
	rc |= set_rate(src, "inputRowsPerSecond", in_rate);
	rc |= set_rate(src, "processedRowsPerSecond", proc_rate);
	{
		/* Spark sources report extras in a string map, "metrics". */
		int64_t bad;

		if (epoch_get_i64(e, "ssrc.bad", &bad) == 0) {
			json_t *m = json_object();
			char num[24];

			format_i64(num, bad);
			rc |= set(m, "numBadRecords", json_string(num));
			rc |= set(src, "metrics", m);
		}
	}
	if (json_array_append_new(srcs, src) < 0)
		rc = -1;
	rc |= set(root, "sources", srcs);

	if ((sink = json_object()) == NULL)
		goto oom;
	rc |= set(sink, "description", str_or_null(p->sink));
	rc |= set(sink, "numOutputRows", json_integer(rows));
	rc |= set(root, "sink", sink);
	if (rc != 0)
		goto oom;

	/* Compact, one line (Spark's json, not prettyJson); 15 digits
	 * print 0.1 as 0.1 rather than 0.10000000000000001. */
	text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
	json_decref(root);
	if (text == NULL)
		return seterr(err, "cannot format the progress report");
	sb_adds(out, text);
	sb_addc(out, '\n');
	free(text);
	return 0;
oom:
	json_decref(root);
	return seterr(err, "cannot format the progress report: out of memory");
}

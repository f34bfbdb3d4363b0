/*
 * sink_kafka.c: "kafka:TOPIC": each record becomes one Kafka message.
 *
 * The message: key = the --key field's value (none without --key, or when
 * the field is null), value = the --value field's value, or by default
 * the whole record as one JSON object (json_out.h, as ssink --format
 * json writes it); a null --value field gives a null value (a
 * tombstone).  Values are written as text the way csv/json output shows
 * them (timestamps ISO-8601, doubles as Java prints them); strings are
 * their bytes.  With a key, the partition is murmur2(key) as Java clients
 * choose it, so `ssink kafka:T --key word` sends every word to one
 * partition: what repartitioning for a second tier of pipelines needs.
 *
 * The commit point (end): every message of the batch delivered, and with
 * a transactional id the transaction committed together with the batch
 * id (kafka_producer_commit()).  A batch whose id is not above the last
 * one recorded was written by an earlier run that died before the
 * checkpoint knew: it is not written twice.  When ssink knows the id at
 * begin (lib/sink.h) nothing of such a batch is sent; otherwise its rows
 * go into a transaction that end aborts.  Without a transactional id the
 * producer is idempotent: at least once.
 *
 * With a transactional id every message also carries three headers,
 * runnel.batch (the batch id, decimal), runnel.run (the run that wrote
 * it) and runnel.query (the query id), and each commit records the
 * producer's positions (position: where the next batch will begin, per
 * partition).  When the run starts with a replay (sink_options'
 * replay_batch) whose id is above the last one recorded, open reads the
 * topic back from the positions of the last commit (kafka_readback.h)
 * and row does not send again a row found there: what an attempt cut
 * short wrote on a cluster that does not hide aborted transactions
 * (librdkafka's mock), or a batch committed in Kafka whose id was not
 * recorded.  notice then says how much was found.
 */
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "json_out.h"
#include "kafka_readback.h"
#include "sink.h"
#include "sink_kafka.h"
#include "value.h"

static const struct kafka_sink_settings *settings;

void
sink_kafka_settings(const struct kafka_sink_settings *ks)
{
	settings = ks;
}

struct kafka_sink {
	const struct schema *schema;
	const char *topic;
	struct kafka_producer *p;
	int key, value;		/* field index, -1: none / whole record */
	bool txn;
	int64_t batch;		/* the id begin was given, or -1 */
	bool skip;		/* that batch is in the topic already */
	char batch_text[24];	/* runnel.batch header value */
	char *run_id;		/* runnel.run header value */
	char *query_id;		/* runnel.query header value */
	struct kafka_header hdr[3];
	int64_t replay_batch;	/* sink_options.replay_batch */
	struct kafka_readback *found;	/* what of it the topic holds */
	struct kafka_readback *taking;	/* found, while that batch runs */
	long long replay_rows;	/* rows of it seen */
	long long resent;	/* rows of it found, so not sent again */
	bool replayed;		/* it just ended: notice says how it went */
	char tmp_err[ERRBUF_SIZE];
	struct strbuf kbuf, vbuf, tmp;
};

static int
field_index(const struct schema *s, const char *opt, const char *name,
    char *err)
{
	int i = schema_find(s, name);
	struct strbuf names;

	if (i >= 0)
		return i;
	sb_init(&names);
	for (size_t j = 0; j < s->nfields; j++)
		sb_addf(&names, "%s%s", j ? ", " : "", s->fields[j].name);
	seterr(err, "%s: no field '%s' in the input (it has %s)", opt, name,
	    names.buf ? names.buf : "none");
	sb_free(&names);
	return -1;
}

/* The settings ssink gave, or none (then no servers: an error). */
static const struct kafka_sink_settings *
get_settings(struct kafka_sink_settings *none)
{
	memset(none, 0, sizeof *none);
	kafka_conf_init(&none->conf);
	return settings != NULL ? settings : none;
}

/* Usage errors, before anything is sent: --key and --value name fields
 * of the input, -X properties exist and take their values. */
static int
kafka_sink_check(const struct sink_options *o, const struct schema *s,
    char *err)
{
	struct kafka_sink_settings none;
	const struct kafka_sink_settings *ks = get_settings(&none);

	if ((ks->key_field != NULL &&
	    field_index(s, "--key", ks->key_field, err) < 0) ||
	    (ks->value_field != NULL &&
	    field_index(s, "--value", ks->value_field, err) < 0))
		return -1;
	return kafka_conf_check(&ks->conf, err);
}

/*
 * With a checkpoint, after the producer started (which aborted what a
 * dead run left open, on a cluster that can): find what of the batch to
 * replay the topic holds already, reading from where the last commit said
 * the sink stood (a partition it did not name: from its start); and set
 * the positions the commits will record from the end offsets now.
 */
static int
prepare_replay(struct kafka_sink *k, const struct kafka_sink_settings *ks,
    const struct sink_options *o, char *err)
{
	rd_kafka_topic_partition_list_t *ends, *starts, *from = NULL;
	int timeout_ms = ks->conf.timeout_ms > 60000 ? ks->conf.timeout_ms :
	    60000;
	int rc = -1;

	if ((ends = kafka_producer_end_offsets(k->p, &starts, err)) == NULL)
		return -1;
	if (k->replay_batch >= 0 &&
	    k->replay_batch > kafka_producer_last_batch(k->p)) {
		if (o->resume != NULL &&
		    (from = kafka_offsets_parse(o->resume, k->tmp_err)) ==
		    NULL) {
			seterr(err, "checkpoint: bad sink position '%s': %s",
			    o->resume, k->tmp_err);
			goto out;
		}
		/* Retention may have removed the start: what is left; a
		 * topic made anew may end before it: nothing to read. */
		for (int i = 0; from != NULL && i < from->cnt; i++) {
			rd_kafka_topic_partition_t *f = &from->elems[i], *lo,
			    *hi;

			lo = rd_kafka_topic_partition_list_find(starts,
			    f->topic, f->partition);
			hi = rd_kafka_topic_partition_list_find(ends, f->topic,
			    f->partition);
			if (lo != NULL && f->offset < lo->offset)
				f->offset = lo->offset;
			if (hi != NULL && f->offset > hi->offset)
				f->offset = hi->offset;
		}
		k->found = kafka_readback_scan(&ks->conf, o->target, from,
		    k->query_id, k->replay_batch, timeout_ms, err);
		if (k->found == NULL)
			goto out;
	}
	kafka_producer_set_floor(k->p, ends);
	rc = 0;
out:
	if (from != NULL)
		rd_kafka_topic_partition_list_destroy(from);
	rd_kafka_topic_partition_list_destroy(ends);
	rd_kafka_topic_partition_list_destroy(starts);
	return rc;
}

static void *
kafka_sink_open(const struct sink_options *o, const struct schema *s,
    char *err)
{
	struct kafka_sink_settings none;
	const struct kafka_sink_settings *ks = get_settings(&none);
	struct kafka_producer_opts po = { .topic = o->target };
	struct kafka_sink *k = xcalloc(1, sizeof *k);

	k->schema = s;
	k->topic = o->target;
	k->key = k->value = -1;
	k->batch = -1;
	k->run_id = xstrdup(o->run_id != NULL ? o->run_id : "");
	k->query_id = xstrdup(o->query_id != NULL ? o->query_id : "");
	k->replay_batch = o->replay_batch;
	sb_init(&k->kbuf);
	sb_init(&k->vbuf);
	sb_init(&k->tmp);
	if ((ks->key_field != NULL &&
	    (k->key = field_index(s, "--key", ks->key_field, err)) < 0) ||
	    (ks->value_field != NULL &&
	    (k->value = field_index(s, "--value", ks->value_field, err)) < 0))
		goto fail;
	po.transactional_id = ks->transactional_id;
	k->txn = ks->transactional_id != NULL;
	if ((k->p = kafka_producer_new(&ks->conf, &po, err)) == NULL ||
	    kafka_producer_start(k->p, err) < 0)
		goto fail;
	if (k->txn && prepare_replay(k, ks, o, err) < 0)
		goto fail;
	return k;
fail:
	kafka_producer_free(k->p);
	kafka_readback_free(k->found);
	free(k->run_id);
	free(k->query_id);
	sb_free(&k->kbuf);
	sb_free(&k->vbuf);
	sb_free(&k->tmp);
	free(k);
	return NULL;
}

static int
kafka_sink_begin(void *state, int64_t batch, char *err)
{
	struct kafka_sink *k = state;

	k->batch = batch;
	k->skip = k->txn && batch >= 0 &&
	    batch <= kafka_producer_last_batch(k->p);
	if (k->skip)
		return 0;
	snprintf(k->batch_text, sizeof k->batch_text, "%lld",
	    (long long)batch);
	k->hdr[0].name = "runnel.batch";
	k->hdr[0].value = k->batch_text;
	k->hdr[0].len = strlen(k->batch_text);
	k->hdr[1].name = "runnel.run";
	k->hdr[1].value = k->run_id;
	k->hdr[1].len = strlen(k->run_id);
	k->hdr[2].name = "runnel.query";
	k->hdr[2].value = k->query_id;
	k->hdr[2].len = strlen(k->query_id);
	k->taking = batch >= 0 && batch == k->replay_batch ? k->found : NULL;
	return kafka_producer_begin(k->p, err);
}

/* The batch id unknown (lib/sink.h): end decides. */
static int
kafka_sink_begin_unknown(void *state, char *err)
{
	return kafka_sink_begin(state, -1, err);
}

/* Field i's value as bytes in out; returns 1 for null, -1 if malformed. */
static int
render(const struct kafka_sink *k, const struct record *rec, int i,
    struct strbuf *out, char *err)
{
	const struct field *f = &k->schema->fields[i];
	int r;

	sb_reset(out);
	r = value_render(f->type, rec->field[i], RENDER_PLAIN, out);
	if (r < 0)
		return seterr(err, "%s: malformed %s value '%.*s'", f->name,
		    type_name(f->type), (int)(rec->field[i].n > 40 ? 40 :
		    rec->field[i].n), rec->field[i].p);
	return r;
}

static int
kafka_sink_row(void *state, const struct record *rec, char *err)
{
	struct kafka_sink *k = state;
	struct kafka_out m = { .partition = -1 };
	int r;

	if (k->skip)
		return 0;
	if (k->txn && k->batch >= 0) {
		m.headers = k->hdr;
		m.nheaders = 3;
	}

	if (k->key >= 0) {
		if ((r = render(k, rec, k->key, &k->kbuf, err)) < 0)
			return SINK_BAD_ROW;
		if (r == 0) {
			m.key = k->kbuf.buf ? k->kbuf.buf : "";
			m.keylen = k->kbuf.len;
		}
	}
	if (k->value >= 0) {
		if ((r = render(k, rec, k->value, &k->vbuf, err)) < 0)
			return SINK_BAD_ROW;
	} else {
		sb_reset(&k->vbuf);
		if ((r = json_out_record(&k->vbuf, k->schema, rec, &k->tmp,
		    err)) < 0)
			return SINK_BAD_ROW;
	}
	if (r == 0) {
		m.value = k->vbuf.buf ? k->vbuf.buf : "";
		m.vallen = k->vbuf.len;
	}
	if (k->taking != NULL) {
		k->replay_rows++;
		if (kafka_readback_take(k->taking, m.key, m.keylen, m.value,
		    m.vallen)) {
			k->resent++;
			return 0;
		}
	}
	return kafka_producer_send(k->p, &m, err);
}

static int
kafka_sink_end(void *state, const struct epoch *e, char *err)
{
	struct kafka_sink *k = state;

	if (k->txn && k->batch >= 0 && e->batch != k->batch) {
		kafka_producer_abort(k->p, k->tmp_err);
		return seterr(err, "batch %lld ended where batch %lld was "
		    "expected (a checkpoint shared by two queries?)",
		    (long long)e->batch, (long long)k->batch);
	}
	if (k->skip)
		return 0;	/* nothing was sent */
	if (!k->txn)
		return kafka_producer_commit(k->p, -1, err);
	if (e->batch <= kafka_producer_last_batch(k->p))
		return kafka_producer_abort(k->p, err);
	/* The replayed batch is done with what was found of it. */
	if (k->taking != NULL) {
		k->replayed = kafka_readback_found(k->found) > 0;
		kafka_readback_free(k->found);
		k->found = k->taking = NULL;
	}
	return kafka_producer_commit(k->p, e->batch, err);
}

/* After a replayed batch that an earlier run had written (part of). */
static bool
kafka_sink_notice(void *state, char *buf)
{
	struct kafka_sink *k = state;

	if (!k->replayed)
		return false;
	k->replayed = false;
	snprintf(buf, ERRBUF_SIZE, "batch %lld replayed: %lld of its %lld "
	    "rows were in topic '%s' already (an earlier run wrote them "
	    "before it stopped); sent the other %lld", (long long)k->batch,
	    k->resent, k->replay_rows, k->topic, k->replay_rows - k->resent);
	return true;
}

/* With a checkpoint: per partition, an offset where the next batch's
 * messages will all be at or after (kafka_producer_positions()). */
static char *
kafka_sink_position(void *state)
{
	struct kafka_sink *k = state;
	rd_kafka_topic_partition_list_t *l;
	char *text;

	if (!k->txn)
		return NULL;
	l = kafka_producer_positions(k->p);
	text = kafka_offsets_format(l);
	rd_kafka_topic_partition_list_destroy(l);
	return text;
}

static int
kafka_sink_close(void *state, bool final, char *err)
{
	struct kafka_sink *k = state;

	kafka_producer_free(k->p);
	kafka_readback_free(k->found);
	free(k->run_id);
	free(k->query_id);
	sb_free(&k->kbuf);
	sb_free(&k->vbuf);
	sb_free(&k->tmp);
	free(k);
	return 0;
}

/* After a failure: the open transaction aborted, the client stopped. */
static void
kafka_sink_discard(void *state)
{
	(void)kafka_sink_close(state, false, NULL);
}

static const enum sink_format kafka_formats[] = { SINK_FORMAT_NONE };

const struct sink_type sink_kafka = {
	.name = "kafka",
	.target = "TOPIC",
	.options = SINK_OPT_KAFKA,
	.formats = kafka_formats,
	.supported = true,
	.check = kafka_sink_check,
	.open = kafka_sink_open,
	.begin = kafka_sink_begin_unknown,
	.begin_batch = kafka_sink_begin,
	.row = kafka_sink_row,
	.end = kafka_sink_end,
	.close = kafka_sink_close,
	.position = kafka_sink_position,
	.notice = kafka_sink_notice,
	.discard = kafka_sink_discard,
};

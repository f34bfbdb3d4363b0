/*
 * kafka_producer.c: write a topic one batch at a time, as one transaction
 * per batch (transactional.id) or idempotently.
 *
 * Delivery reports are counted in our own thread (librdkafka calls
 * dr_msg_cb from rd_kafka_poll/flush), so a failure is seen at the end of
 * its batch at the latest and turns the batch into an error: the first
 * failure is quoted with its topic and partition.
 *
 * The batch marker: committing a batch also commits, in the same
 * transaction, the offset batch+1 for partition 0 of the topic in the
 * consumer group "runnel-sink.<transactional.id>" (the way Kafka's own
 * read-process-write loops make input offsets and output atomic).  A
 * restarted sink reads it back with the admin API and knows whether the
 * batch it is about to replay is already in the topic, without reading
 * the topic.  Where the marker is not kept (librdkafka's mock), the
 * sink's read-back (kafka_readback.h) finds the batch instead; the
 * positions (kafka_producer_positions()) tell it where to start.
 */
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "kafka.h"
#include "kafka_int.h"
#include "rtime.h"

struct kafka_producer {
	struct kafka_log log;	/* first: the handle's opaque */
	rd_kafka_t *rk;
	rd_kafka_topic_t *rkt;
	char servers[512];
	char *topic;
	char *txn_id;		/* NULL: idempotent */
	char *marker_group;	/* "runnel-sink.<txn_id>" */
	int timeout_ms;		/* metadata and marker reads */
	int commit_timeout_ms;
	int partitions;
	bool in_txn;
	int64_t last_batch;
	int64_t *next;		/* per partition: past our last delivery,
				 * or the floor given, whichever is larger */
	int nnext;
	int64_t delivered;
	int64_t failed;		/* in the current batch */
	char dr_err[ERRBUF_SIZE];	/* the batch's first failure */
};

static const char *const producer_defaults[] = {
	/* Java's partitioner: a key lands where Java clients put it. */
	"partitioner", "murmur2_random",
	"enable.idempotence", "true",
	NULL,
};

static void
dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	struct kafka_producer *p = opaque;

	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		p->delivered++;
		if (m->partition >= 0 && m->partition < p->nnext &&
		    m->offset >= p->next[m->partition])
			p->next[m->partition] = m->offset + 1;
		return;
	}
	if (p->failed++ == 0)
		snprintf(p->dr_err, sizeof p->dr_err, "topic '%s' partition "
		    "%d: message not delivered: %s", rd_kafka_topic_name(m->rkt),
		    (int)m->partition, rd_kafka_err2str(m->err));
}

struct kafka_producer *
kafka_producer_new(const struct kafka_conf *kc,
    const struct kafka_producer_opts *opts, char *err)
{
	struct kafka_producer *p;
	const char *forced[3] = { NULL, NULL, NULL };
	rd_kafka_conf_t *conf;
	char rderr[ERRBUF_SIZE];
	size_t n;

	if (opts->topic == NULL || opts->topic[0] == '\0') {
		seterr(err, "no topic");
		return NULL;
	}
	p = xcalloc(1, sizeof *p);
	kafka_log_init(&p->log, kc);
	p->topic = xstrdup(opts->topic);
	p->timeout_ms = kc->timeout_ms > 0 ? kc->timeout_ms : KAFKA_TIMEOUT_MS;
	p->commit_timeout_ms = opts->commit_timeout_ms > 0 ?
	    opts->commit_timeout_ms : 60000;
	p->last_batch = -1;
	if (opts->transactional_id != NULL) {
		if (opts->transactional_id[0] == '\0') {
			seterr(err, "empty transactional id");
			goto fail;
		}
		p->txn_id = xstrdup(opts->transactional_id);
		n = strlen(p->txn_id) + sizeof "runnel-sink.";
		p->marker_group = xmalloc(n);
		snprintf(p->marker_group, n, "runnel-sink.%s", p->txn_id);
		forced[0] = "transactional.id";
		forced[1] = p->txn_id;
	}
	conf = kafka_conf_make(kc, producer_defaults, forced, &p->log, err);
	if (conf == NULL)
		goto fail;
	rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
	n = sizeof p->servers;
	rd_kafka_conf_get(conf, "bootstrap.servers", p->servers, &n);
	p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, rderr, sizeof rderr);
	if (p->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		seterr(err, "%s", rderr);
		goto fail;
	}
	p->rkt = rd_kafka_topic_new(p->rk, p->topic, NULL);
	if (p->rkt == NULL) {
		seterr(err, "topic '%s': %s", p->topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		goto fail;
	}
	return p;
fail:
	kafka_producer_free(p);
	return NULL;
}

/* Take an rd_kafka_error_t: fill err with "what: its message", destroy
 * it, return -1. */
static int
txn_error(char *err, rd_kafka_error_t *error, const char *what,
    const char *topic)
{
	seterr(err, "%s (topic '%s'): %s", what, topic,
	    rd_kafka_error_string(error));
	rd_kafka_error_destroy(error);
	return -1;
}

/* Read the batch marker (see the top of the file) into p->last_batch.
 * require_stable makes the broker wait for a transaction still being
 * completed; brokers before 2.5 (and the mock) do not know it, and then
 * init_transactions() having completed the old transaction is enough. */
static int
read_marker(struct kafka_producer *p, int64_t deadline, bool stable,
    char *err)
{
	rd_kafka_topic_partition_list_t *parts;
	rd_kafka_ListConsumerGroupOffsets_t *req;
	rd_kafka_AdminOptions_t *o;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	const rd_kafka_ListConsumerGroupOffsets_result_t *res;
	const rd_kafka_group_result_t **groups;
	const rd_kafka_error_t *gerr;
	const rd_kafka_topic_partition_list_t *got;
	char buf[ERRBUF_SIZE];
	size_t n = 0;
	int rc = -1;

	parts = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(parts, p->topic, 0);
	req = rd_kafka_ListConsumerGroupOffsets_new(p->marker_group, parts);
	rd_kafka_topic_partition_list_destroy(parts);
	o = rd_kafka_AdminOptions_new(p->rk,
	    RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
	rd_kafka_AdminOptions_set_request_timeout(o, kafka_ms_left(deadline),
	    buf, sizeof buf);
	if (stable) {
		rd_kafka_error_t *e =
		    rd_kafka_AdminOptions_set_require_stable_offsets(o, 1);

		if (e != NULL)
			rd_kafka_error_destroy(e);
	}
	q = rd_kafka_queue_new(p->rk);
	rd_kafka_ListConsumerGroupOffsets(p->rk, &req, 1, o, q);
	ev = rd_kafka_queue_poll(q, kafka_ms_left(deadline) + 1000);
	if (ev == NULL) {
		kafka_seterr(err, &p->log, RD_KAFKA_RESP_ERR__TIMED_OUT,
		    "cannot read the last batch of '%s' from '%s'",
		    p->marker_group, p->servers);
		goto out;
	}
	if (rd_kafka_event_error(ev)) {
		if (stable && rd_kafka_event_error(ev) ==
		    RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE) {
			rc = read_marker(p, deadline, false, err);
			goto out;
		}
		seterr(err, "cannot read the last batch of '%s': %s",
		    p->marker_group, rd_kafka_event_error_string(ev));
		goto out;
	}
	res = rd_kafka_event_ListConsumerGroupOffsets_result(ev);
	groups = rd_kafka_ListConsumerGroupOffsets_result_groups(res, &n);
	if (n != 1) {
		seterr(err, "cannot read the last batch of '%s': no answer",
		    p->marker_group);
		goto out;
	}
	if ((gerr = rd_kafka_group_result_error(groups[0])) != NULL) {
		seterr(err, "cannot read the last batch of '%s': %s",
		    p->marker_group, rd_kafka_error_string(gerr));
		goto out;
	}
	got = rd_kafka_group_result_partitions(groups[0]);
	if (got != NULL && got->cnt == 1 && got->elems[0].err)
		seterr(err, "cannot read the last batch of '%s': %s",
		    p->marker_group, rd_kafka_err2str(got->elems[0].err));
	else {
		if (got != NULL && got->cnt == 1 && got->elems[0].offset > 0)
			p->last_batch = got->elems[0].offset - 1;
		rc = 0;
	}
out:
	if (ev != NULL)
		rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	rd_kafka_AdminOptions_destroy(o);
	rd_kafka_ListConsumerGroupOffsets_destroy(req);
	return rc;
}

int
kafka_producer_start(struct kafka_producer *p, char *err)
{
	int64_t deadline = monotonic_micros() + (int64_t)p->timeout_ms * 1000;
	rd_kafka_error_t *error;

	if (kafka_topic_check(p->rk, &p->log, p->servers, p->topic, deadline,
	    p->timeout_ms, &p->partitions, err) < 0)
		return -1;
	p->next = xrealloc(p->next, (size_t)p->partitions * sizeof *p->next);
	for (p->nnext = 0; p->nnext < p->partitions; p->nnext++)
		p->next[p->nnext] = RD_KAFKA_OFFSET_INVALID;
	if (p->txn_id == NULL)
		return 0;
	error = rd_kafka_init_transactions(p->rk, p->commit_timeout_ms);
	if (error != NULL)
		return txn_error(err, error, "cannot start transactions",
		    p->topic);
	deadline = monotonic_micros() + (int64_t)p->timeout_ms * 1000;
	return read_marker(p, deadline, true, err);
}

int
kafka_producer_partitions(const struct kafka_producer *p)
{
	return p->partitions;
}

int
kafka_producer_begin(struct kafka_producer *p, char *err)
{
	rd_kafka_error_t *error;

	p->failed = 0;
	p->dr_err[0] = '\0';
	if (p->txn_id == NULL)
		return 0;
	if (p->in_txn)
		return seterr(err, "a transaction is already open");
	if ((error = rd_kafka_begin_transaction(p->rk)) != NULL)
		return txn_error(err, error, "cannot begin a transaction",
		    p->topic);
	p->in_txn = true;
	return 0;
}

int
kafka_producer_send(struct kafka_producer *p, const struct kafka_out *m,
    char *err)
{
	rd_kafka_vu_t stack[8 + 16], *vu = stack;
	rd_kafka_error_t *error;
	rd_kafka_resp_err_t e;
	size_t n = 0, i;

	if (m->nheaders > 16)
		vu = xmalloc((8 + m->nheaders) * sizeof *vu);
	vu[n].vtype = RD_KAFKA_VTYPE_RKT;
	vu[n++].u.rkt = p->rkt;
	vu[n].vtype = RD_KAFKA_VTYPE_PARTITION;
	vu[n++].u.i32 = m->partition < 0 ? RD_KAFKA_PARTITION_UA : m->partition;
	vu[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
	vu[n++].u.i = RD_KAFKA_MSG_F_COPY;
	vu[n].vtype = RD_KAFKA_VTYPE_KEY;
	vu[n].u.mem.ptr = (void *)m->key;
	vu[n++].u.mem.size = m->key != NULL ? m->keylen : 0;
	vu[n].vtype = RD_KAFKA_VTYPE_VALUE;
	vu[n].u.mem.ptr = (void *)m->value;
	vu[n++].u.mem.size = m->value != NULL ? m->vallen : 0;
	if (m->timestamp_ms > 0) {
		vu[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
		vu[n++].u.i64 = m->timestamp_ms;
	}
	for (i = 0; i < m->nheaders; i++) {
		vu[n].vtype = RD_KAFKA_VTYPE_HEADER;
		vu[n].u.header.name = m->headers[i].name;
		vu[n].u.header.val = m->headers[i].value;
		vu[n++].u.header.size = m->headers[i].value != NULL ?
		    (ssize_t)m->headers[i].len : -1;
	}
	for (;;) {
		error = rd_kafka_produceva(p->rk, vu, n);
		if (error == NULL ||
		    rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__QUEUE_FULL)
			break;
		rd_kafka_error_destroy(error);
		/* Wait for deliveries to make room: bounded by
		 * message.timeout.ms, after which they fail. */
		rd_kafka_poll(p->rk, 100);
	}
	if (vu != stack)
		free(vu);
	if (error != NULL) {
		e = rd_kafka_error_code(error);
		rd_kafka_error_destroy(error);
		return kafka_seterr(err, &p->log, e, "topic '%s': cannot send "
		    "a message", p->topic);
	}
	/* Serve delivery reports as we go so they do not pile up. */
	rd_kafka_poll(p->rk, 0);
	return 0;
}

rd_kafka_topic_partition_list_t *
kafka_producer_end_offsets(struct kafka_producer *p,
    rd_kafka_topic_partition_list_t **starts, char *err)
{
	int64_t deadline = monotonic_micros() + (int64_t)p->timeout_ms * 1000;
	rd_kafka_topic_partition_list_t *l, *lows;
	rd_kafka_resp_err_t e;
	int64_t lo, hi;
	int i;

	l = rd_kafka_topic_partition_list_new(p->partitions);
	lows = rd_kafka_topic_partition_list_new(p->partitions);
	for (i = 0; i < p->partitions; i++) {
		e = rd_kafka_query_watermark_offsets(p->rk, p->topic, i, &lo,
		    &hi, kafka_ms_left(deadline));
		if (e) {
			rd_kafka_topic_partition_list_destroy(l);
			rd_kafka_topic_partition_list_destroy(lows);
			kafka_seterr(err, &p->log, e, "topic '%s' partition %d: "
			    "cannot read its offsets from '%s'", p->topic, i,
			    p->servers);
			return NULL;
		}
		rd_kafka_topic_partition_list_add(l, p->topic, i)->offset = hi;
		rd_kafka_topic_partition_list_add(lows, p->topic, i)->offset =
		    lo;
	}
	if (starts != NULL)
		*starts = lows;
	else
		rd_kafka_topic_partition_list_destroy(lows);
	return l;
}

void
kafka_producer_set_floor(struct kafka_producer *p,
    const rd_kafka_topic_partition_list_t *floor)
{
	/* p->next has the partitions start() saw; one added since is
	 * not followed (a read-back reads it from its start). */
	for (int i = 0; i < floor->cnt; i++) {
		int32_t part = floor->elems[i].partition;

		if (strcmp(floor->elems[i].topic, p->topic) != 0 || part < 0 ||
		    part >= p->nnext)
			continue;
		if (floor->elems[i].offset > p->next[part])
			p->next[part] = floor->elems[i].offset;
	}
}

rd_kafka_topic_partition_list_t *
kafka_producer_positions(const struct kafka_producer *p)
{
	rd_kafka_topic_partition_list_t *l;

	/* Deliveries are counted by rd_kafka_poll/flush in this thread:
	 * between batches every one of them has been. */
	l = rd_kafka_topic_partition_list_new(p->nnext > 0 ? p->nnext : 1);
	for (int i = 0; i < p->nnext; i++)
		if (p->next[i] >= 0)
			rd_kafka_topic_partition_list_add(l, p->topic,
			    i)->offset = p->next[i];
	return l;
}

/* Wait for the batch's deliveries; -1 if one failed or time ran out. */
static int
flush_batch(struct kafka_producer *p, int64_t deadline, char *err)
{
	rd_kafka_resp_err_t e;

	e = rd_kafka_flush(p->rk, kafka_ms_left(deadline));
	if (p->failed > 0) {
		if (p->failed > 1)
			return seterr(err, "%s (and %lld more)", p->dr_err,
			    (long long)p->failed - 1);
		return seterr(err, "%s", p->dr_err);
	}
	if (e)
		return kafka_seterr(err, &p->log, e, "topic '%s': %d messages "
		    "not delivered within %ds", p->topic,
		    rd_kafka_outq_len(p->rk), p->commit_timeout_ms / 1000);
	return 0;
}

int
kafka_producer_commit(struct kafka_producer *p, int64_t batch, char *err)
{
	int64_t deadline = monotonic_micros() +
	    (int64_t)p->commit_timeout_ms * 1000;
	rd_kafka_error_t *error = NULL;
	char buf[ERRBUF_SIZE];

	if (p->txn_id == NULL)
		return flush_batch(p, deadline, err);
	if (!p->in_txn)
		return seterr(err, "no transaction is open");
	if (flush_batch(p, deadline, err) < 0)
		goto abort;
	if (batch >= 0) {
		rd_kafka_topic_partition_list_t *offs;
		rd_kafka_consumer_group_metadata_t *cgmd;

		offs = rd_kafka_topic_partition_list_new(1);
		rd_kafka_topic_partition_list_add(offs, p->topic, 0)->offset =
		    batch + 1;
		cgmd = rd_kafka_consumer_group_metadata_new(p->marker_group);
		error = rd_kafka_send_offsets_to_transaction(p->rk, offs, cgmd,
		    kafka_ms_left(deadline));
		rd_kafka_consumer_group_metadata_destroy(cgmd);
		rd_kafka_topic_partition_list_destroy(offs);
		if (error != NULL) {
			txn_error(err, error, "cannot record the batch id",
			    p->topic);
			goto abort;
		}
	}
	for (;;) {
		error = rd_kafka_commit_transaction(p->rk,
		    kafka_ms_left(deadline));
		if (error == NULL)
			break;
		if (rd_kafka_error_is_retriable(error) &&
		    monotonic_micros() < deadline) {
			rd_kafka_error_destroy(error);
			continue;
		}
		if (!rd_kafka_error_txn_requires_abort(error)) {
			/* Fatal, or out of time: free() aborts if it can;
			 * a restart's init_transactions() always does. */
			return txn_error(err, error, "cannot commit the "
			    "transaction", p->topic);
		}
		txn_error(err, error, "cannot commit the transaction",
		    p->topic);
		goto abort;
	}
	p->in_txn = false;
	if (batch >= 0)
		p->last_batch = batch;
	return 0;
abort:
	/* err holds the cause; an abort failure is secondary. */
	if (kafka_producer_abort(p, buf) < 0) {
		size_t len = strlen(err);

		snprintf(err + len, ERRBUF_SIZE - len, "; then %s", buf);
	}
	return -1;
}

int
kafka_producer_abort(struct kafka_producer *p, char *err)
{
	rd_kafka_error_t *error;

	if (p->txn_id == NULL || !p->in_txn)
		return 0;
	p->in_txn = false;
	error = rd_kafka_abort_transaction(p->rk, p->commit_timeout_ms);
	if (error != NULL)
		return txn_error(err, error, "cannot abort the transaction",
		    p->topic);
	return 0;
}

int64_t
kafka_producer_last_batch(const struct kafka_producer *p)
{
	return p->last_batch;
}

int64_t
kafka_producer_delivered(const struct kafka_producer *p)
{
	return p->delivered;
}

rd_kafka_t *
kafka_producer_handle(struct kafka_producer *p)
{
	return p->rk;
}

void
kafka_producer_free(struct kafka_producer *p)
{
	if (p == NULL)
		return;
	if (p->rk != NULL) {
		/* Bounded by --timeout: on the way out after an error the
		 * cluster may be gone; a restart's init_transactions() aborts
		 * what is left open anyway. */
		if (p->txn_id != NULL && p->in_txn) {
			rd_kafka_error_t *error;

			p->in_txn = false;
			error = rd_kafka_abort_transaction(p->rk, p->timeout_ms);
			if (error != NULL)
				rd_kafka_error_destroy(error);
		}
		/* What was not committed is dropped: commit() is the only
		 * promise of delivery.  Waiting here could hang on a dead
		 * cluster. */
		rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE |
		    RD_KAFKA_PURGE_F_INFLIGHT);
		rd_kafka_poll(p->rk, 0);
	}
	if (p->rkt != NULL)
		rd_kafka_topic_destroy(p->rkt);
	if (p->rk != NULL)
		rd_kafka_destroy(p->rk);
	free(p->topic);
	free(p->txn_id);
	free(p->marker_group);
	free(p->next);
	kafka_log_free(&p->log);
	free(p);
}

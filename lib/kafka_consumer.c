/*
 * kafka_consumer.c: read every partition of some topics from given
 * offsets, optionally only up to the end offsets seen at start; or, with
 * a consumer group, the partitions Kafka gives this copy.
 *
 * Without a group, why assign and not subscribe: the source's checkpoint
 * owns the offsets (Spark keeps them in offsets/N too, never in a group),
 * so there is nothing to rebalance or commit.  librdkafka still wants a
 * group.id for assign(); "runnel" is set by default and never joined or
 * committed to.
 *
 * Where the available-now stop comes from: the end offsets are read with
 * query_watermark_offsets() before assign(), so records written later are
 * not waited for.  A partition counts as done when a message at end-1 was
 * returned or when librdkafka reports end of partition at >= end (which
 * also covers transaction markers, which are never returned as messages);
 * it is then paused.  kcat -e waits for an EOF of every partition instead,
 * and in group mode that never comes for partitions it is not given.
 *
 * With a group, Kafka decides which partitions this copy reads: the
 * rebalance callback assigns them (eager protocol, librdkafka's default
 * range,roundrobin, unless -X partition.assignment.strategy says
 * cooperative-sticky) at an absolute offset: the larger of this copy's
 * position (the checkpoint's, or where it stopped reading the partition
 * earlier in this run) and the group's committed offset, read with
 * rd_kafka_committed(); with neither, "earliest"/"latest" resolved with
 * the watermarks.  The larger, because the group's offset is ahead only
 * when another copy read on meanwhile (each copy commits what it took
 * when a partition is taken away), and the checkpoint's is ahead only
 * when this copy logged batches it had not committed to the group yet.
 * Absolute, so that the position is known before the first message and
 * a checkpoint can say where a batch read: a move (from, to) is kept as
 * a jump (kafka.h) for the checkpoint to record.  The end offsets of
 * every partition are still read at start, so available-now ends when
 * the partitions this copy holds are read up to them; while a rebalance
 * is under way (partitions revoked, none given yet) it is not done.
 *
 * Replaying a batch (until): the same stop, at the batch's recorded end
 * offsets instead of the watermarks, so the replay returns exactly the
 * records the batch had, whatever was written since.
 *
 * Positions are kept per partition in one list (topic order, then
 * partition order), found from a message by the topic's index, cached by
 * the topic handle pointer: no search per message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "die.h"
#include "kafka.h"
#include "kafka_int.h"
#include "rtime.h"

struct kafka_consumer {
	struct kafka_log log;	/* first: the handle's opaque */
	rd_kafka_t *rk;
	rd_kafka_queue_t *q;	/* the consumer queue */
	int wake[2];		/* its IO event pipe: read end, write end */
	char servers[512];
	int timeout_ms;
	char **topics;
	size_t ntopics;
	int64_t all_offset;	/* -2 earliest, -1 latest, unless spec */
	rd_kafka_topic_partition_list_t *spec;	/* JSON starting offsets */
	rd_kafka_topic_partition_list_t *resume;	/* copy, or NULL */
	rd_kafka_topic_partition_list_t *until;		/* copy, or NULL */
	bool bounded;
	bool started;
	char *group;		/* NULL: assign everything ourselves */
	bool assigned_once;	/* group: a first assignment came */
	bool rebalancing;	/* group: revoked, not assigned again yet */
	bool closing;		/* free(): the revoke commits nothing */
	unsigned long rebalances;
	struct kafka_jump *jumps;	/* group: moves since the last clear */
	size_t njumps, jumps_cap;
	unsigned char *assigned;	/* group: per partition */
	int *nparts;		/* per topic */
	int *base;		/* per topic: index of its partition 0 */
	rd_kafka_topic_partition_list_t *starts, *ends, *pos;
	int64_t *lows;		/* per partition: the earliest at start */
	int64_t *assign_at;	/* group, per partition: where its last
				 * assignment started it */
	unsigned char *done;	/* per partition, bounded mode */
	int ndone;
	const rd_kafka_topic_t *last_rkt;
	size_t last_topic;
};

static const char *const consumer_defaults[] = {
	"group.id", "runnel",
	"enable.auto.commit", "false",
	"enable.auto.offset.store", "false",
	/* Offsets given to assign() are checked to exist; if one vanishes
	 * later (retention), that is data loss: an error, not a jump. */
	"auto.offset.reset", "error",
	"isolation.level", "read_committed",
	/* librdkafka 2.0 stops fetching a partition for a fixed second
	 * once 100000 of its messages wait in the queue; a pipeline that
	 * blocks on its output now and then, then drains them in well
	 * under a second, stalls for that second again and again (1M small
	 * messages: 5 s instead of 0.7 s on the mock).  The queue stays
	 * bounded by queued.max.messages.kbytes (64 MB), across
	 * partitions. */
	"queued.min.messages", "1000000",
	NULL,
};

static const char *const consumer_forced[] = {
	"enable.partition.eof", "true",	/* the available-now stop */
	NULL,
};

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
    rd_kafka_topic_partition_list_t *parts, void *opaque);

struct kafka_consumer *
kafka_consumer_new(const struct kafka_conf *kc,
    const struct kafka_consumer_opts *opts, char *err)
{
	struct kafka_consumer *c;
	rd_kafka_conf_t *conf;
	const char *so = opts->starting_offsets;
	char rderr[ERRBUF_SIZE];
	size_t i, n;

	if (opts->ntopics == 0) {
		seterr(err, "no topic");
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->wake[0] = c->wake[1] = -1;
	kafka_log_init(&c->log, kc);
	c->log.quiet = opts->quiet_config;
	c->timeout_ms = kc->timeout_ms > 0 ? kc->timeout_ms : KAFKA_TIMEOUT_MS;
	c->bounded = opts->bounded;
	c->topics = xcalloc(opts->ntopics, sizeof *c->topics);
	c->ntopics = opts->ntopics;
	for (i = 0; i < opts->ntopics; i++)
		c->topics[i] = xstrdup(opts->topics[i]);
	if (so == NULL || strcmp(so, "latest") == 0) {
		c->all_offset = RD_KAFKA_OFFSET_END;
	} else if (strcmp(so, "earliest") == 0) {
		c->all_offset = RD_KAFKA_OFFSET_BEGINNING;
	} else if ((c->spec = kafka_offsets_parse(so, rderr)) == NULL) {
		seterr(err, "starting offsets: %s", rderr);
		goto fail;
	}
	if (opts->resume != NULL)
		c->resume = rd_kafka_topic_partition_list_copy(opts->resume);
	if (opts->until != NULL) {
		if (opts->group != NULL) {
			seterr(err, "a group cannot replay a batch exactly");
			goto fail;
		}
		c->until = rd_kafka_topic_partition_list_copy(opts->until);
		c->bounded = true;
	}
	if (opts->group != NULL) {
		const char *forced[] = {
			"enable.partition.eof", "true",
			"group.id", opts->group,
			"auto.offset.reset", c->all_offset ==
			    RD_KAFKA_OFFSET_BEGINNING ? "earliest" : "latest",
			NULL,
		};

		if (opts->group[0] == '\0') {
			seterr(err, "empty group id");
			goto fail;
		}
		if (c->spec != NULL) {
			seterr(err, "starting offsets: a group starts from its "
			    "committed offsets, else earliest or latest, not "
			    "from JSON");
			goto fail;
		}
		c->group = xstrdup(opts->group);
		conf = kafka_conf_make(kc, consumer_defaults, forced, &c->log,
		    err);
		if (conf != NULL)
			rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
	} else {
		conf = kafka_conf_make(kc, consumer_defaults, consumer_forced,
		    &c->log, err);
	}
	if (conf == NULL)
		goto fail;
	n = sizeof c->servers;
	rd_kafka_conf_get(conf, "bootstrap.servers", c->servers, &n);
	c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, rderr, sizeof rderr);
	if (c->rk == NULL) {
		rd_kafka_conf_destroy(conf);
		seterr(err, "%s", rderr);
		goto fail;
	}
	/* Errors and logs of the main queue come through the consumer
	 * queue, so one poll serves them all. */
	rd_kafka_poll_set_consumer(c->rk);
	c->q = rd_kafka_queue_get_consumer(c->rk);
	if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
		seterr(err, "pipe: %s", strerror(errno));
		goto fail;
	}
	rd_kafka_queue_io_event_enable(c->q, c->wake[1], "1", 1);
	return c;
fail:
	kafka_consumer_free(c);
	return NULL;
}

static int
find_topic(const struct kafka_consumer *c, const char *name)
{
	size_t t;

	for (t = 0; t < c->ntopics; t++)
		if (strcmp(c->topics[t], name) == 0)
			return (int)t;
	return -1;
}

/* Check that the JSON starting offsets name exactly the partitions read,
 * as Spark does ("you must specify all TopicPartitions"). */
static int
check_spec(const struct kafka_consumer *c, char *err)
{
	int i, t;

	for (i = 0; i < c->spec->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &c->spec->elems[i];

		t = find_topic(c, tp->topic);
		if (t < 0)
			return seterr(err, "starting offsets: topic '%s' is "
			    "not one this source reads", tp->topic);
		if (tp->partition >= c->nparts[t])
			return seterr(err, "starting offsets: topic '%s' has "
			    "no partition %d (it has %d)", tp->topic,
			    (int)tp->partition, c->nparts[t]);
	}
	for (i = 0; i < c->pos->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &c->pos->elems[i];

		if (rd_kafka_topic_partition_list_find(c->spec, tp->topic,
		    tp->partition) == NULL)
			return seterr(err, "starting offsets: topic '%s' "
			    "partition %d is missing (give every partition; "
			    "-2 earliest, -1 latest)", tp->topic,
			    (int)tp->partition);
	}
	return 0;
}

static void
pause_partition(struct kafka_consumer *c, int idx)
{
	rd_kafka_topic_partition_list_t *one;

	one = rd_kafka_topic_partition_list_new(1);
	rd_kafka_topic_partition_list_add(one, c->pos->elems[idx].topic,
	    c->pos->elems[idx].partition);
	rd_kafka_pause_partitions(c->rk, one);
	rd_kafka_topic_partition_list_destroy(one);
}

static void
mark_done(struct kafka_consumer *c, int idx)
{
	if (c->done[idx])
		return;
	c->done[idx] = 1;
	c->ndone++;
	if (c->started)
		pause_partition(c, idx);
}

int
kafka_consumer_start(struct kafka_consumer *c, char *err)
{
	int64_t deadline = monotonic_micros() + (int64_t)c->timeout_ms * 1000;
	rd_kafka_topic_partition_list_t *assign;
	rd_kafka_resp_err_t e;
	size_t t;
	int i, p, total = 0;

	c->nparts = xcalloc(c->ntopics, sizeof *c->nparts);
	c->base = xcalloc(c->ntopics, sizeof *c->base);
	for (t = 0; t < c->ntopics; t++) {
		if (kafka_topic_check(c->rk, &c->log, c->servers, c->topics[t],
		    deadline, c->timeout_ms, &c->nparts[t], err) < 0)
			return -1;
		c->base[t] = total;
		total += c->nparts[t];
	}
	c->starts = rd_kafka_topic_partition_list_new(total);
	c->ends = rd_kafka_topic_partition_list_new(total);
	c->pos = rd_kafka_topic_partition_list_new(total);
	c->done = xcalloc((size_t)total, 1);
	c->lows = xcalloc((size_t)total, sizeof *c->lows);
	c->assign_at = xcalloc((size_t)total, sizeof *c->assign_at);
	c->assigned = xcalloc((size_t)total, 1);
	for (t = 0; t < c->ntopics; t++)
		for (p = 0; p < c->nparts[t]; p++) {
			rd_kafka_topic_partition_list_add(c->starts,
			    c->topics[t], p);
			rd_kafka_topic_partition_list_add(c->ends,
			    c->topics[t], p);
			rd_kafka_topic_partition_list_add(c->pos,
			    c->topics[t], p);
		}
	if (c->spec != NULL && check_spec(c, err) < 0)
		return -1;

	for (i = 0; i < total; i++) {
		rd_kafka_topic_partition_t *tp = &c->pos->elems[i], *r;
		int64_t want = c->all_offset, lo, hi, at;

		if (c->resume != NULL && (r = rd_kafka_topic_partition_list_find(
		    c->resume, tp->topic, tp->partition)) != NULL)
			want = r->offset;
		else if (c->spec != NULL)
			want = rd_kafka_topic_partition_list_find(c->spec,
			    tp->topic, tp->partition)->offset;
		e = rd_kafka_query_watermark_offsets(c->rk, tp->topic,
		    tp->partition, &lo, &hi, kafka_ms_left(deadline));
		if (e)
			return kafka_seterr(err, &c->log, e, "topic '%s' "
			    "partition %d: cannot read its offsets from '%s'",
			    tp->topic, (int)tp->partition, c->servers);
		c->ends->elems[i].offset = hi;
		c->lows[i] = lo;
		if (c->group != NULL) {
			/* Known at assignment; until then the checkpoint's
			 * position stands (kafka_consumer_positions()). */
			r = c->resume != NULL ?
			    rd_kafka_topic_partition_list_find(c->resume,
			    tp->topic, tp->partition) : NULL;
			c->starts->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
			tp->offset = r != NULL ? r->offset :
			    RD_KAFKA_OFFSET_INVALID;
			continue;
		}
		at = want == RD_KAFKA_OFFSET_BEGINNING ? lo :
		    want == RD_KAFKA_OFFSET_END ? hi : want;
		if (at < lo)
			return seterr(err, "topic '%s' partition %d: offset "
			    "%lld is no longer available (the earliest is "
			    "%lld)", tp->topic, (int)tp->partition,
			    (long long)at, (long long)lo);
		if (at > hi)
			return seterr(err, "topic '%s' partition %d: offset "
			    "%lld is past the end (%lld)", tp->topic,
			    (int)tp->partition, (long long)at, (long long)hi);
		c->starts->elems[i].offset = at;
		tp->offset = at;
		if (c->until != NULL) {
			r = rd_kafka_topic_partition_list_find(c->until,
			    tp->topic, tp->partition);
			if (r != NULL && (r->offset < at || r->offset > hi))
				return seterr(err, "topic '%s' partition %d: "
				    "cannot replay up to offset %lld: the "
				    "partition holds %lld to %lld", tp->topic,
				    (int)tp->partition, (long long)r->offset,
				    (long long)at, (long long)hi);
			hi = r != NULL ? r->offset : at;
			c->ends->elems[i].offset = hi;
		}
		if (c->bounded && at >= hi)
			mark_done(c, i);
	}

	if (c->group != NULL) {
		assign = rd_kafka_topic_partition_list_new((int)c->ntopics);
		for (t = 0; t < c->ntopics; t++)
			rd_kafka_topic_partition_list_add(assign, c->topics[t],
			    RD_KAFKA_PARTITION_UA);
		c->started = true;
		e = rd_kafka_subscribe(c->rk, assign);
		rd_kafka_topic_partition_list_destroy(assign);
		if (e)
			return kafka_seterr(err, &c->log, e, "cannot join group "
			    "'%s'", c->group);
		return 0;
	}
	assign = rd_kafka_topic_partition_list_new(total);
	for (i = 0; i < total; i++)
		if (!c->done[i])
			rd_kafka_topic_partition_list_add(assign,
			    c->pos->elems[i].topic,
			    c->pos->elems[i].partition)->offset =
			    c->pos->elems[i].offset;
	e = rd_kafka_assign(c->rk, assign);
	rd_kafka_topic_partition_list_destroy(assign);
	if (e)
		return kafka_seterr(err, &c->log, e, "cannot assign the "
		    "partitions");
	c->started = true;
	return 0;
}

/* Index in pos of a message's partition, -1 if not ours. */
static int
message_index(struct kafka_consumer *c, const rd_kafka_message_t *m)
{
	int t;

	if (m->rkt == NULL)
		return -1;
	if (m->rkt != c->last_rkt) {
		t = find_topic(c, rd_kafka_topic_name(m->rkt));
		if (t < 0)
			return -1;
		c->last_rkt = m->rkt;
		c->last_topic = (size_t)t;
	}
	if (m->partition < 0 || m->partition >= c->nparts[c->last_topic])
		return -1;
	return c->base[c->last_topic] + m->partition;
}

/* Index in pos of (topic, partition), -1 if not ours. */
static int
tp_index(const struct kafka_consumer *c, const char *topic, int32_t partition)
{
	int t = find_topic(c, topic);

	if (t < 0 || partition < 0 || partition >= c->nparts[t])
		return -1;
	return c->base[t] + partition;
}

/* Remember that partition idx moves from `from` to `to` (kafka.h). */
static void
add_jump(struct kafka_consumer *c, int idx, int64_t from, int64_t to)
{
	struct kafka_jump *j;

	if (c->njumps == c->jumps_cap) {
		c->jumps_cap = c->jumps_cap ? 2 * c->jumps_cap : 8;
		c->jumps = xrealloc(c->jumps, c->jumps_cap * sizeof *c->jumps);
	}
	j = &c->jumps[c->njumps++];
	j->topic = c->pos->elems[idx].topic;
	j->partition = c->pos->elems[idx].partition;
	j->from = from;
	j->to = to;
}

/* Partitions taken away: commit what this copy read of them, so that
 * their next owner goes on from there (not when closing: the source
 * commits what it means to before free()). */
static void
revoke_commit(struct kafka_consumer *c, rd_kafka_t *rk,
    const rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;
	int i, idx;

	l = rd_kafka_topic_partition_list_new(parts->cnt > 0 ? parts->cnt : 1);
	for (i = 0; i < parts->cnt; i++) {
		idx = tp_index(c, parts->elems[i].topic,
		    parts->elems[i].partition);
		if (idx >= 0 && c->assigned[idx] &&
		    c->pos->elems[idx].offset >= 0)
			rd_kafka_topic_partition_list_add(l,
			    c->pos->elems[idx].topic,
			    c->pos->elems[idx].partition)->offset =
			    c->pos->elems[idx].offset;
	}
	if (l->cnt > 0 && !c->closing &&
	    (e = rd_kafka_commit(rk, l, 0)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		char msg[ERRBUF_SIZE];

		snprintf(msg, sizeof msg, "group '%s': offsets of the "
		    "partitions taken away not committed: %s", c->group,
		    rd_kafka_err2str(e));
		kafka_log_note(&c->log, msg);
	}
	rd_kafka_topic_partition_list_destroy(l);
}

/* Where each partition of an assignment starts (see the top of the
 * file): sets parts' offsets, pos and the jumps. */
static void
assign_offsets(struct kafka_consumer *c, rd_kafka_t *rk,
    rd_kafka_topic_partition_list_t *parts)
{
	rd_kafka_topic_partition_list_t *committed;
	rd_kafka_resp_err_t e;
	int i, idx;

	committed = rd_kafka_topic_partition_list_copy(parts);
	for (i = 0; i < committed->cnt; i++)
		committed->elems[i].offset = RD_KAFKA_OFFSET_INVALID;
	e = rd_kafka_committed(rk, committed, c->timeout_ms);
	if (e) {
		char msg[ERRBUF_SIZE];

		/* Then this copy's own positions, else earliest/latest. */
		snprintf(msg, sizeof msg, "group '%s': cannot read the "
		    "committed offsets: %s", c->group, rd_kafka_err2str(e));
		kafka_log_note(&c->log, msg);
	}
	for (i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &parts->elems[i];
		int64_t known, co, at;

		idx = tp_index(c, tp->topic, tp->partition);
		tp->offset = RD_KAFKA_OFFSET_INVALID;
		if (idx < 0)
			continue;
		known = c->pos->elems[idx].offset;
		co = e ? RD_KAFKA_OFFSET_INVALID : committed->elems[i].offset;
		at = known > co ? known : co;
		if (at < 0)
			at = c->all_offset == RD_KAFKA_OFFSET_BEGINNING ?
			    c->lows[idx] : c->ends->elems[idx].offset;
		if (at != known)
			add_jump(c, idx, known >= 0 ? known : -1, at);
		tp->offset = at;
		c->pos->elems[idx].offset = at;
		c->assign_at[idx] = at;
	}
	rd_kafka_topic_partition_list_destroy(committed);
}

/*
 * Group mode: Kafka gives or takes partitions (inside a poll).  Given
 * ones start where assign_offsets() says; in bounded mode one already at
 * its end is done at once.  A partition the topic did not have at start
 * (added since) is not read: its end is unknown.
 */
static void
rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t e,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct kafka_consumer *c = opaque;
	const char *proto = rd_kafka_rebalance_protocol(rk);
	bool coop = proto != NULL && strcmp(proto, "COOPERATIVE") == 0;
	rd_kafka_error_t *error;
	int i, idx;

	c->rebalances++;
	if (e != RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		revoke_commit(c, rk, parts);
		for (i = 0; i < parts->cnt; i++)
			if ((idx = tp_index(c, parts->elems[i].topic,
			    parts->elems[i].partition)) >= 0)
				c->assigned[idx] = 0;
		/* Eager: everything goes, then an assignment comes. */
		c->rebalancing = !coop;
		if (!coop) {
			rd_kafka_assign(rk, NULL);
		} else if ((error = rd_kafka_incremental_unassign(rk, parts)) !=
		    NULL) {
			kafka_log_note(&c->log, rd_kafka_error_string(error));
			rd_kafka_error_destroy(error);
		}
		return;
	}
	assign_offsets(c, rk, parts);
	for (i = 0; i < parts->cnt; i++) {
		rd_kafka_topic_partition_t *tp = &parts->elems[i];

		if ((idx = tp_index(c, tp->topic, tp->partition)) < 0)
			continue;
		c->assigned[idx] = 1;
		if (c->done[idx]) {
			c->done[idx] = 0;
			c->ndone--;
		}
		/* Not paused: pausing before assign() would not hold. */
		if (c->bounded && tp->offset >= c->ends->elems[idx].offset) {
			c->done[idx] = 1;
			c->ndone++;
		}
	}
	c->assigned_once = true;
	c->rebalancing = false;
	if (!coop) {
		rd_kafka_assign(rk, parts);
	} else if ((error = rd_kafka_incremental_assign(rk, parts)) != NULL) {
		kafka_log_note(&c->log, rd_kafka_error_string(error));
		rd_kafka_error_destroy(error);
	}
}

/* Errors after which the source cannot go on: the data it must read are
 * gone or forbidden.  The others (a broker restarting, a timeout) are
 * retried by librdkafka and only noted. */
static bool
error_stops(rd_kafka_resp_err_t e)
{
	switch (e) {
	case RD_KAFKA_RESP_ERR__FATAL:
	case RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET:
	case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
	case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
	case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
	case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
	case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
	case RD_KAFKA_RESP_ERR__SSL:
	case RD_KAFKA_RESP_ERR__AUTHENTICATION:
		return true;
	default:
		return false;
	}
}

/* Take one message or event.  Returns 1 if it is a record for the caller,
 * 0 if consumed here (destroyed), -1 on a stopping error (destroyed). */
static int
take(struct kafka_consumer *c, rd_kafka_message_t *m, char *err)
{
	int idx = message_index(c, m);
	int64_t end;

	if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (idx < 0)
			goto drop;
		end = c->ends->elems[idx].offset;
		if (c->bounded && (c->done[idx] || m->offset >= end)) {
			mark_done(c, idx);
			goto drop;
		}
		c->pos->elems[idx].offset = m->offset + 1;
		if (c->bounded && m->offset + 1 >= end)
			mark_done(c, idx);
		return 1;
	}
	if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
		if (idx >= 0) {
			int64_t at = m->offset;

			end = c->ends->elems[idx].offset;
			if (c->bounded && at > end)
				at = end;
			if (at > c->pos->elems[idx].offset)
				c->pos->elems[idx].offset = at;
			if (c->bounded && at >= end)
				mark_done(c, idx);
		}
		goto drop;
	}
	if (error_stops(m->err) || rd_kafka_fatal_error(c->rk, NULL, 0)) {
		if (m->rkt != NULL)
			seterr(err, "topic '%s' partition %d offset %lld: %s",
			    rd_kafka_topic_name(m->rkt), (int)m->partition,
			    (long long)m->offset, rd_kafka_message_errstr(m));
		else
			seterr(err, "%s", rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
		return -1;
	}
	kafka_log_note(&c->log, rd_kafka_message_errstr(m));
drop:
	rd_kafka_message_destroy(m);
	return 0;
}

int
kafka_consumer_poll(struct kafka_consumer *c, rd_kafka_message_t **msgs,
    int max, int timeout_ms, char *err)
{
	rd_kafka_message_t *m;
	unsigned long rebalances = c->rebalances;
	ssize_t k;
	int got = 0, i, r;

	if (!c->started)
		return seterr(err, "consumer not started");
	/* A group member polls even when done: a rebalance (another copy
	 * leaving) is served here, and until then no commit goes through. */
	if (max <= 0 || (kafka_consumer_done(c) && c->group == NULL))
		return 0;
	m = rd_kafka_consumer_poll(c->rk, timeout_ms);
	if (m != NULL) {
		if ((r = take(c, m, err)) < 0)
			return -1;
		if (r > 0)
			msgs[got++] = m;
	}
	/* Then only what is already there: a batch ends when input would
	 * block.  A rebalance returns at once, so that the source can end
	 * the batch under way before the new assignment's messages. */
	while (got < max && !kafka_consumer_done(c) &&
	    c->rebalances == rebalances) {
		int from = got;

		k = rd_kafka_consume_batch_queue(c->q, 0, msgs + got,
		    (size_t)(max - got));
		if (k <= 0)
			break;
		for (i = from; i < from + (int)k; i++) {
			r = take(c, msgs[i], err);
			if (r < 0) {
				kafka_messages_destroy(msgs + i + 1,
				    from + (int)k - i - 1);
				kafka_messages_destroy(msgs, got);
				return -1;
			}
			if (r > 0)
				msgs[got++] = msgs[i];
		}
	}
	if (c->log.fatal) {
		kafka_messages_destroy(msgs, got);
		return kafka_seterr(err, &c->log, RD_KAFKA_RESP_ERR__FATAL,
		    "kafka consumer");
	}
	return got;
}

void
kafka_messages_destroy(rd_kafka_message_t **msgs, int n)
{
	int i;

	for (i = 0; i < n; i++)
		rd_kafka_message_destroy(msgs[i]);
}

int
kafka_consumer_fd(const struct kafka_consumer *c)
{
	return c->wake[0];
}

void
kafka_consumer_clear_fd(struct kafka_consumer *c)
{
	char buf[64];

	while (read(c->wake[0], buf, sizeof buf) > 0)
		continue;
}

bool
kafka_consumer_done(const struct kafka_consumer *c)
{
	int i;

	if (!c->bounded || !c->started)
		return false;
	if (c->group == NULL)
		return c->ndone == c->pos->cnt;
	if (!c->assigned_once || c->rebalancing)
		return false;
	for (i = 0; i < c->pos->cnt; i++)
		if (c->assigned[i] && !c->done[i])
			return false;
	return true;
}

int
kafka_consumer_commit(struct kafka_consumer *c, bool async, char *err)
{
	if (c->group == NULL || !c->started)
		return 0;
	return kafka_consumer_commit_offsets(c, c->pos, async, err);
}

int
kafka_consumer_commit_offsets(struct kafka_consumer *c,
    const rd_kafka_topic_partition_list_t *offs, bool async, char *err)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;
	int i, idx;

	if (c->group == NULL || !c->started)
		return 0;
	l = rd_kafka_topic_partition_list_new(offs->cnt > 0 ? offs->cnt : 1);
	for (i = 0; i < offs->cnt; i++) {
		idx = tp_index(c, offs->elems[i].topic,
		    offs->elems[i].partition);
		/* Never behind where the assignment started: offs may be
		 * a checkpoint's, logged before the partition came. */
		if (idx >= 0 && c->assigned[idx] &&
		    offs->elems[i].offset >= c->assign_at[idx])
			rd_kafka_topic_partition_list_add(l,
			    offs->elems[i].topic,
			    offs->elems[i].partition)->offset =
			    offs->elems[i].offset;
	}
	e = l->cnt > 0 ? rd_kafka_commit(c->rk, l, async) : 0;
	rd_kafka_topic_partition_list_destroy(l);
	switch (e) {
	case RD_KAFKA_RESP_ERR_NO_ERROR:
		return 0;
	case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
	case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
	case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
	case RD_KAFKA_RESP_ERR__STATE:
		seterr(err, "group '%s': offsets not committed during a "
		    "rebalance: %s", c->group, rd_kafka_err2str(e));
		return 1;
	default:
		return kafka_seterr(err, &c->log, e, "group '%s': cannot "
		    "commit offsets", c->group);
	}
}

unsigned long
kafka_consumer_rebalances(const struct kafka_consumer *c)
{
	return c->rebalances;
}

size_t
kafka_consumer_jumps(const struct kafka_consumer *c,
    const struct kafka_jump **jumps)
{
	*jumps = c->jumps;
	return c->njumps;
}

void
kafka_consumer_clear_jumps(struct kafka_consumer *c)
{
	c->njumps = 0;
}

int
kafka_consumer_assigned(const struct kafka_consumer *c)
{
	int i, n = 0;

	if (!c->started)
		return 0;
	if (c->group == NULL)
		return c->pos->cnt;
	for (i = 0; i < c->pos->cnt; i++)
		n += c->assigned[i];
	return n;
}

bool
kafka_consumer_warning(struct kafka_consumer *c, char *buf)
{
	return kafka_log_take(&c->log, buf);
}

const rd_kafka_topic_partition_list_t *
kafka_consumer_positions(const struct kafka_consumer *c)
{
	return c->pos;
}

const rd_kafka_topic_partition_list_t *
kafka_consumer_starts(const struct kafka_consumer *c)
{
	return c->starts;
}

const rd_kafka_topic_partition_list_t *
kafka_consumer_ends(const struct kafka_consumer *c)
{
	return c->ends;
}

rd_kafka_t *
kafka_consumer_handle(struct kafka_consumer *c)
{
	return c->rk;
}

void
kafka_consumer_free(struct kafka_consumer *c)
{
	size_t t;

	if (c == NULL)
		return;
	if (c->q != NULL) {
		rd_kafka_queue_io_event_enable(c->q, -1, NULL, 0);
		rd_kafka_queue_destroy(c->q);
	}
	if (c->rk != NULL) {
		c->closing = true;
		rd_kafka_consumer_close(c->rk);
		rd_kafka_destroy(c->rk);
	}
	for (t = 0; t < c->ntopics; t++)
		free(c->topics[t]);
	free(c->topics);
	if (c->spec != NULL)
		rd_kafka_topic_partition_list_destroy(c->spec);
	if (c->resume != NULL)
		rd_kafka_topic_partition_list_destroy(c->resume);
	if (c->until != NULL)
		rd_kafka_topic_partition_list_destroy(c->until);
	if (c->starts != NULL)
		rd_kafka_topic_partition_list_destroy(c->starts);
	if (c->ends != NULL)
		rd_kafka_topic_partition_list_destroy(c->ends);
	if (c->pos != NULL)
		rd_kafka_topic_partition_list_destroy(c->pos);
	if (c->wake[0] >= 0)
		close(c->wake[0]);
	if (c->wake[1] >= 0)
		close(c->wake[1]);
	free(c->done);
	free(c->lows);
	free(c->assign_at);
	free(c->jumps);
	free(c->assigned);
	free(c->group);
	free(c->nparts);
	free(c->base);
	kafka_log_free(&c->log);
	free(c);
}

/*
 * source_kafka.c: "kafka:TOPIC[,TOPIC...]": the records of Kafka topics,
 * every partition, through lib/kafka.h's consumer.
 *
 * Records: --format text (the default) gives Spark's Kafka columns
 *   key STRING, value STRING (the bytes, null when absent), topic STRING,
 *   partition INT, offset BIGINT, timestamp TIMESTAMP (null if the
 *   message has none), and with --include-headers headers STRING: the
 *   headers as a JSON array [{"key":"k","value":"v"},...] in their order
 *   (Spark's array<struct<key,value>>; a null value is null);
 * --format json or csv parses each value into the --schema fields, one
 *   record per message (a csv value may hold one record); a value that
 *   does not parse is an error naming topic, partition and offset.
 *
 * Positions are Spark's offsets JSON, {"t":{"0":5,"1":7}}: for each
 * partition the offset of the next message, so a checkpoint's position
 * resumes exactly after the last message of a batch (seek).  With
 * --trigger once or available-now the source ends at the end offsets seen
 * when it started (see kafka_consumer.c for why that never hangs).
 *
 * --max-offsets-per-trigger N: a batch takes at most N messages over
 * all partitions (Spark's maxOffsetsPerTrigger); the source then says
 * SOURCE_BATCH, so ssrc ends the batch (at the next tick with --trigger
 * DURATION).  Not while a batch is replayed: it has its own size.
 *
 * Replay (ssrc sets s->replaying and s->replay_end, the batch's logged
 * end, before opening the source or before its first read of the batch):
 * the consumer reads each partition from the batch's start to exactly
 * its end (kafka_consumer_opts.until), never past it, whatever was
 * written since; with a group too, without joining it (the batch's
 * records are this copy's to send again, whoever holds the partitions
 * now).  Then ssrc seeks to the batch's end and the source starts again
 * as usual.
 *
 * --group ID: the copies of a pipeline started with the same ID share the
 * partitions (lib/kafka_consumer.c says where each starts).  What is
 * committed to the group:
 *   without a checkpoint, the positions of the records handed to ssrc,
 *     at most once a second and at the end;
 *   with one, the end of the last batch offsets/N logged (journal() sees
 *     it), at most every 100 ms and at the end, so that the group's
 *     offset is never ahead of what this copy's checkpoint can replay;
 *   either way, when Kafka takes partitions away, their positions (the
 *     consumer does it), and the batch under way ends at once
 *     (SOURCE_BATCH), so that it is logged before its records are read
 *     by another copy.  A crash in that short window loses the records
 *     of the unlogged batch for this copy while the other copy skips
 *     them: the one place where a rebalance is not exactly once.
 * When an assignment moves a partition's position forward (another copy
 * read on meanwhile, kafka.h "jump"), the move is journaled with the
 * batch ("jump BATCH TOPIC PARTITION FROM TO", FROM -1 when the batch's
 * start did not know the partition), so that replaying the batch skips
 * what it did not read.
 *
 * s->fd is an epoll descriptor (lib/wakeup.h) over the consumer's
 * wake-up pipe, readable when librdkafka queued messages or events, and a
 * timer: a group member must poll now and then even when idle, or Kafka
 * gives its partitions away.  read() takes what is queued without
 * waiting.
 */
#include <stdlib.h>
#include <string.h>

#include "csv_in.h"
#include "die.h"
#include "json_in.h"
#include "json_out.h"
#include "rtime.h"
#include "source.h"
#include "source_kafka.h"
#include "wakeup.h"

#define TAKE_MAX 512	/* messages taken from librdkafka per call */
#define GROUP_TICK (1000 * 1000)	/* group: poll and commit, micros */
#define LOGGED_TICK (100 * 1000)	/* group: commit what was logged */
#define RETRY_TICK (50 * 1000)	/* group: the last commit again */

/* A range of a partition a replayed batch did not read (a jump). */
struct skip {
	char *topic;
	int32_t partition;
	int64_t from, to;	/* from -1: the batch started it at to */
};

static const struct kafka_source_settings *settings;

void
source_kafka_settings(const struct kafka_source_settings *ks)
{
	settings = ks;
}

struct kafka_source {
	const struct kafka_source_settings *ks;
	struct kafka_source_settings none;	/* when ssrc gave nothing */
	char **topics;
	size_t ntopics;
	struct kafka_consumer *c;
	struct wakeup w;
	int64_t last_commit;	/* group: monotonic micros */
	rd_kafka_topic_partition_list_t *resume;	/* from seek() */
	struct json_in *json;
	struct csv_in *csv;
	bool more;		/* stopped at a limit: messages may wait */
	bool commit_due;	/* group, done: the last commit failed in a
				 * rebalance; read again once it is over */
	int64_t due_since;	/* monotonic micros: the first such failure */
	bool replay;		/* the consumer reads a batch to replay */
	long long taken;	/* messages taken in the batch under way */
	unsigned long rebalances;	/* as last seen */
	/* Group with a checkpoint: the end of the last logged batch, and
	 * whether it was committed to the group since. */
	rd_kafka_topic_partition_list_t *logged;
	bool logged_dirty;
	/* Jumps: of the batch to replay (restore), and the journal lines of
	 * the last batch journaled, which compact() repeats. */
	struct skip *skips;
	size_t nskips;
	struct strbuf jlines;
	struct strbuf tmp;	/* headers JSON */
	char tmp_err[ERRBUF_SIZE];	/* close() has no way to report */
	rd_kafka_message_t *msgs[TAKE_MAX];
};

static void
split_topics(struct kafka_source *ks, const char *arg)
{
	const char *p = arg, *comma;

	for (;;) {
		comma = strchr(p, ',');
		ks->topics = xrealloc(ks->topics,
		    (ks->ntopics + 1) * sizeof *ks->topics);
		ks->topics[ks->ntopics++] = comma ?
		    xstrndup(p, (size_t)(comma - p)) : xstrdup(p);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

static int
kafka_init(struct source *s, char *err)
{
	struct kafka_source *ks = xcalloc(1, sizeof *ks);
	rd_kafka_topic_partition_list_t *l;
	char why[ERRBUF_SIZE];
	size_t i;

	s->priv = ks;
	ks->w.epfd = ks->w.timerfd = -1;
	sb_init(&ks->tmp);
	sb_init(&ks->jlines);
	kafka_conf_init(&ks->none.conf);
	ks->ks = settings != NULL ? settings : &ks->none;
	if (s->arg[0] == '\0')
		return seterr(err, "source 'kafka:' needs a topic: "
		    "kafka:TOPIC[,TOPIC...]");
	split_topics(ks, s->arg);
	for (i = 0; i < ks->ntopics; i++)
		if (ks->topics[i][0] == '\0')
			return seterr(err, "source '%s': empty topic name",
			    s->spec);
	if (kafka_conf_check(&ks->ks->conf, why) < 0)
		return seterr(err, "%s", why);
	if (ks->ks->starting_offsets != NULL &&
	    strcmp(ks->ks->starting_offsets, "earliest") != 0 &&
	    strcmp(ks->ks->starting_offsets, "latest") != 0) {
		if ((l = kafka_offsets_parse(ks->ks->starting_offsets, why)) ==
		    NULL)
			return seterr(err, "--starting-offsets: %s (or earliest, "
			    "latest)", why);
		rd_kafka_topic_partition_list_destroy(l);
		if (ks->ks->group != NULL)
			return seterr(err, "--starting-offsets: a group starts "
			    "from its committed offsets, else earliest or "
			    "latest, not from JSON");
	}
	if (ks->ks->group != NULL && ks->ks->group[0] == '\0')
		return seterr(err, "--group: empty group id");
	if (s->opt.format == SOURCE_TEXT) {
		static const struct { const char *name; enum field_type t; }
		    cols[] = {
			{ "key", TYPE_STRING }, { "value", TYPE_STRING },
			{ "topic", TYPE_STRING }, { "partition", TYPE_INT },
			{ "offset", TYPE_BIGINT },
			{ "timestamp", TYPE_TIMESTAMP },
		};

		if (s->opt.include_timestamp)
			return seterr(err, "--include-timestamp is not for "
			    "kafka: records have the message's timestamp");
		for (i = 0; i < sizeof cols / sizeof cols[0]; i++)
			schema_add(&s->schema, cols[i].name, cols[i].t, NULL);
		if (ks->ks->include_headers)
			schema_add(&s->schema, "headers", TYPE_STRING, NULL);
		return 0;
	}
	if (ks->ks->include_headers)
		return seterr(err, "--include-headers is for --format text");
	return source_stream_schema(s, err);
}

/* Parse a position (kafka_position()'s JSON, "{}" for none). */
static rd_kafka_topic_partition_list_t *
parse_position(const struct source *s, const char *position, char *err)
{
	rd_kafka_topic_partition_list_t *l;
	char why[ERRBUF_SIZE];
	int i;

	if (strcmp(position, "{}") == 0)
		return rd_kafka_topic_partition_list_new(1);
	if ((l = kafka_offsets_parse(position, why)) == NULL) {
		seterr(err, "%s: bad position: %s", s->name, why);
		return NULL;
	}
	for (i = 0; i < l->cnt; i++)
		if (l->elems[i].offset < 0) {
			rd_kafka_topic_partition_list_destroy(l);
			seterr(err, "%s: bad position '%s': offsets are "
			    "absolute", s->name, position);
			return NULL;
		}
	return l;
}

/* (Re)start the consumer: for the batch being replayed (s->replaying),
 * else from ks->resume as the options say. */
static int
start(struct source *s, char *err)
{
	struct kafka_source *ks = s->priv;
	rd_kafka_topic_partition_list_t *until = NULL, *from = NULL;
	struct kafka_consumer_opts co = {
		.topics = (const char *const *)ks->topics,
		.ntopics = ks->ntopics,
		.starting_offsets = ks->ks->starting_offsets,
		.resume = ks->resume,
		.bounded = ks->ks->bounded,
		.group = ks->ks->group,
	};
	int rc = -1;
	size_t i;

	kafka_consumer_free(ks->c);
	ks->c = NULL;
	wakeup_close(&ks->w);
	s->fd = -1;
	ks->more = false;
	ks->replay = s->replaying && s->replay_end != NULL;
	if (ks->replay) {
		if ((until = parse_position(s, s->replay_end, err)) == NULL)
			return -1;
		/* A partition first assigned during the batch: it started
		 * where the jump says. */
		from = ks->resume != NULL ?
		    rd_kafka_topic_partition_list_copy(ks->resume) :
		    rd_kafka_topic_partition_list_new(1);
		for (i = 0; i < ks->nskips; i++)
			if (ks->skips[i].from < 0 &&
			    rd_kafka_topic_partition_list_find(from,
			    ks->skips[i].topic, ks->skips[i].partition) == NULL)
				rd_kafka_topic_partition_list_add(from,
				    ks->skips[i].topic, ks->skips[i].partition)
				    ->offset = ks->skips[i].to;
		co.resume = from;
		co.until = until;
		co.bounded = true;
		co.group = NULL;	/* never joins: see the top */
	}
	if ((ks->c = kafka_consumer_new(&ks->ks->conf, &co, err)) == NULL ||
	    kafka_consumer_start(ks->c, err) < 0 ||
	    wakeup_open(&ks->w, kafka_consumer_fd(ks->c), err) < 0)
		goto out;
	ks->rebalances = kafka_consumer_rebalances(ks->c);
	/* Read at once: what start() queued (a group's join) is polled. */
	wakeup_arm(&ks->w, 0);
	s->fd = ks->w.epfd;
	rc = 0;
out:
	if (until != NULL)
		rd_kafka_topic_partition_list_destroy(until);
	if (from != NULL)
		rd_kafka_topic_partition_list_destroy(from);
	return rc;
}

static int
kafka_open(struct source *s, char *err)
{
	struct kafka_source *ks = s->priv;

	if (s->opt.format == SOURCE_JSON && ks->json == NULL)
		ks->json = json_in_new(s->opt.schema, "kafka");
	if (s->opt.format == SOURCE_CSV && ks->csv == NULL)
		ks->csv = csv_in_new(s->opt.schema, false, "kafka",
		    s->opt.max_record);
	return start(s, err);
}

/* Turn the decoder's "kafka:LINE: why" into "topic 't' partition p offset
 * o: why". */
static int
bad_value(const rd_kafka_message_t *m, char *err)
{
	char why[ERRBUF_SIZE];
	const char *p = strstr(err, ": ");

	snprintf(why, sizeof why, "%s", p != NULL ? p + 2 : err);
	return seterr(err, "topic '%s' partition %d offset %lld: %s",
	    rd_kafka_topic_name(m->rkt), (int)m->partition,
	    (long long)m->offset, why);
}

static void
headers_json(struct strbuf *out, const rd_kafka_message_t *m)
{
	rd_kafka_headers_t *h = NULL;
	const char *name;
	const void *val;
	size_t size, i;

	sb_reset(out);
	sb_addc(out, '[');
	if (rd_kafka_message_headers(m, &h) == RD_KAFKA_RESP_ERR_NO_ERROR)
		for (i = 0; rd_kafka_header_get_all(h, i, &name, &val, &size) ==
		    RD_KAFKA_RESP_ERR_NO_ERROR; i++) {
			sb_adds(out, i ? ",{\"key\":" : "{\"key\":");
			json_out_string(out, name, strlen(name));
			sb_adds(out, ",\"value\":");
			if (val == NULL)
				sb_adds(out, "null");
			else
				json_out_string(out, val, size);
			sb_addc(out, '}');
		}
	sb_addc(out, ']');
}

static int
emit(struct source *s, struct record_out *o, const rd_kafka_message_t *m,
    char *err)
{
	struct kafka_source *ks = s->priv;
	struct frame_writer *w = o->w;
	rd_kafka_timestamp_type_t tstype;
	const char *topic = rd_kafka_topic_name(m->rkt);
	int64_t ts;

	if (ks->json != NULL) {
		if (json_in_line(ks->json, m->payload ? m->payload : "", m->len,
		    (long)m->offset, o, err) < 0)
			return bad_value(m, err);
		return 0;
	}
	if (ks->csv != NULL) {
		if (csv_in_line(ks->csv, m->payload ? m->payload : "", m->len,
		    (long)m->offset, o, err) < 0 ||
		    csv_in_finish(ks->csv, o, err) < 0)
			return bad_value(m, err);
		return 0;
	}
	if (m->key != NULL)
		fw_field(w, m->key, m->key_len);
	else
		fw_null(w);
	if (m->payload != NULL)
		fw_field(w, m->payload, m->len);
	else
		fw_null(w);
	fw_field(w, topic, strlen(topic));
	fw_i64(w, m->partition);
	fw_i64(w, m->offset);
	ts = rd_kafka_message_timestamp(m, &tstype);
	if (ts >= 0 && tstype != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE)
		fw_i64(w, ts * 1000);
	else
		fw_null(w);
	if (ks->ks->include_headers) {
		headers_json(&ks->tmp, m);
		fw_field(w, ks->tmp.buf, ks->tmp.len);
	}
	ro_end(o);
	return 0;
}

/* Replaying: is m in a range the batch did not read (a jump)? */
static bool
skipped(const struct kafka_source *ks, const rd_kafka_message_t *m)
{
	const char *topic;
	size_t i;

	if (!ks->replay || ks->nskips == 0)
		return false;
	topic = rd_kafka_topic_name(m->rkt);
	for (i = 0; i < ks->nskips; i++) {
		const struct skip *k = &ks->skips[i];

		if (k->partition == m->partition && k->from >= 0 &&
		    m->offset >= k->from && m->offset < k->to &&
		    strcmp(k->topic, topic) == 0)
			return true;
	}
	return false;
}

/* Group: commit what the options say (see the top) now and then, and
 * poll again in time to do it. */
static int
group_commit(struct kafka_source *ks, char *err)
{
	int64_t now = monotonic_micros();

	if (ks->ks->checkpointed) {
		if (ks->logged != NULL && ks->logged_dirty &&
		    now - ks->last_commit >= LOGGED_TICK) {
			ks->last_commit = now;
			ks->logged_dirty = false;
			if (kafka_consumer_commit_offsets(ks->c, ks->logged,
			    true, err) < 0)
				return -1;
		}
		wakeup_arm(&ks->w, ks->logged_dirty ? LOGGED_TICK : GROUP_TICK);
		return 0;
	}
	if (now - ks->last_commit >= GROUP_TICK) {
		ks->last_commit = now;
		if (kafka_consumer_commit(ks->c, true, err) < 0)
			return -1;
	}
	wakeup_arm(&ks->w, GROUP_TICK);
	return 0;
}

/*
 * Group, available-now, every partition held read to its end: end only
 * once the group has the offsets, or the next owner of a partition (a
 * copy still running, or a later run) would read it again.  With a
 * checkpoint the batch under way is logged first (SOURCE_BATCH), then
 * what was logged is committed.  A commit refused because a rebalance
 * is under way (another copy finished and left: the mock cluster
 * refuses commits then) is tried again after it; the rebalance may give
 * this copy more to read.  Returns SOURCE_END, SOURCE_BATCH, SOURCE_OK
 * (try again) or -1.
 */
static int
group_done(struct kafka_source *ks, struct record_out *o, char *err)
{
	int r;

	if (ks->ks->checkpointed && o->rows > 0) {
		ks->more = true;
		return SOURCE_BATCH;
	}
	if (ks->ks->checkpointed)
		r = ks->logged != NULL ? kafka_consumer_commit_offsets(ks->c,
		    ks->logged, false, err) : 0;
	else
		r = kafka_consumer_commit(ks->c, false, err);
	if (r < 0)
		return -1;
	if (r == 0) {
		ks->due_since = 0;
		return SOURCE_END;
	}
	/* Bounded: a rebalance takes seconds, not --timeout. */
	if (ks->due_since == 0)
		ks->due_since = monotonic_micros();
	else if (monotonic_micros() - ks->due_since >
	    (int64_t)ks->ks->conf.timeout_ms * 1000)
		return -1;	/* err says why */
	ks->commit_due = true;
	wakeup_arm(&ks->w, RETRY_TICK);
	return SOURCE_OK;
}

static int
kafka_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	struct kafka_source *ks = s->priv;
	long long cap = ks->ks->max_offsets;
	int n, want, i, st = SOURCE_OK;

	/* ssrc started replaying after the source opened: read the batch
	 * exactly (once done, it seeks, which starts again as usual). */
	if (s->replaying && !ks->replay && start(s, err) < 0)
		return -1;
	if (ks->replay)
		cap = 0;
	wakeup_clear(&ks->w);
	kafka_consumer_clear_fd(ks->c);
	o->arrival = now_micros();
	ks->more = false;
	if (o->rows == 0)
		ks->taken = 0;	/* a new batch */
	if (!ks->ks->checkpointed)
		kafka_consumer_clear_jumps(ks->c);	/* nobody logs them */
	while (o->rows < limit && (cap == 0 || ks->taken < cap)) {
		want = limit - o->rows < TAKE_MAX ? (int)(limit - o->rows) :
		    TAKE_MAX;
		if (cap > 0 && cap - ks->taken < want)
			want = (int)(cap - ks->taken);
		n = kafka_consumer_poll(ks->c, ks->msgs, want, 0, err);
		if (n < 0)
			return -1;
		ks->taken += n;
		for (i = 0; i < n; i++) {
			if (!skipped(ks, ks->msgs[i]) &&
			    emit(s, o, ks->msgs[i], err) < 0) {
				kafka_messages_destroy(ks->msgs + i, n - i);
				return -1;
			}
			rd_kafka_message_destroy(ks->msgs[i]);
		}
		if (kafka_consumer_rebalances(ks->c) != ks->rebalances) {
			/* End the batch under way before records of the
			 * new assignment: see the top. */
			ks->rebalances = kafka_consumer_rebalances(ks->c);
			ks->more = true;
			if (o->rows > 0) {
				st = SOURCE_BATCH;
				break;
			}
			continue;
		}
		if (n < want)
			break;
	}
	if (cap > 0 && ks->taken >= cap) {
		ks->more = true;
		st = SOURCE_BATCH;
	}
	ks->commit_due = false;
	if (ks->ks->group != NULL && !ks->replay) {
		if (group_commit(ks, err) < 0)
			return -1;
		if (kafka_consumer_done(ks->c) && st != SOURCE_BATCH)
			return group_done(ks, o, err);
	}
	if (kafka_consumer_done(ks->c))
		return SOURCE_END;
	if (st == SOURCE_OK && o->rows >= limit) {
		ks->more = true;
		return SOURCE_MORE;
	}
	return st;
}

static bool
kafka_buffered(const struct source *s)
{
	const struct kafka_source *ks = s->priv;

	/* Done (available-now) means: read() says SOURCE_END at once,
	 * unless a group commit waits for a rebalance to end. */
	return ks->more || (ks->c != NULL && kafka_consumer_done(ks->c) &&
	    !ks->commit_due);
}

static void
kafka_position(const struct source *s, struct strbuf *out)
{
	const struct kafka_source *ks = s->priv;
	char *json;

	if (ks->c != NULL)
		json = kafka_offsets_format(kafka_consumer_positions(ks->c));
	else if (ks->resume != NULL)
		json = kafka_offsets_format(ks->resume);
	else
		json = xstrdup("{}");
	sb_adds(out, json);
	free(json);
}

/* Resume from kafka_position()'s JSON; before or after open. */
static int
kafka_seek(struct source *s, const char *position, char *err)
{
	struct kafka_source *ks = s->priv;
	rd_kafka_topic_partition_list_t *l;

	if ((l = parse_position(s, position, err)) == NULL)
		return -1;
	if (ks->resume != NULL)
		rd_kafka_topic_partition_list_destroy(ks->resume);
	ks->resume = l;
	/* Where a run resumes was logged: the group may have it. */
	if (ks->ks->group != NULL && ks->ks->checkpointed) {
		if (ks->logged != NULL)
			rd_kafka_topic_partition_list_destroy(ks->logged);
		ks->logged = rd_kafka_topic_partition_list_copy(l);
		ks->logged_dirty = true;
	}
	return ks->c != NULL ? start(s, err) : 0;
}

/*
 * Batch n is being logged (offsets/n): note its end for the group, and
 * journal the jumps of the batch.
 */
static void
kafka_journal(struct source *s, int64_t n, struct strbuf *out)
{
	struct kafka_source *ks = s->priv;
	const struct kafka_jump *j;
	size_t i, nj;
	size_t from = ks->jlines.len;

	if (ks->c == NULL || ks->replay)
		return;
	if (ks->ks->group != NULL) {
		if (ks->logged != NULL)
			rd_kafka_topic_partition_list_destroy(ks->logged);
		ks->logged = rd_kafka_topic_partition_list_copy(
		    kafka_consumer_positions(ks->c));
		ks->logged_dirty = true;
	}
	nj = kafka_consumer_jumps(ks->c, &j);
	for (i = 0; i < nj; i++)
		sb_addf(&ks->jlines, "jump %lld %s %d %lld %lld\n",
		    (long long)n, j[i].topic, (int)j[i].partition,
		    (long long)j[i].from, (long long)j[i].to);
	kafka_consumer_clear_jumps(ks->c);
	if (ks->jlines.len > from)
		sb_add(out, ks->jlines.buf + from, ks->jlines.len - from);
}

/* Every jump line that may still matter: those of this run and those
 * restored (a batch not committed yet may be replayed). */
static void
kafka_compact(const struct source *s, struct strbuf *out)
{
	const struct kafka_source *ks = s->priv;

	if (ks->jlines.len > 0)
		sb_add(out, ks->jlines.buf, ks->jlines.len);
}

static void
free_skips(struct kafka_source *ks)
{
	size_t i;

	for (i = 0; i < ks->nskips; i++)
		free(ks->skips[i].topic);
	free(ks->skips);
	ks->skips = NULL;
	ks->nskips = 0;
}

/* Take back the jumps of batch last, the only one that can be replayed
 * (batches before it are committed, those after it planned again). */
static int
kafka_restore(struct source *s, const char *lines, int64_t last, char *err)
{
	struct kafka_source *ks = s->priv;
	const char *p = lines, *nl;
	char topic[256];
	long long b, from, to;
	int part, used;

	for (; *p != '\0'; p = *nl ? nl + 1 : nl) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl == p)
			continue;
		if (sscanf(p, "jump %lld %255s %d %lld %lld%n", &b, topic, &part,
		    &from, &to, &used) != 5 || p + used != nl || part < 0 ||
		    to < 0 || from < -1)
			return seterr(err, "%s: bad journal line '%.*s'",
			    s->name, (int)(nl - p), p);
		if (b != last)
			continue;
		ks->skips = xrealloc(ks->skips,
		    (ks->nskips + 1) * sizeof *ks->skips);
		ks->skips[ks->nskips].topic = xstrdup(topic);
		ks->skips[ks->nskips].partition = part;
		ks->skips[ks->nskips].from = from;
		ks->skips[ks->nskips].to = to;
		ks->nskips++;
		sb_add(&ks->jlines, p, (size_t)(nl - p));
		sb_addc(&ks->jlines, '\n');
	}
	return 0;
}

static void
kafka_close(struct source *s)
{
	struct kafka_source *ks = s->priv;
	size_t i;

	if (ks == NULL)
		return;
	/* The group's offsets: with a checkpoint only what it logged (a
	 * run that fails leaves a batch that was never logged). */
	if (ks->c != NULL && ks->ks->group != NULL && !ks->replay) {
		if (!ks->ks->checkpointed)
			kafka_consumer_commit(ks->c, false, ks->tmp_err);
		else if (ks->logged != NULL)
			kafka_consumer_commit_offsets(ks->c, ks->logged, false,
			    ks->tmp_err);
	}
	kafka_consumer_free(ks->c);
	wakeup_close(&ks->w);
	if (ks->resume != NULL)
		rd_kafka_topic_partition_list_destroy(ks->resume);
	if (ks->logged != NULL)
		rd_kafka_topic_partition_list_destroy(ks->logged);
	free_skips(ks);
	json_in_free(ks->json);
	csv_in_free(ks->csv);
	for (i = 0; i < ks->ntopics; i++)
		free(ks->topics[i]);
	free(ks->topics);
	sb_free(&ks->tmp);
	sb_free(&ks->jlines);
	kafka_conf_free(&ks->none.conf);
	free(ks);
	s->priv = NULL;
	s->fd = -1;
}

const struct source_type source_kafka = {
	.scheme = "kafka",
	.bare = false,
	.init = kafka_init,
	.open = kafka_open,
	.read = kafka_read,
	.buffered = kafka_buffered,
	.position = kafka_position,
	.seek = kafka_seek,
	.close = kafka_close,
	.journal = kafka_journal,
	.compact = kafka_compact,
	.restore = kafka_restore,
};

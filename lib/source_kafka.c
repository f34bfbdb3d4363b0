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
 * --group ID: the copies of a pipeline started with the same ID share the
 * partitions (lib/kafka_consumer.c says where each starts).  Offsets are
 * committed to the group, at most once a second and at the end, as
 * records are handed to ssrc, so that a copy that takes a partition over
 * continues after them.  Exactly once across a rebalance is not promised
 * by this alone: records a copy handed on but had not committed
 * downstream when it lost the partition are replayed by that copy's
 * checkpoint only if the partition comes back to it.
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
	bool more;		/* stopped at the row limit */
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
	}
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

static int
start(struct source *s, char *err)
{
	struct kafka_source *ks = s->priv;
	struct kafka_consumer_opts co = {
		.topics = (const char *const *)ks->topics,
		.ntopics = ks->ntopics,
		.starting_offsets = ks->ks->starting_offsets,
		.resume = ks->resume,
		.bounded = ks->ks->bounded,
		.group = ks->ks->group,
	};

	kafka_consumer_free(ks->c);
	wakeup_close(&ks->w);
	s->fd = -1;
	if ((ks->c = kafka_consumer_new(&ks->ks->conf, &co, err)) == NULL ||
	    kafka_consumer_start(ks->c, err) < 0 ||
	    wakeup_open(&ks->w, kafka_consumer_fd(ks->c), err) < 0)
		return -1;
	/* Read at once: what start() queued (a group's join) is polled. */
	wakeup_arm(&ks->w, 0);
	s->fd = ks->w.epfd;
	return 0;
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

static int
kafka_read(struct source *s, struct record_out *o, uint64_t limit,
    bool may_read, char *err)
{
	struct kafka_source *ks = s->priv;
	int n, want, i;

	wakeup_clear(&ks->w);
	kafka_consumer_clear_fd(ks->c);
	o->arrival = now_micros();
	ks->more = false;
	while (o->rows < limit) {
		want = limit - o->rows < TAKE_MAX ? (int)(limit - o->rows) :
		    TAKE_MAX;
		n = kafka_consumer_poll(ks->c, ks->msgs, want, 0, err);
		if (n < 0)
			return -1;
		for (i = 0; i < n; i++)
			if (emit(s, o, ks->msgs[i], err) < 0) {
				kafka_messages_destroy(ks->msgs + i, n - i);
				return -1;
			} else {
				rd_kafka_message_destroy(ks->msgs[i]);
			}
		if (n < want)
			break;
	}
	if (ks->ks->group != NULL) {
		int64_t now = monotonic_micros();

		if (now - ks->last_commit >= GROUP_TICK ||
		    kafka_consumer_done(ks->c)) {
			ks->last_commit = now;
			if (kafka_consumer_commit(ks->c,
			    !kafka_consumer_done(ks->c), err) < 0)
				return -1;
		}
		wakeup_arm(&ks->w, GROUP_TICK);
	}
	if (kafka_consumer_done(ks->c))
		return SOURCE_END;
	if (o->rows >= limit) {
		ks->more = true;
		return SOURCE_MORE;
	}
	return SOURCE_OK;
}

static bool
kafka_buffered(const struct source *s)
{
	const struct kafka_source *ks = s->priv;

	/* Done (available-now) means: read() says SOURCE_END at once. */
	return ks->more || (ks->c != NULL && kafka_consumer_done(ks->c));
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
	char why[ERRBUF_SIZE];
	int i;

	if (strcmp(position, "{}") == 0)
		l = rd_kafka_topic_partition_list_new(0);
	else if ((l = kafka_offsets_parse(position, why)) == NULL)
		return seterr(err, "%s: bad position: %s", s->name, why);
	for (i = 0; i < l->cnt; i++)
		if (l->elems[i].offset < 0) {
			rd_kafka_topic_partition_list_destroy(l);
			return seterr(err, "%s: bad position '%s': offsets are "
			    "absolute", s->name, position);
		}
	if (ks->resume != NULL)
		rd_kafka_topic_partition_list_destroy(ks->resume);
	ks->resume = l;
	return ks->c != NULL ? start(s, err) : 0;
}

static void
kafka_close(struct source *s)
{
	struct kafka_source *ks = s->priv;
	size_t i;

	if (ks == NULL)
		return;
	if (ks->c != NULL && ks->ks->group != NULL)
		kafka_consumer_commit(ks->c, false, ks->tmp_err);
	kafka_consumer_free(ks->c);
	wakeup_close(&ks->w);
	if (ks->resume != NULL)
		rd_kafka_topic_partition_list_destroy(ks->resume);
	json_in_free(ks->json);
	csv_in_free(ks->csv);
	for (i = 0; i < ks->ntopics; i++)
		free(ks->topics[i]);
	free(ks->topics);
	sb_free(&ks->tmp);
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
};

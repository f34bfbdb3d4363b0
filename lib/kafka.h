/*
 * kafka.h: the librdkafka plumbing that the kafka: source (ssrc) and the
 * kafka: sink (ssink) share.
 *
 *   kafka_conf_*      --bootstrap-servers, -X key=value and --timeout as
 *                     given on the command line, checked the way kcat's
 *                     try_conf_set() does, and -X list;
 *   kafka_offsets_*   starting offsets as Spark writes them,
 *                     {"topic":{"0":23,"1":-2}}, parsed and formatted;
 *   kafka_consumer_*  reads the partitions of some topics, each from a
 *                     given offset, optionally only up to the end offsets
 *                     seen at start (available-now); or, in a consumer
 *                     group, the partitions Kafka gives this copy;
 *   kafka_producer_*  writes to one topic, one transaction per batch
 *                     (transactional.id) or idempotently without one.
 *
 * Invariants:
 * - Each object is made in two steps.  *_new() builds the configuration
 *   and the librdkafka handle and talks to no broker: a failure there is
 *   the user's (bad -X, bad offsets): exit 2.  *_start() talks to the
 *   cluster and is bounded by the --timeout (default 10 s): a failure is a
 *   runtime error (exit 1) quoting librdkafka's reason, e.g. "Connect to
 *   ipv4#127.0.0.1:1 failed: Connection refused".  No call blocks without
 *   a bound.
 * - Offsets are Kafka's: the offset of the NEXT record to read.  In specs
 *   -2 means earliest and -1 latest (RD_KAFKA_OFFSET_BEGINNING/END, the
 *   same numbers as Spark's startingOffsets); start() turns them into
 *   absolute offsets, so what a checkpoint records is always absolute.
 * - librdkafka's own log lines are kept, not printed: the last error is
 *   quoted in our messages.  With -X debug=... or -X log_level=N they go
 *   to stderr as librdkafka would print them; configuration warnings
 *   (e.g. a producer property given to a consumer) are always printed.
 * - Calls return -1 or NULL and fill err (ERRBUF_SIZE bytes); only cmd/
 *   prints.  The objects are not thread-safe: one thread uses each.
 *
 * What librdkafka 2.0.2's mock cluster (tests/helpers/kafka_mock.c, the
 * tests, the demo) does not do that a real cluster does: transactions do
 * not hide aborted messages from read_committed readers (no markers); an
 * older producer with the same transactional id is not fenced; offsets
 * committed in a transaction (the sink's batch id) are not stored, so
 * last_batch is always -1 there (the sink's read-back,
 * kafka_readback.h, makes up for these three); offset commits are refused while a
 * group rebalances (Kafka accepts them from the current generation, as a
 * revoke callback needs); unknown topics are created (4 partitions)
 * unless kafka_mock --topic-error says otherwise; a group member waits
 * max.poll.interval.ms for the others, so tests use -X
 * max.poll.interval.ms=3000 -X session.timeout.ms=3000 -X
 * heartbeat.interval.ms=100; a fetch that finds nothing waits
 * fetch.wait.max.ms (500 ms) even when a message comes meanwhile; and it
 * drops the oldest messages of a partition past a few hundred thousand.
 */
#ifndef RUNNEL_KAFKA_H
#define RUNNEL_KAFKA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define KAFKA_TIMEOUT_MS 10000	/* default bound for talking to brokers */

/* The Kafka options of a command line.  The strings are not copied: they
 * must outlive the struct (argv does). */
struct kafka_conf {
	const char *bootstrap;	/* --bootstrap-servers; NULL: from -X */
	const char **props;	/* -X key=value, in the order given */
	size_t nprops;
	int timeout_ms;		/* --timeout; KAFKA_TIMEOUT_MS by default */
};

void kafka_conf_init(struct kafka_conf *kc);
void kafka_conf_free(struct kafka_conf *kc);
/* Remember one -X argument ("key=value").  Returns -1 if it has no '=';
 * "list" is not a property: test kafka_conf_is_list() first. */
int kafka_conf_add(struct kafka_conf *kc, const char *kv, char *err);
static inline bool kafka_conf_is_list(const char *arg) {
	return strcmp(arg, "list") == 0;
}
/* -X list: print every librdkafka property with its range and default. */
void kafka_conf_list(FILE *fp);
/* Check that every -X property exists and takes its value, with
 * librdkafka's message ("No such configuration property: \"x\"");
 * for the option checks (exit 2).  The *_new() calls check again. */
int kafka_conf_check(const struct kafka_conf *kc, char *err);

/* Parse Spark's JSON form of offsets, {"t":{"0":23,"1":-2}}, into a
 * list of (topic, partition, offset), in the order written; offsets are
 * >= -2 (-2 earliest, -1 latest).  Used for --starting-offsets and for
 * the offsets a checkpoint records.  The caller frees the list with
 * rd_kafka_topic_partition_list_destroy(). */
rd_kafka_topic_partition_list_t *kafka_offsets_parse(const char *spec,
    char *err);
/* Format a list as Spark's JSON ({"t":{"0":5,"1":7}}, topics and
 * partitions in list order); entries with offset RD_KAFKA_OFFSET_INVALID
 * (never read) are left out.  Returns a malloc'd string. */
char *kafka_offsets_format(const rd_kafka_topic_partition_list_t *list);

/*
 * The consumer.  Without a group it assigns every partition of the topics
 * itself (the checkpoint, not Kafka, keeps the offsets) and commits
 * nothing to the cluster.  With a group (--group) the copies of a
 * pipeline that share the group id share the partitions: Kafka assigns
 * them and moves them when a copy comes or goes; where a partition starts
 * is then the larger of this copy's own position (from the checkpoint,
 * resume, or read in this run) and the group's committed offset
 * (kafka_consumer_commit()), else "earliest"/"latest".  When partitions
 * are taken away, their positions are committed first (synchronously),
 * so the next owner goes on after what this copy read.  Messages come
 * back as librdkafka's, valid until rd_kafka_message_destroy().
 */
struct kafka_consumer_opts {
	const char *const *topics;	/* at least one */
	size_t ntopics;
	/* Where to start: "earliest", "latest" or JSON (see above); the
	 * JSON form must name every partition of every topic, as Spark
	 * requires, and is refused with a group.  NULL means "latest". */
	const char *starting_offsets;
	/* Absolute offsets from a checkpoint; they win over
	 * starting_offsets for the partitions they name (with a group: at
	 * the first assignment only).  May be NULL; not owned. */
	const rd_kafka_topic_partition_list_t *resume;
	/* Available-now: read only up to the end offsets seen by start();
	 * later records are not returned and kafka_consumer_done() says
	 * when every partition (with a group: every partition assigned to
	 * this copy, once it has an assignment) got there. */
	bool bounded;
	/* Replaying a batch exactly: absolute end offsets (exclusive) per
	 * partition, instead of the end offsets seen at start; a partition
	 * not named is not read.  Implies bounded; not with a group.  May be
	 * NULL; not owned. */
	const rd_kafka_topic_partition_list_t *until;
	const char *group;	/* consumer group id; NULL: no group */
	/* Do not show librdkafka's configuration warnings: the -X given
	 * were meant for another client (the sink's producer). */
	bool quiet_config;
};

struct kafka_consumer;

struct kafka_consumer *kafka_consumer_new(const struct kafka_conf *kc,
    const struct kafka_consumer_opts *opts, char *err);
/* Check that the cluster answers and every topic exists (within the
 * timeout), resolve the starting offsets, note the end offsets, assign
 * (or, with a group, subscribe: partitions come with later polls). */
int kafka_consumer_start(struct kafka_consumer *c, char *err);
/* Wait up to timeout_ms for the first message, then take whatever else is
 * already there, up to max in all.  Returns how many were stored in msgs
 * (0 on timeout or when done), or -1 on an error that stops the source
 * (names topic, partition and offset).  The caller destroys each message
 * with rd_kafka_message_destroy() (kafka_messages_destroy() does all). */
int kafka_consumer_poll(struct kafka_consumer *c, rd_kafka_message_t **msgs,
    int max, int timeout_ms, char *err);
void kafka_messages_destroy(rd_kafka_message_t **msgs, int n);
/* A descriptor that becomes readable when messages or events wait, for
 * poll() (librdkafka's queue IO event, written to a pipe).  Call
 * kafka_consumer_clear_fd() before each poll of the consumer, so that a
 * wake-up is never lost: librdkafka writes again for what comes after. */
int kafka_consumer_fd(const struct kafka_consumer *c);
void kafka_consumer_clear_fd(struct kafka_consumer *c);
/* Bounded mode: every partition read (see bounded above) reached the end
 * offset seen at start.  Always false unbounded; with a group, false
 * until the first assignment and while a rebalance is under way
 * (partitions taken away, the new ones not given yet). */
bool kafka_consumer_done(const struct kafka_consumer *c);
/* The next offset to read per partition: the start offsets after
 * start(), then one past each message returned; with a group, the
 * checkpoint's offset (resume) until the partition is assigned, then
 * where the assignment starts it, and RD_KAFKA_OFFSET_INVALID for one
 * neither known nor assigned yet.  Owned by the consumer, valid until
 * the next poll. */
const rd_kafka_topic_partition_list_t *kafka_consumer_positions(
    const struct kafka_consumer *c);
/* The start and end offsets that start() resolved (absolute). */
const rd_kafka_topic_partition_list_t *kafka_consumer_starts(
    const struct kafka_consumer *c);
const rd_kafka_topic_partition_list_t *kafka_consumer_ends(
    const struct kafka_consumer *c);
/* With a group: commit the positions of the partitions this copy holds
 * so that a copy that gets them next starts there.  Synchronous: returns
 * 0; 1 (err says why) when a rebalance is under way and nothing was
 * committed (the next owner then reads again from the previous commit);
 * -1 on an error.  async: returns 0 at once, a failure shows later as a
 * warning.  Without a group: nothing to do, 0.  A group must also be
 * polled at least every max.poll.interval.ms (300 s), even when idle, or
 * Kafka takes this copy's partitions away. */
int kafka_consumer_commit(struct kafka_consumer *c, bool async, char *err);
/* With a group: commit the offsets in offs (absolute, e.g. the end of
 * the last batch a checkpoint logged) for the partitions this copy
 * holds; the others are left to their owners.  Returns as
 * kafka_consumer_commit(). */
int kafka_consumer_commit_offsets(struct kafka_consumer *c,
    const rd_kafka_topic_partition_list_t *offs, bool async, char *err);
/* With a group: how many times partitions were assigned or revoked so
 * far; a change tells the source that the set it reads changed.  A poll
 * that sees one returns at once, with the messages taken before it. */
unsigned long kafka_consumer_rebalances(const struct kafka_consumer *c);
/*
 * With a group, where an assignment moved a partition's position: the
 * copy's position was `from` (-1: none yet) and reading goes on at `to`,
 * because another copy read [from, to) meanwhile (the group's committed
 * offset is ahead of ours).  Positions never go back: an assignment
 * starts at the larger of this copy's position (or the checkpoint's) and
 * the group's committed offset.  A checkpoint records these jumps with
 * the batch they fall in, so that the batch can be replayed exactly:
 * from its start to its end, less the jumps.  kafka_consumer_jumps()
 * gives those since the last kafka_consumer_clear_jumps().
 */
struct kafka_jump {
	const char *topic;	/* owned by the consumer */
	int32_t partition;
	int64_t from, to;
};
size_t kafka_consumer_jumps(const struct kafka_consumer *c,
    const struct kafka_jump **jumps);
void kafka_consumer_clear_jumps(struct kafka_consumer *c);
/* How many partitions this copy reads now (all of them without a
 * group). */
int kafka_consumer_assigned(const struct kafka_consumer *c);
/* A problem librdkafka reported since the last call that it retries by
 * itself (a broker down, a timeout): copied into buf (ERRBUF_SIZE) for
 * the source to show as a warning; false if none. */
bool kafka_consumer_warning(struct kafka_consumer *c, char *buf);
rd_kafka_t *kafka_consumer_handle(struct kafka_consumer *c);
void kafka_consumer_free(struct kafka_consumer *c);

/*
 * The producer.  With a transactional id, each batch is one transaction:
 * begin, send..., commit (which waits for every delivery); any failure
 * aborts the transaction, so none of the batch becomes visible to
 * read_committed readers.  Without one, it is idempotent (no duplicates
 * from retries, order kept per partition) and commit() waits for the
 * deliveries of the batch: at least once.  Either way a message that is
 * not delivered is an error, never silence.
 */
struct kafka_producer_opts {
	const char *topic;
	const char *transactional_id;	/* NULL: idempotent, no transactions */
	/* Bound for init_transactions and commit (the deliveries of one
	 * batch); 0: 60 s, librdkafka's transaction.timeout.ms default. */
	int commit_timeout_ms;
};

struct kafka_producer;

struct kafka_producer *kafka_producer_new(const struct kafka_conf *kc,
    const struct kafka_producer_opts *opts, char *err);
/* Check the cluster and topic, then (transactional) init_transactions,
 * which also fences an older instance with the same transactional id and
 * aborts what it left open, and read the last batch id recorded (see
 * kafka_producer_last_batch). */
int kafka_producer_start(struct kafka_producer *p, char *err);
/* Number of partitions of the topic (known after start). */
int kafka_producer_partitions(const struct kafka_producer *p);
int kafka_producer_begin(struct kafka_producer *p, char *err);
/* One message to send.  key NULL: no key; value NULL: a null value
 * (a tombstone); a header with value NULL has a null value. */
struct kafka_header {
	const char *name;
	const void *value;
	size_t len;
};
struct kafka_out {
	int32_t partition;	/* -1: by key (murmur2, as Java clients,
				 * unless -X partitioner says otherwise) */
	const void *key;
	size_t keylen;
	const void *value;
	size_t vallen;
	int64_t timestamp_ms;	/* 0: now */
	const struct kafka_header *headers;
	size_t nheaders;
};
/* Queue one message; everything is copied.  Blocks while librdkafka's
 * queue is full (bounded by message.timeout.ms). */
int kafka_producer_send(struct kafka_producer *p, const struct kafka_out *m,
    char *err);
/* End the batch: wait for every delivery and commit the transaction.
 * With batch >= 0 and a transaction, the batch id is committed in the
 * same transaction (as the offset of a consumer group named
 * "runnel-sink.<transactional.id>"), so after a crash
 * kafka_producer_last_batch() tells whether the batch made it.  On
 * failure the transaction is aborted and -1 returned. */
int kafka_producer_commit(struct kafka_producer *p, int64_t batch, char *err);
int kafka_producer_abort(struct kafka_producer *p, char *err);
/* The last batch id committed through kafka_producer_commit() by any
 * instance with the same transactional id, as read by start(); -1 if
 * none (or no transactions). */
int64_t kafka_producer_last_batch(const struct kafka_producer *p);
/* The end offset (high watermark) of each partition of the topic now,
 * and in *starts (when not NULL) the first offset still there.  The
 * caller destroys the lists. */
rd_kafka_topic_partition_list_t *kafka_producer_end_offsets(
    struct kafka_producer *p, rd_kafka_topic_partition_list_t **starts,
    char *err);
/*
 * Positions: per partition of the topic, an offset that every message
 * this producer sends from now on will be at or after: past its last
 * delivery there, or the floor set (an end offset read earlier), the
 * larger.  A sink records them with each commit, so that the run that
 * replays the next batch knows where in the topic that batch can have
 * begun.  Partitions with neither are left out.  The caller destroys the
 * list.
 */
void kafka_producer_set_floor(struct kafka_producer *p,
    const rd_kafka_topic_partition_list_t *floor);
rd_kafka_topic_partition_list_t *kafka_producer_positions(
    const struct kafka_producer *p);
/* Messages delivered so far. */
int64_t kafka_producer_delivered(const struct kafka_producer *p);
rd_kafka_t *kafka_producer_handle(struct kafka_producer *p);
/* Abort an open transaction, drop what was sent but not committed
 * (commit() is the only promise of delivery; waiting here could hang on a
 * dead cluster) and destroy the handle.  NULL is fine. */
void kafka_producer_free(struct kafka_producer *p);

#endif

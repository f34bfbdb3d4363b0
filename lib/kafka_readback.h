/*
 * kafka_readback.h: what of one batch a topic already holds, so that the
 * Kafka sink, replaying that batch after a crash, sends only the rest.
 *
 * The Kafka sink (lib/sink_kafka.c) marks every message it writes under a
 * checkpoint with the headers runnel.query (the query id) and
 * runnel.batch (the batch id).  A scan reads the topic with
 * isolation.level=read_committed from given offsets (where the batch can
 * have begun, per partition) up to the end offsets seen when it starts,
 * and keeps the key and value of every message of that query and batch:
 * a multiset, since a batch may hold the same message twice.  The replay
 * then takes each row it would send out of the multiset; a row found
 * there is in the topic already and is not sent again.
 *
 * On a cluster that hides aborted transactions the scan sees only what a
 * committed transaction wrote (the whole batch or nothing); on one that
 * does not (librdkafka's mock) it also sees what an attempt cut short by
 * a crash left, and the replay completes it instead of repeating it.
 * Either way a read_committed reader ends up with each row of the batch
 * once, as long as the replay produces the rows the attempt did (a
 * deterministic pipeline, as Spark requires for exactly-once output).
 */
#ifndef RUNNEL_KAFKA_READBACK_H
#define RUNNEL_KAFKA_READBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kafka.h"

struct kafka_readback;

/*
 * Scan topic from the offsets in from (a partition not named: from its
 * first offset) to the end offsets seen at start, keeping the messages
 * whose runnel.query header is query and runnel.batch header is batch.
 * kc gives the servers, the -X properties (configuration warnings are
 * not shown: they were given for a producer) and the bound for talking to
 * the cluster; the scan as a whole gives up after timeout_ms.  NULL with
 * err on failure.
 */
struct kafka_readback *kafka_readback_scan(const struct kafka_conf *kc,
    const char *topic, const rd_kafka_topic_partition_list_t *from,
    const char *query, int64_t batch, int timeout_ms, char *err);
/* Is a message with this key and value (NULL: null) among those found
 * and not taken yet?  If so, take it (one of them) and return true. */
bool kafka_readback_take(struct kafka_readback *rb, const void *key,
    size_t keylen, const void *value, size_t vallen);
/* Messages of the batch found, and messages read in all. */
size_t kafka_readback_found(const struct kafka_readback *rb);
size_t kafka_readback_read(const struct kafka_readback *rb);
void kafka_readback_free(struct kafka_readback *rb);

#endif

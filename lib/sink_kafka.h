/*
 * sink_kafka.h: the options of ssink's kafka:TOPIC sink.
 *
 * struct sink_options does not carry them (yet): ssink fills a
 * kafka_sink_settings from its command line and hands it over with
 * sink_kafka_settings() before opening the sink.  Without that call the
 * sink has no servers and says so ("give --bootstrap-servers").
 */
#ifndef RUNNEL_SINK_KAFKA_H
#define RUNNEL_SINK_KAFKA_H

#include "kafka.h"

struct kafka_sink_settings {
	struct kafka_conf conf;		/* --bootstrap-servers, -X, --timeout */
	const char *key_field;		/* --key FIELD; NULL: no key */
	const char *value_field;	/* --value FIELD; NULL: the record as
					 * one JSON object */
	/* With a checkpoint: one transaction per batch under this id (e.g.
	 * "runnel-QUERYID"), the batch id recorded in it; NULL: idempotent
	 * producer, at least once. */
	const char *transactional_id;
};

/* Not copied: ks must outlive the sink. */
void sink_kafka_settings(const struct kafka_sink_settings *ks);

#endif

/*
 * source_kafka.h: the options of ssrc's kafka:TOPIC[,TOPIC...] source.
 *
 * struct source_options does not carry them (yet): ssrc fills a
 * kafka_source_settings from its command line and hands it over with
 * source_kafka_settings() before source_init().  Without that call the
 * source has no servers and says so ("give --bootstrap-servers").
 */
#ifndef RUNNEL_SOURCE_KAFKA_H
#define RUNNEL_SOURCE_KAFKA_H

#include <stdbool.h>

#include "kafka.h"

struct kafka_source_settings {
	struct kafka_conf conf;		/* --bootstrap-servers, -X, --timeout */
	const char *starting_offsets;	/* --starting-offsets; NULL: latest */
	bool bounded;			/* --trigger once|available-now: end
					 * at the end offsets seen at start */
	bool include_headers;		/* --include-headers: a field headers */
	const char *group;		/* --group ID: share the partitions
					 * with the copies in group ID */
	long long max_offsets;		/* --max-offsets-per-trigger: a batch
					 * takes at most so many messages,
					 * over every partition; 0: no cap */
	bool checkpointed;		/* --checkpoint: with a group, commit
					 * to it only what offsets/N logged */
};

/* Not copied: ks must outlive the source. */
void source_kafka_settings(const struct kafka_source_settings *ks);

#endif

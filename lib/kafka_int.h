/*
 * kafka_int.h: what kafka.c, kafka_consumer.c and kafka_producer.c share
 * and no command should use: the capture of librdkafka's log and errors,
 * building an rd_kafka_conf_t, and the bounded metadata check.
 *
 * Invariant: the opaque of every handle we create points to a struct
 * kafka_log, the first member of the consumer and producer structs, so
 * the callbacks find it with rd_kafka_opaque() whatever the handle is.
 */
#ifndef RUNNEL_KAFKA_INT_H
#define RUNNEL_KAFKA_INT_H

#include <pthread.h>

#include "die.h"
#include "kafka.h"

/* librdkafka calls log_cb from its own threads: guard with mu. */
struct kafka_log {
	pthread_mutex_t mu;
	char last[ERRBUF_SIZE];	/* last error-level line or error_cb reason */
	unsigned long seq;	/* bumped at each new "last" */
	unsigned long seen;	/* seq when last taken by kafka_log_take() */
	bool print;		/* -X debug / log_level: echo every line */
	bool quiet;		/* do not show configuration warnings */
	bool fatal;		/* error_cb saw a fatal error */
};

void kafka_log_init(struct kafka_log *log, const struct kafka_conf *kc);
void kafka_log_free(struct kafka_log *log);
/* Copy the last captured error into buf (size ERRBUF_SIZE); returns
 * false (buf = "") if nothing was captured. */
bool kafka_log_last(struct kafka_log *log, char *buf);
/* As kafka_log_last, but only if new since the previous take. */
bool kafka_log_take(struct kafka_log *log, char *buf);
/* Record a reason as the last error (for errors seen as messages). */
void kafka_log_note(struct kafka_log *log, const char *reason);

/* Build a configuration: defaults (key, value pairs, NULL-terminated;
 * the user's -X may override them), then -X, then --bootstrap-servers,
 * then forced (pairs the user may not change).  The log and error
 * callbacks and opaque (log) are installed.  NULL + err if a property is
 * rejected or no bootstrap server is given. */
rd_kafka_conf_t *kafka_conf_make(const struct kafka_conf *kc,
    const char *const *defaults, const char *const *forced,
    struct kafka_log *log, char *err);

/* Fill err with "what: reason", the reason being librdkafka's last
 * captured error if any, else the error code's text. */
int kafka_seterr(char *err, struct kafka_log *log, rd_kafka_resp_err_t code,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Ask the cluster for a topic's metadata until deadline (monotonic
 * micros): its partition count in *partitions.  A missing topic, a
 * denied one or a cluster that does not answer is an error naming the
 * topic and the servers; timeout_ms is the limit the message quotes. */
int kafka_topic_check(rd_kafka_t *rk, struct kafka_log *log,
    const char *servers, const char *topic, int64_t deadline,
    int timeout_ms, int *partitions, char *err);

/* Milliseconds left until deadline (monotonic micros), at least 1. */
int kafka_ms_left(int64_t deadline);

#endif

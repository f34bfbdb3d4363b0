/*
 * kafka.c: Kafka options (-X, --bootstrap-servers, --timeout), the
 * capture of librdkafka's log and errors, the bounded metadata check and
 * Spark's offsets JSON.  The consumer and producer are in
 * kafka_consumer.c and kafka_producer.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "die.h"
#include "kafka.h"
#include "kafka_int.h"
#include "rtime.h"

void
kafka_conf_init(struct kafka_conf *kc)
{
	memset(kc, 0, sizeof *kc);
	kc->timeout_ms = KAFKA_TIMEOUT_MS;
}

void
kafka_conf_free(struct kafka_conf *kc)
{
	free(kc->props);
	kc->props = NULL;
	kc->nprops = 0;
}

int
kafka_conf_add(struct kafka_conf *kc, const char *kv, char *err)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv)
		return seterr(err, "-X '%s': expected key=value or list", kv);
	kc->props = xrealloc(kc->props, (kc->nprops + 1) * sizeof *kc->props);
	kc->props[kc->nprops++] = kv;
	return 0;
}

void
kafka_conf_list(FILE *fp)
{
	rd_kafka_conf_properties_show(fp);
}

/* The key of a "key=value" argument, in buf; kcat's "topic." prefix for
 * topic properties is dropped: librdkafka takes topic properties on the
 * global configuration and routes them itself. */
static const char *
prop_key(const char *kv, char *buf, size_t size)
{
	size_t n = (size_t)(strchr(kv, '=') - kv);

	if (n >= size)
		n = size - 1;
	memcpy(buf, kv, n);
	buf[n] = '\0';
	if (strncmp(buf, "topic.", 6) == 0)
		memmove(buf, buf + 6, n - 6 + 1);
	return buf;
}

static int
conf_set(rd_kafka_conf_t *conf, const char *key, const char *value,
    const char *shown, char *err)
{
	char rderr[ERRBUF_SIZE];

	if (rd_kafka_conf_set(conf, key, value, rderr, sizeof rderr) !=
	    RD_KAFKA_CONF_OK)
		return seterr(err, "-X '%s': %s", shown, rderr);
	return 0;
}

static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	struct kafka_log *log = rd_kafka_opaque(rk);

	if (log == NULL)
		return;
	if (log->print)
		fprintf(stderr, "%%%d|%s|%s| %s\n", level, fac,
		    rd_kafka_name(rk), buf);
	else if (strcmp(fac, "CONFWARN") == 0 && !log->quiet)
		fprintf(stderr, "%s: kafka: %s\n", prog_name(), buf);
	if (level <= 3)
		kafka_log_note(log, buf);
}

static void
error_cb(rd_kafka_t *rk, int code, const char *reason, void *opaque)
{
	struct kafka_log *log = opaque;
	char buf[ERRBUF_SIZE];

	if (log == NULL)
		return;
	if (code == RD_KAFKA_RESP_ERR__FATAL) {
		rd_kafka_fatal_error(rk, buf, sizeof buf);
		pthread_mutex_lock(&log->mu);
		log->fatal = true;
		pthread_mutex_unlock(&log->mu);
		kafka_log_note(log, buf);
	} else {
		kafka_log_note(log, reason);
	}
}

void
kafka_log_init(struct kafka_log *log, const struct kafka_conf *kc)
{
	char key[128];
	size_t i;

	memset(log, 0, sizeof *log);
	pthread_mutex_init(&log->mu, NULL);
	for (i = 0; kc != NULL && i < kc->nprops; i++) {
		prop_key(kc->props[i], key, sizeof key);
		if (strcmp(key, "debug") == 0 || strcmp(key, "log_level") == 0)
			log->print = true;
	}
}

void
kafka_log_free(struct kafka_log *log)
{
	pthread_mutex_destroy(&log->mu);
}

void
kafka_log_note(struct kafka_log *log, const char *reason)
{
	const char *end;

	/* Log lines start with the thread's name: "[thrd:main]: ". */
	if (strncmp(reason, "[thrd:", 6) == 0 &&
	    (end = strstr(reason, "]: ")) != NULL)
		reason = end + 3;
	pthread_mutex_lock(&log->mu);
	snprintf(log->last, sizeof log->last, "%s", reason);
	log->seq++;
	pthread_mutex_unlock(&log->mu);
}

bool
kafka_log_last(struct kafka_log *log, char *buf)
{
	bool any;

	pthread_mutex_lock(&log->mu);
	memcpy(buf, log->last, ERRBUF_SIZE);
	any = log->last[0] != '\0';
	pthread_mutex_unlock(&log->mu);
	return any;
}

bool
kafka_log_take(struct kafka_log *log, char *buf)
{
	bool fresh;

	pthread_mutex_lock(&log->mu);
	fresh = log->seq != log->seen && log->last[0] != '\0';
	memcpy(buf, fresh ? log->last : "", fresh ? ERRBUF_SIZE : 1);
	log->seen = log->seq;
	pthread_mutex_unlock(&log->mu);
	return fresh;
}

int
kafka_seterr(char *err, struct kafka_log *log, rd_kafka_resp_err_t code,
    const char *fmt, ...)
{
	char what[ERRBUF_SIZE], reason[ERRBUF_SIZE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	if (log == NULL || !kafka_log_last(log, reason))
		snprintf(reason, sizeof reason, "%s", rd_kafka_err2str(code));
	return seterr(err, "%s: %s", what, reason);
}

rd_kafka_conf_t *
kafka_conf_make(const struct kafka_conf *kc, const char *const *defaults,
    const char *const *forced, struct kafka_log *log, char *err)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	char key[256], servers[1024];
	size_t i, n = sizeof servers;

	for (i = 0; defaults != NULL && defaults[i] != NULL; i += 2)
		if (conf_set(conf, defaults[i], defaults[i + 1], defaults[i],
		    err) < 0)
			goto fail;
	for (i = 0; i < kc->nprops; i++) {
		const char *kv = kc->props[i];

		prop_key(kv, key, sizeof key);
		if (conf_set(conf, key, strchr(kv, '=') + 1, kv, err) < 0)
			goto fail;
	}
	if (kc->bootstrap != NULL && conf_set(conf, "bootstrap.servers",
	    kc->bootstrap, kc->bootstrap, err) < 0)
		goto fail;
	for (i = 0; forced != NULL && forced[i] != NULL; i += 2)
		if (conf_set(conf, forced[i], forced[i + 1], forced[i],
		    err) < 0)
			goto fail;
	if (rd_kafka_conf_get(conf, "bootstrap.servers", servers, &n) !=
	    RD_KAFKA_CONF_OK || servers[0] == '\0') {
		seterr(err, "no Kafka servers: give --bootstrap-servers "
		    "HOST:PORT");
		goto fail;
	}
	if (log != NULL) {
		rd_kafka_conf_set_opaque(conf, log);
		rd_kafka_conf_set_log_cb(conf, log_cb);
		rd_kafka_conf_set_error_cb(conf, error_cb);
	}
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	return NULL;
}

int
kafka_conf_check(const struct kafka_conf *kc, char *err)
{
	rd_kafka_conf_t *conf = kafka_conf_make(kc, NULL, NULL, NULL, err);

	if (conf == NULL)
		return -1;
	rd_kafka_conf_destroy(conf);
	return 0;
}

int
kafka_ms_left(int64_t deadline)
{
	int64_t left = (deadline - monotonic_micros()) / 1000;

	return left < 1 ? 1 : left > INT32_MAX ? INT32_MAX : (int)left;
}

/* A short pause between metadata attempts (a topic being created). */
static void
nap_ms(int ms)
{
	struct timespec ts = { 0, (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

int
kafka_topic_check(rd_kafka_t *rk, struct kafka_log *log, const char *servers,
    const char *topic, int64_t deadline, int timeout_ms, int *partitions,
    char *err)
{
	const struct rd_kafka_metadata *md;
	rd_kafka_topic_t *rkt;
	rd_kafka_resp_err_t e;
	char limit[64];

	rkt = rd_kafka_topic_new(rk, topic, NULL);
	if (rkt == NULL)
		return seterr(err, "topic '%s': %s", topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
	for (;;) {
		e = rd_kafka_metadata(rk, 0, rkt, &md, kafka_ms_left(deadline));
		if (e == RD_KAFKA_RESP_ERR_NO_ERROR) {
			const rd_kafka_metadata_topic_t *t = &md->topics[0];

			e = md->topic_cnt == 1 ? t->err :
			    RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
			*partitions = md->topic_cnt == 1 ? t->partition_cnt : 0;
			rd_kafka_metadata_destroy(md);
			if (e == RD_KAFKA_RESP_ERR_NO_ERROR && *partitions > 0)
				break;
			/* Being created, or leaders being elected: wait. */
			if ((e == RD_KAFKA_RESP_ERR_NO_ERROR ||
			    e == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) &&
			    monotonic_micros() < deadline) {
				nap_ms(50);
				continue;
			}
			rd_kafka_topic_destroy(rkt);
			if (e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
				return seterr(err, "topic '%s' does not exist "
				    "on '%s'", topic, servers);
			return seterr(err, "topic '%s' on '%s': %s", topic,
			    servers, e ? rd_kafka_err2str(e) :
			    "no partitions");
		}
		if (monotonic_micros() >= deadline ||
		    e == RD_KAFKA_RESP_ERR__FATAL)
			break;
		nap_ms(50);
	}
	rd_kafka_topic_destroy(rkt);
	if (e == RD_KAFKA_RESP_ERR_NO_ERROR)
		return 0;
	duration_format((int64_t)timeout_ms * 1000, limit);
	return kafka_seterr(err, log, e, "no answer from '%s' within %s",
	    servers, limit);
}

/* Parse a partition key: a decimal 0..INT32_MAX. */
static int
parse_partition(const char *s, int32_t *p)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end != '\0' || errno != 0 || v > INT32_MAX)
		return -1;
	*p = (int32_t)v;
	return 0;
}

rd_kafka_topic_partition_list_t *
kafka_offsets_parse(const char *spec, char *err)
{
	rd_kafka_topic_partition_list_t *list = NULL;
	json_error_t jerr;
	json_t *root, *parts, *off;
	const char *topic, *pkey;

	root = json_loads(spec, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		seterr(err, "'%s': not valid JSON: %s (column %d)", spec,
		    jerr.text, jerr.column);
		return NULL;
	}
	if (!json_is_object(root) || json_object_size(root) == 0) {
		seterr(err, "'%s': expected {\"TOPIC\":{\"PARTITION\":OFFSET,"
		    "...},...}", spec);
		goto fail;
	}
	list = rd_kafka_topic_partition_list_new((int)json_object_size(root));
	json_object_foreach(root, topic, parts) {
		if (topic[0] == '\0') {
			seterr(err, "'%s': empty topic name", spec);
			goto fail;
		}
		if (!json_is_object(parts) || json_object_size(parts) == 0) {
			seterr(err, "topic '%s': expected {\"PARTITION\":OFFSET,"
			    "...}", topic);
			goto fail;
		}
		json_object_foreach(parts, pkey, off) {
			int32_t p;
			json_int_t o;

			if (parse_partition(pkey, &p) < 0) {
				seterr(err, "topic '%s': '%s' is not a "
				    "partition number", topic, pkey);
				goto fail;
			}
			if (!json_is_integer(off) ||
			    (o = json_integer_value(off)) < -2) {
				seterr(err, "topic '%s' partition %d: not an "
				    "offset (-2 earliest, -1 latest, or >= 0)",
				    topic, (int)p);
				goto fail;
			}
			/* "1" and "01" name one partition: refuse it twice
			 * rather than keep whichever librdkafka meets last
			 * (found by fuzz_parse). */
			if (rd_kafka_topic_partition_list_find(list, topic, p)) {
				seterr(err, "topic '%s': partition %d is given "
				    "twice", topic, (int)p);
				goto fail;
			}
			rd_kafka_topic_partition_list_add(list, topic, p)
			    ->offset = (int64_t)o;
		}
	}
	json_decref(root);
	return list;
fail:
	if (list != NULL)
		rd_kafka_topic_partition_list_destroy(list);
	json_decref(root);
	return NULL;
}

char *
kafka_offsets_format(const rd_kafka_topic_partition_list_t *list)
{
	json_t *root = json_object(), *parts;
	char key[16], *s;
	int i;

	for (i = 0; i < list->cnt; i++) {
		const rd_kafka_topic_partition_t *tp = &list->elems[i];

		if (tp->offset == RD_KAFKA_OFFSET_INVALID)
			continue;
		parts = json_object_get(root, tp->topic);
		if (parts == NULL) {
			parts = json_object();
			json_object_set_new(root, tp->topic, parts);
		}
		snprintf(key, sizeof key, "%d", (int)tp->partition);
		json_object_set_new(parts, key, json_integer(tp->offset));
	}
	s = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (s == NULL)
		die(EXIT_RUNTIME, "out of memory formatting offsets");
	return s;	/* jansson's default allocator is malloc */
}

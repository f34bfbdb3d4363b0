/*
 * kafka_readback.c: what of one batch a topic already holds (see the
 * header).
 *
 * A message is kept as one byte string, "key flag, key length, key,
 * value flag, value length, value", in one arena; once the scan is over
 * the strings are sorted and equal ones counted, and a take is a binary
 * search.  The memory is that of the batch's messages found, once.
 */
#include <stdlib.h>
#include <string.h>

#include "die.h"
#include "kafka_readback.h"
#include "rtime.h"
#include "strbuf.h"

#define SCAN_POLL_MAX 1000

struct entry {
	const char *bytes;
	size_t len;
	size_t left;		/* copies not taken yet */
};

struct kafka_readback {
	struct strbuf arena;	/* the messages' byte strings, back to back */
	size_t *ends;		/* where each one ends in the arena */
	size_t nfound, cap;
	size_t nread;
	struct entry *entries;	/* sorted, distinct */
	size_t nentries;
	struct strbuf probe;
};

static void
encode_part(struct strbuf *sb, const void *p, size_t len)
{
	uint64_t n = len;

	sb_addc(sb, p != NULL ? 1 : 0);
	sb_add(sb, (const char *)&n, sizeof n);
	if (p != NULL)
		sb_add(sb, p, len);
}

static void
encode(struct strbuf *sb, const void *key, size_t keylen, const void *value,
    size_t vallen)
{
	encode_part(sb, key, keylen);
	encode_part(sb, value, vallen);
}

/* Does header name of m hold exactly text? */
static bool
header_is(rd_kafka_message_t *m, const char *name, const char *text)
{
	rd_kafka_headers_t *h = NULL;
	const void *v;
	size_t len;

	if (rd_kafka_message_headers(m, &h) != RD_KAFKA_RESP_ERR_NO_ERROR ||
	    rd_kafka_header_get_last(h, name, &v, &len) !=
	    RD_KAFKA_RESP_ERR_NO_ERROR || v == NULL)
		return false;
	return len == strlen(text) && memcmp(v, text, len) == 0;
}

static void
keep(struct kafka_readback *rb, rd_kafka_message_t *m)
{
	if (rb->nfound == rb->cap) {
		rb->cap = rb->cap ? rb->cap * 2 : 64;
		rb->ends = xrealloc(rb->ends, rb->cap * sizeof *rb->ends);
	}
	encode(&rb->arena, m->key, m->key_len, m->payload, m->len);
	rb->ends[rb->nfound++] = rb->arena.len;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	return memcmp(x->bytes, y->bytes, x->len);
}

/* The arena is final: index it. */
static void
index_found(struct kafka_readback *rb)
{
	size_t i, n = 0, start = 0;

	if (rb->nfound == 0)
		return;
	rb->entries = xcalloc(rb->nfound, sizeof *rb->entries);
	for (i = 0; i < rb->nfound; i++) {
		rb->entries[i].bytes = rb->arena.buf + start;
		rb->entries[i].len = rb->ends[i] - start;
		rb->entries[i].left = 1;
		start = rb->ends[i];
	}
	qsort(rb->entries, rb->nfound, sizeof *rb->entries, cmp_entry);
	for (i = 0; i < rb->nfound; i++) {
		if (n > 0 && cmp_entry(&rb->entries[n - 1],
		    &rb->entries[i]) == 0)
			rb->entries[n - 1].left++;
		else
			rb->entries[n++] = rb->entries[i];
	}
	rb->nentries = n;
}

struct kafka_readback *
kafka_readback_scan(const struct kafka_conf *kc, const char *topic,
    const rd_kafka_topic_partition_list_t *from, const char *query,
    int64_t batch, int timeout_ms, char *err)
{
	const char *topics[1] = { topic };
	struct kafka_consumer_opts co = {
		.topics = topics, .ntopics = 1,
		.starting_offsets = "earliest", .resume = from,
		.bounded = true, .quiet_config = true,
	};
	int64_t deadline = monotonic_micros() + (int64_t)timeout_ms * 1000;
	struct kafka_readback *rb = xcalloc(1, sizeof *rb);
	struct kafka_consumer *c;
	rd_kafka_message_t *msgs[SCAN_POLL_MAX];
	char batch_text[24];
	int n, i;

	sb_init(&rb->arena);
	sb_init(&rb->probe);
	snprintf(batch_text, sizeof batch_text, "%lld", (long long)batch);
	if ((c = kafka_consumer_new(kc, &co, err)) == NULL)
		goto fail;
	if (kafka_consumer_start(c, err) < 0)
		goto fail;
	while (!kafka_consumer_done(c)) {
		if (monotonic_micros() >= deadline) {
			seterr(err, "topic '%s': could not read what batch %lld "
			    "wrote before within %d s", topic, (long long)batch,
			    timeout_ms / 1000);
			goto fail;
		}
		n = kafka_consumer_poll(c, msgs, SCAN_POLL_MAX, 100, err);
		if (n < 0)
			goto fail;
		for (i = 0; i < n; i++) {
			rb->nread++;
			if (header_is(msgs[i], "runnel.query", query) &&
			    header_is(msgs[i], "runnel.batch", batch_text))
				keep(rb, msgs[i]);
		}
		kafka_messages_destroy(msgs, n);
	}
	kafka_consumer_free(c);
	index_found(rb);
	return rb;
fail:
	kafka_consumer_free(c);
	kafka_readback_free(rb);
	return NULL;
}

bool
kafka_readback_take(struct kafka_readback *rb, const void *key,
    size_t keylen, const void *value, size_t vallen)
{
	struct entry want, *e;

	if (rb->nentries == 0)
		return false;
	sb_reset(&rb->probe);
	encode(&rb->probe, key, keylen, value, vallen);
	want.bytes = rb->probe.buf;
	want.len = rb->probe.len;
	e = bsearch(&want, rb->entries, rb->nentries, sizeof *rb->entries,
	    cmp_entry);
	if (e == NULL || e->left == 0)
		return false;
	e->left--;
	return true;
}

size_t
kafka_readback_found(const struct kafka_readback *rb)
{
	return rb->nfound;
}

size_t
kafka_readback_read(const struct kafka_readback *rb)
{
	return rb->nread;
}

void
kafka_readback_free(struct kafka_readback *rb)
{
	if (rb == NULL)
		return;
	sb_free(&rb->arena);
	sb_free(&rb->probe);
	free(rb->ends);
	free(rb->entries);
	free(rb);
}

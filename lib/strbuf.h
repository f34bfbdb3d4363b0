/*
 * strbuf.h: a growable byte buffer, always NUL-terminated.
 *
 * Used to build values and lines without fixed-size limits.  The buffer is
 * reused: sb_reset() keeps the allocation, so a loop that resets and refills
 * one strbuf does not allocate once it has grown.  buf is valid until the
 * next call that appends.
 */
#ifndef RUNNEL_STRBUF_H
#define RUNNEL_STRBUF_H

#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *buf;
	size_t len, cap;
};

void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
static inline void sb_reset(struct strbuf *sb) { sb->len = 0; if (sb->buf) sb->buf[0] = '\0'; }
void sb_grow(struct strbuf *sb, size_t extra);
void sb_add(struct strbuf *sb, const char *s, size_t n);
void sb_adds(struct strbuf *sb, const char *s);
void sb_addc(struct strbuf *sb, char c);
__attribute__((format(printf, 2, 3)))
void sb_addf(struct strbuf *sb, const char *fmt, ...);

#endif

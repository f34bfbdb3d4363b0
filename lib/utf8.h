/*
 * utf8.h: decoding UTF-8 the way output must see it, invalid bytes included.
 *
 * Values are bytes (a Kafka payload may be anything), but the console table
 * measures characters and JSON must be valid UTF-8.  utf8_decode() never
 * fails: an invalid sequence comes back as one "maximal subpart" (Unicode
 * chapter 3, "U+FFFD substitution of maximal subparts", which is also what
 * Java's decoder does), for the caller to show as U+FFFD.  Overlong forms,
 * surrogates (ED A0..ED BF) and code points above U+10FFFF are invalid.
 */
#ifndef RUNNEL_UTF8_H
#define RUNNEL_UTF8_H

#include <stddef.h>
#include <stdint.h>

#define UTF8_REPLACEMENT	0xFFFD

/*
 * Decode the sequence at s (n > 0 bytes available).  Returns the number of
 * bytes it takes (1 to 4) and sets *cp to the code point, or to -1 when
 * those bytes are an invalid sequence.
 */
size_t utf8_decode(const char *s, size_t n, int32_t *cp);
/* Encode cp (<= 0x10FFFF) into out (4 bytes); returns the length. */
size_t utf8_encode(uint32_t cp, char *out);

#endif

/*
 * unit.h: a minimal TAP producer for the C unit tests of lib/.
 *
 * Each CHECK prints "ok N - what" or "not ok N - what (file:line)"; main
 * returns unit_done(), non-zero when any check failed.  tests/run-all.sh
 * counts the lines.
 */
#ifndef RUNNEL_UNIT_H
#define RUNNEL_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_count, unit_failed;

#define CHECK(cond, what) do { \
	unit_count++; \
	if (cond) { \
		printf("ok %d - %s\n", unit_count, what); \
	} else { \
		unit_failed++; \
		printf("not ok %d - %s (%s:%d: %s)\n", unit_count, what, \
		    __FILE__, __LINE__, #cond); \
	} \
} while (0)

#define CHECK_STR(got, want, what) do { \
	const char *g_ = (got), *w_ = (want); \
	int same_ = g_ && strcmp(g_, w_) == 0; \
	CHECK(same_, what); \
	if (!same_) \
		printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_); \
} while (0)

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_count);
	return unit_failed != 0;
}

#endif

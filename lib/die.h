/*
 * die.h: exit statuses and the one way a command reports an error.
 *
 * The library never prints: its calls return -1 or NULL and fill an error
 * buffer of ERRBUF_SIZE bytes.  Only cmd/ prints, through these helpers,
 * which prefix the command's name as set by prog_init().  Messages are
 * lowercase, without a trailing period, and quote their subject.
 */
#ifndef RUNNEL_DIE_H
#define RUNNEL_DIE_H

#include <stdarg.h>
#include <stddef.h>

enum exit_status {
	EXIT_OK = 0,		/* success */
	EXIT_RUNTIME = 1,	/* runtime or data error */
	EXIT_USAGE = 2,		/* bad option, value or combination */
};

#define ERRBUF_SIZE 512

/* Remember the command's name (basename of argv0) for every message. */
void prog_init(const char *argv0);
const char *prog_name(void);

/* Print "NAME: message" to stderr and exit with status. */
__attribute__((noreturn, format(printf, 2, 3)))
void die(int status, const char *fmt, ...);

/* Print "NAME: message" to stderr and go on. */
__attribute__((format(printf, 1, 2)))
void warnx_(const char *fmt, ...);

/* Fill an error buffer (size ERRBUF_SIZE); returns -1 for "return seterr(...)". */
__attribute__((format(printf, 2, 3)))
int seterr(char *err, const char *fmt, ...);

/* Allocation that cannot fail: on exhaustion the command dies (exit 1). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif

/*
 * socket.h: TCP client connections, named as users write them.
 *
 * An address is "[HOST:]PORT": HOST a name, an IPv4 address or an IPv6
 * address in brackets ("[::1]:9999"), PORT a number from 1 to 65535.
 * Every address getaddrinfo() gives for HOST is tried in turn; the error
 * reported is that of the last attempt, e.g.
 * "cannot connect to 'localhost:9999': Connection refused".
 */
#ifndef RUNNEL_SOCKET_H
#define RUNNEL_SOCKET_H

#include <stddef.h>

#define SOCKET_HOST_MAX 256

struct hostport {
	char host[SOCKET_HOST_MAX];	/* without brackets */
	char port[8];
};

/* Split "[HOST:]PORT" into hp, HOST defaulting to default_host.  Returns 0,
 * or -1 with err on an empty or bad port or host.  No I/O. */
int hostport_parse(const char *s, const char *default_host,
    struct hostport *hp, char *err);
/* "host:port", with brackets around an IPv6 host; buf >= HOSTPORT_BUFSIZE. */
#define HOSTPORT_BUFSIZE (SOCKET_HOST_MAX + 16)
void hostport_format(const struct hostport *hp, char *buf);

/* Connect to hp.  Returns a blocking, close-on-exec socket, or -1 with
 * err.  Blocks until connected or refused (the system's TCP timeout). */
int tcp_connect(const struct hostport *hp, char *err);

#endif

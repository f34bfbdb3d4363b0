/* socket.c: resolving and connecting TCP clients. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "die.h"
#include "socket.h"

int
hostport_parse(const char *s, const char *default_host, struct hostport *hp,
    char *err)
{
	const char *colon, *port;
	size_t hlen;
	char *end;
	long n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (close == NULL || close[1] != ':')
			return seterr(err, "'%s': expected [IPV6]:PORT", s);
		hlen = (size_t)(close - s - 1);
		if (hlen == 0 || hlen >= sizeof hp->host)
			return seterr(err, "'%s': bad host", s);
		memcpy(hp->host, s + 1, hlen);
		hp->host[hlen] = '\0';
		port = close + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		hlen = (size_t)(colon - s);
		if (hlen == 0 || hlen >= sizeof hp->host ||
		    memchr(s, ':', hlen) != NULL)
			return seterr(err, "'%s': bad host (write an IPv6 "
			    "address as [ADDR]:PORT)", s);
		memcpy(hp->host, s, hlen);
		hp->host[hlen] = '\0';
		port = colon + 1;
	} else {
		snprintf(hp->host, sizeof hp->host, "%s", default_host);
		port = s;
	}
	errno = 0;
	n = strtol(port, &end, 10);
	if (*port == '\0' || *end != '\0' || errno || n < 1 || n > 65535 ||
	    port[0] == '+' || port[0] == '-')
		return seterr(err, "'%s' is not a port number (1-65535)",
		    port);
	snprintf(hp->port, sizeof hp->port, "%ld", n);
	return 0;
}

void
hostport_format(const struct hostport *hp, char *buf)
{
	if (strchr(hp->host, ':') != NULL)
		snprintf(buf, HOSTPORT_BUFSIZE, "[%s]:%s", hp->host, hp->port);
	else
		snprintf(buf, HOSTPORT_BUFSIZE, "%s:%s", hp->host, hp->port);
}

int
tcp_connect(const struct hostport *hp, char *err)
{
	struct addrinfo hints, *res, *ai;
	char name[HOSTPORT_BUFSIZE];
	int rc, fd = -1, saved = 0;

	hostport_format(hp, name);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
	rc = getaddrinfo(hp->host, hp->port, &hints, &res);
	if (rc == EAI_NONAME || rc == EAI_ADDRFAMILY || rc == EAI_NODATA ||
	    rc == EAI_FAMILY) {
		/* AI_ADDRCONFIG hides loopback-only hosts: try without. */
		hints.ai_flags = AI_NUMERICSERV;
		rc = getaddrinfo(hp->host, hp->port, &hints, &res);
	}
	if (rc != 0)
		return seterr(err, "cannot resolve '%s': %s", hp->host,
		    rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		/* No retry on EINTR: the connection goes on in the
		 * background then, and ssrc installs its handlers after. */
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return seterr(err, "cannot connect to '%s': %s", name,
		    strerror(saved ? saved : ECONNREFUSED));
	return fd;
}

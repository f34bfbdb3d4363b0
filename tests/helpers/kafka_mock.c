/*
 * kafka_mock: a Kafka cluster for tests and the demo, on 127.0.0.1 only.
 *
 * Starts librdkafka's mock cluster (rdkafka_mock.h), creates the topics
 * named on the command line, prints the bootstrap address
 * ("127.0.0.1:PORT[,...]") as the first line of stdout, flushes, and runs
 * until SIGTERM or SIGINT (or, with --stdin, until stdin reaches end of
 * file, so a test that dies cannot leave the cluster behind).  It speaks
 * the real protocol, so kcat and the runnel commands work against it.
 *
 * --topic-error TOPIC=ERROR makes the cluster answer every request about
 * TOPIC with a Kafka error, by name (UNKNOWN_TOPIC_OR_PART,
 * TOPIC_AUTHORIZATION_FAILED, as rd_kafka_err2name() spells them) or
 * number: how tests show a missing or forbidden topic, since the mock
 * otherwise creates any topic it is asked about (4 partitions).
 *
 * The mock cluster binds its listeners to the loopback address itself;
 * there is no option to bind elsewhere, which is what we want.  Its data
 * live in memory and vanish when it exits.
 *
 * Signals are blocked from the start (the librdkafka threads inherit the
 * mask) and only let through inside ppoll(), so a signal can neither be
 * lost between the flag test and the wait nor land in a library thread.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "die.h"
#include "stage.h"

#define SYNOPSIS "kafka_mock [--brokers N] [--stdin] " \
	"[--topic-error TOPIC=ERROR] [TOPIC[:PARTITIONS] ...]"

#define MAX_TOPIC_ERRORS 32

static volatile sig_atomic_t stop_signal;

static void
on_signal(int sig)
{
	stop_signal = sig;
}

/* librdkafka's own log lines: only problems, prefixed like ours. */
static void
log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	if (level <= 3)
		fprintf(stderr, "%s: %s: %s\n", prog_name(), fac, buf);
}

/* Parse "NAME[:PARTITIONS]" into name (malloc'd) and count; exit 2 if bad. */
static char *
parse_topic(const char *arg, int *partitions)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	long n = 1;

	if (colon != NULL) {
		errno = 0;
		n = strtol(colon + 1, &end, 10);
		if (colon[1] == '\0' || *end != '\0' || errno != 0 || n < 1 ||
		    n > 10000)
			die(EXIT_USAGE, "'%s': partition count must be 1 to 10000",
			    arg);
	}
	if (colon == arg || arg[0] == '\0')
		die(EXIT_USAGE, "'%s': empty topic name", arg);
	*partitions = (int)n;
	return colon ? xstrndup(arg, (size_t)(colon - arg)) : xstrdup(arg);
}

/* A Kafka error by name or number; exit 2 if unknown. */
static rd_kafka_resp_err_t
parse_error(const char *arg, const char *name)
{
	const struct rd_kafka_err_desc *descs;
	size_t n, i;
	char *end;
	long v;

	if (strncmp(name, "RD_KAFKA_RESP_ERR_", 18) == 0)
		name += 18;
	rd_kafka_get_err_descs(&descs, &n);
	for (i = 0; i < n; i++)
		if (descs[i].name != NULL && strcmp(descs[i].name, name) == 0)
			return descs[i].code;
	v = strtol(name, &end, 10);
	if (*name != '\0' && *end == '\0' && v > 0 && v < 1000)
		return (rd_kafka_resp_err_t)v;
	die(EXIT_USAGE, "--topic-error: '%s': unknown error (try "
	    "UNKNOWN_TOPIC_OR_PART or TOPIC_AUTHORIZATION_FAILED)", arg);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "brokers", required_argument, NULL, 'b' },
		{ "stdin", no_argument, NULL, 's' },
		{ "topic-error", required_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa;
	sigset_t block, waitmask;
	rd_kafka_conf_t *conf;
	rd_kafka_t *rk;
	rd_kafka_mock_cluster_t *mc;
	char err[ERRBUF_SIZE];
	struct {
		char *topic;
		rd_kafka_resp_err_t err;
	} terr[MAX_TOPIC_ERRORS];
	bool watch_stdin = false;
	int brokers = 1, c, i, nterr = 0, status = EXIT_OK;

	prog_init(argv[0]);
	while ((c = getopt_long(argc, argv, "b:se:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			brokers = (int)option_count("--brokers", optarg);
			if (brokers < 1 || brokers > 16)
				die(EXIT_USAGE, "--brokers: '%s': must be 1 to 16",
				    optarg);
			break;
		case 's':
			watch_stdin = true;
			break;
		case 'e': {
			const char *eq = strchr(optarg, '=');

			if (eq == NULL || eq == optarg)
				die(EXIT_USAGE, "--topic-error: '%s': expected "
				    "TOPIC=ERROR", optarg);
			if (nterr == MAX_TOPIC_ERRORS)
				die(EXIT_USAGE, "--topic-error: at most %d",
				    MAX_TOPIC_ERRORS);
			terr[nterr].err = parse_error(optarg, eq + 1);
			terr[nterr++].topic = xstrndup(optarg,
			    (size_t)(eq - optarg));
			break;
		}
		case 'h':
			usage_exit(SYNOPSIS, EXIT_OK);
		case 'V':
			version_exit();
		default:
			usage_exit(SYNOPSIS, EXIT_USAGE);
		}
	}
	/* Check every topic argument before starting anything. */
	for (i = optind; i < argc; i++) {
		int n;

		free(parse_topic(argv[i], &n));
	}

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGTERM);
	sigdelset(&waitmask, SIGINT);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	conf = rd_kafka_conf_new();
	rd_kafka_conf_set_log_cb(conf, log_cb);
	/* The handle only hosts the cluster: it never connects anywhere. */
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
	if (rk == NULL)
		die(EXIT_RUNTIME, "cannot create a kafka handle: %s", err);
	mc = rd_kafka_mock_cluster_new(rk, brokers);
	if (mc == NULL) {
		rd_kafka_destroy(rk);
		die(EXIT_RUNTIME, "cannot start the mock cluster");
	}
	for (i = optind; i < argc; i++) {
		rd_kafka_resp_err_t e;
		char *name;
		int n;

		name = parse_topic(argv[i], &n);
		e = rd_kafka_mock_topic_create(mc, name, n,
		    brokers < 3 ? brokers : 3);
		if (e) {
			warnx_("cannot create topic '%s': %s", name,
			    rd_kafka_err2str(e));
			status = EXIT_RUNTIME;
		}
		free(name);
		if (status != EXIT_OK)
			goto out;
	}

	for (i = 0; i < nterr; i++)
		rd_kafka_mock_topic_set_error(mc, terr[i].topic, terr[i].err);

	if (printf("%s\n", rd_kafka_mock_cluster_bootstraps(mc)) < 0 ||
	    fflush(stdout) == EOF) {
		warnx_("cannot write the bootstrap address: %s",
		    strerror(errno));
		status = EXIT_RUNTIME;
		goto out;
	}

	while (!stop_signal) {
		struct pollfd pfd = { .fd = 0, .events = POLLIN };
		char buf[512];
		int n = ppoll(&pfd, watch_stdin ? 1 : 0, NULL, &waitmask);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			warnx_("poll: %s", strerror(errno));
			status = EXIT_RUNTIME;
			break;
		}
		if (n > 0) {
			ssize_t r = read(0, buf, sizeof buf);

			if (r == 0 || (r < 0 && errno != EINTR &&
			    errno != EAGAIN))
				break;
		}
	}
out:
	for (i = 0; i < nterr; i++)
		free(terr[i].topic);
	rd_kafka_mock_cluster_destroy(mc);
	rd_kafka_destroy(rk);
	rd_kafka_wait_destroyed(5000);
	return status;
}

/*
 * ckpt_make DIR: create checkpoint DIR as ssrc would (ckpt_create()) and
 * print "QUERY_ID RUN_ID", then exit, releasing the run lock.  The lock
 * file keeps the run id, so a stage started afterwards with that run id
 * can join (ckpt_join()): the tests of ssink's commits use it to stand in
 * for a checkpointed ssrc, writing the header by hand.
 */
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "die.h"

int
main(int argc, char **argv)
{
	char err[ERRBUF_SIZE];
	struct checkpoint *ck;

	prog_init(argv[0]);
	if (argc != 2)
		die(EXIT_USAGE, "usage: ckpt_make DIR");
	if ((ck = ckpt_create(argv[1], "test", 0, err)) == NULL)
		die(EXIT_RUNTIME, "%s", err);
	printf("%s %s\n", ckpt_query_id(ck), ckpt_run_id(ck));
	ckpt_close(ck);
	return 0;
}

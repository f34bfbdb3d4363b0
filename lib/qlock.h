/*
 * qlock.h: one run of a query per checkpoint directory at a time.
 *
 * A "run" is one pipeline (ssrc | ... | ssink) using checkpoint DIR.  Its
 * ssrc takes the run lock; every other stage that touches DIR joins the
 * run.  Two lock files, both flock(2)ed, never removed (removing a lock
 * file lets two processes lock two different inodes):
 *
 *   DIR/.lock         ssrc's exclusive lock.  Holds one line
 *                     "pid=PID run=RUN_ID" naming the holder, for the
 *                     message a second run prints and for joining stages.
 *   DIR/.lock-stages  shared lock of each joined downstream stage.
 *
 * Why two: ssrc is the first process of a run to exit, and the stages
 * after it may still be writing state and commits.  A new run must wait
 * for them too, but it cannot see them through DIR/.lock alone.  So:
 *
 *   qlock_run (ssrc)                    qlock_join (a downstream stage)
 *   1. flock(.lock, EX)                 a. flock(.lock-stages, SH)
 *   2. write "pid=.. run=NEW" in .lock  b. read run= from .lock; it must
 *   3. flock(.lock-stages, EX): the        be the run id of our header,
 *      previous run's stages are gone      else another run has started:
 *   4. unlock .lock-stages                 fail
 *
 * Any interleaving is safe: a stage of the previous run whose (a) comes
 * before the new ssrc's (3) holds up (3) until it exits; one whose (a)
 * comes after (3) reads the new run id at (b) and gives up before
 * touching anything.  Step 2 before step 3 is what makes this hold.
 *
 * The locks are released by qlock_release() or when the process dies in
 * any way (the kernel drops flocks with the last descriptor), so a kill -9
 * never leaves a stale lock.  Descriptors are close-on-exec: a child the
 * stage execs does not inherit them (a forked child that does not exec
 * shares the lock: call qlock_release() in it if it must not).
 *
 * Messages (no command prefix; the command adds it):
 *   checkpoint 'DIR' is in use by pid 1234 (use --wait to queue)
 */
#ifndef RUNNEL_QLOCK_H
#define RUNNEL_QLOCK_H

#include <sys/types.h>

/* A run id is a UUID (36 characters) as Spark's runId. */
#define QLOCK_ID_SIZE 37

struct qlock {
	int run_fd;		/* DIR/.lock, held EX (ssrc) or -1 */
	int stage_fd;		/* DIR/.lock-stages, held SH (stages) or -1 */
};

/* Make q hold nothing (so qlock_release() is always safe). */
void qlock_init(struct qlock *q);

/*
 * Take the run lock on dir (which must exist) for run_id (no spaces).
 * Without wait, fail at once when another run holds it, or when stages
 * of the previous run are still working: "checkpoint 'DIR' is in use by
 * pid N (use --wait to queue)" (the pid is omitted when it cannot be
 * found).  With wait, block until both are free; a signal interrupting
 * the wait makes it fail with errno EINTR (install SA_RESTART handlers
 * after this call, or the wait restarts after a signal).
 */
int qlock_run(struct qlock *q, const char *dir, const char *run_id,
    int wait, char *err);

/*
 * Join run run_id on dir as a downstream stage: shared lock, then check
 * that run_id still owns the run lock.  Fails with "checkpoint 'DIR' was
 * taken over by another run (pid N)" when a newer ssrc has started.
 */
int qlock_join(struct qlock *q, const char *dir, const char *run_id,
    char *err);

/* Drop whatever q holds; q holds nothing afterwards. */
void qlock_release(struct qlock *q);

/*
 * The pid that DIR/.lock names, or 0 when there is none.  The file keeps
 * the last holder's pid after it exits: the pid means something only
 * while the lock is held.
 */
pid_t qlock_holder(const char *dir);

#endif

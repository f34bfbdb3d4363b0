/*
 * dirwatch.h: the new files of a directory, each handed out once, in
 * modification-time order (the discovery half of the `file:DIR` source).
 *
 * What counts as a file: a regular file (a symlink to one counts) directly
 * in DIR; subdirectories are not read (Spark does not recurse either).
 * Names starting with '.' or '_' are ignored (temp files, Spark's
 * `_spark_metadata`), and so are names ending in "._COPYING_" (what
 * `hdfs dfs -put` writes before its rename), as Spark's file index does.
 * With a pattern, the name must also match it (fnmatch(3), no flags).
 *
 * Taken once, by name: dirwatch_next() marks every file it returns as taken
 * and never returns that name again, even if a file of that name is later
 * rewritten or replaced.  This is Spark's rule (its seen-files map is keyed
 * by path; DIR is fixed, so name == path).  Keying by name + size + mtime
 * was rejected: an appended or touched file would be read twice, and
 * records would be duplicated.  The set of taken names grows with every
 * file taken (one small entry each); a checkpoint keeps the same list and
 * reloads it with dirwatch_mark_taken().
 *
 * When a file is complete: files present when the watch opens are taken as
 * they are (like Spark's first listing).  A file that appears later is
 * taken whole: with inotify, when it is renamed or linked into DIR
 * (IN_MOVED_TO) or when the writer closes it (IN_CLOSE_WRITE); so writers
 * should write elsewhere or under a '.' or '_' name and rename into place,
 * or write in one open/close.  A file found by a scan rather than an event
 * (polling, or a rescan after the inotify queue overflowed) is taken once
 * it has settled: its mtime is at least `settle` old, or its size, mtime
 * and inode have not changed for `settle`.  Polling cannot see a close, so
 * a writer that pauses longer than `settle` mid-file can be read early:
 * rename into place where polling is used.
 *
 * Order: the files ready when dirwatch_next() is called are ordered by
 * modification time, oldest first (newest first with latest_first), ties
 * broken by name in byte order; the first max of them are returned (the
 * caller's --max-files-per-trigger).  Files not returned stay ready and are
 * ordered again with newer arrivals on the next call, as Spark re-lists on
 * every trigger.  A ready file deleted or renamed away before it is taken
 * is forgotten.
 *
 * Watching: inotify on DIR where it works; a rescan when the queue
 * overflows or a subdirectory appears.  Polling (a stat of DIR every
 * poll interval, a rescan when it changed) where inotify is unavailable or
 * when forced (opts.force_poll, or RUNNEL_FORCE_POLL=1 in the environment).
 * DIR itself disappearing is an error.
 *
 * Nothing here prints; errors return -1 and fill err (ERRBUF_SIZE bytes).
 */
#ifndef RUNNEL_DIRWATCH_H
#define RUNNEL_DIRWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dirwatch;

struct dirwatch_opts {
	const char *pattern;	/* fnmatch glob on the name, or NULL; copied */
	bool latest_first;	/* newest modification time first */
	bool force_poll;	/* poll even where inotify works */
	int64_t poll_us;	/* poll interval; <= 0: 1 second */
	int64_t settle_us;	/* see "when a file is complete";
				   <= 0: poll_us */
};

/* One file handed out.  Strings belong to the list that holds it. */
struct dirwatch_file {
	const char *name;	/* the name in DIR */
	const char *path;	/* DIR/name, as DIR was given */
	int64_t mtime_ns;	/* modification time, ns since the epoch */
	int64_t size;		/* size when it was last seen */
};

/* A batch of files, owned by the caller and reusable: dirwatch_next()
 * resets and refills it.  file[] and its strings stay valid until the
 * list is refilled or freed, whatever happens to the dirwatch. */
struct dirwatch_list {
	struct dirwatch_file *file;
	size_t n, cap;
	char *text;		/* names and paths, NUL-separated */
	size_t text_len, text_cap;
};

void dirwatch_list_init(struct dirwatch_list *l);
void dirwatch_list_free(struct dirwatch_list *l);

/* Open a watch on dir and list what it holds now (those files are ready at
 * once).  opts may be NULL for the defaults.  Returns NULL with err when
 * dir is missing, not a directory or unreadable (the message names it) or
 * the pattern is empty. */
struct dirwatch *dirwatch_open(const char *dir,
    const struct dirwatch_opts *opts, char *err);
/* Stop watching and free everything; lists filled earlier stay valid. */
void dirwatch_close(struct dirwatch *dw);

/* Record name as already taken (a checkpoint's log of files read): it will
 * not be returned.  Safe at any time after open. */
void dirwatch_mark_taken(struct dirwatch *dw, const char *name);

/* The inotify descriptor to poll(2) for POLLIN, or -1 when polling. */
int dirwatch_fd(const struct dirwatch *dw);
/* True when the watch polls instead of using inotify. */
bool dirwatch_polling(const struct dirwatch *dw);
/* Microseconds until dirwatch_update() has timed work to do (a poll, a
 * file settling), 0 if it is due now, -1 if only the fd can bring news. */
int64_t dirwatch_timeout(const struct dirwatch *dw);

/* Take in what happened since the last call, without blocking: read
 * inotify events, rescan if due.  Returns the number of ready files, or -1
 * with err (DIR disappeared or became unreadable). */
int dirwatch_update(struct dirwatch *dw, char *err);

/* Block until at least one file is ready or timeout_us passes (-1: no
 * limit); calls dirwatch_update().  Returns the number of ready files (0 on
 * timeout or when a signal interrupted the wait), or -1 with err. */
int dirwatch_wait(struct dirwatch *dw, int64_t timeout_us, char *err);

/* Number of files ready to be taken now (no I/O). */
size_t dirwatch_ready(const struct dirwatch *dw);

/* Hand out the next max ready files in order (max 0: all of them) into
 * out, which is reset first, and mark them taken.  Does no I/O: call
 * dirwatch_update() or dirwatch_wait() first to see new files; calling
 * only this after open gives exactly what was there at open (the
 * available-now snapshot).  Returns out->n. */
size_t dirwatch_next(struct dirwatch *dw, size_t max,
    struct dirwatch_list *out);

/*
 * --clean-source: what to do with a file once its batch is done.
 * dirwatch_clean_parse() reads "delete" or "archive:DIR" (*archive then
 * points into arg) and refuses anything else.  dirwatch_archive_check()
 * refuses an archive directory equal to or inside the source directory
 * (after resolving symlinks and "..", whether or not it exists yet), where
 * archived files would be at risk of being found again; call it with the
 * options.  dirwatch_clean() deletes path, or moves it into archive (made
 * if missing, as mkdir -p), keeping its name; it never overwrites a file
 * already in the archive (an error), and copies when the archive is on
 * another file system.  All return 0, or -1 with err.
 */
enum dirwatch_clean_mode { DIRWATCH_KEEP, DIRWATCH_DELETE, DIRWATCH_ARCHIVE };

int dirwatch_clean_parse(const char *arg, enum dirwatch_clean_mode *mode,
    const char **archive, char *err);
int dirwatch_archive_check(const char *dir, const char *archive, char *err);
int dirwatch_clean(const char *path, enum dirwatch_clean_mode mode,
    const char *archive, char *err);

#endif

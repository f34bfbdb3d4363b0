/*
 * atomicfile.h: files that are either wholly there or not there at all,
 * and that say so when they are damaged.
 *
 * Writing follows git's lockfile calling sequence: the bytes go to a temp
 * file in the same directory, created with O_EXCL (never through a symlink
 * someone else placed there), then fsync, rename over the final name, and
 * fsync of the directory, so that after a crash at any moment the final
 * name holds either the old or the new content, never a mix.  The temp
 * name is dot-prefixed (".NAME.tmp-PID-SEQ") so directory listings and
 * readers of a directory skip it; af_is_temp() recognises leftovers of a
 * writer that died.  Files are created with mode 0666 minus the umask.
 *
 * A "framed" file (af_write/af_read) is human readable and checksummed:
 *
 *     runnel KIND v1              header: what the file is, format version
 *     BODY                        any bytes, usually key=value or JSON lines
 *     crc32c=XXXXXXXX size=N      CRC32C of every byte above this line;
 *                                 N = length of BODY
 *
 * When BODY is not empty and does not end in a newline, one newline is
 * added after it so the trailer stays on a line of its own; size tells
 * the reader whether it is there.  A torn, truncated or edited file fails
 * the checksum (the trailer is the last thing written, and a truncation
 * removes or damages it), and af_read() reports it as
 * "'PATH': checksum mismatch (file corrupted or truncated)".
 *
 * Reading never follows a symlink (O_NOFOLLOW) and refuses anything that
 * is not a regular file, so a FIFO placed by someone else cannot block us.
 *
 * Errors: every call returns -1 with an error buffer (ERRBUF_SIZE, see
 * die.h) naming the path and the reason; errno is left as the failing
 * system call set it.  Nothing here prints.
 */
#ifndef RUNNEL_ATOMICFILE_H
#define RUNNEL_ATOMICFILE_H

#include <stddef.h>
#include <stdint.h>

/* The file format version written in framed headers ("v1"). */
#define AF_FORMAT_VERSION 1

/*
 * A file being written.  Between af_begin() and af_commit()/af_abort() the
 * caller writes through af_append() (or directly to fd; if it wraps fd in
 * a stdio stream, it must fflush it before af_commit() and must not
 * fclose it).  The struct owns path, tmp and fd.
 */
struct af_tmp {
	int fd;			/* the temp file, open for writing */
	char *path;		/* final name */
	char *tmp;		/* temp name, same directory */
};

/*
 * Create the temp file for path (its directory must exist).  On success t
 * is live and must end with af_commit() or af_abort().  On failure t holds
 * nothing and needs no cleanup.
 */
int af_begin(struct af_tmp *t, const char *path, char *err);

/* Write all of buf to the temp file (retrying short writes and EINTR).
 * On failure t is still live: the caller calls af_abort(). */
int af_append(struct af_tmp *t, const void *buf, size_t len, char *err);

/*
 * fsync, close, rename over path, fsync the directory.  t is finished
 * after the call, whatever the result.  On failure before the rename the
 * temp file is removed and path keeps its old content (if any); when only
 * the final directory fsync fails, path already has the new content but
 * it may not survive a power loss: treat that as failure too.
 */
int af_commit(struct af_tmp *t, char *err);

/* Drop the temp file; t is finished.  Harmless on a finished t. */
void af_abort(struct af_tmp *t);

/*
 * Write a framed file (format above) atomically.  kind is one word
 * ([a-z0-9_-]+), e.g. "offsets"; body may hold any bytes, len may be 0.
 */
int af_write(const char *path, const char *kind, const void *body,
    size_t len, char *err);

/*
 * Read a framed file of this kind.  Returns 1 and sets *body (malloc'd,
 * NUL-terminated after len bytes, owned by the caller: free() it) and
 * *len; 0 when path does not exist (*body = NULL, *len = 0, no error);
 * -1 on any other problem: unreadable, a symlink, not a regular file,
 * not a runnel file of this kind, a checksum mismatch, or a format
 * version this code does not read.
 */
int af_read(const char *path, const char *kind, char **body, size_t *len,
    char *err);

/*
 * CRC32C (Castagnoli) of buf, continuing from crc (start with 0):
 * af_crc32c(0, "123456789", 9) == 0xe3069283.
 */
uint32_t af_crc32c(uint32_t crc, const void *buf, size_t len);

/* Is this directory entry name a temp file left by af_begin()? */
int af_is_temp(const char *name);

/* fsync a directory, so that entries created or renamed in it last. */
int af_sync_dir(const char *dir, char *err);

#endif

/* atomicfile.c: atomic replace (temp, fsync, rename, fsync dir) and the
 * checksummed "runnel KIND v1" file format.  See atomicfile.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "die.h"
#include "strbuf.h"

/*
 * CRC32C, slicing by 8: about 2 GB/s without special instructions, so a
 * large state file costs little next to its fsync.  CRC32C rather than a
 * 64-bit FNV because it is the checksum storage people already know (ext4,
 * iSCSI, Kafka record batches) and it detects every burst error up to 32
 * bits.
 */
#define CRC32C_POLY 0x82f63b78u		/* reflected Castagnoli polynomial */

static uint32_t crc_table[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ CRC32C_POLY : c >> 1;
		crc_table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
			    crc_table[0][crc_table[j - 1][i] & 0xff];
}

uint32_t
af_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8);
		w ^= crc;
		crc = crc_table[7][w & 0xff] ^ crc_table[6][(w >> 8) & 0xff] ^
		    crc_table[5][(w >> 16) & 0xff] ^
		    crc_table[4][(w >> 24) & 0xff] ^
		    crc_table[3][(w >> 32) & 0xff] ^
		    crc_table[2][(w >> 40) & 0xff] ^
		    crc_table[1][(w >> 48) & 0xff] ^ crc_table[0][w >> 56];
		p += 8;
		len -= 8;
	}
#endif
	while (len-- > 0)
		crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* The directory of path, malloc'd: "a/b" -> "a", "b" -> ".", "/b" -> "/". */
static char *
dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
af_is_temp(const char *name)
{
	return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

int
af_sync_dir(const char *dir, char *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return seterr(err, "cannot open directory '%s': %s", dir,
		    strerror(errno));
	/* Some file systems cannot sync a directory; that is not our error. */
	if (fsync(fd) < 0 && errno != EINVAL && errno != ENOTSUP) {
		int e = errno;

		close(fd);
		errno = e;
		return seterr(err, "cannot sync directory '%s': %s", dir,
		    strerror(e));
	}
	close(fd);
	return 0;
}

int
af_begin(struct af_tmp *t, const char *path, char *err)
{
	static unsigned seq;
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct strbuf sb;

	t->fd = -1;
	t->path = t->tmp = NULL;
	if (*base == '\0')
		return seterr(err, "cannot write '%s': not a file name", path);
	sb_init(&sb);
	/*
	 * O_EXCL: an existing name (a leftover, or a symlink someone placed
	 * to make us write elsewhere) is never opened; we take the next
	 * sequence number instead.  The pid keeps two writers apart.
	 */
	for (int attempt = 0; attempt < 100; attempt++) {
		sb_reset(&sb);
		sb_add(&sb, path, (size_t)(base - path));
		sb_addf(&sb, ".%s.tmp-%ld-%u", base, (long)getpid(), seq++);
		t->fd = open(sb.buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0666);
		if (t->fd >= 0 || errno != EEXIST)
			break;
	}
	if (t->fd < 0) {
		int e = errno;

		sb_free(&sb);
		errno = e;
		return seterr(err, "cannot write '%s': %s", path, strerror(e));
	}
	t->tmp = sb.buf;
	t->path = xstrdup(path);
	return 0;
}

int
af_append(struct af_tmp *t, const void *buf, size_t len, char *err)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(t->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return seterr(err, "cannot write '%s': %s", t->path,
			    strerror(errno));
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
af_free(struct af_tmp *t)
{
	free(t->path);
	free(t->tmp);
	t->path = t->tmp = NULL;
	t->fd = -1;
}

void
af_abort(struct af_tmp *t)
{
	int e = errno;

	if (t->fd >= 0)
		close(t->fd);
	if (t->tmp != NULL)
		unlink(t->tmp);
	af_free(t);
	errno = e;
}

int
af_commit(struct af_tmp *t, char *err)
{
	char *dir;
	int rc;

	if (fsync(t->fd) < 0) {
		seterr(err, "cannot write '%s': %s", t->path, strerror(errno));
		af_abort(t);
		return -1;
	}
	rc = close(t->fd);
	t->fd = -1;
	if (rc < 0) {
		seterr(err, "cannot write '%s': %s", t->path, strerror(errno));
		af_abort(t);
		return -1;
	}
	/* rename() replaces a symlink at path; it never writes through it. */
	if (rename(t->tmp, t->path) < 0) {
		seterr(err, "cannot rename '%s' to '%s': %s", t->tmp, t->path,
		    strerror(errno));
		af_abort(t);
		return -1;
	}
	dir = dir_of(t->path);
	rc = af_sync_dir(dir, err);
	free(dir);
	af_free(t);
	return rc;
}

/* Is kind one word of [a-z0-9_-]? */
static int
kind_ok(const char *kind)
{
	if (*kind == '\0')
		return 0;
	for (const char *p = kind; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_' || *p == '-'))
			return 0;
	return 1;
}

int
af_write(const char *path, const char *kind, const void *body, size_t len,
    char *err)
{
	char head[64], trailer[64];
	int hlen, tlen, pad;
	uint32_t crc;
	struct af_tmp t;

	if (!kind_ok(kind) || strlen(kind) > 32)
		return seterr(err, "cannot write '%s': bad file kind '%s'",
		    path, kind);
	hlen = snprintf(head, sizeof head, "runnel %s v%d\n", kind,
	    AF_FORMAT_VERSION);
	pad = len > 0 && ((const char *)body)[len - 1] != '\n';
	crc = af_crc32c(0, head, (size_t)hlen);
	crc = af_crc32c(crc, body, len);
	if (pad)
		crc = af_crc32c(crc, "\n", 1);
	tlen = snprintf(trailer, sizeof trailer, "crc32c=%08x size=%zu\n",
	    crc, len);
	if (af_begin(&t, path, err) < 0)
		return -1;
	if (af_append(&t, head, (size_t)hlen, err) < 0 ||
	    af_append(&t, body, len, err) < 0 ||
	    (pad && af_append(&t, "\n", 1, err) < 0) ||
	    af_append(&t, trailer, (size_t)tlen, err) < 0) {
		af_abort(&t);
		return -1;
	}
	return af_commit(&t, err);
}

/* Read all of fd into a malloc'd buffer with room for a NUL. */
static char *
slurp(int fd, size_t hint, size_t *len)
{
	size_t cap = hint + 1 > 4096 ? hint + 1 : 4096, n = 0;
	char *buf = xmalloc(cap + 1);

	for (;;) {
		ssize_t r;

		if (n == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

/* Parse "crc32c=XXXXXXXX size=N" exactly; 0 on success. */
static int
parse_trailer(const char *s, size_t n, uint32_t *crc, size_t *size)
{
	static const char k1[] = "crc32c=", k2[] = " size=";
	uint32_t c = 0;
	size_t z = 0, i;

	if (n < sizeof k1 - 1 + 8 + sizeof k2 - 1 + 1 ||
	    memcmp(s, k1, sizeof k1 - 1) != 0)
		return -1;
	s += sizeof k1 - 1;
	n -= sizeof k1 - 1;
	for (i = 0; i < 8; i++) {
		char ch = s[i];

		if (ch >= '0' && ch <= '9')
			c = c << 4 | (uint32_t)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			c = c << 4 | (uint32_t)(ch - 'a' + 10);
		else
			return -1;
	}
	s += 8;
	n -= 8;
	if (memcmp(s, k2, sizeof k2 - 1) != 0)
		return -1;
	s += sizeof k2 - 1;
	n -= sizeof k2 - 1;
	if (n == 0 || n > 18)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		z = z * 10 + (size_t)(s[i] - '0');
	}
	*crc = c;
	*size = z;
	return 0;
}

#define CORRUPT "checksum mismatch (file corrupted or truncated)"

int
af_read(const char *path, const char *kind, char **body, size_t *len,
    char *err)
{
	char magic[64];
	size_t n, mlen, he, ts, size;
	uint32_t crc;
	struct stat st;
	char *data, *nl;
	long version;
	int fd;

	*body = NULL;
	*len = 0;
	/* O_NONBLOCK: opening a FIFO planted at path must not hang us. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return seterr(err, "'%s': is a symbolic link (refusing to "
		    "follow it)", path);
	if (fd < 0)
		return seterr(err, "cannot open '%s': %s", path,
		    strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return seterr(err, "'%s': not a regular file", path);
	}
	data = slurp(fd, (size_t)st.st_size, &n);
	if (data == NULL) {
		int e = errno;

		close(fd);
		return seterr(err, "cannot read '%s': %s", path, strerror(e));
	}
	close(fd);

	/* A file that does not even start like ours is not ours: say so
	 * rather than "corrupted".  A strict prefix of the magic is a
	 * truncated file of ours. */
	mlen = (size_t)snprintf(magic, sizeof magic, "runnel %s v", kind);
	if (memcmp(data, magic, n < mlen ? n : mlen) != 0) {
		free(data);
		return seterr(err, "'%s': not a runnel %s file", path, kind);
	}
	nl = n > mlen ? memchr(data + mlen, '\n', n - mlen) : NULL;
	if (nl == NULL)
		goto corrupt;
	he = (size_t)(nl - data) + 1;
	/* Check the version before trusting the trailer: a newer format may
	 * end differently. */
	version = 0;
	for (size_t i = mlen; i < he - 1; i++) {
		if (data[i] < '0' || data[i] > '9' || version > 1000000) {
			version = -1;
			break;
		}
		version = version * 10 + (data[i] - '0');
	}
	if (version != AF_FORMAT_VERSION) {
		if (version <= 0)
			goto corrupt;
		free(data);
		return seterr(err, "'%s': format version v%ld is not supported "
		    "(this runnel reads v%d)", path, version,
		    AF_FORMAT_VERSION);
	}
	if (n < he + 1 || data[n - 1] != '\n')
		goto corrupt;
	for (ts = n - 1; ts > he && data[ts - 1] != '\n'; ts--)
		;
	if (parse_trailer(data + ts, n - 1 - ts, &crc, &size) < 0 ||
	    af_crc32c(0, data, ts) != crc)
		goto corrupt;
	if (size > ts - he ||
	    he + size + (size > 0 && data[he + size - 1] != '\n') != ts) {
		free(data);
		return seterr(err, "'%s': malformed (size=%zu does not match "
		    "the body)", path, size);
	}
	memmove(data, data + he, size);
	data[size] = '\0';
	*body = data;
	*len = size;
	return 1;
corrupt:
	free(data);
	return seterr(err, "'%s': " CORRUPT, path);
}

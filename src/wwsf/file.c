/**
 * @file file.c  Static files: MIME types, validators, precompressed
 *               siblings
 *
 * The page build writes FILE.gz next to FILE; it is served when the
 * client accepts gzip (no compression in the binary). The ETag is made
 * from the size and modification time of what is sent, so the two
 * encodings have different tags.
 */
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <re.h>
#include "wwsf.h"
#include "wwsf_int.h"

static const struct {
	const char *ext;
	const char *type;
} mimes[] = {
	{"html",  "text/html; charset=utf-8"},
	{"js",    "text/javascript; charset=utf-8"},
	{"mjs",   "text/javascript; charset=utf-8"},
	{"css",   "text/css; charset=utf-8"},
	{"json",  "application/json"},
	{"svg",   "image/svg+xml"},
	{"png",   "image/png"},
	{"ico",   "image/x-icon"},
	{"woff2", "font/woff2"},
	{"wasm",  "application/wasm"},
	{"map",   "application/json"},
	{"txt",   "text/plain; charset=utf-8"},
};


/**
 * Content-Type for a file name, by its extension (case-insensitive)
 *
 * @param path File path
 *
 * @return MIME type; application/octet-stream if unknown
 */
const char *wwsf_mime_type(const char *path)
{
	const char *dot, *slash;
	size_t i;

	if (!path)
		return "application/octet-stream";

	dot = strrchr(path, '.');
	slash = strrchr(path, '/');
	if (!dot || (slash && slash > dot))
		return "application/octet-stream";

	for (i = 0; i < ARRAY_SIZE(mimes); i++) {
		if (!strcasecmp(dot + 1, mimes[i].ext))
			return mimes[i].type;
	}

	return "application/octet-stream";
}


/**
 * Format a time as an HTTP date (IMF-fixdate, RFC 9110 5.6.7)
 *
 * @param buf Buffer
 * @param sz  Size of buf (30 or more)
 * @param t   Seconds since the epoch
 *
 * @return 0 if success, otherwise errorcode
 */
int wwsf_http_date(char *buf, size_t sz, int64_t t)
{
	static const char *const day[] = {"Sun", "Mon", "Tue", "Wed",
					  "Thu", "Fri", "Sat"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr",
					  "May", "Jun", "Jul", "Aug",
					  "Sep", "Oct", "Nov", "Dec"};
	time_t tt = (time_t)t;
	struct tm tm;

	if (!buf || !gmtime_r(&tt, &tm))
		return EINVAL;

	if (re_snprintf(buf, sz, "%s, %02d %s %04d %02d:%02d:%02d GMT",
			day[tm.tm_wday % 7], tm.tm_mday, mon[tm.tm_mon % 12],
			tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			tm.tm_sec) < 0)
		return ENOSPC;

	return 0;
}


/* Open a regular file, not following a final symlink */
static int open_reg(int *fdp, struct stat *st, const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno;

	if (fstat(fd, st) || !S_ISREG(st->st_mode)) {
		(void)close(fd);
		return ENOENT;
	}

	*fdp = fd;

	return 0;
}


/**
 * Open a file (already mapped by wwsf_path_map) or its FILE.gz sibling
 *
 * @param f       Returned open file (close with wwsf_file_close)
 * @param path    File path
 * @param gzip_ok The client accepts gzip
 *
 * @return 0 if success, EFBIG above the size cap, otherwise errorcode
 */
int wwsf_file_open(struct wwsf_file *f, const char *path, bool gzip_ok)
{
	char gz[WWSF_PATH_MAX + 4];
	struct stat st;
	int err, fd = -1;

	if (!f || !path)
		return EINVAL;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->ctype = wwsf_mime_type(path);

	if (re_snprintf(gz, sizeof(gz), "%s.gz", path) > 0 &&
	    !open_reg(&fd, &st, gz)) {
		f->has_gzip = true;
		f->gzip = gzip_ok;
		if (!gzip_ok) {
			(void)close(fd);
			fd = -1;
		}
	}

	if (fd < 0) {
		err = open_reg(&fd, &st, path);
		if (err)
			return err;
	}

	if (st.st_size > WWSF_FILE_MAX) {
		(void)close(fd);
		return EFBIG;
	}

	f->fd = fd;
	f->size = (size_t)st.st_size;

	(void)re_snprintf(f->etag, sizeof(f->etag), "\"%llx-%llx%s\"",
			  (unsigned long long)st.st_size,
			  (unsigned long long)st.st_mtime,
			  f->gzip ? "-gz" : "");
	(void)wwsf_http_date(f->lastmod, sizeof(f->lastmod),
			     (int64_t)st.st_mtime);

	return 0;
}


/**
 * Close a file opened by wwsf_file_open
 *
 * @param f File
 */
void wwsf_file_close(struct wwsf_file *f)
{
	if (!f || f->fd < 0)
		return;

	(void)close(f->fd);
	f->fd = -1;
}


static bool etag_handler(const struct http_hdr *hdr, void *arg)
{
	struct pl v = hdr->val;
	struct pl tag;

	if (!pl_strcmp(&v, "*"))
		return true;

	/* weak comparison (RFC 9110 13.1.2) */
	if (v.l > 2 && !strncmp(v.p, "W/", 2))
		pl_advance(&v, 2);

	pl_set_str(&tag, arg);

	return 0 == pl_cmp(&v, &tag);
}


/**
 * Tell whether If-None-Match matches an entity tag
 *
 * @param msg  HTTP request
 * @param etag Quoted entity tag of the representation
 *
 * @return true if it matches (answer 304)
 */
bool wwsf_etag_match(const struct http_msg *msg, const char *etag)
{
	return NULL != http_msg_hdr_apply(msg, true, HTTP_HDR_IF_NONE_MATCH,
					  etag_handler, (void *)etag);
}


struct coding {
	const char *name;
	bool found;
	bool ok;
};


/* The first entry naming a coding decides, by its q-value */
static bool coding_handler(const struct http_hdr *hdr, void *arg)
{
	struct coding *c = arg;
	struct pl name, params, q;

	if (re_regex(hdr->val.p, hdr->val.l, "[^; \t]+[^]*", &name,
		     &params))
		return false;

	if (pl_strcasecmp(&name, c->name))
		return false;

	c->found = true;
	c->ok = true;

	if (!re_regex(params.p, params.l, ";[ \t]*q[ \t]*=[ \t]*[0-9.]+",
		      NULL, NULL, NULL, &q))
		c->ok = pl_float(&q) > 0.0;

	return true;
}


static bool coding_find(const struct http_msg *msg, struct coding *c)
{
	(void)http_msg_hdr_apply(msg, true, HTTP_HDR_ACCEPT_ENCODING,
				 coding_handler, c);
	return c->found;
}


/**
 * Tell whether the client's Accept-Encoding allows gzip
 *
 * @param msg HTTP request
 *
 * @return true if gzip is acceptable
 */
bool wwsf_gzip_accepted(const struct http_msg *msg)
{
	struct coding gz = {"gzip", false, false};
	struct coding any = {"*", false, false};

	if (coding_find(msg, &gz))
		return gz.ok;

	return coding_find(msg, &any) && any.ok;
}

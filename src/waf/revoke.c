/**
 * @file revoke.c  Revoked tokens (D-60): a user's tokens issued up to a
 *                 time (logout, the user removed), or one token by its
 *                 jti (a guest's logout), each until no token it covers
 *                 can still be valid
 *
 * Kept in a small state file so that they outlast SIGHUP and restarts:
 * one entry a line, "user NAME AT UNTIL" or "jti JTI UNTIL" (seconds
 * since the epoch), rewritten whole on every change (a temporary file,
 * fsync, rename; mode 0600). Bounded: at most WAF_REVOKE_MAX entries,
 * expired ones dropped first; a change that does not fit is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/file.h"
#include "../core/log.h"
#include "waf.h"
#include "waf_int.h"

#define LOG_MODULE "waf"

enum {
	VAL_MAX  = 64,                   /* user name or jti, with NUL  */
	FILE_MAX = WAF_REVOKE_MAX * 128, /* state file size limit       */
};

/** One revocation */
struct rev {
	struct le le;
	bool user;               /* user: tokens with iat <= at; else jti */
	char val[VAL_MAX];
	int64_t at;
	int64_t until;           /* dropped from then on                  */
};

struct waf_revoke {
	struct list l;
	uint32_t n;
	char *path;              /* NULL: kept in memory only             */
};


static void revoke_destructor(void *arg)
{
	struct waf_revoke *r = arg;

	list_flush(&r->l);
	mem_deref(r->path);
}


static void rev_destructor(void *arg)
{
	struct rev *e = arg;

	list_unlink(&e->le);
}


static bool val_ok(const char *v, size_t len)
{
	size_t i;

	if (!len || len >= VAL_MAX)
		return false;

	for (i = 0; i < len; i++) {
		if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] > '~')
			return false;
	}

	return true;
}


static void expire(struct waf_revoke *r, int64_t now)
{
	struct le *le = r->l.head;

	while (le) {
		struct rev *e = le->data;

		le = le->next;
		if (e->until <= now) {
			mem_deref(e);
			--r->n;
		}
	}
}


static struct rev *find(const struct waf_revoke *r, bool user,
			const char *val)
{
	struct le *le;

	for (le = r->l.head; le; le = le->next) {
		struct rev *e = le->data;

		if (e->user == user && !strcmp(e->val, val))
			return e;
	}

	return NULL;
}


/* Add or widen an entry; ENOSPC when the table is full */
static int put(struct waf_revoke *r, bool user, const char *val,
	       size_t len, int64_t at, int64_t until)
{
	char v[VAL_MAX];
	struct rev *e;

	if (!val_ok(val, len))
		return EINVAL;

	memcpy(v, val, len);
	v[len] = '\0';

	e = find(r, user, v);
	if (e) {
		e->at = max(e->at, at);
		e->until = max(e->until, until);
		return 0;
	}

	if (r->n >= WAF_REVOKE_MAX)
		return ENOSPC;

	e = mem_zalloc(sizeof(*e), rev_destructor);
	if (!e)
		return ENOMEM;

	e->user = user;
	memcpy(e->val, v, len + 1);
	e->at = at;
	e->until = until;
	list_append(&r->l, &e->le, e);
	++r->n;

	return 0;
}


static int64_t pl_i64(const struct pl *pl, bool *ok)
{
	int64_t v = 0;
	size_t i;

	*ok = pl->l > 0 && pl->l <= 18;
	for (i = 0; *ok && i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			*ok = false;
		else
			v = v * 10 + (pl->p[i] - '0');
	}

	return v;
}


/* Up to n fields separated by single spaces; the count found */
static size_t fields(struct pl *f, size_t n, const struct pl *line)
{
	struct pl rest = *line;
	size_t i = 0;

	while (rest.l && i <= n) {
		const char *sp = pl_strchr(&rest, ' ');

		if (i == n)
			return n + 1;      /* too many */

		f[i].p = rest.p;
		f[i].l = sp ? (size_t)(sp - rest.p) : rest.l;
		pl_advance(&rest, f[i].l + (sp ? 1 : 0));
		if (!f[i].l)
			return 0;
		++i;
	}

	return i;
}


static int parse_line(struct waf_revoke *r, const struct pl *line,
		      int64_t now)
{
	struct pl f[4];
	size_t n = fields(f, ARRAY_SIZE(f), line);
	bool ok1, ok2;
	int64_t at, until;

	if (n == 4 && !pl_strcmp(&f[0], "user")) {
		at = pl_i64(&f[2], &ok1);
		until = pl_i64(&f[3], &ok2);
		if (!ok1 || !ok2)
			return EBADMSG;
		if (until <= now)
			return 0;
		return put(r, true, f[1].p, f[1].l, at, until);
	}

	if (n == 3 && !pl_strcmp(&f[0], "jti")) {
		until = pl_i64(&f[2], &ok1);
		if (!ok1)
			return EBADMSG;
		if (until <= now)
			return 0;
		return put(r, false, f[1].p, f[1].l, 0, until);
	}

	return EBADMSG;
}


/**
 * Read revocations from the text of a state file; bad lines are
 * skipped with a log line, expired entries dropped
 *
 * @param r    Revocations
 * @param name File name for log lines
 * @param text Text
 * @param len  Its length
 * @param now  Current time
 *
 * @return Number of bad lines
 */
unsigned waf_revoke_parse(struct waf_revoke *r, const char *name,
			  const char *text, size_t len, int64_t now)
{
	struct pl rest, line;
	unsigned lineno = 0, bad = 0;

	if (!r || !text)
		return 0;

	rest.p = text;
	rest.l = len;

	while (rest.l) {
		const char *nl = pl_strchr(&rest, '\n');
		int err;

		line.p = rest.p;
		line.l = nl ? (size_t)(nl - rest.p) : rest.l;
		pl_advance(&rest, line.l + (nl ? 1 : 0));
		++lineno;

		if (line.l && line.p[line.l - 1] == '\r')
			--line.l;
		if (!line.l || line.p[0] == '#')
			continue;

		err = parse_line(r, &line, now);
		if (err) {
			++bad;
			log_warn("%s:%u: %s, line skipped", name, lineno,
				 err == ENOSPC ? "too many entries" :
				 "not \"user NAME AT UNTIL\" or "
				 "\"jti JTI UNTIL\"");
		}
	}

	return bad;
}


static int load(struct waf_revoke *r, int64_t now)
{
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	if (!mb)
		return ENOMEM;

	err = file_read(mb, r->path, FILE_MAX);
	if (!err)
		(void)waf_revoke_parse(r, r->path, (const char *)mb->buf,
				       mb->end, now);
	else if (err == ENOENT)
		err = 0;

	mem_deref(mb);
	return err;
}


/**
 * Make the revocation table and read its state file
 *
 * @param rp   Returned table
 * @param path State file (NULL: memory only)
 * @param now  Current time
 *
 * @return 0 if success, otherwise errorcode (a state file that cannot
 *         be read is logged and left out, not an error)
 */
int waf_revoke_alloc(struct waf_revoke **rp, const char *path, int64_t now)
{
	struct waf_revoke *r;
	int err = 0;

	if (!rp)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), revoke_destructor);
	if (!r)
		return ENOMEM;

	if (path) {
		err = str_dup(&r->path, path);
		if (err)
			goto out;

		err = load(r, now);
		if (err == ENOMEM)
			goto out;
		if (err)
			log_warn("%s: revoked tokens not read: %m", path, err);
		err = 0;
	}

 out:
	if (err)
		mem_deref(r);
	else
		*rp = r;

	return err;
}


static int print(struct re_printf *pf, const struct waf_revoke *r)
{
	struct le *le;
	int err;

	err = re_hprintf(pf, "# imsedge: revoked web tokens (D-60); "
			 "written by imsedge\n");

	for (le = r->l.head; le && !err; le = le->next) {
		const struct rev *e = le->data;

		if (e->user)
			err = re_hprintf(pf, "user %s %lli %lli\n", e->val,
					 (long long)e->at,
					 (long long)e->until);
		else
			err = re_hprintf(pf, "jti %s %lli\n", e->val,
					 (long long)e->until);
	}

	return err;
}


static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}

		p += w;
		n -= (size_t)w;
	}

	return 0;
}


/* The whole table into the state file: a new file, then rename */
static int save(const struct waf_revoke *r)
{
	struct mbuf *mb;
	char *tmp = NULL;
	int fd = -1, err;

	if (!r->path)
		return 0;

	mb = mbuf_alloc(256);
	if (!mb)
		return ENOMEM;

	err = mbuf_printf(mb, "%H", print, r);
	if (!err)
		err = re_sdprintf(&tmp, "%s.tmp", r->path);
	if (err)
		goto out;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = errno;
		goto out;
	}

	err = write_all(fd, mb->buf, mb->end);
	if (!err && fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, r->path))
		err = errno;
	if (err)
		(void)unlink(tmp);

 out:
	if (err)
		log_error("%s: cannot write revoked tokens: %m; they hold "
			  "only until imsedge restarts", r->path, err);
	mem_deref(tmp);
	mem_deref(mb);

	return err;
}


static int change(struct waf_revoke *r, bool user, const char *val,
		  int64_t at, int64_t until, int64_t now)
{
	int err;

	if (!r || !val)
		return EINVAL;

	expire(r, now);

	err = put(r, user, val, strlen(val), at, until);
	if (err == ENOSPC)
		log_error("revoked tokens: table full (%u entries); %s %s "
			  "not revoked", WAF_REVOKE_MAX, user ? "user" : "jti",
			  val);
	if (err)
		return err;

	(void)save(r);   /* logged; the revocation holds in memory */

	return 0;
}


/**
 * Revoke every token of a user issued up to a time
 *
 * @param r     Revocations
 * @param user  User name ("sub")
 * @param at    Tokens with iat up to this are revoked
 * @param until When the last of them expires
 * @param now   Current time
 *
 * @return 0 if success, ENOSPC if the table is full, otherwise errorcode
 */
int waf_revoke_user(struct waf_revoke *r, const char *user, int64_t at,
		    int64_t until, int64_t now)
{
	return change(r, true, user, at, until, now);
}


/**
 * Revoke one token
 *
 * @param r     Revocations
 * @param jti   Its jti
 * @param until Its expiry
 * @param now   Current time
 *
 * @return 0 if success, ENOSPC if the table is full, otherwise errorcode
 */
int waf_revoke_jti(struct waf_revoke *r, const char *jti, int64_t until,
		   int64_t now)
{
	return change(r, false, jti, 0, until, now);
}


/**
 * Whether a token is revoked
 *
 * @param r    Revocations
 * @param user Its "sub" (NULL: a guest's, not revoked by user)
 * @param jti  Its jti (may be NULL)
 * @param iat  Its iat
 * @param now  Current time
 *
 * @return true if revoked
 */
bool waf_revoke_has(const struct waf_revoke *r, const char *user,
		    const char *jti, int64_t iat, int64_t now)
{
	const struct rev *e;

	if (!r)
		return false;

	if (user) {
		e = find(r, true, user);
		if (e && e->until > now && iat <= e->at)
			return true;
	}

	if (jti) {
		e = find(r, false, jti);
		if (e && e->until > now)
			return true;
	}

	return false;
}


/**
 * When a user's tokens were last revoked (a new token's iat must be
 * later)
 *
 * @param r    Revocations
 * @param user User name
 *
 * @return Time, 0 if never
 */
int64_t waf_revoke_user_at(const struct waf_revoke *r, const char *user)
{
	const struct rev *e = r && user ? find(r, true, user) : NULL;

	return e ? e->at : 0;
}


/**
 * Number of entries (tests)
 *
 * @param r Revocations
 *
 * @return Count
 */
uint32_t waf_revoke_count(const struct waf_revoke *r)
{
	return r ? r->n : 0;
}

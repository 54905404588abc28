/**
 * @file users.c  The users file: parsing, password checks (PBKDF2-HMAC-
 *                SHA256) and adding or replacing one user atomically
 *
 * One user a line, fields separated by spaces or tabs, '#' starts a
 * comment line:
 *
 *   NAME  $pbkdf2-sha256$ITERATIONS$SALT$DK  IMPI  IMPU[,IMPU...]
 *
 * SALT (16 random bytes) and DK (32 bytes) in standard base64 without
 * padding, as passlib writes them but with '+' instead of '.'.
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <re.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/platform_util.h>
#include "../core/conf.h"
#include "../core/file.h"
#include "../core/log.h"
#include "../tls/tlsx.h"
#include "../jwt/jwt.h"
#include "waf.h"
#include "waf_int.h"

#define LOG_MODULE "waf"
#define HASH_PREFIX "$pbkdf2-sha256$"

enum {
	FIELD_MAX    = 512,      /* longest field of a line             */
	PASSWORD_MAX = 1024,
};


static void user_destructor(void *arg)
{
	struct waf_user *u = arg;
	size_t i;

	list_unlink(&u->le);
	mem_deref(u->name);
	mem_deref(u->impi);
	for (i = 0; i < u->impuc; i++)
		mem_deref(u->impu[i]);
	mbedtls_platform_zeroize(u->dk, sizeof(u->dk));
}


static void users_destructor(void *arg)
{
	struct waf_users *u = arg;

	list_flush(&u->users);
}


/**
 * Tell whether a user name is valid: [A-Za-z0-9._@+-]{1,64}
 *
 * @param name The name
 *
 * @return true if valid
 */
bool waf_name_valid(const char *name)
{
	size_t n = str_len(name), i;

	if (n < 1 || n > WAF_NAME_MAX)
		return false;

	for (i = 0; i < n; i++) {
		const char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || strchr("._@+-", c)))
			return false;
	}

	return true;
}


/* Printable, no space, no quote or backslash: safe in any context */
static bool token_valid(const struct pl *pl)
{
	size_t i;

	if (!pl->l || pl->l > FIELD_MAX)
		return false;

	for (i = 0; i < pl->l; i++) {
		const uint8_t c = (uint8_t)pl->p[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' ||
		    c == ',')
			return false;
	}

	return true;
}


static bool impu_valid(const struct pl *pl)
{
	static const char *schemes[] = {"sip:", "sips:", "tel:"};
	size_t i;

	if (!token_valid(pl))
		return false;

	for (i = 0; i < ARRAY_SIZE(schemes); i++) {
		size_t n = strlen(schemes[i]);

		if (pl->l > n && !strncasecmp(pl->p, schemes[i], n))
			return true;
	}

	return false;
}


/* $pbkdf2-sha256$ITER$SALT$DK */
static int hash_decode(struct waf_user *u, const struct pl *hash)
{
	const size_t plen = strlen(HASH_PREFIX);
	struct pl rest, f[3];
	size_t len, i;
	uint32_t n;

	if (hash->l <= plen || memcmp(hash->p, HASH_PREFIX, plen))
		return EBADMSG;

	rest.p = hash->p + plen;
	rest.l = hash->l - plen;

	for (i = 0; i < 3; i++) {
		const char *d = pl_strchr(&rest, '$');

		if ((i < 2) != (d != NULL))
			return EBADMSG;

		f[i].p = rest.p;
		f[i].l = d ? (size_t)(d - rest.p) : rest.l;
		if (!f[i].l)
			return EBADMSG;

		pl_advance(&rest, f[i].l + (d ? 1 : 0));
	}

	for (i = 0; i < f[0].l; i++) {
		if (f[0].p[i] < '0' || f[0].p[i] > '9')
			return EBADMSG;
	}

	n = pl_u32(&f[0]);
	if (f[0].l > 7 || n < 1 || n > WAF_ITER_MAX)
		return ERANGE;

	len = sizeof(u->salt);
	if (jwt_b64_decode(u->salt, &len, f[1].p, f[1].l, false) || len < 8)
		return EBADMSG;
	u->saltlen = len;

	len = sizeof(u->dk);
	if (jwt_b64_decode(u->dk, &len, f[2].p, f[2].l, false) ||
	    len != WAF_DK_LEN)
		return EBADMSG;

	u->iter = n;

	return 0;
}


static int impus_decode(struct waf_user *u, const struct pl *impus,
			const char **why)
{
	struct pl rest = *impus, one;
	int err;

	while (rest.l) {
		const char *comma = pl_strchr(&rest, ',');

		one.p = rest.p;
		one.l = comma ? (size_t)(comma - rest.p) : rest.l;
		pl_advance(&rest, one.l + (comma ? 1 : 0));

		if (!impu_valid(&one) || (comma && !rest.l)) {
			*why = "bad IMPU (want sip:, sips: or tel: URIs)";
			return EINVAL;
		}

		if (u->impuc >= WAF_IMPU_MAX) {
			*why = "more than 16 IMPUs";
			return E2BIG;
		}

		err = pl_strdup(&u->impu[u->impuc++], &one);
		if (err)
			return err;
	}

	return 0;
}


/* Split a line into its fields; false if more than n */
static bool fields_split(struct pl *f, size_t n, size_t *count,
			 const struct pl *line)
{
	struct pl rest = *line;

	*count = 0;

	for (;;) {
		size_t len = 0;

		while (rest.l && (*rest.p == ' ' || *rest.p == '\t'))
			pl_advance(&rest, 1);

		if (!rest.l)
			return true;

		while (len < rest.l && rest.p[len] != ' ' &&
		       rest.p[len] != '\t')
			++len;

		if (*count >= n)
			return false;

		f[*count].p = rest.p;
		f[*count].l = len;
		++*count;
		pl_advance(&rest, len);
	}
}


static int line_parse(struct waf_user **up, const struct pl *line,
		      const char **why)
{
	struct waf_user *u;
	struct pl f[4];
	size_t n;
	int err;

	if (!fields_split(f, ARRAY_SIZE(f), &n, line) || n != 4) {
		*why = "want NAME HASH IMPI IMPU[,IMPU...]";
		return EINVAL;
	}

	u = mem_zalloc(sizeof(*u), user_destructor);
	if (!u)
		return ENOMEM;

	err = pl_strdup(&u->name, &f[0]);
	if (err)
		goto out;

	if (!waf_name_valid(u->name)) {
		*why = "bad user name (want 1 to 64 of A-Z a-z 0-9 . _ @ + -)";
		err = EINVAL;
		goto out;
	}

	err = hash_decode(u, &f[1]);
	if (err) {
		*why = err == ERANGE ? "iterations not in 1..1000000" :
			"bad hash (want $pbkdf2-sha256$ITER$SALT$DK)";
		goto out;
	}

	if (!token_valid(&f[2])) {
		*why = "bad IMPI";
		err = EINVAL;
		goto out;
	}

	err = pl_strdup(&u->impi, &f[2]);
	if (!err)
		err = impus_decode(u, &f[3], why);

 out:
	if (err)
		mem_deref(u);
	else
		*up = u;

	return err;
}


static bool line_next(struct pl *line, struct pl *rest)
{
	const char *nl;

	if (!rest->l)
		return false;

	nl = pl_strchr(rest, '\n');
	line->p = rest->p;
	line->l = nl ? (size_t)(nl - rest->p) : rest->l;
	pl_advance(rest, line->l + (nl ? 1 : 0));

	if (line->l && line->p[line->l - 1] == '\r')
		--line->l;

	return true;
}


static bool line_is_user(const struct pl *line)
{
	struct pl t = *line;

	while (t.l && (*t.p == ' ' || *t.p == '\t'))
		pl_advance(&t, 1);

	return t.l && *t.p != '#';
}


/**
 * Parse the text of a users file
 *
 * @param up     Returned table
 * @param path   File name, for messages
 * @param text   The text
 * @param len    Its length
 * @param errbuf Returned reason of a failure: "FILE:LINE: why"
 * @param errsz  Size of errbuf
 *
 * @return 0 if success, otherwise errorcode
 */
int waf_users_parse(struct waf_users **up, const char *path,
		    const char *text, size_t len, char *errbuf, size_t errsz)
{
	struct waf_users *t;
	struct pl rest, line;
	unsigned lineno = 0;
	int err = 0;

	if (!up || (!text && len))
		return EINVAL;

	t = mem_zalloc(sizeof(*t), users_destructor);
	if (!t)
		return ENOMEM;

	rest.p = text;
	rest.l = len;

	while (!err && line_next(&line, &rest)) {
		const char *why = "out of memory";
		struct waf_user *u = NULL;

		++lineno;
		if (!line_is_user(&line))
			continue;

		err = line_parse(&u, &line, &why);
		if (!err && waf_users_find(t, u->name)) {
			why = "user listed twice";
			err = EEXIST;
			mem_deref(u);
		}

		if (err) {
			(void)re_snprintf(errbuf, errsz, "%s:%u: %s", path,
					  lineno, why);
			break;
		}

		list_append(&t->users, &u->le, u);
		t->iter_max = max(t->iter_max, u->iter);
	}

	if (!t->iter_max)
		t->iter_max = WAF_PBKDF2_ITER;

	if (err)
		mem_deref(t);
	else
		*up = t;

	return err;
}


/**
 * Load a users file (at most 1 MiB)
 *
 * @param up   Returned table
 * @param path File name
 *
 * @return 0 if success, otherwise errorcode (logged)
 */
int waf_users_load(struct waf_users **up, const char *path)
{
	struct mbuf *mb;
	int err;

	char errbuf[256] = "";

	mb = mbuf_alloc(4096);
	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, WAF_USERS_MAX);
	if (err == ENOENT) {
		/* a fresh install: no logins until imsedge -u adds some */
		log_info("%s: no users file yet (imsedge -u adds users)",
			 path);
		err = waf_users_parse(up, path, "", 0, errbuf,
				      sizeof(errbuf));
	}
	else if (err) {
		log_warn("%s: cannot read the users file: %m", path, err);
	}
	else {
		err = waf_users_parse(up, path, (char *)mb->buf, mb->end,
				      errbuf, sizeof(errbuf));
		if (err)
			log_warn("%s", errbuf[0] ? errbuf : "out of memory");
	}

	mem_deref(mb);

	return err;
}


/**
 * Find a user by name
 *
 * @param u    Table
 * @param name User name
 *
 * @return The user, or NULL
 */
const struct waf_user *waf_users_find(const struct waf_users *u,
				      const char *name)
{
	struct le *le;

	for (le = u ? u->users.head : NULL; le; le = le->next) {
		const struct waf_user *user = le->data;

		if (!str_cmp(user->name, name))
			return user;
	}

	return NULL;
}


static int pbkdf2(uint8_t dk[WAF_DK_LEN], const char *password,
		  const uint8_t *salt, size_t saltlen, uint32_t iter)
{
	int ret;

	ret = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256,
					    (const uint8_t *)password,
					    strlen(password), salt, saltlen,
					    iter, WAF_DK_LEN, dk);

	return ret ? EIO : 0;
}


static double mono(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/**
 * Measure how many PBKDF2 iterations this machine does per second
 * (about 1 ms on a PC, some 20 ms on a router)
 *
 * @return Iterations per second (at least 1)
 */
uint32_t waf_pbkdf2_rate(void)
{
	static const uint8_t salt[WAF_SALT_LEN];
	const uint32_t n = 1000;
	uint8_t dk[WAF_DK_LEN];
	double t0, dt;

	t0 = mono();
	if (pbkdf2(dk, "calibrate", salt, sizeof(salt), n))
		return 1;
	dt = mono() - t0;

	if (dt <= 0 || n / dt > UINT32_MAX)
		return UINT32_MAX;

	return max((uint32_t)(n / dt), 1u);
}


static bool same(const uint8_t *a, const uint8_t *b, size_t n)
{
	volatile uint8_t d = 0;
	size_t i;

	for (i = 0; i < n; i++)
		d |= a[i] ^ b[i];

	return d == 0;
}


/**
 * Check a password. For a NULL user one PBKDF2 with a dummy salt and the
 * table's highest iteration count is still run, so the time an answer
 * takes does not tell which names exist
 *
 * @param u        Table
 * @param user     The user, or NULL (unknown name)
 * @param password The password
 *
 * @return true if it is the user's password
 */
bool waf_user_check(const struct waf_users *u, const struct waf_user *user,
		    const char *password)
{
	static const uint8_t dummy_salt[WAF_SALT_LEN];
	uint8_t dk[WAF_DK_LEN];
	bool ok;

	if (!user) {
		(void)pbkdf2(dk, password ? password : "", dummy_salt,
			     sizeof(dummy_salt),
			     u ? u->iter_max : WAF_PBKDF2_ITER);
		mbedtls_platform_zeroize(dk, sizeof(dk));
		return false;
	}

	ok = password && !pbkdf2(dk, password, user->salt, user->saltlen,
				 user->iter) && same(dk, user->dk, WAF_DK_LEN);

	mbedtls_platform_zeroize(dk, sizeof(dk));

	return ok;
}


/* --- waf_users_set ------------------------------------------------- */

static int user_line(struct mbuf *mb, const char *name, const char *password,
		     const char *impi, const char *impus, uint32_t iter)
{
	uint8_t salt[WAF_SALT_LEN], dk[WAF_DK_LEN];
	char s64[32], d64[48];
	int err;

	err = tls_random(salt, sizeof(salt));
	if (!err)
		err = pbkdf2(dk, password, salt, sizeof(salt), iter);
	if (!err)
		err = jwt_b64_encode(s64, sizeof(s64), salt, sizeof(salt),
				     false);
	if (!err)
		err = jwt_b64_encode(d64, sizeof(d64), dk, sizeof(dk), false);
	if (!err)
		err = mbuf_printf(mb, "%s " HASH_PREFIX "%u$%s$%s %s %s\n",
				  name, iter, s64, d64, impi, impus);

	mbedtls_platform_zeroize(dk, sizeof(dk));

	return err;
}


/* The old text with name's line replaced, or the new line appended */
static int text_merge(struct mbuf *out, const struct pl *old,
		      const char *name, const struct mbuf *newline)
{
	struct pl rest = *old, line, f[1];
	bool done = false;
	size_t n;
	int err = 0;

	while (!err && line_next(&line, &rest)) {
		if (!done && line_is_user(&line)) {
			(void)fields_split(f, 1, &n, &line);
			if (n == 1 && !pl_strcmp(&f[0], name)) {
				err = mbuf_write_mem(out, newline->buf,
						     newline->end);
				done = true;
				continue;
			}
		}

		/* the line as it was, with its CR if it had one */
		err = mbuf_write_mem(out, (const uint8_t *)line.p,
				     (size_t)(rest.p - line.p));
		if (!err && rest.p > line.p && rest.p[-1] != '\n')
			err = mbuf_write_str(out, "\n");
	}

	if (!err && !done)
		err = mbuf_write_mem(out, newline->buf, newline->end);

	return err;
}


static int write_atomic(const char *path, const struct mbuf *mb)
{
	char *tmp = NULL;
	size_t off = 0;
	int fd, err;

	err = re_sdprintf(&tmp, "%s.XXXXXX", path);
	if (err)
		return err;

	fd = mkstemp(tmp);
	if (fd < 0) {
		err = errno;
		goto out;
	}

	err = fchmod(fd, 0600) ? errno : 0;
	while (!err && off < mb->end) {
		ssize_t n = write(fd, mb->buf + off, mb->end - off);

		if (n < 0 && errno != EINTR)
			err = errno;
		else if (n > 0)
			off += (size_t)n;
	}

	if (!err && fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	if (!err && rename(tmp, path))
		err = errno;
	if (err)
		(void)unlink(tmp);

 out:
	mem_deref(tmp);

	return err;
}


static int set_check(const char *name, const char *password,
		     const char *impi, const char *impus, uint32_t iter)
{
	struct waf_user *u = NULL;
	const char *why = "out of memory";
	struct pl line;
	char *text = NULL;
	int err;

	if (!waf_name_valid(name)) {
		log_warn("bad user name (want 1 to 64 of A-Z a-z 0-9 . _ @ + "
			 "-)");
		return EINVAL;
	}

	if (!str_isset(password) || strlen(password) > PASSWORD_MAX) {
		log_warn("the password must be 1 to %u bytes", PASSWORD_MAX);
		return EINVAL;
	}

	if (iter < 1 || iter > WAF_ITER_MAX) {
		log_warn("iterations not in 1..%u", WAF_ITER_MAX);
		return ERANGE;
	}

	/* the line it makes, with a dummy hash, through the parser */
	err = re_sdprintf(&text, "%s " HASH_PREFIX "1$AAAAAAAAAAA$"
			  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA %s %s",
			  name, impi ? impi : "", impus ? impus : "");
	if (err)
		return err;

	pl_set_str(&line, text);
	err = line_parse(&u, &line, &why);
	if (err)
		log_warn("%s", why);

	mem_deref(u);
	mem_deref(text);

	return err;
}


/**
 * Add a user to a users file, or replace the user's line; the other lines
 * (comments too) stay as they are. Written through a temporary file and
 * rename(2), mode 0600. A file that does not parse is left alone
 *
 * @param path       The users file (created if missing)
 * @param name       User name, [A-Za-z0-9._@+-]{1,64}
 * @param password   Password (1 to 1024 bytes)
 * @param impi       The user's IMPI
 * @param impus      Comma-separated IMPUs (sip:, sips:, tel:; up to 16)
 * @param iterations PBKDF2 iterations (0: WAF_PBKDF2_ITER)
 *
 * @return 0 if success, otherwise errorcode (the reason is logged)
 */
int waf_users_set(const char *path, const char *name, const char *password,
		  const char *impi, const char *impus, uint32_t iterations)
{
	struct mbuf *old = NULL, *out = NULL, *nl = NULL;
	struct waf_users *t = NULL;
	char errbuf[256] = "";
	struct pl pl;
	int err;

	if (!path)
		return EINVAL;

	if (!iterations)
		iterations = WAF_PBKDF2_ITER;

	err = set_check(name, password, impi, impus, iterations);
	if (err)
		return err;

	old = mbuf_alloc(4096);
	out = mbuf_alloc(4096);
	nl = mbuf_alloc(256);
	if (!old || !out || !nl) {
		err = ENOMEM;
		goto out;
	}

	err = file_read(old, path, WAF_USERS_MAX);
	if (err == ENOENT)
		err = 0;
	else if (err)
		log_warn("%s: cannot read: %m", path, err);
	if (!err) {
		err = waf_users_parse(&t, path, (char *)old->buf, old->end,
				      errbuf, sizeof(errbuf));
		if (err)
			log_warn("%s (file left unchanged)", errbuf);
	}
	if (err)
		goto out;

	pl.p = (const char *)old->buf;
	pl.l = old->end;

	err = user_line(nl, name, password, impi, impus, iterations);
	if (!err)
		err = text_merge(out, &pl, name, nl);
	if (!err)
		err = write_atomic(path, out);
	if (err)
		log_warn("%s: cannot write: %m", path, err);

 out:
	mem_deref(t);
	mem_deref(old);
	mem_deref(out);
	mem_deref(nl);

	return err;
}


/**
 * Check a users file as loading it would (imsedge -t); a missing file
 * is fine (no logins yet)
 *
 * @param path   File name
 * @param errbuf Returned "FILE:LINE: why" or "FILE: why" on failure
 * @param errsz  Size of errbuf
 *
 * @return 0 if it loads, otherwise errorcode
 */
int waf_users_check(const char *path, char *errbuf, size_t errsz)
{
	struct waf_users *u = NULL;
	struct mbuf *mb;
	int err;

	if (!path || !errbuf || !errsz)
		return EINVAL;

	errbuf[0] = '\0';
	mb = mbuf_alloc(4096);
	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, WAF_USERS_MAX);
	if (err == ENOENT)
		err = 0;
	else if (err)
		(void)re_snprintf(errbuf, errsz, "%s: cannot read: %m", path,
				  err);
	else
		err = waf_users_parse(&u, path, (char *)mb->buf, mb->end,
				      errbuf, errsz);

	mem_deref(u);
	mem_deref(mb);
	return err;
}

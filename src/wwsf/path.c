/**
 * @file path.c  Request-target to file under the page root
 *
 * Only origin-form targets; the query is dropped; one round of
 * percent-decoding. Refused: NUL and control bytes, backslash, a '%'
 * that decodes to '%' (double encoding), empty segments and any segment
 * starting with '.' ("." "..", dotfiles). The result is resolved with
 * realpath() and must lie under the resolved root, so a symlink that
 * leads out of the root is refused too.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "wwsf.h"
#include "wwsf_int.h"


static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;

	return -1;
}


/* Path part of the target, percent-decoded once, into dec */
static int target_decode(char *dec, size_t sz, const struct pl *t)
{
	size_t i, n = 0;

	if (!t->p || !t->l || t->p[0] != '/')
		return EINVAL;

	for (i = 0; i < t->l && t->p[i] != '?'; i++) {
		int c = (uint8_t)t->p[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= t->l)
				return EINVAL;

			hi = hexval(t->p[i + 1]);
			lo = hexval(t->p[i + 2]);
			if (hi < 0 || lo < 0)
				return EINVAL;

			c = hi << 4 | lo;
			i += 2;

			if (c == '%')
				return EINVAL;   /* double encoding */
		}

		if (c < 0x20 || c == 0x7f || c == '\\' || c == '#')
			return EINVAL;

		if (n + 1 >= sz)
			return ENAMETOOLONG;

		dec[n++] = (char)c;
	}

	dec[n] = '\0';

	return 0;
}


/* No empty segment (but a trailing '/'), none starting with '.' */
static int segments_check(const char *dec)
{
	const char *p = dec;

	while (*p == '/') {
		++p;

		if (*p == '\0')
			return 0;

		if (*p == '/')
			return EINVAL;

		if (*p == '.')
			return EACCES;

		p += strcspn(p, "/");
	}

	return 0;
}


static bool under(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return path[0] == '/';

	return !strncmp(path, root, n) && path[n] == '/';
}


/**
 * Map a request-target to a regular file under the page root
 *
 * @param root   Page directory
 * @param target Request-target from the request line (path and query)
 * @param path   Returned resolved file path
 * @param sz     Size of path
 *
 * @return 0 if success; EINVAL for a malformed or hostile target,
 *         ENAMETOOLONG if too long, EACCES for a refused segment or a
 *         file outside the root, EISDIR for a directory named without
 *         its trailing '/', ENOENT if there is no such file
 */
int wwsf_path_map(const char *root, const struct pl *target, char *path,
		  size_t sz)
{
	char dec[WWSF_PATH_MAX], full[PATH_MAX];
	char rroot[PATH_MAX], real[PATH_MAX];
	struct stat st;
	size_t n;
	int err;

	if (!root || !target || !path || !sz)
		return EINVAL;

	err = target_decode(dec, sizeof(dec), target);
	if (err)
		return err;

	err = segments_check(dec);
	if (err)
		return err;

	n = strlen(dec);
	if (re_snprintf(full, sizeof(full), "%s%s%s", root, dec,
			dec[n - 1] == '/' ? "index.html" : "") < 0)
		return ENAMETOOLONG;

	if (!realpath(root, rroot) || !realpath(full, real))
		return ENOENT;

	if (!under(rroot, real))
		return EACCES;

	if (stat(real, &st))
		return ENOENT;

	if (S_ISDIR(st.st_mode))
		return dec[n - 1] == '/' ? ENOENT : EISDIR;

	if (!S_ISREG(st.st_mode))
		return ENOENT;

	if (str_len(real) >= sz)
		return ENAMETOOLONG;

	str_ncpy(path, real, sz);

	return 0;
}

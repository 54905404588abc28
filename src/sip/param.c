/**
 * @file param.c  The one scanner of quoted strings, parameters and
 *                numbers in SIP header values (RFC 3261 25.1, 20)
 *
 * Every place that reads a parameter of a header (auth-params of
 * Authorization, header params of Contact) reads it here, so two
 * readings of one header cannot disagree. A value that does not scan
 * (an unterminated quoted string, text after a value, an empty name)
 * is EBADMSG: the caller refuses the message rather than guess.
 */
#include <string.h>
#include <re.h>
#include "sipx.h"


/**
 * Tell whether a character is linear whitespace (SP, HTAB, or the CR and
 * LF of a fold; RFC 3261 25.1)
 *
 * @param c Character
 *
 * @return true if it is
 */
bool sipx_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


/* RFC 3261 25.1 token characters */
static bool is_token(char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;

	return c && strchr("-.!%*_+`'~", c) != NULL;
}


/**
 * Tell whether a string is a non-empty RFC 3261 token (header names,
 * methods, parameter names)
 *
 * @param pl String
 *
 * @return true if a token
 */
bool sipx_token(const struct pl *pl)
{
	size_t i;

	if (!pl || !pl->l)
		return false;

	for (i = 0; i < pl->l; i++) {
		if (!is_token(pl->p[i]))
			return false;
	}

	return true;
}


/**
 * Length of the quoted string at the start of a text, quotes included:
 * a backslash escapes the next character, whatever it is
 *
 * @param p Text, p[0] must be '"'
 * @param n Length
 *
 * @return Length up to and including the closing quote, 0 if p does not
 *         start a quoted string, it is not terminated or it spans lines
 */
size_t sipx_qstr_len(const char *p, size_t n)
{
	size_t i;

	if (!p || !n || p[0] != '"')
		return 0;

	for (i = 1; i < n; i++) {
		if (p[i] == '\\') {
			if (++i == n)
				return 0;
			if (p[i] == '\r' || p[i] == '\n')
				return 0;   /* quoted-pair excludes CR, LF */
		}
		else if (p[i] == '"') {
			return i + 1;
		}
		else if (p[i] == '\r' || p[i] == '\n') {
			return 0;   /* no line fold inside: one line each */
		}
	}

	return 0;
}


/**
 * Skip the linear whitespace at the start of a text
 *
 * @param pl Text, advanced
 */
void sipx_skip_lws(struct pl *pl)
{
	while (pl->l && sipx_is_lws(pl->p[0]))
		pl_advance(pl, 1);
}


/* A value: a quoted string, or characters up to blanks or sep */
static int value_scan(struct pl *rest, char sep, struct pl *val)
{
	size_t n;

	if (rest->l && rest->p[0] == '"') {
		n = sipx_qstr_len(rest->p, rest->l);
		if (!n)
			return EBADMSG;
	}
	else {
		for (n = 0; n < rest->l; n++) {
			char c = rest->p[n];

			if (sipx_is_lws(c) || c == sep)
				break;
			if (c == '"' || c == '\\' || (unsigned char)c < 0x20)
				return EBADMSG;
		}
	}

	if (!n)
		return EBADMSG;

	val->p = rest->p;
	val->l = n;
	pl_advance(rest, n);

	return 0;
}


/**
 * Scan the next parameter of a list: "a=1, b="x", c" (sep ',', the
 * auth-params of a credential) or ";a=1;b" (sep ';', header or URI
 * parameters)
 *
 * @param rest Text left; advanced past the parameter
 * @param sep  Separator
 * @param name Returned name (a token)
 * @param val  Returned value as written (quotes kept), unset if none
 *
 * @return 0 if one was scanned, ENOENT at the end, EBADMSG if malformed
 */
int sipx_param_next(struct pl *rest, char sep, struct pl *name,
		    struct pl *val)
{
	int err;

	if (!rest || !name || !val)
		return EINVAL;

	do {
		sipx_skip_lws(rest);
		if (!rest->l)
			return ENOENT;
		if (rest->p[0] != sep)
			break;
		pl_advance(rest, 1);
	} while (sep == ',');   /* empty list elements are allowed */

	sipx_skip_lws(rest);

	name->p = rest->p;
	name->l = 0;
	while (name->l < rest->l && is_token(rest->p[name->l]))
		++name->l;
	if (!name->l)
		return EBADMSG;
	pl_advance(rest, name->l);

	*val = pl_null;
	sipx_skip_lws(rest);
	if (rest->l && rest->p[0] == '=') {
		pl_advance(rest, 1);
		sipx_skip_lws(rest);
		err = value_scan(rest, sep, val);
		if (err)
			return err;
		sipx_skip_lws(rest);
	}

	if (rest->l && rest->p[0] != sep)
		return EBADMSG;

	return 0;
}


/**
 * Find a parameter by name (case-insensitive) in a whole list; the
 * list must scan to its end
 *
 * @param params List (see sipx_param_next)
 * @param sep    Separator
 * @param name   Name
 * @param val    Returned value of its first occurrence
 *
 * @return 0 if found, ENOENT if not, EBADMSG if the list is malformed
 */
int sipx_param_get(const struct pl *params, char sep, const char *name,
		   struct pl *val)
{
	struct pl rest, n, v;
	bool found = false;
	int err;

	if (!params || !name || !val)
		return EINVAL;

	rest = *params;
	while (!(err = sipx_param_next(&rest, sep, &n, &v))) {
		if (!found && !pl_strcasecmp(&n, name)) {
			*val = v;
			found = true;
		}
	}

	if (err != ENOENT)
		return err;

	return found ? 0 : ENOENT;
}


/**
 * Split a credentials or challenge value into its scheme and the rest
 *
 * @param hval   Header value, e.g. Digest username="a", realm="b"
 * @param scheme Returned scheme (a token)
 * @param params Returned text after the scheme (auth-params or token68)
 *
 * @return 0 if success, EBADMSG if there is no scheme
 */
int sipx_auth_split(const struct pl *hval, struct pl *scheme,
		    struct pl *params)
{
	struct pl v;

	if (!hval || !scheme || !params)
		return EINVAL;

	v = *hval;
	sipx_skip_lws(&v);

	scheme->p = v.p;
	scheme->l = 0;
	while (scheme->l < v.l && is_token(v.p[scheme->l]))
		++scheme->l;

	if (!scheme->l || (scheme->l < v.l && !sipx_is_lws(v.p[scheme->l])))
		return EBADMSG;

	pl_advance(&v, scheme->l);
	sipx_skip_lws(&v);
	*params = v;

	return 0;
}


/**
 * Read a decimal number that must fit 32 bits: digits only, no sign,
 * no blanks, no wrap
 *
 * @param pl Text
 * @param v  Returned value
 *
 * @return 0 if success, EBADMSG if not digits, ERANGE if too large
 */
int sipx_u32(const struct pl *pl, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!pl || !v)
		return EINVAL;

	if (!pl->l)
		return EBADMSG;

	for (i = 0; i < pl->l; i++) {
		if (pl->p[i] < '0' || pl->p[i] > '9')
			return EBADMSG;
	}

	for (i = 0; i < pl->l; i++) {
		x = x * 10 + (uint64_t)(pl->p[i] - '0');
		if (x > UINT32_MAX)
			return ERANGE;
	}

	*v = (uint32_t)x;
	return 0;
}

/**
 * @file addr.c  name-addr and addr-spec header values (From, To, Contact;
 *               RFC 3261 20.10, 25.1) checked beyond libre's parser
 */
#include <string.h>
#include <re.h>
#include "sipx.h"


/* display-name = *(token LWS) / quoted-string: unquoted, only tokens */
static bool words_valid(const char *p, size_t n)
{
	struct pl w;

	while (n) {
		while (n && sipx_is_lws(*p)) {
			++p;
			--n;
		}
		w.p = p;
		w.l = 0;
		while (w.l < n && !sipx_is_lws(p[w.l]))
			++w.l;
		if (w.l && !sipx_token(&w))
			return false;
		p += w.l;
		n -= w.l;
	}

	return true;
}


/* "<" addr-spec ">": nothing empty, no whitespace inside (LAQUOT and
   RAQUOT take it only outside) */
static int angle(struct pl *v)
{
	size_t i;

	for (i = 1; i < v->l && v->p[i] != '>'; i++) {
		if (sipx_is_lws(v->p[i]) || v->p[i] == '<')
			return EBADMSG;
	}

	if (i >= v->l || i == 1)
		return EBADMSG;

	pl_advance(v, i + 1);
	return 0;
}


/* addr-spec without brackets ends at the first ';' (header parameters
   follow) and cannot hold a comma or a '?' (RFC 3261 20.10, RFC 4475
   3.1.2.14 regbadct) */
static int bare(struct pl *v)
{
	size_t i;

	for (i = 0; i < v->l && v->p[i] != ';'; i++) {
		if (v->p[i] == '?' || v->p[i] == ',' || v->p[i] == '"' ||
		    v->p[i] == '<' || v->p[i] == '>')
			return EBADMSG;
		if (sipx_is_lws(v->p[i]))
			break;
	}

	if (!i)
		return EBADMSG;

	pl_advance(v, i);
	return 0;
}


static int params(struct pl *v)
{
	struct pl name, val;
	int err;

	sipx_skip_lws(v);
	if (!v->l)
		return 0;

	if (v->p[0] != ';')
		return EBADMSG;

	while (!(err = sipx_param_next(v, ';', &name, &val)))
		;

	return err == ENOENT ? 0 : err;
}


/**
 * Check a From, To or Contact value: display name (quoted, or tokens),
 * the address in angle brackets or bare, header parameters that scan
 * (RFC 4475 3.1.2.13 badinv01, 3.1.2.14 regbadct, 3.1.2.15 badaspec,
 * 3.3.? baddn); a Contact of "*" passes
 *
 * @param val Header value
 *
 * @return 0 if valid, EBADMSG if not
 */
int sipx_addr_check(const struct pl *val)
{
	struct pl v;
	size_t i;
	int err;

	if (!val)
		return EINVAL;

	v = *val;
	sipx_skip_lws(&v);
	if (v.l == 1 && v.p[0] == '*')
		return 0;

	if (v.l && v.p[0] == '"') {
		size_t q = sipx_qstr_len(v.p, v.l);

		if (!q)
			return EBADMSG;
		pl_advance(&v, q);
		sipx_skip_lws(&v);
		if (!v.l || v.p[0] != '<')
			return EBADMSG;
		err = angle(&v);
	}
	else {
		for (i = 0; i < v.l && v.p[i] != '<' && v.p[i] != ';' &&
			     v.p[i] != '"'; i++)
			;

		if (i < v.l && v.p[i] == '<') {
			if (!words_valid(v.p, i))
				return EBADMSG;
			pl_advance(&v, i);
			err = angle(&v);
		}
		else {
			err = bare(&v);
		}
	}

	return err ? err : params(&v);
}

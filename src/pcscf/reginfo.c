/**
 * @file reginfo.c  A small, bounded reader of application/reginfo+xml
 *                  (RFC 3680 5.4): each <contact> of each <registration>
 *                  with the states the reg event reports
 *
 * Not an XML parser: a scanner of tags and attributes that knows what a
 * reginfo document holds (reginfo > registration > contact > uri) and
 * ignores the rest (the XML declaration, comments, unknown elements and
 * namespaces; element names are matched without their prefix). Nothing
 * is copied: the results point into the body. Bounded in depth,
 * elements and size; a document it cannot read is EBADMSG.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "pcscf.h"
#include "pcscf_int.h"

enum {
	BODY_MAX  = 65536,
	DEPTH_MAX = 16,
	ELEM_MAX  = 2048,
};

struct scan {
	struct pl rest;
	unsigned depth;
	unsigned elems;
};


static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}


static void skip_space(struct pl *pl)
{
	while (pl->l && is_space(pl->p[0]))
		pl_advance(pl, 1);
}


/* Skip past the first occurrence of s; false if there is none */
static bool skip_past(struct pl *pl, const char *s)
{
	size_t n = strlen(s);

	while (pl->l >= n) {
		if (!memcmp(pl->p, s, n)) {
			pl_advance(pl, n);
			return true;
		}
		pl_advance(pl, 1);
	}

	return false;
}


/* The local part of a (possibly prefixed) name */
static bool name_is(const struct pl *name, const char *local)
{
	struct pl n = *name;
	const char *colon = pl_strchr(&n, ':');

	if (colon)
		pl_advance(&n, colon + 1 - n.p);

	return !pl_strcmp(&n, local);
}


/** One tag */
struct tag {
	struct pl name;
	struct pl attrs;     /* between the name and '>' or '/>'         */
	bool end;            /* </name>                                  */
	bool empty;          /* <name/>                                  */
};


/* The next tag; text before it is skipped. ENOENT at the end. */
static int next_tag(struct scan *s, struct tag *t)
{
	struct pl *r = &s->rest;
	const char *p;
	char q = 0;

	for (;;) {
		if (!skip_past(r, "<"))
			return ENOENT;

		if (r->l >= 3 && !memcmp(r->p, "!--", 3)) {
			if (!skip_past(r, "-->"))
				return EBADMSG;
			continue;
		}
		if (r->l && (r->p[0] == '?' || r->p[0] == '!')) {
			if (!skip_past(r, ">"))
				return EBADMSG;
			continue;
		}
		break;
	}

	if (++s->elems > ELEM_MAX)
		return EOVERFLOW;

	memset(t, 0, sizeof(*t));
	if (r->l && r->p[0] == '/') {
		t->end = true;
		pl_advance(r, 1);
	}

	t->name.p = r->p;
	while (r->l && !is_space(r->p[0]) && r->p[0] != '>' &&
	       r->p[0] != '/')
		pl_advance(r, 1);
	t->name.l = r->p - t->name.p;
	if (!t->name.l)
		return EBADMSG;

	t->attrs.p = r->p;
	for (p = r->p; p < r->p + r->l; p++) {
		if (q) {
			if (*p == q)
				q = 0;
		}
		else if (*p == '"' || *p == '\'') {
			q = *p;
		}
		else if (*p == '>') {
			break;
		}
	}
	if (p == r->p + r->l)
		return EBADMSG;

	t->attrs.l = p - r->p;
	if (t->attrs.l && p[-1] == '/') {
		t->empty = true;
		--t->attrs.l;
	}
	pl_advance(r, p + 1 - r->p);

	return 0;
}


/**
 * The value of an attribute of a tag (without its quotes)
 *
 * @param attrs Attribute text of a tag
 * @param name  Attribute name
 * @param val   Returned value
 *
 * @return 0 if found, otherwise ENOENT
 */
static int attr(const struct pl *attrs, const char *name, struct pl *val)
{
	struct pl r = *attrs;

	for (;;) {
		struct pl n, v;
		char q;

		skip_space(&r);
		if (!r.l)
			return ENOENT;

		n.p = r.p;
		while (r.l && r.p[0] != '=' && !is_space(r.p[0]))
			pl_advance(&r, 1);
		n.l = r.p - n.p;
		skip_space(&r);
		if (!r.l || r.p[0] != '=')
			return ENOENT;
		pl_advance(&r, 1);
		skip_space(&r);
		if (!r.l || (r.p[0] != '"' && r.p[0] != '\''))
			return ENOENT;

		q = r.p[0];
		pl_advance(&r, 1);
		v.p = r.p;
		while (r.l && r.p[0] != q)
			pl_advance(&r, 1);
		if (!r.l)
			return ENOENT;
		v.l = r.p - v.p;
		pl_advance(&r, 1);

		if (!pl_strcmp(&n, name)) {
			*val = v;
			return 0;
		}
	}
}


/* The text of <uri>...</uri>, the tag just read */
static int uri_text(struct scan *s, struct pl *uri)
{
	struct pl *r = &s->rest;
	const char *lt = pl_strchr(r, '<');

	if (!lt)
		return EBADMSG;

	uri->p = r->p;
	uri->l = lt - r->p;
	pl_advance(r, uri->l);

	while (uri->l && is_space(uri->p[0]))
		pl_advance(uri, 1);
	while (uri->l && is_space(uri->p[uri->l - 1]))
		--uri->l;

	return 0;
}


/* A <contact>: its states, then its <uri> */
static int contact(struct scan *s, const struct tag *ct,
		   struct reginfo_contact *c, reginfo_contact_h *h, void *arg)
{
	struct tag t;
	unsigned depth = 0;
	int err;

	c->state = c->event = c->uri = pl_null;
	(void)attr(&ct->attrs, "state", &c->state);
	(void)attr(&ct->attrs, "event", &c->event);

	if (ct->empty)
		goto out;

	while (!(err = next_tag(s, &t))) {
		if (t.end) {
			if (!depth)
				break;
			--depth;
			continue;
		}

		if (!t.empty && ++depth > DEPTH_MAX)
			return EOVERFLOW;

		if (name_is(&t.name, "uri") && !t.empty && depth == 1) {
			err = uri_text(s, &c->uri);
			if (err)
				return err;
		}
	}
	if (err)
		return err == ENOENT ? EBADMSG : err;

 out:
	if (!pl_isset(&c->uri))
		return 0;

	return h(c, arg) ? ECANCELED : 0;
}


/**
 * Read a reginfo document: call h for each contact that has a URI, and
 * once with no URI for a registration that lists no contact
 *
 * @param body Document
 * @param h    Contact handler (return true to stop)
 * @param arg  Handler argument
 *
 * @return 0 if read, ECANCELED if stopped, EBADMSG if it is not
 *         reginfo, EOVERFLOW if over the limits
 */
int reginfo_decode(const struct pl *body, reginfo_contact_h *h, void *arg)
{
	struct reginfo_contact c;
	struct scan s;
	struct tag t;
	bool root = false;
	unsigned nct = 0;
	int err;

	if (!body || !h)
		return EINVAL;
	if (body->l > BODY_MAX)
		return EOVERFLOW;

	memset(&s, 0, sizeof(s));
	memset(&c, 0, sizeof(c));
	s.rest = *body;

	while (!(err = next_tag(&s, &t))) {
		if (!root) {
			if (t.end || !name_is(&t.name, "reginfo"))
				return EBADMSG;
			root = true;
			(void)attr(&t.attrs, "state", &c.doc_state);
			continue;
		}

		if (name_is(&t.name, "registration")) {
			if (!t.end) {
				c.aor = c.reg_state = pl_null;
				nct = 0;
				(void)attr(&t.attrs, "aor", &c.aor);
				(void)attr(&t.attrs, "state", &c.reg_state);
				if (!pl_isset(&c.aor))
					return EBADMSG;
			}

			/* a registration without contacts: once, with
			   no URI */
			if ((t.end || t.empty) && pl_isset(&c.aor) && !nct) {
				c.state = c.event = c.uri = pl_null;
				if (h(&c, arg))
					return ECANCELED;
			}
			if (t.end || t.empty)
				c.aor = c.reg_state = pl_null;
		}
		else if (name_is(&t.name, "contact") && !t.end) {
			if (!pl_isset(&c.aor))
				return EBADMSG;
			++nct;
			err = contact(&s, &t, &c, h, arg);
			if (err)
				return err;
		}
	}

	if (err != ENOENT)
		return err;

	return root ? 0 : EBADMSG;
}

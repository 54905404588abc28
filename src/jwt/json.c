/**
 * @file json.c  Strict JSON for tokens and login bodies: a validator in
 *               front of libre's decoder, and a string escaper
 *
 * libre's json_decode() is forgiving: it ignores what follows the top
 * object, takes "TRUE" and `"a"b"` as values, keeps the first of two
 * equal keys and drops lone UTF-16 surrogates. In front of a signature
 * check that invites two readers of one token to see different claims,
 * so the text is first checked against RFC 8259 here (one object, nothing
 * after it, no control characters, valid UTF-8, no "\u0000", bounded
 * numbers and depth), then decoded by libre, then checked for duplicate
 * keys.
 */
#include <stddef.h>
#include <string.h>
#include <re.h>
#include "jwt.h"

enum {
	JSON_DEPTH    = 8,     /* nesting: tokens and bodies need 2       */
	JSON_DIGITS   = 18,    /* an int64 without overflow               */
	JSON_EXPDIGIT = 3,     /* exponent digits                         */
	JSON_HASH     = 8,     /* odict hash buckets                      */
};

struct scan {
	const char *p;
	const char *end;
};

static int scan_value(struct scan *s, unsigned depth);


static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
				 *s->p == '\r' || *s->p == '\n'))
		++s->p;
}


static bool take(struct scan *s, char ch)
{
	if (s->p < s->end && *s->p == ch) {
		++s->p;
		return true;
	}

	return false;
}


static int hex4(struct scan *s, unsigned *u)
{
	unsigned i;

	*u = 0;

	if (s->end - s->p < 4)
		return EBADMSG;

	for (i = 0; i < 4; i++) {
		char ch = *s->p++;

		if (ch >= '0' && ch <= '9')
			*u = *u << 4 | (unsigned)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			*u = *u << 4 | (unsigned)(ch - 'a' + 10);
		else if (ch >= 'A' && ch <= 'F')
			*u = *u << 4 | (unsigned)(ch - 'A' + 10);
		else
			return EBADMSG;
	}

	return 0;
}


/* After the backslash: one escape, surrogates only in pairs, no NUL */
static int scan_escape(struct scan *s)
{
	unsigned u, lo;

	if (s->p >= s->end)
		return EBADMSG;

	switch (*s->p++) {

	case '"': case '\\': case '/':
	case 'b': case 'f': case 'n': case 'r': case 't':
		return 0;

	case 'u':
		break;

	default:
		return EBADMSG;
	}

	if (hex4(s, &u) || u == 0 || (u >= 0xdc00 && u <= 0xdfff))
		return EBADMSG;

	if (u < 0xd800 || u > 0xdbff)
		return 0;

	if (!take(s, '\\') || !take(s, 'u') || hex4(s, &lo))
		return EBADMSG;

	return (lo >= 0xdc00 && lo <= 0xdfff) ? 0 : EBADMSG;
}


/* One UTF-8 sequence of 2 to 4 bytes, lead byte at s->p */
static int scan_utf8(struct scan *s)
{
	const uint8_t c = (uint8_t)*s->p++;
	unsigned n, i;

	if (c >= 0xc2 && c <= 0xdf)
		n = 1;
	else if (c >= 0xe0 && c <= 0xef)
		n = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 3;
	else
		return EBADMSG;

	if (s->end - s->p < (ptrdiff_t)n)
		return EBADMSG;

	for (i = 0; i < n; i++) {
		if (((uint8_t)s->p[i] & 0xc0) != 0x80)
			return EBADMSG;
	}

	/* overlong three and four byte forms, UTF-16 surrogates, > U+10FFFF */
	if ((c == 0xe0 && (uint8_t)s->p[0] < 0xa0) ||
	    (c == 0xed && (uint8_t)s->p[0] > 0x9f) ||
	    (c == 0xf0 && (uint8_t)s->p[0] < 0x90) ||
	    (c == 0xf4 && (uint8_t)s->p[0] > 0x8f))
		return EBADMSG;

	s->p += n;

	return 0;
}


static int scan_string(struct scan *s)
{
	int err;

	if (!take(s, '"'))
		return EBADMSG;

	while (s->p < s->end) {
		const uint8_t c = (uint8_t)*s->p;

		if (c == '"') {
			++s->p;
			return 0;
		}

		if (c < 0x20)
			return EBADMSG;

		if (c == '\\') {
			++s->p;
			err = scan_escape(s);
		}
		else if (c >= 0x80) {
			err = scan_utf8(s);
		}
		else {
			++s->p;
			err = 0;
		}

		if (err)
			return err;
	}

	return EBADMSG;
}


static size_t digits(struct scan *s)
{
	size_t n = 0;

	while (s->p < s->end && *s->p >= '0' && *s->p <= '9') {
		++s->p;
		++n;
	}

	return n;
}


static int scan_number(struct scan *s)
{
	size_t n;

	(void)take(s, '-');

	if (take(s, '0')) {
		if (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			return EBADMSG;
	}
	else {
		n = digits(s);
		if (n < 1 || n > JSON_DIGITS)
			return EBADMSG;
	}

	if (take(s, '.')) {
		n = digits(s);
		if (n < 1 || n > JSON_DIGITS)
			return EBADMSG;
	}

	if (take(s, 'e') || take(s, 'E')) {
		if (!take(s, '+'))
			(void)take(s, '-');
		n = digits(s);
		if (n < 1 || n > JSON_EXPDIGIT)
			return EBADMSG;
	}

	return 0;
}


static int scan_word(struct scan *s, const char *w)
{
	size_t n = str_len(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n))
		return EBADMSG;

	s->p += n;

	return 0;
}


/* An object or an array, from its '{' or '[' to close ('}' or ']'); in
   an object each value comes after a string key and ':' */
static int scan_container(struct scan *s, unsigned depth, char close)
{
	int err;

	++s->p;
	if (depth >= JSON_DEPTH)
		return EBADMSG;

	skip_ws(s);
	if (take(s, close))
		return 0;

	for (;;) {
		if (close == '}') {
			skip_ws(s);
			err = scan_string(s);
			if (err)
				return err;

			skip_ws(s);
			if (!take(s, ':'))
				return EBADMSG;
		}

		err = scan_value(s, depth + 1);
		if (err)
			return err;

		skip_ws(s);
		if (take(s, close))
			return 0;
		if (!take(s, ','))
			return EBADMSG;
	}
}


static int scan_value(struct scan *s, unsigned depth)
{
	skip_ws(s);

	if (s->p >= s->end)
		return EBADMSG;

	switch (*s->p) {

	case '{': return scan_container(s, depth, '}');
	case '[': return scan_container(s, depth, ']');
	case '"': return scan_string(s);
	case 't': return scan_word(s, "true");
	case 'f': return scan_word(s, "false");
	case 'n': return scan_word(s, "null");
	default:  return scan_number(s);
	}
}


/* Every key of every object once */
static bool keys_unique(const struct odict *o, bool is_object)
{
	struct le *le;

	for (le = o->lst.head; le; le = le->next) {
		const struct odict_entry *e = le->data;

		if (is_object && odict_lookup(o, e->key) != e)
			return false;

		if (odict_type_iscontainer(e->type) &&
		    !keys_unique(e->u.odict, e->type == ODICT_OBJECT))
			return false;
	}

	return true;
}


/**
 * Decode a JSON text that must be exactly one object, strictly
 *
 * @param op  Returned dictionary
 * @param str The text (need not be NUL-terminated)
 * @param len Its length
 *
 * @return 0 if success, EBADMSG if it is not one valid JSON object,
 *         otherwise errorcode
 */
int jwt_json_decode(struct odict **op, const char *str, size_t len)
{
	struct scan s;
	struct odict *o;
	int err;

	if (!op || !str)
		return EINVAL;

	s.p = str;
	s.end = str + len;

	skip_ws(&s);
	if (s.p >= s.end || *s.p != '{')
		return EBADMSG;

	err = scan_value(&s, 0);
	if (err)
		return err;

	skip_ws(&s);
	if (s.p != s.end)
		return EBADMSG;

	err = json_decode_odict(&o, JSON_HASH, str, len, JSON_DEPTH + 1);
	if (err)
		return err;

	if (!keys_unique(o, true)) {
		mem_deref(o);
		return EBADMSG;
	}

	*op = o;

	return 0;
}


/**
 * Print a string as a JSON string literal, quotes included
 *
 * @param pf  Print function
 * @param str NUL-terminated string (NULL prints null)
 *
 * @return 0 if success, otherwise errorcode
 */
int jwt_json_str(struct re_printf *pf, const char *str)
{
	const char *p, *run;
	int err;

	if (!str)
		return re_hprintf(pf, "null");

	err = re_hprintf(pf, "\"");

	for (p = run = str; *p && !err; p++) {
		const uint8_t c = (uint8_t)*p;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;

		err = re_hprintf(pf, "%b", run, (size_t)(p - run));
		if (err)
			break;

		if (c == '"' || c == '\\')
			err = re_hprintf(pf, "\\%c", c);
		else
			err = re_hprintf(pf, "\\u%04x", c);

		run = p + 1;
	}

	if (!err)
		err = re_hprintf(pf, "%b\"", run, (size_t)(p - run));

	return err;
}

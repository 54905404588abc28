/**
 * @file pool.c  Guest identity pools: templates like
 *               sip:guest{1-50}@ims.test and the leases of their
 *               identities
 *
 * A lease holds one identity for the life of one token (its jti) and
 * ends when that token expires, when a refresh moves it to the new token,
 * or when the eP-CSCF reports the identity deregistered. Leases are kept
 * sorted by index, so the lowest free identity is the first gap; expired
 * ones are dropped whenever the pool is looked at, and there are never
 * more leases than identities.
 */
#include <string.h>
#include <re.h>
#include "waf.h"
#include "waf_int.h"

/** One leased identity */
struct lease {
	struct le le;
	uint32_t idx;
	int64_t expires;
	char jti[WAF_JTI_LEN];
};


static bool scheme_ok(const struct pl *pre)
{
	static const char *schemes[] = {"sip:", "sips:", "tel:"};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(schemes); i++) {
		size_t n = strlen(schemes[i]);

		if (pre->l >= n && !strncasecmp(pre->p, schemes[i], n))
			return true;
	}

	return false;
}


static bool text_ok(const struct pl *pl)
{
	size_t i;

	for (i = 0; i < pl->l; i++) {
		const uint8_t c = (uint8_t)pl->p[i];

		if (c <= 0x20 || c >= 0x7f || strchr("{}\"\\,", c))
			return false;
	}

	return true;
}


static bool number(uint32_t *v, const char *p, size_t n)
{
	size_t i;

	if (n < 1 || n > 6 || (n > 1 && p[0] == '0'))
		return false;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return false;
		*v = *v * 10 + (uint32_t)(p[i] - '0');
	}

	return true;
}


/**
 * Parse a pool template: exactly one {A-B} range, 0 <= A <= B, at most
 * WAF_POOL_MAX identities, a sip:, sips: or tel: URI around it
 *
 * @param t    Returned template (points into tmpl)
 * @param tmpl The template text
 *
 * @return 0 if success, otherwise EINVAL
 */
int waf_tmpl_parse(struct waf_tmpl *t, const char *tmpl)
{
	const char *open, *close, *dash;

	if (!t || !tmpl)
		return EINVAL;

	open = strchr(tmpl, '{');
	close = open ? strchr(open, '}') : NULL;
	if (!open || !close || strchr(close + 1, '{') ||
	    strchr(close + 1, '}'))
		return EINVAL;

	dash = memchr(open, '-', (size_t)(close - open));
	if (!dash ||
	    !number(&t->lo, open + 1, (size_t)(dash - open - 1)) ||
	    !number(&t->hi, dash + 1, (size_t)(close - dash - 1)) ||
	    t->lo > t->hi || t->hi - t->lo >= WAF_POOL_MAX)
		return EINVAL;

	t->pre.p = tmpl;
	t->pre.l = (size_t)(open - tmpl);
	pl_set_str(&t->suf, close + 1);

	if (!scheme_ok(&t->pre) || !text_ok(&t->pre) || !text_ok(&t->suf))
		return EINVAL;

	return 0;
}


/**
 * Check a pool template for the configuration
 *
 * @param tmpl The template, e.g. sip:guest{1-50}@ims.test
 *
 * @return 0 if valid, otherwise EINVAL
 */
int waf_pool_check(const char *tmpl)
{
	struct waf_tmpl t;

	return waf_tmpl_parse(&t, tmpl);
}


/**
 * Find which identity of a template an IMPU is
 *
 * @param t    Template
 * @param impu The IMPU (exact text: no leading zeros, same case)
 * @param idx  Returned number
 *
 * @return true if the IMPU is one of the template's identities
 */
bool waf_tmpl_index(const struct waf_tmpl *t, const char *impu,
		    uint32_t *idx)
{
	size_t n = str_len(impu), mid;

	if (n <= t->pre.l + t->suf.l)
		return false;

	mid = n - t->pre.l - t->suf.l;

	if (memcmp(impu, t->pre.p, t->pre.l) ||
	    memcmp(impu + n - t->suf.l, t->suf.p, t->suf.l))
		return false;

	if (!number(idx, impu + t->pre.l, mid))
		return false;

	return *idx >= t->lo && *idx <= t->hi;
}


/**
 * Tell whether an IMPU is one of a configured pool's identities (D-18)
 *
 * @param pools struct waf_pool_cfg list
 * @param pool  Pool name
 * @param impu  The IMPU
 *
 * @return true if the pool exists and the IMPU is one of its identities
 */
bool waf_pool_match(const struct list *pools, const char *pool,
		    const char *impu)
{
	struct waf_tmpl t;
	uint32_t idx;
	struct le *le;

	for (le = pools ? pools->head : NULL; le; le = le->next) {
		const struct waf_pool_cfg *pc = le->data;

		if (str_cmp(pc->name, pool))
			continue;

		return !waf_tmpl_parse(&t, pc->tmpl) &&
			waf_tmpl_index(&t, impu, &idx);
	}

	return false;
}


static void pool_destructor(void *arg)
{
	struct waf_pool *p = arg;

	list_flush(&p->leases);
	mem_deref(p->name);
	mem_deref(p->tmpl);
}


/**
 * Make a pool from its configuration
 *
 * @param pp  Returned pool
 * @param cfg Name and template
 *
 * @return 0 if success, EINVAL for a bad template, otherwise errorcode
 */
int waf_pool_alloc(struct waf_pool **pp, const struct waf_pool_cfg *cfg)
{
	struct waf_pool *p;
	int err;

	if (!pp || !cfg || !str_isset(cfg->name))
		return EINVAL;

	p = mem_zalloc(sizeof(*p), pool_destructor);
	if (!p)
		return ENOMEM;

	err = str_dup(&p->name, cfg->name);
	if (!err)
		err = str_dup(&p->tmpl, cfg->tmpl);
	if (!err)
		err = waf_tmpl_parse(&p->t, p->tmpl);

	if (err)
		mem_deref(p);
	else
		*pp = p;

	return err;
}


static void lease_destructor(void *arg)
{
	struct lease *l = arg;

	list_unlink(&l->le);
}


static void expire(struct waf_pool *p, int64_t now)
{
	struct le *le = p->leases.head;

	while (le) {
		struct lease *l = le->data;

		le = le->next;
		if (l->expires <= now) {
			mem_deref(l);
			--p->nleases;
		}
	}
}


static struct lease *lease_find(const struct waf_pool *p, uint32_t idx)
{
	struct le *le;

	for (le = p->leases.head; le; le = le->next) {
		struct lease *l = le->data;

		if (l->idx == idx)
			return l;
		if (l->idx > idx)
			break;
	}

	return NULL;
}


/* New lease at idx, before le (NULL: at the end) */
static int lease_add(struct waf_pool *p, struct le *before, uint32_t idx,
		     int64_t expires, const char *jti)
{
	struct lease *l = mem_zalloc(sizeof(*l), lease_destructor);

	if (!l)
		return ENOMEM;

	l->idx = idx;
	l->expires = expires;
	str_ncpy(l->jti, jti, sizeof(l->jti));

	if (before)
		list_insert_before(&p->leases, before, &l->le, l);
	else
		list_append(&p->leases, &l->le, l);

	++p->nleases;

	return 0;
}


/**
 * Lease the lowest free identity of a pool
 *
 * @param p       Pool
 * @param now     Current time
 * @param expires When the lease ends (the token's exp)
 * @param jti     The token the lease is for
 * @param idx     Returned identity number
 * @param retry   Seconds until the soonest lease ends, if the pool is full
 *
 * @return 0 if success, EBUSY if every identity is leased
 */
int waf_pool_lease(struct waf_pool *p, int64_t now, int64_t expires,
		   const char *jti, uint32_t *idx, uint32_t *retry)
{
	uint32_t want;
	int64_t soonest = INT64_MAX;
	struct le *le;

	if (!p || !jti || !idx)
		return EINVAL;

	expire(p, now);

	want = p->t.lo;
	for (le = p->leases.head; le; le = le->next) {
		const struct lease *l = le->data;

		if (l->idx != want)
			break;

		soonest = min(soonest, l->expires);
		if (want == p->t.hi) {
			if (retry)
				*retry = (uint32_t)max(soonest - now, 1);
			return EBUSY;
		}

		++want;
	}

	*idx = want;

	return lease_add(p, le, want, expires, jti);
}


/**
 * Move a lease to a refreshed token; lease the identity again if it is
 * free (expired or released meanwhile)
 *
 * @param p       Pool
 * @param idx     Identity number
 * @param now     Current time
 * @param old_jti The token being refreshed
 * @param jti     The new token
 * @param expires The new token's exp
 *
 * @return 0 if success, EBUSY if another token holds the identity
 */
int waf_pool_renew(struct waf_pool *p, uint32_t idx, int64_t now,
		   const char *old_jti, const char *jti, int64_t expires)
{
	struct lease *l;
	struct le *le;

	if (!p || !old_jti || !jti)
		return EINVAL;

	expire(p, now);

	l = lease_find(p, idx);
	if (l) {
		if (strcmp(l->jti, old_jti))
			return EBUSY;

		l->expires = expires;
		str_ncpy(l->jti, jti, sizeof(l->jti));
		return 0;
	}

	for (le = p->leases.head; le; le = le->next) {
		if (((struct lease *)le->data)->idx > idx)
			break;
	}

	return lease_add(p, le, idx, expires, jti);
}


/**
 * End the lease of an identity
 *
 * @param p   Pool
 * @param idx Identity number
 *
 * @return true if it was leased
 */
bool waf_pool_release(struct waf_pool *p, uint32_t idx)
{
	struct lease *l = p ? lease_find(p, idx) : NULL;

	if (!l)
		return false;

	mem_deref(l);
	--p->nleases;

	return true;
}


/**
 * Tell whether an identity is leased to a token
 *
 * @param p   Pool
 * @param idx Identity number
 * @param now Current time
 * @param jti The token's jti (NULL: to any token)
 *
 * @return true if leased (to that token)
 */
bool waf_pool_leased(struct waf_pool *p, uint32_t idx, int64_t now,
		     const char *jti)
{
	struct lease *l;

	if (!p)
		return false;

	expire(p, now);
	l = lease_find(p, idx);

	return l && (!jti || !strcmp(l->jti, jti));
}


/**
 * Write the IMPU of a pool identity
 *
 * @param buf Buffer
 * @param sz  Its size
 * @param p   Pool
 * @param idx Identity number
 *
 * @return 0 if success, otherwise errorcode
 */
int waf_pool_impu(char *buf, size_t sz, const struct waf_pool *p,
		  uint32_t idx)
{
	if (!buf || !p)
		return EINVAL;

	return re_snprintf(buf, sz, "%r%u%r", &p->t.pre, idx, &p->t.suf) < 0
		? EOVERFLOW : 0;
}

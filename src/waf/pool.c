/**
 * @file pool.c  Guest identity pools: the leases of the identities of a
 *               template like sip:guest{1-50}@ims.test (conf_pool_parse)
 *
 * A lease holds one identity for the life of one token (its jti) and
 * ends when that token expires, when a refresh moves it to the new token
 * of the same holder, or when that token's own end is reported: its
 * binding's end at the eP-CSCF, its logout (D-57). The end of any other
 * token leaves it alone. Leases are kept
 * sorted by index, so the lowest free identity is the first gap; expired
 * ones are dropped whenever the pool is looked at, and there are never
 * more leases than identities.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "waf.h"
#include "waf_int.h"

/** One leased identity */
struct lease {
	struct le le;
	uint32_t idx;
	int64_t expires;
	char jti[WAF_JTI_LEN];
};


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
int waf_pool_alloc(struct waf_pool **pp, const struct conf_pool *cfg)
{
	struct waf_pool *p;
	struct pl tmpl;
	int err;

	if (!pp || !cfg || !str_isset(cfg->name))
		return EINVAL;

	p = mem_zalloc(sizeof(*p), pool_destructor);
	if (!p)
		return ENOMEM;

	err = str_dup(&p->name, cfg->name);
	if (!err)
		err = str_dup(&p->tmpl, cfg->tmpl);
	if (!err) {
		pl_set_str(&tmpl, p->tmpl);
		err = conf_pool_parse(&p->t, &tmpl);
	}

	if (err)
		mem_deref(p);
	else
		*pp = p;

	return err;
}


/**
 * Find which identity of a pool an IMPU is
 *
 * @param p    Pool
 * @param impu The IMPU
 * @param idx  Returned identity number
 *
 * @return true if the IMPU is one of the pool's identities
 */
bool waf_pool_index(const struct waf_pool *p, const char *impu,
		    uint32_t *idx)
{
	struct pl uri;

	pl_set_str(&uri, impu);

	return p && conf_pool_index(&p->t, &uri, idx);
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
 * End the lease of an identity, if the token ending holds it: a lease
 * belongs to one token and no other token's end frees it (D-57)
 *
 * @param p   Pool
 * @param idx Identity number
 * @param jti The token whose end it is (NULL: whoever holds it)
 *
 * @return true if it was leased (to that token) and is free now
 */
bool waf_pool_release(struct waf_pool *p, uint32_t idx, const char *jti)
{
	struct lease *l = p ? lease_find(p, idx) : NULL;

	if (!l || (jti && strcmp(l->jti, jti)))
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

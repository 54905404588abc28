/**
 * @file limit.c  Events per client address in a fixed window (login
 *                failures, guest logins), in a table of bounded size
 *
 * An address that reaches the limit inside its window is blocked until
 * the window, which starts at its first event, has passed. The table
 * holds at most max_entries addresses: a new one first pushes out entries
 * whose window has passed, then the oldest one, so a flood of source
 * addresses costs a fixed amount of memory (and can only make the
 * limiter forget, never grow).
 */
#include <re.h>
#include "../core/conf.h"
#include "waf.h"
#include "waf_int.h"

enum { HASH_BUCKETS = 256 };

struct waf_limiter {
	struct hash *ht;
	struct list order;        /* oldest window first                */
	uint32_t n;
	uint32_t max;
	uint32_t limit;
	uint32_t window;
};

struct entry {
	struct le he;
	struct le le;
	struct sa addr;           /* port 0                             */
	int64_t start;
	uint32_t count;
};


static void entry_destructor(void *arg)
{
	struct entry *e = arg;

	hash_unlink(&e->he);
	list_unlink(&e->le);
}


static void limiter_destructor(void *arg)
{
	struct waf_limiter *l = arg;

	hash_flush(l->ht);
	mem_deref(l->ht);
}


/**
 * Allocate a limiter
 *
 * @param lp          Returned limiter
 * @param max_entries Most addresses remembered
 * @param limit       Events allowed per window
 * @param window      Window length, seconds
 *
 * @return 0 if success, otherwise errorcode
 */
int waf_limiter_alloc(struct waf_limiter **lp, uint32_t max_entries,
		      uint32_t limit, uint32_t window)
{
	struct waf_limiter *l;
	int err;

	if (!lp || !max_entries || !limit || !window)
		return EINVAL;

	l = mem_zalloc(sizeof(*l), limiter_destructor);
	if (!l)
		return ENOMEM;

	err = hash_alloc(&l->ht, HASH_BUCKETS);
	if (err) {
		mem_deref(l);
		return err;
	}

	l->max = max_entries;
	l->limit = limit;
	l->window = window;
	*lp = l;

	return 0;
}


static bool addr_cmp(struct le *le, void *arg)
{
	const struct entry *e = le->data;

	return sa_cmp(&e->addr, arg, SA_ADDR);
}


static struct entry *lookup(struct waf_limiter *l, const struct sa *peer,
			    struct sa *addr)
{
	*addr = *peer;
	sa_set_port(addr, 0);

	return list_ledata(hash_lookup(l->ht, sa_hash(addr, SA_ADDR),
				       addr_cmp, addr));
}


static void drop(struct waf_limiter *l, struct entry *e)
{
	mem_deref(e);
	--l->n;
}


/**
 * Tell whether an address is blocked
 *
 * @param l     Limiter
 * @param peer  Client address (the port is ignored)
 * @param now   Current time
 * @param retry Returned seconds until the block ends
 *
 * @return true if blocked
 */
bool waf_limiter_blocked(struct waf_limiter *l, const struct sa *peer,
			 int64_t now, uint32_t *retry)
{
	struct entry *e;
	struct sa addr;

	if (!l || !peer)
		return false;

	e = lookup(l, peer, &addr);
	if (!e)
		return false;

	if (now >= e->start + l->window) {
		drop(l, e);
		return false;
	}

	if (e->count < l->limit)
		return false;

	if (retry)
		*retry = (uint32_t)max(e->start + l->window - now, 1);

	return true;
}


/**
 * Count an event of an address
 *
 * @param l    Limiter
 * @param peer Client address (the port is ignored)
 * @param now  Current time
 *
 * @return 0 if success, otherwise errorcode
 */
int waf_limiter_hit(struct waf_limiter *l, const struct sa *peer,
		    int64_t now)
{
	struct entry *e;
	struct sa addr;

	if (!l || !peer)
		return EINVAL;

	e = lookup(l, peer, &addr);
	if (e && now < e->start + l->window) {
		++e->count;
		return 0;
	}

	if (e)
		drop(l, e);

	/* make room: passed windows first, then the oldest (the order list
	   is by window start, so both are at its head) */
	while (l->order.head) {
		struct entry *old = list_ledata(l->order.head);

		if (now < old->start + l->window && l->n < l->max)
			break;
		drop(l, old);
	}

	e = mem_zalloc(sizeof(*e), entry_destructor);
	if (!e)
		return ENOMEM;

	e->addr = addr;
	e->start = now;
	e->count = 1;
	hash_append(l->ht, sa_hash(&addr, SA_ADDR), &e->he, e);
	list_append(&l->order, &e->le, e);
	++l->n;

	return 0;
}


/**
 * Count the addresses a limiter remembers
 *
 * @param l Limiter
 *
 * @return Number of entries
 */
uint32_t waf_limiter_count(const struct waf_limiter *l)
{
	return l ? l->n : 0;
}

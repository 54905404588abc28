/**
 * @file budget.c  Process-wide byte budget for peer-controlled buffers
 *
 * W2 sets the limit (config key buffer_budget); 0 means no limit (unit
 * tests, fuzzing). Only holders with bytes taken are on the list, so
 * finding the largest walks the connections that hold a buffer now,
 * not all of them.
 */
#include <re.h>
#include "budget.h"

static struct {
	struct list holders;
	size_t limit;
	size_t used;
	uint64_t refusals;
	uint64_t evictions;
} bg;


/**
 * Set the budget (existing holders keep what they hold)
 *
 * @param limit Bytes, 0 = no limit
 */
void budget_set_limit(size_t limit)
{
	bg.limit = limit;
}


/**
 * The budget
 *
 * @return Bytes, 0 = no limit
 */
size_t budget_limit(void)
{
	return bg.limit;
}


/**
 * Bytes taken now by all holders
 *
 * @return Bytes
 */
size_t budget_used(void)
{
	return bg.used;
}


/**
 * Number of takes refused since start
 *
 * @return Count
 */
uint64_t budget_refusals(void)
{
	return bg.refusals;
}


/**
 * Number of holders evicted to make room since start
 *
 * @return Count
 */
uint64_t budget_evictions(void)
{
	return bg.evictions;
}


/**
 * Prepare a holder
 *
 * @param h      Holder (zeroed, or released)
 * @param evicth Called when another holder needs the room, or NULL
 * @param arg    Handler argument
 */
void budget_holder_init(struct budget_holder *h, budget_evict_h *evicth,
			void *arg)
{
	if (!h)
		return;

	h->evicth = evicth;
	h->arg    = arg;
}


static bool fits(size_t n)
{
	return !bg.limit || (bg.used <= bg.limit && n <= bg.limit - bg.used);
}


/* The holder holding most (of equals the one that has held longest:
   the list is in order of first take), if it holds at least what the
   requester would */
static struct budget_holder *victim(const struct budget_holder *h,
				    size_t n)
{
	struct budget_holder *v = NULL;
	struct le *le;

	for (le = bg.holders.head; le; le = le->next) {
		struct budget_holder *c = le->data;

		if (c == h || !c->evicth)
			continue;

		if (!v || c->held > v->held)
			v = c;
	}

	return v && v->held >= h->held + n ? v : NULL;
}


/**
 * Take bytes from the budget; when it is spent, the largest other
 * holder is evicted first if it holds at least what this one would
 *
 * @param h Holder
 * @param n Bytes
 *
 * @return 0 if taken, ENOSPC if the budget is spent
 */
int budget_take(struct budget_holder *h, size_t n)
{
	if (!h)
		return EINVAL;

	while (!fits(n)) {
		struct budget_holder *v = victim(h, n);
		size_t before = bg.used;

		if (!v) {
			++bg.refusals;
			return ENOSPC;
		}

		/* the victim may be freed by its handler: not used after */
		++bg.evictions;
		v->evicth(v->arg);
		if (bg.used >= before) {   /* it did not let go */
			++bg.refusals;
			return ENOSPC;
		}
	}

	if (!h->held)
		list_append(&bg.holders, &h->le, h);

	h->held += n;
	bg.used += n;

	return 0;
}


/**
 * Give bytes back
 *
 * @param h Holder
 * @param n Bytes (at most what it holds)
 */
void budget_give(struct budget_holder *h, size_t n)
{
	if (!h)
		return;

	n = min(n, h->held);
	h->held -= n;
	bg.used -= n;

	if (!h->held)
		list_unlink(&h->le);
}


/**
 * Give back everything a holder holds (call it from its destructor)
 *
 * @param h Holder
 */
void budget_release(struct budget_holder *h)
{
	budget_give(h, h ? h->held : 0);
}

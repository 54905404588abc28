/**
 * @file budget.h  One process-wide byte budget for buffers a peer can
 *                 make us hold (WebSocket reassembly, TLS record buffers)
 *
 * Holders take bytes before they allocate and give them back when they
 * free. When the budget is spent, a holder may ask the largest other
 * holder to let go (budget_evict): an attacker that fills memory slowly
 * is the one that loses its buffers, not the client with a small
 * message. Single-threaded (the libre main loop).
 */

#ifndef IMSEDGE_CORE_BUDGET_H
#define IMSEDGE_CORE_BUDGET_H

struct budget_holder;

/** Asked to free its buffers (and close) to make room */
typedef void (budget_evict_h)(void *arg);

/** A registered holder (embed it; zero it before first use) */
struct budget_holder {
	struct le le;
	size_t held;           /**< Bytes taken and not yet given back   */
	budget_evict_h *evicth;
	void *arg;
};

void   budget_set_limit(size_t limit);
size_t budget_limit(void);
size_t budget_used(void);
uint64_t budget_refusals(void);
uint64_t budget_evictions(void);
void   budget_holder_init(struct budget_holder *h, budget_evict_h *evicth,
			  void *arg);
int    budget_take(struct budget_holder *h, size_t n);
void   budget_give(struct budget_holder *h, size_t n);
void   budget_release(struct budget_holder *h);

#endif

/**
 * @file tmr.c  libre's timers as patched (0003): a binary heap of
 *              (expiry, start order): expiry order, FIFO among equal
 *              expiries, cancellation from handlers, many timers
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "test.h"

enum { NTMR = 12 };

struct order {
	struct tmr tmr[NTMR];
	int fired[NTMR];
	unsigned n;
	int cancel;          /* index cancelled by the first to fire, or -1 */
};

static struct order *cur;


static void fire(void *arg)
{
	int i = (int)(intptr_t)arg;

	cur->fired[cur->n++] = i;
	if (cur->cancel >= 0) {
		tmr_cancel(&cur->tmr[cur->cancel]);
		cur->cancel = -1;
	}
	if (cur->n == NTMR - 1)
		re_cancel();
}


/* The delays (ms) in insertion order: a middle set first, then one
   before every other (new root), one just after it, one just before
   the last, several at or past the last, and equal expiries (FIFO) */
static const unsigned delay[NTMR] = {
	40, 60, 80, 5, 42, 78, 120, 120, 140, 60, 80, 200,
};

/* indexes sorted by (delay, insertion), index 2 cancelled */
static const int want[NTMR - 1] = {
	3, 0, 4, 1, 9, 5, 10, 6, 7, 8, 11,
};


int test_tmr_order(void)
{
	struct order o;
	int err = 0;
	unsigned i;

	memset(&o, 0, sizeof(o));
	o.cancel = 2;
	cur = &o;

	/* one jiffy for all: equal delays are equal expiries */
	for (i = 0; i < NTMR; i++)
		tmr_init(&o.tmr[i]);
	for (i = 0; i < NTMR; i++)
		tmr_start(&o.tmr[i], delay[i], fire, (void *)(intptr_t)i);

	TEST_ERR(re_main(NULL));
	TEST_EQ(o.n, NTMR - 1);
	for (i = 0; i < NTMR - 1; i++)
		TEST_EQ(o.fired[i], want[i]);
 out:
	for (i = 0; i < NTMR; i++)
		tmr_cancel(&o.tmr[i]);
	cur = NULL;
	return err;
}


/*
 * Many timers: every one fires once, in (expiry, start order), whatever
 * is cancelled or restarted before or during expiry. Each timer records
 * its expiry and start order (struct tmr's jfs and seq) when started, so
 * the check holds even when the starts span several milliseconds.
 */
enum { NMANY = 6000, MAXDELAY = 25 };

struct many {
	struct tmr tmr[NMANY];
	uint64_t jfs[NMANY];
	uint64_t seq[NMANY];
	bool live[NMANY];      /* started and neither fired nor cancelled */
	unsigned fired[NMANY]; /* times fired */
	unsigned nfired;
	unsigned nlive;
	uint64_t last_jfs;
	uint64_t last_seq;
	bool order_ok;
	unsigned restarts;     /* left for handlers to make */
};

static struct many *mcur;


static void many_start(struct many *m, unsigned i, uint64_t ms);


static void many_fire(void *arg)
{
	struct many *m = mcur;
	unsigned i = (unsigned)(uintptr_t)arg;
	unsigned j;

	if (!m->live[i] || tmr_isrunning(&m->tmr[i]))
		m->order_ok = false;

	/* expiry order, FIFO among equal expiries */
	if (m->jfs[i] < m->last_jfs ||
	    (m->jfs[i] == m->last_jfs && m->seq[i] <= m->last_seq))
		m->order_ok = false;

	m->last_jfs = m->jfs[i];
	m->last_seq = m->seq[i];
	m->live[i] = false;
	--m->nlive;
	++m->fired[i];
	++m->nfired;

	/* every 5th cancels the next one (often due in this same poll),
	   every 7th cancels itself (no-op: it has fired), every 11th
	   restarts the one after it, a few restart themselves at once */
	j = (i + 1) % NMANY;
	if (i % 5 == 0 && m->live[j]) {
		tmr_cancel(&m->tmr[j]);
		m->live[j] = false;
		--m->nlive;
	}
	if (i % 7 == 0)
		tmr_cancel(&m->tmr[i]);
	if (i % 11 == 0 && m->live[j] && m->restarts) {
		--m->restarts;
		many_start(m, j, i % 3);
	}
	if (i % 13 == 0 && m->restarts) {
		--m->restarts;
		many_start(m, i, 0);
	}

	if (!m->nlive)
		re_cancel();
}


static void many_start(struct many *m, unsigned i, uint64_t ms)
{
	if (!m->live[i])
		++m->nlive;

	m->live[i] = true;
	tmr_start(&m->tmr[i], ms, many_fire, (void *)(uintptr_t)i);
	m->jfs[i] = m->tmr[i].jfs;
	m->seq[i] = m->tmr[i].seq;
}


int test_tmr_many(void)
{
	struct many *m;
	uint32_t x = 12345;
	unsigned i, n = 0;
	int err = 0;

	m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;

	mcur = m;
	m->order_ok = true;
	m->restarts = 400;

	for (i = 0; i < NMANY; i++) {
		x = x * 1103515245 + 12345;
		many_start(m, i, (x >> 16) % MAXDELAY);
	}

	/* cancel and restart some before any fires: removals from inside
	   the heap, not only at its root */
	for (i = 0; i < NMANY; i += 3) {
		tmr_cancel(&m->tmr[i]);
		TEST_ASSERT(!tmr_isrunning(&m->tmr[i]));
		m->live[i] = false;
		--m->nlive;
	}
	for (i = 1; i < NMANY; i += 4)
		many_start(m, i, MAXDELAY - 1 - i % MAXDELAY);

	TEST_ERR(re_main(NULL));

	TEST_ASSERT(m->order_ok);
	TEST_EQ(m->nlive, 0);
	for (i = 0; i < NMANY; i++) {
		TEST_ASSERT(!tmr_isrunning(&m->tmr[i]));
		TEST_ASSERT(!m->live[i]);
		n += m->fired[i];
	}
	TEST_EQ(n, m->nfired);
	TEST_ASSERT(m->nfired > NMANY / 2);
	TEST_EQ(m->restarts, 0);

 out:
	for (i = 0; i < NMANY; i++)
		tmr_cancel(&m->tmr[i]);
	mcur = NULL;
	free(m);
	return err;
}

/**
 * @file tmr.c  libre's timer list as patched (0003): insertion from the
 *              nearer end keeps expiry order and FIFO among equals
 */
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
   before every other (new head), one just after the head, one just
   before the tail, several at or past the tail (the case whose
   distance to the tail wrapped), and equal expiries (FIFO) */
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

/**
 * @file tmrbench.c  Cost of libre's timers against the number running
 *
 * Starts N long timers (uniform 1-600 s, like bindings and calls), then
 * does ROUNDS rounds of what a registration does to the timers: restart
 * one long timer (the binding refresh), start four SIP transaction
 * timers (E 500 ms, K 5 s, F 32 s and an application timeout of 4 s) and
 * cancel them. Count the instructions of work() under callgrind:
 *
 *   cc -O2 -Ibuild/host/deps/include/re -DHAVE_INTTYPES_H -DHAVE_STDBOOL_H \
 *      tools/bench/tmrbench.c build/host/deps/lib/libre.a -lpthread \
 *      -o /tmp/tmrbench
 *   valgrind --tool=callgrind --toggle-collect=work /tmp/tmrbench 10000
 *
 * (instructions / ROUNDS = cost of one registration's timer operations)
 */
#include <stdlib.h>
#include <stdio.h>
#include <re.h>

enum { ROUNDS = 1000 };

static void handler(void *arg)
{
	(void)arg;
}


static uint32_t next(uint32_t *x)
{
	*x = *x * 1103515245 + 12345;

	return *x >> 8;
}


void work(struct tmr *lng, unsigned n, struct tmr *txn, uint32_t *x);
void work(struct tmr *lng, unsigned n, struct tmr *txn, uint32_t *x)
{
	static const uint64_t delay[4] = {500, 5000, 32000, 4000};
	unsigned r, i;

	for (r = 0; r < ROUNDS; r++) {
		tmr_start(&lng[next(x) % n], 1000 + next(x) % 599000,
			  handler, NULL);
		for (i = 0; i < 4; i++)
			tmr_start(&txn[i], delay[i], handler, NULL);
		for (i = 0; i < 4; i++)
			tmr_cancel(&txn[i]);
	}
}


int main(int argc, char *argv[])
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1000;
	struct tmr txn[4];
	struct tmr *lng;
	uint32_t x = 1;
	unsigned i;

	if (!n)
		return 2;

	lng = calloc(n, sizeof(*lng));
	if (!lng)
		return 1;

	for (i = 0; i < 4; i++)
		tmr_init(&txn[i]);
	for (i = 0; i < n; i++)
		tmr_start(&lng[i], 1000 + next(&x) % 599000, handler, NULL);

	work(lng, n, txn, &x);

	for (i = 0; i < n; i++)
		tmr_cancel(&lng[i]);
	free(lng);
	printf("%u timers, %u rounds\n", n, ROUNDS);

	return 0;
}

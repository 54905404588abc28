/**
 * @file w2.c  Admission table (W2, WWSF): which peers count as one address
 *             (IPv4 address, IPv6 /64), entries living as long as a
 *             reference (issue 13); giving freed heap back (core/trim)
 */
#include <string.h>
#include <re.h>
#include "admit/admit.h"
#include "core/trim.h"
#include "tls/tls_mem.h"
#include "test.h"


static int sa(struct sa *s, const char *addr, uint16_t port)
{
	return sa_set_str(s, addr, port);
}


int test_w2_addr(void)
{
	struct hash *ht = NULL;
	struct sa p1, p2, p3, p4, p5;
	struct admit_addr *a = NULL, *b = NULL, *c = NULL, *d = NULL;
	int err = 0;

	TEST_ERR(hash_alloc(&ht, 16));

	TEST_ERR(sa(&p1, "192.0.2.1", 1000));
	TEST_ERR(sa(&p2, "192.0.2.2", 1000));
	TEST_ERR(sa(&p3, "2001:db8:0:7::1", 1));
	TEST_ERR(sa(&p4, "2001:db8:0:7:ffff::9", 2));
	TEST_ERR(sa(&p5, "2001:db8:0:8::1", 1));

	TEST_ASSERT(!admit_find(ht, &p1));
	a = admit_get(ht, &p1);
	TEST_ASSERT(a);

	/* same IPv4 address, another port: the same entry */
	p1.u.in.sin_port = htons(2000);
	TEST_ASSERT(admit_find(ht, &p1) == a);
	TEST_ASSERT(!admit_find(ht, &p2));

	/* IPv6: one /64 is one address */
	c = admit_get(ht, &p3);
	TEST_ASSERT(c);
	d = admit_get(ht, &p4);
	TEST_ASSERT(d == c);
	d = mem_deref(d);
	TEST_ASSERT(!admit_find(ht, &p5));

	/* the entry goes with its last reference */
	b = admit_get(ht, &p1);
	TEST_ASSERT(b == a);
	b = mem_deref(b);
	TEST_ASSERT(admit_find(ht, &p1) == a);
	a = mem_deref(a);
	TEST_ASSERT(!admit_find(ht, &p1));
	c = mem_deref(c);
	TEST_ASSERT(!admit_find(ht, &p3));

 out:
	mem_deref(a);
	mem_deref(b);
	mem_deref(c);
	mem_deref(ht);
	return err;
}



static void stop(void *arg)
{
	(void)arg;
	re_cancel();
}


static unsigned hook_runs;


static void hook_h(void)
{
	++hook_runs;
}


/* Free heap goes back after a burst of handshakes or keyed calls: one
   trim once the burst is quiet, then at most one per interval (issue
   13: memory per idle connection and per call); the other allocator's
   trim (tls_mem's) runs with it */
int test_trim(void)
{
	struct tmr t;
	uint32_t n0 = trim_count();
	uint64_t last;
	int i, err = 0;

	tmr_init(&t);
	trim_set_timing(20, 200);
	trim_set_hook(hook_h);
	hook_runs = 0;

	trim_note(100 * 1024);           /* under the threshold: nothing */
	tmr_start(&t, 60, stop, NULL);
	TEST_ERR(re_main(NULL));
	TEST_EQ(trim_count(), n0);

	trim_note(200 * 1024);           /* a burst: one trim */
	trim_note(200 * 1024);
	trim_note(200 * 1024);
	tmr_start(&t, 60, stop, NULL);
	TEST_ERR(re_main(NULL));
	TEST_EQ(trim_count(), n0 + 1);
	TEST_EQ(hook_runs, 1);

	/* again, but not before the interval since the last one */
	last = trim_last();
	trim_note(300 * 1024);
	for (i = 0; i < 100 && trim_count() == n0 + 1; i++) {
		tmr_start(&t, 20, stop, NULL);
		TEST_ERR(re_main(NULL));
	}
	TEST_EQ(trim_count(), n0 + 2);
	TEST_ASSERT(trim_last() >= last + 200);

 out:
	tmr_cancel(&t);
	trim_close();
	trim_set_timing(1000, 10000);
	trim_set_hook(tls_mem_trim);
	return err;
}

/**
 * @file ifaddr.c  The addresses of an interface, or of the host
 */
#include <string.h>
#include <re.h>
#include "net.h"

struct ifa {
	const char *ifname;   /* NULL: every interface */
	struct sa *v;
	unsigned n, max;
	bool loopback;        /* pass 2: loopback addresses too */
	bool found;           /* the interface exists */
};


static bool usable(const struct sa *sa)
{
	if (sa_af(sa) == AF_INET6 && sa_is_linklocal(sa))
		return false;    /* needs a scope: no use in SDP */

	return sa_af(sa) == AF_INET || sa_af(sa) == AF_INET6;
}


static bool add(const char *ifname, const struct sa *sa, void *arg)
{
	struct ifa *a = arg;
	unsigned i;

	if (a->ifname && str_cmp(ifname, a->ifname))
		return false;

	a->found = true;
	if (!usable(sa) || sa_is_loopback(sa) != a->loopback)
		return false;

	for (i = 0; i < a->n; i++) {
		if (sa_cmp(&a->v[i], sa, SA_ADDR))
			return false;
	}

	if (a->n < a->max)
		a->v[a->n++] = *sa;

	return false;
}


/* IPv4 before IPv6, keeping the order within each */
static void sort_v4_first(struct sa *v, unsigned n)
{
	unsigned i, j;

	for (i = 1; i < n; i++) {
		struct sa x = v[i];

		if (sa_af(&x) != AF_INET)
			continue;

		for (j = i; j > 0 && sa_af(&v[j - 1]) != AF_INET; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}


/**
 * Get the addresses of one interface, or of all: IPv4 first, then IPv6,
 * without IPv6 link-local ones; loopback addresses only where there is
 * nothing else (an interface "lo", a host with only loopback)
 *
 * @param ifname Interface name, NULL for every interface
 * @param v      Returned addresses (port 0)
 * @param n      In: room in v; out: number returned
 *
 * @return 0 if success, ENODEV if there is no such interface, ENOENT if
 *         it has no usable address
 */
int net_if_addrs(const char *ifname, struct sa *v, unsigned *n)
{
	struct ifa a;

	if (!v || !n || !*n)
		return EINVAL;

	memset(&a, 0, sizeof(a));
	a.ifname = ifname;
	a.v = v;
	a.max = *n;

	(void)net_if_apply(add, &a);
	if (!a.n) {
		a.loopback = true;
		(void)net_if_apply(add, &a);
	}

	*n = a.n;
	sort_v4_first(v, a.n);

	if (!a.found)
		return ENODEV;

	return a.n ? 0 : ENOENT;
}

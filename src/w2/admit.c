/**
 * @file admit.c  W2 admission per source address
 *
 * An address is an IPv4 address or an IPv6 /64 (what one subscriber
 * line, or one attacker, gets). Each entry counts the connections from
 * it in the TLS/HTTP stage and the upgraded ones, and rate-limits the
 * security lines its refusals log; it lives while a connection from it
 * does (each holds a reference).
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "w2.h"
#include "w2_int.h"

#define LOG_MODULE "w2"

enum { REFUSE_LOG_MS = 10000 };


static void destructor(void *arg)
{
	struct w2_addr *a = arg;

	hash_unlink(&a->he);
}


/* The address an entry is kept under: IPv6 to its /64 */
static void addr_key(struct sa *key, const struct sa *peer)
{
	sa_cpy(key, peer);
	sa_set_port(key, 0);

#ifdef HAVE_INET6
	if (sa_af(key) == AF_INET6)
		memset(&key->u.in6.sin6_addr.s6_addr[8], 0, 8);
#endif
}


static bool addr_cmp(struct le *le, void *arg)
{
	const struct w2_addr *a = le->data;

	return sa_cmp(&a->key, arg, SA_ADDR);
}


/**
 * Find the entry of a peer's address
 *
 * @param w2   W2 listener
 * @param peer Peer address
 *
 * @return Entry, or NULL if no connection from there is open
 */
struct w2_addr *w2_addr_find(const struct w2 *w2, const struct sa *peer)
{
	struct sa key;

	addr_key(&key, peer);

	return list_ledata(hash_lookup(w2->ht_addr, sa_hash(&key, SA_ADDR),
				       addr_cmp, &key));
}


/**
 * Find or make the entry of a peer's address
 *
 * @param w2   W2 listener
 * @param peer Peer address
 *
 * @return A new reference to the entry, or NULL (out of memory)
 */
struct w2_addr *w2_addr_get(struct w2 *w2, const struct sa *peer)
{
	struct w2_addr *a = w2_addr_find(w2, peer);

	if (a)
		return mem_ref(a);

	a = mem_zalloc(sizeof(*a), destructor);
	if (!a)
		return NULL;

	addr_key(&a->key, peer);
	hash_append(w2->ht_addr, sa_hash(&a->key, SA_ADDR), &a->he, a);

	return a;
}


/**
 * Log a refusal as a security event, at most once per address in ten
 * seconds (the line counts the refusals since the last one)
 *
 * @param a     Address entry
 * @param event Event name
 * @param peer  Peer address (with port)
 * @param limit The limit that was reached
 */
void w2_addr_refused(struct w2_addr *a, const char *event,
		     const struct sa *peer, uint32_t limit)
{
	uint64_t now = tmr_jiffies();

	++a->refused;

	if (a->log_due && now < a->log_due)
		return;

	log_security(event, peer, "limit=%u refused=%u", limit, a->refused);
	a->refused = 0;
	a->log_due = now + REFUSE_LOG_MS;
}

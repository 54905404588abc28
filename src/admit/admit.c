/**
 * @file admit.c  Admission per source address
 *
 * An address is an IPv4 address or an IPv6 /64 (what one subscriber
 * line, or one attacker, gets). Each entry counts the connections from
 * it still in their handshake and the established ones, and rate-limits
 * the security lines its refusals log; it lives while a connection from
 * it does (each holds a reference). Used by W2 and the WWSF.
 */
#include <string.h>
#include <re.h>
#include "../core/log.h"
#include "admit.h"

enum { REFUSE_LOG_MS = 10000 };


static void destructor(void *arg)
{
	struct admit_addr *a = arg;

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
	const struct admit_addr *a = le->data;

	return sa_cmp(&a->key, arg, SA_ADDR);
}


/**
 * Find the entry of a peer's address
 *
 * @param ht   Table (struct admit_addr by address)
 * @param peer Peer address
 *
 * @return Entry, or NULL if no connection from there is open
 */
struct admit_addr *admit_find(struct hash *ht, const struct sa *peer)
{
	struct sa key;

	addr_key(&key, peer);

	return list_ledata(hash_lookup(ht, sa_hash(&key, SA_ADDR),
				       addr_cmp, &key));
}


/**
 * Find or make the entry of a peer's address
 *
 * @param ht   Table (struct admit_addr by address)
 * @param peer Peer address
 *
 * @return A new reference to the entry, or NULL (out of memory)
 */
struct admit_addr *admit_get(struct hash *ht, const struct sa *peer)
{
	struct admit_addr *a = admit_find(ht, peer);

	if (a)
		return mem_ref(a);

	a = mem_zalloc(sizeof(*a), destructor);
	if (!a)
		return NULL;

	addr_key(&a->key, peer);
	hash_append(ht, sa_hash(&a->key, SA_ADDR), &a->he, a);

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
void admit_refused(struct admit_addr *a, const char *event,
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

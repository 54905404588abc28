/**
 * @file admit.h  Admission per source address (issue 13)
 *
 * A table of the source addresses that hold connections to a listener,
 * so that one address, or one attacker, cannot take all of them. An
 * address is an IPv4 address or an IPv6 /64 (what one subscriber line
 * gets). An entry lives while a reference to it does: each connection
 * holds one.
 */

#ifndef IMSEDGE_ADMIT_H
#define IMSEDGE_ADMIT_H

struct admit_addr {
	struct le he;
	struct sa key;          /**< IPv4 address, or IPv6 /64            */
	uint32_t n_pending;     /**< Its connections before the handshake
				     (or upgrade) completed               */
	uint32_t n_open;        /**< Its established connections          */
	uint32_t refused;       /**< Refusals since the last log line     */
	uint64_t log_due;       /**< No refusal line before (jiffies)     */
};

struct admit_addr *admit_find(struct hash *ht, const struct sa *peer);
struct admit_addr *admit_get(struct hash *ht, const struct sa *peer);
void admit_refused(struct admit_addr *a, const char *event,
		   const struct sa *peer, uint32_t limit);

#endif

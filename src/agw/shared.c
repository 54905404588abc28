/**
 * @file shared.c  One browser-side media port for every call
 *                 (media_port_shared yes)
 *
 * All W3 transports share one UDP socket per W3 address, on one port
 * taken from rtp_ports when the AGW starts: a firewall opens one port,
 * and a wake-up's recvmmsg() batch carries datagrams of many calls.
 * A datagram finds its transport
 *   - STUN with a USERNAME: by the AGW's ufrag before the colon (each
 *     transport's ufrag is unique while it exists), so a browser's first
 *     check, a new address (address change) and an ICE restart all
 *     reach the right call;
 *   - anything else: by source address, learnt from the checks the
 *     transport accepted (ice.c calls agw_shared_learn()); the last
 *     transport to accept a check from an address owns it.
 * Datagrams from addresses no transport has accepted are dropped and
 * counted. What the port sends is batched (net_udp_tx_batch): one
 * sendmmsg() per turn of the loop for every call's packets. From there on the transport handles the datagram exactly as
 * on a port of its own (w3.c), checks and consent included.
 */
#include <string.h>
#include <re.h>
#include "../net/net.h"
#include "../core/log.h"
#include "agw.h"
#include "agw_int.h"

#define LOG_MODULE "agw"

enum {
	UFRAG_BUCKETS = 1024,
	SRC_BUCKETS   = 4096,
	/* every call's bursts in one queue: 8 MiB (the kernel doubles it
	   for its overhead) hold about 16,000 G.711 datagrams, 0.3 s of
	   1,000 calls, where the system permits (SO_RCVBUFFORCE) */
	RCVBUF        = 8 << 20,
	/* datagrams per wake-up: the port carries every call, and one
	   turn of the loop serves every ready core-side socket, whose
	   buffers (one per stream) hold far more between them than this
	   one: when the AGW falls behind, this queue goes first */
	WAKE_MAX      = 8192,
};

/** A browser address a transport accepted a check from */
struct shared_src {
	struct le he;                /**< In shared->srch                  */
	struct le le;                /**< In w3->shared_srcl               */
	struct sa addr;
	struct agw_w3 *w3;
};

struct agw_shared_sock {
	struct agw_shared *sh;
	unsigned i;                  /**< Index of the W3 address          */
	struct net_udp *us;
};

struct agw_shared {
	struct agw *agw;             /**< Owner (no reference)             */
	struct agw_shared_sock sockv[AGW_W3_ADDRS];
	unsigned sockc;
	uint16_t port;
	struct hash *ufragh;         /**< struct agw_w3 by w3->ufrag        */
	struct hash *srch;           /**< struct shared_src by address      */
	uint64_t unknown;            /**< Dropped: no transport for it      */
	int rcvbuf;                  /**< Receive buffer it got (bytes)     */
};


static void destructor(void *arg)
{
	struct agw_shared *sh = arg;

	while (sh->sockc)
		mem_deref(sh->sockv[--sh->sockc].us);

	/* transports hold a reference to the AGW: none are left */
	hash_flush(sh->srch);
	mem_deref(sh->srch);
	hash_flush(sh->ufragh);
	mem_deref(sh->ufragh);
	if (sh->port)
		agw_port_release(sh->agw, sh->port, false);
}


static bool ufrag_cmp(struct le *le, void *arg)
{
	const struct agw_w3 *w3 = le->data;
	const struct pl *u = arg;

	return !pl_strcmp(u, w3->ufrag);
}


static bool src_cmp(struct le *le, void *arg)
{
	const struct shared_src *s = le->data;

	return sa_cmp(&s->addr, arg, SA_ALL);
}


static struct agw_w3 *by_ufrag(const struct agw_shared *sh,
			       const struct pl *u)
{
	struct le *le = hash_lookup(sh->ufragh, hash_joaat_pl(u),
				    ufrag_cmp, (void *)u);

	return le ? le->data : NULL;
}


static struct shared_src *by_src(const struct agw_shared *sh,
				 const struct sa *src)
{
	struct le *le = hash_lookup(sh->srch, sa_hash(src, SA_ALL), src_cmp,
				    (void *)src);

	return le ? le->data : NULL;
}


/* The AGW's ufrag of a STUN request (USERNAME "<AGW>:<browser>") */
static int stun_ufrag(char *ufrag, size_t sz, const uint8_t *p, size_t n)
{
	const struct stun_attr *attr;
	struct stun_msg *msg = NULL;
	const char *colon;
	int err;

	err = agw_stun_decode(&msg, p, n);
	if (err)
		goto out;

	attr = stun_msg_attr(msg, STUN_ATTR_USERNAME);
	colon = attr ? strchr(attr->v.username, ':') : NULL;
	if (!colon || (size_t)(colon - attr->v.username) >= sz) {
		err = ENOENT;
		goto out;
	}

	memcpy(ufrag, attr->v.username, (size_t)(colon - attr->v.username));
	ufrag[colon - attr->v.username] = '\0';

 out:
	mem_deref(msg);
	return err;
}


static void shared_recv(const struct sa *src, uint8_t *p, size_t n,
			void *arg)
{
	struct agw_shared_sock *k = arg;
	struct agw_shared *sh = k->sh;
	struct agw_w3 *w3 = NULL;
	char ufrag[AGW_UFRAG_LEN + 1];

	if (n && p[0] <= 3 && !stun_ufrag(ufrag, sizeof(ufrag), p, n)) {
		struct pl u;

		pl_set_str(&u, ufrag);
		w3 = by_ufrag(sh, &u);
	}

	if (!w3) {
		struct shared_src *s = by_src(sh, src);

		w3 = s ? s->w3 : NULL;
	}

	if (!w3 || k->i >= w3->sockc) {
		++sh->unknown;
		return;
	}

	agw_w3_input(&w3->sockv[k->i], src, p, n);
}


static int bind_h(uint16_t port, void *arg)
{
	struct agw_shared *sh = arg;
	const struct sa *addrv;
	unsigned i, n;
	int err = 0;

	addrv = agw_w3_addrs(sh->agw, &n);
	for (i = 0; i < n && !err; i++) {
		struct agw_shared_sock *k = &sh->sockv[i];

		k->sh = sh;
		k->i = i;
		err = agw_udp_open(sh->agw, &k->us, &addrv[i], port,
				   shared_recv, k);
		if (err)
			break;

		++sh->sockc;
		(void)net_udp_rcvbuf_set(k->us, RCVBUF);
		/* Linux reports twice what it granted (its overhead) */
		sh->rcvbuf = net_udp_rcvbuf(k->us) / 2;
		/* what leaves toward browsers in one turn of the loop
		   leaves in one sendmmsg() */
		(void)net_udp_wake_max_set(k->us, WAKE_MAX);
		if (net_udp_tx_batch(k->us))
			log_debug("shared port: sends not batched");
	}

	if (err) {
		while (sh->sockc) {
			struct agw_shared_sock *k = &sh->sockv[--sh->sockc];

			k->us = mem_deref(k->us);
		}
	}

	return err;
}


/**
 * Open the shared browser-side port (media_port_shared yes)
 *
 * @param shp Returned shared port
 * @param agw The AGW
 *
 * @return 0 if success, otherwise errorcode
 */
int agw_shared_alloc(struct agw_shared **shp, struct agw *agw)
{
	struct agw_shared *sh;
	int err;

	sh = mem_zalloc(sizeof(*sh), destructor);
	if (!sh)
		return ENOMEM;

	sh->agw = agw;
	err = hash_alloc(&sh->ufragh, UFRAG_BUCKETS);
	if (!err)
		err = hash_alloc(&sh->srch, SRC_BUCKETS);
	if (!err)
		err = agw_port_take(agw, false, bind_h, sh, &sh->port);

	if (err) {
		mem_deref(sh);
		return err;
	}

	log_info("browser-side media on one port: %u (receive buffer %d KiB)",
		 sh->port, sh->rcvbuf / 1024);
	if (sh->rcvbuf >= 0 && sh->rcvbuf < RCVBUF)
		log_warn("media_port_shared: the one browser-side port got a "
			 "%d KiB receive buffer, not %d (net.core.rmem_max; "
			 "more needs CAP_NET_ADMIN or a larger rmem_max): "
			 "bursts beyond it are lost", sh->rcvbuf / 1024,
			 RCVBUF / 1024);
	*shp = sh;

	return 0;
}


/**
 * Put a transport on the shared port: its sockets and its ufrag
 *
 * @param sh Shared port
 * @param w3 Transport (ufrag set)
 *
 * @return 0 if success, EADDRINUSE if another transport has the ufrag
 */
int agw_shared_attach(struct agw_shared *sh, struct agw_w3 *w3)
{
	struct pl u;
	unsigned i;

	pl_set_str(&u, w3->ufrag);
	if (by_ufrag(sh, &u))
		return EADDRINUSE;

	for (i = 0; i < sh->sockc; i++) {
		w3->sockv[i].w3 = w3;
		w3->sockv[i].us = mem_ref(sh->sockv[i].us);
	}
	w3->sockc = sh->sockc;
	w3->us = w3->sockv[0].us;
	w3->port = sh->port;
	w3->shared = true;

	hash_append(sh->ufragh, hash_joaat_pl(&u), &w3->ufrag_he, w3);

	return 0;
}


/**
 * The transport's ufrag is about to change (ICE restart)
 *
 * @param sh    Shared port
 * @param w3    Transport
 * @param ufrag New ufrag
 *
 * @return 0 if success, EADDRINUSE if another transport has it
 */
int agw_shared_rekey(struct agw_shared *sh, struct agw_w3 *w3,
		     const char *ufrag)
{
	struct pl u;

	pl_set_str(&u, ufrag);
	if (by_ufrag(sh, &u))
		return EADDRINUSE;

	hash_unlink(&w3->ufrag_he);
	hash_append(sh->ufragh, hash_joaat_pl(&u), &w3->ufrag_he, w3);

	return 0;
}


/**
 * A transport accepted a check from a browser address: datagrams from
 * there are its own (taken from another transport that had it)
 *
 * @param sh  Shared port
 * @param w3  Transport
 * @param src Browser address
 */
void agw_shared_learn(struct agw_shared *sh, struct agw_w3 *w3,
		      const struct sa *src)
{
	struct shared_src *s = by_src(sh, src);

	if (s && s->w3 == w3)
		return;

	if (s) {
		list_unlink(&s->le);
	}
	else {
		/* a transport keeps its last few addresses */
		if (list_count(&w3->shared_srcl) >= AGW_CHECKED_MAX) {
			struct shared_src *old = list_ledata(
				list_head(&w3->shared_srcl));

			list_unlink(&old->le);
			hash_unlink(&old->he);
			mem_deref(old);
		}

		s = mem_zalloc(sizeof(*s), NULL);
		if (!s)
			return;

		s->addr = *src;
		hash_append(sh->srch, sa_hash(src, SA_ALL), &s->he, s);
	}

	s->w3 = w3;
	list_append(&w3->shared_srcl, &s->le, s);
}


/**
 * Take a transport off the shared port (its destructor)
 *
 * @param w3 Transport
 */
void agw_shared_detach(struct agw_w3 *w3)
{
	struct le *le;

	if (!w3->shared)
		return;

	hash_unlink(&w3->ufrag_he);

	while ((le = list_head(&w3->shared_srcl))) {
		struct shared_src *s = le->data;

		list_unlink(&s->le);
		hash_unlink(&s->he);
		mem_deref(s);
	}
}


/**
 * Datagrams dropped on the shared port: no transport knows the sender
 *
 * @param sh Shared port (NULL: 0)
 *
 * @return Count
 */
uint64_t agw_shared_unknown(const struct agw_shared *sh)
{
	return sh ? sh->unknown : 0;
}


/**
 * Feed a datagram as if received on the shared port (fuzzing)
 *
 * @param agw The AGW (media_port_shared)
 * @param src Source address
 * @param mb  Datagram
 */
void agw_shared_recv_test(struct agw *agw, const struct sa *src,
			  struct mbuf *mb)
{
	if (!agw->shared || !agw->shared->sockc)
		return;

	shared_recv(src, mbuf_buf(mb), mbuf_get_left(mb),
		    &agw->shared->sockv[0]);
}

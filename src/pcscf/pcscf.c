/**
 * @file pcscf.c  eP-CSCF: the Mw SIP stack (UDP and TCP), the W2
 *                handlers, flows
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../core/stats.h"
#include "../tls/tlsx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"


static void destructor(void *arg)
{
	struct pcscf *p = arg;

	/* W2 may outlive us: it must not call back into freed memory */
	w2_set_handler(p->w2, NULL, NULL, NULL);

	list_flush(&p->calls);
	list_flush(&p->endedl);
	hash_flush(p->flows);
	hash_flush(p->ttx);
	list_flush(&p->otxl);
	list_flush(&p->dregl);
	mem_deref(p->evsock);
	mem_deref(p->lsnr_req);
	mem_deref(p->lsnr_rsp);
	if (p->sip)
		sip_close(p->sip, true);
	mem_deref(p->sip);
	mem_deref(p->dnsc);
	mem_deref(p->flows);
	mem_deref(p->ttx);
	mem_deref(p->next_hop_str);
	mem_deref(p->emergency_hop);
	mem_deref(p->ring);
	mem_deref(p->conf);
}


/* Requests from browsers not for the core: OPTIONS to the edge itself
   (no user part) is answered by W2 */
static bool for_w2(const struct sip_msg *msg)
{
	return !pl_strcmp(&msg->met, "OPTIONS") && !pl_isset(&msg->to.tag) &&
		!pl_isset(&msg->uri.user) &&
		(!pl_strcasecmp(&msg->uri.scheme, "sip") ||
		 !pl_strcasecmp(&msg->uri.scheme, "sips"));
}


static bool w2_sip_handler(struct w2_conn *conn, const struct sip_msg *msg,
			   void *arg)
{
	struct pcscf *p = arg;
	struct flow *fl;

	/* W2 answers it (and counts its response): count the request */
	if (msg->req && for_w2(msg)) {
		stats_sip_request(true, &msg->met);
		return false;
	}

	fl = flow_get(p, conn);
	if (!fl)
		return false;

	if (msg->req)
		return orig_request(p, fl, msg);

	term_response(p, fl, msg);
	return true;
}


static void w2_close_handler(struct w2_conn *conn, void *arg)
{
	flow_gone(arg, conn);
}


/* 2xx retransmissions and the like: no transaction is left for them */
static bool stray_response(const struct sip_msg *msg, void *arg)
{
	(void)arg;

	log_debug("%J: stray %u response to %r dropped", &msg->src,
		  msg->scode, &msg->cseq.met);
	return true;
}


static int public_addr(struct sa *out, const struct sa *laddr)
{
	int err;

	*out = *laddr;
	if (!sa_is_any(laddr))
		return 0;

	err = net_default_source_addr_get(sa_af(laddr), out);
	if (err)
		return err;

	sa_set_port(out, sa_port(laddr));
	return 0;
}


static int dns_init(struct dnsc **dnscp)
{
	struct sa srvv[4];
	uint32_t n = ARRAY_SIZE(srvv);
	char domain[64];
	int err;

	err = dns_srv_get(domain, sizeof(domain), srvv, &n);
	if (err || !n) {
		/* next hops are usually addresses; DNS only for names */
		n = 1;
		(void)sa_set_str(&srvv[0], "127.0.0.1", 53);
	}

	return dnsc_alloc(dnscp, NULL, srvv, n);
}


static int transports(struct pcscf *p)
{
	const struct sa *laddr = &p->conf->mw_listen;
	int err;

	err = sip_transp_add(p->sip, SIP_TRANSP_UDP, laddr);
	if (!err)
		err = sip_transp_add(p->sip, SIP_TRANSP_TCP, laddr);
	if (err)
		log_error("cannot listen on Mw %J (udp/tcp): %m", laddr, err);

	return err;
}


/**
 * Start the eP-CSCF on the W2 listener and the Mw address
 *
 * @param pp   Returned eP-CSCF
 * @param conf Configuration (a reference is kept)
 * @param w2   W2 listener
 * @param agw  Media gateway, or NULL (then calls get 488)
 *
 * @return 0 if success, otherwise errorcode
 */
int pcscf_alloc(struct pcscf **pp, struct imsedge_conf *conf, struct w2 *w2,
		struct agw *agw)
{
	struct pcscf *p;
	struct pl pl;
	uint32_t buckets;
	int err;

	if (!pp || !conf || !w2)
		return EINVAL;

	buckets = conf_conn_buckets(conf);

	p = mem_zalloc(sizeof(*p), destructor);
	if (!p)
		return ENOMEM;

	p->conf = mem_ref(conf);
	p->w2   = w2;
	p->agw  = agw;

	if (conf->mw_emergency_next_hop) {
		err = str_dup(&p->emergency_hop, conf->mw_emergency_next_hop);
		if (err)
			goto out;
	}

	err  = hash_alloc(&p->flows, buckets);
	err |= hash_alloc(&p->ttx, buckets);
	if (err) {
		err = ENOMEM;
		goto out;
	}

	err = tls_random(p->key, sizeof(p->key));
	if (err)
		goto out;

	err = str_dup(&p->next_hop_str, conf->mw_next_hop);
	if (err)
		goto out;
	pl_set_str(&pl, p->next_hop_str);
	err = uri_decode(&p->next_hop, &pl);
	if (err)
		goto out;

	err = public_addr(&p->mw_addr, &conf->mw_listen);
	if (!err)
		err = public_addr(&p->w2_addr, w2_laddr(w2));
	if (err) {
		log_error("no address of this host to advertise for the any "
			  "address (only loopback?); set w2_listen and "
			  "mw_listen to addresses: %m", err);
		goto out;
	}

	err = dns_init(&p->dnsc);
	if (err)
		goto out;

	/* transaction tables by the connection count: a relayed REGISTER's
	   UDP client transaction lives on for Timer K (5 s), and libre
	   compares the branch of every one in a bucket to match an answer */
	err = sip_alloc(&p->sip, p->dnsc, buckets, buckets, 256,
			"imsedge/" IMSEDGE_VERSION, NULL, NULL);
	if (err)
		goto out;

	err = transports(p);
	if (err)
		goto out;

	err  = sip_listen(&p->lsnr_req, p->sip, true, term_request, p);
	err |= sip_listen(&p->lsnr_rsp, p->sip, false, stray_response, p);
	if (err)
		goto out;

	/* D-58: after term_request, which leaves it the NOTIFYs for us */
	if (conf->mw_reg_event) {
		err = sipevent_listen(&p->evsock, p->sip, 64, 64, NULL, NULL);
		if (err)
			goto out;
	}

	w2_set_handler(w2, w2_sip_handler, w2_close_handler, p);

	log_info("Mw on %J (udp, tcp) as %J, next hop %s", &conf->mw_listen,
		 &p->mw_addr, conf->mw_next_hop);

 out:
	if (err)
		mem_deref(p);
	else
		*pp = p;

	return err;
}


/**
 * Stop taking requests: W2 stops handing messages over, Mw closes
 *
 * @param p eP-CSCF
 */
void pcscf_shutdown(struct pcscf *p)
{
	if (!p)
		return;

	w2_set_handler(p->w2, NULL, NULL, NULL);
}


/**
 * Number of registered identities (bindings)
 *
 * @param p eP-CSCF
 *
 * @return Count
 */
uint32_t pcscf_registrations(const struct pcscf *p)
{
	return p ? p->nreg : 0;
}


/**
 * Accept web authentication: Bearer tokens signed by the keys of a
 * keyring (24.371 6.4.2, 6.4.3)
 *
 * @param p      eP-CSCF
 * @param ring   Trusted (issuer, key) pairs; NULL turns tokens off
 * @param leaseh Pool lease handler of our own WAF, or NULL
 * @param arg    Handler argument
 */
void pcscf_set_web_auth(struct pcscf *p, struct jwt_keyring *ring,
			pcscf_lease_h *leaseh, void *arg)
{
	if (!p)
		return;

	mem_deref(p->ring);
	p->ring      = mem_ref(ring);
	p->leaseh    = leaseh;
	p->lease_arg = arg;
}

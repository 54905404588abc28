/**
 * @file regevent.c  The eP-CSCF's reg event subscriptions (RFC 3680;
 *                   24.229 5.2.3, 5.2.5; D-58, D-59)
 *
 * After a binding is made, the eP-CSCF subscribes to the reg event of
 * its IMPU at the core (libre's sipevent: it refreshes before expiry).
 * A NOTIFY whose reginfo says that the binding's contact (or the whole
 * registration) is terminated — deactivated, rejected, unregistered,
 * expired at the core — ends the binding here without a deregistration
 * of our own, and the browser learns of it: through its own reg event
 * subscription if it has one (those NOTIFYs are relayed like any other
 * request), otherwise its WebSocket is closed with the reason, which
 * also releases its calls (D-40). A subscription the core ends or
 * forgets (481) is made again while the binding lives, a bounded number
 * of times.
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"

enum {
	REGEV_EXPIRES = 600000,   /* 24.229 5.2.3; the core may lower it */
	RETRY_MAX     = 5,        /* new subscriptions per binding       */
	RETRY_WAIT    = 2000,     /* ms before one                       */
};

struct regsub {
	struct binding *b;
	struct sipsub *sub;
	struct tmr tmr;
	unsigned retries;
	bool ended;               /* the NOTIFY ended the binding        */
	char why[32];
};


static void regsub_destructor(void *arg)
{
	struct regsub *rs = arg;

	tmr_cancel(&rs->tmr);
	mem_deref(rs->sub);   /* libre unsubscribes if still subscribed */
}


/* Our contact's URI: what is between < and > of b->contact */
static bool contact_is(const struct binding *b, const struct pl *uri)
{
	struct pl ours;
	const char *gt;

	if (!b->contact || b->contact[0] != '<')
		return false;

	pl_set_str(&ours, b->contact + 1);
	gt = pl_strchr(&ours, '>');
	if (!gt)
		return false;
	ours.l = gt - ours.p;

	return pc_uri_eq(&ours, uri);
}


static bool contact_h(const struct reginfo_contact *c, void *arg)
{
	struct regsub *rs = arg;
	const struct binding *b = rs->b;
	struct pl aor;

	pl_set_str(&aor, b->aor);
	if (!pc_uri_eq(&aor, &c->aor))
		return false;

	if (!pl_strcmp(&c->reg_state, "terminated") && !pl_isset(&c->uri)) {
		rs->ended = true;
		str_ncpy(rs->why, "terminated", sizeof(rs->why));
		return true;
	}

	if (pl_isset(&c->uri) && contact_is(b, &c->uri) &&
	    !pl_strcmp(&c->state, "terminated")) {
		rs->ended = true;
		(void)re_snprintf(rs->why, sizeof(rs->why), "%r",
				  pl_isset(&c->event) ? &c->event :
				  &c->state);
		return true;
	}

	return false;
}


/* D-59: the network ended the binding: so does the eP-CSCF, and the
   browser learns of it */
static void network_dereg(struct regsub *rs)
{
	struct binding *b = rs->b;
	struct flow *fl = b->flow;
	char why[64];

	(void)re_snprintf(why, sizeof(why), "by the network (%s)", rs->why);

	/* its calls end now, also when the WebSocket stays (D-59) */
	life_binding_end(b, LIFE_RELEASE | LIFE_CALLS, why);   /* frees rs */

	if (fl->regl.head || !fl->conn || fl->regev)
		return;

	log_info("%s: no registration left: WebSocket closed", fl->token);
	w2_conn_close(fl->conn, 1000, "Deregistered by the network");
}


static void notify_handler(struct sip *sip, const struct sip_msg *msg,
			   void *arg)
{
	struct regsub *rs = arg;
	struct pl body;
	int err;

	(void)sip_treply(NULL, sip, msg, 200, "OK");

	if (!mbuf_get_left(msg->mb))
		return;

	if (!msg_ctype_cmp(&msg->ctyp, "application", "reginfo+xml")) {
		log_info("%s: reg event NOTIFY with %r ignored", rs->b->aor,
			 &msg->ctyp.type);
		return;
	}

	body.p = (const char *)mbuf_buf(msg->mb);
	body.l = mbuf_get_left(msg->mb);

	err = reginfo_decode(&body, contact_h, rs);
	if (err && err != ECANCELED) {
		log_warn("%s: reginfo from %J not read: %m", rs->b->aor,
			 &msg->src, err);
		return;
	}

	if (rs->ended)
		network_dereg(rs);
}


static int subscribe(struct regsub *rs);


static void retry(void *arg)
{
	struct regsub *rs = arg;

	if (subscribe(rs))
		log_warn("%s: cannot subscribe to its reg event",
			 rs->b->aor);
}


static void close_handler(int err, const struct sip_msg *msg,
			  const struct sipevent_substate *ss, void *arg)
{
	struct regsub *rs = arg;
	(void)ss;

	rs->sub = mem_deref(rs->sub);

	if (err)
		log_info("%s: reg event subscription ended: %m", rs->b->aor,
			 err);
	else
		log_info("%s: reg event subscription ended (%u %r)",
			 rs->b->aor, msg ? msg->scode : 0,
			 msg ? &msg->reason : &pl_null);

	/* 481 or terminated: subscribe again while the binding lives */
	if (rs->retries++ < RETRY_MAX)
		tmr_start(&rs->tmr, RETRY_WAIT, retry, rs);
}


static int subscribe(struct regsub *rs)
{
	struct pcscf *p = rs->b->flow->p;
	const char *routev[1];
	char from[64];

	routev[0] = p->next_hop_str;
	(void)re_snprintf(from, sizeof(from), "sip:pcscf@%J", &p->mw_addr);

	return sipevent_subscribe(&rs->sub, p->evsock, rs->b->aor, NULL,
				  from, "reg", NULL, REGEV_EXPIRES, "pcscf",
				  routev, 1, NULL, NULL, false, NULL,
				  notify_handler, close_handler, rs,
				  "Accept: application/reginfo+xml\r\n"
				  "P-Asserted-Identity: <%s>\r\n", from);
}


/**
 * Subscribe to the reg event of a binding's IMPU (once per binding, or
 * again on a refresh after the subscription gave up)
 *
 * @param p eP-CSCF
 * @param b Binding
 *
 * @return 0 if success, otherwise errorcode
 */
int regevent_subscribe(struct pcscf *p, struct binding *b)
{
	struct regsub *rs;
	int err;

	if (!p->evsock)
		return 0;

	/* a refresh of a binding whose subscription gave up: again */
	if (b->rsub) {
		rs = b->rsub;
		if (rs->sub || tmr_isrunning(&rs->tmr))
			return 0;

		rs->retries = 0;
		return subscribe(rs);
	}

	rs = mem_zalloc(sizeof(*rs), regsub_destructor);
	if (!rs)
		return ENOMEM;

	rs->b = b;
	err = subscribe(rs);
	if (err) {
		mem_deref(rs);
		return err;
	}

	b->rsub = rs;

	return 0;
}


/**
 * Whether a request from the core is a NOTIFY for our own
 * subscriptions (no flow token in its Route): libre's sipevent
 * listener takes it
 *
 * @param msg Request
 *
 * @return true if it is
 */
bool regevent_notify(const struct sip_msg *msg)
{
	return !pl_strcmp(&msg->met, "NOTIFY");
}

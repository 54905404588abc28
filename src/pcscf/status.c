/**
 * @file status.c  imsedge -s: the registrations and calls of the
 *                 eP-CSCF, and the operator's commands on them
 */
#include <string.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/log.h"
#include "../jwt/jwt.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "pcscf"


static int json_str(struct re_printf *pf, void *arg)
{
	return jwt_json_str(pf, arg);
}


struct walk {
	struct mbuf *mb;
	bool json;
	bool first;
	int err;
	const struct pl *aor;     /* drop: this identity */
	unsigned n;
};


static int reg_print(struct walk *w, const struct flow *fl,
		     const struct binding *b)
{
	uint64_t left = tmr_get_expire(&b->tmr) / 1000;
	const struct sa *sa = fl->conn ? w2_conn_peer(fl->conn) : NULL;
	char peer[64] = "-";

	if (sa)
		(void)re_snprintf(peer, sizeof(peer), "%J", sa);

	if (!w->json)
		return mbuf_printf(w->mb, "  %s %s %s expires in %llu s\n",
				   b->aor, b->mech ? b->mech : "-", peer,
				   (unsigned long long)left);

	return mbuf_printf(w->mb, "%s{\"identity\":%H,\"mechanism\":\"%s\","
			   "\"peer\":\"%s\",\"expires\":%llu}",
			   w->first ? "" : ",", json_str, b->aor,
			   b->mech ? b->mech : "-", peer,
			   (unsigned long long)left);
}


static bool flow_apply(struct le *le, void *arg)
{
	struct flow *fl = le->data;
	struct walk *w = arg;
	struct le *bl = fl->regl.head;

	while (bl && !w->err) {
		struct binding *b = bl->data;

		bl = bl->next;
		if (w->aor) {
			if (!pl_strcmp(w->aor, b->aor)) {
				++w->n;
				life_binding_end(b, LIFE_DEREG | LIFE_RELEASE,
						 "dropped by the operator");
			}
			continue;
		}

		w->err = reg_print(w, fl, b);
		w->first = false;
	}

	return w->err != 0;
}


/**
 * Print the status: registrations (identity, mechanism, WebSocket peer,
 * expiry), call legs and totals; text or one JSON object
 *
 * @param p    eP-CSCF (may be NULL)
 * @param mb   Output
 * @param json JSON
 * @param w2n  Open W2 connections
 *
 * @return 0 if success, otherwise errorcode
 */
int pcscf_status(struct pcscf *p, struct mbuf *mb, bool json, uint32_t w2n)
{
	struct walk w = {mb, json, true, 0, NULL, 0};
	uint32_t ncalls = p ? list_count(&p->calls) : 0;
	int err;

	err = json ? mbuf_printf(mb, "{\"registrations\":[") :
		mbuf_printf(mb, "registrations: %u\n", pcscf_registrations(p));
	if (p && !err) {
		(void)hash_apply(p->flows, flow_apply, &w);
		err = w.err;
	}

	err |= json ? mbuf_printf(mb, "],\"calls\":[") :
		mbuf_printf(mb, "calls: %u\n", ncalls);
	if (p && !err)
		err = call_status(p, mb, json);

	err |= json ? mbuf_printf(mb, "],\"totals\":{\"connections\":%u,"
				  "\"registrations\":%u,\"calls\":%u}}\n",
				  w2n, pcscf_registrations(p), ncalls) :
		mbuf_printf(mb, "totals: %u connections, %u registrations, "
			    "%u calls\n", w2n, pcscf_registrations(p), ncalls);

	return err;
}


/**
 * Drop the registrations of an identity (imsedge -s drop AOR): token
 * bindings are deregistered toward the core, pool leases released
 *
 * @param p   eP-CSCF
 * @param aor The registered identity (AOR) as imsedge -s prints it
 *
 * @return 0 if any was dropped, ENOENT if none
 */
int pcscf_drop(struct pcscf *p, const struct pl *aor)
{
	struct walk w = {NULL, false, true, 0, aor, 0};

	if (!p || !pl_isset(aor))
		return EINVAL;

	(void)hash_apply(p->flows, flow_apply, &w);

	return w.n ? 0 : ENOENT;
}


/**
 * End a call leg (imsedge -s end CALLID)
 *
 * @param p      eP-CSCF
 * @param callid Call-ID
 *
 * @return 0 if success, ENOENT if there is no such call
 */
int pcscf_end_call(struct pcscf *p, const struct pl *callid)
{
	if (!p || !pl_isset(callid))
		return EINVAL;

	return call_end_by_callid(p, callid);
}

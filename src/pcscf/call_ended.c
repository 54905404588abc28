/**
 * @file call_ended.c  Calls imsedge ended itself toward the core (media
 *                     failed, consent lost, DTLS closed without a BYE):
 *                     the browser's own BYE, when it comes, is answered
 *                     here and not sent on as a second BYE
 *
 * The browser learns of such a failure by itself (a DTLS alert, consent
 * checks unanswered) and sends its BYE a little later, or much later
 * (Chromium gives up on consent after about 30 s). One entry per call,
 * kept for 64*T1 (32 s), at most ENDED_MAX of them (the oldest goes).
 */
#include <string.h>
#include <re.h>
#include "../core/log.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"

#define LOG_MODULE "call"

enum {
	ENDED_KEEP_MS = 64 * 500,
	ENDED_MAX     = 256,
};

struct ended {
	struct le le;
	struct tmr tmr;
	uint64_t flow;       /**< Flow id of the browser                  */
	char *callid;
	char *btag;          /**< The browser's tag in the dialog         */
};


static void ended_destructor(void *arg)
{
	struct ended *e = arg;

	list_unlink(&e->le);
	tmr_cancel(&e->tmr);
	mem_deref(e->callid);
	mem_deref(e->btag);
}


static void ended_expire(void *arg)
{
	mem_deref(arg);
}


/**
 * Remember a call imsedge ended with its own BYE to the core
 *
 * @param p      eP-CSCF
 * @param fl     Flow of the browser
 * @param callid Call-ID
 * @param btag   The browser's tag in the dialog
 */
void call_ended_add(struct pcscf *p, const struct flow *fl,
		    const char *callid, const char *btag)
{
	struct ended *e;

	if (!fl || !callid || !btag)
		return;

	if (list_count(&p->endedl) >= ENDED_MAX)
		mem_deref(list_ledata(list_head(&p->endedl)));

	e = mem_zalloc(sizeof(*e), ended_destructor);
	if (!e)
		return;

	e->flow = fl->id;
	if (str_dup(&e->callid, callid) || str_dup(&e->btag, btag)) {
		mem_deref(e);
		return;
	}

	tmr_start(&e->tmr, ENDED_KEEP_MS, ended_expire, e);
	list_append(&p->endedl, &e->le, e);
}


/**
 * Answer a browser's BYE for a call imsedge has ended already (200 OK,
 * nothing to the core)
 *
 * @param p   eP-CSCF
 * @param fl  Flow it came on
 * @param msg Request from the browser
 *
 * @return true if answered
 */
bool call_ended_bye(struct pcscf *p, struct flow *fl,
		    const struct sip_msg *msg)
{
	struct le *le;

	if (pl_strcmp(&msg->met, "BYE") || !pl_isset(&msg->to.tag))
		return false;

	for (le = p->endedl.head; le; le = le->next) {
		struct ended *e = le->data;

		if (e->flow != fl->id || pl_strcmp(&msg->callid, e->callid) ||
		    pl_strcmp(&msg->from.tag, e->btag))
			continue;

		log_info("%s: the browser's BYE for a call already ended: "
			 "200, no second BYE to the core", e->callid);
		w2_conn_reply(fl->conn, msg, 200, "OK", NULL);
		mem_deref(e);
		return true;
	}

	return false;
}

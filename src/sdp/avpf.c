/**
 * @file avpf.c  RTCP feedback for video toward the core: RTP/AVPF offered
 *               by SDP capability negotiation (RFC 5939; TS 26.114 6.2.3)
 *
 * A browser's video m-line goes to the core as RTP/AVP with
 * "a=tcap:1 RTP/AVPF" and "a=pcfg:1 t=1", and the feedback the AGW passes
 * through (it relays RTCP as it comes, so feedback only needs agreeing):
 * nack, nack pli, ccm fir and ccm tmmbr. A core that knows AVPF answers
 * RTP/AVPF with "a=acfg:1 t=1"; one that does not answers RTP/AVP and
 * ignores the rest. The other way, a core offer of RTP/AVP with an AVPF
 * potential configuration is answered in RTP/AVPF with its acfg, the
 * browser's feedback lines kept. Browser-side feedback that needs what
 * the core never sees (transport-cc, goog-remb: RTP header extensions
 * and Google's REMB) is not offered to the core.
 */
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"


static const char *fb_core[] = {
	"nack", "nack pli", "ccm fir", "ccm tmmbr",
};


/**
 * Whether an a=rtcp-fb argument ("<pt> <type> [<param>]") may go to the
 * core
 *
 * @param arg The attribute's argument
 *
 * @return true if its type is one the core side agrees to
 */
bool sdpx_fb_to_core(const struct pl *arg)
{
	struct pl rest = *arg, pt;
	size_t i;

	if (!sdpx_token(&rest, &pt))
		return false;

	while (rest.l && (rest.p[0] == ' ' || rest.p[0] == '\t'))
		pl_advance(&rest, 1);

	for (i = 0; i < ARRAY_SIZE(fb_core); i++) {
		if (!pl_strcasecmp(&rest, fb_core[i]))
			return true;
	}

	return false;
}


/**
 * Whether an m-line toward the core is offered AVPF by capability
 * negotiation: a video m-line that is not transcoded
 */
bool sdpx_avpf_offered(const struct sdpx_ml *ml)
{
	return ml->kind == SDPX_VIDEO && !ml->xc && !ml->xcoded;
}


/** Write the AVPF transport capability and potential configuration */
int sdpx_avpf_write_offer(struct mbuf *mb)
{
	return mbuf_write_str(mb, "a=tcap:1 RTP/AVPF\r\na=pcfg:1 t=1\r\n");
}


/* the number of RTP/AVPF in an a=tcap argument ("<n> <proto>..."), 0 if
   not there */
static unsigned tcap_avpf(const struct pl *arg)
{
	struct pl rest = *arg, tok;
	unsigned n, i;

	if (!sdpx_token(&rest, &tok) || !sdpx_digits(&tok, 3))
		return 0;

	n = pl_u32(&tok);
	for (i = 0; n && sdpx_token(&rest, &tok); i++) {
		if (!pl_strcasecmp(&tok, "RTP/AVPF"))
			return n + i;
	}

	return 0;
}


/* a potential configuration ("<n> t=<a>|<b>,... ...") offering tcap */
static unsigned pcfg_with(const struct pl *arg, unsigned tcap)
{
	struct pl rest = *arg, num, tok, t;

	if (!sdpx_token(&rest, &num) || !sdpx_digits(&num, 3))
		return 0;

	while (sdpx_token(&rest, &tok)) {

		if (tok.l < 3 || tok.p[0] != 't' || tok.p[1] != '=')
			continue;

		t.p = tok.p + 2;
		t.l = tok.l - 2;
		while (t.l) {
			size_t k = 0;
			struct pl one;

			while (k < t.l && t.p[k] != '|' && t.p[k] != ',')
				++k;
			one.p = t.p;
			one.l = k;
			if (sdpx_digits(&one, 3) && pl_u32(&one) == tcap)
				return pl_u32(&num);
			pl_advance(&t, min(k + 1, t.l));
		}
	}

	return 0;
}


/**
 * A core offer of RTP/AVP with a potential configuration of RTP/AVPF:
 * remember it for the answer (ml->acfg, ml->acfg_t)
 *
 * @param ml The m-line's state
 * @param m  The core's m-line
 */
void sdpx_avpf_core_offer(struct sdpx_ml *ml, const struct sdpx_media *m)
{
	struct pl name, arg;
	unsigned tcap = 0;
	size_t i;

	ml->acfg = 0;
	ml->acfg_t = 0;

	if (pl_strcasecmp(&m->proto, "RTP/AVP"))
		return;

	for (i = 0; i < m->linec && !tcap; i++) {
		if (m->linev[i].type != 'a')
			continue;
		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (!pl_strcasecmp(&name, "tcap"))
			tcap = tcap_avpf(&arg);
	}

	for (i = 0; tcap && i < m->linec && !ml->acfg; i++) {
		if (m->linev[i].type != 'a')
			continue;
		sdpx_attr_split(&m->linev[i].val, &name, &arg);
		if (!pl_strcasecmp(&name, "pcfg"))
			ml->acfg = pcfg_with(&arg, tcap);
	}

	if (ml->acfg)
		ml->acfg_t = tcap;
}

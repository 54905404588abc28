/**
 * @file msg.c  eP-CSCF message building: header copies, relays, routes
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "../core/conf.h"
#include "../sip/sipx.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"


/**
 * Print every header of a message but Content-Length (the body writer
 * prints its own) and those the skip handler names
 *
 * @param mb    Buffer
 * @param msg   SIP message
 * @param skiph Skip handler (may be NULL)
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_print_hdrs(struct mbuf *mb, const struct sip_msg *msg,
		  pc_hdr_skip_h *skiph, void *arg)
{
	struct le *le;
	int err = 0;

	for (le = msg->hdrl.head; le && !err; le = le->next) {
		const struct sip_hdr *hdr = le->data;

		if (hdr->id == SIP_HDR_CONTENT_LENGTH)
			continue;

		if (skiph && skiph(hdr, arg))
			continue;

		err = mbuf_write_pl(mb, &hdr->name);
		err |= mbuf_write_mem(mb, (const uint8_t *)": ", 2);
		err |= pc_print_unfolded(mb, &hdr->val);
		err |= mbuf_write_str(mb, "\r\n");
	}

	return err;
}


/**
 * Print one parameter of a comma-separated list: " name" or ", name", and
 * "=value" if it has one (without the cost of a format string: this runs
 * for every parameter of every relayed Authorization header)
 *
 * @param mb    Buffer
 * @param first True for the first parameter
 * @param name  Parameter name
 * @param val   Parameter value, unset if none
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_print_param(struct mbuf *mb, bool first, const struct pl *name,
		   const struct pl *val)
{
	int err;

	err = first ? mbuf_write_u8(mb, ' ') :
		mbuf_write_mem(mb, (const uint8_t *)", ", 2);
	err |= mbuf_write_pl(mb, name);
	if (pl_isset(val)) {
		err |= mbuf_write_u8(mb, '=');
		err |= mbuf_write_pl(mb, val);
	}

	return err;
}


/**
 * Print a header value with each line fold (CRLF and blanks) replaced by
 * one space (RFC 3261 7.3.1), so what follows reads it as one line
 *
 * @param mb  Buffer
 * @param val Header value
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_print_unfolded(struct mbuf *mb, const struct pl *val)
{
	const char *p = val->p, *end = val->p + val->l;
	int err = 0;

	while (p < end && !err) {
		/* the next CR or LF (memchr: most values have none) */
		const char *cr = memchr(p, '\r', end - p);
		const char *q = memchr(p, '\n', (cr ? cr : end) - p);

		if (!q)
			q = cr ? cr : end;

		err = mbuf_write_mem(mb, (const uint8_t *)p, q - p);
		if (q == end)
			break;

		while (q < end && (*q == '\r' || *q == '\n' || *q == ' ' ||
				   *q == '\t'))
			++q;
		if (!err && q < end)
			err = mbuf_write_u8(mb, ' ');
		p = q;
	}

	return err;
}


/**
 * Print Content-Length, the blank line and the body of a message
 *
 * @param mb  Buffer
 * @param msg SIP message (body from msg->mb->pos)
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_print_body(struct mbuf *mb, const struct sip_msg *msg)
{
	size_t n = mbuf_get_left(msg->mb);

	return mbuf_printf(mb, "Content-Length: %zu\r\n\r\n%b", n,
			   mbuf_buf(msg->mb), n);
}


struct relay {
	pc_hdr_skip_h *skiph;
	void *arg;
	bool via_seen;
};


static bool relay_skip(const struct sip_hdr *hdr, void *arg)
{
	struct relay *r = arg;

	if (hdr->id == SIP_HDR_VIA && !r->via_seen) {
		r->via_seen = true;
		return true;        /* our own Via */
	}

	return r->skiph ? r->skiph(hdr, r->arg) : false;
}


/**
 * Print a response for relaying: our Via (the top one) removed
 *
 * @param mb    Buffer
 * @param msg   Response
 * @param skiph Further headers to skip (may be NULL)
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_response_relay(struct mbuf *mb, const struct sip_msg *msg,
		      pc_hdr_skip_h *skiph, void *arg)
{
	struct relay r = {skiph, arg, false};
	int err;

	err  = mbuf_printf(mb, "SIP/2.0 %u %r\r\n", msg->scode, &msg->reason);
	err |= pc_print_hdrs(mb, msg, relay_skip, &r);

	return err;
}


/**
 * Tell whether a Route value names this eP-CSCF: a valid flow token as
 * user part, or our Mw address
 *
 * @param p   eP-CSCF
 * @param val Route header value (one entry)
 * @param idp Set to the flow's connection id if the URI carries a token
 *
 * @return true if ours
 */
bool pc_route_is_ours(const struct pcscf *p, const struct pl *val,
		      uint64_t *idp)
{
	struct sip_addr addr;
	struct sa sa;

	*idp = 0;

	if (sip_addr_decode(&addr, val))
		return false;

	if (pl_isset(&addr.uri.user) &&
	    !flow_token_decode(p, &addr.uri.user, idp))
		return true;

	if (sa_set(&sa, &addr.uri.host, addr.uri.port ? addr.uri.port : 5060))
		return false;

	if (!sa_cmp(&sa, &p->mw_addr, SA_ALL))
		return false;

	/* a token of ours that no longer verifies (from before a restart)
	   names a flow that has gone */
	if (pl_isset(&addr.uri.user) && addr.uri.user.l == PC_TOKEN_LEN &&
	    addr.uri.user.p[0] == 'f' && addr.uri.user.p[1] == 'l')
		*idp = PC_FLOW_STALE;

	return true;
}


/**
 * Compare two SIP or tel URIs by scheme, user and host (the parts that
 * name an identity), ignoring parameters and case of the host
 *
 * @param a URI
 * @param b URI
 *
 * @return true if equal
 */
bool pc_uri_eq(const struct pl *a, const struct pl *b)
{
	struct uri ua, ub;

	/* the usual case (an AOR against its own binding): the same bytes
	   are equal either way below, without two URI decodes */
	if (a && b && a->l == b->l && a->p && b->p &&
	    !memcmp(a->p, b->p, a->l))
		return true;

	if (uri_decode(&ua, a) || uri_decode(&ub, b))
		return 0 == pl_casecmp(a, b);

	return 0 == pl_casecmp(&ua.scheme, &ub.scheme) &&
		0 == pl_cmp(&ua.user, &ub.user) &&
		0 == pl_casecmp(&ua.host, &ub.host);
}


/**
 * Methods that create a dialog, and so get our Record-Route
 *
 * @param met Method
 *
 * @return true if dialog-forming
 */
bool pc_dialog_forming(const struct pl *met)
{
	return !pl_strcmp(met, "INVITE") || !pl_strcmp(met, "SUBSCRIBE") ||
		!pl_strcmp(met, "REFER");
}


/**
 * The URI of a name-addr or addr-spec header value
 *
 * @param uri Returned URI
 * @param val Header value
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_hdr_value_uri(struct pl *uri, const struct pl *val)
{
	struct sip_addr addr;
	int err;

	err = sip_addr_decode(&addr, val);
	if (err)
		return err;

	*uri = addr.auri;

	return 0;
}


static bool name_listed(const struct pl *name, const char * const *names,
			size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!pl_strcasecmp(name, names[i]))
			return true;
	}

	return false;
}


/**
 * Tell whether credentials name an AKA algorithm: "algorithm=" then
 * "AKAv", quoted or not, in any case (a scan: re_regex would try its
 * whole pattern at every position of the header)
 *
 * @param val Authorization header value
 *
 * @return true if AKA
 */
bool pc_auth_is_aka(const struct pl *val)
{
	static const char name[] = "algorithm=";
	const char *p, *end;

	if (!pl_isset(val))
		return false;

	end = val->p + val->l;
	for (p = val->p; (size_t)(end - p) >= sizeof(name) - 1; p++) {
		const char *v = p + sizeof(name) - 1;

		if ((*p | 0x20) != 'a' ||
		    strncasecmp(p, name, sizeof(name) - 1))
			continue;

		while (v < end && *v == '"')
			++v;

		if (end - v >= 4 && !strncasecmp(v, "AKAv", 4))
			return true;
	}

	return false;
}


/**
 * Print an authentication header value (scheme, then comma-separated
 * auth-params) without the named parameters, read with the one
 * parameter scanner (sipx_param_next)
 *
 * @param mb    Buffer
 * @param val   Header value, e.g. Digest realm="x", ck="..."
 * @param names Parameter names to remove
 * @param n     Number of names
 *
 * @return 0 if success, EBADMSG if the value does not scan (then only
 *         the scheme and the parameters before the fault are printed)
 */
int pc_strip_params(struct mbuf *mb, const struct pl *val,
		    const char * const *names, size_t n)
{
	struct pl scheme, rest, name, v;
	bool first = true;
	int err;

	err = sipx_auth_split(val, &scheme, &rest);
	if (err)
		return err;

	err = mbuf_write_pl(mb, &scheme);

	while (!err && !(err = sipx_param_next(&rest, ',', &name, &v))) {
		if (name_listed(&name, names, n))
			continue;

		err = pc_print_param(mb, first, &name, &v);
		first = false;
	}

	return err == ENOENT ? 0 : err;
}


/**
 * Trim blanks at both ends
 *
 * @param pl String
 */
void pc_trim(struct pl *pl)
{
	while (pl->l && (pl->p[0] == ' ' || pl->p[0] == '\t')) {
		++pl->p;
		--pl->l;
	}

	while (pl->l && (pl->p[pl->l - 1] == ' ' ||
			 pl->p[pl->l - 1] == '\t'))
		--pl->l;
}


/**
 * Case-insensitive prefix test
 *
 * @param pl     String
 * @param prefix Prefix
 *
 * @return true if pl starts with prefix
 */
bool pc_prefix(const struct pl *pl, const char *prefix)
{
	size_t n = strlen(prefix);

	return pl->l >= n && !strncasecmp(pl->p, prefix, n);
}


/**
 * Choose the transport for a request toward the core: a message over
 * 1300 bytes goes over TCP unless the hop demands UDP... which RFC 3261
 * 18.1.1 does not allow for large requests, so TCP it is
 *
 * @param p   eP-CSCF
 * @param uri Next-hop URI; its params are replaced when switching
 * @param str Storage for replaced params (at least 32 bytes long)
 * @param mb  Message without our Via (about 60 bytes more go on top)
 *
 * @return 0
 */
int pc_next_hop(struct pcscf *p, struct uri *uri, struct pl *str,
		const struct mbuf *mb)
{
	struct pl tp;
	(void)p;

	if (mbuf_get_left(mb) + 100 <= 1300)
		return 0;

	if (!sipx_param_get(&uri->params, ';', "transport", &tp) &&
	    pl_strcasecmp(&tp, "udp"))
		return 0;   /* already a stream transport */

	uri->params = *str;

	return 0;
}


/**
 * Send a request toward the core: to the first Route (hop), or to
 * mw_next_hop; over TCP when large (RFC 3261 18.1.1)
 *
 * @param p     eP-CSCF
 * @param met   Method
 * @param ruri  Request-URI
 * @param mb    Headers after our Via, and body
 * @param hop   Header value naming the next hop, or NULL
 * @param reqp  Client transaction (NULL: stateless)
 * @param resph Response handler (NULL: stateless)
 * @param arg   Handler argument
 *
 * @return 0 if success, otherwise errorcode
 */
int pc_send_core(struct pcscf *p, const struct pl *met, const struct pl *ruri,
		 struct mbuf *mb, const struct pl *hop,
		 struct sip_request **reqp, sip_resp_h *resph, void *arg)
{
	static const struct pl tcp_params = PL(";lr;transport=tcp");
	struct uri uri;
	struct pl pl;
	int err = 0;

	if (hop && pl_isset(hop)) {
		err = pc_hdr_value_uri(&pl, hop);
		if (!err)
			err = uri_decode(&uri, &pl);
	}
	else {
		uri = p->next_hop;
	}
	if (err)
		return err;

	pl = tcp_params;
	(void)pc_next_hop(p, &uri, &pl, mb);

	mb->pos = 0;

	return sip_request(reqp, p->sip, reqp != NULL, met->p, (int)met->l,
			   ruri->p, (int)ruri->l, &uri, mb, 0, NULL, resph,
			   arg);
}

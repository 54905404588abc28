/**
 * @file flow.c  Flows: the eP-CSCF's state per W2 connection, and the
 *               flow tokens (RFC 5626 style) that name them in Path and
 *               Record-Route
 *
 * A token is "fl", the connection id in hex and a truncated
 * HMAC-SHA-256 of the id under a per-process key, so the core can only
 * route to connections this eP-CSCF handed out.
 */
#include <string.h>
#include <re.h>
#include <mbedtls/md.h>
#include "../core/conf.h"
#include "../w2/w2.h"
#include "pcscf.h"
#include "pcscf_int.h"


static void flow_destructor(void *arg)
{
	struct flow *fl = arg;

	hash_unlink(&fl->he);
	list_flush(&fl->regl);
	mem_deref(fl->impi_bound);
	mem_deref(fl->tok);
	mem_deref(fl->claims);
}


static uint32_t token_mac(const struct pcscf *p, uint64_t id)
{
	uint8_t in[8], out[32];
	size_t i;

	for (i = 0; i < 8; i++)
		in[i] = (uint8_t)(id >> (56 - 8 * i));

	(void)mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
			      p->key, sizeof(p->key), in, sizeof(in), out);

	return (uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 |
		(uint32_t)out[2] << 8 | out[3];
}


/**
 * Print the flow token of a connection id
 *
 * @param p   eP-CSCF
 * @param id  Connection id
 * @param buf Buffer of at least PC_TOKEN_LEN + 1 bytes
 * @param sz  Size of buf
 */
void flow_token_print(const struct pcscf *p, uint64_t id, char *buf,
		      size_t sz)
{
	(void)re_snprintf(buf, sz, "fl%016llx%08x", (unsigned long long)id,
			  token_mac(p, id));
}


static bool id_cmp(struct le *le, void *arg)
{
	const struct flow *fl = le->data;

	return fl->id == *(const uint64_t *)arg;
}


/**
 * Find a flow by its connection id
 *
 * @param p  eP-CSCF
 * @param id Connection id
 *
 * @return Flow, or NULL
 */
struct flow *flow_lookup(struct pcscf *p, uint64_t id)
{
	return list_ledata(hash_lookup(p->flows, (uint32_t)id, id_cmp, &id));
}


/**
 * The flow of a W2 connection, made on its first message
 *
 * @param p    eP-CSCF
 * @param conn W2 connection
 *
 * @return Flow, or NULL if out of memory
 */
struct flow *flow_get(struct pcscf *p, struct w2_conn *conn)
{
	uint64_t id = w2_conn_id(conn);
	struct flow *fl = flow_lookup(p, id);

	if (fl)
		return fl;

	fl = mem_zalloc(sizeof(*fl), flow_destructor);
	if (!fl)
		return NULL;

	fl->p    = p;
	fl->id   = id;
	fl->conn = conn;
	flow_token_print(p, id, fl->token, sizeof(fl->token));
	hash_append(p->flows, (uint32_t)id, &fl->he, fl);

	return fl;
}


/**
 * Forget a closed W2 connection: its bindings go, its pending
 * transactions are answered
 *
 * @param p    eP-CSCF
 * @param conn W2 connection going away
 */
void flow_gone(struct pcscf *p, struct w2_conn *conn)
{
	struct flow *fl = flow_lookup(p, w2_conn_id(conn));

	if (!fl)
		return;

	fl->conn = NULL;
	call_flow_gone(p, fl);
	term_flow_gone(p, fl);
	orig_flow_gone(p, fl);
	binding_flush(p, fl);
	mem_deref(fl);
}


static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}


/**
 * Decode and authenticate a flow token
 *
 * @param p    eP-CSCF
 * @param user URI user part
 * @param idp  Returned connection id
 *
 * @return 0 if valid, otherwise EBADMSG
 */
int flow_token_decode(const struct pcscf *p, const struct pl *user,
		      uint64_t *idp)
{
	uint64_t id = 0;
	uint32_t mac = 0;
	size_t i;

	if (user->l != PC_TOKEN_LEN || user->p[0] != 'f' || user->p[1] != 'l')
		return EBADMSG;

	for (i = 2; i < PC_TOKEN_LEN; i++) {
		int v = hexval(user->p[i]);

		if (v < 0)
			return EBADMSG;

		if (i < 18)
			id = id << 4 | (uint64_t)v;
		else
			mac = mac << 4 | (uint32_t)v;
	}

	if (!id || mac != token_mac(p, id))
		return EBADMSG;

	*idp = id;

	return 0;
}


/**
 * Per-connection request rate limit (a one-second window)
 *
 * @param fl Flow
 *
 * @return true if the request may proceed
 */
bool flow_rate_ok(struct flow *fl)
{
	uint32_t limit = fl->p->conf->w2_rate_limit;
	uint64_t now = tmr_jiffies();

	if (!limit)
		return true;

	if (now - fl->rate_t0 >= 1000) {
		fl->rate_t0 = now;
		fl->rate_n  = 0;
	}

	return ++fl->rate_n <= limit;
}


/**
 * The binding that holds an identity (its AOR or one of its associated
 * URIs)
 *
 * @param fl  Flow
 * @param uri Identity
 *
 * @return Binding, or NULL if no registration on this flow covers it
 */
const struct binding *flow_identity(const struct flow *fl,
				    const struct pl *uri)
{
	struct le *le, *la;

	for (le = fl->regl.head; le; le = le->next) {
		const struct binding *b = le->data;
		struct pl aor;

		pl_set_str(&aor, b->aor);
		if (pc_uri_eq(&aor, uri))
			return b;

		for (la = b->assoc.head; la; la = la->next) {
			const struct pc_str *s = la->data;
			struct pl a;

			pl_set_str(&a, s->s);
			if (pc_uri_eq(&a, uri))
				return b;
		}
	}

	return NULL;
}

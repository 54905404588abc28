/**
 * @file upgrade.c  WebSocket opening handshake, server side (RFC 6455 4.2)
 */
#include <string.h>
#include <re.h>
#include <re_sha.h>
#include "ws.h"

static const char magic[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";


/**
 * Check an HTTP request for a valid WebSocket Upgrade
 *
 * @param up     Returned key, Origin and offered subprotocols
 * @param msg    HTTP request
 * @param reason Set to a short reason on failure
 *
 * @return 0 if valid, otherwise the HTTP status to answer with
 */
int ws_upgrade_decode(struct ws_upgrade *up, const struct http_msg *msg,
		      const char **reason)
{
	const struct http_hdr *hdr;
	uint8_t key[32];
	size_t keylen = sizeof(key);

	if (!up || !msg || !reason)
		return 500;

	memset(up, 0, sizeof(*up));

	if (pl_strcmp(&msg->met, "GET")) {
		*reason = "method is not GET";
		return 405;
	}

	if (pl_strcmp(&msg->ver, "1.1")) {
		*reason = "HTTP version is not 1.1";
		return 400;
	}

	if (!http_msg_hdr_has_value(msg, HTTP_HDR_UPGRADE, "websocket")) {
		*reason = "no Upgrade: websocket";
		return 426;
	}

	if (!http_msg_hdr_has_value(msg, HTTP_HDR_CONNECTION, "Upgrade")) {
		*reason = "no Connection: Upgrade";
		return 400;
	}

	if (!http_msg_hdr_has_value(msg, HTTP_HDR_SEC_WEBSOCKET_VERSION,
				    "13")) {
		*reason = "Sec-WebSocket-Version is not 13";
		return 426;
	}

	/* one key, at most one Origin: a second one could be read by a
	   proxy in front of us where we read the first */
	hdr = http_msg_hdr(msg, HTTP_HDR_SEC_WEBSOCKET_KEY);
	if (!hdr || http_msg_hdr_count(msg, HTTP_HDR_SEC_WEBSOCKET_KEY) > 1 ||
	    hdr->val.l != 24 ||
	    base64_decode(hdr->val.p, hdr->val.l, key, &keylen) ||
	    keylen != 16) {
		*reason = "bad Sec-WebSocket-Key";
		return 400;
	}
	up->key = hdr->val;

	if (http_msg_xhdr_count(msg, "Origin") > 1) {
		*reason = "several Origin";
		return 400;
	}

	hdr = http_msg_xhdr(msg, "Origin");
	if (hdr)
		up->origin = hdr->val;

	up->msg = msg;

	return 0;
}


static bool proto_handler(const struct http_hdr *hdr, void *arg)
{
	return 0 == pl_strcmp(&hdr->val, (const char *)arg);
}


/**
 * Tell whether the client offered a subprotocol (compared
 * case-sensitively, as RFC 6455 11.3.4 requires; libre splits the
 * comma-separated list into one header per token)
 *
 * @param up    Decoded upgrade
 * @param proto Subprotocol name
 *
 * @return true if offered
 */
bool ws_upgrade_has_protocol(const struct ws_upgrade *up, const char *proto)
{
	if (!up || !up->msg || !proto)
		return false;

	return NULL != http_msg_hdr_apply(up->msg, true,
					  HTTP_HDR_SEC_WEBSOCKET_PROTOCOL,
					  proto_handler, (void *)proto);
}


static int accept_print(struct re_printf *pf, const struct pl *key)
{
	uint8_t digest[SHA1_DIGEST_SIZE];
	SHA1_CTX ctx;

	SHA1_Init(&ctx);
	SHA1_Update(&ctx, key->p, key->l);
	SHA1_Update(&ctx, magic, sizeof(magic) - 1);
	SHA1_Final(digest, &ctx);

	return base64_print(pf, digest, sizeof(digest));
}


/**
 * Write the 101 Switching Protocols response
 *
 * @param mb    Buffer to write to
 * @param up    Decoded upgrade
 * @param proto Selected subprotocol
 *
 * @return 0 if success, otherwise errorcode
 */
int ws_upgrade_accept(struct mbuf *mb, const struct ws_upgrade *up,
		      const char *proto)
{
	if (!mb || !up || !proto || up->key.l != 24)
		return EINVAL;

	return mbuf_printf(mb,
			   "HTTP/1.1 101 Switching Protocols\r\n"
			   "Upgrade: websocket\r\n"
			   "Connection: Upgrade\r\n"
			   "Sec-WebSocket-Accept: %H\r\n"
			   "Sec-WebSocket-Protocol: %s\r\n"
			   "\r\n",
			   accept_print, &up->key, proto);
}

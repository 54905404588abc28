/**
 * @file fuzz_ws_upgrade.c  Fuzz the W2 HTTP Upgrade path: libre's HTTP
 *                          parser, the upgrade checks, the Origin policy
 */
#include <string.h>
#include <re.h>
#include "core/conf.h"
#include "ws/ws.h"
#include "httpx/httpx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}

static const char cfg[] =
	"w2_listen 127.0.0.1:7443\n"
	"tls_cert c.pem\n"
	"tls_key k.pem\n"
	"w2_origin https://wwsf.example.net:8443\n"
	"mw_listen 127.0.0.1:5070\n"
	"mw_next_hop sip:127.0.0.1\n";


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct imsedge_conf *conf;
	struct http_msg *msg = NULL;
	struct ws_upgrade up;
	struct mbuf *mb, *rsp;
	const char *reason;
	char errbuf[128];

	if (!conf && conf_parse(&conf, "fuzz", cfg, sizeof(cfg) - 1, errbuf,
				sizeof(errbuf)))
		return 0;

	if (size > 8192)   /* W2 caps the request at 8 KiB */
		return 0;

	mb = mbuf_alloc(size + 1);
	if (!mb)
		return 0;
	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (http_msg_decode(&msg, mb, true))
		goto out;

	/* as W2 does: the head's lines, then Host */
	if (httpx_head_check(mb->buf, mb->pos, 64, &reason) ||
	    httpx_host_check(msg, &reason))
		goto out;

	if (ws_upgrade_decode(&up, msg, &reason))
		goto out;

	(void)conf_origin_allowed(conf, &up.origin);
	(void)ws_upgrade_has_protocol(&up, "sip");

	rsp = mbuf_alloc(256);
	if (rsp)
		(void)ws_upgrade_accept(rsp, &up, "sip");
	mem_deref(rsp);

 out:
	mem_deref(msg);
	mem_deref(mb);
	return 0;
}

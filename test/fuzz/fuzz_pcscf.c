/**
 * @file fuzz_pcscf.c  Fuzz the eP-CSCF's handling of SIP as received on
 *                     W2 (a REGISTER rewritten toward the core) and on Mw
 *                     (Route scanning for flow tokens, responses relayed
 *                     with challenges stripped)
 */
#include <string.h>
#include <re.h>
#include "core/conf.h"
#include "sip/sipx.h"
#include "w2/w2.h"
#include "pcscf/pcscf.h"
#include "pcscf/pcscf_int.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pcscf p;
static struct imsedge_conf *conf;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char cfg[] =
		"w2_listen 127.0.0.1:7443\ntls_cert c\ntls_key k\n"
		"w2_origin https://a.example\nmw_listen 127.0.0.1:5070\n"
		"mw_next_hop sip:127.0.0.1:5060\n";
	char errbuf[128];
	int err;
	(void)argc;
	(void)argv;

	err = libre_init();
	if (err)
		return err;

	memset(p.key, 0x5a, sizeof(p.key));
	err = conf_parse(&conf, "fuzz", cfg, sizeof(cfg) - 1, errbuf,
			 sizeof(errbuf));
	p.conf = conf;

	return err ? err : sa_set_str(&p.mw_addr, "127.0.0.1", 5070);
}


static bool route_h(const struct sip_hdr *hdr, const struct sip_msg *msg,
		    void *arg)
{
	uint64_t id;
	(void)msg;
	(void)arg;

	(void)pc_route_is_ours(&p, &hdr->val, &id);
	return false;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	struct flow fl;
	struct mbuf *mb;
	struct pl uri;
	const struct sip_hdr *hdr;

	if (size > 65536 || sipx_decode(&msg, data, size))
		return 0;

	mb = mbuf_alloc(1024);
	if (!mb)
		goto out;

	(void)sip_msg_hdr_apply(msg, true, SIP_HDR_ROUTE, route_h, NULL);

	hdr = sip_msg_hdr(msg, SIP_HDR_P_PREFERRED_IDENTITY);
	if (hdr)
		(void)pc_hdr_value_uri(&uri, &hdr->val);

	if (msg->req) {
		memset(&fl, 0, sizeof(fl));
		fl.p = &p;
		fl.impi_bound = "alice@ims.test";
		flow_token_print(&p, 1, fl.token, sizeof(fl.token));
		if (pl_isset(&msg->maxfwd))
			(void)reg_print_request(mb, &p, &fl, msg, NULL);
	}
	else {
		(void)pc_response_relay(mb, msg, reg_skip_rsp, NULL);
		(void)reg_print_challenge(mb, msg);
		(void)pc_print_body(mb, msg);
	}

 out:
	mem_deref(mb);
	mem_deref(msg);
	return 0;
}

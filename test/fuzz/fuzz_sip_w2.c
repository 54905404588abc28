/**
 * @file fuzz_sip_w2.c  Fuzz SIP as received in one WebSocket message (or
 *                      one Mw datagram): decode, validate, local reply
 */
#include <string.h>
#include <re.h>
#include "sip/sipx.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	struct mbuf *mb;
	int err;

	if (size > 65536)
		return 0;

	err = sipx_decode(&msg, data, size);
	if (err && msg) {
		/* decoded at fault: W2 answers a request with the status */
		const char *why = NULL;
		uint16_t scode = sipx_fault(err, &why);

		mb = msg->req ? mbuf_alloc(512) : NULL;
		if (mb)
			(void)sipx_reply(mb, msg, scode, why, NULL);
		mem_deref(mb);
		mem_deref(msg);
		return 0;
	}
	if (err)
		return 0;

	if (!sipx_validate(msg, &reason) && msg->req) {
		mb = mbuf_alloc(512);
		if (mb)
			(void)sipx_reply(mb, msg, 200, "OK", NULL);
		mem_deref(mb);
	}
	else if (msg->req) {
		mb = mbuf_alloc(512);
		if (mb)
			(void)sipx_reply(mb, msg, 400, reason ? reason : "Bad",
					 NULL);
		mem_deref(mb);
	}

	mem_deref(msg);
	return 0;
}

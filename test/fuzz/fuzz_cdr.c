/**
 * @file fuzz_cdr.c  Fuzz the call record: a SIP message (an INVITE or
 *                   its answer, from either side) decoded by libre, then
 *                   the record's parties and its codec taken from the SDP
 *                   body, and the record logged with every end reason.
 */
#include <string.h>
#include <re.h>
#include "core/log.h"
#include "agw/agw.h"
#include "cdr/cdr.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	(void)libre_init();
	log_init(LOG_LVL_ERROR + 1, false);    /* format, print nothing */
	return 0;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sip_msg *msg = NULL;
	struct cdr *r = NULL;
	struct agw_stats st;
	struct mbuf *mb;

	mb = mbuf_alloc(size + 1);
	if (!mb)
		return 0;

	(void)mbuf_write_mem(mb, data, size);
	mb->pos = 0;

	if (!sip_msg_decode(&msg, mb) &&
	    !cdr_alloc(&r, msg, size & 1, size & 2)) {
		memset(&st, 0xff, sizeof(st));
		cdr_sdp(r, msg);
		cdr_status(r, msg->scode);
		cdr_answered(r);
		cdr_emit(r, (enum cdr_end)(size % 20), &st);
		(void)cdr_end_of(msg->scode);
	}

	mem_deref(r);
	mem_deref(msg);
	mem_deref(mb);
	return 0;
}

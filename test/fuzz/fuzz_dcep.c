/**
 * @file fuzz_dcep.c  Fuzz the DCEP codec (RFC 8832): decode, and an
 *                    OPEN that decodes must encode back to the same bytes
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "dc/dc.h"

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
	struct dcep_open o;
	enum dcep_type t;
	struct mbuf *mb;

	if (dcep_decode(&t, &o, data, size) || t != DCEP_OPEN)
		return 0;

	mb = mbuf_alloc(size);
	if (!mb)
		return 0;

	if (dcep_encode_open(mb, &o) || mb->end != size ||
	    memcmp(mb->buf, data, size))
		abort();

	mem_deref(mb);

	return 0;
}

/**
 * @file fuzz_msrp.c  Fuzz the MSRP parser (RFC 4975) as the AGW's relay
 *                    uses it: messages taken one after another from the
 *                    front of the input (a TCP stream), each written
 *                    again with new paths, whole and split into pieces,
 *                    and the result parsed back
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "msrp/msrp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


static void again(struct mbuf *mb, const struct msrp_msg *m)
{
	struct msrp_msg b;
	size_t i, n, off = 0, max = 7;

	mbuf_reset(mb);
	if (msrp_encode(mb, m, "msrp://a.invalid/s1;dc",
			"msrp://127.0.0.1:5/s2;tcp"))
		return;

	if (msrp_decode(&b, mb->buf, mb->end) ||
	    b.len != mb->end || b.flag != m->flag ||
	    b.body.l != m->body.l)
		abort();

	n = msrp_pieces(m, max);
	for (i = 0; i < n && n > 1; i++) {
		size_t len = m->body.l - off < max ? m->body.l - off : max;

		mbuf_reset(mb);
		if (msrp_encode_piece(mb, m, "msrp://a/b;tcp", "msrp://c/d;tcp",
				      "piece1", off, len))
			return;
		if (msrp_decode(&b, mb->buf, mb->end) || b.body.l != len)
			abort();
		off += len;
	}
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbuf *mb = mbuf_alloc(1024);
	struct msrp_msg m;
	size_t pos = 0;

	if (!mb)
		return 0;

	while (pos < size) {
		if (msrp_decode(&m, data + pos, size - pos))
			break;

		again(mb, &m);
		pos += m.len;
	}

	mem_deref(mb);

	return 0;
}

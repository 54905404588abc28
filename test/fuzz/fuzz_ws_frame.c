/**
 * @file fuzz_ws_frame.c  Fuzz the WebSocket frame decoder and the
 *                        message layer (reassembly, control frames,
 *                        limits) on a detached connection
 *
 * The first input byte sets the chunk size the rest is fed in, so TCP
 * segmentation is fuzzed too. A second connection holding a partial
 * frame shares a small buffer budget with it (eviction and refusal
 * paths, close 1013); after both are gone the budget must be back to
 * zero.
 */
#include <stdlib.h>
#include <string.h>
#include <re.h>
#include "ws/ws.h"
#include "core/budget.h"

enum {
	BUDGET   = 4096,
	HOG_HAVE = 2900,   /* of a 3000-byte frame */
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}

static void msg_h(enum ws_opcode op, struct mbuf *mb, void *arg)
{
	/* touch every byte, as the SIP parser would */
	size_t i, *sum = arg;
	(void)op;

	for (i = mb->pos; i < mb->end; i++)
		*sum += mb->buf[i];
}


static void closed_h(int err, uint16_t code, void *arg)
{
	(void)err;
	(void)code;
	(void)arg;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ws_conn_prm prm = {.max_message = 4096};
	struct ws_conn *wc = NULL, *hog = NULL;
	/* a masked text frame of 3000 bytes, of which HOG_HAVE arrive */
	static uint8_t hog_bytes[HOG_HAVE] = {0x81, 0xfe, 0x0b, 0xb8};
	struct mbuf *copy, part;
	struct ws_frame f;
	size_t step, pos, sum = 0;

	if (size < 1)
		return 0;

	step = 1 + data[0];
	++data;
	--size;

	/* the bare decoder over a private copy (it unmasks in place) */
	copy = mbuf_alloc(size + 1);
	if (!copy)
		return 0;
	(void)mbuf_write_mem(copy, data, size);
	copy->pos = 0;
	while (!ws_frame_decode(&f, copy, 4096))
		copy->pos += (size_t)f.len;
	mem_deref(copy);

	budget_set_limit(BUDGET);
	if (ws_conn_alloc(&hog, NULL, &prm, msg_h, closed_h, &sum))
		return 0;
	part.buf  = (uint8_t *)hog_bytes;
	part.pos  = 0;
	part.end  = sizeof(hog_bytes);
	part.size = part.end;
	(void)ws_conn_recv(hog, &part);

	if (ws_conn_alloc(&wc, NULL, &prm, msg_h, closed_h, &sum)) {
		mem_deref(hog);
		return 0;
	}

	for (pos = 0; pos < size; pos += step) {
		part.buf  = (uint8_t *)data + pos;
		part.pos  = 0;
		part.end  = min(step, size - pos);
		part.size = part.end;

		if (ws_conn_recv(wc, &part))
			break;
	}

	mem_deref(wc);
	mem_deref(hog);
	if (budget_used())
		abort();   /* bytes taken and never given back */

	return 0;
}

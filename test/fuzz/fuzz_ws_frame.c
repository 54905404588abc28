/**
 * @file fuzz_ws_frame.c  Fuzz the WebSocket frame decoder and the
 *                        message layer (reassembly, control frames,
 *                        limits) on a detached connection
 *
 * The first input byte sets the chunk size the rest is fed in, so TCP
 * segmentation is fuzzed too.
 */
#include <string.h>
#include <re.h>
#include "ws/ws.h"

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
	struct ws_conn *wc = NULL;
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

	if (ws_conn_alloc(&wc, NULL, &prm, msg_h, closed_h, &sum))
		return 0;

	for (pos = 0; pos < size; pos += step) {
		part.buf  = (uint8_t *)data + pos;
		part.pos  = 0;
		part.end  = min(step, size - pos);
		part.size = part.end;

		if (ws_conn_recv(wc, &part))
			break;
	}

	mem_deref(wc);
	return 0;
}

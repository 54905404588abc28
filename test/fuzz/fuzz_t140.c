/**
 * @file fuzz_t140.c  Fuzz real-time text reception (RFC 4103): the RED
 *                    decoder on the whole input, then the input as RTP
 *                    packets (each a 16-bit big-endian length and the
 *                    packet) into a receiver for t140 98 and red 99
 */
#include <string.h>
#include <re.h>
#include "t140/t140.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t total;


int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;

	return libre_init();
}


static void text_h(const uint8_t *p, size_t n, void *arg)
{
	size_t i;

	(void)arg;

	for (i = 0; i < n; i++)      /* every byte given is readable */
		total += p[i];
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct t140_block bv[T140_GEN_MAX + 1];
	size_t bc = T140_GEN_MAX + 1, pos = 0;
	struct t140_rx *rx = NULL;

	(void)t140_red_decode(bv, &bc, data, size);

	if (t140_rx_alloc(&rx, 98, 99, text_h, NULL))
		return 0;

	while (pos + 2 <= size) {
		const size_t n = (size_t)(data[pos] << 8 | data[pos + 1]);

		pos += 2;
		if (n > size - pos)
			break;

		(void)t140_rx_packet(rx, data + pos, n);
		pos += n;
	}

	mem_deref(rx);

	return 0;
}

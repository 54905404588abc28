/**
 * @file dtls_frag.c  Tests for ClientHello reassembly (a server must take
 *                    Chrome's fragmented ClientHello; D-32)
 */
#include <string.h>
#include <re.h>
#include "tls/dtls_frag.h"
#include "test.h"

enum { MSG_LEN = 1413 };


/* One DTLS record holding bytes [off, off+len) of a ClientHello */
static void record(struct mbuf *mb, const uint8_t *body, uint32_t off,
		   uint32_t len, uint8_t seq)
{
	uint8_t h[25] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, seq};

	h[11] = (uint8_t)((12 + len) >> 8);
	h[12] = (uint8_t)(12 + len);
	h[13] = 1;
	h[14] = 0;
	h[15] = MSG_LEN >> 8;
	h[16] = MSG_LEN & 0xff;
	h[17] = 0;
	h[18] = 0;                        /* message_seq 0 */
	h[19] = (uint8_t)(off >> 16);
	h[20] = (uint8_t)(off >> 8);
	h[21] = (uint8_t)off;
	h[22] = (uint8_t)(len >> 16);
	h[23] = (uint8_t)(len >> 8);
	h[24] = (uint8_t)len;

	(void)mbuf_write_mem(mb, h, sizeof(h));
	(void)mbuf_write_mem(mb, body + off, len);
}


static int feed(struct dtls_frag **f, const uint8_t *body, uint32_t off,
		uint32_t len, uint8_t seq, struct mbuf **outp)
{
	struct mbuf *mb = mbuf_alloc(1500);
	int err;

	if (!mb)
		return ENOMEM;

	record(mb, body, off, len, seq);
	err = dtls_frag_process(f, mb->buf, mb->end, outp);
	mem_deref(mb);

	return err;
}


int test_dtls_frag(void)
{
	struct dtls_frag *f = NULL;
	struct mbuf *out = NULL, *want = NULL;
	uint8_t body[MSG_LEN + 256];   /* room for the overlong fragment */
	size_t i;
	int err = 0;

	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 7 + 3);

	/* a whole ClientHello is not touched */
	{
		struct mbuf *mb = mbuf_alloc(1500);

		TEST_ASSERT(mb);
		record(mb, body, 0, 1000, 1);
		mb->buf[15] = 1000 >> 8;         /* length = 1000: whole */
		mb->buf[16] = 1000 & 0xff;
		err = dtls_frag_process(&f, mb->buf, mb->end, &out);
		mem_deref(mb);
		TEST_ERR(err);
		TEST_ASSERT(out == NULL);
	}

	/* second fragment first, a duplicate, then the first */
	TEST_ERR(feed(&f, body, 1100, MSG_LEN - 1100, 2, &out));
	TEST_ASSERT(out && out->end == 0);
	out = mem_deref(out);
	TEST_ERR(feed(&f, body, 1100, MSG_LEN - 1100, 3, &out));
	TEST_ASSERT(out && out->end == 0);
	out = mem_deref(out);
	TEST_ERR(feed(&f, body, 0, 1100, 4, &out));
	TEST_ASSERT(out);

	/* what mbedtls gets: one record, the message unfragmented */
	want = mbuf_alloc(2000);
	TEST_ASSERT(want);
	record(want, body, 0, MSG_LEN, 4);
	TEST_EQ(out->end, want->end);
	TEST_ASSERT(!memcmp(out->buf, want->buf, want->end));
	out = mem_deref(out);

	/* a fragment reaching past the message is dropped */
	TEST_ERR(feed(&f, body, 1300, 200, 5, &out));
	TEST_ASSERT(out && out->end == 0);

 out:
	mem_deref(out);
	mem_deref(want);
	mem_deref(f);
	return err;
}

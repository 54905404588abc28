/**
 * @file regex.c  libre as patched (0006): re_regex() compiles an
 *                expression once (and keeps it per thread) and must
 *                answer exactly as the original matcher did; a decoded
 *                SIP message keeps its headers in its own allocation and
 *                in blocks beyond it
 */
#include <string.h>
#include <re.h>
#include "test.h"

struct rx_case {
	const char *expr;
	const char *in;
	size_t len;
	int err;
	struct { int off; size_t l; } pl[10];   /* off -1: left unset */
};

#include "regex_cases.h"


static int check_case(const struct rx_case *c, size_t idx)
{
	struct pl a[10];
	int i, err = 0, r;

	memset(a, 0, sizeof(a));
	r = re_regex(c->in, c->len, c->expr, &a[0], &a[1], &a[2], &a[3],
		     &a[4], &a[5], &a[6], &a[7], &a[8], &a[9]);
	if (r != c->err) {
		test_fail_eq(__FILE__, (int)idx, c->expr, r, c->err);
		return EINVAL;
	}

	for (i = 0; i < 10; i++) {
		long long off = a[i].p ? (long long)(a[i].p - c->in) : -1;

		if (off != c->pl[i].off || a[i].l != c->pl[i].l) {
			test_fail_eq(__FILE__, (int)idx, c->expr, off,
				     c->pl[i].off);
			err = EINVAL;
		}
	}

	return err;
}


/* The expressions of libre and imsedge (and some malformed ones, which
   take the original matcher) on realistic and random input, answers and
   every match recorded from libre 1.1.0's own re_regex(); twice, so that
   the second pass answers from the compiled expressions kept */
int test_libre_regex(void)
{
	size_t i;
	int pass, err = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < ARRAY_SIZE(cases); i++) {
			err = check_case(&cases[i], i);
			if (err)
				goto out;
		}
	}

 out:
	return err;
}


/* 100 headers: 24 in the message's own allocation, then blocks of 32;
   every one in order in hdrl, each found by its id and by its name */
int test_sip_many_headers(void)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(8192);
	const struct sip_hdr *h;
	struct le *le;
	int i, err = 0;

	TEST_ASSERT(mb);
	err = mbuf_printf(mb, "OPTIONS sip:a@b SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n"
			  "To: <sip:a@b>\r\nFrom: <sip:c@d>;tag=1\r\n"
			  "Call-ID: x\r\nCSeq: 1 OPTIONS\r\n");
	for (i = 0; i < 95; i++)
		err |= mbuf_printf(mb, "X-H%d: v%d\r\n", i, i);
	err |= mbuf_printf(mb, "Content-Length: 0\r\n\r\n");
	TEST_ERR(err);
	mb->pos = 0;

	TEST_ERR(sip_msg_decode(&msg, mb));
	TEST_EQ(list_count(&msg->hdrl), 101);

	i = -5;
	for (le = msg->hdrl.head; le; le = le->next, i++) {
		char name[16], val[16];

		h = le->data;
		if (i < 0 || i >= 95)
			continue;

		(void)re_snprintf(name, sizeof(name), "X-H%d", i);
		(void)re_snprintf(val, sizeof(val), "v%d", i);
		TEST_EQ(pl_strcmp(&h->name, name), 0);
		TEST_EQ(pl_strcmp(&h->val, val), 0);
		TEST_ASSERT(sip_msg_xhdr(msg, name) == h);
	}

	h = sip_msg_hdr(msg, SIP_HDR_CSEQ);
	TEST_ASSERT(h);
	TEST_EQ(pl_strcmp(&h->val, "1 OPTIONS"), 0);
	TEST_EQ(pl_strcmp(&msg->from.tag, "1"), 0);
	TEST_EQ(pl_strcmp(&msg->via.branch, "z9hG4bK1"), 0);
	TEST_EQ(msg->cseq.num, 1);

 out:
	mem_deref(msg);
	mem_deref(mb);
	return err;
}

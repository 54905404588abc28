/**
 * @file sipx.c  Tests for SIP decoding, validation and local replies
 */
#include <string.h>
#include <re.h>
#include "sip/sipx.h"
#include "test.h"

static const char options[] =
	"OPTIONS sip:edge.example.net SIP/2.0\r\n"
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK56sdasks\r\n"
	"Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKabc\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:edge.example.net>\r\n"
	"From: <sip:alice@example.net>;tag=asdyka899\r\n"
	"Call-ID: asidkj3ss\r\n"
	"CSeq: 1 OPTIONS\r\n"
	"Content-Length: 0\r\n"
	"\r\n";


static int decode(struct sip_msg **msgp, const char *s)
{
	return sipx_decode(msgp, (const uint8_t *)s, strlen(s));
}


int test_sipx_decode(void)
{
	struct sip_msg *msg = NULL;
	char buf[1024];
	int err = 0;

	TEST_ERR(decode(&msg, options));
	TEST_ASSERT(msg->req);
	TEST_ASSERT(!pl_strcmp(&msg->met, "OPTIONS"));
	msg = mem_deref(msg);

	TEST_EQ(decode(&msg, "hello"), EBADMSG);
	TEST_EQ(decode(&msg, ""), EBADMSG);
	TEST_ASSERT(!msg);

	/* a body shorter than Content-Length is malformed, not partial;
	   the message is returned so that it can be answered 400 */
	(void)re_snprintf(buf, sizeof(buf), "%s", options);
	memcpy(strstr(buf, "Content-Length: 0"), "Content-Length: 9", 17);
	TEST_EQ(decode(&msg, buf), EMSGSIZE);
	TEST_ASSERT(msg && msg->req);
	msg = mem_deref(msg);

	/* two messages in one: the same */
	(void)re_snprintf(buf, sizeof(buf), "%s%s", options, options);
	TEST_EQ(decode(&msg, buf), EMSGSIZE);
	TEST_ASSERT(msg && !pl_strcmp(&msg->met, "OPTIONS"));
	msg = mem_deref(msg);

 out:
	mem_deref(msg);
	return err;
}


static int expect_invalid(const char *drop, const char *want)
{
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	char buf[1024], *p;
	int err = 0;

	(void)re_snprintf(buf, sizeof(buf), "%s", options);
	p = strstr(buf, drop);
	TEST_ASSERT(p);
	memmove(p, p + strlen(drop), strlen(p + strlen(drop)) + 1);

	TEST_ERR(decode(&msg, buf));
	TEST_EQ(sipx_validate(msg, &reason), EBADMSG);
	TEST_STREQ(reason, want);

 out:
	mem_deref(msg);
	return err;
}


static int expect_valid(const char *drop)
{
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	char buf[1024], *p;
	int err = 0;

	(void)re_snprintf(buf, sizeof(buf), "%s", options);
	p = strstr(buf, drop);
	TEST_ASSERT(p);
	memmove(p, p + strlen(drop), strlen(p + strlen(drop)) + 1);

	TEST_ERR(decode(&msg, buf));
	TEST_ERR(sipx_validate(msg, &reason));

 out:
	mem_deref(msg);
	return err;
}


int test_sipx_validate(void)
{
	struct sip_msg *msg = NULL;
	const char *reason = NULL;
	int err = 0;

	TEST_ERR(decode(&msg, options));
	TEST_ERR(sipx_validate(msg, &reason));

	TEST_ERR(expect_invalid("Call-ID: asidkj3ss\r\n", "Missing Call-ID"));
	/* a proxy adds Max-Forwards (RFC 3261 16.6); RFC 2543 peers omit
	   the branch (RFC 4475 3.3.15) */
	TEST_ERR(expect_valid("Max-Forwards: 70\r\n"));
	TEST_ERR(expect_valid(";branch=z9hG4bK56sdasks"));
	TEST_ERR(expect_invalid("CSeq: 1 OPTIONS\r\n",
				"Missing or bad CSeq"));
	TEST_ERR(expect_invalid("From: <sip:alice@example.net>;tag="
				"asdyka899\r\n", "Missing or bad From"));
	TEST_ERR(expect_invalid("To: <sip:edge.example.net>\r\n",
				"Missing or bad To"));
	TEST_ERR(expect_invalid("Via: SIP/2.0/WSS df7jal23ls0d.invalid;"
				"branch=z9hG4bK56sdasks\r\nVia: SIP/2.0/UDP "
				"10.0.0.1;branch=z9hG4bKabc\r\n",
				"Missing or bad Via"));

	/* CSeq method differs from the request method */
	{
		char buf[1024];

		(void)re_snprintf(buf, sizeof(buf), "%s", options);
		memcpy(strstr(buf, "CSeq: 1 OPTIONS"), "CSeq: 1 INFO   ", 15);
		msg = mem_deref(msg);
		TEST_ERR(decode(&msg, buf));
		TEST_EQ(sipx_validate(msg, &reason), EBADMSG);
		TEST_STREQ(reason, "CSeq method does not match");
	}

 out:
	mem_deref(msg);
	return err;
}


int test_sipx_reply(void)
{
	struct sip_msg *msg = NULL, *rsp = NULL;
	struct mbuf *mb = mbuf_alloc(512);
	int err = 0;

	TEST_ERR(decode(&msg, options));
	TEST_ERR(sipx_reply(mb, msg, 200, "OK", "Allow: OPTIONS\r\n"));

	TEST_ERR(sipx_decode(&rsp, mb->buf, mb->end));
	TEST_ASSERT(!rsp->req);
	TEST_EQ(rsp->scode, 200);
	TEST_ASSERT(!pl_strcmp(&rsp->callid, "asidkj3ss"));
	TEST_ASSERT(!pl_strcmp(&rsp->via.branch, "z9hG4bK56sdasks"));
	TEST_ASSERT(sip_msg_hdr_count(rsp, SIP_HDR_VIA) == 2);
	TEST_ASSERT(pl_isset(&rsp->to.tag));
	TEST_ASSERT(!pl_strcmp(&rsp->cseq.met, "OPTIONS"));
	TEST_ASSERT(sip_msg_xhdr(rsp, "Allow"));

 out:
	mem_deref(rsp);
	mem_deref(msg);
	mem_deref(mb);
	return err;
}

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


/* A To, From or Content-Type libre cannot decode (RFC 4475 3.3.4
   unksm2, 3.1.2.6 quotbal): the 400 names it and copies the To, From
   and CSeq as they came, with a To tag added only where the request
   had none */
int test_sipx_reply_standin(void)
{
	static const struct {
		const char *req;
		int want;
		uint16_t scode;
		const char *reason;
		const char *to;     /* the response's To line (a tag added:
				       up to it)                        */
		const char *from;   /* its From line (or another)          */
	} tv[] = {
		{"REGISTER sip:example.com SIP/2.0\r\n"
		 "To: isbn:2983792873\r\n"
		 "From: <http://www.example.com>;tag=3234233\r\n"
		 "Call-ID: unksm2.daksdj@hyphenated-host.example.com\r\n"
		 "CSeq: 234902 REGISTER\r\nMax-Forwards: 70\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\r\n"
		 "Contact: <name:John_Smith>\r\nl: 0\r\n\r\n",
		 EADDRNOTAVAIL, 400, "Bad From",
		 "\r\nTo: isbn:2983792873;tag=",
		 "\r\nFrom: <http://www.example.com>;tag=3234233\r\n"},
		{"BYE sip:user@example.com SIP/2.0\r\n"
		 "t:\r\n  \"Mr. J. <sip:j@example.com>;tag=77\r\n"
		 "From: <sip:caller@example.net>;tag=1\r\n"
		 "Call-ID: quot.2\r\nCSeq: 2 BYE\r\nMax-Forwards: 70\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\r\n"
		 "l: 0\r\n\r\n",
		 EDESTADDRREQ, 400, "Bad To",
		 "\r\nTo: \"Mr. J. <sip:j@example.com>;tag=77\r\n",
		 "\r\nFrom: <sip:caller@example.net>;tag=1\r\n"},
		{"MESSAGE sip:user@example.com SIP/2.0\r\n"
		 "To: <sip:user@example.com>;tag=9\r\n"
		 "From: <sip:caller@example.net>;tag=1\r\n"
		 "Call-ID: ctype.2\r\nCSeq: 3 MESSAGE\r\n"
		 "Max-Forwards: 70\r\n"
		 "Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw\r\n"
		 "Content-Type: ;charset=utf-8\r\nl: 2\r\n\r\nhi",
		 EMEDIUMTYPE, 400, "Bad Content-Type",
		 "\r\nTo: <sip:user@example.com>;tag=9\r\n",
		 "\r\nCSeq: 3 MESSAGE\r\n"},
	};
	struct mbuf *mb = NULL;
	struct sip_msg *msg = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		const char *reason = NULL;
		uint16_t scode;
		char *text = NULL;
		int e;

		e = sipx_decode(&msg, (const uint8_t *)tv[i].req,
				strlen(tv[i].req));
		TEST_EQ(e, tv[i].want);
		TEST_ASSERT(msg && msg->req);
		scode = sipx_fault(e, &reason);
		TEST_EQ(scode, tv[i].scode);
		TEST_STREQ(reason, tv[i].reason);

		mb = mbuf_alloc(512);
		TEST_ASSERT(mb);
		TEST_ERR(sipx_reply(mb, msg, scode, reason, NULL));
		mb->pos = 0;
		TEST_ERR(mbuf_strdup(mb, &text, mb->end));
		err = strstr(text, tv[i].to) && strstr(text, tv[i].from) ?
			0 : EINVAL;
		if (err)
			re_fprintf(stderr, "%zu: %s\n", i, text);
		mem_deref(text);
		TEST_ERR(err);

		mb = mem_deref(mb);
		msg = mem_deref(msg);
	}

 out:
	mem_deref(mb);
	mem_deref(msg);
	return err;
}

/**
 * @file cdr.c  Call records (src/cdr): the end reason of each final
 *              status, and the loss/jitter fields of imsedge -s (text
 *              and JSON) with their edge cases: negative lost
 *              (duplicates, RFC 3550 A.3), no report block ("-", null)
 */
#include <string.h>
#include <re.h>
#include "sip/sipx.h"
#include "agw/agw.h"
#include "cdr/cdr.h"
#include "test.h"

static const char invite[] =
	"INVITE sip:carol@ims.test SIP/2.0\r\n"
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK776\r\n"
	"From: <sip:alice@ims.test>;tag=1\r\n"
	"To: <sip:carol@ims.test>\r\n"
	"Call-ID: cdr-unit-1\r\n"
	"CSeq: 1 INVITE\r\n"
	"Max-Forwards: 70\r\n"
	"Content-Length: 0\r\n\r\n";


static bool has(const struct mbuf *mb, const char *s)
{
	return NULL != memmem(mb->buf, mb->end, s, strlen(s));
}


int test_cdr_fields(void)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);
	struct cdr *r = NULL;
	struct agw_stats st;
	int err;

	TEST_ASSERT(mb);
	TEST_EQ(cdr_end_of(603), CDR_END_DECLINED);
	TEST_EQ(cdr_end_of(403), CDR_END_DECLINED);
	TEST_EQ(cdr_end_of(486), CDR_END_BUSY);
	TEST_EQ(cdr_end_of(600), CDR_END_BUSY);
	TEST_EQ(cdr_end_of(408), CDR_END_TIMEOUT);
	TEST_EQ(cdr_end_of(480), CDR_END_TIMEOUT);
	TEST_EQ(cdr_end_of(487), CDR_END_CANCEL);
	TEST_EQ(cdr_end_of(500), CDR_END_FAILED);
	TEST_STREQ(cdr_end_name(CDR_END_CONSENT_LOST), "consent_lost");
	TEST_STREQ(cdr_end_name(CDR_END_DTLS_FAILED), "dtls_failed");

	TEST_ERR(sipx_decode(&msg, (const uint8_t *)invite, strlen(invite)));
	TEST_ERR(cdr_alloc(&r, msg, true, false));

	/* 3 duplicates more than losses browser to core; 25 of 250 lost
	   core to browser, 9.96 ms jitter; the browser's report block */
	memset(&st, 0, sizeof(st));
	st.w3_expected = 100;
	st.w3_lost = -3;
	st.w3_jitter_us = 1250;
	st.core_expected = 250;
	st.core_lost = 25;
	st.core_jitter_us = 9960;
	st.core_far_reports = 1;
	st.core_far_lost = 30;
	st.core_far_fraction = 26;
	st.core_far_jitter_us = 10100;

	TEST_ERR(cdr_status_print(mb, r, "connected", &st, false, true));
	TEST_ASSERT(has(mb, " b2c_lost=-3 b2c_loss_pct=0.0 "
			"b2c_jitter_ms=1.2 c2b_lost=25 c2b_loss_pct=10.0 "
			"c2b_jitter_ms=9.9 b2c_far_lost=- b2c_far_jitter_ms=- "
			"c2b_far_lost=30 c2b_far_jitter_ms=10.1\n"));

	mb->pos = mb->end = 0;
	TEST_ERR(cdr_status_print(mb, r, "connected", &st, true, true));
	TEST_ASSERT(has(mb, "\"b2c_expected\":100,\"b2c_lost\":-3,"
			"\"b2c_loss_pct\":0.0,\"b2c_jitter_ms\":1.2,"
			"\"b2c_far\":null,\"c2b_expected\":250,"
			"\"c2b_lost\":25,"
			"\"c2b_loss_pct\":10.0,\"c2b_jitter_ms\":9.9,"
			"\"c2b_far\":{\"lost\":30,\"fraction_pct\":10.1,"
			"\"jitter_ms\":10.1}"));

	/* the SRTP suite: none before DTLS is up (JSON null), then its
	   name */
	TEST_ASSERT(has(mb, "\"srtp\":null,"));
	mb->pos = mb->end = 0;
	TEST_ERR(cdr_status_print(mb, r, "connected", &st, false, true));
	TEST_ASSERT(has(mb, " SRTP none b2c "));
	st.srtp = "AEAD_AES_128_GCM";
	mb->pos = mb->end = 0;
	TEST_ERR(cdr_status_print(mb, r, "connected", &st, false, true));
	TEST_ASSERT(has(mb, " SRTP AEAD_AES_128_GCM b2c "));
	mb->pos = mb->end = 0;
	TEST_ERR(cdr_status_print(mb, r, "connected", &st, true, true));
	TEST_ASSERT(has(mb, "\"srtp\":\"AEAD_AES_128_GCM\","));

 out:
	mem_deref(r);
	mem_deref(msg);
	mem_deref(mb);
	return err;
}

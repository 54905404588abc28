/**
 * @file crypto.c  Tests for the crypto providers: known answers, the
 *                 fallback to software, refusal of a wrong provider, the
 *                 libsrtp2 plug-in and the crypto_provider config key
 */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <re.h>
#include "core/conf.h"
#include "crypto/crypto.h"
#include "srtp/srtp.h"
#include "test.h"

#ifndef AF_ALG
#define AF_ALG 38
#endif

static unsigned calls_ctr, calls_hmac;


/* A provider that flips one bit of what software computes */
static int flip_ctr_crypt(struct crypto_ctr *c,
			  const uint8_t iv[CRYPTO_AES_BLOCK],
			  const uint8_t *in, uint8_t *out, size_t len)
{
	int err = crypto_software.ctr_crypt(c, iv, in, out, len);

	if (!err && len > 20)
		out[20] ^= 0x04;

	return err;
}


static int flip_hmac_final(struct crypto_hmac *h,
			   uint8_t mac[CRYPTO_SHA1_LEN])
{
	int err = crypto_software.hmac_final(h, mac);

	if (!err)
		mac[7] ^= 0x80;

	return err;
}


/* Software behind the libsrtp2 plug-in, counting what goes through it */
static int count_ctr_crypt(struct crypto_ctr *c,
			   const uint8_t iv[CRYPTO_AES_BLOCK],
			   const uint8_t *in, uint8_t *out, size_t len)
{
	++calls_ctr;
	return crypto_software.ctr_crypt(c, iv, in, out, len);
}


static int count_hmac_final(struct crypto_hmac *h,
			    uint8_t mac[CRYPTO_SHA1_LEN])
{
	++calls_hmac;
	return crypto_software.hmac_final(h, mac);
}


static bool afalg_present(void)
{
	int fd = socket(AF_ALG, SOCK_SEQPACKET, 0);

	if (fd < 0)
		return false;

	(void)close(fd);
	return true;
}


int test_crypto_kat(void)
{
	int err = 0;

	TEST_ERR(crypto_kat(&crypto_software, NULL, 0));
	TEST_ERR(crypto_select("software"));
	TEST_STREQ(crypto_active(), "software");
	TEST_ERR(crypto_select(NULL));
	TEST_STREQ(crypto_active(), "software");
	TEST_EQ(crypto_select("quantum"), ENOENT);
	TEST_EQ(crypto_kat(NULL, NULL, 0), EINVAL);
	TEST_ASSERT(crypto_provider_find("afalg") == &crypto_afalg);
	TEST_ASSERT(crypto_provider_get(0) == &crypto_software);
	TEST_ASSERT(crypto_provider_get(2) == NULL);

 out:
	return err;
}


int test_crypto_ctr_add(void)
{
	uint8_t c[CRYPTO_AES_BLOCK];
	int err = 0;

	memset(c, 0, sizeof(c));
	c[15] = 0xff;
	c[14] = 0xff;
	crypto_ctr_add(c, 1);
	TEST_EQ(c[13], 1);
	TEST_EQ(c[14], 0);
	TEST_EQ(c[15], 0);

	memset(c, 0xff, sizeof(c));
	crypto_ctr_add(c, 0x102);
	TEST_EQ(c[0], 0);
	TEST_EQ(c[14], 1);
	TEST_EQ(c[15], 1);

 out:
	return err;
}


int test_crypto_fallback(void)
{
	int err = 0;

	TEST_ERR(crypto_select("afalg"));

	if (afalg_present()) {
		/* a kernel with AF_ALG (the QEMU guest): the real thing */
		TEST_STREQ(crypto_active(), "afalg");
		TEST_ERR(crypto_kat(&crypto_afalg, NULL, 0));
	}
	else {
		TEST_STREQ(crypto_active(), "software");
		TEST_ASSERT(crypto_provider_active() == &crypto_software);
		TEST_ASSERT(crypto_use(&crypto_afalg) != 0);
		TEST_STREQ(crypto_active(), "software");
	}

 out:
	crypto_close();
	return err;
}


int test_crypto_refuse(void)
{
	struct crypto_provider bad_ctr = crypto_software;
	struct crypto_provider bad_mac = crypto_software;
	char why[128] = "";
	int err = 0;

	bad_ctr.name        = "flip-ctr";
	bad_ctr.srtp_native = false;
	bad_ctr.ctr_crypt   = flip_ctr_crypt;
	bad_mac.name        = "flip-hmac";
	bad_mac.srtp_native = false;
	bad_mac.hmac_final  = flip_hmac_final;

	TEST_EQ(crypto_kat(&bad_ctr, why, sizeof(why)), EBADMSG);
	TEST_STREQ(why, "AES-CM known-answer test failed");
	TEST_EQ(crypto_kat(&bad_mac, why, sizeof(why)), EBADMSG);
	TEST_STREQ(why, "HMAC-SHA1 known-answer test failed");

	TEST_EQ(crypto_use(&bad_ctr), EBADMSG);
	TEST_STREQ(crypto_active(), "software");
	TEST_EQ(crypto_use(&bad_mac), EBADMSG);
	TEST_STREQ(crypto_active(), "software");

 out:
	crypto_close();
	return err;
}


/* libsrtp2's reference packet: test_srtp_* from srtp.c (test.h) */


/* The libsrtp2 plug-in, with software behind it (as afalg would be) */
int test_crypto_srtp_plugin(void)
{
	struct crypto_provider glue = crypto_software;
	struct srtpx *first = NULL, *s = NULL;
	uint8_t buf[64];
	size_t len;
	int err = 0;

	glue.name        = "soft-glue";
	glue.srtp_native = false;
	glue.ctr_crypt   = count_ctr_crypt;
	glue.hmac_final  = count_hmac_final;

	TEST_ERR(crypto_use(&glue));
	TEST_STREQ(crypto_active(), "soft-glue");

	/* libsrtp2 is initialised by the first srtpx object (srtp_init()
	   twice fails); the plug-in goes in after that */
	TEST_ERR(srtpx_alloc(&first, SRTP_AES_CM_128_HMAC_SHA1_80, test_srtp_key_cm,
			     test_srtp_key_cm));
	TEST_ERR(crypto_srtp_install());

	calls_ctr = calls_hmac = 0;
	TEST_ERR(srtpx_alloc(&s, SRTP_AES_CM_128_HMAC_SHA1_80, test_srtp_key_cm,
			     test_srtp_key_cm));
	TEST_ASSERT(calls_ctr > 0);   /* the key derivation */

	len = sizeof(test_srtp_rtp);
	memcpy(buf, test_srtp_rtp, len);
	calls_ctr = calls_hmac = 0;
	TEST_ERR(srtpx_protect(s, buf, &len, sizeof(buf)));
	TEST_ASSERT(len == sizeof(test_srtp_cm) &&
		    !memcmp(buf, test_srtp_cm, len));
	TEST_ASSERT(calls_ctr > 0 && calls_hmac > 0);

	TEST_ERR(srtpx_unprotect(s, buf, &len));
	TEST_ASSERT(len == sizeof(test_srtp_rtp) &&
		    !memcmp(buf, test_srtp_rtp, len));

	/* the next packet, one bit changed on the way */
	buf[3] = 0x35;
	TEST_ERR(srtpx_protect(s, buf, &len, sizeof(buf)));
	buf[20] ^= 1;
	TEST_EQ(srtpx_unprotect(s, buf, &len), EAUTH);

 out:
	mem_deref(s);
	mem_deref(first);
	crypto_close();
	return err;
}


static int conf_try(const char *line, char *errbuf, size_t errsz,
		    char **valp)
{
	struct imsedge_conf *conf = NULL;
	char text[512];
	int err = 0;

	(void)re_snprintf(text, sizeof(text),
			  "w2_listen 127.0.0.1:7443\n"
			  "tls_cert c.pem\n"
			  "tls_key k.pem\n"
			  "w2_origin https://a.example\n"
			  "mw_listen 127.0.0.1:5070\n"
			  "mw_next_hop sip:127.0.0.1\n%s", line);

	err = conf_parse(&conf, "t.conf", text, strlen(text), errbuf, errsz);
	if (!err && valp && conf->crypto_provider)
		err = str_dup(valp, conf->crypto_provider);

	mem_deref(conf);
	return err;
}


int test_crypto_conf(void)
{
	char errbuf[256] = "";
	char *val = NULL;
	int err = 0;

	TEST_ERR(conf_try("", errbuf, sizeof(errbuf), &val));
	TEST_ASSERT(val == NULL);   /* the board's default: software */

	TEST_ERR(conf_try("crypto_provider afalg\n", errbuf, sizeof(errbuf),
			  &val));
	TEST_STREQ(val, "afalg");
	val = mem_deref(val);

	TEST_ERR(conf_try("crypto_provider software\n", errbuf,
			  sizeof(errbuf), &val));
	TEST_STREQ(val, "software");
	val = mem_deref(val);

	TEST_EQ(conf_try("crypto_provider x\n", errbuf, sizeof(errbuf),
			 NULL), EINVAL);
	TEST_STREQ(errbuf, "t.conf:7: 'x' is not one of software, afalg");

	TEST_EQ(conf_try("crypto_provider AFALG\n", errbuf, sizeof(errbuf),
			 NULL), EINVAL);
	TEST_STREQ(errbuf, "t.conf:7: 'AFALG' is not one of software, "
		   "afalg");

 out:
	mem_deref(val);
	return err;
}


/* RFC 2202 test cases 2 and 6 through the software provider, whose
   HMAC hashes the key pads once per key: a long key (hashed first), a
   message fed in parts, and the next message on the same context */
int test_crypto_hmac_rfc2202(void)
{
	static const uint8_t mac2[CRYPTO_SHA1_LEN] = {
		0xef, 0xfc, 0xdf, 0x6a, 0xe5, 0xeb, 0x2f, 0xa2, 0xd2, 0x74,
		0x16, 0xd5, 0xf1, 0x84, 0xdf, 0x9c, 0x25, 0x9a, 0x7c, 0x79
	};
	static const uint8_t mac6[CRYPTO_SHA1_LEN] = {
		0xaa, 0x4a, 0xe5, 0xe1, 0x52, 0x72, 0xd0, 0x0e, 0x95, 0x70,
		0x56, 0x37, 0xce, 0x8a, 0x3b, 0x55, 0xed, 0x40, 0x21, 0x12
	};
	static const char msg2[] = "what do ya want for nothing?";
	static const char msg6[] =
		"Test Using Larger Than Block-Size Key - Hash Key First";
	const struct crypto_provider *p = &crypto_software;
	struct crypto_hmac *h = NULL;
	uint8_t key6[80], mac[CRYPTO_SHA1_LEN];
	int i, err = 0;

	TEST_ERR(p->hmac_alloc(&h, (const uint8_t *)"Jefe", 4));
	for (i = 0; i < 2; i++) {
		TEST_ERR(p->hmac_update(h, (const uint8_t *)msg2, 5));
		TEST_ERR(p->hmac_update(h, (const uint8_t *)msg2 + 5,
					sizeof(msg2) - 1 - 5));
		TEST_ERR(p->hmac_final(h, mac));
		TEST_ASSERT(!memcmp(mac, mac2, sizeof(mac)));
	}
	h = mem_deref(h);

	memset(key6, 0xaa, sizeof(key6));
	TEST_ERR(p->hmac_alloc(&h, key6, sizeof(key6)));
	TEST_ERR(p->hmac_update(h, (const uint8_t *)msg6, sizeof(msg6) - 1));
	TEST_ERR(p->hmac_final(h, mac));
	TEST_ASSERT(!memcmp(mac, mac6, sizeof(mac)));

 out:
	mem_deref(h);
	return err;
}

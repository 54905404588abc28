/**
 * @file cert.c  EC P-256 key and self-signed X.509 certificate (mbedtls)
 *
 * Randomness is the process CTR-DRBG of src/tls, through tls_random().
 * mbedtls writes the subjectAltName and extKeyUsage extensions.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>
#include "../core/file.h"
#include "../tls/tlsx.h"
#include "keygen.h"
#include "keygen_int.h"

enum {
	DNS_NAME_MAX = 253,
	SERIAL_LEN   = 16,
	KEY_FILE_MAX = 65536,
	DAY_SECONDS  = 86400,
};

static const char default_cn[] = "imsedge";


static int dns_decode(struct keygen_san *san, const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > DNS_NAME_MAX)
		return EINVAL;

	for (i = 0; i < len; i++) {
		if (!isalnum((unsigned char)name[i]) &&
		    !strchr("-._*", name[i]))
			return EINVAL;
	}

	san->tag  = KEYGEN_GN_DNS;
	san->name = name;
	san->len  = len;

	return 0;
}


static int ip_decode(struct keygen_san *san, const char *addr)
{
	struct sa sa;
	uint32_t v4;

	if (sa_set_str(&sa, addr, 0))
		return EINVAL;

	if (sa_af(&sa) == AF_INET) {
		v4 = sa_in(&sa);
		san->ip[0] = (uint8_t)(v4 >> 24);
		san->ip[1] = (uint8_t)(v4 >> 16);
		san->ip[2] = (uint8_t)(v4 >> 8);
		san->ip[3] = (uint8_t)v4;
		san->len = 4;
	}
	else {
		sa_in6(&sa, san->ip);
		san->len = 16;
	}

	san->tag = KEYGEN_GN_IP;

	return 0;
}


/**
 * Decode one subjectAltName argument
 *
 * @param san Decoded entry (its name points into str)
 * @param str "DNS:name" (letters, digits, - . _ *) or "IP:address"
 *            (IPv4 or IPv6); the prefix is case-insensitive
 *
 * @return 0 if success, otherwise errorcode
 */
int keygen_san_decode(struct keygen_san *san, const char *str)
{
	if (!san || !str)
		return EINVAL;

	memset(san, 0, sizeof(*san));

	if (!strncasecmp(str, "DNS:", 4))
		return dns_decode(san, str + 4);

	if (!strncasecmp(str, "IP:", 3))
		return ip_decode(san, str + 3);

	return EINVAL;
}


/**
 * Check a subject common name: 1 to KEYGEN_CN_MAX bytes, no control
 * characters and no backslash (UTF-8 is fine)
 *
 * @param cn Common name
 *
 * @return 0 if it can be used, otherwise EINVAL
 */
int keygen_cn_check(const char *cn)
{
	size_t i, len;

	if (!cn)
		return EINVAL;

	len = strlen(cn);
	if (!len || len > KEYGEN_CN_MAX)
		return EINVAL;

	for (i = 0; i < len; i++) {
		const unsigned char c = (unsigned char)cn[i];

		if (c < 0x20 || c == 0x7f || c == '\\')
			return EINVAL;
	}

	return 0;
}


/**
 * Make a new EC P-256 key
 *
 * @param pk Initialised, empty key context
 *
 * @return 0 if success, otherwise errorcode
 */
int keygen_key_new(mbedtls_pk_context *pk)
{
	int ret;

	if (!pk)
		return EINVAL;

	ret = mbedtls_pk_setup(pk,
			       mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret)
		return ENOMEM;

	ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
				  tls_mbedtls_rng, NULL);

	return ret ? EIO : 0;
}


/**
 * Load a private key (PEM or DER, not encrypted) as imsedge's TLS does
 *
 * @param pk   Initialised, empty key context
 * @param path Key file
 *
 * @return 0 if success, EBADMSG if it is no key, otherwise errorcode
 */
int keygen_key_load(mbedtls_pk_context *pk, const char *path)
{
	struct mbuf *mb;
	int err;

	if (!pk || !path)
		return EINVAL;

	mb = mbuf_alloc(4096);
	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, KEY_FILE_MAX);
	if (!err)
		err = mbuf_write_u8(mb, 0);  /* mbedtls wants PEM NUL-ended */
	if (!err)
		err = tls_init();     /* PSA derives a missing public key */
	if (err)
		goto out;

	if (mbedtls_pk_parse_key(pk, mb->buf, mb->end, NULL, 0,
				 tls_mbedtls_rng, NULL))
		err = EBADMSG;

 out:
	mbedtls_platform_zeroize(mb->buf, mb->size);
	mem_deref(mb);

	return err;
}


/**
 * Write a private key as PEM (a NUL-ended string)
 *
 * @param buf  Buffer
 * @param size Size of buf
 * @param pk   Key
 *
 * @return 0 if success, otherwise errorcode
 */
int keygen_key_pem(uint8_t *buf, size_t size, mbedtls_pk_context *pk)
{
	if (!buf || !pk)
		return EINVAL;

	return mbedtls_pk_write_key_pem(pk, buf, size) ? EOVERFLOW : 0;
}


/* Subject and issuer "CN=..." with commas escaped, as mbedtls parses it */
static int names_set(mbedtls_x509write_cert *crt, const char *cn)
{
	char name[3 + 2 * KEYGEN_CN_MAX + 1] = "CN=";
	char *d = name + 3;
	const char *s;

	if (keygen_cn_check(cn))
		return EINVAL;

	for (s = cn; *s; s++) {
		if (*s == ',')
			*d++ = '\\';
		*d++ = *s;
	}
	*d = '\0';

	if (mbedtls_x509write_crt_set_subject_name(crt, name) ||
	    mbedtls_x509write_crt_set_issuer_name(crt, name))
		return EINVAL;

	return 0;
}


/* A random positive serial of exactly SERIAL_LEN bytes */
static int serial_set(mbedtls_x509write_cert *crt)
{
	uint8_t b[SERIAL_LEN];
	int err;

	err = tls_random(b, sizeof(b));
	if (err)
		return err;

	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);

	return mbedtls_x509write_crt_set_serial_raw(crt, b, sizeof(b)) ?
		ENOMEM : 0;
}


static int utc_string(char *buf, size_t size, time_t t)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, size, "%Y%m%d%H%M%S", &tm))
		return EOVERFLOW;

	return 0;
}


/* From now for days days */
static int validity_set(mbedtls_x509write_cert *crt, unsigned days)
{
	const time_t now = time(NULL);
	char from[16], to[16];
	int err;

	err  = utc_string(from, sizeof(from), now);
	err |= utc_string(to, sizeof(to), now + (time_t)days * DAY_SECONDS);
	if (err)
		return EOVERFLOW;

	return mbedtls_x509write_crt_set_validity(crt, from, to) ?
		EOVERFLOW : 0;
}


/* subjectAltName: DNS and IP entries, as mbedtls writes them (from the
   end of the list backwards: the list is linked in reverse so that the
   certificate keeps the given order) */
static int san_ext_set(mbedtls_x509write_cert *crt,
		       const struct keygen_prm *prm)
{
	mbedtls_x509_san_list list[KEYGEN_SAN_MAX];
	struct keygen_san san[KEYGEN_SAN_MAX];
	size_t i;

	if (!prm->sanc)
		return 0;

	if (prm->sanc > KEYGEN_SAN_MAX)
		return E2BIG;

	memset(list, 0, sizeof(list));

	for (i = 0; i < prm->sanc; i++) {
		mbedtls_x509_buf *v = &list[i].node.san.unstructured_name;

		if (keygen_san_decode(&san[i], prm->san[i]))
			return EINVAL;

		list[i].node.type = san[i].tag == KEYGEN_GN_IP ?
			MBEDTLS_X509_SAN_IP_ADDRESS :
			MBEDTLS_X509_SAN_DNS_NAME;
		v->p   = san[i].tag == KEYGEN_GN_IP ? san[i].ip :
			(unsigned char *)san[i].name;
		v->len = san[i].len;
		list[i].next = i ? &list[i - 1] : NULL;
	}

	return mbedtls_x509write_crt_set_subject_alternative_name(crt,
					&list[prm->sanc - 1]) ? ENOMEM : 0;
}


/* extKeyUsage ::= SEQUENCE { id-kp-serverAuth } (browsers want it) */
static int eku_ext_set(mbedtls_x509write_cert *crt)
{
	mbedtls_asn1_sequence eku;

	memset(&eku, 0, sizeof(eku));
	eku.buf.tag = MBEDTLS_ASN1_OID;
	eku.buf.p   = (unsigned char *)MBEDTLS_OID_SERVER_AUTH;
	eku.buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH);

	return mbedtls_x509write_crt_set_ext_key_usage(crt, &eku) ?
		ENOMEM : 0;
}


static int extensions_set(mbedtls_x509write_cert *crt,
			  const struct keygen_prm *prm)
{
	int err;

	if (mbedtls_x509write_crt_set_basic_constraints(crt, 0, -1) ||
	    mbedtls_x509write_crt_set_key_usage(crt,
					MBEDTLS_X509_KU_DIGITAL_SIGNATURE))
		return ENOMEM;

	err = eku_ext_set(crt);
	if (err)
		return err;

	return san_ext_set(crt, prm);
}


/**
 * Write a self-signed certificate for a key as PEM (a NUL-ended string)
 *
 * @param buf  Buffer
 * @param size Size of buf
 * @param pk   The subject's (and issuer's) key
 * @param prm  CN (NULL for "imsedge") and subjectAltName entries
 *
 * @return 0 if success, otherwise errorcode
 */
int keygen_cert_pem(uint8_t *buf, size_t size, mbedtls_pk_context *pk,
		    const struct keygen_prm *prm)
{
	mbedtls_x509write_cert crt;
	int err;

	if (!buf || !pk || !prm)
		return EINVAL;

	mbedtls_x509write_crt_init(&crt);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, pk);
	mbedtls_x509write_crt_set_issuer_key(&crt, pk);

	err = names_set(&crt, prm->cn ? prm->cn : default_cn);
	if (err)
		goto out;

	err = serial_set(&crt);
	if (err)
		goto out;

	err = validity_set(&crt, KEYGEN_DAYS);
	if (err)
		goto out;

	err = extensions_set(&crt, prm);
	if (err)
		goto out;

	if (mbedtls_x509write_crt_pem(&crt, buf, size, tls_mbedtls_rng, NULL))
		err = EIO;

 out:
	mbedtls_x509write_crt_free(&crt);

	return err;
}

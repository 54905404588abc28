/**
 * @file cert.c  EC P-256 key and self-signed X.509 certificate (mbedtls)
 *
 * Randomness is the process CTR-DRBG of src/tls, through tls_random().
 * mbedtls 2.28's x509write has no helper for subjectAltName or
 * extKeyUsage: their DER is written here with mbedtls_asn1_write_*
 * (backwards from the end of a buffer, returning a length or a negative
 * mbedtls error, as mbedtls' own writers do) and added as extensions.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <re.h>
#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
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
	SAN_DER_MAX  = KEYGEN_SAN_MAX * (DNS_NAME_MAX + 4) + 8,
	EKU_DER_MAX  = 32,
	SERIAL_LEN   = 16,
	KEY_FILE_MAX = 65536,
	DAY_SECONDS  = 86400,
};

static const char default_cn[] = "imsedge";


/* tls_random() as an mbedtls f_rng */
static int rng(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;

	return tls_random(buf, len) ?
		MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED : 0;
}


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
				  rng, NULL);

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
	if (err)
		goto out;

	if (mbedtls_pk_parse_key(pk, mb->buf, mb->end, NULL, 0))
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
	mbedtls_mpi serial;
	int err, ret;

	err = tls_random(b, sizeof(b));
	if (err)
		return err;

	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40);

	mbedtls_mpi_init(&serial);
	ret = mbedtls_mpi_read_binary(&serial, b, sizeof(b));
	if (!ret)
		ret = mbedtls_x509write_crt_set_serial(crt, &serial);
	mbedtls_mpi_free(&serial);

	return ret ? ENOMEM : 0;
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


/* One GeneralName, written backwards before *p */
static int san_write(uint8_t **p, uint8_t *start, const char *str)
{
	struct keygen_san san;
	const uint8_t *val;
	size_t len = 0;
	int ret;

	if (keygen_san_decode(&san, str))
		return MBEDTLS_ERR_X509_BAD_INPUT_DATA;

	val = san.tag == KEYGEN_GN_IP ? san.ip : (const uint8_t *)san.name;

	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(p, start, val,
								 san.len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(p, start, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(p, start,
				MBEDTLS_ASN1_CONTEXT_SPECIFIC | san.tag));

	return (int)len;
}


/* SEQUENCE header for the len bytes before *p */
static int seq_write(uint8_t **p, uint8_t *start, size_t len)
{
	size_t hlen = 0;
	int ret;

	MBEDTLS_ASN1_CHK_ADD(hlen, mbedtls_asn1_write_len(p, start, len));
	MBEDTLS_ASN1_CHK_ADD(hlen, mbedtls_asn1_write_tag(p, start,
				MBEDTLS_ASN1_CONSTRUCTED |
				MBEDTLS_ASN1_SEQUENCE));

	return (int)(hlen + len);
}


/* subjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName */
static int san_ext_set(mbedtls_x509write_cert *crt,
		       const struct keygen_prm *prm)
{
	uint8_t buf[SAN_DER_MAX];
	uint8_t *p = buf + sizeof(buf);
	size_t i, len = 0;
	int ret;

	if (!prm->sanc)
		return 0;

	if (prm->sanc > KEYGEN_SAN_MAX)
		return E2BIG;

	for (i = prm->sanc; i-- > 0;) {
		ret = san_write(&p, buf, prm->san[i]);
		if (ret < 0)
			return EINVAL;
		len += (size_t)ret;
	}

	ret = seq_write(&p, buf, len);
	if (ret < 0)
		return EOVERFLOW;

	ret = mbedtls_x509write_crt_set_extension(crt,
			MBEDTLS_OID_SUBJECT_ALT_NAME,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
			0, p, (size_t)ret);

	return ret ? ENOMEM : 0;
}


/* extKeyUsage ::= SEQUENCE { id-kp-serverAuth } (browsers want it) */
static int eku_ext_set(mbedtls_x509write_cert *crt)
{
	uint8_t buf[EKU_DER_MAX];
	uint8_t *p = buf + sizeof(buf);
	int ret;

	ret = mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
	if (ret < 0)
		return EOVERFLOW;

	ret = seq_write(&p, buf, (size_t)ret);
	if (ret < 0)
		return EOVERFLOW;

	ret = mbedtls_x509write_crt_set_extension(crt,
			MBEDTLS_OID_EXTENDED_KEY_USAGE,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
			0, p, (size_t)ret);

	return ret ? ENOMEM : 0;
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

	if (mbedtls_x509write_crt_pem(&crt, buf, size, rng, NULL))
		err = EIO;

 out:
	mbedtls_x509write_crt_free(&crt);

	return err;
}

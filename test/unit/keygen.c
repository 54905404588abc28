/**
 * @file keygen.c  Tests for imsedge's own key and certificate generator
 *                 (imsedge -k KEY -x CERT): files in a scratch directory,
 *                 loaded back through src/tls and mbedtls' X.509 parser
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <re.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include "core/file.h"
#include "tls/tlsx.h"
#include "keygen/keygen.h"
#include "test.h"

enum { FILE_MAX = 16384 };

struct scratch {
	char dir[256];
	char key[300];
	char cert[300];
};


static int scratch_init(struct scratch *s)
{
	const char *tmp = getenv("TMPDIR");

	(void)re_snprintf(s->dir, sizeof(s->dir), "%s/imsedge-keygen-XXXXXX",
			  tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(s->dir))
		return errno;

	(void)re_snprintf(s->key, sizeof(s->key), "%s/key.pem", s->dir);
	(void)re_snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", s->dir);

	return 0;
}


/* Files in the directory, and remove them (and it) if told */
static unsigned scratch_files(const struct scratch *s, bool remove)
{
	char path[600];
	struct dirent *de;
	unsigned n = 0;
	DIR *d;

	d = opendir(s->dir);
	if (!d)
		return 0;

	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		++n;
		(void)re_snprintf(path, sizeof(path), "%s/%s", s->dir,
				  de->d_name);
		if (remove)
			(void)unlink(path);
	}

	(void)closedir(d);
	if (remove)
		(void)rmdir(s->dir);

	return n;
}


static void scratch_close(const struct scratch *s)
{
	if (s->dir[0] && !strstr(s->dir, "XXXXXX"))
		(void)scratch_files(s, true);
}


static int read_all(struct mbuf **mbp, const char *path)
{
	struct mbuf *mb = mbuf_alloc(2048);
	int err;

	if (!mb)
		return ENOMEM;

	err = file_read(mb, path, FILE_MAX);
	if (err)
		mem_deref(mb);
	else
		*mbp = mb;

	return err;
}


static bool same(const struct mbuf *a, const struct mbuf *b)
{
	return a->end == b->end && !memcmp(a->buf, b->buf, a->end);
}


static int pair_loads(const char *cert, const char *key)
{
	struct tls *tls;
	int err;

	err = tls_alloc(&tls, TLS_METHOD_SSLV23, NULL, NULL);
	if (err)
		return err;

	err = tls_set_certificate_files(tls, cert, key, NULL);
	mem_deref(tls);

	return err;
}


static bool has_cn(const mbedtls_x509_crt *crt, const char *cn)
{
	const mbedtls_x509_name *n;

	for (n = &crt->subject; n; n = n->next) {
		if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid))
			continue;

		return n->val.len == strlen(cn) &&
			!memcmp(n->val.p, cn, n->val.len);
	}

	return false;
}


/* The subjectAltName entry at index i: context tag and value */
static bool has_san(const mbedtls_x509_crt *crt, unsigned i, int tag,
		    const void *val, size_t len)
{
	const mbedtls_x509_sequence *s = &crt->subject_alt_names;

	while (s && i--)
		s = s->next;

	return s && s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag) &&
		s->buf.len == len && !memcmp(s->buf.p, val, len);
}


/* Days since 1970-01-01 of a certificate date (proleptic Gregorian) */
static long days(const mbedtls_x509_time *t)
{
	long y = t->year - (t->mon <= 2);
	long era = y / 400;
	long yoe = y - era * 400;
	long doy = (153 * (t->mon + (t->mon > 2 ? -3 : 9)) + 2) / 5 +
		t->day - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}


static int check_cert(const char *path)
{
	static const uint8_t v4[] = {192, 168, 1, 1};
	static const uint8_t v6[] = {0xfd, 0, 0, 0, 0, 0, 0, 0,
				     0, 0, 0, 0, 0, 0, 0, 1};
	mbedtls_x509_crt crt;
	uint32_t flags = 0;
	int err = 0;

	mbedtls_x509_crt_init(&crt);

	TEST_EQ(mbedtls_x509_crt_parse_file(&crt, path), 0);
	TEST_EQ(crt.version, 3);
	TEST_ASSERT(has_cn(&crt, "router,lan"));
	TEST_EQ(MBEDTLS_OID_CMP(MBEDTLS_OID_ECDSA_SHA256, &crt.sig_oid), 0);
	TEST_EQ(mbedtls_pk_get_type(&crt.pk), MBEDTLS_PK_ECKEY);
	TEST_EQ(mbedtls_pk_get_bitlen(&crt.pk), 256);
	TEST_EQ(crt.serial.len, 16);
	TEST_EQ(mbedtls_x509_crt_get_ca_istrue(&crt), 0);
	TEST_ASSERT(mbedtls_x509_crt_has_ext_type(&crt,
					MBEDTLS_X509_EXT_BASIC_CONSTRAINTS));
	TEST_EQ(mbedtls_x509_crt_check_key_usage(&crt,
				MBEDTLS_X509_KU_DIGITAL_SIGNATURE), 0);
	TEST_EQ(mbedtls_x509_crt_check_extended_key_usage(&crt,
				MBEDTLS_OID_SERVER_AUTH,
				MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)), 0);
	TEST_EQ(days(&crt.valid_to) - days(&crt.valid_from), KEYGEN_DAYS);
	TEST_EQ(mbedtls_x509_time_is_future(&crt.valid_from), 0);

	TEST_ASSERT(has_san(&crt, 0, 2, "router.lan", 10));
	TEST_ASSERT(has_san(&crt, 1, 7, v4, sizeof(v4)));
	TEST_ASSERT(has_san(&crt, 2, 7, v6, sizeof(v6)));
	TEST_ASSERT(!has_san(&crt, 3, 2, "", 0));

	/* self-signed, trusted as itself, for the DNS name in its SAN */
	TEST_EQ(mbedtls_x509_crt_verify(&crt, &crt, NULL, "router.lan",
					&flags, NULL, NULL), 0);
	TEST_EQ(flags, 0);

 out:
	mbedtls_x509_crt_free(&crt);
	return err;
}


static void prm_init(struct keygen_prm *prm, const struct scratch *s)
{
	memset(prm, 0, sizeof(*prm));
	prm->keyfile  = s->key;
	prm->certfile = s->cert;
	prm->cn       = "router,lan";
	prm->san[0]   = "DNS:router.lan";
	prm->san[1]   = "IP:192.168.1.1";
	prm->san[2]   = "ip:fd00::1";
	prm->sanc     = 3;
}


int test_keygen_pair(void)
{
	struct scratch s;
	struct keygen_prm prm;
	enum keygen_made made = KEYGEN_KEPT;
	char errbuf[256] = "";
	struct stat st;
	int err;

	memset(&s, 0, sizeof(s));
	TEST_ERR(scratch_init(&s));
	prm_init(&prm, &s);

	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_BOTH);
	TEST_STREQ(errbuf, "");

	TEST_EQ(stat(s.key, &st), 0);
	TEST_EQ(st.st_mode & 07777, 0600);
	TEST_EQ(stat(s.cert, &st), 0);
	TEST_EQ(st.st_mode & 07777, 0644);
	TEST_EQ(scratch_files(&s, false), 2);   /* no temporary files */

	TEST_ERR(pair_loads(s.cert, s.key));
	TEST_ERR(check_cert(s.cert));

 out:
	scratch_close(&s);
	return err;
}


int test_keygen_keep(void)
{
	struct scratch s;
	struct keygen_prm prm;
	struct mbuf *key = NULL, *cert = NULL, *key2 = NULL, *cert2 = NULL;
	enum keygen_made made = KEYGEN_KEPT;
	char errbuf[256] = "";
	int err;

	memset(&s, 0, sizeof(s));
	TEST_ERR(scratch_init(&s));
	prm_init(&prm, &s);

	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_ERR(read_all(&key, s.key));
	TEST_ERR(read_all(&cert, s.cert));

	/* a second run leaves both as they are */
	prm.cn = "other";
	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_KEPT);
	TEST_ERR(read_all(&key2, s.key));
	TEST_ERR(read_all(&cert2, s.cert));
	TEST_ASSERT(same(key, key2) && same(cert, cert2));
	key2 = mem_deref(key2);
	cert2 = mem_deref(cert2);

	/* the certificate lost: a new one for the same key */
	TEST_EQ(unlink(s.cert), 0);
	prm.cn = "router,lan";
	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_CERT);
	TEST_ERR(read_all(&key2, s.key));
	TEST_ERR(read_all(&cert2, s.cert));
	TEST_ASSERT(same(key, key2) && !same(cert, cert2));
	TEST_ERR(pair_loads(s.cert, s.key));
	TEST_ERR(check_cert(s.cert));
	key2 = mem_deref(key2);
	cert2 = mem_deref(cert2);

	/* forced: both replaced, and still a pair */
	prm.force = true;
	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_BOTH);
	TEST_ERR(read_all(&key2, s.key));
	TEST_ASSERT(!same(key, key2));
	TEST_ERR(pair_loads(s.cert, s.key));

	/* the key lost: the certificate alone is refused, left as it is */
	prm.force = false;
	TEST_EQ(unlink(s.key), 0);
	TEST_EQ(keygen_files(&prm, &made, errbuf, sizeof(errbuf)), EEXIST);
	TEST_ASSERT(strstr(errbuf, "-f replaces both") != NULL);
	TEST_EQ(scratch_files(&s, false), 1);

	/* one file for both */
	prm.certfile = s.key;
	TEST_EQ(keygen_files(&prm, &made, errbuf, sizeof(errbuf)), EINVAL);

	/* a key alone (the WAF's token key): made once, then kept */
	prm.certfile = NULL;
	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_KEY);
	key2 = mem_deref(key2);
	TEST_ERR(read_all(&key2, s.key));
	TEST_ASSERT(strstr((char *)key2->buf, "PRIVATE KEY") != NULL);
	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_KEPT);
	prm.force = true;
	TEST_ERR(keygen_files(&prm, &made, errbuf, sizeof(errbuf)));
	TEST_EQ(made, KEYGEN_KEY);

 out:
	mem_deref(key);
	mem_deref(cert);
	mem_deref(key2);
	mem_deref(cert2);
	scratch_close(&s);
	return err;
}


/* keygen_opt() with the reason it prints on stderr muted */
static int opt_quiet(struct keygen_prm *prm, int opt, const char *arg)
{
	int fd, nul, err;

	(void)fflush(stderr);
	fd = dup(STDERR_FILENO);
	nul = open("/dev/null", O_WRONLY);
	if (fd >= 0 && nul >= 0)
		(void)dup2(nul, STDERR_FILENO);
	if (nul >= 0)
		(void)close(nul);

	err = keygen_opt(prm, opt, arg);

	(void)fflush(stderr);
	if (fd >= 0) {
		(void)dup2(fd, STDERR_FILENO);
		(void)close(fd);
	}

	return err;
}


int test_keygen_opt(void)
{
	static const char *const bad_san[] = {
		"router.lan", "DNS:", "DNS:a b", "DNS:x/y", "IP:1.2.3",
		"IP:", "IP:fd00::1::2", "URI:https://x", "EMAIL:a@b",
	};
	struct keygen_prm prm;
	char cn[KEYGEN_CN_MAX + 2];
	size_t i;
	int err = 0;

	memset(&prm, 0, sizeof(prm));
	memset(cn, 'a', sizeof(cn) - 1);
	cn[sizeof(cn) - 1] = '\0';

	TEST_ERR(opt_quiet(&prm, 'k', "k.pem"));
	TEST_ERR(opt_quiet(&prm, 'x', "c.pem"));
	TEST_ERR(opt_quiet(&prm, 'f', NULL));
	TEST_STREQ(prm.keyfile, "k.pem");
	TEST_STREQ(prm.certfile, "c.pem");
	TEST_ASSERT(prm.force);

	for (i = 0; i < ARRAY_SIZE(bad_san); i++)
		TEST_EQ(opt_quiet(&prm, 'a', bad_san[i]), EINVAL);
	TEST_EQ(prm.sanc, 0);

	TEST_EQ(opt_quiet(&prm, 'n', ""), EINVAL);
	TEST_EQ(opt_quiet(&prm, 'n', "a\\b"), EINVAL);
	TEST_EQ(opt_quiet(&prm, 'n', "a\nb"), EINVAL);
	TEST_EQ(opt_quiet(&prm, 'n', cn), EINVAL);
	cn[KEYGEN_CN_MAX] = '\0';
	TEST_ERR(opt_quiet(&prm, 'n', cn));
	TEST_ERR(opt_quiet(&prm, 'n', "OpenWrt, \xc3\xa9"));

	for (i = 0; i < KEYGEN_SAN_MAX; i++)
		TEST_ERR(opt_quiet(&prm, 'a', i % 2 ? "IP:::1" :
				    "dns:*.example_1-a.net"));
	TEST_EQ(opt_quiet(&prm, 'a', "IP:10.0.0.1"), E2BIG);
	TEST_EQ(prm.sanc, KEYGEN_SAN_MAX);
	TEST_EQ(opt_quiet(&prm, 'z', "x"), EINVAL);

 out:
	return err;
}

/**
 * @file jwt.c  Tests for ES256 JWTs: keys, signing, the keyring and every
 *              refusal of jwt_verify (D-13 invalid/expired token, D-15
 *              token from an untrusted WAF), interop with Node's crypto
 */
#include <string.h>
#include <re.h>
#include <mbedtls/sha256.h>
#include "core/file.h"
#include "jwt/jwt.h"
#include "jwt/jwt_int.h"
#include "test.h"

enum { NOW = 1700000000, LIFE = 3600 };

#define ISS "https://phone.example.net:8443"
#define AUD "wss://edge.example.net:8443/sip"

/* Made once by test/data/jwt/gen.js with Node's crypto (P-256,
   dsaEncoding ieee-p1363): proves tokens from another stack verify */
static const char node_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWni78/JNTyn2ft6CF4sh+N+XTyDN\n"
	"lxSkUWarmU8+EI7bVvOwV4X6SSkvxofGmYci56TmUQNz3LmZMHNja3K5Yw==\n"
	"-----END PUBLIC KEY-----\n";
static const char node_token[] =
	"eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL25vZGUu"
	"ZXhhbXBsZSIsImF1ZCI6IndzczovL2VkZ2UuZXhhbXBsZTo4NDQzL3NpcCIsInN1Yi"
	"I6ImFsaWNlIiwiaW1waSI6ImFsaWNlQGltcy50ZXN0IiwiaW1wdSI6WyJzaXA6YWxp"
	"Y2VAaW1zLnRlc3QiLCJ0ZWw6KzE1NTUxMjM0Il0sImlhdCI6MTcwMDAwMDAwMCwiZX"
	"hwIjoxNzAwMDAzNjAwLCJqdGkiOiJub2RlLTEifQ.rpxCib4d-UR_PDsPBAUKEQnBG"
	"IwbH6qqcSyF_iMS4OEJnP9Dy9-g1ECYFPxmwLzEf1pERofvIE54bsK3TduAKA";


static int key(struct jwt_key **kp, const char *name)
{
	return jwt_key_load(kp, test_datapath(name));
}


/* Key a, trusted for ISS in a new keyring */
static int ring_a(struct jwt_keyring **ringp, struct jwt_key **ap)
{
	int err;

	err = key(ap, "jwt/a.key");
	if (!err)
		err = jwt_keyring_alloc(ringp);
	if (!err)
		err = jwt_keyring_add(*ringp, ISS, *ap);

	return err;
}


static int claims_make(struct jwt_claims **cp, int64_t iat, int64_t exp)
{
	struct jwt_claims *c;
	int err;

	err = jwt_claims_alloc(&c);
	if (err)
		return err;

	err  = str_dup(&c->iss, ISS);
	err |= str_dup(&c->aud, AUD);
	err |= str_dup(&c->sub, "alice");
	err |= str_dup(&c->impi, "alice@ims.test");
	err |= str_dup(&c->jti, "j\"1\\\n");
	err |= jwt_claims_add_impu(c, "sip:alice@ims.test");
	err |= jwt_claims_add_impu(c, "tel:+15551234");
	c->iat = iat;
	c->exp = exp;

	if (err)
		mem_deref(c);
	else
		*cp = c;

	return err ? ENOMEM : 0;
}


/* A token from raw header and payload JSON, signed by key */
static int craft(char **tokp, const char *hdr, const char *pay,
		 const struct jwt_key *k)
{
	char h[1024], p[2048], s[100];
	uint8_t hash[32], sig[JWT_SIG_LEN];
	char input[3100];
	int err;

	err  = jwt_b64_encode(h, sizeof(h), (const uint8_t *)hdr,
			      strlen(hdr), true);
	err |= jwt_b64_encode(p, sizeof(p), (const uint8_t *)pay,
			      strlen(pay), true);
	if (err)
		return EINVAL;

	(void)re_snprintf(input, sizeof(input), "%s.%s", h, p);
	if (mbedtls_sha256((uint8_t *)input, strlen(input), hash, 0))
		return EIO;

	err = jwt_key_sign_hash(k, hash, sig);
	if (!err)
		err = jwt_b64_encode(s, sizeof(s), sig, sizeof(sig), true);
	if (!err)
		err = re_sdprintf(tokp, "%s.%s", input, s);

	return err;
}


/* Verify text; expect err and reason (NULL: success) */
static int expect(const char *tok, const struct jwt_keyring *ring,
		  int64_t now, int want, const char *why)
{
	struct jwt_claims *c = NULL;
	const char *reason = NULL;
	struct pl pl;
	int err = 0, e;

	pl_set_str(&pl, tok);
	e = jwt_verify(&c, &pl, ring, now, &reason);
	TEST_EQ(e, want);
	if (why)
		TEST_STREQ(reason, why);
	else
		TEST_ASSERT(c != NULL);

 out:
	mem_deref(c);
	return err;
}


int test_jwt_keys(void)
{
	struct jwt_key *a = NULL, *b = NULL, *bp = NULL, *c = NULL;
	struct jwt_key *cp = NULL, *x = NULL;
	struct mbuf *mb = mbuf_alloc(256);
	char pem[256];
	int err = 0;

	TEST_ASSERT(mb != NULL);

	TEST_ERR(key(&a, "jwt/a.key"));          /* SEC1 PEM, imsedge -k */
	TEST_ERR(key(&b, "jwt/b.key"));          /* PKCS#8 PEM, Node */
	TEST_ERR(key(&bp, "jwt/b.pub"));         /* SubjectPublicKeyInfo */
	TEST_ERR(key(&c, "jwt/c.der"));          /* SEC1 DER */
	TEST_ERR(key(&cp, "jwt/c.pub.der"));     /* SPKI DER */

	TEST_ASSERT(jwt_key_can_sign(a) && jwt_key_can_sign(b));
	TEST_ASSERT(jwt_key_can_sign(c));
	TEST_ASSERT(!jwt_key_can_sign(bp) && !jwt_key_can_sign(cp));

	/* RFC 7638 thumbprint as Node computes it from the JWK */
	TEST_EQ(strlen(jwt_key_id(b)), 43);
	TEST_ERR(file_read(mb, test_datapath("jwt/b.kid"), 256));
	TEST_EQ(mb->end, 44);
	TEST_ASSERT(!memcmp(mb->buf, jwt_key_id(b), 43));
	TEST_STREQ(jwt_key_id(bp), jwt_key_id(b));
	TEST_STREQ(jwt_key_id(cp), jwt_key_id(c));
	TEST_ASSERT(strcmp(jwt_key_id(a), jwt_key_id(b)));

	/* the public PEM is what Node exported */
	TEST_ERR(jwt_key_public_pem(b, pem, sizeof(pem)));
	mbuf_rewind(mb);
	TEST_ERR(file_read(mb, test_datapath("jwt/b.pub"), 256));
	TEST_EQ(strlen(pem), mb->end);
	TEST_ASSERT(!memcmp(pem, mb->buf, mb->end));
	TEST_STREQ(pem, node_pub);
	TEST_EQ(jwt_key_public_pem(b, pem, 20), EOVERFLOW);

	/* not P-256, not a key, no file */
	TEST_EQ(key(&x, "jwt/p384.key"), EINVAL);
	TEST_EQ(key(&x, "jwt/rsa.pub"), EINVAL);
	TEST_EQ(key(&x, "jwt/b.kid"), EBADMSG);
	TEST_EQ(key(&x, "jwt/none"), ENOENT);
	TEST_EQ(jwt_key_load_mem(&x, (const uint8_t *)"-----BEGIN ", 11),
		EBADMSG);
	TEST_ASSERT(x == NULL);

 out:
	mem_deref(a);
	mem_deref(b);
	mem_deref(bp);
	mem_deref(c);
	mem_deref(cp);
	mem_deref(mb);
	return err;
}


int test_jwt_roundtrip(void)
{
	struct jwt_claims *c = NULL, *v = NULL;
	struct jwt_keyring *ring = NULL;
	struct jwt_key *a = NULL, *pub = NULL;
	char *tok = NULL, *tok2 = NULL, pem[256];
	const char *reason = NULL;
	struct pl pl;
	int err = 0;

	TEST_ERR(key(&a, "jwt/a.key"));
	TEST_ERR(jwt_key_public_pem(a, pem, sizeof(pem)));
	TEST_ERR(jwt_key_load_mem(&pub, (uint8_t *)pem, strlen(pem)));
	TEST_ERR(jwt_keyring_alloc(&ring));
	TEST_ERR(jwt_keyring_add(ring, ISS, pub));
	TEST_EQ(jwt_keyring_add(ring, ISS, a), EALREADY);
	TEST_EQ(jwt_keyring_count(ring), 1);

	TEST_ERR(claims_make(&c, NOW, NOW + LIFE));
	TEST_ERR(str_dup(&c->pool, "guests"));
	c->nbf = NOW - 5;
	TEST_ERR(jwt_sign(&tok, c, a));
	TEST_EQ(jwt_sign(&tok2, c, pub), EINVAL);  /* public only */

	pl_set_str(&pl, tok);
	TEST_ERR(jwt_verify(&v, &pl, ring, NOW + 10, &reason));
	TEST_STREQ(v->iss, ISS);
	TEST_STREQ(v->aud, AUD);
	TEST_ASSERT(jwt_claims_aud_has(v, AUD));
	TEST_ASSERT(!jwt_claims_aud_has(v, "wss://other"));
	TEST_STREQ(v->sub, "alice");
	TEST_STREQ(v->impi, "alice@ims.test");
	TEST_STREQ(v->jti, "j\"1\\\n");         /* escaped and back */
	TEST_STREQ(v->pool, "guests");
	TEST_EQ(v->impuc, 2);
	TEST_STREQ(v->impu[0], "sip:alice@ims.test");
	TEST_STREQ(v->impu[1], "tel:+15551234");
	TEST_ASSERT(jwt_claims_impu_has(v, "tel:+15551234"));
	TEST_ASSERT(!jwt_claims_impu_has(v, "sip:bob@ims.test"));
	TEST_EQ(v->iat, NOW);
	TEST_EQ(v->nbf, NOW - 5);
	TEST_EQ(v->exp, NOW + LIFE);

	/* deterministic ECDSA: same claims, same token */
	TEST_ERR(jwt_sign(&tok2, c, a));
	TEST_STREQ(tok2, tok);

	/* claims a token needs */
	c->impi = mem_deref(c->impi);
	TEST_EQ(jwt_sign(&tok2, c, a), EINVAL);

 out:
	mem_deref(c);
	mem_deref(v);
	mem_deref(a);
	mem_deref(pub);
	mem_deref(ring);
	mem_deref(tok);
	mem_deref(tok2);
	return err;
}


/* Swap one part of a token for other text */
static int with_part(char **outp, const char *tok, unsigned idx,
		     const char *part)
{
	const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');

	switch (idx) {

	case 0: return re_sdprintf(outp, "%s%s", part, d1);
	case 1: return re_sdprintf(outp, "%b.%s%s", tok, d1 - tok, part, d2);
	default: return re_sdprintf(outp, "%b.%s", tok, d2 - tok, part);
	}
}


int test_jwt_tamper(void)
{
	struct jwt_keyring *ring = NULL;
	struct jwt_claims *c = NULL;
	struct jwt_key *a = NULL, *b = NULL;
	char *tok = NULL, *t2 = NULL, *p = NULL;
	char buf[600];
	size_t len = sizeof(buf);
	struct mbuf *mb = mbuf_alloc(512);
	int err = 0;

	TEST_ASSERT(mb != NULL);
	TEST_ERR(ring_a(&ring, &a));
	TEST_ERR(key(&b, "jwt/b.key"));
	TEST_ERR(claims_make(&c, NOW, NOW + LIFE));
	TEST_ERR(jwt_sign(&tok, c, a));
	TEST_ERR(expect(tok, ring, NOW, 0, NULL));

	/* D-14: the payload with another IMPU, the signature kept */
	{
		const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
		char pay[600];

		TEST_ERR(jwt_b64_decode((uint8_t *)buf, &len, d1 + 1,
					(size_t)(d2 - d1 - 1), true));
		buf[len] = '\0';
		p = strstr(buf, "sip:alice@ims.test\"");
		TEST_ASSERT(p != NULL);
		memcpy(p + 4, "mallo", 5);
		TEST_ERR(jwt_b64_encode(pay, sizeof(pay), (uint8_t *)buf,
					len, true));
		TEST_ERR(with_part(&t2, tok, 1, pay));
		TEST_ERR(expect(t2, ring, NOW, EACCES,
				JWT_REASON_SIGNATURE));
		t2 = mem_deref(t2);
	}

	/* one signature character changed (not the last: its low bits
	   are padding, which strict base64 refuses as malformed) */
	TEST_ERR(str_dup(&t2, tok));
	p = strrchr(t2, '.') + 10;
	*p = *p == 'A' ? 'B' : 'A';
	TEST_ERR(expect(t2, ring, NOW, EACCES, JWT_REASON_SIGNATURE));
	t2 = mem_deref(t2);

	/* a signature that is not 64 bytes */
	TEST_ERR(with_part(&t2, tok, 2, "AAAA"));
	TEST_ERR(expect(t2, ring, NOW, EACCES, JWT_REASON_SIGNATURE));
	t2 = mem_deref(t2);

	/* alg none, unsigned and signed; HS256; near-misses of ES256 */
	TEST_ERR(with_part(&t2, tok, 0, "eyJhbGciOiJub25lIn0")); /* none */
	TEST_ERR(expect(t2, ring, NOW, EACCES, JWT_REASON_ALG));
	mem_deref(t2);
	TEST_ERR(re_sdprintf(&t2, "%b.", tok, strrchr(tok, '.') - tok));
	TEST_ERR(expect(t2, ring, NOW, EBADMSG, JWT_REASON_MALFORMED));
	t2 = mem_deref(t2);

	{
		static const char *algs[] = {
			"{\"alg\":\"none\",\"typ\":\"JWT\"}",
			"{\"alg\":\"HS256\"}",
			"{\"alg\":\"ES256 \"}",
			"{\"alg\":\"es256\"}",
			"{\"alg\":\"ES384\"}",
			"{\"alg\":[\"ES256\"]}",
			"{\"typ\":\"JWT\"}",
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(algs); i++) {
			TEST_ERR(craft(&t2, algs[i], "{\"iss\":\"" ISS "\"}",
				       a));
			TEST_ERR(expect(t2, ring, NOW, EACCES,
					JWT_REASON_ALG));
			t2 = mem_deref(t2);
		}
	}

	/* HS256 keyed with the issuer's public key PEM (Node-made): the
	   classic algorithm confusion; alg is pinned, so refused */
	TEST_ERR(jwt_keyring_add(ring, "https://node.example", b));
	TEST_ERR(file_read(mb, test_datapath("jwt/hs256.jwt"), 512));
	mb->pos = 0;
	TEST_ERR(mbuf_strdup(mb, &t2, mb->end - 1));
	TEST_ERR(expect(t2, ring, NOW, EACCES, JWT_REASON_ALG));
	t2 = mem_deref(t2);

	/* header: typ other than JWT, crit, kid not a string */
	TEST_ERR(craft(&t2, "{\"alg\":\"ES256\",\"typ\":\"at+jwt\"}",
		       "{\"iss\":\"" ISS "\"}", a));
	TEST_ERR(expect(t2, ring, NOW, EACCES, JWT_REASON_HEADER));
	mem_deref(t2);
	TEST_ERR(craft(&t2, "{\"alg\":\"ES256\",\"crit\":[\"exp\"]}",
		       "{\"iss\":\"" ISS "\"}", a));
	TEST_ERR(expect(t2, ring, NOW, EACCES, JWT_REASON_HEADER));
	mem_deref(t2);
	TEST_ERR(craft(&t2, "{\"alg\":\"ES256\",\"kid\":7}",
		       "{\"iss\":\"" ISS "\"}", a));
	TEST_ERR(expect(t2, ring, NOW, EBADMSG, JWT_REASON_MALFORMED));
	t2 = mem_deref(t2);

 out:
	mem_deref(ring);
	mem_deref(c);
	mem_deref(a);
	mem_deref(b);
	mem_deref(tok);
	mem_deref(t2);
	mem_deref(mb);
	return err;
}


/* Sign claims with one time changed and check the verdict at NOW */
static int at(const struct jwt_key *k, const struct jwt_keyring *ring,
	      int64_t iat, int64_t nbf, int64_t exp, int want,
	      const char *why)
{
	struct jwt_claims *c = NULL;
	char *tok = NULL;
	int err;

	err = claims_make(&c, iat, exp);
	if (err)
		return err;

	c->nbf = nbf;
	err = jwt_sign(&tok, c, k);
	if (!err)
		err = expect(tok, ring, NOW, want, why);

	mem_deref(c);
	mem_deref(tok);

	return err;
}


int test_jwt_times(void)
{
	struct jwt_keyring *ring = NULL;
	struct jwt_key *a = NULL;
	const int64_t s = JWT_SKEW;
	int err = 0;

	TEST_ERR(ring_a(&ring, &a));

	/* D-13: expired, within and beyond the skew */
	TEST_ERR(at(a, ring, NOW - LIFE, 0, NOW - s + 1, 0, NULL));
	TEST_ERR(at(a, ring, NOW - LIFE, 0, NOW - s, EACCES,
		    JWT_REASON_EXPIRED));
	TEST_ERR(at(a, ring, NOW - LIFE, 0, NOW - 1000, EACCES,
		    JWT_REASON_EXPIRED));

	/* not before */
	TEST_ERR(at(a, ring, NOW, NOW + s, NOW + LIFE, 0, NULL));
	TEST_ERR(at(a, ring, NOW, NOW + s + 1, NOW + LIFE, EACCES,
		    JWT_REASON_NOT_YET));

	/* issued in the future */
	TEST_ERR(at(a, ring, NOW + s, 0, NOW + LIFE, 0, NULL));
	TEST_ERR(at(a, ring, NOW + s + 1, 0, NOW + LIFE, EACCES,
		    JWT_REASON_NOT_YET));

 out:
	mem_deref(ring);
	mem_deref(a);
	return err;
}


int test_jwt_keyring(void)
{
	struct jwt_keyring *ring = NULL;
	struct jwt_claims *c = NULL;
	struct jwt_key *a = NULL, *b = NULL, *bp = NULL, *cc = NULL;
	char *ta = NULL, *tb = NULL, *tc = NULL, *t = NULL;
	int err = 0;

	TEST_ERR(key(&a, "jwt/a.key"));
	TEST_ERR(key(&b, "jwt/b.key"));
	TEST_ERR(key(&bp, "jwt/b.pub"));
	TEST_ERR(key(&cc, "jwt/c.der"));
	TEST_ERR(claims_make(&c, NOW, NOW + LIFE));
	TEST_ERR(jwt_sign(&ta, c, a));
	TEST_ERR(jwt_sign(&tb, c, b));
	TEST_ERR(jwt_sign(&tc, c, cc));

	TEST_ERR(jwt_keyring_alloc(&ring));

	/* D-15: nobody trusted, then another issuer */
	TEST_ERR(expect(ta, ring, NOW, EACCES, JWT_REASON_ISSUER));
	TEST_ERR(jwt_keyring_add(ring, "https://other.example", a));
	TEST_ERR(expect(ta, ring, NOW, EACCES, JWT_REASON_ISSUER));

	/* rotation: the issuer has keys a and b (public only) */
	TEST_ERR(jwt_keyring_add(ring, ISS, a));
	TEST_ERR(jwt_keyring_add(ring, ISS, bp));
	TEST_EQ(jwt_keyring_count(ring), 3);
	TEST_ERR(expect(ta, ring, NOW, 0, NULL));
	TEST_ERR(expect(tb, ring, NOW, 0, NULL));

	/* signed by c, a key the issuer does not have: its kid is unknown */
	TEST_ERR(expect(tc, ring, NOW, EACCES, JWT_REASON_KID));

	/* signed by c but claiming a's kid: the wrong key for the issuer */
	{
		char hdr[128], pay[512];

		(void)re_snprintf(hdr, sizeof(hdr), "{\"alg\":\"ES256\","
				  "\"kid\":\"%s\"}", jwt_key_id(a));
		(void)re_snprintf(pay, sizeof(pay), "{\"iss\":\"%s\","
				  "\"aud\":\"%s\",\"impi\":\"x@y\","
				  "\"impu\":[\"sip:x@y\"],\"iat\":%d,"
				  "\"exp\":%d}", ISS, AUD, NOW, NOW + 60);
		TEST_ERR(craft(&t, hdr, pay, cc));
		TEST_ERR(expect(t, ring, NOW, EACCES,
				JWT_REASON_SIGNATURE));
		t = mem_deref(t);

		/* without a kid every key of the issuer is tried */
		TEST_ERR(craft(&t, "{\"alg\":\"ES256\"}", pay, b));
		TEST_ERR(expect(t, ring, NOW, 0, NULL));
		t = mem_deref(t);
		TEST_ERR(craft(&t, "{\"alg\":\"ES256\"}", pay, cc));
		TEST_ERR(expect(t, ring, NOW, EACCES,
				JWT_REASON_SIGNATURE));
	}

 out:
	mem_deref(ring);
	mem_deref(c);
	mem_deref(a);
	mem_deref(b);
	mem_deref(bp);
	mem_deref(cc);
	mem_deref(ta);
	mem_deref(tb);
	mem_deref(tc);
	mem_deref(t);
	return err;
}


/* Payloads that sign fine but carry bad claims */
int test_jwt_claims(void)
{
	static const struct {
		const char *pay;
		const char *why;
	} tv[] = {
		{"{}", JWT_REASON_CLAIMS},
		{"{\"iss\":7}", JWT_REASON_ISSUER},
		{"{\"iss\":\"" ISS "\",\"impi\":\"a@b\","
		 "\"impu\":[\"sip:a@b\"],"
		 "\"iat\":1,\"exp\":1700000100}", JWT_REASON_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impu\":"
		 "[\"sip:a@b\"],\"iat\":1,\"exp\":1700000100}",
		 JWT_REASON_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"iat\":1,\"exp\":1700000100}", JWT_REASON_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":[],\"iat\":1,\"exp\":1700000100}",
		 JWT_REASON_INVALID},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":\"sip:a@b\",\"iat\":1,\"exp\":1700000100}",
		 JWT_REASON_INVALID},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":[\"sip:a@b\",3],\"iat\":1,\"exp\":1700000100}",
		 JWT_REASON_INVALID},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":[\"sip:a@b\"],\"iat\":1,\"exp\":1700000100.5}",
		 JWT_REASON_INVALID},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":[\"sip:a@b\"],\"iat\":1,\"exp\":\"1700000100\"}",
		 JWT_REASON_INVALID},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":[\"sip:a@b\"],\"exp\":1700000100}",
		 JWT_REASON_CLAIMS},
		{"{\"iss\":\"" ISS "\",\"aud\":[],\"impi\":\"a@b\","
		 "\"impu\":[\"sip:a@b\"],\"iat\":1,\"exp\":1700000100}",
		 JWT_REASON_INVALID},
		{"{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"impi\":\"a@b\","
		 "\"impu\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\","
		 "\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\","
		 "\"17\"],\"iat\":1,\"exp\":1700000100}", JWT_REASON_INVALID},
		/* the same key twice: refused, whichever a reader takes */
		{"{\"iss\":\"" ISS "\",\"iss\":\"" ISS "\"}",
		 JWT_REASON_MALFORMED},
		{"{\"iss\":\"" ISS "\"} x", JWT_REASON_MALFORMED},
		{"{\"iss\":\"" ISS "\"}{}", JWT_REASON_MALFORMED},
		{"[\"" ISS "\"]", JWT_REASON_MALFORMED},
		{"{\"iss\":\"" ISS "\\u0000\"}", JWT_REASON_MALFORMED},
		{"{\"iss\":TRUE}", JWT_REASON_MALFORMED},
	};
	struct jwt_keyring *ring = NULL;
	struct jwt_claims *c = NULL;
	struct jwt_key *a = NULL;
	char *t = NULL;
	const char *reason;
	struct pl pl;
	size_t i;
	int err = 0;

	TEST_ERR(ring_a(&ring, &a));

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		int want = strcmp(tv[i].why, JWT_REASON_MALFORMED) ?
			EACCES : EBADMSG;

		TEST_ERR(craft(&t, "{\"alg\":\"ES256\"}", tv[i].pay, a));
		err = expect(t, ring, NOW, want, tv[i].why);
		if (err) {
			(void)re_fprintf(stderr, "  claims #%zu\n", i);
			goto out;
		}
		t = mem_deref(t);
	}

	/* aud as an array: membership */
	TEST_ERR(craft(&t, "{\"alg\":\"ES256\"}", "{\"iss\":\"" ISS "\","
		       "\"aud\":[\"x\",\"" AUD "\"],\"impi\":\"a@b\","
		       "\"impu\":[\"sip:a@b\"],\"iat\":1,\"exp\":1700000100}",
		       a));
	pl_set_str(&pl, t);
	TEST_ERR(jwt_verify(&c, &pl, ring, NOW, &reason));
	TEST_EQ(c->audc, 2);
	TEST_STREQ(c->aud, "x");
	TEST_ASSERT(jwt_claims_aud_has(c, AUD));
	TEST_ASSERT(!jwt_claims_aud_has(c, "y"));

 out:
	mem_deref(ring);
	mem_deref(c);
	mem_deref(a);
	mem_deref(t);
	return err;
}


int test_jwt_malformed(void)
{
	static const char *bad[] = {
		"",
		"a",
		"a.b",
		"a.b.c.d",
		"..",
		"eyJhbGciOiJFUzI1NiJ9..AAAA",
		"eyJhbGciOiJFUzI1NiJ9=.e30.AAAA",     /* padding */
		"eyJhbGciOiJFUzI1NiJ9.e30=.AAAA",
		"eyJhbGciOiJFUzI1NiJ9.e3 0.AAAA",     /* space */
		"eyJhbGciOiJFUzI1NiJ9.e3+0.AAAA",     /* not url alphabet */
		"eyJhbGciOiJFUzI1NiJ9.e31.AAAA",      /* non-zero bits */
		"eyJhbGciOiJFUzI1NiJ9.e.AAAA",        /* 6 bits over */
		"eyJhbGciOiJFUzI1NiJ9.bnVsbA.AAAA",   /* null */
		"eyJhbGciOiJFUzI1NiJ9.e30.AAA*",
	};
	struct jwt_keyring *ring = NULL;
	struct jwt_key *a = NULL;
	struct jwt_claims *c = NULL;
	char *huge = NULL;
	const char *reason;
	struct pl pl;
	size_t i;
	int err = 0;

	TEST_ERR(ring_a(&ring, &a));

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err = expect(bad[i], ring, NOW, EBADMSG, JWT_REASON_MALFORMED);
		if (err) {
			(void)re_fprintf(stderr, "  bad #%zu\n", i);
			goto out;
		}
	}

	/* a token one byte over the limit, otherwise well formed */
	huge = mem_alloc(JWT_TOKEN_MAX + 2, NULL);
	TEST_ASSERT(huge != NULL);
	memset(huge, 'A', JWT_TOKEN_MAX + 1);
	memcpy(huge, "eyJhbGciOiJFUzI1NiJ9.", 21);
	huge[JWT_TOKEN_MAX - 100] = '.';
	huge[JWT_TOKEN_MAX + 1] = '\0';
	TEST_ERR(expect(huge, ring, NOW, EBADMSG, JWT_REASON_MALFORMED));

	/* embedded NUL bytes in the text */
	pl.p = "eyJhbGciOiJFUzI1NiJ9\0e30.AAAA";
	pl.l = 29;
	TEST_EQ(jwt_verify(&c, &pl, ring, NOW, &reason), EBADMSG);
	TEST_EQ(jwt_verify(&c, NULL, ring, NOW, &reason), EINVAL);
	TEST_ASSERT(c == NULL);

 out:
	mem_deref(ring);
	mem_deref(a);
	mem_deref(huge);
	return err;
}


/* The strict JSON validator's objects and arrays: nesting, separators,
   the depth limit */
int test_jwt_json(void)
{
	static const char *valid[] = {
		"{}",
		" { } ",
		"{\"a\":[]}",
		"{\"a\":{}}",
		"{\"a\":[1,-2.5e+3,\"x\",true,false,null,{\"b\":[]}]}",
		"{ \"a\" : [ 1 , 2 ] , \"b\" : { \"c\" : { } } }",
		"{\"a\":[[[[[[[1]]]]]]]}",               /* depth 7 */
		"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
		"1}}}}}}}}",
	};
	static const char *invalid[] = {
		"[]",
		"{\"a\":[[[[[[[[1]]]]]]]]}",             /* depth 8 */
		"{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
		"{\"a\":1}}}}}}}}}",
		"{,}",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{\"a\":}",
		"{1:2}",
		"{\"a\":[1,]}",
		"{\"a\":[,1]}",
		"{\"a\":[1 2]}",
		"{\"a\":[}",
		"{\"a\":{]}",
		"{\"a\":{\"b\":1]}",
		"{\"a\":[1}",
		"{\"a\":[1",
		"{\"a\":1",
		"{\"a\":1}}",
		"{\"a\":[\"x]}",
	};
	struct odict *o = NULL;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		err = jwt_json_decode(&o, valid[i], strlen(valid[i]));
		if (err) {
			(void)re_fprintf(stderr, "  refused %s: %m\n",
					 valid[i], err);
			goto out;
		}
		o = mem_deref(o);
	}

	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		if (!jwt_json_decode(&o, invalid[i], strlen(invalid[i]))) {
			(void)re_fprintf(stderr, "  accepted %s\n",
					 invalid[i]);
			err = EINVAL;
			goto out;
		}
	}

 out:
	mem_deref(o);
	return err;
}


/* A token from Node's crypto verifies: interop of the signature form */
int test_jwt_node(void)
{
	struct jwt_keyring *ring = NULL;
	struct jwt_claims *c = NULL;
	struct jwt_key *b = NULL;
	const char *reason = NULL;
	struct pl pl;
	char *t = NULL;
	int err = 0;

	TEST_ERR(jwt_key_load_mem(&b, (const uint8_t *)node_pub,
				  strlen(node_pub)));
	TEST_ERR(jwt_keyring_alloc(&ring));
	TEST_ERR(jwt_keyring_add(ring, "https://node.example", b));

	pl_set_str(&pl, node_token);
	TEST_ERR(jwt_verify(&c, &pl, ring, NOW + 100, &reason));
	TEST_STREQ(c->sub, "alice");
	TEST_STREQ(c->impu[1], "tel:+15551234");
	TEST_EQ(c->exp, 1700003600);
	TEST_ASSERT(jwt_claims_aud_has(c, "wss://edge.example:8443/sip"));

	/* one bit of the payload changed */
	TEST_ERR(str_dup(&t, node_token));
	t[200] = t[200] == 'A' ? 'Q' : 'A';
	TEST_ERR(expect(t, ring, NOW + 100, EACCES, JWT_REASON_SIGNATURE));

	/* and expired later */
	TEST_ERR(expect(node_token, ring, 1700003600 + JWT_SKEW, EACCES,
			JWT_REASON_EXPIRED));

 out:
	mem_deref(ring);
	mem_deref(c);
	mem_deref(b);
	mem_deref(t);
	return err;
}


int test_jwt_b64(void)
{
	static const struct {
		const char *bin, *std, *url;
	} tv[] = {   /* RFC 4648 10, unpadded; and the two alphabets */
		{"", "", ""},
		{"f", "Zg", "Zg"},
		{"fo", "Zm8", "Zm8"},
		{"foo", "Zm9v", "Zm9v"},
		{"foob", "Zm9vYg", "Zm9vYg"},
		{"fooba", "Zm9vYmE", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy", "Zm9vYmFy"},
		{"\xfb\xff\xbf", "+/+/", "-_-_"},
	};
	char out[16];
	uint8_t bin[16];
	size_t i, n;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		size_t len = strlen(tv[i].bin);

		TEST_ERR(jwt_b64_encode(out, sizeof(out),
					(const uint8_t *)tv[i].bin, len,
					false));
		TEST_STREQ(out, tv[i].std);
		TEST_ERR(jwt_b64_encode(out, sizeof(out),
					(const uint8_t *)tv[i].bin, len,
					true));
		TEST_STREQ(out, tv[i].url);

		n = sizeof(bin);
		TEST_ERR(jwt_b64_decode(bin, &n, tv[i].url,
					strlen(tv[i].url), true));
		TEST_EQ(n, len);
		TEST_ASSERT(!memcmp(bin, tv[i].bin, len));
	}

	n = sizeof(bin);
	TEST_EQ(jwt_b64_decode(bin, &n, "-_-_", 4, false), EBADMSG);
	TEST_EQ(jwt_b64_decode(bin, &n, "+/+/", 4, true), EBADMSG);
	TEST_EQ(jwt_b64_decode(bin, &n, "Zh", 2, true), EBADMSG);
	TEST_EQ(jwt_b64_decode(bin, &n, "Zg==", 4, true), EBADMSG);
	n = 2;
	TEST_EQ(jwt_b64_decode(bin, &n, "Zm9v", 4, true), EOVERFLOW);
	TEST_EQ(jwt_b64_encode(out, 4, bin, 3, true), EOVERFLOW);

 out:
	return err;
}

/**
 * @file trust.c  Tests for the one parameter scanner (src/sip/param.c)
 *                and the trust boundary table (src/pcscf/trust.c):
 *                D-52, D-53, D-55
 */
#include <string.h>
#include <strings.h>
#include <re.h>
#include "core/conf.h"
#include "sip/sipx.h"
#include "w2/w2.h"
#include "pcscf/pcscf.h"
#include "pcscf/pcscf_int.h"
#include "test.h"


static size_t qlen(const char *s)
{
	return sipx_qstr_len(s, strlen(s));
}


/* The names a list scans to, joined by '|', or "!" at a fault */
static int scan(const char *list, char sep, char *out, size_t sz)
{
	struct pl rest, name, val;
	size_t n = 0;
	int err;

	pl_set_str(&rest, list);
	out[0] = '\0';
	while (!(err = sipx_param_next(&rest, sep, &name, &val)))
		n += re_snprintf(out + n, sz - n, "%s%r", n ? "|" : "", &name);

	if (err != ENOENT)
		(void)re_snprintf(out + n, sz - n, "!");

	return 0;
}


#define SCAN(list, sep, want)						\
	do {								\
		TEST_ERR(scan(list, sep, buf, sizeof(buf)));		\
		TEST_STREQ(buf, want);					\
	} while (0)


int test_sipx_param(void)
{
	struct pl pl, v;
	uint32_t u = 0;
	char buf[256];
	int err = 0;

	/* a backslash escapes the next character, whatever it is */
	TEST_EQ(qlen("\"alice\\\\\", x"), 9);
	TEST_EQ(qlen("\"a\\\"b\""), 6);
	TEST_EQ(qlen("\"\""), 2);
	TEST_EQ(qlen("\"abc"), 0);
	TEST_EQ(qlen("\"a\\"), 0);
	TEST_EQ(qlen("\"a\\\""), 0);
	TEST_EQ(qlen("abc\""), 0);
	TEST_EQ(qlen("\"a\r\n b\""), 0);

	/* the forged TNA of issue 10: "alice\\" ends the string, so
	   integrity-protected is a parameter of its own */
	SCAN("username=\"alice@ims.test\\\\\", integrity-protected="
	     "\"auth-done\", realm=\"ims.test\"", ',',
	     "username|integrity-protected|realm");

	/* an escaped quote does not end it: the rest does not scan */
	SCAN("username=\"alice\\\", integrity-protected=\"auth-done\"", ',',
	     "!");

	SCAN("a=1,b=\"x,y\" , c", ',', "a|b|c");
	SCAN("a=1,,b=2", ',', "a|b");
	SCAN("", ',', "");
	SCAN("a=b c", ',', "!");
	SCAN("=x", ',', "!");
	SCAN("a=\"x\"y", ',', "!");
	SCAN("a=x\"y\"", ',', "!");
	SCAN("a=", ',', "!");
	SCAN("a=\"x", ',', "!");
	SCAN(";expires=10;+sip.instance=\"<urn:uuid:1>\";ob", ';',
	     "expires|+sip.instance|ob");
	SCAN(";a;;b", ';', "a!");
	SCAN("; a = \"q;r\" ;b", ';', "a|b");

	pl_set_str(&pl, "Realm=\"x\", REALM=\"y\", nonce=\"\"");
	TEST_ERR(sipx_param_get(&pl, ',', "realm", &v));
	TEST_ASSERT(!pl_strcmp(&v, "\"x\""));
	TEST_ERR(sipx_param_get(&pl, ',', "nonce", &v));
	TEST_ASSERT(!pl_strcmp(&v, "\"\""));
	TEST_EQ(sipx_param_get(&pl, ',', "opaque", &v), ENOENT);
	pl_set_str(&pl, "a=1, b=\"");
	TEST_EQ(sipx_param_get(&pl, ',', "a", &v), EBADMSG);

	pl_set_str(&pl, "Digest  realm=\"x\"");
	TEST_ERR(sipx_auth_split(&pl, &v, &pl));
	TEST_ASSERT(!pl_strcmp(&v, "Digest"));
	TEST_ASSERT(!pl_strcmp(&pl, "realm=\"x\""));
	pl_set_str(&pl, "Dig\"est realm=1");
	TEST_EQ(sipx_auth_split(&pl, &v, &pl), EBADMSG);

	/* numbers: digits only, never wrapping */
	pl_set_str(&pl, "4294967295");
	TEST_ERR(sipx_u32(&pl, &u));
	TEST_EQ(u, 4294967295u);
	pl_set_str(&pl, "007");
	TEST_ERR(sipx_u32(&pl, &u));
	TEST_EQ(u, 7);
	pl_set_str(&pl, "4294967296");
	TEST_EQ(sipx_u32(&pl, &u), ERANGE);
	pl_set_str(&pl, "36893488147419103232");
	TEST_EQ(sipx_u32(&pl, &u), ERANGE);
	pl_set_str(&pl, "-1");
	TEST_EQ(sipx_u32(&pl, &u), EBADMSG);
	pl_set_str(&pl, "1 2");
	TEST_EQ(sipx_u32(&pl, &u), EBADMSG);
	pl_set_str(&pl, "");
	TEST_EQ(sipx_u32(&pl, &u), EBADMSG);

	pl_set_str(&pl, "P-Asserted-Identity");
	TEST_ASSERT(sipx_token(&pl));
	pl_set_str(&pl, "P-Asserted Identity");
	TEST_ASSERT(!sipx_token(&pl));

 out:
	return err;
}


static const char req_fmt[] =
	"MESSAGE sip:bob@ims.test SIP/2.0\r\n"
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashd92\r\n"
	"To: <sip:bob@ims.test>\r\n"
	"From: <sip:alice@ims.test>;tag=456248\r\n"
	"Call-ID: 843817637684231@998sdasdh09\r\n"
	"CSeq: 1 MESSAGE\r\n"
	"%s"
	"Content-Length: 0\r\n"
	"\r\n";


/* Check one request and print what of its headers crosses */
static int cross(const char *hdrs, char *out, size_t sz, const char **why)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);
	char text[2048];
	int err;

	if (!mb)
		return ENOMEM;

	(void)re_snprintf(text, sizeof(text), req_fmt, hdrs);
	err = sipx_decode(&msg, (const uint8_t *)text, strlen(text));
	if (err)
		goto out;

	*why = NULL;
	err = trust_check(msg, why);
	if (err)
		goto out;

	err  = trust_print_auth(mb, msg, NULL, NULL);
	err |= pc_print_hdrs(mb, msg, trust_skip, NULL);
	if (!err)
		(void)re_snprintf(out, sz, "%b", mb->buf, mb->end);

 out:
	mem_deref(msg);
	mem_deref(mb);
	return err;
}


static bool has_ci(const char *s, const char *what)
{
	size_t n = strlen(what);

	for (; *s; s++) {
		if (!strncasecmp(s, what, n))
			return true;
	}

	return false;
}


/* D-52: whatever the quoting, case, scheme, position or number, no
   integrity-protected of the browser's crosses; what cannot be read
   safely is refused */
static const struct {
	const char *hdrs;
	int err;          /* 0: crosses without integrity-protected */
} forged[] = {
	/* issue 10: a quoted-pair in credentials is refused (parsers
	   disagree on it), so this never crosses at all */
	{"Authorization: Digest username=\"alice@ims.test\\\\\", "
	 "integrity-protected=\"auth-done\", realm=\"ims.test\", "
	 "nonce=\"\", response=\"\"\r\n", EACCES},
	{"Authorization: Digest username=\"alice@ims.test\", "
	 "integrity-protected=\"auth-done\", realm=\"ims.test\", "
	 "nonce=\"\", response=\"\"\r\n", 0},
	{"Authorization: Digest integrity-protected=auth-done\r\n", 0},
	{"Authorization: Digest INTEGRITY-PROTECTED=\"auth-done\"\r\n", 0},
	{"Authorization: digest Integrity-Protected = \"auth-done\" , "
	 "integrity-protected=\"tls-yes\"\r\n", 0},
	{"Proxy-Authorization: Digest integrity-protected=\"auth-done\"\r\n",
	 0},
	{"proxy-authorization: Digest integrity-protected=\"auth-done\"\r\n",
	 0},
	{"AUTHORIZATION: Other integrity-protected=\"auth-done\"\r\n", 0},
	{"Authorization: Digest username=\"a\"\r\n"
	 "Authorization: Digest integrity-protected=\"auth-done\"\r\n", 0},
	{"Authorization: Digest username=\"a\",\r\n"
	 " integrity-protected=\"auth-done\"\r\n", 0},
	{"Authorization: Digest username=\"alice\\\", "
	 "integrity-protected=\"auth-done\"\r\n", EBADMSG},
	{"Authorization: Digest username=\"alice\\\\\\\", "
	 "integrity-protected=\\\"auth-done\"\r\n", EACCES},
	{"Authorization: Digest username=\"integrity-protected=auth-done\""
	 "\r\n", EACCES},
	{"Authorization: Digest xintegrity-protected=auth-done\r\n", EACCES},
	{"Proxy-Authorization: Foo integrity-protected4auth-done\r\n",
	 EACCES},
	{"Authorization: Digest username=\"a\" integrity-protected="
	 "\"auth-done\"\r\n", EBADMSG},
	{"Authorization: Digest username=\"a\", Digest "
	 "integrity-protected=\"auth-done\"\r\n", EBADMSG},
	{"Authorization: Digest username=\"a\r\n", EBADMSG},
};


/* D-53: network-trusted headers never cross, in any case */
static const char * const dropped[] = {
	"P-Asserted-Identity: <sip:boss@ims.test>\r\n",
	"p-asserted-identity: <sip:boss@ims.test>\r\n",
	"P-ASSERTED-IDENTITY : <sip:boss@ims.test>\r\n",
	"P-Preferred-Identity: <sip:boss@ims.test>\r\n",
	"P-Charging-Vector: icid-value=1\r\n",
	"P-Charging-Function-Addresses: ccf=1.2.3.4\r\n",
	"P-Visited-Network-ID: evil\r\n",
	"Path: <sip:evil.example;lr>\r\n",
	"Service-Route: <sip:evil.example;lr>\r\n",
	"P-Served-User: <sip:boss@ims.test>\r\n",
	"P-Access-Network-Info: 3GPP-E-UTRAN-FDD\r\n",
	"Security-Client: tls\r\n",
	"Security-Verify: tls\r\n",
	"P-Profile-Key: <sip:x>\r\n",
	"P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.mmtel\r\n",
	"Route: <sip:evil.example;lr>\r\n",
	"Record-Route: <sip:evil.example;lr>\r\n",
	"Max-Forwards: 70\r\n",
	"Authorization: Bearer abc.def.ghi\r\n",
};


int test_pcscf_trust(void)
{
	const char *why;
	char out[2048];
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(forged); i++) {
		int e = cross(forged[i].hdrs, out, sizeof(out), &why);

		if (e != forged[i].err) {
			re_fprintf(stderr, "forged[%zu]: %m (%s)\n", i, e,
				   why);
			TEST_EQ(e, forged[i].err);
		}
		if (!e)
			TEST_ASSERT(!has_ci(out, "integrity-protected"));
	}

	/* what crosses of a credential: every other parameter */
	TEST_ERR(cross(forged[1].hdrs, out, sizeof(out), &why));
	TEST_ASSERT(strstr(out, "Authorization: Digest username=\"alice@ims."
			   "test\", realm=\"ims.test\", nonce=\"\", "
			   "response=\"\"\r\n"));

	for (i = 0; i < ARRAY_SIZE(dropped); i++) {
		TEST_ERR(cross(dropped[i], out, sizeof(out), &why));
		if (strstr(out, "evil") || strstr(out, "boss") ||
		    has_ci(out, dropped[i] + 2) || strstr(out, "Max-F")) {
			re_fprintf(stderr, "dropped[%zu] crossed: %s\n", i,
				   out);
			TEST_ASSERT(false);
		}
	}

	/* the rest crosses, folded lines unfolded */
	TEST_ERR(cross("Subject: a\r\n b\r\nX-Mine: 1\r\n", out, sizeof(out),
		       &why));
	TEST_ASSERT(strstr(out, "Subject: a b\r\nX-Mine: 1\r\n"));

 out:
	return err;
}


static int maxfwd(const char *hdrs, uint32_t *fwd)
{
	struct sip_msg *msg = NULL;
	char text[2048];
	int err;

	(void)re_snprintf(text, sizeof(text), req_fmt, hdrs);
	err = sipx_decode(&msg, (const uint8_t *)text, strlen(text));
	if (!err)
		err = trust_maxfwd(msg, fwd);

	mem_deref(msg);
	return err;
}


/* D-55: Max-Forwards edge values; nothing wraps */
int test_pcscf_maxfwd(void)
{
	static const struct {
		const char *hdrs;
		int err;
		uint32_t fwd;
	} tv[] = {
		{"", 0, 70},
		{"Max-Forwards: 70\r\n", 0, 69},
		{"Max-Forwards: 1\r\n", 0, 0},
		{"Max-Forwards: 0\r\n", ELOOP, 0},
		{"Max-Forwards: 00\r\n", ELOOP, 0},
		{"Max-Forwards: 255\r\n", 0, 254},
		{"Max-Forwards: 256\r\n", 0, 70},
		{"Max-Forwards: 4294967295\r\n", 0, 70},
		{"Max-Forwards: 4294967296\r\n", 0, 70},
		{"Max-Forwards: -1\r\n", EBADMSG, 0},
		{"Max-Forwards: abc\r\n", EBADMSG, 0},
		{"Max-Forwards: 7 0\r\n", EBADMSG, 0},
		{"Max-Forwards: \r\n", EBADMSG, 0},
		{"Max-Forwards: 70\r\nmax-forwards: 0\r\n", EBADMSG, 0},
	};
	uint32_t fwd;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		int e;

		fwd = 0;
		e = maxfwd(tv[i].hdrs, &fwd);
		if (e != tv[i].err || (!e && fwd != tv[i].fwd)) {
			re_fprintf(stderr, "maxfwd[%zu]: %m %u\n", i, e, fwd);
			TEST_ASSERT(false);
		}
	}

 out:
	return err;
}


static int check_ruri(const char *ruri, int want, const char *why_want)
{
	struct sip_msg *msg = NULL;
	const char *why = NULL;
	char text[1024];
	int err = 0;

	(void)re_snprintf(text, sizeof(text),
			  "OPTIONS %s SIP/2.0\r\n"
			  "Via: SIP/2.0/WSS h.invalid;branch=z9hG4bK1\r\n"
			  "To: <sip:bob@ims.test>\r\n"
			  "From: <sip:alice@ims.test>;tag=1\r\n"
			  "Call-ID: r.1\r\nCSeq: 1 OPTIONS\r\n"
			  "Content-Length: 0\r\n\r\n", ruri);
	TEST_ERR(sipx_decode(&msg, (const uint8_t *)text, strlen(text)));
	if (trust_check(msg, &why) != want) {
		(void)re_fprintf(stderr, "  %s: %s\n", ruri, why ? why : "ok");
		err = EINVAL;
		goto out;
	}
	if (why_want)
		TEST_STREQ(why, why_want);

 out:
	mem_deref(msg);
	return err;
}


static int check_preq(const char *hdrs, int want, const char *unsup)
{
	struct sip_msg *msg = NULL;
	char text[1024], hdr[256];
	int err = 0;

	(void)re_snprintf(text, sizeof(text), req_fmt, hdrs);
	TEST_ERR(sipx_decode(&msg, (const uint8_t *)text, strlen(text)));
	TEST_EQ(trust_proxy_require(msg, hdr, sizeof(hdr)), want);
	if (unsup)
		TEST_STREQ(hdr, unsup);

 out:
	mem_deref(msg);
	return err;
}


/* Request-URI at the trust boundary: headers refused (a '?' in the user
   part is no header: RFC 4475 3.1.1.2 intmeth), schemes other than sip,
   sips, tel and urn answered 416 (3.1.1.?? unkscm, novelsc); Proxy-Require
   tags other than sec-agree answered 420 (RFC 3261 16.3, 4475 bext01) */
int test_pcscf_ruri(void)
{
	int err = 0;

	TEST_ERR(check_ruri("sip:bob@ims.test", 0, NULL));
	TEST_ERR(check_ruri("sips:bob@ims.test;transport=tcp", 0, NULL));
	TEST_ERR(check_ruri("tel:+15551234", 0, NULL));
	TEST_ERR(check_ruri("urn:service:sos", 0, NULL));
	TEST_ERR(check_ruri("sip:1_unusual.URI~(to-be!sure)&isn't+it$/"
			    "crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too."
			    "(doesn't-it)@example.com", 0, NULL));
	TEST_ERR(check_ruri("sip:bob@ims.test?Route=%3Csip:evil%3E", EBADMSG,
			    "Headers in Request-URI"));
	TEST_ERR(check_ruri("sip:ims.test?Route=%3Csip:evil%3E", EBADMSG,
			    "Headers in Request-URI"));
	TEST_ERR(check_ruri("sip:a?b@ims.test?Route=x", EBADMSG,
			    "Headers in Request-URI"));
	TEST_ERR(check_ruri("sip:ims.test;lr?x=y", EBADMSG,
			    "Headers in Request-URI"));
	TEST_ERR(check_ruri("nobodyKnowsThisScheme:totallyopaquecontent",
			    EPROTONOSUPPORT, "Unsupported URI Scheme"));
	TEST_ERR(check_ruri("soap.beep://192.0.2.103:3002", EPROTONOSUPPORT,
			    "Unsupported URI Scheme"));
	TEST_ERR(check_ruri("im:bob@ims.test", EPROTONOSUPPORT, NULL));

	TEST_ERR(check_preq("", 0, NULL));
	TEST_ERR(check_preq("Proxy-Require: sec-agree\r\n", 0, NULL));
	TEST_ERR(check_preq("Proxy-Require: SEC-AGREE \r\n", 0, NULL));
	TEST_ERR(check_preq("Require: nothingSupportsThis\r\n", 0, NULL));
	TEST_ERR(check_preq("Proxy-Require: noProxiesSupportThis, "
			    "norDoAnyProxiesSupportThis\r\n", ENOTSUP,
			    "Unsupported: noProxiesSupportThis, "
			    "norDoAnyProxiesSupportThis\r\n"));
	TEST_ERR(check_preq("Proxy-Require: sec-agree\r\n"
			    "Proxy-Require: foo\r\n", ENOTSUP,
			    "Unsupported: foo\r\n"));
	TEST_ERR(check_preq("Proxy-Require: a\"b\r\n", EBADMSG, NULL));

 out:
	return err;
}

/**
 * @file pcscf.c  Tests for the eP-CSCF message helpers: flow tokens,
 *                route recognition, auth-param stripping, the REGISTER
 *                rewrite (D-4..D-10)
 */
#include <string.h>
#include <time.h>
#include <re.h>
#include "core/conf.h"
#include "sip/sipx.h"
#include "w2/w2.h"
#include "pcscf/pcscf.h"
#include "jwt/jwt.h"
#include "pcscf/pcscf_int.h"
#include "test.h"


static int fake_pcscf(struct pcscf *p, struct imsedge_conf **confp)
{
	static const char cfg[] =
		"w2_listen 127.0.0.1:7443\ntls_cert c\ntls_key k\n"
		"w2_origin https://a.example\nmw_listen 127.0.0.1:5070\n"
		"mw_next_hop sip:127.0.0.1:5060\n"
		"visited_network_id visited.example.net\n";
	char errbuf[128];
	int err;

	memset(p, 0, sizeof(*p));
	memset(p->key, 0x5a, sizeof(p->key));
	err = conf_parse(confp, "t", cfg, sizeof(cfg) - 1, errbuf,
			 sizeof(errbuf));
	if (err)
		return err;

	p->conf = *confp;
	return sa_set_str(&p->mw_addr, "127.0.0.1", 5070);
}


int test_pcscf_token(void)
{
	struct imsedge_conf *conf = NULL;
	struct pcscf p, other;
	char tok[PC_TOKEN_LEN + 1], buf[128];
	struct pl user, val;
	uint64_t id = 0;
	int err;

	TEST_ERR(fake_pcscf(&p, &conf));

	/* a token names its connection id */
	flow_token_print(&p, 42, tok, sizeof(tok));
	TEST_EQ(strlen(tok), PC_TOKEN_LEN);
	pl_set_str(&user, tok);
	TEST_ERR(flow_token_decode(&p, &user, &id));
	TEST_EQ(id, 42);

	/* any change to it, or another process' key, breaks it */
	tok[PC_TOKEN_LEN - 1] ^= 1;
	TEST_EQ(flow_token_decode(&p, &user, &id), EBADMSG);
	tok[PC_TOKEN_LEN - 1] ^= 1;
	tok[10] = tok[10] == '0' ? '1' : '0';
	TEST_EQ(flow_token_decode(&p, &user, &id), EBADMSG);
	flow_token_print(&p, 42, tok, sizeof(tok));
	other = p;
	other.key[0] ^= 1;
	TEST_EQ(flow_token_decode(&other, &user, &id), EBADMSG);

	/* id 0, short, upper case, wrong prefix */
	flow_token_print(&p, 0, tok, sizeof(tok));
	TEST_EQ(flow_token_decode(&p, &user, &id), EBADMSG);
	pl_set_str(&user, "fl00000000000000");
	TEST_EQ(flow_token_decode(&p, &user, &id), EBADMSG);
	pl_set_str(&user, "FL000000000000002A00000000");
	TEST_EQ(flow_token_decode(&p, &user, &id), EBADMSG);

	/* Route entries: a token is ours and names its flow */
	flow_token_print(&p, 9, tok, sizeof(tok));
	(void)re_snprintf(buf, sizeof(buf), "<sip:%s@127.0.0.1:5070;lr;ob>",
			  tok);
	pl_set_str(&val, buf);
	TEST_ASSERT(pc_route_is_ours(&p, &val, &id));
	TEST_EQ(id, 9);

	/* our address without token is ours too; others are not */
	pl_set_str(&val, "<sip:127.0.0.1:5070;lr>");
	TEST_ASSERT(pc_route_is_ours(&p, &val, &id));
	TEST_EQ(id, 0);
	pl_set_str(&val, "<sip:orig@127.0.0.1:5060;lr>");
	TEST_ASSERT(!pc_route_is_ours(&p, &val, &id));

	/* a token-like user that does not verify, at our address: stale
	   (from before a restart), so the flow has gone */
	(void)re_snprintf(buf, sizeof(buf), "<sip:fl%016llx%08x@127.0.0.1:"
			  "5070;lr;ob>", 7ULL, 1);
	pl_set_str(&val, buf);
	TEST_ASSERT(pc_route_is_ours(&p, &val, &id));
	TEST_ASSERT(id == PC_FLOW_STALE);

 out:
	mem_deref(conf);
	return err;
}


static int strip(const char *in, const char *want)
{
	static const char * const names[] = {"ck", "ik",
					     "integrity-protected"};
	struct mbuf *mb = mbuf_alloc(256);
	struct pl val;
	int err = 0;

	TEST_ASSERT(mb);
	pl_set_str(&val, in);
	TEST_ERR(pc_strip_params(mb, &val, names, ARRAY_SIZE(names)));
	TEST_ERR(mbuf_write_u8(mb, 0));
	TEST_STREQ((char *)mb->buf, want);

 out:
	mem_deref(mb);
	return err;
}


int test_pcscf_strip_params(void)
{
	static const struct {
		const char *val;
		bool aka;
	} akav[] = {
		{"Digest algorithm=AKAv1-MD5, qop=auth", true},
		{"Digest nonce=\"x\", ALGORITHM=\"akav2-SHA-256\"", true},
		{"Digest username=\"a\", algorithm=MD5", false},
		{"Digest algorithm=AKA", false},
		{"Digest algorithm=", false},
		{"", false},
	};
	struct pl pl;
	unsigned i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(akav); i++) {
		pl_set_str(&pl, akav[i].val);
		TEST_EQ(pc_auth_is_aka(&pl), akav[i].aka);
	}

	TEST_ERR(strip("Digest realm=\"ims.test\", nonce=\"abc\", "
		       "algorithm=AKAv1-MD5, ck=\"0011\", ik=\"ffee\", "
		       "qop=\"auth\"",
		       "Digest realm=\"ims.test\", nonce=\"abc\", "
		       "algorithm=AKAv1-MD5, qop=\"auth\""));

	/* a comma inside quotes is not a separator */
	TEST_ERR(strip("Digest realm=\"a,ck=1\",ck=\"x\"",
		       "Digest realm=\"a,ck=1\""));

	/* an existing integrity-protected is removed, not duplicated */
	TEST_ERR(strip("Digest username=\"alice@ims.test\", "
		       "integrity-protected=\"yes\", response=\"\"",
		       "Digest username=\"alice@ims.test\", response=\"\""));

	TEST_ERR(strip("Digest", "Digest"));
	TEST_ERR(strip("Digest ck=\"1\"", "Digest"));

 out:
	return err;
}


int test_pcscf_uri(void)
{
	struct pl a, b;
	int err = 0;

	pl_set_str(&a, "sip:alice@ims.test");
	pl_set_str(&b, "sip:alice@IMS.TEST;user=phone");
	TEST_ASSERT(pc_uri_eq(&a, &b));
	pl_set_str(&b, "sip:Alice@ims.test");
	TEST_ASSERT(!pc_uri_eq(&a, &b));
	pl_set_str(&b, "sips:alice@ims.test");
	TEST_ASSERT(!pc_uri_eq(&a, &b));
	pl_set_str(&a, "tel:+15550001");
	pl_set_str(&b, "tel:+15550001");
	TEST_ASSERT(pc_uri_eq(&a, &b));

	pl_set_str(&a, "INVITE");
	TEST_ASSERT(pc_dialog_forming(&a));
	pl_set_str(&a, "MESSAGE");
	TEST_ASSERT(!pc_dialog_forming(&a));

 out:
	return err;
}


static const char reg[] =
	"REGISTER sip:ims.test SIP/2.0\r\n"
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashds7\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:alice@ims.test>\r\n"
	"From: <sip:alice@ims.test>;tag=456248\r\n"
	"Call-ID: 843817637684230@998sdasdh09\r\n"
	"CSeq: 1826 REGISTER\r\n"
	"Contact: <sip:x@df7jal23ls0d.invalid;transport=ws>;expires=600\r\n"
	"Authorization: Digest username=\"alice@ims.test\", "
	"realm=\"ims.test\", nonce=\"\", uri=\"sip:ims.test\", "
	"response=\"\", integrity-protected=\"yes\"\r\n"
	"Security-Client: ipsec-3gpp; alg=hmac-sha-1-96; spi-c=1\r\n"
	"Require: sec-agree\r\n"
	"Proxy-Require: sec-agree\r\n"
	"Supported: sec-agree, outbound\r\n"
	"Content-Length: 0\r\n"
	"\r\n";


static int rewrite(struct pcscf *p, struct flow *fl, const char *in,
		   char *out, size_t sz)
{
	struct sip_msg *msg = NULL;
	struct mbuf *mb = mbuf_alloc(1024);
	int err;

	if (!mb)
		return ENOMEM;

	err = sipx_decode(&msg, (const uint8_t *)in, strlen(in));
	if (!err)
		err = reg_print_request(mb, p, fl, msg, NULL);
	if (!err)
		(void)re_snprintf(out, sz, "%b", mb->buf, mb->end);

	mem_deref(msg);
	mem_deref(mb);
	return err;
}


int test_pcscf_register_rewrite(void)
{
	struct imsedge_conf *conf = NULL;
	struct pcscf p;
	struct flow fl;
	char out[2048], aka[1024];
	const char *s;
	int err;

	TEST_ERR(fake_pcscf(&p, &conf));
	memset(&fl, 0, sizeof(fl));
	fl.p = &p;
	(void)re_snprintf(fl.token, sizeof(fl.token),
			  "fl00000000000000010000abcd");

	TEST_ERR(rewrite(&p, &fl, reg, out, sizeof(out)));

	/* D-4 */
	TEST_ASSERT(strstr(out, "Path: <sip:fl00000000000000010000abcd@"
			   "127.0.0.1:5070;lr;ob>\r\n"));
	TEST_ASSERT(strstr(out, "\r\nRequire: path\r\n"));
	TEST_ASSERT(strstr(out, "\r\nSupported: outbound, path\r\n"));
	/* D-5 */
	TEST_ASSERT(strstr(out, "P-Visited-Network-ID: visited.example.net"
			   "\r\n"));
	s = strstr(out, "P-Charging-Vector: icid-value=");
	TEST_ASSERT(s);
	TEST_ASSERT(!strncmp(s + 30 + 32, ";icid-generated-at=127.0.0.1"
			     "\r\n", 30));
	/* D-6 */
	TEST_ASSERT(!strstr(out, "Security-Client"));
	TEST_ASSERT(!strstr(out, "sec-agree"));
	TEST_ASSERT(!strstr(out, "Proxy-Require"));
	/* D-10: first Digest REGISTER on a TLS session */
	TEST_ASSERT(strstr(out, ", integrity-protected=\"tls-pending\"\r\n"));
	TEST_ASSERT(!strstr(out, "integrity-protected=\"yes\""));
	TEST_ASSERT(strstr(out, "Max-Forwards: 69\r\n"));
	TEST_ASSERT(strstr(out, "Content-Length: 0\r\n\r\n"));

	/* D-10: once the session is bound to the IMPI: tls-yes */
	fl.impi_bound = "alice@ims.test";
	TEST_ERR(rewrite(&p, &fl, reg, out, sizeof(out)));
	fl.impi_bound = NULL;
	TEST_ASSERT(strstr(out, ", integrity-protected=\"tls-yes\"\r\n"));

	/* D-7: IMS-AKA over TLS, even on a bound session */
	s = strstr(reg, "response=\"\"");
	TEST_ASSERT(s);
	(void)re_snprintf(aka, sizeof(aka), "%b%s", reg, (size_t)(s - reg),
			  "algorithm=AKAv1-MD5, response=\"\"\r\n"
			  "Content-Length: 0\r\n\r\n");
	fl.impi_bound = "alice@ims.test";
	TEST_ERR(rewrite(&p, &fl, aka, out, sizeof(out)));
	fl.impi_bound = NULL;
	TEST_ASSERT(strstr(out, "algorithm=AKAv1-MD5, response=\"\", "
			   "integrity-protected=\"tls-connected\"\r\n"));

 out:
	mem_deref(conf);
	return err;
}


static const char reg_bearer[] =
	"REGISTER sip:ims.test SIP/2.0\r\n"
	"Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKnashd92\r\n"
	"Max-Forwards: 70\r\n"
	"To: <sip:alice@ims.test>\r\n"
	"From: <sip:alice@ims.test>;tag=456248\r\n"
	"Call-ID: 843817637684231@998sdasdh09\r\n"
	"CSeq: 1 REGISTER\r\n"
	"Contact: <sip:x@df7jal23ls0d.invalid;transport=ws>;expires=7200"
	";+sip.instance=\"<urn:uuid:1>\"\r\n"
	"Expires: 7200\r\n"
	"Authorization: %s\r\n"
	"Content-Length: 0\r\n"
	"\r\n";


static int bearer_of(const char *auth, char *tok, size_t sz)
{
	struct sip_msg *msg = NULL;
	char text[1024];
	struct pl pl;
	int err;

	(void)re_snprintf(text, sizeof(text), reg_bearer, auth);
	err = sipx_decode(&msg, (const uint8_t *)text, strlen(text));
	if (!err)
		err = webauth_bearer(msg, &pl);
	if (!err)
		(void)pl_strcpy(&pl, tok, sz);

	mem_deref(msg);
	return err;
}


/* D-12 (both Bearer syntaxes), D-18 (pool membership), D-16/D-17/D-19
   (the TNA header, Bearer gone, Expires capped) */
int test_pcscf_webauth(void)
{
	static const char cfg[] =
		"w2_listen 127.0.0.1:7443\ntls_cert c\ntls_key k\n"
		"w2_origin https://a.example\nmw_listen 127.0.0.1:5070\n"
		"mw_next_hop sip:127.0.0.1:5060\n"
		"wwsf_listen 127.0.0.1:8443\ntoken_key t.pem\n"
		"w2_public_url wss://e.example\n"
		"identity_pool g sip:guest{1-20}@ims.test\n"
		"identity_pool t tel:+1555{0-9}\n";
	struct imsedge_conf *conf = NULL;
	struct jwt_claims *c = NULL;
	struct sip_msg *msg = NULL;
	struct mbuf *mb = NULL;
	struct pcscf p;
	struct flow fl;
	char tok[64], text[1024], out[2048], errbuf[128];
	struct pl uri;
	int err;

	TEST_ERR(bearer_of("Bearer eyJ.abc.d_-", tok, sizeof(tok)));
	TEST_STREQ(tok, "eyJ.abc.d_-");
	TEST_ERR(bearer_of("Bearer   access_token=\"eyJ.x.y\"", tok,
			   sizeof(tok)));
	TEST_STREQ(tok, "eyJ.x.y");
	TEST_ERR(bearer_of("Bearer access_token=eyJ.x.z", tok, sizeof(tok)));
	TEST_STREQ(tok, "eyJ.x.z");
	TEST_EQ(bearer_of("Bearer a b", tok, sizeof(tok)), EBADMSG);
	TEST_EQ(bearer_of("Bearer access_token=\"a", tok, sizeof(tok)),
		EBADMSG);
	TEST_EQ(bearer_of("Digest username=\"a\"", tok, sizeof(tok)),
		ENOENT);
	TEST_EQ(bearer_of("Bearerx", tok, sizeof(tok)), ENOENT);

	TEST_ERR(conf_parse(&conf, "t", cfg, sizeof(cfg) - 1, errbuf,
			    sizeof(errbuf)));
	pl_set_str(&uri, "sip:guest7@ims.test");
	TEST_ASSERT(webauth_pool_holds(conf, "g", &uri));
	TEST_ASSERT(!webauth_pool_holds(conf, "t", &uri));
	TEST_ASSERT(!webauth_pool_holds(conf, "nope", &uri));
	pl_set_str(&uri, "sip:guest21@ims.test");
	TEST_ASSERT(!webauth_pool_holds(conf, "g", &uri));
	pl_set_str(&uri, "sip:guest07@ims.test");
	TEST_ASSERT(!webauth_pool_holds(conf, "g", &uri));
	pl_set_str(&uri, "sip:guest7@ims.test.evil");
	TEST_ASSERT(!webauth_pool_holds(conf, "g", &uri));
	pl_set_str(&uri, "sip:alice@ims.test");
	TEST_ASSERT(!webauth_pool_holds(conf, "g", &uri));
	pl_set_str(&uri, "tel:+15550");
	TEST_ASSERT(webauth_pool_holds(conf, "t", &uri));

	/* the REGISTER toward the core */
	memset(&p, 0, sizeof(p));
	p.conf = conf;
	TEST_ERR(sa_set_str(&p.mw_addr, "127.0.0.1", 5070));
	memset(&fl, 0, sizeof(fl));
	fl.p = &p;
	(void)re_snprintf(fl.token, sizeof(fl.token),
			  "fl00000000000000010000abcd");
	TEST_ERR(jwt_claims_alloc(&c));
	TEST_ERR(str_dup(&c->impi, "alice@ims.test"));
	c->exp = (int64_t)time(NULL) + 100;

	(void)re_snprintf(text, sizeof(text), reg_bearer, "Bearer a.b.c");
	TEST_ERR(sipx_decode(&msg, (const uint8_t *)text, strlen(text)));
	mb = mbuf_alloc(1024);
	TEST_ASSERT(mb);
	TEST_ERR(reg_print_request(mb, &p, &fl, msg, c));
	(void)re_snprintf(out, sizeof(out), "%b", mb->buf, mb->end);

	TEST_ASSERT(strstr(out, "\r\nAuthorization: Digest username=\"alice@"
			   "ims.test\", realm=\"ims.test\", uri=\"sip:ims."
			   "test\", nonce=\"\", response=\"\", integrity-"
			   "protected=\"auth-done\"\r\n"));
	TEST_ASSERT(!strstr(out, "Bearer"));
	TEST_ASSERT(strstr(out, "\r\nContact: <sip:x@df7jal23ls0d.invalid;"
			   "transport=ws>;+sip.instance=\"<urn:uuid:1>\"\r\n"));
	TEST_ASSERT(strstr(out, "\r\nExpires: 100\r\n") ||
		    strstr(out, "\r\nExpires: 99\r\n"));
	TEST_ASSERT(!strstr(out, "7200"));
	TEST_ASSERT(strstr(out, "Path: <sip:fl00000000000000010000abcd@"));

 out:
	mem_deref(mb);
	mem_deref(msg);
	mem_deref(c);
	mem_deref(conf);
	return err;
}


struct ri_seen {
	char line[8][160];
	unsigned n;
};


static bool ri_h(const struct reginfo_contact *c, void *arg)
{
	struct ri_seen *s = arg;

	if (s->n < ARRAY_SIZE(s->line))
		(void)re_snprintf(s->line[s->n], sizeof(s->line[0]),
				  "%r|%r|%r|%r|%r", &c->aor, &c->reg_state,
				  &c->state, &c->event, &c->uri);
	++s->n;

	return false;
}


static int ri(struct ri_seen *s, const char *doc)
{
	struct pl pl;

	memset(s, 0, sizeof(*s));
	pl_set_str(&pl, doc);

	return reginfo_decode(&pl, ri_h, s);
}


/* D-58: the reginfo reader, on Kamailio's and RFC 3680's documents and
   on broken ones */
int test_pcscf_reginfo(void)
{
	struct ri_seen s;
	int err = 0;

	/* as Kamailio's presence_reginfo sends it */
	TEST_ERR(ri(&s, "<?xml version=\"1.0\"?>\n<reginfo xmlns=\"urn:ietf:"
		    "params:xml:ns:reginfo\" version=\"0\" state=\"full\">\n"
		    "<registration aor=\"sip:alice@ims.test\" id=\"0x1\" "
		    "state=\"terminated\">\n<contact id=\"0x2\" state=\""
		    "terminated\" event=\"unregistered\" expires=\"599\" "
		    "callid=\"r1\" path=\"\">\n<uri>sip:a@127.0.0.1:4984"
		    "8</uri>\n</contact>\n</registration>\n</reginfo>\n"));
	TEST_EQ(s.n, 1);
	TEST_STREQ(s.line[0], "sip:alice@ims.test|terminated|terminated|"
		   "unregistered|sip:a@127.0.0.1:49848");

	/* prefixes, single quotes, comments, unknown elements, blanks
	   around the URI, a registration without contacts */
	TEST_ERR(ri(&s, "<!-- x --><r:reginfo xmlns:r='urn:x' state='partial'"
		    "><r:registration aor='sip:u@h' state='active'><r:"
		    "contact state='terminated' event='deactivated'><r:uri> "
		    "sip:u@pc </r:uri><r:display-name>J</r:display-name>"
		    "<x:e/></r:contact><r:contact state='active'><r:uri>"
		    "sip:v@h</r:uri></r:contact></r:registration><r:"
		    "registration aor='tel:+1' state='terminated'/>"
		    "</r:reginfo>"));
	TEST_EQ(s.n, 3);
	TEST_STREQ(s.line[0], "sip:u@h|active|terminated|deactivated|"
		   "sip:u@pc");
	TEST_STREQ(s.line[1], "sip:u@h|active|active||sip:v@h");
	TEST_STREQ(s.line[2], "tel:+1|terminated|||");

	/* "a>b" inside a quoted attribute is not the end of the tag */
	TEST_ERR(ri(&s, "<reginfo><registration aor=\"sip:a>b@h\" state=\""
		    "active\"><contact state=\"active\"><uri>sip:x@h</uri>"
		    "</contact></registration></reginfo>"));
	TEST_EQ(s.n, 1);
	TEST_STREQ(s.line[0], "sip:a>b@h|active|active||sip:x@h");

	/* not reginfo, or broken: EBADMSG, nothing reported */
	TEST_EQ(ri(&s, ""), EBADMSG);
	TEST_EQ(ri(&s, "<presence/>"), EBADMSG);
	TEST_EQ(ri(&s, "<reginfo><contact state=\"terminated\"><uri>x</uri>"
		   "</contact></reginfo>"), EBADMSG);
	TEST_EQ(ri(&s, "<reginfo><registration state=\"active\"/>"
		   "</reginfo>"), EBADMSG);
	TEST_EQ(ri(&s, "<reginfo><registration aor=\"x\"><contact state=\""
		   "a"), EBADMSG);
	TEST_EQ(ri(&s, "<reginfo><!-- never closed"), EBADMSG);
	TEST_EQ(s.n, 0);

	/* bounded depth */
	{
		char doc[2048] = "<reginfo><registration aor=\"a\"><contact>";
		unsigned i;

		for (i = 0; i < 40; i++)
			strcat(doc, "<x>");
		TEST_EQ(ri(&s, doc), EOVERFLOW);
	}

 out:
	return err;
}

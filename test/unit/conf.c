/**
 * @file conf.c  Tests for the configuration parser (imsedge -t relies on
 *               these messages)
 */
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <re.h>
#include "core/conf.h"
#include "core/stats.h"
#include "test.h"

static const char good[] =
	"# imsedge test config\n"
	"w2_listen 127.0.0.1:7443\n"
	"tls_cert /etc/imsedge/cert.pem\n"
	"tls_key  /etc/imsedge/key.pem\n"
	"\n"
	"   # indented comment\n"
	"w2_origin https://wwsf.example.net:8443\n"
	"w2_origin http://localhost\n"
	"mw_listen 127.0.0.1:5070\n"
	"mw_next_hop sip:127.0.0.1:5060;transport=udp\n"
	"max_connections 200\r\n"
	"log_level warn\n"
	"log_syslog yes\n";


int test_conf_good(void)
{
	struct imsedge_conf *conf = NULL;
	char errbuf[256] = "";
	int err;

	TEST_ERR(conf_parse(&conf, "t.conf", good, strlen(good), errbuf,
			    sizeof(errbuf)));

	TEST_EQ(sa_port(&conf->w2_listen), 7443);
	TEST_STREQ(conf->tls_cert, "/etc/imsedge/cert.pem");
	TEST_STREQ(conf->tls_key, "/etc/imsedge/key.pem");
	TEST_EQ(list_count(&conf->origins), 2);
	TEST_EQ(sa_port(&conf->mw_listen), 5070);
	TEST_STREQ(conf->mw_next_hop, "sip:127.0.0.1:5060;transport=udp");
	TEST_EQ(conf->max_connections, 200);
	TEST_EQ(conf->log_level, LOG_LVL_WARN);
	TEST_ASSERT(conf->log_syslog);

	/* defaults */
	TEST_EQ(conf->consent_timeout, 30);
	TEST_ASSERT(conf->datachannel);
	TEST_ASSERT(conf->media_port_shared);
	TEST_ASSERT(conf->media_core_port_shared);
	TEST_EQ(conf->max_datachannels, 16);
	TEST_EQ(conf->dc_max_message, 65536);
	TEST_ASSERT(!conf->core_dc_relay);
	TEST_EQ(list_count(&conf->emergency_numbers), 2);
	TEST_ASSERT(!sa_isset(&conf->media_listen, SA_ADDR));
	TEST_EQ(conf->w2_max_message, 65536);
	TEST_EQ(conf->w2_ping_interval, 30);
	TEST_EQ(conf->w2_handshake_timeout, 10);
	TEST_EQ(conf->core_codecc, 3);
	TEST_EQ(conf->core_codecv[0], CONF_AMRWB);
	TEST_EQ(conf->core_codecv[1], CONF_AMR);
	TEST_EQ(conf->core_codecv[2], CONF_G722);
	TEST_EQ(conf->amr_wb_mode_set, 0);
	TEST_EQ(conf->w2_max_pending, 64);   /* max(200 / 4, 64) */
	TEST_EQ(conf->w2_pending_per_address, 32);
	TEST_EQ(conf->w2_connections_per_address, 256);
	TEST_EQ(conf->buffer_budget, 33554432);

 out:
	mem_deref(conf);
	return err;
}


static const char base[] =
	"w2_listen 127.0.0.1:7443\n"
	"tls_cert c.pem\n"
	"tls_key k.pem\n"
	"w2_origin https://a.example\n"
	"mw_listen 127.0.0.1:5070\n"
	"mw_next_hop sip:127.0.0.1\n";


static int expect_error(const char *extra, const char *want)
{
	struct imsedge_conf *conf = NULL;
	char text[1024], errbuf[256] = "";
	int err = 0;

	(void)re_snprintf(text, sizeof(text), "%s%s", base, extra);

	if (!conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			sizeof(errbuf))) {
		(void)re_fprintf(stderr, "  accepted: %s", extra);
		TEST_ASSERT(false && "parse should have failed");
	}

	TEST_STREQ(errbuf, want);

 out:
	mem_deref(conf);
	return err;
}


/* core_codecs and amr_wb_mode_set (issue 11) */
int test_conf_xcode(void)
{
	static const char extra[] =
		"core_codecs pcmu AMR,AMR-WB g722\n"
		"amr_wb_mode_set 0,1,2,8\n";
	struct imsedge_conf *conf = NULL;
	char text[1024], errbuf[256] = "";
	int err;

	(void)re_snprintf(text, sizeof(text), "%s%s", base, extra);
	TEST_ERR(conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_EQ(conf->core_codecc, 4);
	TEST_EQ(conf->core_codecv[0], CONF_PCMU);
	TEST_EQ(conf->core_codecv[1], CONF_AMR);
	TEST_EQ(conf->core_codecv[2], CONF_AMRWB);
	TEST_EQ(conf->core_codecv[3], CONF_G722);
	TEST_EQ(conf->amr_wb_mode_set, 0x107);

 out:
	mem_deref(conf);
	return err;
}


int test_conf_errors(void)
{
	static const struct {
		const char *extra;
		const char *want;
	} v[] = {
		{"foo bar\n", "t.conf:7: unknown key 'foo'"},
		{"w2_listen 1.2.3.4:5\n", "t.conf:7: key 'w2_listen' given twice"},
		{"max_connections\n", "t.conf:7: key 'max_connections' needs a value"},
		{"max_connections 0\n", "t.conf:7: '0' is not a number in 1..1000000"},
		{"max_connections 12x\n", "t.conf:7: '12x' is not a number in 1..1000000"},
		{"max_connections 99999999999\n", "t.conf:7: '99999999999' is not a number in 1..1000000"},
		{"w2_max_message 100\n", "t.conf:7: '100' is not a number in 1024..1048576"},
		{"w2_max_pending 0\n", "t.conf:7: '0' is not a number in 1..1000000"},
		{"w2_pending_per_address x\n", "t.conf:7: 'x' is not a number in 1..1000000"},
		{"w2_connections_per_address 0\n", "t.conf:7: '0' is not a number in 1..1000000"},
		{"buffer_budget 1000\n", "t.conf:7: '1000' is not a number in 1048576..1073741824"},
		{"buffer_budget 2000000\nw2_max_message 1048576\n", "t.conf: buffer_budget 2000000 is below twice w2_max_message (1048576)"},
		{"\n# c\nlog_level loud\n", "t.conf:9: 'loud' is not one of debug, info, warn, error"},
		{"log_syslog maybe\n", "t.conf:7: 'maybe' is not yes or no"},
		{"w2_origin ftp:/x\n", "t.conf:7: 'ftp:/x' is not an origin like https://host[:port]"},
		{"w2_origin https://a.example/path\n", "t.conf:7: 'https://a.example/path' is not an origin like https://host[:port]"},
		{"w2_origin https://a.example:\n", "t.conf:7: 'https://a.example:' is not an origin like https://host[:port]"},
		{"media_listen no/where\n", "t.conf:7: 'no/where' is not an IP address, an interface name or any"},
		{"media_listen an-interface-name-too-long\n", "t.conf:7: 'an-interface-name-too-long' is not an IP address, an interface name or any"},
		{"media_public 1.2.3\n", "t.conf:7: '1.2.3' is not an IP address"},
		{"media_core_public x\n", "t.conf:7: 'x' is not an IP address"},
		{"rtp_ports 30000\n", "t.conf:7: '30000' is not a port range MIN-MAX"},
		{"rtp_ports 30000-30002\n", "t.conf:7: '30000-30002' holds fewer than 4 ports"},
		{"rtp_ports 80-1000\n", "t.conf:7: '80' is not a number in 1024..65534"},
		{"media_dscp 64\n", "t.conf:7: '64' is not a number in 0..63"},
		{"media_port_shared on\n", "t.conf:7: 'on' is not yes or no"},
		{"media_core_port_shared maybe\n", "t.conf:7: 'maybe' is not yes or no"},
		{"datachannel maybe\n", "t.conf:7: 'maybe' is not yes or no"},
		{"max_datachannels 0\n", "t.conf:7: '0' is not a number in 1..1024"},
		{"max_datachannels 1025\n", "t.conf:7: '1025' is not a number in 1..1024"},
		{"dc_max_message 100\n", "t.conf:7: '100' is not a number in 1024..1048576"},
		{"core_datachannel yes\n", "t.conf:7: 'yes' is not relay or terminate"},
		{"emergency_number 11a\n", "t.conf:7: '11a' is not a dialled number"},
		{"mw_emergency_next_hop tel:112\n", "t.conf:7: 'tel:112' is not a SIP URI"},
		{"opus_complexity 11\n", "t.conf:7: '11' is not a number in 0..10"},
		{"max_transcoded_calls x\n", "t.conf:7: 'x' is not a number in 0..100000"},
		{"transcoding maybe\n", "t.conf:7: 'maybe' is not yes or no"},
		{"core_codecs AMR-WB EVS\n", "t.conf:7: 'EVS' is not one of AMR-WB, AMR, PCMA, PCMU, G722"},
		{"core_codecs AMR amr\n", "t.conf:7: codec 'amr' given twice"},
		{"core_codecs ,\n", "t.conf:7: ',' names no codec"},
		{"amr_wb_mode_set 0,9\n", "t.conf:7: '0,9' is not a list of AMR-WB modes 0..8 (e.g. 0,1,2)"},
		{"amr_wb_mode_set 0,,1\n", "t.conf:7: '0,,1' is not a list of AMR-WB modes 0..8 (e.g. 0,1,2)"},
		{"amr_wb_mode_set 10\n", "t.conf:7: '10' is not a list of AMR-WB modes 0..8 (e.g. 0,1,2)"},
		{"amr_wb_mode_set 1,\n", "t.conf:7: '1,' is not a list of AMR-WB modes 0..8 (e.g. 0,1,2)"},
#ifndef IMSEDGE_TRANSCODE
		{"transcoding yes\n", "t.conf:7: transcoding is not built in (TRANSCODE=0)"},
#endif
	};
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		err = expect_error(v[i].extra, v[i].want);
		if (err)
			return err;
	}

	return 0;
}


static int expect_raw(const char *text, const char *want)
{
	struct imsedge_conf *conf = NULL;
	char errbuf[256] = "";
	int err = 0;

	TEST_ASSERT(0 != conf_parse(&conf, "t.conf", text, strlen(text),
				    errbuf, sizeof(errbuf)));
	TEST_STREQ(errbuf, want);

 out:
	mem_deref(conf);
	return err;
}


int test_conf_origin(void)
{
	struct imsedge_conf *conf = NULL;
	char errbuf[256];
	struct pl o;
	int err;

	TEST_ERR(expect_raw("w2_listen nowhere\n",
			    "t.conf:1: 'nowhere' is not an ADDR:PORT"));
	TEST_ERR(expect_raw("w2_listen 127.0.0.1:7443\n",
			    "t.conf: missing required key 'tls_cert'"));
	TEST_ERR(expect_raw("mw_next_hop http://x\n",
			    "t.conf:1: 'http://x' is not a SIP URI"));
	TEST_ERR(expect_raw("", "t.conf: missing required key 'w2_listen'"));

	TEST_ERR(conf_parse(&conf, "t.conf", base, strlen(base), errbuf,
			    sizeof(errbuf)));

	pl_set_str(&o, "https://a.example");
	TEST_ASSERT(conf_origin_allowed(conf, &o));
	pl_set_str(&o, "HTTPS://A.EXAMPLE");
	TEST_ASSERT(conf_origin_allowed(conf, &o));

	/* W2 keeps a reference to the configured string, not a copy of
	   the browser's (issue 13: memory per connection); it outlives
	   the configuration */
	{
		char *v = mem_ref((char *)conf_origin_find(conf, &o));

		TEST_ASSERT(v);
		TEST_STREQ(v, "https://a.example");
		conf = mem_deref(conf);
		TEST_STREQ(v, "https://a.example");
		mem_deref(v);
		TEST_ERR(conf_parse(&conf, "t.conf", base, strlen(base),
				    errbuf, sizeof(errbuf)));
	}
	pl_set_str(&o, "https://b.example");
	TEST_ASSERT(!conf_origin_find(conf, &o));
	pl_set_str(&o, "https://a.example.evil");
	TEST_ASSERT(!conf_origin_allowed(conf, &o));
	pl_set_str(&o, "https://a.example:443");
	TEST_ASSERT(!conf_origin_allowed(conf, &o));
	pl_set_str(&o, "null");
	TEST_ASSERT(!conf_origin_allowed(conf, &o));
	TEST_ASSERT(!conf_origin_allowed(conf, &pl_null));

 out:
	mem_deref(conf);
	return err;
}


/* The WWSF/WAF keys: values, defaults and the checks across keys */
int test_conf_web(void)
{
	static const struct {
		const char *extra;
		const char *want;
	} v[] = {
		{"token_key k\n", "t.conf: wwsf_users, token_key, identity_pool, wwsf_origin and metrics_token need wwsf_listen"},
		{"metrics_token 0123456789abcdef0123456789abcdef\n", "t.conf: wwsf_users, token_key, identity_pool, wwsf_origin and metrics_token need wwsf_listen"},
		{"metrics_token 0123456789abcdef0123456789abcde\n", "t.conf:7: metrics_token must be 32 to 256 characters (it has 31); e.g. the output of: head -c 32 /dev/urandom | base64"},
		{"metrics_token 0123456789abcdef0123456789abcdef\"\n", "t.conf:7: metrics_token: character '\"' is not allowed (letters, digits and -._~+/= only)"},
		{"waf_pubkey https://w.example k.pem\n", "t.conf: missing key 'w2_public_url' (the wss:// URL browsers reach W2 at)"},
		{"wwsf_listen 0.0.0.0:8443\nw2_public_url wss://e.example:7443\n", "t.conf: missing key 'token_key' (the WAF's signing key; imsedge -k FILE makes one)"},
		{"w2_public_url https://e.example\n", "t.conf:7: 'https://e.example' is not a wss:// URL"},
		{"w2_public_url wss://\n", "t.conf:7: 'wss://' is not a wss:// URL"},
		{"token_lifetime 5\n", "t.conf:7: '5' is not a number in 10..86400"},
		{"wwsf_origin http://w.example\n", "t.conf:7: 'http://w.example' is not an origin like https://host[:port]"},
		{"waf_pubkey https://w.example\n", "t.conf:7: 'https://w.example' is not ISSUER FILE (ISSUER: the WWSF's origin, https://host[:port])"},
		{"identity_pool g sip:guest@x\n", "t.conf:7: 'sip:guest@x' is not a sip:, sips: or tel: URI with one {FIRST-LAST} range of at most 100000 numbers"},
		{"identity_pool g sip:g{5-1}@x\n", "t.conf:7: 'sip:g{5-1}@x' is not a sip:, sips: or tel: URI with one {FIRST-LAST} range of at most 100000 numbers"},
		{"identity_pool g sip:g{0-100000}@x\n", "t.conf:7: 'sip:g{0-100000}@x' is not a sip:, sips: or tel: URI with one {FIRST-LAST} range of at most 100000 numbers"},
		{"identity_pool g http:g{1-2}@x\n", "t.conf:7: 'http:g{1-2}@x' is not a sip:, sips: or tel: URI with one {FIRST-LAST} range of at most 100000 numbers"},
		{"identity_pool g sip:g{1-2}{3-4}@x\n", "t.conf:7: 'sip:g{1-2}{3-4}@x' is not a sip:, sips: or tel: URI with one {FIRST-LAST} range of at most 100000 numbers"},
		{"identity_pool g sip:g{01-50}@x\n", "t.conf:7: 'sip:g{01-50}@x' is not a sip:, sips: or tel: URI with one {FIRST-LAST} range of at most 100000 numbers"},
		{"identity_pool g/x sip:g{1-2}@x\n", "t.conf:7: 'g/x sip:g{1-2}@x' is not NAME TEMPLATE (NAME: letters, digits, - and _)"},
		{"identity_pool g sip:a{1-2}@x\nidentity_pool g sip:b{1-2}@x\n", "t.conf:8: identity pool 'g' given twice"},
	};
	static const char web[] =
		"wwsf_listen 0.0.0.0:8443\n"
		"w2_public_url wss://edge.example:7443/sip\n"
		"token_key /etc/imsedge/token.pem\n"
		"identity_pool guests sip:guest{1-50}@ims.test\n"
		"identity_pool lobby tel:+1555000{100-199}\n"
		"waf_pubkey https://other.example /etc/imsedge/other.pem\n";
	struct imsedge_conf *conf = NULL;
	const struct conf_pool *pool;
	struct conf_pool_tmpl t;
	char text[1024], errbuf[256] = "";
	struct pl o;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		err = expect_error(v[i].extra, v[i].want);
		if (err)
			return err;
	}

	(void)re_snprintf(text, sizeof(text), "%s%s", base, web);
	TEST_ERR(conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_EQ(sa_port(&conf->wwsf_listen), 8443);
	TEST_STREQ(conf->wwsf_root, "/usr/share/imsedge/www");
	TEST_STREQ(conf->wwsf_origin, "https://edge.example:8443");
	TEST_EQ(conf->token_lifetime, 3600);
	TEST_EQ(list_count(&conf->pools), 2);
	TEST_EQ(list_count(&conf->waf_keys), 1);
	TEST_ASSERT(conf->wwsf_users == NULL);

	/* the page we serve may open W2 without a w2_origin line */
	pl_set_str(&o, "https://edge.example:8443");
	TEST_ASSERT(conf_origin_allowed(conf, &o));

	pool = list_ledata(list_tail(&conf->pools));
	TEST_STREQ(pool->name, "lobby");
	pl_set_str(&o, pool->tmpl);
	TEST_ERR(conf_pool_parse(&t, &o));
	TEST_ASSERT(!pl_strcmp(&t.pre, "tel:+1555000"));
	TEST_EQ(t.lo, 100);
	TEST_EQ(t.hi, 199);
	TEST_ASSERT(!pl_strcmp(&t.suf, ""));

 out:
	mem_deref(conf);
	return err;
}


/* Identity pool templates, as the config, the WAF's pools and the
   eP-CSCF's D-18 check read them: which parse, which URIs are in one,
   the URI of an index */
int test_conf_pool(void)
{
	static const char *valid[] = {
		"sip:guest{1-50}@ims.test",
		"sips:g{0-0}@x",
		"tel:+1555{100-199}",
		"sip:{0-99999}@ims.test",
		"SIP:g{7-9}",
		"tel:+4930{1234000-1234099}",   /* 7 digits: a DID block */
	};
	static const char *invalid[] = {
		"sip:guest@ims.test",           /* no range */
		"sip:g{1-2}{3-4}@x",            /* two */
		"sip:g{2-1}@x",                 /* A > B */
		"sip:g{0-100000}@x",            /* 100001 identities */
		"sip:g{1000000000-1000000001}@x", /* 10 digits */
		"sip:g{01-5}@x",                /* leading zero */
		"sip:g{-5}@x",
		"sip:g{1-}@x",
		"sip:g{a-b}@x",
		"sip:g{1-5@x",
		"sip:g}1-5{@x",
		"http://g{1-5}",
		"sip:g {1-5}@x",
		"sip:g{1-5}@x\"",
		"sip:g{1-5}@x,y",
		"sip:g{1-5}@\xc3\xa9",
		"",
	};
	/* in sip:guest{1-50}@ims.test: the index, or -1 */
	static const struct {
		const char *uri;
		int idx;
	} in[] = {
		{"sip:guest1@ims.test", 1},
		{"sip:guest50@ims.test", 50},
		{"SIP:Guest7@ims.test", 7},     /* before the range: no case */
		{"sip:guest7@IMS.TEST", -1},    /* after it: exact */
		{"sip:guest0@ims.test", -1},
		{"sip:guest51@ims.test", -1},
		{"sip:guest07@ims.test", -1},
		{"sip:guest1@ims.test.evil", -1},
		{"sip:guest@ims.test", -1},
		{"sip:guest-1@ims.test", -1},
		{"sip:guest1000000@ims.test", -1},
		{"sip:alice@ims.test", -1},
		{"", -1},
	};
	struct conf_pool_tmpl t;
	char buf[32];
	struct pl pl;
	uint32_t idx;
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(valid); i++) {
		pl_set_str(&pl, valid[i]);
		TEST_ERR(conf_pool_parse(&t, &pl));
	}

	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		pl_set_str(&pl, invalid[i]);
		if (conf_pool_parse(&t, &pl) != EINVAL) {
			(void)re_fprintf(stderr, "  accepted \"%s\"\n",
					 invalid[i]);
			err = EINVAL;
			goto out;
		}
	}
	TEST_EQ(conf_pool_parse(&t, NULL), EINVAL);

	pl_set_str(&pl, "sip:guest{1-50}@ims.test");
	TEST_ERR(conf_pool_parse(&t, &pl));
	TEST_ASSERT(!pl_strcmp(&t.pre, "sip:guest"));
	TEST_ASSERT(!pl_strcmp(&t.suf, "@ims.test"));
	TEST_EQ(t.lo, 1);
	TEST_EQ(t.hi, 50);

	for (i = 0; i < ARRAY_SIZE(in); i++) {
		bool held;

		pl_set_str(&pl, in[i].uri);
		idx = 0;
		held = conf_pool_index(&t, &pl, &idx);
		if (held != (in[i].idx >= 0) ||
		    (held && idx != (uint32_t)in[i].idx)) {
			(void)re_fprintf(stderr, "  \"%s\": %d, index %u\n",
					 in[i].uri, held, idx);
			err = EINVAL;
			goto out;
		}
	}
	TEST_ASSERT(!conf_pool_index(&t, NULL, &idx));

	TEST_ERR(conf_pool_uri(buf, sizeof(buf), &t, 7));
	TEST_STREQ(buf, "sip:guest7@ims.test");
	TEST_EQ(conf_pool_uri(buf, 12, &t, 50), EOVERFLOW);

 out:
	return err;
}


/* The advertised media addresses: unset by default, parsed when given */
int test_conf_media_public(void)
{
	static const char extra[] =
		"media_listen 10.0.2.15\n"
		"media_public 192.0.2.1\n"
		"media_core_public 198.51.100.7\n";
	struct imsedge_conf *conf = NULL;
	char text[512], errbuf[256] = "";
	struct sa a;
	int err;

	TEST_ERR(conf_parse(&conf, "t.conf", base, strlen(base), errbuf,
			    sizeof(errbuf)));
	TEST_ASSERT(!sa_isset(&conf->media_public, SA_ADDR));
	TEST_ASSERT(!sa_isset(&conf->media_core_public, SA_ADDR));
	conf = mem_deref(conf);

	(void)re_snprintf(text, sizeof(text), "%s%s", base, extra);
	TEST_ERR(conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_ERR(sa_set_str(&a, "192.0.2.1", 0));
	TEST_ASSERT(sa_cmp(&conf->media_public, &a, SA_ADDR));
	TEST_ERR(sa_set_str(&a, "198.51.100.7", 0));
	TEST_ASSERT(sa_cmp(&conf->media_core_public, &a, SA_ADDR));
	TEST_ERR(sa_set_str(&a, "10.0.2.15", 0));
	TEST_ASSERT(sa_cmp(&conf->media_core_addr, &a, SA_ADDR));

 out:
	mem_deref(conf);
	return err;
}


/* Per-connection hash tables (the flows that D-22 routes by, W2
   connections, SIP transactions) grow with max_connections: one or two
   entries a bucket at the cap, 256..32768, powers of two (libre's
   hash_alloc() refuses others). A scaling property, no checklist item. */
int test_conf_conn_buckets(void)
{
	static const struct { uint32_t max_conn, want; } v[] = {
		{1, 256}, {200, 256}, {512, 256}, {514, 512}, {1024, 512},
		{3064, 2048}, {4096, 2048}, {4098, 4096}, {1000000, 32768},
	};
	struct imsedge_conf *conf = NULL;
	char errbuf[256] = "";
	size_t i;
	int err = 0;

	TEST_ASSERT(conf_conn_buckets(NULL) == 256);
	TEST_ERR(conf_parse(&conf, "t.conf", base, strlen(base), errbuf,
			    sizeof(errbuf)));
	TEST_ASSERT(conf->max_connections == 1024);
	TEST_ASSERT(conf_conn_buckets(conf) == 512);

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		uint32_t n;

		conf->max_connections = v[i].max_conn;
		n = conf_conn_buckets(conf);
		if (n != v[i].want || (n & (n - 1))) {
			(void)re_fprintf(stderr, "max_connections %u: %u "
					 "buckets, want %u\n", v[i].max_conn,
					 n, v[i].want);
			err = EINVAL;
			goto out;
		}
	}

 out:
	mem_deref(conf);
	return err;
}


/* imsedge -t: every problem is reported, each with its line */
static void collect(const char *problem, void *arg)
{
	(void)mbuf_printf(arg, "%s\n", problem);
}


int test_conf_all_errors(void)
{
	static const char text[] =
		"w2_listen nowhere\n"
		"tls_cert c.pem\n"
		"bogus 1\n"
		"w2_origin https://a.example\n"
		"max_connections 0\n"
		"mw_next_hop sip:127.0.0.1\n";
	struct imsedge_conf *conf = NULL;
	struct mbuf *mb = mbuf_alloc(512);
	char errbuf[256] = "";
	int err = 0;

	TEST_ASSERT(mb != NULL);
	TEST_EQ(conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			   sizeof(errbuf)), EINVAL);
	TEST_STREQ(errbuf, "t.conf:1: 'nowhere' is not an ADDR:PORT");
	TEST_ASSERT(conf == NULL);

	/* conf_check reads a file; the parser behind it is the same, so
	   feed it through a temporary file */
	{
		char path[] = "/tmp/imsedge-conf-XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

		TEST_ASSERT(f != NULL);
		(void)fputs(text, f);
		(void)fclose(f);
		err = conf_check(&conf, path, collect, mb);
		(void)unlink(path);
		TEST_EQ(err, EINVAL);
		err = 0;
		mbuf_write_u8(mb, 0);
		(void)re_snprintf(errbuf, sizeof(errbuf),
				  "%s:1: 'nowhere' is not an ADDR:PORT\n", path);
		TEST_ASSERT(!strncmp((char *)mb->buf, errbuf, strlen(errbuf)));
		TEST_ASSERT(strstr((char *)mb->buf, ":3: unknown key 'bogus'\n"));
		TEST_ASSERT(strstr((char *)mb->buf,
				   ":5: '0' is not a number in 1..1000000\n"));
		TEST_ASSERT(strstr((char *)mb->buf,
				   ": missing required key 'tls_key'\n"));
		TEST_ASSERT(strstr((char *)mb->buf,
				   ": missing required key 'mw_listen'\n"));
		TEST_ASSERT(conf == NULL);
	}

 out:
	mem_deref(conf);
	mem_deref(mb);
	return err;
}


/* SIGHUP: which changed keys need a restart; conf_line */
int test_conf_reload(void)
{
	struct imsedge_conf *a = NULL, *b = NULL;
	char text[1024], errbuf[256] = "", keys[256];
	int err = 0;

	TEST_ERR(conf_parse(&a, "a.conf", base, strlen(base), errbuf,
			    sizeof(errbuf)));
	TEST_EQ(conf_line(a, "mw_listen"), 5);
	TEST_EQ(conf_line(a, "log_level"), 0);
	TEST_EQ(conf_line(a, "no_such_key"), 0);

	/* only keys a reload applies: nothing to restart for */
	(void)re_snprintf(text, sizeof(text), "%s%s", base,
			  "log_level debug\nw2_origin https://b.example\n"
			  "max_connections 10\n");
	TEST_ERR(conf_parse(&b, "b.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_ASSERT(!conf_restart_needed(a, b, keys, sizeof(keys)));
	TEST_STREQ(keys, "");
	b = mem_deref(b);

	/* the listeners and the media need one */
	(void)re_snprintf(text, sizeof(text), "%s%s",
			  "w2_listen 127.0.0.1:7444\n"
			  "tls_cert c.pem\ntls_key k.pem\n"
			  "w2_origin https://a.example\n"
			  "mw_listen 127.0.0.1:5070\n"
			  "mw_next_hop sip:127.0.0.1\n",
			  "media_listen 127.0.0.1\n");
	TEST_ERR(conf_parse(&b, "b.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_ASSERT(conf_restart_needed(a, b, keys, sizeof(keys)));
	TEST_STREQ(keys, "w2_listen, media_listen");

 out:
	mem_deref(a);
	mem_deref(b);
	return err;
}


/* Log lines carry ISO 8601 UTC times with milliseconds */
int test_log_timestamp(void)
{
	struct pl y, mo, d, h, mi, s, ms;
	char ts[32];
	int err = 0;

	log_timestamp(ts, sizeof(ts));
	TEST_EQ(strlen(ts), 24);
	TEST_ERR(re_regex(ts, strlen(ts),
			  "[0-9]+-[0-9]+-[0-9]+T[0-9]+:[0-9]+:[0-9]+.[0-9]+Z",
			  &y, &mo, &d, &h, &mi, &s, &ms));
	TEST_ASSERT(pl_u32(&y) >= 2024);
	TEST_ASSERT(pl_u32(&mo) >= 1 && pl_u32(&mo) <= 12);
	TEST_ASSERT(pl_u32(&h) <= 23);
	TEST_EQ(y.l, 4);
	TEST_EQ(ms.l, 3);

 out:
	return err;
}


/* media_listen: an address, any (also 0.0.0.0 and ::) or an interface */
int test_conf_media_listen(void)
{
	static const struct {
		const char *val;
		const char *ifname;    /* NULL: an address */
	} v[] = {
		{"192.0.2.1", NULL},
		{"::1", NULL},
		{"any", "any"},
		{"0.0.0.0", "any"},
		{"::", "any"},
		{"eth0", "eth0"},
		{"br-lan", "br-lan"},
		{"eth0.2", "eth0.2"},
	};
	struct imsedge_conf *conf = NULL;
	char text[512], errbuf[256] = "";
	size_t i;
	int err = 0;

	for (i = 0; i < ARRAY_SIZE(v); i++) {
		(void)re_snprintf(text, sizeof(text), "%smedia_listen %s\n",
				  base, v[i].val);
		TEST_ERR(conf_parse(&conf, "t.conf", text, strlen(text),
				    errbuf, sizeof(errbuf)));
		if (v[i].ifname) {
			TEST_STREQ(conf->media_if, v[i].ifname);
			TEST_ASSERT(!sa_isset(&conf->media_listen, SA_ADDR));
			TEST_ASSERT(!sa_isset(&conf->media_core_addr, SA_ADDR));
		}
		else {
			TEST_ASSERT(conf->media_if == NULL);
			TEST_ASSERT(sa_isset(&conf->media_listen, SA_ADDR));
			TEST_ASSERT(sa_cmp(&conf->media_core_addr,
					   &conf->media_listen, SA_ADDR));
		}
		conf = mem_deref(conf);
	}

 out:
	mem_deref(conf);
	return err;
}


/* metrics_listen: loopback only (plain HTTP); a PORT means 127.0.0.1 */
int test_conf_metrics(void)
{
	struct imsedge_conf *conf = NULL;
	char text[512], errbuf[256] = "";
	int err = 0;

	(void)re_snprintf(text, sizeof(text), "%smetrics_listen 9100\n",
			  base);
	TEST_ERR(conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_EQ(sa_port(&conf->metrics_listen), 9100);
	TEST_ASSERT(sa_is_loopback(&conf->metrics_listen));
	conf = mem_deref(conf);

	(void)re_snprintf(text, sizeof(text), "%smetrics_listen [::1]:9100\n",
			  base);
	TEST_ERR(conf_parse(&conf, "t.conf", text, strlen(text), errbuf,
			    sizeof(errbuf)));
	TEST_EQ(sa_af(&conf->metrics_listen), AF_INET6);
	conf = mem_deref(conf);

	err = expect_error("metrics_listen 192.0.2.1:9100\n",
			   "t.conf:7: '192.0.2.1:9100' is not a loopback "
			   "address (this listener is plain HTTP, for local "
			   "scrapers; for scrapers elsewhere set "
			   "metrics_token and scrape https://WWSF/metrics)");
	if (!err)
		err = expect_error("metrics_listen 0\n",
				   "t.conf:7: '0' is not an ADDR:PORT or a "
				   "PORT");

 out:
	mem_deref(conf);
	return err;
}


/* The metrics' counters: methods and token reasons land in their
   labels, anything else in "other" */
int test_stats(void)
{
	struct pl met;
	uint64_t inv, other, exp, oth;
	int err = 0;

	inv = stats_get(STAT_REQ_B + 1);
	other = stats_get(STAT_REQ_C + 13);
	pl_set_str(&met, "INVITE");
	stats_sip_request(true, &met);
	pl_set_str(&met, "FOO");
	stats_sip_request(false, &met);
	TEST_EQ(stats_get(STAT_REQ_B + 1), inv + 1);
	TEST_EQ(stats_get(STAT_REQ_C + 13), other + 1);
	TEST_STREQ(stats_methods[1], "INVITE");
	TEST_STREQ(stats_methods[13], "other");

	exp = stats_get(STAT_TOKEN_REFUSED + 5);
	oth = stats_get(STAT_TOKEN_REFUSED + 13);
	stats_token_refused("Token expired");
	stats_token_refused("Something new");
	stats_token_refused(NULL);
	TEST_EQ(stats_get(STAT_TOKEN_REFUSED + 5), exp + 1);
	TEST_EQ(stats_get(STAT_TOKEN_REFUSED + 13), oth + 2);
	TEST_STREQ(stats_token_labels[5], "expired");

	/* responses by class; out of range ignored */
	exp = stats_get(STAT_RSP_B + 3);
	stats_sip_response(true, 487);
	stats_sip_response(true, 99);
	stats_sip_response(true, 700);
	TEST_EQ(stats_get(STAT_RSP_B + 3), exp + 1);
	TEST_EQ(stats_get(STAT_COUNT), 0);

 out:
	return err;
}

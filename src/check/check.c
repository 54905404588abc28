/**
 * @file check.c  imsedge -t: everything start-up would need, checked
 *                without starting
 *
 * The configuration parsed; now the files it names must load (the
 * certificate and key as a pair, the token keys, the users file), the
 * web root must be a directory with the page, every address must be one
 * of this host's, the listening ports must be free (or held by the
 * running imsedge: -t before a reload), and no token key
 * may be trusted twice for one issuer. Each problem is reported as
 * "FILE:LINE: key: reason" and all are reported, not just the first.
 */
#include <string.h>
#include <sys/stat.h>
#include <re.h>
#include "../core/conf.h"
#include "../core/file.h"
#include "../net/net.h"
#include "../tls/tlsx.h"
#include "../jwt/jwt.h"
#include "../waf/waf.h"
#include "check.h"
#include "check_int.h"

struct chk {
	const struct imsedge_conf *conf;
	conf_report_h *reph;
	void *arg;
	unsigned n;
};


static void problem(struct chk *c, unsigned line, const char *key,
		    const char *fmt, ...)
{
	char text[256], out[400];
	va_list ap;

	va_start(ap, fmt);
	(void)re_vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);

	if (!line)
		line = conf_line(c->conf, key);

	if (line)
		(void)re_snprintf(out, sizeof(out), "%s:%u: %s: %s",
				  c->conf->path, line, key, text);
	else
		(void)re_snprintf(out, sizeof(out), "%s: %s: %s",
				  c->conf->path, key, text);

	++c->n;
	c->reph(out, c->arg);
}


/* A file must be readable (and not huge): true if so */
static bool readable(struct chk *c, unsigned line, const char *key,
		     const char *path)
{
	struct mbuf *mb = mbuf_alloc(4096);
	int err;

	if (!mb)
		return false;

	err = file_read(mb, path, 1 << 20);
	mem_deref(mb);
	if (err)
		problem(c, line, key, "%s: cannot read: %m", path, err);

	return err == 0;
}


static void tls_files(struct chk *c)
{
	const struct imsedge_conf *conf = c->conf;
	struct tls *tls = NULL;
	bool ok;

	ok  = readable(c, 0, "tls_cert", conf->tls_cert);
	ok &= readable(c, 0, "tls_key", conf->tls_key);
	if (!ok)
		return;

	if (tls_alloc_files(&tls, conf->tls_cert, conf->tls_key))
		problem(c, 0, "tls_cert", "%s and tls_key %s do not load as "
			"a certificate and its private key (PEM)",
			conf->tls_cert, conf->tls_key);

	mem_deref(tls);
}


/* Our WAF's key first, then every waf_pubkey: each must load, and no
   issuer may get the same key twice */
static void token_keys(struct chk *c)
{
	const struct imsedge_conf *conf = c->conf;
	struct jwt_keyring *ring = NULL;
	struct jwt_key *key = NULL;
	struct le *le;

	if (jwt_keyring_alloc(&ring))
		return;

	if (conf->token_key && readable(c, 0, "token_key", conf->token_key)) {
		if (jwt_key_load(&key, conf->token_key) ||
		    !jwt_key_can_sign(key))
			problem(c, 0, "token_key", "%s: not an EC P-256 "
				"private key", conf->token_key);
		else if (conf->wwsf_origin)
			(void)jwt_keyring_add(ring, conf->wwsf_origin, key);
		key = mem_deref(key);
	}

	for (le = conf->waf_keys.head; le; le = le->next) {
		const struct conf_waf_key *k = le->data;
		int err;

		if (!readable(c, k->line, "waf_pubkey", k->file))
			continue;

		if (jwt_key_load(&key, k->file)) {
			problem(c, k->line, "waf_pubkey", "%s: not an EC "
				"P-256 key", k->file);
			continue;
		}

		err = jwt_keyring_add(ring, k->issuer, key);
		key = mem_deref(key);
		if (err == EALREADY)
			problem(c, k->line, "waf_pubkey", "%s %s: this key is "
				"already trusted for this issuer (listed twice, "
				"or our own WWSF's token_key)", k->issuer,
				k->file);
	}

	mem_deref(ring);
}


static void web_files(struct chk *c)
{
	const struct imsedge_conf *conf = c->conf;
	char errbuf[320], index[512];
	struct stat st;

	if (conf->wwsf_users &&
	    waf_users_check(conf->wwsf_users, errbuf, sizeof(errbuf)))
		problem(c, 0, "wwsf_users", "%s", errbuf);

	if (!sa_isset(&conf->wwsf_listen, SA_PORT) || !conf->wwsf_root)
		return;

	if (stat(conf->wwsf_root, &st) || !S_ISDIR(st.st_mode)) {
		problem(c, 0, "wwsf_root", "%s is not a directory (make www "
			"builds the page)", conf->wwsf_root);
		return;
	}

	(void)re_snprintf(index, sizeof(index), "%s/index.html",
			  conf->wwsf_root);
	if (stat(index, &st) || !S_ISREG(st.st_mode))
		problem(c, 0, "wwsf_root", "%s has no index.html (make www "
			"builds the page)", conf->wwsf_root);
}


/* An address to bind must be one of this host's; the any address needs
   a default source address (put in Via, Record-Route, Path) */
static void local_addr(struct chk *c, const char *key, const struct sa *sa,
		       bool need_source)
{
	struct sa a = *sa, src;
	int err;

	if (sa_af(sa) != AF_INET && sa_af(sa) != AF_INET6)
		return;

	if (sa_is_any(sa)) {
		if (need_source && net_default_source_addr_get(sa_af(sa),
							       &src))
			problem(c, 0, key, "%j: this host has no address to "
				"advertise for the any address (only "
				"loopback?); name an address", sa);
		return;
	}

	sa_set_port(&a, 0);
	err = net_bind_probe(&a, false);
	if (err == EADDRNOTAVAIL)
		problem(c, 0, key, "%j is not an address of this host", sa);
	else if (err)
		problem(c, 0, key, "%j: cannot bind: %m", sa, err);
}


/* media_listen any or an interface: it must have an address now (an
   interface that comes up later is the init system's business) */
static void media_if(struct chk *c)
{
	const char *ifname = c->conf->media_if;
	struct sa v[8];
	unsigned n = ARRAY_SIZE(v);
	int err;

	if (!ifname)
		return;

	err = net_if_addrs(strcmp(ifname, "any") ? ifname : NULL, v, &n);
	if (err == ENODEV)
		problem(c, 0, "media_listen", "%s: no such interface", ifname);
	else if (err)
		problem(c, 0, "media_listen", "%s has no IPv4 or IPv6 address",
			ifname);
}


static void port_free(struct chk *c, const char *key, const struct sa *sa,
		      bool tcp)
{
	int err = net_bind_probe(sa, tcp);

	/* the running imsedge's own ports (-t before a reload) are fine */
	if (err == EADDRINUSE && check_held_by_imsedge(sa_port(sa), tcp))
		return;

	if (err == EADDRINUSE)
		problem(c, 0, key, "%J (%s) is in use by another program",
			sa, tcp ? "tcp" : "udp");
	else if (err && err != EADDRNOTAVAIL)
		problem(c, 0, key, "%J (%s): cannot bind: %m", sa,
			tcp ? "tcp" : "udp", err);
}


static void addresses(struct chk *c, unsigned flags)
{
	const struct imsedge_conf *conf = c->conf;
	bool wwsf = sa_isset(&conf->wwsf_listen, SA_PORT);

	local_addr(c, "w2_listen", &conf->w2_listen, true);
	local_addr(c, "mw_listen", &conf->mw_listen, true);
	local_addr(c, "media_listen", &conf->media_listen, false);
	media_if(c);
	if (!sa_cmp(&conf->media_core_addr, &conf->media_listen, SA_ADDR))
		local_addr(c, "media_core_addr", &conf->media_core_addr,
			   false);
	if (wwsf)
		local_addr(c, "wwsf_listen", &conf->wwsf_listen, false);

	if (wwsf && sa_port(&conf->wwsf_listen) == sa_port(&conf->w2_listen))
		problem(c, 0, "wwsf_listen", "port %u is also w2_listen's",
			sa_port(&conf->wwsf_listen));

	if (flags & CHECK_NO_PORTS)
		return;

	port_free(c, "w2_listen", &conf->w2_listen, true);
	if (sa_isset(&conf->metrics_listen, SA_PORT))
		port_free(c, "metrics_listen", &conf->metrics_listen, true);
	port_free(c, "mw_listen", &conf->mw_listen, false);
	port_free(c, "mw_listen", &conf->mw_listen, true);
	if (wwsf)
		port_free(c, "wwsf_listen", &conf->wwsf_listen, true);
}


/**
 * Check what start-up would need beyond a configuration that parsed
 *
 * @param conf  Configuration
 * @param flags enum check_flags
 * @param reph  Called with each problem, "FILE:LINE: key: reason"
 * @param arg   Its argument
 *
 * @return Number of problems
 */
unsigned check_conf(const struct imsedge_conf *conf, unsigned flags,
		    conf_report_h *reph, void *arg)
{
	struct chk c = {conf, reph, arg, 0};

	if (!conf || !reph)
		return 1;

	tls_files(&c);
	token_keys(&c);
	web_files(&c);
	addresses(&c, flags);

	return c.n;
}

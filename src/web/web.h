/**
 * @file web.h  Web access: the WWSF (page over HTTPS), its WAF (logins,
 *              guest pools, tokens) and the keys the eP-CSCF trusts
 */

struct web;
struct imsedge_conf;
struct pcscf;

int  web_alloc(struct web **webp, struct imsedge_conf *conf,
	       struct pcscf *pcscf);
struct web_reload;   /* a reload read and checked, not yet applied */
int  web_reload_prepare(struct web_reload **rp, struct web *web,
			const struct imsedge_conf *conf);
void web_reload_apply(struct web_reload *r);

/* Writes the Prometheus metrics into mb */
typedef int (web_metrics_h)(struct mbuf *mb, void *arg);
void web_set_metrics(struct web *web, web_metrics_h *h, void *arg);
const struct sa *web_laddr(const struct web *web);

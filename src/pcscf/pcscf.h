/**
 * @file pcscf.h  eP-CSCF: a 24.229 P-CSCF whose UE side is SIP over WSS
 */

struct pcscf;
struct imsedge_conf;
struct w2;
struct agw;
struct jwt_keyring;

/**
 * A pool identity's lease at the WAF that issued it: asked whether the
 * token still holds it (release false), or told it is free (true)
 */
typedef bool (pcscf_lease_h)(const char *iss, const char *impu,
			     const char *jti, bool release, void *arg);

int  pcscf_alloc(struct pcscf **pp, struct imsedge_conf *conf,
		 struct w2 *w2, struct agw *agw);
void pcscf_shutdown(struct pcscf *p);
uint32_t pcscf_registrations(const struct pcscf *p);
void pcscf_set_web_auth(struct pcscf *p, struct jwt_keyring *ring,
			pcscf_lease_h *leaseh, void *arg);

/**
 * @file pcscf.h  eP-CSCF: a 24.229 P-CSCF whose UE side is SIP over WSS
 */

struct pcscf;
struct imsedge_conf;
struct w2;
struct agw;
struct jwt_keyring;
struct jwt_claims;

/**
 * A pool identity's lease at the WAF that issued it: asked whether the
 * token still holds it (release false), or told it is free (true)
 */
typedef bool (pcscf_lease_h)(const char *iss, const char *impu,
			     const char *jti, bool release, void *arg);

/**
 * Whether a token of our own WAF has been revoked (logout, user removed;
 * D-60)
 */
typedef bool (pcscf_revoked_h)(const struct jwt_claims *c, void *arg);

int  pcscf_alloc(struct pcscf **pp, struct imsedge_conf *conf,
		 struct w2 *w2, struct agw *agw);
void pcscf_shutdown(struct pcscf *p);
uint32_t pcscf_registrations(const struct pcscf *p);
int  pcscf_status(struct pcscf *p, struct mbuf *mb, bool json,
		  uint32_t w2n);
int  pcscf_drop(struct pcscf *p, const struct pl *aor);
int  pcscf_end_call(struct pcscf *p, const struct pl *callid);
void pcscf_set_web_auth(struct pcscf *p, struct jwt_keyring *ring,
			pcscf_lease_h *leaseh, void *arg);
void pcscf_set_revocation(struct pcscf *p, pcscf_revoked_h *revh,
			  void *arg);
void pcscf_revoke_check(struct pcscf *p);

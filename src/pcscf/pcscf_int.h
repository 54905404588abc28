/**
 * @file pcscf_int.h  eP-CSCF internals
 *
 * Browser side (W2): requests arrive through the W2 handler and leave
 * toward the core with libre's client transactions (sip_request);
 * responses come back with our Via on top, which is stripped.
 * Core side (Mw): requests arrive on libre's SIP stack, get a libre
 * server transaction and go to the browser named by the flow token in
 * the top Route (our Path or Record-Route); the browser's responses are
 * matched by the branch of the Via we added.
 */

enum {
	PC_TOKEN_LEN = 26,       /* "fl" + 16 hex id + 8 hex MAC          */
	PC_TIMER_C   = 180000,   /* INVITE after a provisional (RFC 3261) */
};

#define PC_FLOW_STALE UINT64_MAX  /* a token of ours that does not verify */

struct pcscf {
	struct imsedge_conf *conf;
	struct w2 *w2;
	struct agw *agw;         /**< NULL: no media gateway, no calls    */
	struct list calls;       /**< struct call                         */
	struct list endedl;      /**< struct ended: calls we ended (BYE)  */
	char *emergency_hop;     /**< mw_emergency_next_hop, or NULL      */
	struct dnsc *dnsc;
	struct sip *sip;
	struct sip_lsnr *lsnr_req;
	struct sip_lsnr *lsnr_rsp;
	char *next_hop_str;
	struct uri next_hop;
	struct sa mw_addr;       /**< Our address as the core sees it     */
	struct sa w2_addr;       /**< sent-by of our Via toward browsers  */
	struct hash *flows;      /**< struct flow by W2 connection id     */
	struct hash *ttx;        /**< struct ttx by our WS-side branch    */
	struct list otxl;        /**< struct otx                          */
	uint8_t key[32];         /**< flow token MAC key                  */
	uint32_t nreg;
	struct jwt_keyring *ring;  /**< Trusted WAF keys; NULL: no tokens */
	pcscf_lease_h *leaseh;   /**< Pool leases of our own WAF          */
	void *lease_arg;
	pcscf_revoked_h *revh;   /**< Revocations of our own WAF          */
	void *rev_arg;
	struct list dregl;       /**< struct dreg: our own deregistrations */
	struct sipevent_sock *evsock; /**< Our reg event subscriptions     */
};

/* Our view of one W2 connection */
struct flow {
	struct le he;
	struct pcscf *p;
	uint64_t id;
	struct w2_conn *conn;    /**< NULL once the WebSocket has gone    */
	struct list regl;        /**< struct binding                      */
	char *impi_bound;        /**< Digest IMPI this TLS session proved */
	char token[PC_TOKEN_LEN + 1];
	uint64_t rate_t0;        /**< Rate limit window start (ms)        */
	uint32_t rate_n;
	bool web;                /**< Registered with a token (D-20)      */
	bool regev;              /**< The browser subscribed to reg event */
	char *tok;               /**< Last token that verified, and its   */
	struct jwt_claims *claims; /**< claims                            */
};

/* A registered public identity on a flow */
struct binding {
	struct le le;
	struct flow *flow;
	char *aor;
	char *impi;
	char *service_route;     /**< Service-Route values, comma-joined  */
	struct list assoc;       /**< struct pc_str: P-Associated-URI     */
	struct tmr tmr;
	bool web;                /**< Registered with a token             */
	const char *mech;        /**< digest, aka, token (imsedge -s)     */
	struct jwt_claims *claims; /**< The token it was made with (D-56) */
	char *ruri;              /**< R-URI and Contact of the REGISTER,  */
	char *contact;           /**< for our own deregistration (D-21)   */
	struct regsub *rsub;     /**< Our reg event subscription (D-58)   */
};

struct pc_str {
	struct le le;
	char *s;
};

/* flow.c */
struct flow *flow_get(struct pcscf *p, struct w2_conn *conn);
struct flow *flow_lookup(struct pcscf *p, uint64_t id);
void flow_gone(struct pcscf *p, struct w2_conn *conn);
int  flow_token_decode(const struct pcscf *p, const struct pl *user,
		       uint64_t *idp);
void flow_token_print(const struct pcscf *p, uint64_t id, char *buf,
		      size_t sz);
bool flow_rate_ok(struct flow *fl);
const struct binding *flow_identity(const struct flow *fl,
				    const struct pl *uri);

/* msg.c */
typedef bool (pc_hdr_skip_h)(const struct sip_hdr *hdr, void *arg);
int  pc_print_hdrs(struct mbuf *mb, const struct sip_msg *msg,
		   pc_hdr_skip_h *skiph, void *arg);
int  pc_print_body(struct mbuf *mb, const struct sip_msg *msg);
int  pc_print_unfolded(struct mbuf *mb, const struct pl *val);
int  pc_print_param(struct mbuf *mb, bool first, const struct pl *name,
		    const struct pl *val);
int  pc_response_relay(struct mbuf *mb, const struct sip_msg *msg,
		       pc_hdr_skip_h *skiph, void *arg);
bool pc_route_is_ours(const struct pcscf *p, const struct pl *val,
		      uint64_t *idp);
bool pc_uri_eq(const struct pl *a, const struct pl *b);
bool pc_dialog_forming(const struct pl *met);
int  pc_hdr_value_uri(struct pl *uri, const struct pl *val);
bool pc_auth_is_aka(const struct pl *val);
int  pc_strip_params(struct mbuf *mb, const struct pl *val,
		     const char * const *names, size_t n);
void pc_trim(struct pl *pl);
bool pc_prefix(const struct pl *pl, const char *prefix);
int  pc_next_hop(struct pcscf *p, struct uri *uri, struct pl *str,
		 const struct mbuf *mb);
int  pc_send_core(struct pcscf *p, const struct pl *met,
		  const struct pl *ruri, struct mbuf *mb, const struct pl *hop,
		  struct sip_request **reqp, sip_resp_h *resph, void *arg);

/* orig.c: browser -> core */
bool orig_request(struct pcscf *p, struct flow *fl,
		  const struct sip_msg *msg);
void orig_flow_gone(struct pcscf *p, struct flow *fl);
bool orig_cancel_invite(struct pcscf *p, const struct pl *callid);

/* reg.c */
struct jwt_claims;
int  reg_print_request(struct mbuf *mb, struct pcscf *p, struct flow *fl,
		       const struct sip_msg *msg, const struct jwt_claims *c);
bool reg_over_limit(struct pcscf *p, struct flow *fl,
		    const struct sip_msg *req);
void reg_response(struct pcscf *p, struct flow *fl,
		  const struct sip_msg *req, const struct sip_msg *rsp,
		  const struct jwt_claims *c);
bool reg_skip_rsp(const struct sip_hdr *hdr, void *arg);
int  reg_print_challenge(struct mbuf *mb, const struct sip_msg *rsp);
void binding_flush(struct pcscf *p, struct flow *fl);
uint64_t reg_binding_ms(const struct binding *b, uint32_t expires);

/* reginfo.c: application/reginfo+xml (RFC 3680 5.4), read in place */
struct reginfo_contact {
	struct pl doc_state;     /**< full, partial                      */
	struct pl aor;           /**< <registration aor=...>             */
	struct pl reg_state;     /**< init, active, terminated           */
	struct pl state;         /**< <contact state=...>: active, ...   */
	struct pl event;         /**< registered, deactivated, ...       */
	struct pl uri;           /**< <uri>; unset: none listed          */
};
typedef bool (reginfo_contact_h)(const struct reginfo_contact *c,
				 void *arg);
int reginfo_decode(const struct pl *body, reginfo_contact_h *h, void *arg);

/* regevent.c: the reg event subscription per binding (D-58, D-59) */
struct regsub;
int  regevent_subscribe(struct pcscf *p, struct binding *b);
bool regevent_notify(const struct sip_msg *msg);

/* life.c: how bindings end (D-21, D-56, D-57, D-60) */
enum life_end {
	LIFE_DEREG   = 1 << 0,   /**< Deregister toward the core (TNA)  */
	LIFE_RELEASE = 1 << 1,   /**< Release its pool lease            */
	LIFE_CALLS   = 1 << 2,   /**< End the identity's calls (D-59)   */
};
void life_binding_end(struct binding *b, unsigned how, const char *why);
void life_lease_moved(struct pcscf *p, const struct flow *fl,
		      const struct binding *b);
bool life_stale_target(struct pcscf *p, const struct flow *fl,
		       const struct sip_msg *msg);
bool life_revoked(const struct pcscf *p, const struct jwt_claims *c);

/* webauth.c: Bearer tokens and TNA (D-11..D-20) */
int  webauth_bearer(const struct sip_msg *msg, struct pl *tok);
bool webauth_pool_holds(const struct imsedge_conf *conf, const char *pool,
			const struct pl *uri);
int  webauth_register(struct pcscf *p, struct flow *fl,
		      const struct sip_msg *msg, const struct pl *tok,
		      struct jwt_claims **cp, const char **why);
int  webauth_request(struct pcscf *p, struct flow *fl,
		     const struct sip_msg *msg, const char **why);
int  webauth_print_register(struct mbuf *mb, const struct sip_msg *msg,
			    const struct jwt_claims *c);

/* call.c: calls (IMS-ALG) */
struct call;
struct call *call_find(struct pcscf *p, const struct flow *fl,
		       const struct sip_msg *msg, bool from_browser);
void call_release(struct call *c, const char *why);
int  call_status(const struct pcscf *p, struct mbuf *mb, bool json);
int  call_end_by_callid(struct pcscf *p, const struct pl *callid);
void call_flow_gone(struct pcscf *p, struct flow *fl);
void call_identity_gone(struct pcscf *p, const struct flow *fl,
			const char *aor, const char *why);
bool call_is_emergency(const struct pcscf *p, const struct sip_msg *msg);
uint16_t call_browser_request(struct pcscf *p, struct flow *fl,
			      const struct sip_msg *msg, bool emergency,
			      struct mbuf **bodyp);
void call_core_response(struct pcscf *p, const struct flow *fl,
			const struct sip_msg *req, const struct sip_msg *rsp,
			struct mbuf **bodyp);
uint16_t call_core_request(struct pcscf *p, struct flow *fl,
			   const struct sip_msg *msg, struct mbuf **bodyp);
void call_browser_response(struct pcscf *p, const struct flow *fl,
			   const struct sip_msg *req,
			   const struct sip_msg *rsp, struct mbuf **bodyp);
int  call_print_body(struct mbuf *mb, const struct mbuf *body);

/* call_ended.c: the browser's BYE for a call we ended already */
void call_ended_add(struct pcscf *p, const struct flow *fl,
		    const char *callid, const char *btag);
bool call_ended_bye(struct pcscf *p, struct flow *fl,
		    const struct sip_msg *msg);

/* trust.c: what of a browser's request crosses to the core (D-52..55) */
enum trust_act {
	TR_KEEP = 0,  /**< Crosses as it is                               */
	TR_DROP,      /**< Never crosses                                  */
	TR_OWN,       /**< Removed; the eP-CSCF writes its own            */
	TR_AUTH,      /**< Bearer dropped, integrity-protected removed    */
};
typedef const char *(trust_ip_h)(const struct pl *scheme,
				 const struct pl *params, void *arg);
enum trust_act trust_hdr(const struct pl *name);
bool trust_skip(const struct sip_hdr *hdr, void *arg);
int  trust_check(const struct sip_msg *msg, const char **why);
int  trust_proxy_require(const struct sip_msg *msg, char *hdr, size_t sz);
int  trust_maxfwd(const struct sip_msg *msg, uint32_t *fwd);
int  trust_print_auth(struct mbuf *mb, const struct sip_msg *msg,
		      trust_ip_h *iph, void *arg);

/* term.c: core -> browser */
bool term_request(const struct sip_msg *msg, void *arg);
void term_response(struct pcscf *p, struct flow *fl,
		   const struct sip_msg *msg);
void term_flow_gone(struct pcscf *p, struct flow *fl);
bool term_cancel_invite(struct pcscf *p, const struct pl *callid);

/**
 * @file conf_int.h  Configuration parser internals shared by its files
 */

struct ctx {
	struct imsedge_conf *conf;
	char *err;
	size_t errsz;
	unsigned line;      /**< line being parsed                      */
};

int  conf_fail(struct ctx *ctx, const char *fmt, ...);
int  conf_parse_addr(struct ctx *ctx, struct sa *sa, const struct pl *val);
int  conf_parse_bool(struct ctx *ctx, bool *v, const struct pl *val);
int  conf_parse_u32(struct ctx *ctx, uint32_t *v, const struct pl *val,
		    uint32_t min, uint32_t max);
bool conf_origin_valid(const struct pl *val);
int  conf_str_append(struct list *l, const struct pl *val);

/* conf_media.c: the eIMS-AGW's media keys */
int  k_media_listen(struct ctx *ctx, const struct pl *val);
int  k_media_core_addr(struct ctx *ctx, const struct pl *val);
int  k_media_public(struct ctx *ctx, const struct pl *val);
int  k_media_core_public(struct ctx *ctx, const struct pl *val);
int  k_rtp_ports(struct ctx *ctx, const struct pl *val);
int  k_max_calls(struct ctx *ctx, const struct pl *val);
int  k_media_core_port_shared(struct ctx *ctx, const struct pl *val);
int  k_media_port_shared(struct ctx *ctx, const struct pl *val);
int  k_media_dscp(struct ctx *ctx, const struct pl *val);
int  k_consent_timeout(struct ctx *ctx, const struct pl *val);
void conf_media_defaults(struct imsedge_conf *conf);

/* conf_web.c: the WWSF/WAF keys */
int  k_wwsf_listen(struct ctx *ctx, const struct pl *val);
int  k_wwsf_root(struct ctx *ctx, const struct pl *val);
int  k_wwsf_users(struct ctx *ctx, const struct pl *val);
int  k_wwsf_connections_per_address(struct ctx *ctx,
				    const struct pl *val);
int  k_wwsf_origin(struct ctx *ctx, const struct pl *val);
int  k_token_key(struct ctx *ctx, const struct pl *val);
int  k_token_lifetime(struct ctx *ctx, const struct pl *val);
int  k_identity_pool(struct ctx *ctx, const struct pl *val);
int  k_waf_pubkey(struct ctx *ctx, const struct pl *val);
int  k_w2_public_url(struct ctx *ctx, const struct pl *val);
int  k_metrics_token(struct ctx *ctx, const struct pl *val);
void conf_web_defaults(struct imsedge_conf *conf);
int  conf_web_finish(struct ctx *ctx);
void conf_web_free(struct imsedge_conf *conf);

/* conf_xcode.c: transcoding keys that take lists */
int  k_core_codecs(struct ctx *ctx, const struct pl *val);
int  k_amr_wb_mode_set(struct ctx *ctx, const struct pl *val);
void conf_xcode_defaults(struct imsedge_conf *conf);

/* conf_dc.c: data channels at the eIMS-AGW */
int  k_datachannel(struct ctx *ctx, const struct pl *val);
int  k_max_datachannels(struct ctx *ctx, const struct pl *val);
int  k_dc_max_message(struct ctx *ctx, const struct pl *val);
int  k_core_datachannel(struct ctx *ctx, const struct pl *val);
void conf_dc_defaults(struct imsedge_conf *conf);

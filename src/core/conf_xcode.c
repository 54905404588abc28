/**
 * @file conf_xcode.c  Configuration keys of audio transcoding that take
 *                     lists: core_codecs, amr_wb_mode_set
 */
#include <re.h>
#include "conf.h"
#include "conf_int.h"


static const char *const codec_names[CONF_CODECS] = {
	"AMR-WB", "AMR", "PCMA", "PCMU", "G722"
};


static int codec_of(const struct pl *name)
{
	int i;

	for (i = 0; i < CONF_CODECS; i++) {
		if (!pl_strcasecmp(name, codec_names[i]))
			return i;
	}

	return -1;
}


/** core_codecs NAME...: codecs added toward the core, in this order */
int k_core_codecs(struct ctx *ctx, const struct pl *val)
{
	struct imsedge_conf *conf = ctx->conf;
	struct pl rest = *val, tok;

	conf->core_codecc = 0;
	while (!re_regex(rest.p, rest.l, "[^ \t,]+", &tok)) {
		int c = codec_of(&tok);
		size_t i;

		if (c < 0)
			return conf_fail(ctx, "'%r' is not one of AMR-WB, "
					 "AMR, PCMA, PCMU, G722", &tok);

		for (i = 0; i < conf->core_codecc; i++) {
			if (conf->core_codecv[i] == c)
				return conf_fail(ctx, "codec '%r' given "
						 "twice", &tok);
		}

		conf->core_codecv[conf->core_codecc++] = (uint8_t)c;
		rest.l -= (size_t)(tok.p + tok.l - rest.p);
		rest.p  = tok.p + tok.l;
	}

	if (!conf->core_codecc)
		return conf_fail(ctx, "'%r' names no codec", val);

	return 0;
}


/** amr_wb_mode_set 0,1,2: AMR-WB modes offered and sent (RFC 4867 8.1) */
int k_amr_wb_mode_set(struct ctx *ctx, const struct pl *val)
{
	uint16_t set = 0;
	uint32_t mode = 0;
	bool have = false;
	size_t i;

	for (i = 0; i <= val->l; i++) {
		const char ch = i < val->l ? val->p[i] : ',';

		if (ch >= '0' && ch <= '9' && !have && ch <= '8') {
			mode = (uint32_t)(ch - '0');
			have = true;
		}
		else if (ch == ',' && have) {
			set |= (uint16_t)(1u << mode);
			have = false;
		}
		else {
			return conf_fail(ctx, "'%r' is not a list of AMR-WB "
					 "modes 0..8 (e.g. 0,1,2)", val);
		}
	}

	ctx->conf->amr_wb_mode_set = set;

	return 0;
}


void conf_xcode_defaults(struct imsedge_conf *conf)
{
	conf->core_codecv[0]  = CONF_AMRWB;
	conf->core_codecv[1]  = CONF_AMR;
	conf->core_codecv[2]  = CONF_G722;  /* added only for a browser
					       that did not offer G.722 */
	conf->core_codecc     = 3;
	conf->amr_wb_mode_set = 0;
}

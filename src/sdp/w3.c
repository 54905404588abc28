/**
 * @file w3.c  A browser's W3 transport parameters from its SDP: ICE
 *             credentials (RFC 8839), certificate fingerprint (RFC 8122)
 *             and the DTLS role (RFC 4145/5763/8842)
 */
#include <ctype.h>
#include <string.h>
#include <re.h>
#include "../agw/agw.h"
#include "sdpx_int.h"


/* ice-char = ALPHA / DIGIT / "+" / "/" */
static bool ice_chars(const struct pl *pl, size_t min, size_t max)
{
	size_t i;

	if (pl->l < min || pl->l > max)
		return false;

	for (i = 0; i < pl->l; i++) {
		const char c = pl->p[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    !(c >= '0' && c <= '9') && c != '+' && c != '/')
			return false;
	}

	return true;
}


static int hex_bytes(uint8_t *b, size_t n, const struct pl *hex)
{
	size_t i;

	if (hex->l != n * 3 - 1)
		return EPROTO;

	for (i = 0; i < hex->l; i++) {
		const char c = hex->p[i];

		if (i % 3 == 2) {
			if (c != ':')
				return EPROTO;
		}
		else if (!isxdigit((unsigned char)c)) {
			return EPROTO;
		}
	}

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(ch_hex(hex->p[i*3]) << 4 |
				 ch_hex(hex->p[i*3 + 1]));

	return 0;
}


/* the best a=fingerprint of one section: sha-256, else sha-1 */
static int fp_find(struct agw_w3_prm *prm, const struct sdpx_line *linev,
		   size_t linec)
{
	struct pl name, arg, rest, hash, hex, extra;
	bool sha1 = false;
	size_t i;
	int err;

	for (i = 0; i < linec; i++) {

		if (linev[i].type != 'a')
			continue;

		sdpx_attr_split(&linev[i].val, &name, &arg);
		if (pl_strcasecmp(&name, "fingerprint"))
			continue;

		rest = arg;
		if (!sdpx_token(&rest, &hash) || !sdpx_token(&rest, &hex) ||
		    sdpx_token(&rest, &extra))
			return EPROTO;

		if (!pl_strcasecmp(&hash, "sha-256")) {
			prm->fp_type = TLS_FINGERPRINT_SHA256;
			prm->fp_len = 32;
			return hex_bytes(prm->fp, 32, &hex);
		}

		if (!sha1 && !pl_strcasecmp(&hash, "sha-1")) {
			prm->fp_type = TLS_FINGERPRINT_SHA1;
			prm->fp_len = 20;
			err = hex_bytes(prm->fp, 20, &hex);
			if (err)
				return err;
			sha1 = true;
		}
	}

	return sha1 ? 0 : ENOENT;
}


/**
 * ICE credentials and fingerprint of a transport, from its (tagged)
 * m-line or else from the session level. prm->setup is left at 0.
 *
 * @param prm Returned parameters
 * @param sdp The browser's SDP
 * @param m   m-line that carries the transport
 *
 * @return 0 if success, EPROTO if missing or malformed
 */
int sdpx_w3_prm(struct agw_w3_prm *prm, const struct sdpx_sdp *sdp,
		const struct sdpx_media *m)
{
	struct pl ufrag, pwd;
	int err;

	memset(prm, 0, sizeof(*prm));

	if (!sdpx_attr(sdp, m, "ice-ufrag", &ufrag) ||
	    !sdpx_attr(sdp, m, "ice-pwd", &pwd))
		return EPROTO;

	if (!ice_chars(&ufrag, 4, sizeof(prm->ufrag) - 1) ||
	    !ice_chars(&pwd, 22, sizeof(prm->pwd) - 1))
		return EPROTO;

	(void)pl_strcpy(&ufrag, prm->ufrag, sizeof(prm->ufrag));
	(void)pl_strcpy(&pwd, prm->pwd, sizeof(prm->pwd));

	err = fp_find(prm, m->linev, m->linec);
	if (err == ENOENT)
		err = fp_find(prm, sdp->linev, sdp->sessc);

	return err == ENOENT ? EPROTO : err;
}


/**
 * The AGW's DTLS role from the browser's a=setup. Absent means active
 * (RFC 4145). In an offer actpass and passive make the AGW active
 * (RFC 5763: the answerer should be active); in an answer only active
 * or passive are valid.
 *
 * @param sdp     The browser's SDP
 * @param m       m-line that carries the transport
 * @param offer   The SDP is an offer
 * @param actpass Returned: the browser offered actpass (may be NULL)
 * @param setup   Returned role of the AGW
 *
 * @return 0 if success, EPROTO if not valid here
 */
int sdpx_w3_setup(const struct sdpx_sdp *sdp, const struct sdpx_media *m,
		  bool offer, bool *actpass, enum agw_setup *setup)
{
	struct pl val = PL("active");

	(void)sdpx_attr(sdp, m, "setup", &val);

	if (actpass)
		*actpass = false;

	if (!pl_strcasecmp(&val, "active")) {
		*setup = AGW_SETUP_PASSIVE;
	}
	else if (!pl_strcasecmp(&val, "passive")) {
		*setup = AGW_SETUP_ACTIVE;
	}
	else if (offer && !pl_strcasecmp(&val, "actpass")) {
		*setup = AGW_SETUP_ACTIVE;
		if (actpass)
			*actpass = true;
	}
	else {
		return EPROTO;
	}

	return 0;
}

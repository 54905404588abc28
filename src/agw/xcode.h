/**
 * @file xcode.h  eIMS-AGW transcoding path of one stream (private to
 *                src/agw; only with the board option TRANSCODE=1)
 *
 * Include re.h, agw.h and agw_int.h first.
 */

struct agw_xcode;

int  agw_xcode_alloc(struct agw_xcode **xp, struct agw_stream *st,
		     const struct agw_xcode_prm *prm);
void agw_xcode_from_w3(struct agw_xcode *x, const uint8_t *p, size_t n,
		       bool rtcp);
void agw_xcode_from_core(struct agw_xcode *x, const uint8_t *p, size_t n,
			 bool rtcp);

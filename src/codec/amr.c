/**
 * @file amr.c  AMR (opencore-amr) and AMR-WB (opencore-amr decoder,
 *              vo-amrwbenc encoder)
 *
 * Frames in and out are in the storage format of RFC 4867 section 5
 * (header byte FT<<3|Q<<2, speech bits octet-padded), which is what the
 * libraries read and write. With DTX the encoders emit SID frames and
 * NO_DATA (one byte) between them; NO_DATA is not sent (encode gives
 * length 0). A lost or damaged frame is decoded as NO_DATA, which makes
 * the decoders conceal it (or continue comfort noise after a SID).
 */
#include <string.h>
#include <opencore-amrnb/interf_enc.h>
#include <opencore-amrnb/interf_dec.h>
#include <opencore-amrwb/dec_if.h>
#include <vo-amrwbenc/enc_if.h>
#include <re.h>
#include "codec.h"
#include "codec_int.h"


static int frame_out(uint8_t *buf, size_t *lenp, int r, bool wb)
{
	unsigned ft;

	if (r < 1)
		return EPROTO;

	ft = (buf[0] >> 3) & 0x0f;
	if (ft == AMR_FT_NO_DATA) {
		*lenp = 0;
		return 0;
	}

	if (amr_frame_bits(wb, ft) < 0 ||
	    (size_t)r != 1 + ((size_t)amr_frame_bits(wb, ft) + 7) / 8)
		return EPROTO;

	*lenp = (size_t)r;
	return 0;
}


/* a storage-format frame the decoders may read: its length matches
   its FT (they read as many bytes as the FT says) */
static bool frame_ok(bool wb, const uint8_t *buf, size_t len)
{
	int bits;

	if (!buf || !len)
		return false;

	bits = amr_frame_bits(wb, (buf[0] >> 3) & 0x0f);
	if (bits < 0)
		return false;

	return len >= 1 + ((size_t)bits + 7) / 8 && (buf[0] & 0x04);
}


/* --- AMR (narrowband) ---------------------------------------------- */

static int nb_mode_check(int mode)
{
	return mode >= 0 && mode <= 7 ? 0 : EINVAL;
}


static int nb_enc_alloc(void **stp, const struct codec_prm *prm)
{
	*stp = Encoder_Interface_init(prm->dtx ? 1 : 0);
	return *stp ? 0 : ENOMEM;
}


static int nb_encode(void *st, uint8_t *buf, size_t *lenp,
		     const int16_t *pcm, size_t n, int mode, bool dtx)
{
	int r;

	if (n != 160)
		return EINVAL;

	r = Encoder_Interface_Encode(st, (enum Mode)mode, pcm, buf, 0);
	return frame_out(buf, lenp, r, false);
}


static void nb_enc_free(void *st)
{
	Encoder_Interface_exit(st);
}


static int nb_dec_alloc(void **stp, const struct codec_prm *prm)
{
	*stp = Decoder_Interface_init();
	return *stp ? 0 : ENOMEM;
}


static int nb_decode(void *st, int16_t *pcm, size_t *np, size_t max,
		     const uint8_t *buf, size_t len, bool fec)
{
	static const uint8_t no_data = AMR_FT_NO_DATA << 3 | 0x04;
	bool ok = frame_ok(false, buf, len);

	if (max < 160)
		return ENOBUFS;

	Decoder_Interface_Decode(st, ok ? buf : &no_data, pcm, ok ? 0 : 1);
	*np = 160;
	return 0;
}


static void nb_dec_free(void *st)
{
	Decoder_Interface_exit(st);
}


const struct codec_ops codec_amr_ops = {
	nb_enc_alloc, nb_encode, nb_enc_free,
	nb_dec_alloc, nb_decode, nb_dec_free, nb_mode_check
};


/* --- AMR-WB ------------------------------------------------------------ */

static int wb_mode_check(int mode)
{
	return mode >= 0 && mode <= 8 ? 0 : EINVAL;
}


static int wb_enc_alloc(void **stp, const struct codec_prm *prm)
{
	*stp = E_IF_init();
	return *stp ? 0 : ENOMEM;
}


static int wb_encode(void *st, uint8_t *buf, size_t *lenp,
		     const int16_t *pcm, size_t n, int mode, bool dtx)
{
	int r;

	if (n != 320)
		return EINVAL;

	r = E_IF_encode(st, mode, pcm, buf, dtx ? 1 : 0);
	return frame_out(buf, lenp, r, true);
}


static void wb_enc_free(void *st)
{
	E_IF_exit(st);
}


static int wb_dec_alloc(void **stp, const struct codec_prm *prm)
{
	*stp = D_IF_init();
	return *stp ? 0 : ENOMEM;
}


static int wb_decode(void *st, int16_t *pcm, size_t *np, size_t max,
		     const uint8_t *buf, size_t len, bool fec)
{
	static const uint8_t no_data = AMR_FT_NO_DATA << 3 | 0x04;
	bool ok = frame_ok(true, buf, len);

	if (max < 320)
		return ENOBUFS;

	D_IF_decode(st, ok ? buf : &no_data, pcm, ok ? 0 : 1);
	*np = 320;
	return 0;
}


static void wb_dec_free(void *st)
{
	D_IF_exit(st);
}


const struct codec_ops codec_amrwb_ops = {
	wb_enc_alloc, wb_encode, wb_enc_free,
	wb_dec_alloc, wb_decode, wb_dec_free, wb_mode_check
};

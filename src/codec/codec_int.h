/**
 * @file codec_int.h  Codec back-ends (private to src/codec)
 */

/** One back-end: state is the library's, owned by codec.c's object */
struct codec_ops {
	int  (*enc_alloc)(void **stp, const struct codec_prm *prm);
	int  (*encode)(void *st, uint8_t *buf, size_t *lenp,
		       const int16_t *pcm, size_t n, int mode, bool dtx);
	void (*enc_free)(void *st);
	int  (*dec_alloc)(void **stp, const struct codec_prm *prm);
	int  (*decode)(void *st, int16_t *pcm, size_t *np, size_t max,
		       const uint8_t *buf, size_t len, bool fec);
	void (*dec_free)(void *st);
	int  (*mode_check)(int mode);       /**< NULL: no modes           */
};

extern const struct codec_ops codec_opus_ops;
extern const struct codec_ops codec_amrwb_ops;
extern const struct codec_ops codec_amr_ops;
extern const struct codec_ops codec_pcma_ops;
extern const struct codec_ops codec_pcmu_ops;
extern const struct codec_ops codec_g722_ops;

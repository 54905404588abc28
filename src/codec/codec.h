/**
 * @file codec.h  Audio codecs of the AGW's transcoding path (issue 11)
 *
 * One small table of the codecs the eIMS-AGW can transcode between
 * (struct codec), each with encode/decode back-ends chosen once per
 * stream (struct codec_ops, codec_int.h): Opus (libopus), AMR-WB
 * (opencore-amr decoder, vo-amrwbenc encoder), AMR (opencore-amr), PCMA
 * and PCMU (G.711, in the module), G.722 (spandsp's g722.c, 64 kbit/s).
 * Frames are 20 ms of 16-bit mono PCM at the codec's PCM rate; Opus runs
 * at the rate of the codec on the other side (8 or 16 kHz), so no
 * resampler is needed. The RTP clock and the PCM rate are two columns:
 * G.722 samples at 16 kHz on an 8000 RTP clock (RFC 3551 4.5.2), so code
 * that counts timestamps uses clock, code that counts samples srate.
 *
 * AMR and AMR-WB frames cross the encode/decode API in the storage
 * format of RFC 4867 section 5 (one header byte FT<<3|Q<<2, then the
 * speech bits, octet-padded); amr_rtp_decode() and amr_rtp_encode()
 * convert between those and RTP payloads, octet-aligned or
 * bandwidth-efficient (RFC 4867 section 4).
 *
 * Only built with the board option TRANSCODE=1 (IMSEDGE_TRANSCODE).
 * Include re.h first.
 */

/** The codecs */
enum codec_id {
	CODEC_OPUS,
	CODEC_AMRWB,
	CODEC_AMR,
	CODEC_PCMA,
	CODEC_PCMU,
	CODEC_G722,
	CODEC_N
};

struct codec_ops;

/** One row of the codec table */
struct codec {
	enum codec_id id;
	const char *name;          /**< SDP encoding name (rtpmap)        */
	uint32_t clock;            /**< RTP clock rate                    */
	uint8_t channels;          /**< rtpmap channels (Opus: 2), or 0   */
	int pt;                    /**< Static payload type, -1 dynamic   */
	uint32_t srate;            /**< PCM rate, 0: chosen per stream    */
	const struct codec_ops *ops;
};

/** Frame duration (ms) of every encoder */
#define CODEC_PTIME 20
/** Most PCM samples one decode call yields (120 ms at 16 kHz) */
#define CODEC_MAX_SAMPLES 1920
/** Largest encoded frame (Opus, 20 ms at 510 kbit/s: 1275 bytes) */
#define CODEC_MAX_FRAME 1276

/** Parameters of one encoder or decoder */
struct codec_prm {
	uint32_t srate;            /**< PCM rate (Opus: 8000 or 16000)    */
	int complexity;            /**< Opus 0..10                        */
	uint32_t bitrate;          /**< Opus bit/s, 0: library default    */
	bool dtx;                  /**< Send DTX/SID frames               */
	bool fec;                  /**< Opus in-band FEC                  */
	int mode;                  /**< AMR/AMR-WB codec mode (FT)        */
};

struct codec_enc;
struct codec_dec;

const struct codec *codec_get(enum codec_id id);
const struct codec *codec_find(const struct pl *name, uint32_t clock);

int  codec_prm_check(const struct codec *c, const struct codec_prm *prm,
		     uint32_t *srate);
int  codec_enc_alloc(struct codec_enc **ep, const struct codec *c,
		     const struct codec_prm *prm);
int  codec_encode(struct codec_enc *e, uint8_t *buf, size_t *lenp,
		  const int16_t *pcm);
int  codec_enc_mode(struct codec_enc *e, int mode);
int  codec_dec_alloc(struct codec_dec **dp, const struct codec *c,
		     const struct codec_prm *prm);
int  codec_decode(struct codec_dec *d, int16_t *pcm, size_t *np,
		  const uint8_t *buf, size_t len, bool fec);
uint32_t codec_enc_srate(const struct codec_enc *e);
uint32_t codec_dec_srate(const struct codec_dec *d);

/* G.711 (ITU-T G.711, the G.191 reference conversions) */
uint8_t g711_pcm2alaw(int16_t l);
int16_t g711_alaw2pcm(uint8_t a);
uint8_t g711_pcm2ulaw(int16_t l);
int16_t g711_ulaw2pcm(uint8_t u);

/* RFC 4867 payloads */

/** Frame types (FT) with no speech bits */
enum {
	AMR_FT_SID_NB      = 8,    /**< AMR SID (39 bits)                 */
	AMR_FT_SID_WB      = 9,    /**< AMR-WB SID (40 bits)              */
	AMR_FT_SPEECH_LOST = 14,   /**< AMR-WB only                       */
	AMR_FT_NO_DATA     = 15,
	AMR_CMR_NONE       = 15,   /**< CMR: no mode request              */
};

/** Most frames in one payload (RFC 4867 sets none; 12 = 240 ms) */
#define AMR_RTP_MAX_FRAMES 12
/** Storage-format frame: header byte + 477 bits (AMR-WB 23.85) */
#define AMR_FRAME_MAX 61

/** One RTP payload of AMR or AMR-WB frames, in storage format */
struct amr_rtp {
	uint8_t cmr;               /**< Mode request, AMR_CMR_NONE        */
	size_t n;                  /**< Frames                            */
	struct amr_frame {
		uint8_t ft;        /**< Frame type                        */
		bool q;            /**< Quality: false = damaged          */
		uint8_t b[AMR_FRAME_MAX]; /**< Header byte + speech bits  */
	} fv[AMR_RTP_MAX_FRAMES];
};

int amr_frame_bits(bool wb, unsigned ft);
int amr_rtp_decode(struct amr_rtp *p, bool wb, bool oa,
		   const uint8_t *buf, size_t len);
int amr_rtp_encode(uint8_t *buf, size_t size, size_t *lenp,
		   const struct amr_rtp *p, bool wb, bool oa);
int amr_rtp_add(struct amr_rtp *p, bool wb, const uint8_t *sf,
		size_t len);

/* Opus packets (RFC 6716 3.1), checked with libopus */

/** What the TOC and frame structure of an Opus packet say */
struct codec_opus_toc {
	unsigned frames;           /**< Frames in the packet (1..48)      */
	unsigned samples48;        /**< Duration, 48 kHz samples          */
	unsigned bandwidth;        /**< 4, 6, 8, 12 or 20 (kHz, audio)    */
	bool stereo;
	bool dtx;                  /**< No audio data (DTX/empty frames)  */
};

int codec_opus_toc(struct codec_opus_toc *t, const uint8_t *buf,
		   size_t len);

/**
 * @file mb.h  mediabench: media relay load tool (imsedge AGW vs rtpengine)
 *
 * Two processes: the target under test (agwd, a child running the AGW
 * from libimsedge.a, or rtpengine-daemon) and this load generator with N
 * simulated browsers (ICE check, DTLS client, SRTP) and N core endpoints
 * (plain RTP). Include re.h first.
 */

enum {
	MB_PAYLOAD  = 160,           /* bytes of RTP payload (20 ms PCMU) */
	MB_HDR      = 12,
	MB_PKT      = MB_HDR + MB_PAYLOAD,
	MB_PTIME_MS = 20,            /* 50 packets/s per stream */
	MB_FP_LEN   = 32,            /* sha-256 */
	MB_DTLS_INFLIGHT = 16,       /* DTLS handshakes at once (default) */
};

/** Transcoded traffic (--xcode): the browser sends Opus (PT 111), the
    core PCMA (PT 8), AMR-WB (PT 96, bandwidth-efficient) or G.722 (PT 9,
    RTP clock 8000: +160 per 20 ms), one packet a second marked (the start
    of a talkspurt) */
enum mb_xc { MB_XC_NONE, MB_XC_OPUS_PCMA, MB_XC_OPUS_AMRWB,
	     MB_XC_OPUS_G722 };
enum {
	MB_OPUS_PT    = 111,
	MB_AMRWB_PT   = 96,
	MB_MARK_EVERY = 50,
};

/** Loss (% of the packets sent) above which a run fails (--max-loss,
    default 0.1); the figures of a run under it are printed with its loss */
extern double mb_max_loss;

/** DTLS handshakes at once (--inflight, default MB_DTLS_INFLIGHT) */
extern unsigned mb_inflight;

/** Groups the calls are set up in, each while the earlier ones carry
    media (--stagger, 0: all at once) */
extern unsigned mb_stagger;
/** The simulated browsers offer (as DTLS client) or accept (as server)
    the AES-GCM SRTP profiles too (--gcm); else AES-CM only */
extern bool mb_gcm;

/** What the generator needs to know of one call's target side */
struct mb_call_prm {
	struct sa w3;                /* where the browser sends */
	char rufrag[65];             /* the target's ICE credentials */
	char rpwd[129];
	uint8_t rfp[MB_FP_LEN];      /* the target's certificate */
	bool br_server;              /* browser is the DTLS server */
	struct sa core;              /* where the core sends RTP */
};

/** A target: sets up calls for the generator */
struct mb_target {
	const char *name;
	int (*setup)(void *arg, unsigned idx, const struct sa *br,
		     const struct sa *core, const char *lufrag,
		     const char *lpwd, const char *lfp,
		     struct mb_call_prm *prm);
	void *arg;
	int pid;                     /* for CPU time and RSS */
	enum mb_xc xc;
};

/** One line of the result table */
struct mb_result {
	const char *name;
	unsigned calls;
	double secs;
	uint64_t tx, rx;             /* packets in the window, both ways */
	uint64_t rx_dir[2];          /* ... to the core, to the browser   */
	uint64_t tx_all, rx_all;     /* over the whole run (loss)         */
	double cpu_s;                /* target CPU in the window          */
	double gen_cpu_s;            /* generator CPU in the window       */
	double lat_p50, lat_p99, lat_max;   /* µs */
	double rss_call_kib;
	double rss_anon_call_kib;    /* RssAnon only                      */
	uint64_t setup_ms;
	double setup_cpu_s;          /* target CPU for all calls' setup   */
	uint64_t syscalls;           /* in the window (MB_SYSCALLS), or 0 */
	unsigned srtp_suite;
	char note[256];
};

/* util.c */
uint64_t mb_now_ns(void);
int    mb_proc_cpu(int pid, double *secs);
int    mb_sc_start(int pid, char *file, size_t sz);
uint64_t mb_sc_stop(int c, const char *file);
int    mb_proc_rss(int pid, const char *key, long *kib);
double mb_self_cpu(void);
void   mb_hist_reset(void);
void   mb_hist_add(uint64_t ns);
double mb_hist_pct(double pct);
double mb_hist_max(void);
uint64_t mb_hist_count(void);
void   mb_fp_hex(char *buf, size_t sz, const uint8_t *md, size_t len);
int    mb_fp_parse(uint8_t *md, size_t len, const char *s);

/* gen.c */
int  mb_gen_run(struct mb_target *t, unsigned calls, unsigned secs,
		struct tls *tls, struct mb_result *res);

/* agwd.c */
int  mb_agwd_main(int fd, const char *datadir, uint16_t pmin,
		  uint16_t pmax, unsigned calls);
int  mb_agwd_start(int *pidp, struct sa *ctl, const char *self,
		   const char *datadir, unsigned calls);
int  mb_agwd_setup(void *arg, unsigned idx, const struct sa *br,
		   const struct sa *core, const char *lufrag,
		   const char *lpwd, const char *lfp,
		   struct mb_call_prm *prm);
int  mb_agwd_cmd(const struct sa *ctl, const char *req, char *rsp,
		 size_t sz);
void mb_agwd_xc(enum mb_xc xc);

/* ng.c */
int  mb_rtpe_start(int *pidp, struct sa *ng, const char *log);
void mb_rtpe_xc(enum mb_xc xc);
int  mb_rtpe_setup(void *arg, unsigned idx, const struct sa *br,
		   const struct sa *core, const char *lufrag,
		   const char *lpwd, const char *lfp,
		   struct mb_call_prm *prm);

/* floor.c */
int  mb_floor(unsigned suite, struct mb_result *res, double *prot_ns,
	      double *unprot_ns, double *sys_ns);

/* main.c */
void mb_stop_child(int *pidp);

/**
 * @file xcode_jb.h  Adaptive reordering jitter buffer of the transcoding
 *                   path (private to src/agw; only with TRANSCODE=1)
 *
 * Include re.h first.
 */

/** Bounds of the wait for a missing packet (ms) */
enum {
	XJB_MIN_MS  = 20,
	XJB_MAX_MS  = 120,
	XJB_STEP_MS = 20,
	XJB_SLOTS   = 8,             /**< Packets held at most             */
	XJB_PKT_MAX = 640,           /**< Largest packet held              */
	XJB_CALM    = 500,           /**< In-time packets before shrinking */
	XJB_JUMP    = 64,            /**< Further ahead: a new sequence    */
};

/**
 * A packet leaves the buffer, in sequence order
 *
 * @param p    RTP packet
 * @param n    Its length
 * @param arg  Handler argument
 */
typedef void (xjb_h)(const uint8_t *p, size_t n, void *arg);

/** What the buffer did (for tests and logs) */
struct xjb_stats {
	uint32_t reordered;          /**< Held, then put back in order     */
	uint32_t lost;               /**< Given up after the wait          */
	uint32_t late;               /**< Came after being given up        */
	uint32_t dup;                /**< Duplicates dropped               */
	uint32_t big;                /**< Out of order, too big to hold    */
};

struct xjb;

int  xjb_alloc(struct xjb **jbp, xjb_h *h, void *arg);
void xjb_put(struct xjb *jb, const uint8_t *p, size_t n, uint64_t now);
uint64_t xjb_poll(struct xjb *jb, uint64_t now);
void xjb_reset(struct xjb *jb);
uint32_t xjb_depth(const struct xjb *jb);
const struct xjb_stats *xjb_stats(const struct xjb *jb);

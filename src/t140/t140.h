/**
 * @file t140.h  Real-time text: T.140 in RTP (RFC 4103) with RED
 *               redundancy (RFC 2198), the side toward the core of
 *               T.140 over a data channel (RFC 8865)
 *
 * t140_red_*: the RED payload as RFC 4103 uses it (pure codec).
 * t140_tx: text in, RTP packets out: text is gathered for
 * T140_BUFFER_MS and sent with the two generations before it as
 * redundancy; after the last text two more packets carry it as
 * redundancy only; the marker bit starts each burst.
 * t140_rx: RTP packets in, text out, in order and without duplicates;
 * a gap the redundancy fills is filled, otherwise the receiver waits
 * T140_WAIT_MS for the missing packets and then marks the loss with
 * U+FFFD (RFC 4103 5). Text is passed as it is (UTF-8).
 *
 * Used by the AGW's real-time text streams (src/agw/rtt.c).
 *
 * Include re.h first.
 */

enum {
	T140_RATE       = 1000,   /**< RTP clock (RFC 4103)              */
	T140_BUFFER_MS  = 300,    /**< Gathering time (RFC 4103 recomm.) */
	T140_GENS       = 2,      /**< Redundant generations sent        */
	T140_GEN_MAX    = 8,      /**< Redundant blocks accepted         */
	T140_BLOCK_MAX  = 1023,   /**< RED block length field (10 bits)  */
	T140_TX_MAX     = 4096,   /**< Text waiting to be sent, bytes    */
	T140_WAIT_MS    = 1000,   /**< Wait for a missing packet         */
	T140_HOLD_MAX   = 16,     /**< Packets held while waiting        */
};

/** One block of a RED payload; data points into the payload */
struct t140_block {
	uint8_t pt;
	uint16_t ts_off;          /**< 0 for the primary                 */
	const uint8_t *data;
	size_t len;
};

int t140_red_decode(struct t140_block *bv, size_t *bc, const uint8_t *p,
		    size_t n);
int t140_red_encode(struct mbuf *mb, const struct t140_block *bv,
		    size_t bc);

/* sender */
struct t140_tx;

/** Send one RTP packet (complete, with header) */
typedef int (t140_send_h)(const uint8_t *p, size_t n, void *arg);

int t140_tx_alloc(struct t140_tx **txp, uint8_t pt_t140, uint8_t pt_red,
		  t140_send_h *sendh, void *arg);
int t140_tx_text(struct t140_tx *tx, const uint8_t *p, size_t n);

/* receiver */
struct t140_rx;

/** Text received, in order (a loss is U+FFFD) */
typedef void (t140_text_h)(const uint8_t *p, size_t n, void *arg);

int  t140_rx_alloc(struct t140_rx **rxp, uint8_t pt_t140, uint8_t pt_red,
		   t140_text_h *texth, void *arg);
int  t140_rx_packet(struct t140_rx *rx, const uint8_t *p, size_t n);
uint32_t t140_rx_lost(const struct t140_rx *rx);

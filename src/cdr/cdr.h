/**
 * @file cdr.h  Call records: one log line per ended call
 */

#ifndef IMSEDGE_CDR_H
#define IMSEDGE_CDR_H

/** Why a call ended (the "end=" word of its record) */
enum cdr_end {
	CDR_END_OTHER = 0,
	CDR_END_HANGUP_BROWSER,   /**< BYE from the browser               */
	CDR_END_HANGUP_CORE,      /**< BYE from the core                  */
	CDR_END_DTLS_CLOSED,      /**< the browser closed DTLS, no BYE    */
	CDR_END_CANCEL,           /**< the caller cancelled (487)         */
	CDR_END_DECLINED,         /**< 603, 403                           */
	CDR_END_BUSY,             /**< 486, 600                           */
	CDR_END_TIMEOUT,          /**< 408, 480: no answer                */
	CDR_END_FAILED,           /**< any other final error              */
	CDR_END_CONSENT_LOST,     /**< ICE consent expired (RFC 7675)     */
	CDR_END_DTLS_FAILED,      /**< handshake, fingerprint, alert      */
	CDR_END_WS_CLOSED,        /**< the browser's WebSocket closed     */
	CDR_END_MEDIA_ERROR,
	CDR_END_SHUTDOWN,         /**< imsedge stopped                    */
	CDR_END_OPERATOR,         /**< imsedge -s end CALLID              */
	CDR_END_DEREGISTERED,     /**< its identity deregistered by the
				       network, or its token revoked     */
};

struct cdr;
struct agw_stats;

int  cdr_alloc(struct cdr **cp, const struct sip_msg *invite,
	       bool from_browser, bool emergency);
void cdr_status(struct cdr *r, uint16_t scode);
void cdr_answered(struct cdr *r);
void cdr_sdp(struct cdr *r, const struct sip_msg *msg);
enum cdr_end cdr_end_of(uint16_t scode);
const char *cdr_end_name(enum cdr_end end);
void cdr_emit(const struct cdr *r, enum cdr_end end,
	      const struct agw_stats *st);
int  cdr_status_print(struct mbuf *mb, const struct cdr *r,
		      const char *state, const struct agw_stats *st,
		      bool json, bool first);

#endif

/**
 * @file cdr.c  Call records: one log line per ended call
 *
 *   info  cdr: callid=ID dir=in|out from=URI to=URI status=CODE
 *         end=REASON duration=S setup=S codec=NAME/RATE
 *         b2c_pkts=N b2c_dropped=N c2b_pkts=N c2b_dropped=N
 *         srtp_failed=N b2c_lost=N b2c_loss_pct=P b2c_jitter_ms=J
 *         c2b_lost=N c2b_loss_pct=P c2b_jitter_ms=J b2c_far_lost=N|-
 *         b2c_far_jitter_ms=J|- c2b_far_lost=N|- c2b_far_jitter_ms=J|-
 *         [emergency]
 *
 * dir is seen from the browser: out when the browser called. duration
 * counts from the answer (0 for a call never answered), setup from the
 * INVITE to the answer or the end. b2c is browser to core. The URIs
 * are the From and To of the initial INVITE (SIP-escaped, no blanks).
 *
 * Loss and jitter are RFC 3550's (A.3, A.8) on the RTP the AGW
 * received from each side, summed over streams (jitter: the highest);
 * lost is negative when duplicates outnumber losses. The far_ figures
 * are from the last RTCP report block of the receiving side (the core
 * on b2c, the browser on c2b): "-" if it sent none.
 */
#include <string.h>
#include <re.h>
#include "../core/log.h"
#include "../jwt/jwt.h"
#include "../core/stats.h"
#include "../agw/agw.h"
#include "cdr.h"

#define LOG_MODULE "cdr"

struct cdr {
	char *callid;
	char *from;
	char *to;
	char codec[32];
	bool out;                 /**< The browser called                 */
	bool emergency;
	uint16_t scode;           /**< Final status (0: none yet)         */
	uint64_t t_start;         /**< ms, INVITE                         */
	uint64_t t_answer;        /**< ms, 2xx; 0 if not answered         */
};

static const char *end_names[] = {
	"other", "hangup_browser", "hangup_core", "dtls_closed", "cancel",
	"declined", "busy", "timeout", "failed", "consent_lost",
	"dtls_failed", "ws_closed", "media_error", "shutdown", "operator",
	"deregistered",
};


static void destructor(void *arg)
{
	struct cdr *r = arg;

	mem_deref(r->callid);
	mem_deref(r->from);
	mem_deref(r->to);
}


/**
 * Start the record of a call at its initial INVITE
 *
 * @param cp           Returned record
 * @param invite       The INVITE
 * @param from_browser The browser sent it
 * @param emergency    An emergency call
 *
 * @return 0 if success, otherwise errorcode
 */
int cdr_alloc(struct cdr **cp, const struct sip_msg *invite,
	      bool from_browser, bool emergency)
{
	struct cdr *r;
	int err;

	if (!cp || !invite)
		return EINVAL;

	r = mem_zalloc(sizeof(*r), destructor);
	if (!r)
		return ENOMEM;

	r->out = from_browser;
	r->emergency = emergency;
	stats_inc(from_browser ? STAT_CALL_OUT : STAT_CALL_IN);
	r->t_start = tmr_jiffies();
	str_ncpy(r->codec, "-", sizeof(r->codec));

	err  = pl_strdup(&r->callid, &invite->callid);
	err |= pl_strdup(&r->from, &invite->from.auri);
	err |= pl_strdup(&r->to, &invite->to.auri);
	if (err)
		mem_deref(r);
	else
		*cp = r;

	return err;
}


/**
 * Note the final status of the INVITE
 *
 * @param r     Record (may be NULL)
 * @param scode Status code
 */
void cdr_status(struct cdr *r, uint16_t scode)
{
	if (r && scode >= 200 && !r->scode)
		r->scode = scode;
}


/**
 * Note the answer (a 2xx to the initial INVITE)
 *
 * @param r Record (may be NULL)
 */
void cdr_answered(struct cdr *r)
{
	if (!r || r->t_answer)
		return;

	r->t_answer = tmr_jiffies();
	cdr_status(r, 200);
}


/**
 * Note the codec from an SDP body (the first format of the first m=
 * line, by its rtpmap or its static payload type)
 *
 * @param r   Record (may be NULL)
 * @param msg A SIP message with an SDP body
 */
void cdr_sdp(struct cdr *r, const struct sip_msg *msg)
{
	static const char *stat[] = {"PCMU/8000", NULL, NULL, "GSM/8000",
		"G723/8000", NULL, NULL, NULL, "PCMA/8000", "G722/8000"};
	struct pl pt, name = PL_INIT, media;
	char re[48];
	const char *p;
	size_t n;

	if (!r || !msg || !mbuf_get_left(msg->mb))
		return;

	p = (const char *)mbuf_buf(msg->mb);
	n = mbuf_get_left(msg->mb);
	if (re_regex(p, n, "m=[a-z]+ [0-9]+[^ ]* [^ ]+ [0-9]+", &media,
		     NULL, NULL, NULL, &pt))
		return;

	/* a payload type is 0..127: a longer number would cut the pattern
	   below short (fuzz_cdr: a 40-digit one left name unset) */
	if (pt.l > 3 || pl_u32(&pt) > 127)
		return;

	if (re_snprintf(re, sizeof(re), "a=rtpmap:%r [^\r\n]+", &pt) < 0)
		return;

	if (!re_regex(p, n, re, &name) && name.p)
		(void)pl_strcpy(&name, r->codec, sizeof(r->codec));
	else if (pl_u32(&pt) < ARRAY_SIZE(stat) && stat[pl_u32(&pt)])
		str_ncpy(r->codec, stat[pl_u32(&pt)], sizeof(r->codec));
}


/**
 * The end reason a final error status of an INVITE means
 *
 * @param scode Status code (>= 300)
 *
 * @return End reason
 */
enum cdr_end cdr_end_of(uint16_t scode)
{
	switch (scode) {

	case 487:           return CDR_END_CANCEL;
	case 486: case 600: return CDR_END_BUSY;
	case 603: case 403: return CDR_END_DECLINED;
	case 408: case 480: return CDR_END_TIMEOUT;
	default:            return CDR_END_FAILED;
	}
}


/**
 * The word an end reason is logged as
 *
 * @param end End reason
 *
 * @return Name
 */
const char *cdr_end_name(enum cdr_end end)
{
	return (size_t)end < ARRAY_SIZE(end_names) ? end_names[end] :
		"other";
}


/* lost of expected in percent, one decimal; 0 if none expected */
static unsigned permille(int64_t lost, int64_t expected)
{
	if (expected <= 0 || lost <= 0)
		return 0;

	return (unsigned)(lost * 1000 / expected);
}


static int ms_print(struct re_printf *pf, uint32_t us)
{
	return re_hprintf(pf, "%u.%u", us / 1000, us % 1000 / 100);
}


/* One direction: lost, percent, jitter; the far end's view or "-" */
static int dir_print(struct re_printf *pf, const char *d, int64_t lost,
		     int64_t expected, uint32_t jitter_us)
{
	unsigned pm = permille(lost, expected);
	int err;

	err = re_hprintf(pf, " %s_lost=%lld %s_loss_pct=%u.%u %s_jitter_ms=",
			 d, (long long)lost, d, pm / 10, pm % 10, d);

	return err | ms_print(pf, jitter_us);
}


static int far_print(struct re_printf *pf, const char *d, bool have,
		     int64_t lost, uint32_t jitter_us)
{
	int err;

	if (!have)
		return re_hprintf(pf, " %s_far_lost=- %s_far_jitter_ms=-",
				  d, d);

	err = re_hprintf(pf, " %s_far_lost=%lld %s_far_jitter_ms=", d,
			 (long long)lost, d);

	return err | ms_print(pf, jitter_us);
}


/* The key=value quality fields of a record */
static int quality_print(struct re_printf *pf, const struct agw_stats *st)
{
	int err;

	err  = dir_print(pf, "b2c", st->w3_lost, st->w3_expected,
			 st->w3_jitter_us);
	err |= dir_print(pf, "c2b", st->core_lost, st->core_expected,
			 st->core_jitter_us);
	err |= far_print(pf, "b2c", st->w3_far_reports, st->w3_far_lost,
			 st->w3_far_jitter_us);
	err |= far_print(pf, "c2b", st->core_far_reports,
			 st->core_far_lost, st->core_far_jitter_us);

	return err;
}


static int quality_h(struct re_printf *pf, void *arg)
{
	return quality_print(pf, arg);
}


/**
 * Log the record of an ended call
 *
 * @param r   Record (may be NULL)
 * @param end Why it ended
 * @param st  The media's counters, summed over streams (may be NULL)
 */
void cdr_emit(const struct cdr *r, enum cdr_end end,
	      const struct agw_stats *st)
{
	static const struct agw_stats none;
	uint64_t now = tmr_jiffies();
	uint64_t dur, setup;

	if (!r)
		return;

	stats_inc(STAT_CALL_END + (end < 16 ? end : 0));
	st = st ? st : &none;
	dur = r->t_answer ? now - r->t_answer : 0;
	setup = (r->t_answer ? r->t_answer : now) - r->t_start;

	log_info("callid=%s dir=%s from=%s to=%s status=%u end=%s "
		 "duration=%llu.%03llu setup=%llu.%03llu codec=%s srtp=%s "
		 "b2c_pkts=%llu b2c_dropped=%llu c2b_pkts=%llu "
		 "c2b_dropped=%llu srtp_failed=%llu%H%s",
		 r->callid, r->out ? "out" : "in", r->from, r->to, r->scode,
		 cdr_end_name(end), (unsigned long long)(dur / 1000),
		 (unsigned long long)(dur % 1000),
		 (unsigned long long)(setup / 1000),
		 (unsigned long long)(setup % 1000), r->codec,
		 st->srtp ? st->srtp : "none",
		 (unsigned long long)st->w3_pkts,
		 (unsigned long long)st->w3_dropped,
		 (unsigned long long)st->core_pkts,
		 (unsigned long long)st->core_dropped,
		 (unsigned long long)st->w3_srtp_failed,
		 quality_h, st, r->emergency ? " emergency" : "");
}


static int json_str(struct re_printf *pf, void *arg)
{
	return jwt_json_str(pf, arg);
}


/* One direction as JSON members (after a comma) */
static int dir_json(struct re_printf *pf, const char *d, int64_t lost,
		    int64_t expected, uint32_t jitter_us, bool have,
		    int64_t far_lost, uint8_t far_fraction,
		    uint32_t far_jitter_us)
{
	unsigned pm = permille(lost, expected);
	int err;

	err = re_hprintf(pf, ",\"%s_expected\":%lld,\"%s_lost\":%lld,"
			 "\"%s_loss_pct\":%u.%u,\"%s_jitter_ms\":", d,
			 (long long)expected, d, (long long)lost, d, pm / 10,
			 pm % 10, d);
	err |= ms_print(pf, jitter_us);
	if (!have)
		return err | re_hprintf(pf, ",\"%s_far\":null", d);

	pm = far_fraction * 1000u / 256;
	err |= re_hprintf(pf, ",\"%s_far\":{\"lost\":%lld,"
			  "\"fraction_pct\":%u.%u,\"jitter_ms\":", d,
			  (long long)far_lost, pm / 10, pm % 10);
	err |= ms_print(pf, far_jitter_us);

	return err | re_hprintf(pf, "}");
}


static int quality_json(struct re_printf *pf, void *arg)
{
	const struct agw_stats *st = arg;
	int err;

	err  = dir_json(pf, "b2c", st->w3_lost, st->w3_expected,
			st->w3_jitter_us, st->w3_far_reports,
			st->w3_far_lost, st->w3_far_fraction,
			st->w3_far_jitter_us);
	err |= dir_json(pf, "c2b", st->core_lost, st->core_expected,
			st->core_jitter_us, st->core_far_reports,
			st->core_far_lost, st->core_far_fraction,
			st->core_far_jitter_us);

	return err;
}


/**
 * Print a live call for imsedge -s
 *
 * @param mb    Output
 * @param r     Its record
 * @param state "setup" or "connected"
 * @param st    Its media counters
 * @param json  A JSON object (after a comma unless first), else a line
 * @param first The first call printed
 *
 * @return 0 if success, otherwise errorcode
 */
int cdr_status_print(struct mbuf *mb, const struct cdr *r,
		     const char *state, const struct agw_stats *st,
		     bool json, bool first)
{
	uint64_t now = tmr_jiffies();
	uint64_t dur = r && r->t_answer ? now - r->t_answer : 0;

	if (!mb || !r || !st)
		return EINVAL;

	if (!json)
		return mbuf_printf(mb, "  %s %s %s -> %s %s %llu.%03llu s %s "
				   "SRTP %s b2c %llu pkts (%llu dropped) c2b "
				   "%llu pkts (%llu dropped)%H%s\n", r->callid,
				   r->out ? "out" : "in", r->from, r->to,
				   state, (unsigned long long)(dur / 1000),
				   (unsigned long long)(dur % 1000), r->codec,
				   st->srtp ? st->srtp : "none",
				   (unsigned long long)st->w3_pkts,
				   (unsigned long long)st->w3_dropped,
				   (unsigned long long)st->core_pkts,
				   (unsigned long long)st->core_dropped,
				   quality_h, st,
				   r->emergency ? " emergency" : "");

	return mbuf_printf(mb, "%s{\"callid\":%H,\"direction\":\"%s\","
			   "\"from\":%H,\"to\":%H,\"state\":\"%s\","
			   "\"duration\":%llu.%03llu,\"codec\":%H,"
			   "\"srtp\":%s%s%s,"
			   "\"b2c_pkts\":%llu,\"b2c_dropped\":%llu,"
			   "\"c2b_pkts\":%llu,\"c2b_dropped\":%llu,"
			   "\"srtp_failed\":%llu%H,\"emergency\":%s}",
			   first ? "" : ",", json_str, r->callid,
			   r->out ? "out" : "in", json_str, r->from,
			   json_str, r->to, state,
			   (unsigned long long)(dur / 1000),
			   (unsigned long long)(dur % 1000), json_str,
			   r->codec, st->srtp ? "\"" : "",
			   st->srtp ? st->srtp : "null", st->srtp ? "\"" : "",
			   (unsigned long long)st->w3_pkts,
			   (unsigned long long)st->w3_dropped,
			   (unsigned long long)st->core_pkts,
			   (unsigned long long)st->core_dropped,
			   (unsigned long long)st->w3_srtp_failed,
			   quality_json, st, r->emergency ? "true" : "false");
}

/**
 * @file msrp.h  MSRP (RFC 4975) messages: a bounded parser and a framer,
 *               for the eIMS-AGW's relay between MSRP over a data channel
 *               (RFC 8873) and MSRP over TCP (src/agw/msrp.c)
 *
 * libre has no MSRP. msrp_decode() takes one complete message (a
 * request or a response, a chunk of a larger message or all of it) from
 * the front of a buffer: on TCP the buffer may hold less (ENODATA: wait
 * for more) or more (the rest is the next message); a data-channel
 * message is exactly one MSRP message. Everything parsed points into
 * the buffer. Limits: MSRP_MAX_MSG bytes a message, MSRP_MAX_HDRS
 * header lines, transaction ids of 4 to 32 characters (RFC 4975 9).
 *
 * msrp_encode() writes a message from a parsed one with To-Path and
 * From-Path replaced and, for a piece of a chunk's body, its own
 * transaction id, Byte-Range and continuation flag (msrp_split: a chunk
 * too large for the next hop becomes several).
 *
 * Include re.h first.
 */

enum {
	MSRP_MAX_MSG   = 65536 + 4096,  /**< Bytes of one message        */
	MSRP_MAX_HDRS  = 32,            /**< Header lines                */
	MSRP_TID_MIN   = 4,
	MSRP_TID_MAX   = 32,
	MSRP_CHUNK_DEF = 2048,          /**< Body bytes a piece, split   */
};

/** Continuation flag of the end-line (RFC 4975 7.1) */
enum msrp_flag {
	MSRP_END   = '$',               /**< Last (or only) chunk        */
	MSRP_MORE  = '+',               /**< More chunks follow          */
	MSRP_ABORT = '#',               /**< Message aborted             */
};

/** One header line "Name: value" */
struct msrp_hdr {
	struct pl name;
	struct pl val;
};

/** Byte-Range: start-end/total; 0 for "*" in end and total */
struct msrp_range {
	uint64_t start;
	uint64_t end;
	uint64_t total;
};

/** A parsed message; every pl points into the input */
struct msrp_msg {
	bool req;                       /**< Request, else response      */
	struct pl tid;
	struct pl method;               /**< Request: SEND, REPORT, ...  */
	uint16_t scode;                 /**< Response: status code       */
	struct pl reason;               /**< Response: comment, may be ""*/
	struct msrp_hdr hdrv[MSRP_MAX_HDRS];
	size_t hdrc;
	struct pl to_path;
	struct pl from_path;
	struct pl msgid;                /**< Message-ID, "" if none      */
	struct pl ctype;                /**< Content-Type, "" if none    */
	bool has_range;
	struct msrp_range range;        /**< Byte-Range (default 1-* / *)*/
	bool has_body;                  /**< content-stuff present       */
	struct pl body;
	enum msrp_flag flag;
	size_t len;                     /**< Bytes of the whole message  */
};

int  msrp_decode(struct msrp_msg *msg, const uint8_t *p, size_t n);
int  msrp_range_decode(struct msrp_range *r, const struct pl *pl);
bool msrp_path_first(struct pl *uri, const struct pl *path);
bool msrp_uri_session(struct pl *sess, const struct pl *uri);
int  msrp_encode(struct mbuf *mb, const struct msrp_msg *msg,
		 const char *to_path, const char *from_path);
int  msrp_encode_piece(struct mbuf *mb, const struct msrp_msg *msg,
		       const char *to_path, const char *from_path,
		       const char *tid, size_t off, size_t len);
size_t msrp_pieces(const struct msrp_msg *msg, size_t max);

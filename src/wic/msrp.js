// The in-call chat's protocol: MSRP (RFC 4975) over a WebRTC data channel
// (RFC 8873). The channel is agreed in SDP (RFC 8864: a=dcmap with
// subprotocol "MSRP", a=dcsa for MSRP's own attributes), opened without
// DCEP on stream MSRP_SID, and carries one MSRP message per data-channel
// message, as bytes (a chunk may end inside a UTF-8 sequence).
//
// Outgoing text is sent as SEND chunks of at most CHUNK bytes of body
// (Byte-Range, "+" until the last, "$" on it); incoming chunks are put
// together by Message-ID and Byte-Range, each SEND is answered 200, and a
// message is delivered when its last chunk is in. Bounded: a message over
// MAX_MESSAGE bytes or more than MAX_OPEN messages in pieces at once are
// refused (413 / dropped). No DOM here.

export const MSRP_SID = 1;
const CHUNK = 2048;
const MAX_MESSAGE = 1 << 20;
const MAX_OPEN = 8;
const enc = new TextEncoder();
const dec = new TextDecoder();

function rid(n) {
	const a = 'abcdefghijklmnopqrstuvwxyz0123456789';
	let s = '';
	for (const x of crypto.getRandomValues(new Uint8Array(n)))
		s += a[x % a.length];
	return s;
}

function indexOf(bytes, pat, from = 0) {
	outer: for (let i = from; i + pat.length <= bytes.length; i++) {
		for (let j = 0; j < pat.length; j++) {
			if (bytes[i + j] !== pat[j])
				continue outer;
		}
		return i;
	}
	return -1;
}

const CRLF2 = enc.encode('\r\n\r\n');

/** Parse one MSRP message (a Uint8Array); null if malformed */
export function parseMsrp(bytes) {
	const sl = indexOf(bytes, enc.encode('\r\n'));
	if (sl < 0)
		return null;
	const start = /^MSRP ([A-Za-z0-9][A-Za-z0-9.\-+%=]{3,31}) (?:([A-Z]+)|(\d{3})(?: .*)?)$/
		.exec(dec.decode(bytes.subarray(0, sl)));
	if (!start)
		return null;
	const tid = start[1];
	const end = enc.encode(`\r\n-------${tid}`);
	const e = indexOf(bytes, end, sl);
	if (e < 0 || e + end.length + 3 > bytes.length)
		return null;
	const flag = String.fromCharCode(bytes[e + end.length]);
	if (!'$+#'.includes(flag))
		return null;
	let hdrEnd = indexOf(bytes, CRLF2, sl);
	let body = null;
	if (hdrEnd >= 0 && hdrEnd + 2 <= e) {
		body = bytes.subarray(hdrEnd + 4, e);
	} else {
		hdrEnd = e;
	}
	const headers = {};
	for (const line of dec.decode(bytes.subarray(sl + 2, hdrEnd))
		.split('\r\n')) {
		const c = line.indexOf(':');
		if (c > 0)
			headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
	}
	return { tid, method: start[2] ?? null, status: start[3] ?
		Number(start[3]) : null, headers, body, flag };
}

function frame(tid, first, headers, body, flag) {
	const head = enc.encode(`${first}\r\n${headers.map((h) => `${h}\r\n`)
		.join('')}${body ? '\r\n' : ''}`);
	const tail = enc.encode(`${body ? '\r\n' : ''}-------${tid}${flag}\r\n`);
	const out = new Uint8Array(head.length + (body?.length ?? 0) +
		tail.length);
	out.set(head, 0);
	if (body)
		out.set(body, head.length);
	out.set(tail, head.length + (body?.length ?? 0));
	return out;
}

export class MsrpChat {
	/**
	 * @param {RTCDataChannel} channel  negotiated, id MSRP_SID
	 * @param {object} o
	 * @param {function} o.onMessage  (text) a whole message received
	 * @param {function} o.onState   ('open' | 'closed')
	 */
	constructor(channel, { onMessage, onState }) {
		this.ch = channel;
		this.ch.binaryType = 'arraybuffer';
		this.path = `msrp://${rid(8)}.invalid:9/${rid(12)};dc`;
		this.peerPath = null;
		this.onMessage = onMessage;
		this.onState = onState;
		this.open = new Map();   // Message-ID -> { parts, size, total }
		this.sent = 0;
		this.acked = 0;
		channel.addEventListener('open', () => this.onState?.('open'));
		channel.addEventListener('close', () => this.onState?.('closed'));
		channel.addEventListener('message', (e) => this._recv(e.data));
	}

	/** The SDP lines that agree the channel (in the data-channel m-line) */
	sdpLines() {
		return [`a=dcmap:${MSRP_SID} label="chat";subprotocol="MSRP"`,
			`a=dcsa:${MSRP_SID} accept-types:text/plain`,
			`a=dcsa:${MSRP_SID} path:${this.path}`];
	}

	/** Add sdpLines() to an offer's data-channel m-line */
	mungeOffer(sdp) {
		return sdp.replace(/(\r\na=sctp-port:\d+)/,
			`$1\r\n${this.sdpLines().join('\r\n')}`);
	}

	/** The peer's path from the answer; false if it has none */
	takeAnswer(sdp) {
		const m = new RegExp(`^a=dcsa:${MSRP_SID} path:(.+)$`, 'm')
			.exec(sdp.replace(/\r/g, ''));
		this.peerPath = m ? m[1].trim() : null;
		return Boolean(this.peerPath);
	}

	get ready() {
		return Boolean(this.peerPath) && this.ch.readyState === 'open';
	}

	/** Send a text message, in chunks of CHUNK bytes */
	send(text) {
		if (!this.ready)
			throw new Error('The chat is not connected');
		const body = enc.encode(text);
		const id = rid(12);
		const total = body.length;
		let off = 0;
		do {
			const n = Math.min(CHUNK, total - off);
			const tid = rid(10);
			const last = off + n >= total;
			this.ch.send(frame(tid, `MSRP ${tid} SEND`, [
				`To-Path: ${this.peerPath}`, `From-Path: ${this.path}`,
				`Message-ID: ${id}`, 'Success-Report: no',
				`Byte-Range: ${off + 1}-${off + n}/${total}`,
				'Content-Type: text/plain;charset=UTF-8',
			], body.subarray(off, off + n), last ? '$' : '+'));
			off += n;
		} while (off < total);
		this.sent++;
	}

	_respond(m, status, text) {
		if (m.headers['failure-report'] === 'no' ||
			(status === 200 && m.headers['failure-report'] === 'partial'))
			return;
		this.ch.send(frame(m.tid, `MSRP ${m.tid} ${status} ${text}`, [
			`To-Path: ${m.headers['from-path']}`,
			`From-Path: ${this.path}`], null, '$'));
	}

	_recv(data) {
		const bytes = typeof data === 'string' ? enc.encode(data) :
			new Uint8Array(data);
		const m = parseMsrp(bytes);
		if (!m)
			return;
		if (m.status !== null) {
			if (m.status === 200)
				this.acked++;
			return;
		}
		if (m.method !== 'SEND') {
			if (m.method !== 'REPORT')
				this._respond(m, 501, 'Not Implemented');
			return;
		}
		const range = /^(\d+)-(\d+|\*)\/(\d+|\*)$/
			.exec(m.headers['byte-range'] ?? '1-*/*');
		const id = m.headers['message-id'];
		if (!range || !id) {
			this._respond(m, 400, 'Bad Request');
			return;
		}
		const start = Number(range[1]) - 1;
		const body = m.body ?? new Uint8Array(0);
		let msg = this.open.get(id);
		if (!msg) {
			if (this.open.size >= MAX_OPEN) {
				this._respond(m, 413, 'Too Many');
				return;
			}
			msg = { parts: [], size: 0 };
			this.open.set(id, msg);
		}
		if (start + body.length > MAX_MESSAGE) {
			this.open.delete(id);
			this._respond(m, 413, 'Message Too Large');
			return;
		}
		msg.parts.push({ start, body: body.slice() });
		msg.size = Math.max(msg.size, start + body.length);
		this._respond(m, 200, 'OK');
		if (m.flag === '#') {
			this.open.delete(id);
			return;
		}
		if (m.flag !== '$')
			return;
		this.open.delete(id);
		const all = new Uint8Array(msg.size);
		for (const p of msg.parts)
			all.set(p.body, p.start);
		if (all.length &&
			/^text\//i.test(m.headers['content-type'] ?? 'text/plain'))
			this.onMessage?.(dec.decode(all));
	}
}

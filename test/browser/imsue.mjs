// A plain IMS-side UE for the browser call tests, in Node: SIP over UDP
// straight to the Kamailio S-CSCF stand-in (no P-CSCF of its own), RTP/AVP
// with G.711 (PCMU/PCMA), symmetric RTP on one UDP port.
//
// - register(): Digest REGISTER (e.g. carol/carolpw), Contact = this UE
// - incoming INVITE: 100, 180, then 200 with an RTP/AVP answer (or wait for
//   answer()); re-INVITEs are answered with the mirrored direction (hold)
// - early: { pem }: instead of 180, 183 Session Progress with the SDP
//   answer (and `P-Early-Media: <pem>` if pem is set); RTP flows at once
//   (early media); answer() then sends the 200 with the same SDP
// - cancel(): CANCEL the INVITE this UE sent (still unanswered)
// - invite(target): an RTP/AVP offer toward the browser, ACK, dialog kept
// - bye(), reinvite(direction), message(to, body)
// - media: while a call is up and the direction allows it, a 20 ms G.711
//   stream (own SSRC) goes to the far end's SDP address, or to where its
//   RTP comes from once some has arrived (latching); the payload echoes the
//   last payload received (a tone until then). Everything received is
//   counted (packets, bytes, payload types, SSRCs, source addresses).
//
// - amr: { codec: 'AMR-WB' | 'AMR', octetAlign, frames }: the UE speaks
//   only that codec (a phone on a VoLTE core; still an edge fake): its
//   offers carry only it (payload type 96, octet-align=1 if octetAlign),
//   it answers only an offer with it (in the offer's payload format,
//   RFC 4867 8.3) and otherwise 488; it sends `frames` (storage frames,
//   see amr.mjs) in a loop, one per packet, and keeps every frame it
//   receives in rx.amr (payloads that do not parse count in rx.badAmr).
//   dtmf: true adds telephone-event at the codec's rate (payload type 101)
//   to its offers.
// - g722: { frames, dtmf }: the UE speaks only G.722 (payload type 9,
//   G722/8000: RFC 3551's 8000 clock, timestamps +160 per 20 ms although
//   it samples at 16 kHz): its offers carry only it (and
//   telephone-event/8000 on 101 with dtmf), it answers only an offer with
//   G.722, sends `frames` (160-byte G.722 frames, made by ffmpeg:
//   amr.mjs g722Frames) in a loop and keeps every G.722 payload it
//   receives in rx.g722. Still an edge fake.
// - DTMF: sendDtmf(event, ms) sends an RFC 4733 event instead of the audio
//   for ms; received telephone-event packets are kept in rx.te ({ seq, ts,
//   event, end, dur, m }).
// - loss: a fraction (0..1): that share of the RTP packets this UE would
//   send are not sent (seeded pseudo-random, so runs repeat; sequence
//   numbers and timestamps advance as if they were): a lossy hop.
// - rx.log: { seq, ts, m, pt, at } of every RTP packet received.
// - record (set on the UE): with G.711, no echo: the 400 Hz tone only, and
//   every G.711 payload received is kept in rx.g711.
//
// Every SIP message in and out is in `trace` ({dir, msg, at}); requests
// that arrive are also in `requests`.

import crypto from 'node:crypto';
import dgram from 'node:dgram';
import {
	parseSipMessage, digestAuthorization, Waitable, within,
} from '../integration/helpers.mjs';
import { AMR, amrPack, amrUnpack } from './amr.mjs';

const rnd = (n = 6) => crypto.randomBytes(n).toString('hex');
const T1 = 500;

/** Parse the first audio m-line of an SDP (and the session-level bits) */
export function parseSdp(text) {
	const lines = String(text ?? '').split(/\r?\n/).filter(Boolean);
	const sess = { c: null, attrs: [] };
	let m = null;
	for (const l of lines) {
		if (l.startsWith('m=')) {
			if (m)
				break;
			const [media, port, proto, ...fmts] = l.slice(2).split(' ');
			m = { media, port: Number(port), proto, pts: fmts.map(Number),
				c: null, attrs: [] };
			continue;
		}
		const tgt = m ?? sess;
		if (l.startsWith('c='))
			tgt.c = l.split(' ')[2] ?? null;
		else if (l.startsWith('a='))
			tgt.attrs.push(l.slice(2));
	}
	const all = [...sess.attrs, ...(m?.attrs ?? [])];
	const dirs = ['sendrecv', 'sendonly', 'recvonly', 'inactive'];
	const direction = (m?.attrs.find((a) => dirs.includes(a)) ??
		sess.attrs.find((a) => dirs.includes(a))) ?? 'sendrecv';
	const rtpmap = {};
	for (const a of all) {
		const r = /^rtpmap:(\d+) ([^/\s]+)\/(\d+)/.exec(a);
		if (r)
			rtpmap[r[1]] = { name: r[2].toUpperCase(), rate: Number(r[3]) };
	}
	return { raw: String(text ?? ''), lines, media: m?.media ?? null,
		port: m?.port ?? null, proto: m?.proto ?? null, pts: m?.pts ?? [],
		addr: m?.c ?? sess.c, direction, rtpmap, attrs: all,
		has: (re) => lines.some((l) => re.test(l)) };
}

/** The telephone-event payload type of an SDP, or null */
const teOf = (sdp) => sdp.pts.find((p) =>
	sdp.rtpmap[p]?.name === 'TELEPHONE-EVENT') ?? null;

const MIRROR = { sendrecv: 'sendrecv', sendonly: 'recvonly',
	recvonly: 'sendonly', inactive: 'inactive' };

/* G.711 mu-law / A-law of a 400 Hz tone, one 20 ms frame (160 samples) */
function linearToUlaw(s) {
	const BIAS = 0x84;
	let sign = 0;
	if (s < 0) {
		s = -s;
		sign = 0x80;
	}
	s = Math.min(s, 32635) + BIAS;
	let exp = 7;
	for (let mask = 0x4000; (s & mask) === 0 && exp > 0; mask >>= 1)
		exp--;
	const mant = (s >> (exp + 3)) & 0x0f;
	return ~(sign | (exp << 4) | mant) & 0xff;
}

function linearToAlaw(s) {
	let sign = 0x80;
	if (s < 0) {
		s = -s - 1;
		sign = 0;
	}
	s = Math.min(s, 32767);
	let out;
	if (s < 256) {
		out = s >> 4;
	} else {
		let exp = 1;
		for (let v = s >> 8; v > 1; v >>= 1)
			exp++;
		out = (exp << 4) | ((s >> (exp + 3)) & 0x0f);
	}
	return (out | sign) ^ 0x55;
}

function toneFrame(pt, phase) {
	const b = Buffer.alloc(160);
	for (let i = 0; i < 160; i++) {
		const v = Math.round(8000 * Math.sin(2 * Math.PI * 400 *
			(phase + i) / 8000));
		b[i] = pt === 8 ? linearToAlaw(v) : linearToUlaw(v);
	}
	return b;
}

function uriHostPort(uri) {
	const r = /^<?sips?:(?:[^@>]*@)?(\[[^\]]+\]|[^:;>?]+)(?::(\d+))?/i
		.exec(String(uri).trim());
	if (!r)
		return null;
	return { host: r[1], port: r[2] ? Number(r[2]) : 5060 };
}

const nameAddr = (h) => /<([^>]+)>/.exec(h)?.[1] ?? h.split(';')[0].trim();
const tagOf = (h) => /;\s*tag=([^;>\s]+)/i.exec(h ?? '')?.[1] ?? null;

/** Split a header value that may hold several comma-separated entries */
function splitList(values) {
	const out = [];
	for (const v of values) {
		let depth = 0, cur = '';
		for (const ch of v) {
			if (ch === '<')
				depth++;
			else if (ch === '>')
				depth--;
			if (ch === ',' && depth === 0) {
				out.push(cur.trim());
				cur = '';
			} else {
				cur += ch;
			}
		}
		if (cur.trim())
			out.push(cur.trim());
	}
	return out;
}

export class ImsUe {
	/**
	 * A UE bound to 127.0.0.1 (SIP and RTP ports chosen by the kernel),
	 * talking to the registrar/proxy on kamPort. Impairments of the RTP
	 * it sends: dropEvery N skips every Nth packet (its sequence number
	 * is used: a real loss), jitterMs holds every other packet that long.
	 */
	static async start({ kamPort, user = 'carol', password = `${user}pw`,
		domain = 'ims.test', autoAnswer = true, answerDelay = 100,
		name = user, early = null, amr = null, dropEvery = 0,
		jitterMs = 0 } = {}) {
		const ue = new ImsUe();
		Object.assign(ue, { kamPort, user, password, domain, autoAnswer,
			answerDelay, name, early, amr, dropEvery, jitterMs });
		ue.txn = 0;
		ue.aor = `sip:${user}@${domain}`;
		ue.trace = new Waitable(`a SIP message at UE ${name}`);
		ue.requests = new Waitable(`a SIP request at UE ${name}`);
		ue.pendingTx = new Map();   // branch -> client transaction
		ue.cancelTx = new Map();    // branch -> CANCEL transaction
		ue.serverTx = new Map();    // branch+method -> last response text
		ue.acks = new Map();        // call-id cseq -> ACK text (2xx retx)
		ue.calls = [];
		ue.call = null;
		ue.regCallId = `${rnd(8)}@ue.invalid`;
		ue.regCseq = 0;
		ue.resetRtp();
		ue.sock = dgram.createSocket('udp4');
		ue.rtp = dgram.createSocket('udp4');
		await Promise.all([
			new Promise((r) => ue.sock.bind(0, '127.0.0.1', r)),
			new Promise((r) => ue.rtp.bind(0, '127.0.0.1', r)),
		]);
		ue.port = ue.sock.address().port;
		ue.rtpPort = ue.rtp.address().port;
		ue.contact = `<sip:${user}@127.0.0.1:${ue.port}>`;
		ue.sock.on('message', (buf, rinfo) => ue.onSip(buf, rinfo));
		ue.rtp.on('message', (buf, rinfo) => ue.onRtp(buf, rinfo));
		ue.sock.on('error', () => {});
		ue.rtp.on('error', () => {});
		ue.ssrc = crypto.randomBytes(4).readUInt32BE(0);
		ue.seq = crypto.randomBytes(2).readUInt16BE(0);
		ue.ts = crypto.randomBytes(4).readUInt32BE(0);
		ue.phase = 0;
		// 20 ms ticks on the wall clock: a late timer (a loaded machine)
		// sends what is due, up to 3 packets at once, as a phone's
		// sound card would
		ue.due = Date.now();
		ue.timer = setInterval(() => {
			const now = Date.now();
			if (now - ue.due > 60)
				ue.due = now - 60;
			while (ue.due <= now) {
				ue.due += 20;
				ue.tick();
			}
		}, 20);
		return ue;
	}

	/* ---- SIP transport ---------------------------------------------- */

	send(text, port, host = '127.0.0.1') {
		this.trace.push({ dir: 'out', msg: parseSipMessage(text),
			at: Date.now(), to: `${host}:${port}` });
		this.sock.send(text, port, host);
	}

	via(branch) {
		return `SIP/2.0/UDP 127.0.0.1:${this.port};branch=${branch};rport`;
	}

	onSip(buf, rinfo) {
		const text = buf.toString('utf8');
		if (!text.trim())
			return;     // keepalive
		const m = parseSipMessage(text);
		m.at = Date.now();
		m.rinfo = rinfo;
		this.trace.push({ dir: 'in', msg: m, at: m.at });
		if (m.isRequest) {
			this.requests.push(m);
			this.onRequest(m, rinfo);
		} else {
			this.onResponse(m);
		}
	}

	onResponse(m) {
		if (m.cseq?.method === 'CANCEL') {
			const ctx = this.cancelTx.get(m.branch);
			if (ctx && m.status >= 200) {
				this.cancelTx.delete(m.branch);
				ctx.resolve(m);
			}
			return;
		}
		const tx = this.pendingTx.get(m.branch);
		if (!tx) {
			// a retransmitted 2xx to an INVITE: ACK it again
			if (m.cseq?.method === 'INVITE' && m.status >= 200 &&
				m.status < 300) {
				const ack = this.acks.get(`${m.get('call-id')} ${
					m.cseq.num}`);
				if (ack)
					this.send(ack.text, ack.port, ack.host);
			}
			return;
		}
		if (m.status < 200) {
			tx.provisional.push(m);
			if (tx.invite)
				tx.stopRetransmit();
			tx.onProvisional?.(m);
			return;
		}
		this.pendingTx.delete(m.branch);
		tx.stopRetransmit();
		tx.resolve(m);
	}

	/**
	 * Send a request built by build(via, branch); resolve the final
	 * response (provisionals in .provisional)
	 */
	transact(build, { host = '127.0.0.1', port = this.kamPort,
		invite = false, onProvisional, ms = 10000 } = {}) {
		const branch = `z9hG4bK${rnd(8)}`;
		const text = build(this.via(branch), branch);
		return new Promise((resolve, reject) => {
			let interval = T1, timer = null, done = false;
			const tx = { invite, provisional: [], onProvisional, text,
				host, port, branch,
				stopRetransmit: () => {
					if (timer)
						clearTimeout(timer);
					timer = null;
				},
				resolve: (m) => {
					done = true;
					clearTimeout(deadline);
					m.provisional = tx.provisional;
					m.request = parseSipMessage(text);
					resolve(m);
				} };
			const retx = () => {
				if (done)
					return;
				this.sock.send(text, port, host);
				interval = Math.min(interval * 2, 4000);
				timer = setTimeout(retx, interval);
			};
			const deadline = setTimeout(() => {
				tx.stopRetransmit();
				this.pendingTx.delete(branch);
				reject(new Error(`UE ${this.name}: no final response to ${
					text.split('\r\n', 1)[0]} within ${ms} ms`));
			}, ms);
			this.pendingTx.set(branch, tx);
			this.send(text, port, host);
			timer = setTimeout(retx, interval);
		});
	}

	respond(req, status, reason, { toTag, extra = [], body = '',
		contentType = 'application/sdp', rinfo = req.rinfo } = {}) {
		let to = req.get('to');
		if (toTag && !tagOf(to))
			to += `;tag=${toTag}`;
		const lines = [`SIP/2.0 ${status} ${reason}`,
			...req.all('via').map((v) => `Via: ${v}`),
			`From: ${req.get('from')}`, `To: ${to}`,
			`Call-ID: ${req.get('call-id')}`, `CSeq: ${req.get('cseq')}`,
			...extra];
		if (body)
			lines.push(`Content-Type: ${contentType}`);
		lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
		const text = lines.join('\r\n') + '\r\n\r\n' + body;
		this.serverTx.set(`${req.branch} ${req.method}`, text);
		this.send(text, rinfo.port, rinfo.address);
		return text;
	}

	/* ---- requests from the network ----------------------------------- */

	onRequest(req, rinfo) {
		const key = `${req.branch} ${req.method}`;
		if (req.method !== 'ACK' && this.serverTx.has(key)) {
			// retransmission: repeat the last answer
			this.sock.send(this.serverTx.get(key), rinfo.port,
				rinfo.address);
			return;
		}
		const callId = req.get('call-id');
		const call = this.calls.find((c) => c.callId === callId);
		switch (req.method) {
		case 'INVITE':
			if (tagOf(req.get('to')) && call)
				return this.onReinvite(call, req);
			if (tagOf(req.get('to')))
				return this.respond(req, 481, 'Call/Transaction Does Not Exist');
			return this.onInvite(req);
		case 'ACK':
			if (call) {
				call.acked = true;
				call.ackAt = Date.now();
				call.stop200?.();
				if (call.state === 'answered')
					call.state = 'confirmed';
				call.events.push({ ev: 'ack', at: Date.now() });
			}
			return;
		case 'BYE':
			this.respond(req, call ? 200 : 481, call ? 'OK' :
				'Call/Transaction Does Not Exist');
			if (call)
				this.ended(call, 'remote', req);
			return;
		case 'CANCEL': {
			this.respond(req, 200, 'OK');
			if (call && !call.answered) {
				this.respond(call.invite, 487, 'Request Terminated',
					{ toTag: call.localTag });
				this.ended(call, 'remote', req);
			}
			return;
		}
		default:
			this.respond(req, 200, 'OK');
		}
	}

	onInvite(req) {
		if (this.call && this.call.state !== 'ended') {
			this.respond(req, 486, 'Busy Here', { toTag: rnd(4) });
			return;
		}
		// a test's chosen final answer: { status, reason }
		if (this.rejectWith) {
			this.respond(req, this.rejectWith.status,
				this.rejectWith.reason, { toTag: rnd(4) });
			return;
		}
		const offer = parseSdp(req.body);
		const call = this.newCall({
			role: 'uas', callId: req.get('call-id'), invite: req,
			localTag: rnd(4), remoteTag: tagOf(req.get('from')),
			localUri: req.get('to'), remoteUri: req.get('from'),
			remoteTarget: nameAddr(req.get('contact') ?? ''),
			routeSet: splitList(req.all('record-route')),
			remoteCseq: req.cseq.num, offer,
		});
		this.respond(req, 100, 'Trying');
		const answerSdp = this.answerFor(call, offer);
		if (!answerSdp) {
			this.respond(req, 488, 'Not Acceptable Here',
				{ toTag: call.localTag });
			call.failed = 488;
			this.ended(call, 'local');
			return;
		}
		call.pendingAnswer = answerSdp;
		if (this.early) {
			// 183 with the answer: early media from now on
			this.applyAnswer(call, offer, answerSdp);
			this.respond(req, 183, 'Session Progress', {
				toTag: call.localTag, body: answerSdp.text,
				extra: [...this.dialogHeaders(call, req),
					...(this.early.pem ?
						[`P-Early-Media: ${this.early.pem}`] : []),
					...(this.early.extra ?? [])] });
			call.state = 'early';
			call.earlyAt = Date.now();
			call.events.push({ ev: 'early', at: call.earlyAt });
			return;
		}
		this.respond(req, 180, 'Ringing', { toTag: call.localTag,
			extra: this.dialogHeaders(call, req) });
		call.state = 'ringing';
		if (this.autoAnswer)
			setTimeout(() => this.answer(), this.answerDelay);
	}

	/** 200 OK to the ringing INVITE (retransmitted until the ACK) */
	answer() {
		const call = this.call;
		if (!call || !['ringing', 'early'].includes(call.state))
			throw new Error(`UE ${this.name}: no call ringing`);
		call.answered = true;
		call.state = 'answered';
		call.answeredAt = Date.now();
		this.applyAnswer(call, call.offer, call.pendingAnswer);
		const text = this.respond(call.invite, 200, 'OK', {
			toTag: call.localTag, body: call.pendingAnswer.text,
			extra: this.dialogHeaders(call, call.invite) });
		this.retransmit200(call, text, call.invite.rinfo);
		call.events.push({ ev: 'answered', at: Date.now() });
	}

	retransmit200(call, text, rinfo) {
		let interval = T1, timer;
		const stopAt = Date.now() + 32000;
		const again = () => {
			if (call.acked || Date.now() > stopAt || call.state === 'ended')
				return;
			this.sock.send(text, rinfo.port, rinfo.address);
			interval = Math.min(interval * 2, 4000);
			timer = setTimeout(again, interval);
		};
		call.acked = false;
		timer = setTimeout(again, interval);
		call.stop200 = () => clearTimeout(timer);
	}

	onReinvite(call, req) {
		const offer = parseSdp(req.body);
		call.remoteCseq = req.cseq.num;
		call.reinvites.push({ dir: 'in', offer, at: Date.now() });
		if (req.get('contact'))
			call.remoteTarget = nameAddr(req.get('contact'));
		const answerSdp = this.answerFor(call, offer);
		if (!answerSdp) {
			this.respond(req, 488, 'Not Acceptable Here');
			return;
		}
		this.applyAnswer(call, offer, answerSdp);
		const text = this.respond(req, 200, 'OK', { body: answerSdp.text,
			extra: [`Contact: ${this.contact}`] });
		this.retransmit200(call, text, req.rinfo);
		call.events.push({ ev: 'reinvite', direction: offer.direction,
			at: Date.now() });
	}

	dialogHeaders(call, req) {
		return [...req.all('record-route').map((r) => `Record-Route: ${r}`),
			`Contact: ${this.contact}`];
	}

	newCall(fields) {
		const call = { ...fields, state: 'new', reinvites: [],
			events: new Waitable(`a call event at UE ${this.name}`),
			sdpVersion: 1, startedAt: Date.now(), endedAt: null,
			endedBy: null, remoteMedia: null, direction: 'sendrecv',
			pt: null, answered: false, octetAlign: false };
		this.calls.push(call);
		this.call = call;
		this.resetRtp();
		return call;
	}

	/* ---- SDP ---------------------------------------------------------- */

	sdpText(call, { pts, direction, rest = [], te = 101,
		maps: extra = {} }) {
		const maps = { 0: 'PCMU/8000', 8: 'PCMA/8000', 9: 'G722/8000',
			96: 'AMR-WB/16000', [te]: 'telephone-event/8000', ...extra };
		const fmtp = [];
		if (this.amr) {
			maps[pts[0]] = `${this.amr.codec}/${AMR[this.amr.codec].rate}`;
			maps[te] = `telephone-event/${AMR[this.amr.codec].rate}`;
			if (call.octetAlign)
				fmtp.push(`a=fmtp:${pts[0]} octet-align=1`);
		}
		return ['v=0',
			`o=${this.user} ${call.sessId ??= Date.now()} ${
				call.sdpVersion++} IN IP4 127.0.0.1`,
			's=-', 'c=IN IP4 127.0.0.1', 't=0 0',
			`m=audio ${this.rtpPort} RTP/AVP ${pts.join(' ')}`,
			...pts.map((pt) => `a=rtpmap:${pt} ${maps[pt]}`), ...fmtp,
			...pts.filter((pt) => /^telephone-event/.test(maps[pt]))
				.map((pt) => `a=fmtp:${pt} 0-15`),
			'a=ptime:20', `a=${direction}`, ...rest, ''].join('\r\n');
	}

	/** The answer with this UE's AMR codec, or null (not acceptable) */
	amrAnswerFor(call, offer) {
		const pt = offer.pts.find((p) =>
			offer.rtpmap[p]?.name === this.amr.codec.toUpperCase());
		if (pt === undefined)
			return null;
		call.octetAlign = offer.has(new RegExp(
			`^a=fmtp:${pt} .*octet-align=1`));
		const direction = MIRROR[offer.direction];
		const rest = offer.lines.filter((l) => l.startsWith('m=')).slice(1)
			.map((l) => l.replace(/^(m=\S+) \d+/, '$1 0'));
		// with dtmf: the offer's telephone-event at the AMR rate too
		const rate = AMR[this.amr.codec].rate;
		const te = this.amr.dtmf ? offer.pts.find((p) =>
			offer.rtpmap[p]?.name === 'TELEPHONE-EVENT' &&
			+offer.rtpmap[p].rate === rate) : undefined;
		call.tePt = te ?? null;
		return { pt, direction, text: this.sdpText(call, { pts: te ===
			undefined ? [pt] : [pt, te], direction, rest, te }) };
	}

	/** The answer with G.722 (and telephone-event/8000), or null */
	g722AnswerFor(call, offer) {
		const pt = offer.pts.find((p) => p === 9 && !offer.rtpmap[p] ||
			offer.rtpmap[p]?.name === 'G722');
		if (pt === undefined)
			return null;
		const te = offer.pts.find((p) => offer.rtpmap[p]?.name ===
			'TELEPHONE-EVENT' && offer.rtpmap[p]?.rate === 8000);
		const direction = MIRROR[offer.direction];
		const rest = offer.lines.filter((l) => l.startsWith('m=')).slice(1)
			.map((l) => l.replace(/^(m=\S+) \d+/, '$1 0'));
		const dtmf = te !== undefined && this.g722.dtmf;
		call.tePt = dtmf ? te : null;
		const text = this.sdpText(call, { pts: dtmf ? [pt, te] : [pt],
			direction, rest, maps: { [pt]: 'G722/8000',
				...(dtmf ? { [te]: 'telephone-event/8000' } : {}) } });
		return { pt, direction, text };
	}

	/** The RTP/AVP G.711 answer to an offer, or null (not acceptable) */
	answerFor(call, offer) {
		if (offer.media !== 'audio' || !/^RTP\/AVPF?$/.test(offer.proto))
			return null;
		if (this.amr)
			return this.amrAnswerFor(call, offer);
		if (this.g722)
			return this.g722AnswerFor(call, offer);
		const g711 = offer.pts.filter((pt) => pt === 0 || pt === 8 ||
			['PCMU', 'PCMA'].includes(offer.rtpmap[pt]?.name));
		if (!g711.length)
			return null;
		const pt = offer.rtpmap[g711[0]]?.name === 'PCMA' ? 8 :
			offer.rtpmap[g711[0]]?.name === 'PCMU' ? 0 : g711[0];
		const direction = MIRROR[offer.direction];
		// further m-lines (a data channel): rejected, port 0
		// (unless this.mediaAnswer, e.g. msrpue.mjs, answers the line)
		const rest = offer.lines.filter((l) => l.startsWith('m=')).slice(1)
			.map((l) => this.mediaAnswer?.(l, offer) ??
				l.replace(/^(m=\S+) \d+/, '$1 0'));
		return { pt, direction, text: this.sdpText(call,
			{ pts: [pt], direction, rest }) };
	}

	/** Apply a negotiated exchange: where to send, which PT, direction */
	applyAnswer(call, remote, local) {
		call.pt = local.pt;
		call.direction = local.direction;
		call.remoteSdp = remote;
		call.localSdp = local.text;
		call.remoteMedia = remote.port && remote.addr &&
			remote.addr !== '0.0.0.0' ?
			{ address: remote.addr, port: remote.port } : null;
	}

	/* ---- calls from this UE ------------------------------------------- */

	/**
	 * INVITE target with an RTP/AVP G.711 offer; on 2xx the ACK is sent
	 * and the call is up. Resolves { response, call }.
	 */
	async invite(target, { direction = 'sendrecv', pts = [0, 8, 101],
		ms = 15000 } = {}) {
		const call = this.newCall({ role: 'uac', callId: `${rnd(8)}@ue.invalid`,
			localTag: rnd(4), remoteTag: null,
			localUri: `<${this.aor}>`, remoteUri: `<${target}>`,
			remoteTarget: target, routeSet: [], localCseq: 1 });
		call.state = 'calling';
		if (this.amr) {
			pts = this.amr.dtmf ? [96, 101] : [96];
			call.octetAlign = !!this.amr.octetAlign;
		}
		if (this.g722)
			pts = this.g722.dtmf ? [9, 101] : [9];
		const offerText = this.sdpText(call, { pts, direction });
		call.localOffer = parseSdp(offerText);
		const response = await this.transact((via) => [
			`INVITE ${target} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70',
			`From: ${call.localUri};tag=${call.localTag}`,
			`To: ${call.remoteUri}`, `Call-ID: ${call.callId}`,
			`CSeq: 1 INVITE`, `Contact: ${this.contact}`,
			`P-Asserted-Identity: <${this.aor}>`,
			'Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE, UPDATE',
			'Content-Type: application/sdp',
			`Content-Length: ${Buffer.byteLength(offerText)}`, '',
			offerText].join('\r\n'), { invite: true, ms,
			onProvisional: (m) => call.events.push({ ev: 'provisional',
				status: m.status, at: Date.now() }) });
		call.response = response;
		if (response.status >= 300) {
			// ACK for a non-2xx: same branch, hop by hop
			const req = response.request;
			this.send([`ACK ${target} SIP/2.0`, `Via: ${req.get('via')}`,
				'Max-Forwards: 70', `From: ${req.get('from')}`,
				`To: ${response.get('to')}`, `Call-ID: ${call.callId}`,
				'CSeq: 1 ACK', 'Content-Length: 0', '', ''].join('\r\n'),
			this.kamPort);
			call.failed = response.status;
			this.ended(call, 'remote', response);
			return { response, call };
		}
		call.remoteTag = tagOf(response.get('to'));
		call.remoteUri = response.get('to').replace(/;\s*tag=[^;]*/i, '');
		call.remoteTarget = nameAddr(response.get('contact') ?? target);
		call.routeSet = splitList(response.all('record-route')).reverse();
		const answer = parseSdp(response.body);
		const pt = answer.pts.find((p) => this.amr ? p === 96 :
			this.g722 ? p === 9 : p === 0 || p === 8);
		call.answerSdp = answer;
		call.tePt = teOf(answer);
		this.applyAnswer(call, answer, { pt: pt ?? 0,
			direction: MIRROR[answer.direction] ?? 'sendrecv',
			text: offerText });
		this.sendAck(call, 1);
		call.answered = true;
		call.state = 'confirmed';
		call.events.push({ ev: 'confirmed', at: Date.now() });
		return { response, call };
	}

	/** Where an in-dialog request goes: the first Route, else the target */
	dialogDest(call) {
		const first = call.routeSet[0];
		return uriHostPort(first ? nameAddr(first) : call.remoteTarget);
	}

	inDialog(call, method, cseq, via, { extra = [], body = '' } = {}) {
		return [`${method} ${call.remoteTarget} SIP/2.0`, `Via: ${via}`,
			'Max-Forwards: 70',
			...call.routeSet.map((r) => `Route: ${r}`),
			`From: ${call.localUri.replace(/;\s*tag=[^;]*/i, '')};tag=${
				call.localTag}`,
			`To: ${call.remoteUri.replace(/;\s*tag=[^;]*/i, '')};tag=${
				call.remoteTag}`,
			`Call-ID: ${call.callId}`, `CSeq: ${cseq} ${method}`,
			...(method === 'INVITE' ? [`Contact: ${this.contact}`] : []),
			...extra,
			...(body ? ['Content-Type: application/sdp'] : []),
			`Content-Length: ${Buffer.byteLength(body)}`, '',
			body].join('\r\n');
	}

	sendAck(call, cseq) {
		const dest = this.dialogDest(call);
		const branch = `z9hG4bK${rnd(8)}`;
		const text = this.inDialog(call, 'ACK', cseq, this.via(branch));
		this.acks.set(`${call.callId} ${cseq}`, { text, host: dest.host,
			port: dest.port });
		this.send(text, dest.port, dest.host);
	}

	nextCseq(call) {
		call.localCseq = (call.localCseq ?? 0) + 1;
		return call.localCseq;
	}

	/** BYE the current call (from either role); resolves the response */
	async bye(call = this.call, ms = 5000) {
		if (!call || call.state === 'ended')
			throw new Error(`UE ${this.name}: no call to hang up`);
		const dest = this.dialogDest(call);
		const cseq = this.nextCseq(call);
		call.byeSentAt = Date.now();
		const r = await this.transact((via) => this.inDialog(call, 'BYE',
			cseq, via), { host: dest.host, port: dest.port, ms });
		this.ended(call, 'local', r);
		return r;
	}

	/**
	 * re-INVITE with the same codecs (or `pts`: a codec change) and a new
	 * direction (hold); `rest`: more SDP lines (m-lines) after the audio
	 */
	async reinvite(direction, call = this.call, ms = 10000, { pts,
		rest } = {}) {
		const dest = this.dialogDest(call);
		const cseq = this.nextCseq(call);
		const change = !!pts;
		pts ??= this.amr ? [call.pt, ...(call.tePt ? [101] : [])] :
			call.pt === 8 ? [8] : [0];
		if (this.amr)
			call.octetAlign = !!this.amr.octetAlign;
		const body = this.sdpText(call, { pts, direction, rest });
		call.reinvites.push({ dir: 'out', direction, at: Date.now() });
		const r = await this.transact((via) => this.inDialog(call,
			'INVITE', cseq, via, { body }), { host: dest.host,
			port: dest.port, invite: true, ms });
		if (r.status >= 200 && r.status < 300) {
			const answer = parseSdp(r.body);
			const pt = change ? answer.pts.find((p) => pts.includes(p)) ??
				call.pt : call.pt;
			call.tePt = teOf(answer);
			this.applyAnswer(call, answer, { pt, direction,
				text: body });
			call.direction = direction === 'sendrecv' ?
				MIRROR[answer.direction] : direction;
			this.sendAck(call, cseq);
		}
		return r;
	}

	/**
	 * CANCEL the unanswered INVITE this UE sent (same Via branch);
	 * resolves the final response to the CANCEL
	 */
	cancel(call = this.call, ms = 5000) {
		const tx = [...this.pendingTx.values()].find((x) => x.invite &&
			call && x.text.includes(`\r\nCall-ID: ${call.callId}\r\n`));
		if (!tx)
			throw new Error(`UE ${this.name}: no INVITE to cancel`);
		const req = parseSipMessage(tx.text);
		const text = [`CANCEL ${req.ruri} SIP/2.0`, `Via: ${req.get('via')}`,
			'Max-Forwards: 70', `From: ${req.get('from')}`,
			`To: ${req.get('to')}`, `Call-ID: ${req.get('call-id')}`,
			`CSeq: ${req.cseq.num} CANCEL`, 'Content-Length: 0', '', '']
			.join('\r\n');
		call.cancelSentAt = Date.now();
		return new Promise((resolve, reject) => {
			let interval = T1, timer = null;
			const retx = () => {
				this.sock.send(text, tx.port, tx.host);
				interval = Math.min(interval * 2, 4000);
				timer = setTimeout(retx, interval);
			};
			const deadline = setTimeout(() => {
				clearTimeout(timer);
				this.cancelTx.delete(tx.branch);
				reject(new Error(`UE ${this.name}: no response to CANCEL`));
			}, ms);
			this.cancelTx.set(tx.branch, { resolve: (m) => {
				clearTimeout(timer);
				clearTimeout(deadline);
				resolve(m);
			} });
			this.send(text, tx.port, tx.host);
			timer = setTimeout(retx, interval);
		});
	}

	ended(call, by, msg) {
		if (call.state === 'ended')
			return;
		call.state = 'ended';
		call.endedBy = by;
		call.endedAt = Date.now();
		call.endMsg = msg;
		call.stop200?.();
		call.events.push({ ev: 'ended', by, at: call.endedAt });
	}

	/** Wait for the current (or given) call to reach a state */
	waitCall(pred, ms = 5000, what = 'a call event', call = this.call) {
		if (!call)
			return Promise.reject(new Error(`UE ${this.name}: no call`));
		return call.events.wait(pred, ms, 0, `UE ${this.name}: ${what}`);
	}

	/** The next request of this method that arrives (index from mark) */
	waitRequest(method, ms = 5000, from = 0) {
		return this.requests.wait((m) => m.method === method, ms, from,
			`UE ${this.name}: ${method}`);
	}

	/* ---- registration and messages ------------------------------------ */

	async register({ expires = 300 } = {}) {
		const ruri = `sip:${this.domain}`;
		const tag = rnd(4);
		const build = (cseq, auth) => (via) => [
			`REGISTER ${ruri} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70',
			`From: <${this.aor}>;tag=${tag}`, `To: <${this.aor}>`,
			`Call-ID: ${this.regCallId}`, `CSeq: ${cseq} REGISTER`,
			`Contact: ${this.contact};expires=${expires}`,
			`Expires: ${expires}`,
			...(auth ? [`Authorization: ${auth}`] : []),
			'Content-Length: 0', '', ''].join('\r\n');
		let r = await this.transact(build(++this.regCseq));
		if (r.status === 401) {
			const auth = digestAuthorization({
				challenge: r.get('www-authenticate'), method: 'REGISTER',
				uri: ruri, username: `${this.user}@${this.domain}`,
				password: this.password });
			r = await this.transact(build(++this.regCseq, auth));
		}
		if (r.status !== 200)
			throw new Error(`UE ${this.name}: REGISTER got ${r.first}`);
		this.registered = expires > 0;
		return r;
	}

	unregister() {
		return this.register({ expires: 0 });
	}

	/** A MESSAGE through the core; resolves the final response */
	message(to, body = 'hello', ms = 5000) {
		return this.transact((via) => [
			`MESSAGE ${to} SIP/2.0`, `Via: ${via}`, 'Max-Forwards: 70',
			`From: <${this.aor}>;tag=${rnd(4)}`, `To: <${to}>`,
			`Call-ID: ${rnd(8)}@ue.invalid`, 'CSeq: 1 MESSAGE',
			`P-Asserted-Identity: <${this.aor}>`,
			'Content-Type: text/plain',
			`Content-Length: ${Buffer.byteLength(body)}`, '', body]
			.join('\r\n'), { ms });
	}

	/* ---- RTP ------------------------------------------------------------ */

	resetRtp() {
		this.rx = { packets: 0, bytes: 0, pts: new Set(), ssrcs: new Set(),
			sources: new Map(), first: null, last: null, bad: 0,
			amr: [], badAmr: 0, cmr: new Set(), g711: [], g722: [], te: [],
			log: [] };
		this.amrIdx = 0;
		this.tx = { packets: 0, to: new Map() };
		this.latched = null;
		this.lastPayload = null;
	}

	onRtp(buf, rinfo) {
		if (buf.length < 12 || (buf[0] >> 6) !== 2) {
			this.rx.bad++;
			return;
		}
		const pt = buf[1] & 0x7f;
		const cc = buf[0] & 0x0f;
		const x = (buf[0] >> 4) & 1;
		let off = 12 + 4 * cc;
		if (x && buf.length >= off + 4)
			off += 4 + 4 * buf.readUInt16BE(off + 2);
		const now = Date.now();
		this.rx.packets++;
		this.rx.bytes += buf.length;
		this.rx.pts.add(pt);
		this.rx.ssrcs.add(buf.readUInt32BE(8));
		const src = `${rinfo.address}:${rinfo.port}`;
		this.rx.sources.set(src, (this.rx.sources.get(src) ?? 0) + 1);
		this.rx.first ??= now;
		this.rx.last = now;
		this.latched = { address: rinfo.address, port: rinfo.port };
		const seq = buf.readUInt16BE(2), ts = buf.readUInt32BE(4);
		this.rx.log.push({ seq, ts, m: buf[1] >> 7, pt, at: now });
		if (this.call?.tePt === pt && buf.length >= off + 4) {
			this.rx.te.push({ seq, ts, m: buf[1] >> 7, event: buf[off],
				end: buf[off + 1] >> 7, dur: buf.readUInt16BE(off + 2) });
			return;
		}
		if (this.amr && this.call && pt === this.call.pt) {
			try {
				const u = amrUnpack(this.amr.codec, buf.subarray(off),
					this.call.octetAlign);
				this.rx.cmr.add(u.cmr);
				this.rx.amr.push(...u.frames);
			} catch {
				this.rx.badAmr++;
			}
			return;
		}
		if (this.g722 && this.call && pt === this.call.pt) {
			this.rx.g722.push(Buffer.from(buf.subarray(off)));
			return;
		}
		if (buf.length > off && (pt === 0 || pt === 8) && this.record)
			this.rx.g711.push(Buffer.from(buf.subarray(off)));
		else if (buf.length > off && (pt === 0 || pt === 8))
			this.lastPayload = { pt, data: Buffer.from(buf.subarray(off)) };
	}

	/** Every 20 ms: one G.711 packet to the far end, if sending */
	tick() {
		const call = this.call;
		if (!call || !['early', 'answered', 'confirmed'].includes(call.state))
			return;
		if (!['sendrecv', 'sendonly'].includes(call.direction))
			return;
		const dest = this.latched ?? call.remoteMedia;
		if (!dest)
			return;
		const pt = call.pt ?? 0;
		if (this.dtmfTx)
			return this.dtmfTick(call, dest);
		if (this.amr)
			return this.amrTick(call, pt, dest);
		if (this.g722) {   // RFC 3551: 160 timestamp units per 20 ms
			const { frames } = this.g722;
			return this.sendRtp(pt, frames[this.amrIdx++ % frames.length],
				dest, 160);
		}
		const payload = this.lastPayload?.pt === pt &&
			this.lastPayload.data.length === 160 ? this.lastPayload.data :
			toneFrame(pt, this.phase);
		this.phase = (this.phase + 160) % 8000;
		this.sendRtp(pt, payload, dest, 160);
	}

	/* one AMR frame of the loop (ts in the codec's clock) */
	amrTick(call, pt, dest) {
		const { frames, codec } = this.amr;
		const payload = amrPack(codec, frames[this.amrIdx++ %
			frames.length], call.octetAlign);
		this.sendRtp(pt, payload, dest, AMR[codec].rate / 50);
	}

	/**
	 * An RFC 4733 event (0..15) for ms instead of the audio; resolves once
	 * its three end packets are sent
	 */
	sendDtmf(event, ms) {
		return new Promise((resolve) => {
			this.dtmfTx = { event, n: Math.max(1, Math.round(ms / 20)),
				k: 0, ends: 0, ts: this.ts >>> 0, resolve };
		});
	}

	/* one telephone-event packet (RFC 4733 2.5: the event's timestamp, a
	   growing duration, the end packet three times) */
	dtmfTick(call, dest) {
		const d = this.dtmfTx;
		const step = (this.amr ? AMR[this.amr.codec].rate : 8000) / 50;
		if (d.k < d.n)
			d.k++;
		const end = d.k >= d.n;
		if (end)
			d.ends++;
		const p = Buffer.alloc(4);
		p[0] = d.event;
		p[1] = (end ? 0x80 : 0) | 10;
		p.writeUInt16BE(d.k * step, 2);
		this.sendRtp(call.tePt, p, dest, 0, { ts: d.ts, m: d.k === 1 &&
			!d.ends });
		if (d.ends >= 3) {
			this.ts = (d.ts + d.n * step) >>> 0;
			this.dtmfTx = null;
			d.resolve(d);
		}
	}

	/* seeded (mulberry32): the same losses every run */
	lossDraw() {
		this.lossSeed = (this.lossSeed ?? 0x1c0de) + 0x6d2b79f5 | 0;
		let t = this.lossSeed;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	}

	sendRtp(pt, payload, dest, step, { ts = this.ts, m = false } = {}) {
		const h = Buffer.alloc(12);
		h[0] = 0x80;
		h[1] = (m ? 0x80 : 0) | pt;
		h.writeUInt16BE(this.seq, 2);
		h.writeUInt32BE(ts >>> 0, 4);
		h.writeUInt32BE(this.ssrc, 8);
		this.seq = (this.seq + 1) & 0xffff;
		this.ts = (this.ts + step) >>> 0;
		const n = ++this.txn;
		if (this.dropEvery && n % this.dropEvery === 0)
			return;
		if (this.loss && this.lossDraw() < this.loss) {
			this.tx.lost = (this.tx.lost ?? 0) + 1;
			return;
		}
		const to = `${dest.address}:${dest.port}`;
		this.tx.packets++;
		this.tx.to.set(to, (this.tx.to.get(to) ?? 0) + 1);
		const pkt = Buffer.concat([h, payload]);
		const send = () => {
			try {
				this.rtp.send(pkt, dest.port, dest.address);
			} catch { /* closed meanwhile */ }
		};
		if (this.jitterMs && n % 2)
			setTimeout(send, this.jitterMs);
		else
			send();
	}

	rtpSnapshot() {
		return { packets: this.rx.packets, bytes: this.rx.bytes,
			pts: [...this.rx.pts], ssrcs: this.rx.ssrcs.size,
			sources: Object.fromEntries(this.rx.sources),
			sent: this.tx.packets, sentTo: Object.fromEntries(this.tx.to),
			at: Date.now() };
	}

	/** Wait until at least n more RTP packets have arrived than at `from` */
	async waitRtp(n, ms = 5000, from = this.rtpSnapshot()) {
		const deadline = Date.now() + ms;
		while (this.rx.packets - from.packets < n) {
			if (Date.now() > deadline)
				throw new Error(`UE ${this.name}: ${this.rx.packets -
					from.packets} RTP packets in ${ms} ms, wanted ${n}; ${
					JSON.stringify(this.rtpSnapshot())}`);
			await new Promise((r) => setTimeout(r, 50));
		}
		return this.rtpSnapshot();
	}

	/** The SIP trace as text (first lines, or whole messages) */
	traceText({ full = false } = {}) {
		return this.trace.items.map(({ dir, msg, at }) =>
			`${new Date(at).toISOString().slice(11, 23)} ${dir === 'in' ?
				'<-' : '->'} ${full ? msg.text : msg.first}`).join('\n');
	}

	async close() {
		clearInterval(this.timer);
		for (const tx of this.pendingTx.values())
			tx.stopRetransmit();
		for (const c of this.calls)
			c.stop200?.();
		if (this.registered)
			await within(this.unregister(), 2000, 'UE unregister')
				.catch(() => {});
		this.sock.close();
		this.rtp.close();
	}
}

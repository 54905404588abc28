// An edge fake: the real-time text end of an IMS UE, written for the
// tests (no real RFC 4103 terminal runs here). It is hooked into an
// ImsUe (imsue.mjs): the UE's answer to an offer with `m=text` accepts it
// on this fake's UDP port with red/1000 (100) and t140/1000 (98), and the
// fake speaks RFC 4103 RTP to the address in the offer.
//
// - received: the T.140 bytes taken from the primary block of each RTP
//   packet (RED or plain), once per sequence number, in sequence order
//   (text()); redundant blocks are checked to repeat earlier primaries
// - send(text, { red, drop }): one RTP packet with `text` as its primary
//   and, with red, the two packets before it as redundancy (RFC 2198);
//   drop: counted in the sequence but not sent (a loss on the RTP side)

import dgram from 'node:dgram';
import { Waitable } from '../integration/helpers.mjs';

export const PT_RED = 100;
export const PT_T140 = 98;

/** The m=text section of an SDP: { port, addr, pts } or null */
export function textSection(sdp) {
	const lines = String(sdp ?? '').split(/\r?\n/);
	let sessC = null;
	let sec = null;
	for (const l of lines) {
		if (l.startsWith('m=')) {
			if (sec)
				break;
			const [media, port, , ...pts] = l.slice(2).split(' ');
			if (media === 'text')
				sec = { port: Number(port), addr: null, pts: pts.map(Number),
					lines: [] };
			continue;
		}
		if (l.startsWith('c='))
			(sec ? (sec.addr = l.split(' ')[2]) : (sessC = l.split(' ')[2]));
		else if (sec)
			sec.lines.push(l);
	}
	if (sec)
		sec.addr ??= sessC;
	return sec;
}

/** The blocks of a RED payload (RFC 2198): [{ pt, off, data }] */
export function redDecode(p) {
	const hdrs = [];
	let i = 0;
	for (;;) {
		if (i >= p.length)
			throw new Error('RED: no primary header');
		if (!(p[i] & 0x80)) {
			hdrs.push({ pt: p[i] & 0x7f, off: 0, len: null });
			i += 1;
			break;
		}
		if (i + 4 > p.length)
			throw new Error('RED: short header');
		hdrs.push({ pt: p[i] & 0x7f, off: (p.readUInt16BE(i + 1) >> 2),
			len: p.readUInt16BE(i + 2) & 0x3ff });
		i += 4;
	}
	const blocks = [];
	for (const h of hdrs) {
		const len = h.len ?? p.length - i;
		if (i + len > p.length)
			throw new Error('RED: short block');
		blocks.push({ pt: h.pt, off: h.off, data: p.subarray(i, i + len) });
		i += len;
	}
	return blocks;
}

export class T140Ue {
	static async attach(ue) {
		const f = new T140Ue();
		f.sock = dgram.createSocket('udp4');
		await new Promise((r) => f.sock.bind(0, '127.0.0.1', r));
		f.port = f.sock.address().port;
		f.sock.on('message', (b, ri) => f.onRtp(b, ri));
		f.sock.on('error', () => {});
		const answerFor = ue.answerFor.bind(ue);
		ue.answerFor = (call, offer) => {
			const a = answerFor(call, offer);
			const t = textSection(offer.raw);
			if (!a || !t || !t.port)
				return a;
			f.offer = t;
			f.peer = { address: t.addr, port: t.port };
			f.latched = null;
			a.text = a.text.replace(/^m=text 0 [^\r\n]*\r\n/m,
				`m=text ${f.port} RTP/AVP ${PT_RED} ${PT_T140}\r\n` +
				`a=rtpmap:${PT_RED} red/1000\r\n` +
				`a=rtpmap:${PT_T140} t140/1000\r\n` +
				`a=fmtp:${PT_RED} ${PT_T140}/${PT_T140}/${PT_T140}\r\n`);
			return a;
		};
		return f;
	}

	constructor() {
		this.chunks = new Map();      // seq -> primary bytes
		this.packets = [];            // { seq, pt, m, blocks }
		this.events = new Waitable('RFC 4103 text at the IMS side');
		this.errors = [];
		this.seq = 1000;
		this.ts = 0;
		this.t0 = Date.now();
		this.ssrc = 0x7a7a0001;
		this.gens = [];               // last primaries sent
		this.latched = null;
	}

	onRtp(b, ri) {
		if (b.length < 12 || (b[0] >> 6) !== 2)
			return;
		this.latched = { address: ri.address, port: ri.port };
		const pt = b[1] & 0x7f;
		const seq = b.readUInt16BE(2);
		const cc = b[0] & 0x0f;
		const p = b.subarray(12 + 4 * cc);
		try {
			let prim;
			if (pt === PT_RED) {
				const blocks = redDecode(p);
				prim = blocks.at(-1).data;
				// redundancy repeats earlier primaries
				blocks.slice(0, -1).reverse().forEach((blk, k) => {
					const had = this.chunks.get((seq - k - 1) & 0xffff);
					if (had && Buffer.compare(had, blk.data))
						this.errors.push(`seq ${seq}: generation ${k + 1}` +
							' differs from the primary sent before');
				});
			} else if (pt === PT_T140) {
				prim = p;
			} else {
				this.errors.push(`payload type ${pt}`);
				return;
			}
			this.packets.push({ seq, pt, m: !!(b[1] & 0x80),
				len: prim.length });
			if (!this.chunks.has(seq))
				this.chunks.set(seq, Buffer.from(prim));
			this.events.push({ seq, text: this.text() });
		} catch (e) {
			this.errors.push(String(e.message));
		}
	}

	/** The text received so far, in sequence order (UTF-8) */
	bytes() {
		const seqs = [...this.chunks.keys()];
		if (!seqs.length)
			return Buffer.alloc(0);
		const first = seqs[0];
		const order = seqs.map((s) => ({ s, d: (s - first + 0x10000) &
			0xffff })).map((x) => (x.d > 0x8000 ? x.d - 0x10000 : x.d));
		const sorted = seqs.map((s, i) => [order[i], s])
			.sort((a, b) => a[0] - b[0]);
		return Buffer.concat(sorted.map(([, s]) => this.chunks.get(s)));
	}

	text() {
		return this.bytes().toString('utf8');
	}

	/** Wait until the text received satisfies pred */
	waitText(pred, ms, what) {
		return this.events.wait((e) => pred(e.text), ms, 0, what);
	}

	/** One RTP packet with `text` (see the file's head) */
	send(text, { red = true, drop = false, marker = false } = {}) {
		const data = Buffer.from(text, 'utf8');
		const seq = this.seq++ & 0xffff;
		const ts = Date.now() - this.t0;
		let pay;
		if (red) {
			const gens = this.gens.slice(-2);
			const hdr = [];
			for (const g of gens) {
				const h = Buffer.alloc(4);
				h[0] = 0x80 | PT_T140;
				const off = Math.min(ts - g.ts, 0x3fff);
				h.writeUInt16BE(((off << 2) | (g.data.length >> 8)) &
					0xffff, 1);
				h[3] = g.data.length & 0xff;
				hdr.push(h);
			}
			pay = Buffer.concat([...hdr, Buffer.from([PT_T140]),
				...gens.map((g) => g.data), data]);
		} else {
			pay = data;
		}
		this.gens.push({ ts, data });
		if (drop)
			return;
		const h = Buffer.alloc(12);
		h[0] = 0x80;
		h[1] = (marker ? 0x80 : 0) | (red ? PT_RED : PT_T140);
		h.writeUInt16BE(seq, 2);
		h.writeUInt32BE(ts >>> 0, 4);
		h.writeUInt32BE(this.ssrc, 8);
		const to = this.latched ?? this.peer;
		this.sock.send(Buffer.concat([h, pay]), to.port, to.address);
	}

	close() {
		this.sock.close();
	}
}

// An IMS-side MSRP endpoint for the chat tests, in Node: an EDGE FAKE
// written for the tests (not a real IMS messaging client). It answers
// an `m=message ... TCP/MSRP *` offer (RFC 4975 8) with its own a=path,
// a=setup:passive and a=msrp-cema (RFC 6714), listens on TCP for the
// AGW's connection, answers each SEND with 200, puts chunks together by
// Message-ID and Byte-Range and keeps every whole message as bytes; it
// sends messages of its own in chunks of a size the test picks.
//
// With useRelay() it is a client of an RFC 4976 relay (Kamailio's msrp
// module in test/kamailio): it connects to the relay, AUTHs with its SIP
// credentials (digest), and its a=path (and c=/m=, RFC 6714) then name
// the relay's Use-Path URI first; every frame goes over that connection.
//
// Its parser is its own (Buffer-based), independent of src/msrp and of
// the page's msrp.js, so the three check one another.

import crypto from 'node:crypto';
import net from 'node:net';

const rnd = (n) => crypto.randomBytes(n).toString('hex');

/** Parse one MSRP message at the front of buf; null if incomplete */
export function takeMsrp(buf) {
	const sl = buf.indexOf('\r\n');
	if (sl < 0)
		return null;
	const start = /^MSRP (\S+) (?:([A-Z]+)|(\d{3}).*)$/
		.exec(buf.subarray(0, sl).toString('latin1'));
	if (!start)
		throw new Error(`bad MSRP start line: ${buf.subarray(0, sl)}`);
	const tid = start[1];
	const endMark = Buffer.from(`\r\n-------${tid}`);
	const e = buf.indexOf(endMark, sl);
	if (e < 0 || e + endMark.length + 3 > buf.length)
		return null;
	const flag = String.fromCharCode(buf[e + endMark.length]);
	let hdrEnd = buf.indexOf('\r\n\r\n', sl);
	let body = null;
	if (hdrEnd >= 0 && hdrEnd + 2 <= e)
		body = buf.subarray(hdrEnd + 4, e);
	else
		hdrEnd = e;
	const headers = {};
	for (const l of buf.subarray(sl + 2, hdrEnd).toString('latin1')
		.split('\r\n')) {
		const c = l.indexOf(':');
		if (c > 0)
			headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
	}
	return { len: e + endMark.length + 3, tid, method: start[2] ?? null,
		status: start[3] ? Number(start[3]) : null, headers, body, flag };
}

export class MsrpUe {
	static async start() {
		const ue = new MsrpUe();
		ue.server = net.createServer((sock) => ue.accept(sock));
		await new Promise((r) => ue.server.listen(0, '127.0.0.1', r));
		ue.port = ue.server.address().port;
		ue.sess = rnd(8);
		ue.path = `msrp://127.0.0.1:${ue.port}/${ue.sess};tcp`;
		ue.sock = null;
		ue.peerPath = null;     // the AGW's a=path from the offer
		ue.offer = null;        // the m=message section offered
		ue.messages = [];       // { id, ctype, body: Buffer, chunks }
		ue.requests = [];       // every request received (parsed)
		ue.responses = [];      // every response received
		ue.sent = [];           // transaction ids of the chunks sent
		ue.open = new Map();
		ue.waiters = [];
		ue.relay = null;        // { uri, port } after useRelay()
		ue.pending = new Map(); // AUTH tid -> resolve
		return ue;
	}

	/** Become a client of the RFC 4976 relay at 127.0.0.1:port */
	async useRelay({ port, user, password }) {
		const sock = net.connect(port, '127.0.0.1');
		await new Promise((r, j) => {
			sock.once('connect', r);
			sock.once('error', j);
		});
		this.listen(sock);
		const to = `msrp://127.0.0.1:${port};tcp`;
		const auth = (hdr) => {
			const tid = rnd(5);
			const p = new Promise((r) => this.pending.set(tid, r));
			sock.write(`MSRP ${tid} AUTH\r\nTo-Path: ${to}\r\n` +
				`From-Path: ${this.path}\r\n${hdr}-------${tid}$\r\n`);
			return p;
		};
		const ch = await auth('');
		if (ch.status !== 401)
			throw new Error(`MSRP relay: AUTH got ${ch.status}`);
		const wa = ch.headers['www-authenticate'] ?? '';
		const prm = (k) => new RegExp(`${k}="?([^",]*)`).exec(wa)?.[1];
		const md5 = (x) => crypto.createHash('md5').update(x).digest('hex');
		const [realm, nonce, qop] = [prm('realm'), prm('nonce'), prm('qop')];
		const ha1 = md5(`${user}:${realm}:${password}`);
		const ha2 = md5(`AUTH:${to}`);
		const cnonce = rnd(4);
		const resp = qop ? md5(`${ha1}:${nonce}:00000001:${cnonce}:auth:${ha2}`)
			: md5(`${ha1}:${nonce}:${ha2}`);
		const ok = await auth(`Authorization: Digest username="${user}", ` +
			`realm="${realm}", nonce="${nonce}", uri="${to}", ` +
			`response="${resp}"${qop ? `, qop=auth, nc=00000001, ` +
				`cnonce="${cnonce}"` : ''}\r\n`);
		if (ok.status !== 200 || !ok.headers['use-path'])
			throw new Error(`MSRP relay: AUTH got ${ok.status}`);
		this.relay = { uri: ok.headers['use-path'], port };
		this.sock = sock;
	}

	/** imsue.mjs's mediaAnswer hook: answer the m=message line */
	answer(mline, offer) {
		if (!/^m=message \d+ TCP\/MSRP /.test(mline))
			return null;
		const sect = offer.raw.split(/\r?\n(?=m=)/)
			.find((s) => s.startsWith('m=message'));
		this.offer = sect;
		this.peerPath = /\r?\na=path:(\S[^\r\n]*)/.exec(sect)?.[1] ?? null;
		// RFC 4976/6714: a relay's client names the relay first in its
		// a=path, and in c=/m=
		const r = this.relay;
		return [`m=message ${r ? r.port : this.port} TCP/MSRP *`,
			'c=IN IP4 127.0.0.1',
			`a=path:${r ? `${r.uri} ` : ''}${this.path}`,
			'a=accept-types:text/plain', 'a=setup:passive',
			'a=msrp-cema', 'a=sendrecv'].join('\r\n');
	}

	accept(sock) {
		this.accepted = (this.accepted ?? 0) + 1;
		if (this.sock) {
			sock.destroy();
			return;
		}
		this.sock = sock;
		this.listen(sock);
		this.wake();
	}

	listen(sock) {
		let buf = Buffer.alloc(0);
		sock.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			for (let m = takeMsrp(buf); m; m = takeMsrp(buf)) {
				buf = buf.subarray(m.len);
				this.got(m);
			}
		});
		sock.on('error', () => {});
	}

	got(m) {
		if (m.status !== null && this.pending.has(m.tid)) {
			this.pending.get(m.tid)(m);
			this.pending.delete(m.tid);
			return;
		}
		if (m.status !== null) {
			this.responses.push(m);
			this.wake();
			return;
		}
		this.requests.push(m);
		if (m.method === 'SEND' && m.headers['failure-report'] !== 'no')
			this.sock.write(`MSRP ${m.tid} 200 OK\r\nTo-Path: ${
				m.headers['from-path'].split(' ')[0]}\r\n` +
				`From-Path: ${this.path}\r\n` +
				`-------${m.tid}$\r\n`);
		if (m.method !== 'SEND' || !m.body?.length) {
			this.wake();
			return;
		}
		const id = m.headers['message-id'];
		const [, s] = /^(\d+)-/.exec(m.headers['byte-range'] ?? '1-') ?? [];
		let msg = this.open.get(id);
		if (!msg) {
			msg = { id, ctype: m.headers['content-type'], parts: [],
				chunks: 0 };
			this.open.set(id, msg);
		}
		msg.parts.push({ start: Number(s) - 1, body: Buffer.from(m.body) });
		msg.chunks++;
		if (m.flag === '$') {
			this.open.delete(id);
			const size = Math.max(...msg.parts.map((p) => p.start +
				p.body.length));
			const body = Buffer.alloc(size);
			for (const p of msg.parts)
				p.body.copy(body, p.start);
			this.messages.push({ id, ctype: msg.ctype, body,
				chunks: msg.chunks });
		}
		this.wake();
	}

	wake() {
		for (const w of this.waiters.splice(0))
			w();
	}

	/** Wait until pred() holds (checked on every event) */
	async until(pred, ms, what) {
		const deadline = Date.now() + ms;
		while (!pred()) {
			const left = deadline - Date.now();
			if (left <= 0)
				throw new Error(`MSRP UE: timed out waiting for ${what}`);
			await new Promise((r) => {
				const t = setTimeout(r, left);
				this.waiters.push(() => {
					clearTimeout(t);
					r();
				});
			});
		}
	}

	/** Send text (or bytes) to the AGW in chunks of `chunk` body bytes */
	send(data, { chunk = 2048, ctype = 'text/plain;charset=UTF-8' } = {}) {
		const body = Buffer.isBuffer(data) ? data : Buffer.from(data, 'utf8');
		const id = rnd(6);
		for (let off = 0; off < body.length; off += chunk) {
			const piece = body.subarray(off, off + chunk);
			const tid = rnd(5);
			this.sent.push(tid);
			const last = off + piece.length >= body.length;
			this.sock.write(Buffer.concat([Buffer.from(
				`MSRP ${tid} SEND\r\nTo-Path: ${this.relay
					? `${this.relay.uri} ` : ''}${this.peerPath}\r\n` +
				`From-Path: ${this.path}\r\nMessage-ID: ${id}\r\n` +
				`Byte-Range: ${off + 1}-${off + piece.length}/${
					body.length}\r\nContent-Type: ${ctype}\r\n\r\n`),
			piece, Buffer.from(`\r\n-------${tid}${last ? '$' : '+'}\r\n`)]));
		}
		return id;
	}

	close() {
		this.sock?.destroy();
		this.server.close();
	}
}

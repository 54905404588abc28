// Helpers for the imsedge integration tests (node --test).
//
// Everything runs on 127.0.0.1: imsedge is started on free ports with a
// config written to a temporary directory, its stderr is collected line
// by line, and clients talk WSS to it with the `ws` package or with a
// raw TLS socket where `ws` cannot produce the bytes a test needs.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import WebSocket from 'ws';

export { WebSocket };

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
	'..', '..');
/** IMSEDGE_BIN (relative to the working directory) or the host build */
export const BIN = process.env.IMSEDGE_BIN ?
	path.resolve(process.env.IMSEDGE_BIN) :
	path.join(ROOT, 'build', 'host', 'imsedge');
export const DATA = path.join(ROOT, 'test', 'data');
export const CERT = path.join(DATA, 'cert.pem');
export const KEY = path.join(DATA, 'key.pem');
export const CERT2 = path.join(DATA, 'cert2.pem');
export const KEY2 = path.join(DATA, 'key2.pem');
/** Trust both self-signed test certificates */
export const CA = [fs.readFileSync(CERT), fs.readFileSync(CERT2)];

export const ORIGIN = 'https://good.example';

/** The time at the start of each stderr line of imsedge */
export const LOG_TIME =
	/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;
export const EVIL = 'https://evil.example';

export function sleep(ms) {
	return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reject after ms unless the promise settles first */
export function within(promise, ms, what) {
	let t;
	const timeout = new Promise((_, reject) => {
		t = setTimeout(() => reject(new Error(
			`timed out after ${ms} ms waiting for ${what}`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(t));
}

/** A port that was free a moment ago: bind port 0, read it, close */
// Ports for the servers a test starts come from below the kernel's
// ephemeral range (ip_local_port_range, 32768-60999 by default) and
// below the tests' rtp_ports (30000-31099), so the outgoing socket of a
// browser, Kamailio or a client can never be given the port between
// this check and the server's bind; each is checked free for TCP and
// UDP (imsedge's Mw listens on both) and handed out once per process.
const PORT_MIN = 12000;
const PORT_SPAN = 8000;
let portNext = (process.pid * 7919) % PORT_SPAN;

async function portFree(port) {
	const srv = net.createServer();
	try {
		srv.listen(port, '127.0.0.1');
		await once(srv, 'listening');
	} catch {
		return false;
	} finally {
		srv.close();
	}
	return udpFree(port);
}

export async function freePort() {
	for (let i = 0; i < PORT_SPAN; i++) {
		const port = PORT_MIN + portNext++ % PORT_SPAN;
		if (await portFree(port))
			return port;
	}
	throw new Error('freePort: no free port in ' +
		`${PORT_MIN}-${PORT_MIN + PORT_SPAN - 1}`);
}

/* consecutive UDP ranges (the QEMU guests' media ports): 20000-29999,
   between freePort()'s ports and the tests' rtp_ports */
const RANGE_MIN = 20000;
const RANGE_SPAN = 10000;
let rangeNext = (process.pid * 104729) % RANGE_SPAN;

async function udpFree(port) {
	const udp = dgram.createSocket('udp4');
	try {
		udp.bind(port, '127.0.0.1');
		await once(udp, 'listening');
		return true;
	} catch {
		return false;
	} finally {
		try {
			udp.close();
		} catch {
			// never bound
		}
	}
}

/** n consecutive UDP ports, free a moment ago: [first, last] */
export async function freeUdpRange(n) {
	for (let i = 0; i < RANGE_SPAN / n; i++) {
		const min = RANGE_MIN + (rangeNext % (RANGE_SPAN - n));
		rangeNext += n;
		let ok = true;
		for (let p = min; ok && p < min + n; p++)
			ok = await udpFree(p);
		if (ok)
			return [min, min + n - 1];
	}
	throw new Error(`freeUdpRange: no ${n} free consecutive UDP ports`);
}

export function tmpDir() {
	return fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-it-'));
}

/**
 * Config text from an object: each key once, arrays repeat the key,
 * null or undefined leaves the key out
 */
export function configText(conf) {
	const lines = ['# imsedge integration test'];
	for (const [k, v] of Object.entries(conf)) {
		if (v === null || v === undefined)
			continue;
		for (const one of Array.isArray(v) ? v : [v])
			lines.push(`${k} ${one}`);
	}
	return lines.join('\n') + '\n';
}

/** A complete, valid config (ports must be filled in) */
export function baseConfig(over = {}) {
	return {
		w2_listen: '127.0.0.1:0',
		tls_cert: CERT,
		tls_key: KEY,
		w2_origin: [ORIGIN],
		mw_listen: '127.0.0.1:0',
		mw_next_hop: 'sip:127.0.0.1:5060;transport=udp',
		w2_ping_interval: 1,
		w2_handshake_timeout: 1,
		w2_max_message: 2048,
		log_level: 'debug',
		...over,
	};
}

/** Run imsedge to completion (for -t, -v, -h) */
export function runSync(args, opts = {}) {
	const r = spawnSync(BIN, args, { encoding: 'utf8', timeout: 10000,
		...opts });
	if (r.error)
		throw r.error;
	return r;
}

/** A running imsedge with its collected stderr lines */
export class Imsedge {
	constructor() {
		this.lines = [];
		this.waiters = [];
		this.proc = null;
		this.exit = null;
	}

	/**
	 * Rewrite the config file (e.g. before SIGHUP) with this instance's
	 * ports; `extra` is appended as is
	 */
	writeConfig(conf, extra = '') {
		// mw_ip: the Mw address (127.0.0.2 is the one Kamailio trusts
		// for integrity-protected="auth-done"); the port is ours
		// "@W2PORT@" in a value: the W2 port (e.g. in w2_public_url)
		const { mw_ip: mwIp = '127.0.0.1', ...given } = conf;
		const rest = Object.fromEntries(Object.entries(given).map(
			([k, v]) => [k, typeof v === 'string' ?
				v.replaceAll('@W2PORT@', String(this.port)) : v]));
		this.mwIp = mwIp;
		const text = configText({ ...rest,
			w2_listen: `127.0.0.1:${this.port}`,
			mw_listen: `${mwIp}:${this.mwPort}` });
		fs.writeFileSync(this.confPath, text + extra);
	}

	async start(over = {}) {
		this.dir = tmpDir();
		this.confPath = path.join(this.dir, 'imsedge.conf');
		this.port = await freePort();
		this.mwPort = await freePort();
		this.writeConfig(baseConfig(over));
		return this.spawn();
	}

	/**
	 * Run the binary with the config written by start() (again, after a
	 * kill: the same ports, as a restarted service)
	 */
	async spawn() {
		this.exit = null;
		if (!fs.existsSync(BIN))
			throw new Error(`no imsedge binary at ${BIN} ` +
				'(set IMSEDGE_BIN or run make)');

		this.proc = spawn(BIN, ['-c', this.confPath], {
			stdio: ['ignore', 'ignore', 'pipe'] });
		this.exited = new Promise((resolve) => {
			this.proc.once('exit', (code, signal) => {
				this.exit = { code, signal };
				resolve(this.exit);
			});
		});

		let buf = '';
		this.proc.stderr.setEncoding('utf8');
		this.proc.stderr.on('data', (chunk) => {
			buf += chunk;
			let nl;
			while ((nl = buf.indexOf('\n')) >= 0) {
				this.addLine(buf.slice(0, nl));
				buf = buf.slice(nl + 1);
			}
		});

		const ready = this.waitLog(/^info +main: ready$/, 5000,
			this.lines.length);
		const died = this.exited.then((e) => {
			throw new Error(`imsedge exited during start-up (${
				JSON.stringify(e)}):\n${this.lines.join('\n')}`);
		});
		await Promise.race([ready, died]);
		died.catch(() => {});
		return this;
	}

	addLine(raw) {
		if (process.env.IMSEDGE_LOG)
			process.stderr.write(`[imsedge] ${raw}\n`);
		// lines start with an ISO 8601 UTC time; tests match the rest
		// (this.raw keeps the lines as written)
		(this.raw ??= []).push(raw);
		const line = raw.replace(LOG_TIME, '');
		this.lines.push(line);
		for (const w of [...this.waiters]) {
			if (w.re.test(line)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve(line);
			}
		}
	}

	/** Index to pass to waitLog so only later lines count */
	mark() {
		return this.lines.length;
	}

	/** First line (at or after index `from`) matching re */
	waitLog(re, ms = 3000, from = 0) {
		const hit = this.lines.slice(from).find((l) => re.test(l));
		if (hit)
			return Promise.resolve(hit);
		let w;
		const p = new Promise((resolve) => {
			w = { re, resolve };
			this.waiters.push(w);
		});
		return within(p, ms, `log line ${re}; log so far:\n${
			this.lines.join('\n')}`).finally(() => {
			const i = this.waiters.indexOf(w);
			if (i >= 0)
				this.waiters.splice(i, 1);
		});
	}

	signal(sig) {
		this.proc.kill(sig);
	}

	get running() {
		return this.proc && !this.exit;
	}

	/**
	 * stop(), then fail if imsedge had exited by itself before (a crash
	 * or an unexpected exit during the tests)
	 */
	async stopExpectRunning() {
		const early = this.exit;
		const tail = this.lines.slice(-10).join('\n');
		await this.stop();
		if (early)
			throw new Error('imsedge exited during the tests: ' +
				`${JSON.stringify(early)}; last log lines:\n${tail}`);
	}

	/** SIGTERM, then SIGKILL if it lingers; always safe to call */
	async stop() {
		if (!this.proc)
			return;
		if (!this.exit) {
			this.proc.kill('SIGTERM');
			try {
				await within(this.exited, 3000, 'imsedge exit');
			} catch {
				this.proc.kill('SIGKILL');
				await this.exited;
			}
		}
		if (this.dir)
			fs.rmSync(this.dir, { recursive: true, force: true });
		this.dir = null;
	}
}

export async function startImsedge(over = {}) {
	const ims = new Imsedge();
	try {
		await ims.start(over);
	} catch (e) {
		await ims.stop();
		throw e;
	}
	return ims;
}

/**
 * An open WebSocket with its messages queued from the start and its
 * close recorded, so no event is missed between awaits
 */
export class WsClient {
	constructor(ws, res) {
		this.ws = ws;
		this.status = res.statusCode;
		this.headers = res.headers;
		this.localPort = res.socket.localPort;
		this.peerCert = res.socket.getPeerCertificate();
		this.protocol = res.socket.getProtocol();
		this.cipher = res.socket.getCipher();
		this.queue = [];
		this.takers = [];
		this.pings = 0;
		ws.on('message', (data, isBinary) => {
			const m = { text: data.toString('utf8'), isBinary };
			const t = this.takers.shift();
			if (t)
				t(m);
			else
				this.queue.push(m);
		});
		ws.on('ping', () => { this.pings++; });
		ws.on('error', (e) => { this.error = e; });
		this.closed = new Promise((resolve) => {
			ws.once('close', (code, reason) => resolve({ code,
				reason: reason.toString('utf8'),
				at: Date.now() }));
		});
	}

	send(data, opts = {}) {
		return new Promise((resolve, reject) => {
			this.ws.send(data, opts, (e) => e ? reject(e) : resolve());
		});
	}

	/** Next message (text and isBinary) */
	next(ms = 2000) {
		if (this.queue.length)
			return Promise.resolve(this.queue.shift());
		let taker;
		const p = new Promise((resolve) => {
			taker = resolve;
			this.takers.push(resolve);
		});
		const gone = this.closed.then(({ code, reason }) => {
			throw new Error('WebSocket closed (code ' +
				`${code} ${reason}) while waiting for a message`);
		});
		return within(Promise.race([p, gone]), ms,
			'a WebSocket message').finally(() => {
			const i = this.takers.indexOf(taker);
			if (i >= 0)
				this.takers.splice(i, 1);
		});
	}

	/** Send one SIP request, return the parsed response */
	async request(text, ms = 2000) {
		await this.send(text);
		const m = await this.next(ms);
		return parseSip(m.text);
	}

	waitClose(ms = 3000) {
		return within(this.closed, ms, 'WebSocket close');
	}

	terminate() {
		if (this.ws.readyState !== WebSocket.CLOSED)
			this.ws.terminate();
	}
}

/**
 * Open a WSS connection. Resolves with {ok: true, client, status: 101,
 * headers} on upgrade, or {ok: false, status, headers, body, localPort}
 * for a rejected upgrade. Rejects on a transport error.
 */
export function connectWss(port, {
	origin = ORIGIN,
	protocols = ['sip'],
	ca = CA,
	headers,
	tlsOptions = {},
	timeout = 3000,
	scheme = 'wss',
} = {}) {
	const opts = {
		handshakeTimeout: timeout,
		...(origin ? { origin } : {}),
		...(headers ? { headers } : {}),
		...(scheme === 'wss' ? { ca, servername: 'localhost',
			...tlsOptions } : {}),
	};
	const ws = new WebSocket(`${scheme}://127.0.0.1:${port}/`, protocols,
		opts);

	return new Promise((resolve, reject) => {
		let settled = false;
		const done = (fn, v) => {
			if (!settled) {
				settled = true;
				fn(v);
			}
		};

		ws.once('upgrade', (res) => {
			const client = new WsClient(ws, res);
			ws.once('open', () => done(resolve, { ok: true, client,
				status: res.statusCode, headers: res.headers }));
		});
		ws.on('unexpected-response', (req, res) => {
			const localPort = res.socket.localPort;
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => {
				done(resolve, { ok: false, status: res.statusCode,
					headers: res.headers, body, localPort });
				req.destroy();
			});
			res.on('error', () => {});
		});
		ws.on('error', (e) => done(reject, e));
		ws.once('close', () => done(reject,
			new Error('connection closed before open')));
	});
}

/** connectWss that must succeed: returns the WsClient */
export async function openWss(port, opts) {
	const r = await connectWss(port, opts);
	if (!r.ok)
		throw new Error(`upgrade rejected: HTTP ${r.status}: ${r.body}`);
	return r.client;
}

/** A plain HTTPS request (no Upgrade); GET / unless opts say otherwise */
export function httpsGet(port, headers = {},
	{ path: p = '/', method = 'GET', payload } = {}) {
	return new Promise((resolve, reject) => {
		const req = https.request({ host: '127.0.0.1', port,
			path: p, method, ca: CA,
			servername: 'localhost', headers, agent: false },
		(res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode,
				headers: res.headers, body, localPort }));
		});
		let localPort;
		req.on('socket', (s) => s.on('secureConnect', () => {
			localPort = s.localPort;
		}));
		req.on('error', reject);
		req.end(payload);
	});
}

/** A TLS connection (optionally with the Upgrade request sent) */
export async function tlsConnect(port, opts = {}) {
	const s = tls.connect({ host: '127.0.0.1', port, ca: CA,
		servername: 'localhost', ...opts });
	s.on('error', () => {});
	await within(once(s, 'secureConnect'), 3000, 'TLS handshake');
	return s;
}

let seq = 0;
function token() {
	return `${process.pid}x${Date.now().toString(36)}x${++seq}`;
}

/**
 * A SIP request as one string. `omit` lists header names to leave out,
 * `extra` adds header lines, `body` adds a body with Content-Length.
 */
export function sipRequest({
	method = 'OPTIONS',
	callId = `${token()}@test.invalid`,
	cseq = 1,
	branch = `z9hG4bK${token()}`,
	fromTag = token(),
	omit = [],
	extra = [],
	body = '',
} = {}) {
	const hdrs = [
		['Via', `SIP/2.0/WSS df7jal23ls0d.invalid;branch=${branch}`],
		['Max-Forwards', '70'],
		['To', '<sip:imsedge@127.0.0.1>'],
		['From', `<sip:alice@example.com>;tag=${fromTag}`],
		['Call-ID', callId],
		['CSeq', `${cseq} ${method}`],
		['Contact', '<sip:alice@df7jal23ls0d.invalid;transport=ws>'],
	].filter(([n]) => !omit.map((o) => o.toLowerCase())
		.includes(n.toLowerCase()));
	const lines = [`${method} sip:127.0.0.1 SIP/2.0`,
		...hdrs.map(([n, v]) => `${n}: ${v}`), ...extra];
	if (body)
		lines.push('Content-Type: text/plain');
	lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
	return { text: lines.join('\r\n') + '\r\n\r\n' + body, callId, cseq,
		branch, method, from: `<sip:alice@example.com>;tag=${fromTag}` };
}

export function sipOptions(opts = {}) {
	return sipRequest({ ...opts, method: 'OPTIONS' });
}

/** Parse a SIP response: status, reason, headers (lower-case, arrays) */
export function parseSip(text) {
	const [head] = text.split('\r\n\r\n');
	const [first, ...rest] = head.split('\r\n');
	const m = /^SIP\/2\.0 (\d{3}) (.*)$/.exec(first);
	const headers = {};
	for (const l of rest) {
		const i = l.indexOf(':');
		if (i < 0)
			continue;
		const n = l.slice(0, i).trim().toLowerCase();
		(headers[n] ??= []).push(l.slice(i + 1).trim());
	}
	return { first, status: m ? Number(m[1]) : null,
		reason: m ? m[2] : null, headers, text };
}

/** A raw WebSocket over TLS, for frames `ws` will not send */
export class RawWss {
	static async open(port, { origin = ORIGIN, protocol = 'sip',
		localAddress } = {}) {
		const r = new RawWss();
		r.sock = await tlsConnect(port,
			localAddress ? { localAddress } : {});
		r.buf = Buffer.alloc(0);
		r.ended = false;
		r.waiters = [];
		r.sock.on('data', (d) => {
			r.buf = Buffer.concat([r.buf, d]);
			r.wake();
		});
		r.sock.on('close', () => {
			r.ended = true;
			r.wake();
		});
		const key = crypto.randomBytes(16).toString('base64');
		r.sock.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
			'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
			`Sec-WebSocket-Key: ${key}\r\n` +
			'Sec-WebSocket-Version: 13\r\n' +
			`Origin: ${origin}\r\n` +
			`Sec-WebSocket-Protocol: ${protocol}\r\n\r\n`);
		const end = await r.until(() => {
			const i = r.buf.indexOf('\r\n\r\n');
			return i >= 0 ? i + 4 : null;
		});
		r.head = r.buf.subarray(0, end).toString('latin1');
		r.buf = r.buf.subarray(end);
		return r;
	}

	wake() {
		for (const w of this.waiters.splice(0))
			w();
	}

	/** Wait until f() returns non-null, or the socket closes */
	async until(f, ms = 3000) {
		const deadline = Date.now() + ms;
		for (;;) {
			const v = f();
			if (v !== null && v !== undefined)
				return v;
			if (this.ended)
				throw new Error('connection closed');
			const left = deadline - Date.now();
			if (left <= 0)
				throw new Error('timed out waiting for data');
			await within(new Promise((resolve) =>
				this.waiters.push(resolve)), left, 'data')
				.catch(() => {});
		}
	}

	/** A frame; masked unless mask === false */
	static frame(opcode, payload, { fin = true, mask = true } = {}) {
		const p = Buffer.from(payload);
		const hdr = [(fin ? 0x80 : 0) | opcode];
		const m = mask ? 0x80 : 0;
		if (p.length < 126)
			hdr.push(m | p.length);
		else if (p.length < 65536)
			hdr.push(m | 126, p.length >> 8, p.length & 0xff);
		else
			throw new Error('payload too long for this helper');
		if (!mask)
			return Buffer.concat([Buffer.from(hdr), p]);
		const k = crypto.randomBytes(4);
		const mp = Buffer.from(p.map((b, i) => b ^ k[i & 3]));
		return Buffer.concat([Buffer.from(hdr), k, mp]);
	}

	write(buf) {
		this.sock.write(buf);
	}

	/** Next server frame: {fin, opcode, payload} */
	readFrame(ms = 3000) {
		return this.until(() => {
			const b = this.buf;
			if (b.length < 2)
				return null;
			let len = b[1] & 0x7f, off = 2;
			if (len === 126) {
				if (b.length < 4)
					return null;
				len = b.readUInt16BE(2);
				off = 4;
			} else if (len === 127) {
				if (b.length < 10)
					return null;
				len = Number(b.readBigUInt64BE(2));
				off = 10;
			}
			if (b.length < off + len)
				return null;
			const f = { fin: !!(b[0] & 0x80), opcode: b[0] & 0x0f,
				masked: !!(b[1] & 0x80),
				payload: b.subarray(off, off + len) };
			this.buf = b.subarray(off + len);
			return f;
		}, ms);
	}

	/** Next close frame, skipping pings: {code, reason} */
	async readClose(ms = 3000) {
		const deadline = Date.now() + ms;
		for (;;) {
			const f = await this.readFrame(Math.max(1,
				deadline - Date.now()));
			if (f.opcode === 0x8)
				return { code: f.payload.length >= 2 ?
					f.payload.readUInt16BE(0) : null,
				reason: f.payload.subarray(2).toString('utf8'),
				frame: f };
		}
	}

	get closed() {
		return this.ended;
	}

	destroy() {
		this.sock.destroy();
	}
}

/* ------------------------------------------------------------------ */
/* eP-CSCF tests: Kamailio stand-in, SIP parsing and digest, a raw     */
/* SIP-over-WSS client, a UDP SIP client and tap for Mw, JsSIP UAs     */
/* ------------------------------------------------------------------ */

/** A port free on 127.0.0.1 for both TCP and UDP a moment ago */
export async function freeUdpTcpPort() {
	for (let i = 0; i < 20; i++) {
		const port = await freePort();
		const u = dgram.createSocket('udp4');
		const ok = await new Promise((resolve) => {
			u.once('error', () => resolve(false));
			u.bind(port, '127.0.0.1', () => resolve(true));
		});
		if (ok) {
			await new Promise((resolve) => u.close(resolve));
			return port;
		}
		u.close();
	}
	throw new Error('no port free for both TCP and UDP');
}

/** A port with nothing listening on it over UDP (or TCP) right now */
export const closedPort = freeUdpTcpPort;

/**
 * Collected lines or events with waiters: push(x), wait(pred, ms, from)
 */
export class Waitable {
	constructor(what = 'an event') {
		this.items = [];
		this.waiters = [];
		this.what = what;
	}

	push(x) {
		this.items.push(x);
		for (const w of [...this.waiters]) {
			if (w.pred(x)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve(x);
			}
		}
	}

	mark() {
		return this.items.length;
	}

	/** First item at or after index `from` for which pred is true */
	wait(pred, ms = 3000, from = 0, what = this.what) {
		const hit = this.items.slice(from).find(pred);
		if (hit !== undefined)
			return Promise.resolve(hit);
		let w;
		const p = new Promise((resolve) => {
			w = { pred, resolve };
			this.waiters.push(w);
		});
		return within(p, ms, what).finally(() => {
			const i = this.waiters.indexOf(w);
			if (i >= 0)
				this.waiters.splice(i, 1);
		});
	}
}

/** The Kamailio S-CSCF stand-in (test/kamailio/start) */
export class Kamailio {
	static async start({ port, debug, minExpires } = {}) {
		const k = new Kamailio();
		k.port = port ?? await freeUdpTcpPort();
		k.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-kam-'));
		k.log = new Waitable('a Kamailio log line');
		k.proc = spawn(path.join(ROOT, 'test', 'kamailio', 'start'),
			[String(k.port), k.dir], {
				stdio: ['ignore', 'ignore', 'pipe'],
				env: { ...process.env,
					...(debug ? { KAMAILIO_DEBUG: String(debug) } :
						{}),
					...(minExpires ? { KAMAILIO_MIN_EXPIRES:
						String(minExpires) } : {}) } });
		// never leave a Kamailio behind, even if the test process ends
		// without running its after() hooks
		const reap = () => {
			if (!k.exit)
				k.proc.kill('SIGTERM');
		};
		process.once('exit', reap);
		k.exited = new Promise((resolve) => {
			k.proc.once('exit', (code, signal) => {
				k.exit = { code, signal };
				process.removeListener('exit', reap);
				resolve(k.exit);
			});
		});
		let buf = '';
		k.proc.stderr.setEncoding('utf8');
		k.proc.stderr.on('data', (chunk) => {
			buf += chunk;
			let nl;
			while ((nl = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, nl);
				buf = buf.slice(nl + 1);
				if (process.env.KAMAILIO_LOG)
					process.stderr.write(`[kamailio] ${line}\n`);
				k.log.push(line);
			}
		});
		const ready = k.log.wait((l) => /kamailio ready/.test(l), 15000);
		const died = k.exited.then((e) => {
			throw new Error(`Kamailio exited during start-up (${
				JSON.stringify(e)}):\n${k.log.items.join('\n')}`);
		});
		try {
			await Promise.race([ready, died]);
		} catch (e) {
			await k.stop();
			throw e;
		}
		died.catch(() => {});
		return k;
	}

	get nextHop() {
		return `sip:127.0.0.1:${this.port};transport=udp`;
	}

	waitLog(re, ms = 3000, from = 0) {
		return this.log.wait((l) => re.test(l), ms, from,
			`Kamailio log line ${re}`);
	}

	/** SIGTERM to the pid we started, SIGKILL if it lingers */
	async stop() {
		if (this.proc && !this.exit) {
			this.proc.kill('SIGTERM');
			try {
				await within(this.exited, 5000, 'Kamailio exit');
			} catch {
				this.proc.kill('SIGKILL');
				await this.exited;
			}
		}
		if (this.dir)
			fs.rmSync(this.dir, { recursive: true, force: true });
		this.dir = null;
	}
}

const COMPACT = { v: 'via', f: 'from', t: 'to', i: 'call-id', m: 'contact',
	l: 'content-length', c: 'content-type', k: 'supported', s: 'subject',
	e: 'content-encoding', o: 'event', r: 'refer-to', b: 'referred-by',
	u: 'allow-events', x: 'session-expires' };

/**
 * Parse a SIP request or response: {isRequest, method, ruri, status,
 * reason, headers (lower-case name -> array of values, one per line),
 * body, text}; get(name) is the first value, all(name) every value
 */
export function parseSipMessage(text) {
	const i = text.indexOf('\r\n\r\n');
	const head = i >= 0 ? text.slice(0, i) : text;
	const body = i >= 0 ? text.slice(i + 4) : '';
	const [first, ...rest] = head.split('\r\n');
	const m = { text, first, body, headers: {}, isRequest: false,
		method: null, ruri: null, status: null, reason: null };
	let r;
	if ((r = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(first))) {
		m.status = Number(r[1]);
		m.reason = r[2];
	} else if ((r = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(first))) {
		m.isRequest = true;
		m.method = r[1];
		m.ruri = r[2];
	}
	for (const l of rest) {
		const c = l.indexOf(':');
		if (c < 0)
			continue;
		let n = l.slice(0, c).trim().toLowerCase();
		n = COMPACT[n] ?? n;
		(m.headers[n] ??= []).push(l.slice(c + 1).trim());
	}
	m.get = (n) => m.headers[n.toLowerCase()]?.[0];
	m.all = (n) => m.headers[n.toLowerCase()] ?? [];
	const cseq = /^(\d+)\s+(\S+)/.exec(m.get('cseq') ?? '');
	m.cseq = cseq ? { num: Number(cseq[1]), method: cseq[2] } : null;
	const br = /;\s*branch=([^;,\s]+)/i.exec(m.get('via') ?? '');
	m.branch = br ? br[1] : null;
	return m;
}

/** Parameters of a Digest challenge or credentials value */
export function digestParams(value) {
	const out = {};
	const re = /([A-Za-z-]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g;
	let r;
	while ((r = re.exec(value)))
		out[r[1].toLowerCase()] = r[2] ?? r[3];
	return out;
}

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');

/**
 * An Authorization value answering a Digest (MD5, qop auth or none)
 * challenge
 */
export function digestAuthorization({ challenge, method, uri, username,
	password }) {
	const c = digestParams(challenge.replace(/^\s*Digest\s+/i, ''));
	const ha1 = md5(`${username}:${c.realm}:${password}`);
	const ha2 = md5(`${method}:${uri}`);
	const parts = [`username="${username}"`, `realm="${c.realm}"`,
		`nonce="${c.nonce}"`, `uri="${uri}"`];
	const qop = c.qop ? c.qop.split(',').map((q) => q.trim()) : [];
	if (qop.includes('auth')) {
		const cnonce = crypto.randomBytes(8).toString('hex');
		const nc = '00000001';
		parts.push(`response="${md5(`${ha1}:${c.nonce}:${nc}:${
			cnonce}:auth:${ha2}`)}"`, 'qop=auth', `nc=${nc}`,
		`cnonce="${cnonce}"`);
	} else {
		parts.push(`response="${md5(`${ha1}:${c.nonce}:${ha2}`)}"`);
	}
	parts.push('algorithm=MD5');
	if (c.opaque !== undefined)
		parts.push(`opaque="${c.opaque}"`);
	return `Digest ${parts.join(', ')}`;
}

function rnd(n = 6) {
	return crypto.randomBytes(n).toString('hex');
}

/** A response to a parsed request, with its Vias, From, To, Call-ID, CSeq */
export function sipResponseTo(req, status, reason, { toTag = rnd(4),
	extra = [], body = '' } = {}) {
	let to = req.get('to');
	if (!/;\s*tag=/i.test(to))
		to += `;tag=${toTag}`;
	const lines = [`SIP/2.0 ${status} ${reason}`,
		...req.all('via').map((v) => `Via: ${v}`),
		`From: ${req.get('from')}`, `To: ${to}`,
		`Call-ID: ${req.get('call-id')}`, `CSeq: ${req.get('cseq')}`,
		...extra, `Content-Length: ${Buffer.byteLength(body)}`];
	return lines.join('\r\n') + '\r\n\r\n' + body;
}

/**
 * A hand-written SIP UA over one WSS connection to imsedge (what a
 * browser's SIP stack sends, byte by byte under the test's control).
 * Responses are matched to requests by the top Via branch; requests
 * arriving (terminating) are queued for nextRequest().
 */
export class SipWs {
	static async open(port, opts = {}) {
		const client = await openWss(port, opts);
		return new SipWs(client, opts);
	}

	constructor(client, { user = 'alice', domain = 'ims.test' } = {}) {
		this.client = client;
		this.ws = client.ws;
		this.user = user;
		this.domain = domain;
		this.host = `${rnd()}.invalid`;
		this.contact = `<sip:${rnd(4)}@${this.host};transport=ws>`;
		this.pending = new Map();
		this.requests = new Waitable('a SIP request over WSS');
		this.responses = new Waitable('a SIP response over WSS');
		this.regCallId = `${rnd(8)}`;
		this.regCseq = 0;
		this.ws.on('message', (data) => this.onMessage(
			data.toString('utf8')));
		this.ws.on('error', () => {});
	}

	onMessage(text) {
		const m = parseSipMessage(text);
		m.at = Date.now();
		if (m.isRequest) {
			this.requests.push(m);
			return;
		}
		this.responses.push(m);
		const p = this.pending.get(m.branch);
		if (!p)
			return;
		if (m.status < 200) {
			p.provisional.push(m);
			return;
		}
		this.pending.delete(m.branch);
		m.provisional = p.provisional;
		m.elapsed = m.at - p.sent;
		p.resolve(m);
	}

	get aor() {
		return `sip:${this.user}@${this.domain}`;
	}

	/**
	 * A request as text. Defaults: From this UA's AOR, To the R-URI,
	 * a new Call-ID, CSeq 1, a new branch.
	 */
	build({ method = 'MESSAGE', ruri, from = `<${this.aor}>`,
		fromTag = rnd(4), to = `<${ruri}>`, callId = `${rnd(8)}@${
			this.host}`, cseq = 1, branch = `z9hG4bK${rnd(8)}`,
		maxForwards = 70, contact = method !== 'MESSAGE', extra = [],
		body = '', contentType = 'text/plain' }) {
		const lines = [`${method} ${ruri} SIP/2.0`,
			`Via: SIP/2.0/WSS ${this.host};branch=${branch}`,
			`Max-Forwards: ${maxForwards}`,
			`To: ${to}`, `From: ${from};tag=${fromTag}`,
			`Call-ID: ${callId}`, `CSeq: ${cseq} ${method}`];
		if (contact)
			lines.push(`Contact: ${contact === true ? this.contact :
				contact}`);
		lines.push(...extra);
		if (body)
			lines.push(`Content-Type: ${contentType}`);
		lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
		return { text: lines.join('\r\n') + '\r\n\r\n' + body, branch,
			callId, cseq, method };
	}

	/** Send a request (build() options or text + branch), await the
	 *  final response */
	async request(opts, ms = 5000) {
		const r = typeof opts.text === 'string' ? opts : this.build(opts);
		const p = new Promise((resolve) => this.pending.set(r.branch,
			{ resolve, provisional: [], sent: Date.now() }));
		await this.client.send(r.text);
		const gone = this.client.closed.then(({ code }) => {
			throw new Error(`WebSocket closed (${code}) while ` +
				`waiting for the answer to ${r.method}`);
		});
		try {
			return await within(Promise.race([p, gone]), ms,
				`the final response to ${r.method}`);
		} finally {
			this.pending.delete(r.branch);
		}
	}

	/**
	 * Digest registration as a browser does it: REGISTER, 401, REGISTER
	 * with Authorization. Resolves {challenge, response} (challenge is
	 * null if the first answer was not a 401).
	 */
	async register({ user = this.user, password = `${user}pw`,
		impi = `${user}@${this.domain}`, expires = 300, extra = [],
		ms = 5000 } = {}) {
		this.user = user;
		const base = { method: 'REGISTER', ruri: `sip:${this.domain}`,
			from: `<${this.aor}>`, to: `<${this.aor}>`,
			callId: this.regCallId,
			contact: `${this.contact};expires=${expires}`,
			extra: [`Expires: ${expires}`, 'Supported: path, outbound',
				...extra] };
		const first = await this.request({ ...base,
			cseq: ++this.regCseq }, ms);
		if (first.status !== 401)
			return { challenge: null, response: first };
		const auth = digestAuthorization({
			challenge: first.get('www-authenticate'),
			method: 'REGISTER', uri: base.ruri, username: impi,
			password });
		const response = await this.request({ ...base,
			cseq: ++this.regCseq,
			extra: [...base.extra, `Authorization: ${auth}`] }, ms);
		return { challenge: first, response };
	}

	/** register() that must end in 200 */
	async registerOk(opts) {
		const r = await this.register(opts);
		if (r.response.status !== 200)
			throw new Error(`REGISTER of ${this.aor} got ${
				r.response.first}:\n${r.response.text}`);
		return r;
	}

	/** An initial MESSAGE; resolves the final response */
	message({ to, body = 'hello', extra = [], from, ms = 5000 } = {}) {
		return this.request({ method: 'MESSAGE', ruri: to, to: `<${to}>`,
			from: from ?? `<${this.aor}>`, body, extra }, ms);
	}

	nextRequest(pred = () => true, ms = 5000, from = 0) {
		return this.requests.wait(pred, ms, from);
	}

	reply(req, status, reason, opts) {
		return this.client.send(sipResponseTo(req, status, reason, opts));
	}

	/** Answer every MESSAGE/OPTIONS that arrives with 200 */
	autoAnswer() {
		this.ws.on('message', (data) => {
			const m = parseSipMessage(data.toString('utf8'));
			if (m.isRequest && m.method !== 'ACK')
				this.reply(m, 200, 'OK').catch(() => {});
		});
		return this;
	}

	terminate() {
		this.client.terminate();
	}

	async close() {
		this.client.terminate();
		await within(this.client.closed, 2000, 'WebSocket close')
			.catch(() => {});
	}
}

/**
 * A SIP client over UDP (straight to the core, e.g. to clean up
 * registrations between tests)
 */
export class UdpSip {
	static async open() {
		const u = new UdpSip();
		u.sock = dgram.createSocket('udp4');
		await new Promise((resolve) => u.sock.bind(0, '127.0.0.1',
			resolve));
		u.port = u.sock.address().port;
		u.pending = new Map();
		u.sock.on('message', (buf) => {
			const m = parseSipMessage(buf.toString('utf8'));
			const p = u.pending.get(m.branch);
			if (!m.isRequest && p && m.status >= 200) {
				u.pending.delete(m.branch);
				p(m);
			}
		});
		return u;
	}

	async request(port, build, ms = 3000) {
		const branch = `z9hG4bK${rnd(8)}`;
		const text = build(`SIP/2.0/UDP 127.0.0.1:${this.port};` +
			`branch=${branch};rport`);
		const p = new Promise((resolve) => this.pending.set(branch,
			resolve));
		const send = () => this.sock.send(text, port, '127.0.0.1');
		send();
		const t = setInterval(send, 500);
		try {
			return await within(p, ms, 'a SIP response over UDP');
		} finally {
			clearInterval(t);
			this.pending.delete(branch);
		}
	}

	/**
	 * Remove every binding of a user at the registrar
	 * (REGISTER Contact: *, Expires: 0, with Digest)
	 */
	async unregisterAll(port, user, password = `${user}pw`,
		domain = 'ims.test') {
		const callId = `${rnd(8)}@udp.invalid`;
		const tag = rnd(4);
		const ruri = `sip:${domain}`;
		const build = (cseq, auth) => (via) => [
			`REGISTER ${ruri} SIP/2.0`, `Via: ${via}`,
			'Max-Forwards: 70',
			`From: <sip:${user}@${domain}>;tag=${tag}`,
			`To: <sip:${user}@${domain}>`, `Call-ID: ${callId}`,
			`CSeq: ${cseq} REGISTER`, 'Contact: *', 'Expires: 0',
			...(auth ? [`Authorization: ${auth}`] : []),
			'Content-Length: 0', '', ''].join('\r\n');
		const first = await this.request(port, build(1));
		if (first.status !== 401)
			return first;
		const auth = digestAuthorization({
			challenge: first.get('www-authenticate'),
			method: 'REGISTER', uri: ruri, username: user, password });
		const r = await this.request(port, build(2, auth));
		if (r.status !== 200)
			throw new Error(`clearing ${user}: ${r.first}`);
		return r;
	}

	close() {
		this.sock.close();
	}
}

/**
 * A UDP relay in front of the core (imsedge's mw_next_hop points at
 * it): records every request imsedge sends on Mw, forwards datagrams
 * both ways; with `drop` set it swallows everything (a dead core);
 * `rewrite` (text -> text), if set, edits what the core sends back
 */
export class UdpTap {
	static async start(targetPort) {
		const t = new UdpTap();
		t.target = targetPort;
		t.drop = false;
		t.requests = new Waitable('a request on Mw');
		t.sock = dgram.createSocket('udp4');
		await new Promise((resolve) => t.sock.bind(0, '127.0.0.1',
			resolve));
		t.port = t.sock.address().port;
		t.sock.on('message', (buf, rinfo) => {
			if (t.drop)
				return;
			if (rinfo.port === t.target) {
				if (t.peer)
					t.sock.send(t.rewrite ? Buffer.from(t.rewrite(
						buf.toString('utf8'))) : buf, t.peer.port,
					t.peer.address);
				return;
			}
			t.peer = rinfo;
			const m = parseSipMessage(buf.toString('utf8'));
			if (m.isRequest)
				t.requests.push(m);
			t.sock.send(buf, t.target, '127.0.0.1');
		});
		return t;
	}

	get nextHop() {
		return `sip:127.0.0.1:${this.port};transport=udp`;
	}

	close() {
		this.sock.close();
	}
}

let jssipModule;
/** JsSIP from test/node_modules, logging off */
export function jssip() {
	if (!jssipModule) {
		const require = createRequire(path.join(ROOT, 'test',
			'package.json'));
		jssipModule = require('jssip');
		jssipModule.debug.disable('JsSIP:*');
	}
	return jssipModule;
}

/**
 * A JsSIP UA (the browser's SIP stack) talking WSS to imsedge with the
 * test CA and Origin. Every SIP message in and out is kept in `trace`
 * ({dir: 'in'|'out', msg}); UA events in `events` ({name, e}).
 * Connection recovery is slowed down so a closed WebSocket stays closed
 * for the test.
 */
export class JsSipUa {
	constructor({ port, user, password = `${user}pw`,
		impi = `${user}@ims.test`, domain = 'ims.test', origin = ORIGIN,
		expires = 300, register = true, config = {} }) {
		const J = jssip();
		const self = this;
		this.user = user;
		this.aor = `sip:${user}@${domain}`;
		this.registerOnStart = register;
		this.trace = new Waitable('a SIP message at the JsSIP UA');
		this.events = new Waitable('a JsSIP UA event');
		this.sockets = [];
		const wsOpts = { origin, ca: CA, servername: 'localhost' };

		class Iface extends J.WebSocketInterface {
			connect() {
				const had = Object.prototype.hasOwnProperty.call(
					globalThis, 'WebSocket');
				const saved = globalThis.WebSocket;
				globalThis.WebSocket = class extends WebSocket {
					constructor(u, p) {
						super(u, p, wsOpts);
						this.on('error', () => {});
						self.sockets.push(this);
					}
				};
				try {
					super.connect();
				} finally {
					if (had)
						globalThis.WebSocket = saved;
					else
						delete globalThis.WebSocket;
				}
			}

			send(m) {
				self.trace.push({ dir: 'out',
					msg: parseSipMessage(String(m)) });
				return super.send(m);
			}

			_onMessage(ev) {
				self.trace.push({ dir: 'in',
					msg: parseSipMessage(String(ev.data)) });
				super._onMessage(ev);
			}
		}

		this.ua = new J.UA({
			sockets: [new Iface(`wss://127.0.0.1:${port}`)],
			uri: this.aor, password, authorization_user: impi,
			register, register_expires: expires,
			connection_recovery_min_interval: 60,
			connection_recovery_max_interval: 120,
			session_timers: false,
			...config,
		});
		for (const name of ['connected', 'disconnected', 'registered',
			'unregistered', 'registrationFailed', 'newMessage'])
			this.ua.on(name, (e) => this.events.push({ name, e }));
	}

	waitEvent(name, ms = 5000, from = 0) {
		return this.events.wait((x) => x.name === name, ms, from,
			`JsSIP ${this.user}: ${name}`).then((x) => x.e);
	}

	/** Start; with registration, wait for registered (or fail) */
	async start(ms = 5000) {
		const from = this.events.mark();
		this.ua.start();
		if (!this.registerOnStart) {
			await this.waitEvent('connected', ms, from);
			return this;
		}
		const x = await this.events.wait((x) => x.name === 'registered' ||
			x.name === 'registrationFailed', ms, from,
			`JsSIP ${this.user}: registration`);
		if (x.name !== 'registered')
			throw new Error(`JsSIP ${this.user} registration failed: ${
				x.e.cause} ${x.e.response?.status_code ?? ''}`);
		return this;
	}

	/**
	 * Send a MESSAGE; resolves {ok, status, reason, cause, ms}
	 * (status null when JsSIP gave up without a response)
	 */
	sendMessage(target, body, { extraHeaders = [], ms = 10000 } = {}) {
		const t0 = Date.now();
		const p = new Promise((resolve) => {
			this.ua.sendMessage(target, body, { extraHeaders,
				eventHandlers: {
					succeeded: (e) => resolve({ ok: true,
						status: e.response.status_code,
						reason: e.response.reason_phrase,
						ms: Date.now() - t0 }),
					failed: (e) => resolve({ ok: false,
						status: e.response?.status_code ?? null,
						reason: e.response?.reason_phrase ?? null,
						cause: e.cause, ms: Date.now() - t0 }),
				} });
		});
		return within(p, ms, `JsSIP ${this.user}: MESSAGE result`);
	}

	/** The next MESSAGE received from the network */
	nextMessage(ms = 5000, from = 0) {
		return this.events.wait((x) => x.name === 'newMessage' &&
			x.e.originator === 'remote', ms, from,
		`JsSIP ${this.user}: incoming MESSAGE`).then((x) => x.e);
	}

	/** Drop the WebSocket(s) abruptly (no un-REGISTER) */
	terminate() {
		for (const s of this.sockets)
			s.terminate();
	}

	/**
	 * ua.stop(): un-REGISTER if registered (waited for briefly), then
	 * the WebSocket is closed
	 */
	async stop() {
		const from = this.events.mark();
		const registered = this.ua.isRegistered();
		this.ua.stop();
		if (registered)
			await this.waitEvent('unregistered', 2000, from)
				.catch(() => {});
		// JsSIP would wait 2 s for transactions before it lets go of
		// the transport: let go now (this also ends its recovery timer)
		if (this.ua._closeTimer) {
			clearTimeout(this.ua._closeTimer);
			this.ua._closeTimer = null;
		}
		this.ua._transport?.disconnect();
		this.terminate();
	}
}

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
export async function freePort() {
	const srv = net.createServer();
	srv.listen(0, '127.0.0.1');
	await once(srv, 'listening');
	const { port } = srv.address();
	srv.close();
	await once(srv, 'close');
	return port;
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
		const text = configText({ ...conf,
			w2_listen: `127.0.0.1:${this.port}`,
			mw_listen: `127.0.0.1:${this.mwPort}` });
		fs.writeFileSync(this.confPath, text + extra);
	}

	async start(over = {}) {
		this.dir = tmpDir();
		this.confPath = path.join(this.dir, 'imsedge.conf');
		this.port = await freePort();
		this.mwPort = await freePort();
		this.writeConfig(baseConfig(over));

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

		const ready = this.waitLog(/^info +main: ready$/, 5000);
		const died = this.exited.then((e) => {
			throw new Error(`imsedge exited during start-up (${
				JSON.stringify(e)}):\n${this.lines.join('\n')}`);
		});
		await Promise.race([ready, died]);
		died.catch(() => {});
		return this;
	}

	addLine(line) {
		if (process.env.IMSEDGE_LOG)
			process.stderr.write(`[imsedge] ${line}\n`);
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

/** A plain HTTPS request (no Upgrade) */
export function httpsGet(port, headers = {}) {
	return new Promise((resolve, reject) => {
		const req = https.request({ host: '127.0.0.1', port,
			path: '/', method: 'GET', ca: CA,
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
		req.end();
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
	static async open(port, { origin = ORIGIN, protocol = 'sip' } = {}) {
		const r = new RawWss();
		r.sock = await tlsConnect(port);
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

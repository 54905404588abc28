// W2 admission and memory under hostile load (issue 13, "Admission and
// memory under hostile load"; no checklist item covers overload, the
// real client's upgrade is D-1/D-2's).
//
// One imsedge for all cases. Attackers connect from other loopback
// addresses (127.0.0.x, 127.0.1.x: Linux routes all of 127/8 locally),
// so the per-address limits see them apart from the real client on
// 127.0.0.1. Small limits keep it short:
//   w2_pending_per_address 8, w2_max_pending 16,
//   w2_connections_per_address 2, buffer_budget 1 MiB,
//   w2_max_message 64 KiB (the budget must be at least twice that).
// Nothing waits on a timer: each case waits for the server's answers.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { once } from 'node:events';
import {
	CA, ORIGIN, ROOT, RawWss, connectWss, freePort, httpsGet, openWss,
	sipOptions, startImsedge, tmpDir, within,
} from './helpers.mjs';

const PER_ADDR = 8;
const MAX_PENDING = 16;
const CONNS_PER_ADDR = 2;
const MAX_MESSAGE = 65536;
const BUDGET = 1048576;

/**
 * A slow-handshake socket: TCP connect from `from`, then the first byte
 * of a TLS record (a ClientHello that never completes)
 */
async function slowSocket(port, from) {
	const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
	s.on('error', () => {});
	s.gone = new Promise((resolve) => s.once('close', resolve));
	await within(once(s, 'connect'), 3000, `connect from ${from}`);
	s.write(Buffer.from([0x16]));
	return s;
}

async function slowSockets(port, from, n) {
	const all = [];
	for (let i = 0; i < n; i++)
		all.push(await slowSocket(port, from));
	return all;
}

/** Resolves when `n` of the sockets have been closed by the server */
function closedCount(socks, n, ms, what) {
	let done = 0;
	return within(new Promise((resolve) => {
		for (const s of socks)
			s.gone.then(() => { if (++done === n) resolve(); });
	}), ms, what);
}

function open(s) {
	return !s.destroyed && s.readyState === 'open';
}

async function assertServed(ims, from) {
	const c = await openWss(ims.port, from ?
		{ tlsOptions: { localAddress: from } } : undefined);
	try {
		const req = sipOptions();
		const res = await c.request(req.text);
		assert.equal(res.first, 'SIP/2.0 200 OK');
	} finally {
		c.terminate();
	}
}

/** One masked frame header announcing `len` payload bytes (< 65536) */
function frameHead(len) {
	return Buffer.concat([Buffer.from([0x81, 0x80 | 126, len >> 8,
		len & 0xff]), crypto.randomBytes(4)]);
}

const WWSF_CONNS = 256;   // the WWSF listener's connection cap
const WWSF_PER_ADDR = 30;

describe('W2 admission under hostile load', () => {
	let ims, dir, wwsfPort, metricsPort;
	const socks = [];
	const raws = [];

	before(async () => {
		dir = tmpDir();
		fs.writeFileSync(path.join(dir, 'token.pem'), crypto
			.generateKeyPairSync('ec', { namedCurve: 'P-256' })
			.privateKey.export({ format: 'pem', type: 'pkcs8' }),
		{ mode: 0o600 });
		fs.mkdirSync(path.join(dir, 'www'));
		fs.writeFileSync(path.join(dir, 'www', 'index.html'),
			'<!doctype html>');
		wwsfPort = await freePort();
		metricsPort = await freePort();
		ims = await startImsedge({
			metrics_listen: `127.0.0.1:${metricsPort}`,
			w2_public_url: 'wss://localhost:@W2PORT@',
			wwsf_listen: `127.0.0.1:${wwsfPort}`,
			wwsf_root: path.join(dir, 'www'),
			token_key: path.join(dir, 'token.pem'),
			w2_handshake_timeout: 20,
			w2_pending_per_address: PER_ADDR,
			w2_max_pending: MAX_PENDING,
			w2_connections_per_address: CONNS_PER_ADDR,
			w2_max_message: MAX_MESSAGE,
			buffer_budget: BUDGET,
			w2_ping_interval: 0,
			wwsf_connections_per_address: WWSF_PER_ADDR,
		});
	});

	after(async () => {
		for (const s of socks)
			s.destroy();
		for (const r of raws)
			r.destroy();
		await ims?.stopExpectRunning();
		if (dir)
			fs.rmSync(dir, { recursive: true, force: true });
	});

	test('a slow-handshake flood from one address is held to ' +
	     'w2_pending_per_address; the rest are closed at once, one ' +
	     'security line; a real client is served', async () => {
		const from = ims.mark();
		const flood = await slowSockets(ims.port, '127.0.0.2', 300);
		socks.push(...flood);

		await closedCount(flood, 300 - PER_ADDR, 5000,
			'the server to close the sockets over the cap');
		assert.ok(flood.slice(0, PER_ADDR).every(open),
			'the first sockets (within the cap) are still open');

		const line = await ims.waitLog(/security: event=handshake_limited/,
			3000, from);
		assert.match(line, /^warn +security: event=handshake_limited peer=127\.0\.0\.2 port=\d+ limit=8 refused=1$/);
		const n = ims.lines.slice(from).filter((l) =>
			/event=handshake_limited peer=127\.0\.0\.2 /.test(l)).length;
		assert.equal(n, 1, 'refusals are logged once per 10 s');

		await assertServed(ims);
	});

	test('at w2_max_pending the oldest handshake is dropped for a new ' +
	     'connection: real clients get in during a flood from many ' +
	     'addresses', async () => {
		const old = socks.slice(0, PER_ADDR);  // 127.0.0.2's, pending
		const from = ims.mark();
		const wave = [];
		for (let a = 3; a < 7; a++)   // 4 addresses x 8 = 32 more
			wave.push(...await slowSockets(ims.port, `127.0.0.${a}`,
				PER_ADDR));
		socks.push(...wave);

		// 8 + 32 pending, room for 16: 24 dropped, the oldest first
		await closedCount(old, PER_ADDR, 5000,
			'the oldest pending handshakes to be dropped');
		await closedCount(wave, 32 - MAX_PENDING, 5000,
			'the older half of the wave to be dropped');
		assert.ok(wave.slice(-MAX_PENDING).every(open),
			'the newest handshakes are kept');
		await ims.waitLog(/handshake: dropped the oldest/, 3000, from);

		// all 16 slots held by the flood; the real client still gets in
		await assertServed(ims);
		assert.ok(ims.running);
	});

	test('over w2_connections_per_address the upgrade gets HTTP 503 ' +
	     'with Retry-After and a security line', async () => {
		const from = ims.mark();
		const opts = { tlsOptions: { localAddress: '127.0.0.9' } };
		const a = await openWss(ims.port, opts);
		const b = await openWss(ims.port, opts);
		try {
			const r = await connectWss(ims.port, opts);
			assert.equal(r.ok, false);
			assert.equal(r.status, 503);
			assert.match(r.headers['retry-after'] ?? '', /^[1-9]\d*$/);
			assert.match(r.body, /connection limit for this address/);
			await ims.waitLog(/^warn +security: event=connections_limited peer=127\.0\.0\.9 port=\d+ limit=2 refused=1$/,
				3000, from);
			// another address is not affected
			await assertServed(ims, '127.0.0.10');
		} finally {
			a.terminate();
			b.terminate();
		}
	});

	test('WWSF: one address holds at most wwsf_connections_per_address ' +
	     'connections; the rest are closed at accept, one security ' +
	     'line; the page is served to others', async () => {
		const from = ims.mark();
		const flood = await slowSockets(wwsfPort, '127.0.2.100',
			WWSF_PER_ADDR + 10);
		try {
			await closedCount(flood.slice(WWSF_PER_ADDR), 10, 5000,
				'the WWSF to close the sockets over the cap');
			assert.ok(flood.slice(0, WWSF_PER_ADDR).every(open),
				'the sockets within the cap are still open');
			await ims.waitLog(/^warn +security: event=wwsf_limited peer=127\.0\.2\.100 port=\d+ limit=30 refused=1$/,
				3000, from);
			const r = await httpsGet(wwsfPort);
			assert.equal(r.status, 200);
		} finally {
			for (const s of flood)
				s.destroy();
		}
	});

	test('the fail2ban filter (docs/fail2ban) catches the new events ' +
	     'with the refused address', () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'admit-'));
		const log = path.join(dir, 'imsedge.log');
		fs.writeFileSync(log, ims.raw.join('\n') + '\n');
		const f = spawnSync('fail2ban-regex', ['-o', 'ip', log,
			path.join(ROOT, 'docs', 'fail2ban', 'imsedge.conf')],
		{ encoding: 'utf8' });
		fs.rmSync(dir, { recursive: true, force: true });
		assert.equal(f.status, 0, f.stderr);
		const ips = f.stdout.split('\n').filter(Boolean).sort();
		assert.deepEqual(ips, ['127.0.0.2', '127.0.0.9', '127.0.2.100'],
			f.stdout);
	});

	test('buffer_budget: slowly sent large messages fill it, the ' +
	     'largest holders are closed with 1013, a small message still ' +
	     'gets through and the process survives', async () => {
		// 24 connections each hold a 60000-byte frame less its last
		// byte: about 1.5 MiB wanted, 1 MiB allowed
		const LEN = 60000;
		for (let i = 1; i <= 24; i++) {
			const r = await RawWss.open(ims.port,
				{ localAddress: `127.0.1.${i}` });
			raws.push(r);
			assert.match(r.head, /^HTTP\/1\.1 101 /);
			r.write(frameHead(LEN));
			r.write(crypto.randomBytes(LEN - 1));
		}

		// the first close shows the budget is spent; a real client's
		// request after that is answered, and by then imsedge has read
		// every hog's bytes: their close frames are already on the way
		const closed = [];
		const closes = raws.map((r) => r.readClose(5000).then((c) => {
			closed.push(c.code);
		}, () => {}));
		await within(new Promise((resolve) => {
			for (const c of closes)
				c.then(() => closed.length && resolve());
		}), 5000, 'a close frame');
		await assertServed(ims, '127.0.0.11');
		await new Promise((resolve) => setTimeout(resolve, 300));
		assert.ok(closed.length >= 8, `${closed.length} closed`);
		assert.ok(closed.every((c) => c === 1013),
			`close codes: ${closed}`);
		assert.ok(closed.length < 24, 'not all hogs are closed');
		assert.ok(ims.running, 'imsedge is still running');
	});

	test('WWSF: at its connection cap the oldest TLS handshake is ' +
	     'dropped, so the page is still served during a slow-handshake ' +
	     'flood', async () => {
		// from ten addresses, each within its own cap
		const flood = [];
		for (let a = 1; a <= 10; a++)
			flood.push(...await slowSockets(wwsfPort, `127.0.2.${a}`,
				(WWSF_CONNS + 4) / 10));
		socks.push(...flood);
		await closedCount(flood.slice(0, 4), 4, 5000,
			'the oldest WWSF handshakes to be dropped');
		assert.ok(flood.slice(4).every(open), 'the newer ones are kept');

		const r = await httpsGet(wwsfPort);
		assert.equal(r.status, 200);
	});

	test('metrics count the dropped handshakes, the refusals at ' +
	     'accept and the budget', async () => {
		const text = await new Promise((resolve, reject) => {
			http.get({ host: '127.0.0.1', port: metricsPort,
				path: '/metrics' }, (res) => {
				let b = '';
				res.setEncoding('utf8');
				res.on('data', (d) => { b += d; });
				res.on('end', () => resolve(b));
			}).on('error', reject);
		});
		const val = (name) => Number(new RegExp(`^${name} (\\d+)$`, 'm')
			.exec(text)?.[1]);
		// W2: 24 in the flood case (+ those real clients made room
		// for); WWSF: 4
		assert.ok(val('imsedge_handshakes_dropped_total') >= 28, text);
		assert.ok(val('imsedge_connections_refused_total') >=
			300 - PER_ADDR, text);
		assert.ok(val('imsedge_buffer_budget_refusals_total') +
			val('imsedge_buffer_budget_evictions_total') >= 1, text);
		assert.ok(val('imsedge_buffer_budget_bytes') <= BUDGET, text);
	});
});


/**
 * A TCP stream under a TLS client that, once told to hold, forwards
 * every write but its last byte: the TLS record it carries never
 * completes, so the server keeps its record buffers out
 */
class Gate extends Duplex {
	constructor(sock) {
		super();
		this.sock = sock;
		this.hold = false;
		sock.on('data', (d) => this.push(d));
		sock.on('end', () => this.push(null));
		sock.on('close', () => this.destroy());
		sock.on('error', (e) => this.destroy(e));
	}

	_write(chunk, enc, cb) {
		this.sock.write(this.hold ? chunk.subarray(0, -1) : chunk);
		cb();
	}

	_read() {}
}

function rssKiB(pid) {
	return Number(/^VmRSS:\s+(\d+)/m.exec(fs.readFileSync(
		`/proc/${pid}/status`, 'utf8'))[1]);
}

/**
 * An upgraded WSS client (from `from`) that then sends a 16,000-byte
 * frame in one TLS record less its last byte; resolves to its TLS socket
 * and a promise of the error it ends with
 */
async function stalledRecord(port, from) {
	const raw = net.connect({ host: '127.0.0.1', port,
		localAddress: from });
	raw.on('error', () => {});
	await within(once(raw, 'connect'), 3000, `connect from ${from}`);
	const gate = new Gate(raw);
	const s = tls.connect({ socket: gate, ca: CA, servername: 'localhost',
		maxVersion: 'TLSv1.3' });
	const ended = new Promise((resolve) => {
		s.once('error', (e) => resolve(e.code || e.message));
		s.once('close', () => resolve('closed'));
	});
	await within(once(s, 'secureConnect'), 3000, 'TLS handshake');
	let head = '';
	s.setEncoding('latin1');
	const up = new Promise((resolve) => s.on('data', (d) => {
		head += d;
		if (head.includes('\r\n\r\n'))
			resolve(head);
	}));
	s.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
		'Upgrade: websocket\r\nConnection: Upgrade\r\n' +
		`Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}` +
		'\r\nSec-WebSocket-Version: 13\r\n' +
		`Origin: ${ORIGIN}\r\nSec-WebSocket-Protocol: sip\r\n\r\n`);
	assert.match(await within(up, 3000, 'upgrade'), /^HTTP\/1\.1 101 /);
	gate.hold = true;
	s.write(Buffer.concat([frameHead(16000), crypto.randomBytes(16000)]));
	return { s, ended };
}

describe('TLS record buffers in buffer_budget', () => {
	// 1 MiB holds the record buffers of about 36 connections (28 KiB
	// each while a record is moving: 16.7 KB in, 8.5 KB out, room for a
	// ClientHello); 160 clients each leave a record unfinished
	const N = 160;
	let ims, metricsPort;
	const clients = [];

	before(async () => {
		metricsPort = await freePort();
		ims = await startImsedge({
			metrics_listen: `127.0.0.1:${metricsPort}`,
			buffer_budget: BUDGET,
			w2_max_message: MAX_MESSAGE,
			w2_ping_interval: 0,
		});
	});

	after(async () => {
		for (const c of clients)
			c.s.destroy();
		await ims?.stopExpectRunning();
	});

	test('a flood of clients sending large records at once is held to ' +
	     'buffer_budget: the longest-holding are closed with a TLS ' +
	     'internal_error alert and a log line, RSS stays bounded, a new ' +
	     'client is served', async (t) => {
		const metric = async (name) => {
			const text = await new Promise((resolve, reject) => {
				http.get({ host: '127.0.0.1', port: metricsPort,
					path: '/metrics' }, (res) => {
					let b = '';
					res.on('data', (d) => { b += d; });
					res.on('end', () => resolve(b));
				}).on('error', reject);
			});
			return Number(new RegExp(`^${name} (\\d+)$`, 'm')
				.exec(text)?.[1]);
		};
		const rss0 = rssKiB(ims.proc.pid);
		let peak = 0;
		for (let i = 0; i < N; i++) {
			clients.push(await stalledRecord(ims.port,
				`127.0.5.${1 + (i % 200)}`));
			if (i % 20 === 19)
				peak = Math.max(peak, await metric(
					'imsedge_buffer_budget_bytes'));
		}
		await ims.waitLog(/evicting TLS connection with 127\.0\.5\.\d+:\d+: buffer_budget spent/,
			3000, 0);
		const rss1 = rssKiB(ims.proc.pid);

		// about N - 36 evicted, oldest first, each told why
		const ends = await Promise.all(clients.slice(0, 20).map((c) =>
			within(c.ended, 3000, 'an evicted client to end')));
		assert.ok(ends.every((e) => /ALERT_INTERNAL_ERROR/.test(e)),
			`ends: ${ends}`);
		const evicted = await metric('imsedge_buffer_budget_evictions_total');
		assert.ok(evicted >= N - 50 && evicted <= N, `${evicted} evicted`);
		assert.ok(peak <= BUDGET, `budget peak ${peak}`);

		// without the budget: N × 25 KiB of record buffers alone
		assert.ok(rss1 - rss0 < (N * 25) / 2,
			`RSS ${rss0} -> ${rss1} KiB`);

		await assertServed(ims, '127.0.0.1');
		assert.ok(ims.running, 'imsedge is still running');
		t.diagnostic(`RSS ${rss0} -> ${rss1} KiB, ${evicted} evicted, ` +
			`budget peak ${peak} bytes`);
	});
});

// Idle WSS connections hold no TLS record buffers (issue 13): many
// connections are opened and go idle, imsedge's RSS per connection is
// read; then all of them send a large request at once (a quarter of them
// through a socket that cuts every TLS record into small TCP writes, so
// records arrive in pieces), and every answer must come back intact,
// with memory bounded while they do, and the connections still work
// afterwards (the record sequence numbers survived the release).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { Duplex } from 'node:stream';
import {
	startImsedge, WebSocket, WsClient, sipOptions, parseSip, CA, ORIGIN,
	sleep,
} from './helpers.mjs';

const N = 200;                       // connections
const WARM = 50;                     // opened before the first reading
const IDLE_KIB = 12;                 // measured 6-8 (goal 4); 35 before
const T = { timeout: 60000 };

let ims;
const clients = [];

function rssKiB() {
	const s = fs.readFileSync(`/proc/${ims.proc.pid}/status`, 'utf8');
	return Number(s.match(/VmRSS:\s+(\d+)/)[1]);
}

/* A TCP socket whose writes leave in 600-byte pieces, 1 ms apart */
function choppy(port) {
	const raw = net.connect(port, '127.0.0.1');
	raw.setNoDelay(true);
	const d = new Duplex({
		read() {},
		async write(chunk, enc, cb) {
			for (let i = 0; i < chunk.length; i += 600) {
				raw.write(chunk.subarray(i, i + 600));
				await sleep(1);
			}
			cb();
		},
		final(cb) { raw.end(); cb(); },
		destroy(e, cb) { raw.destroy(); cb(e); },
	});
	raw.on('data', (b) => d.push(b));
	raw.on('end', () => d.push(null));
	raw.on('error', (e) => d.destroy(e));
	return d;
}

function open(port, slow) {
	const opts = { origin: ORIGIN, ca: CA, servername: 'localhost',
		handshakeTimeout: 10000 };
	if (slow)
		opts.createConnection = () => tls.connect({ socket: choppy(port),
			ca: CA, servername: 'localhost' });
	const ws = new WebSocket(`wss://127.0.0.1:${port}/`, ['sip'], opts);
	return new Promise((resolve, reject) => {
		ws.once('upgrade', (res) => {
			const c = new WsClient(ws, res);
			ws.once('open', () => resolve(c));
		});
		ws.once('error', reject);
		ws.once('unexpected-response', (q, r) =>
			reject(new Error(`HTTP ${r.statusCode}`)));
	});
}

/* An OPTIONS of about 12 KB whose 3,000-character Call-ID comes back */
function bigOptions(i) {
	const callId = `${i}-${'c'.repeat(3000)}@idle.invalid`;
	return sipOptions({ callId, cseq: 2, body: 'b'.repeat(9000) });
}

before(async () => {
	ims = await startImsedge({ max_connections: N + 16,
		w2_pending_per_address: WARM, w2_connections_per_address: N,
		w2_max_message: 16384, w2_ping_interval: 0,
		w2_handshake_timeout: 10, log_level: 'info' });
});

after(async () => {
	for (const c of clients)
		c.terminate();
	await ims?.stopExpectRunning();
});

test('idle WSS connections release their TLS record buffers, then ' +
     'all send at once with data intact', T, async () => {
	// the first connections also warm up what any connection needs
	// once (heap, PSA key slots, ticket keys): the cost per connection
	// is read over the others
	let rss0;
	for (let i = 0; i < N; i += WARM) {
		const batch = [];
		for (let j = i; j < Math.min(N, i + WARM); j++)
			batch.push(open(ims.port, j % 4 === 0));
		const opened = await Promise.all(batch);
		await Promise.all(opened.map(async (c) => {
			const res = await c.request(sipOptions().text, 10000);
			assert.equal(res.first, 'SIP/2.0 200 OK');
		}));
		clients.push(...opened);
		if (i === 0)
			rss0 = rssKiB();
	}
	const rss1 = rssKiB();
	const idle = (rss1 - rss0) / (N - WARM);
	console.log(`RSS ${rss0} KiB with ${WARM}, ${rss1} KiB with ${N} ` +
		`idle WSS connections: ${idle.toFixed(1)} KiB each`);
	assert.ok(idle <= IDLE_KIB,
		`${idle.toFixed(1)} KiB per idle connection > ${IDLE_KIB}`);

	// all at once: buffers come back for every connection together
	let peak = rss1;
	const watch = setInterval(() => { peak = Math.max(peak, rssKiB()); },
		5);
	try {
		await Promise.all(clients.map(async (c, i) => {
			const req = bigOptions(i);
			const res = await c.request(req.text, 20000);
			assert.equal(res.first, 'SIP/2.0 200 OK');
			assert.deepEqual(res.headers['call-id'], [req.callId]);
			assert.deepEqual(res.headers['cseq'], ['2 OPTIONS']);
		}));
	} finally {
		clearInterval(watch);
	}
	peak = Math.max(peak, rssKiB());
	console.log(`peak RSS while all sent: ${peak} KiB ` +
		`(+${((peak - rss1) / N).toFixed(1)} KiB per connection)`);
	// each holds at most its two record buffers (25 KiB), its 12 KB
	// message and the answer at once
	assert.ok(peak - rss1 <= N * 64, `peak ${peak} KiB`);

	// still in step: the next records decrypt and verify
	await Promise.all(clients.map(async (c) => {
		const res = await c.request(sipOptions({ cseq: 3 }).text, 10000);
		assert.equal(res.first, 'SIP/2.0 200 OK');
	}));
});

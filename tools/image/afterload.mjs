#!/usr/bin/env node
// Memory after load in a board's QEMU test image (issue 13: RSS within
// 10 % of start 60 s after all clients leave, measured on the static musl
// build too). Boots build/BOARD/image (make image BOARD=...), reads
// imsedge's VmRSS from the guest's image-stats lines, then R rounds of N
// WSS clients (each proves it is live with one OPTIONS -> 200) that all
// drop their TCP at once, then the RSS every 10 s for S seconds after the
// last round. Prints figures; asserts nothing (a benchmark, not a test).
// All clients come from 10.0.2.2 (QEMU's user network): N stays under the
// image's w2_connections_per_address (256).
//
//   node tools/image/afterload.mjs [--board armhf] [--clients N=200]
//                                  [--rounds R=3] [--after S=60]

import { createRequire } from 'node:module';
import path from 'node:path';
import { ROOT, sleep, within } from '../../test/integration/helpers.mjs';
import {
	exited, stop, freePort, startGuest, guestPem, guestTls, guestStats,
} from './guest.mjs';

const require = createRequire(path.join(ROOT, 'test', 'package.json'));
const WebSocket = require('ws');

const ORIGIN = 'https://wwsf.test';
const opt = { board: 'armhf', clients: 200, rounds: 3, after: 60 };
for (let i = 2; i < process.argv.length; i += 2) {
	const k = process.argv[i].replace(/^--/, '');
	if (!(k in opt))
		throw new Error(`unknown argument ${process.argv[i]}`);
	opt[k] = k === 'board' ? process.argv[i + 1] : Number(process.argv[i + 1]);
}

function options(i) {
	return `OPTIONS sip:edge.invalid SIP/2.0\r\n` +
		`Via: SIP/2.0/WSS c${i}.invalid;branch=z9hG4bK${i}x\r\n` +
		`Max-Forwards: 70\r\nTo: <sip:edge.invalid>\r\n` +
		`From: <sip:load${i}@example.net>;tag=${i}\r\n` +
		`Call-ID: afterload-${i}\r\nCSeq: 1 OPTIONS\r\n` +
		'Content-Length: 0\r\n\r\n';
}

function open(port, tlsOpts, i) {
	return new Promise((res, rej) => {
		const ws = new WebSocket(`wss://127.0.0.1:${port}/`, 'sip',
			{ origin: ORIGIN, ca: tlsOpts.ca, ...tlsOpts.tlsOptions,
				handshakeTimeout: 60000 });
		ws.on('open', () => ws.send(options(i)));
		ws.on('message', (m) => (String(m).startsWith('SIP/2.0 200') ?
			res(ws) : rej(new Error(String(m).split('\r\n')[0]))));
		ws.on('error', rej);
		ws.on('unexpected-response', (req, r) =>
			rej(new Error(`HTTP ${r.statusCode}`)));
	});
}

const imageDir = path.join(ROOT, 'build', opt.board, 'image');
const hostPort = await freePort();
const g = startGuest({ board: opt.board, imageDir,
	seconds: 240 + opt.rounds * 120 + opt.after, hostPort,
	echo: !!process.env.IMAGE_TEST_LOG,
	cmdline: { stats: 1 } });
try {
	await within(Promise.race([g.con.wait(/^imsedge-ready$/, 180000),
		exited(g.qemu).then(() => { throw new Error('QEMU exited'); })]),
	181000, 'imsedge-ready');
	// the guest's cryptobench runs after ready: let it finish
	await g.con.wait(/^image-cryptobench-end /, 120000).catch(() => {});
	await sleep(2000);
	const rssNow = async () => (await guestStats(g.con, g.con.lines.length,
		5000)).rss;
	const start = await rssNow();
	const tlsOpts = guestTls(guestPem(g.con));
	console.log(`${opt.board}: imsedge VmRSS at start: ${start} kB`);
	for (let r = 1; r <= opt.rounds; r++) {
		const t0 = Date.now();
		const socks = [];
		for (let i = 0; i < opt.clients; i += 10) {
			const batch = [];
			for (let j = i; j < Math.min(opt.clients, i + 10); j++)
				batch.push(open(hostPort, tlsOpts, j));
			socks.push(...await Promise.all(batch));
		}
		const loaded = await rssNow();
		console.log(`round ${r}: ${opt.clients} clients in ` +
			`${((Date.now() - t0) / 1000).toFixed(1)} s, VmRSS ` +
			`${loaded} kB (${((loaded - start) / opt.clients).toFixed(1)} ` +
			'KiB per client)');
		for (const ws of socks)
			ws.terminate();
		await sleep(500);
	}
	for (let t = 0; t <= opt.after; t += 10) {
		const kb = await rssNow();
		console.log(`${t} s after all left: VmRSS ${kb} kB ` +
			`(${(100 * kb / start).toFixed(0)} % of start)`);
		if (t < opt.after)
			await sleep(10000 - 1000);
	}
} finally {
	await stop(g.qemu);
}

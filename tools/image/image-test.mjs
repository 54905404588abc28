// Boot the QEMU test image and register through it.
//
//   IMAGE_BOARD=armhf|mipsel node tools/image/image-test.mjs [IMAGEDIR]
//   (IMAGEDIR default build/BOARD/image; armhf: -M virt, mipsel: -M malta)
//
// Kamailio (the S-CSCF stand-in) runs on the host on 127.0.0.1:KPORT; the
// guest reaches it as 10.0.2.2:KPORT through QEMU's user network (slirp).
// The guest's W2 port 7443 is forwarded to 127.0.0.1:HOSTPORT, and its Mw
// port (UDP) to 127.0.0.1:MWPORT: not needed while imsedge's Via makes
// Kamailio answer through slirp's NAT (verified), but keeps responses sent to
// the Via port at the received address 127.0.0.1 working. A raw SIP-over-WSS
// client registers alice through the guest's eP-CSCF; the guest's own
// certificate (printed on the console by /init) is the only trusted one.
//
// The guest config says `crypto_provider afalg`: imsedge must log
// `crypto: provider afalg` (its known-answer tests passed against the guest
// kernel's ctr(aes)/hmac(sha1)), not the fallback to software. /init then
// runs cryptobench once (2000 packets); its ns/packet figures are printed as
// emulated (QEMU TCG) figures, useful only to compare providers.
//
// Media relay through the guest (afalg): headless Chromium on the host
// loads the test WIC page (test/browser), registers alice through the
// guest and calls carol, a Node IMS UE on the host (test/browser/imsue.mjs,
// registered straight at Kamailio, RTP echo). The guest's AGW advertises
// 127.0.0.1 (media_public, media_core_public; /init's imsedge.mpub) with
// its own port numbers, and QEMU forwards a small UDP range of those
// ports from 127.0.0.1 to the guest: the browser's SRTP is decrypted in
// the guest by the afalg provider and reaches the UE as G.711 RTP that
// carries the browser's audio; the UE's echo comes back to Chromium as
// SRTP the browser decodes (inbound-rtp packets and audio energy). At the
// hang-up imsedge logs the stream's figures: packets both ways and no
// SRTP authentication failure.
//
// Environment: QEMU_SYSTEM (default qemu-system-arm / -mipsel), IMAGE_TEST_TIMEOUT
// (seconds for the whole run, default 180), IMAGE_TEST_LOG=1 echoes the
// console, BROWSER_LOG=1 the page's console.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SipWs, within, sleep } from '../../test/integration/helpers.mjs';
import { ImsUe, parseSdp } from '../../test/browser/imsue.mjs';
import { startServer } from '../../test/browser/server.mjs';
import { Browser } from '../../test/browser/harness.mjs';
import {
	BOARDS, GUEST, Lines, exited, stop, freePort, freeUdpRange, startGuest,
	guestPem, guestTls, guestStats,
} from './guest.mjs';

const board = process.env.IMAGE_BOARD || 'armhf';
const B = BOARDS[board];
if (!B) {
	console.error(`image-test: unknown board ${board}`);
	process.exit(2);
}
const imageDir = path.resolve(process.argv[2] ||
	path.join(ROOT, 'build', board, 'image'));
const qemuBin = process.env.QEMU_SYSTEM || B.qemu;
const totalSec = Number(process.env.IMAGE_TEST_TIMEOUT || 180);
const ORIGIN = 'https://wwsf.test';
const MEDIA_PORTS = 8;

let passed = 0;
let failed = 0;
function ok(cond, what, detail = '') {
	if (cond) {
		passed++;
		console.log(`ok   ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${what}${detail ? `\n${detail}` : ''}`);
	}
	return cond;
}

const started = Date.now();
let kam = null;
let qemu = null;
let sip = null;
let srv = null;
let browser = null;
let ue = null;
let page = null;
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-image-'));
const echo = !!process.env.IMAGE_TEST_LOG;
const kamLog = new Lines('kamailio', echo);
let con = new Lines('console', echo);
let qemuErr = new Lines('qemu', echo);

const guard = setTimeout(() => {
	console.log(`FAIL image-test: overall timeout ${totalSec} s`);
	failed++;
	finish();
}, totalSec * 1000);

let finishing = false;
async function finish() {
	if (finishing)
		return;
	finishing = true;
	clearTimeout(guard);
	try {
		sip?.client?.ws?.terminate();
	} catch { /* closed */ }
	if (failed && page)
		console.log(await page.diagnostics().catch((e) => e.message));
	if (failed && ue)
		console.log(`UE SIP trace:\n${ue.traceText()}\nUE RTP: ${
			JSON.stringify(ue.rtpSnapshot())}`);
	await ue?.close().catch(() => {});
	await browser?.close().catch(() => {});
	await srv?.close().catch(() => {});
	await stop(qemu, 'SIGTERM');
	await stop(kam, 'SIGTERM');
	if (failed && !process.env.KEEP) {
		console.log(`console tail:\n${con.tail(40)}`);
		console.log(`kamailio tail:\n${kamLog.tail(15)}`);
		console.log(`qemu stderr:\n${qemuErr.tail(10)}`);
	}
	if (!process.env.KEEP)
		fs.rmSync(runDir, { recursive: true, force: true });
	else
		console.log(`kept ${runDir}`);
	console.log(`image-test: run time ${((Date.now() - started) / 1000)
		.toFixed(1)} s`);
	console.log(`image-test: ${board}: ${passed} passed, ${failed} failed`);
	process.exit(failed || !passed ? 1 : 0);
}
for (const s of ['SIGINT', 'SIGTERM'])
	process.on(s, () => { failed++; finish(); });

async function main() {
	for (const f of ['vmlinuz', 'initrd.gz']) {
		if (!fs.existsSync(path.join(imageDir, f)))
			throw new Error(`${imageDir}/${f} missing (make image)`);
	}
	const kport = await freePort();
	const hostPort = await freePort();
	let wwsfPort = await freePort();
	while (wwsfPort === kport || wwsfPort === hostPort)
		wwsfPort = await freePort();
	let mwPort = await freePort();
	while ([kport, hostPort, wwsfPort].includes(mwPort))
		mwPort = await freePort();
	const [rmin, rmax] = await freeUdpRange(MEDIA_PORTS);
	const media = Array.from({ length: MEDIA_PORTS }, (_, i) => rmin + i);

	// --- Kamailio and the test page's server on the host ------------------
	srv = await startServer();
	kam = spawn(path.join(ROOT, 'test', 'kamailio', 'start'),
		[String(kport), path.join(runDir, 'kamailio')],
		{ stdio: ['ignore', 'ignore', 'pipe'],
			// Service-Route and Record-Route the guest can reach
			env: { ...process.env, KAMAILIO_ADVERTISE: '10.0.2.2' } });
	kamLog.attach(kam.stderr);
	await within(Promise.race([kamLog.wait(/kamailio ready/, 20000),
		exited(kam).then(() => { throw new Error('Kamailio exited'); })]),
	21000, 'Kamailio');
	ok(true, `Kamailio ready on 127.0.0.1:${kport}`);

	// --- QEMU (Chromium starts meanwhile) ---------------------------------
	const g = startGuest({ board, imageDir, qemuBin, echo,
		seconds: Math.max(30, totalSec - 10), hostPort, wwsfPort,
		udpPorts: [mwPort, ...media],
		cmdline: { kport, mwport: mwPort, stats: 1, rtp: `${rmin}-${rmax}`,
			mpub: '127.0.0.1', origin: srv.origin } });
	({ qemu, con } = g);
	qemuErr = g.err;
	const launching = Browser.launch({ name: 'chromium' });
	launching.catch(() => {});
	const ready = await within(Promise.race([
		con.wait(/^imsedge-ready$/, 120000),
		exited(qemu).then(() => { throw new Error('QEMU exited'); }),
	]), 121000, 'imsedge-ready');
	const bootS = (ready.at - g.t0) / 1000;
	ok(true, `guest booted, imsedge ready after ${bootS.toFixed(1)} s`);
	console.log(`boot-to-ready: ${bootS.toFixed(1)} s`);

	// the guest's certificate, from the console
	const pem = guestPem(con);
	let cert = null;
	try {
		cert = new crypto.X509Certificate(pem);
	} catch { /* reported below */ }
	if (!ok(cert && /IP Address:10\.0\.2\.15/.test(cert.subjectAltName ||
		'') && /CN=imsedge-guest/.test(cert.subject),
	'guest certificate (imsedge -k/-x): CN imsedge-guest, IP:10.0.2.15',
	cert ? `${cert.subject} ${cert.subjectAltName}` : pem))
		throw new Error('no usable guest certificate');
	// --- crypto provider: afalg admitted by its known-answer tests ------
	const cl = con.lines.slice(0, ready.index + 1).map((l) => l.line)
		.filter((l) => /^imsedge: .*crypto: provider /.test(l));
	const fb = cl.find((l) => /provider afalg unavailable/.test(l));
	ok(!fb && cl.some((l) => /crypto: provider afalg$/.test(l)),
		'imsedge selected crypto_provider afalg (KATs passed in the ' +
		'guest kernel, no fallback)', cl.join('\n') || 'no crypto line');
	console.log(`crypto selection (guest log): ${cl.join(' | ')}`);

	// --- cryptobench, once, after ready (emulated figures) ---------------
	const cbb = await con.wait(/^image-cryptobench-begin$/, 5000,
		ready.index + 1);
	const cbe = await con.wait(/^image-cryptobench-end /, 25000, cbb.index);
	const cbl = con.lines.slice(cbb.index + 1, cbe.index).map((l) => l.line);
	const fig = {};
	for (const l of cbl) {
		const f = /^(\S+)\s+(\d+) ns\/packet/.exec(l);
		if (f)
			fig[f[1]] = Number(f[2]);
	}
	const drv = cbl.find((l) => /^image-crypto-drivers: /.test(l));
	if (ok(cbe.line === 'image-cryptobench-end (0)' && fig.software &&
		fig.afalg, 'cryptobench in the guest: software and afalg figures',
	cbl.join('\n'))) {
		console.log(`cryptobench (EMULATED, qemu ${board} TCG; compare ` +
			`providers only), SRTP protect of a 172-byte RTP packet:`);
		for (const [k, v] of Object.entries(fig))
			console.log(`  ${k.padEnd(14)} ${String(v).padStart(8)} ` +
				'ns/packet (emulated)');
		console.log(`  afalg/software: ${(fig.afalg / fig.software)
			.toFixed(1)}x`);
		if (drv)
			console.log(`  kernel drivers: ${drv.replace(
				/^image-crypto-drivers: /, '').trim()}`);
		console.log(`  bench wall time in guest: ${((cbe.at - cbb.at) /
			1000).toFixed(1)} s`);
	}

	// first figures after "ready" and the bench (stats every second)
	const idle = await con.wait(/^image-stats: /, 3000, cbe.index + 1);
	console.log(`idle after start: ${idle.line.replace(/^image-stats: /,
		'')}`);

	// --- register through the guest -------------------------------------
	const kmark = kamLog.lines.length;
	sip = await SipWs.open(hostPort, { origin: ORIGIN, timeout: 10000,
		...guestTls(pem) });
	ok(true, `WSS upgrade at wss://127.0.0.1:${hostPort} ` +
		`(Origin ${ORIGIN}, guest certificate verified)`);
	const { challenge, response } = await sip.register({ user: 'alice',
		password: 'alicepw', ms: 15000 });
	ok(challenge?.status === 401, 'REGISTER -> 401 from Kamailio via ' +
		'the guest', challenge?.text);
	ok(response.status === 200, 'REGISTER with credentials -> 200',
		response.text);
	const pau = response.get('p-associated-uri') || '';
	ok(/sip:alice@ims\.test/.test(pau), '200 has P-Associated-URI ' +
		'alice', response.text);
	const path_ = new RegExp(`REGISTER sip:alice@ims\\.test done \\(Path: ` +
		`<sip:[^>]*@${GUEST.replace(/\./g, '\\.')}:${mwPort};lr`);
	let seen = null;
	try {
		seen = await kamLog.wait(path_, 3000, kmark);
	} catch { /* reported below */ }
	ok(seen, `Kamailio saved alice with the guest's Path ` +
		`(${GUEST}:${mwPort})`, kamLog.tail(10));

	// --- the WWSF's page over HTTPS from the guest (D-51) -----------------
	await wwsfPage(wwsfPort, pem);

	// --- memory figures after a registration ------------------------------
	const st = await guestStats(con, con.lines.length);
	if (ok(st, 'memory figures from the guest console', con.tail(3))) {
		console.log(`imsedge RSS in guest: ${st.rss} kB (peak ${st.hwm} kB)`);
		console.log(`guest memory: total ${st.total} kB, used ${st.used} ` +
			`kB, free ${st.free} kB, available ${st.avail} kB`);
	}

	await mediaRelay(hostPort, kport, [rmin, rmax], launching);
	ok(!con.lines.some((l) => /imsedge exited/.test(l.line)),
		'imsedge still running in the guest');
}

/** Largest RMS (16-bit linear) of a G.711 payload */
/** GET over HTTPS trusting exactly the guest's certificate */
function guestGet(port, pem, p, headers = {}) {
	const { ca, tlsOptions } = guestTls(pem);
	return new Promise((resolve, reject) => {
		const req = https.get({ host: '127.0.0.1', port, path: p, ca,
			...tlsOptions, headers, timeout: 10000 }, (res) => {
			const chunks = [];
			res.on('data', (c) => chunks.push(c));
			res.on('end', () => resolve({ status: res.statusCode,
				headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.on('error', reject);
	});
}

/* The phone page from the guest's WWSF, as a browser fetches it */
async function wwsfPage(port, pem) {
	let page, js;
	try {
		page = await guestGet(port, pem, '/');
		js = await guestGet(port, pem, '/app.js',
			{ 'accept-encoding': 'gzip' });
	} catch (e) {
		ok(false, 'the WWSF page over HTTPS from the guest', e.message);
		return;
	}
	ok(page.status === 200 && /<script src="app\.js"/.test(page.body) &&
		/script-src 'self'/.test(page.headers['content-security-policy'] ||
		'') && /max-age=/.test(page.headers['strict-transport-security'] ||
		''), `the WWSF page over HTTPS from the guest (https://127.0.0.1:${
		port}/: 200, CSP, HSTS; guest certificate verified)`,
	`${page.status} ${JSON.stringify(page.headers)}`);
	ok(js.status === 200 && js.headers['content-encoding'] === 'gzip' &&
		js.body.length > 10000, `the page's app.js, gzip (${
		js.body.length} bytes)`, `${js.status} ${JSON.stringify(js.headers)}`);
}

function g711Rms(pt, data) {
	let sum = 0;
	for (const b of data) {
		const u = ~b & 0xff;
		let v;
		if (pt === 0) {
			const t = (((u & 0x0f) << 3) + 0x84) << ((u & 0x70) >> 4);
			v = u & 0x80 ? 0x84 - t : t - 0x84;
		} else {
			const a = b ^ 0x55;
			const e = (a & 0x70) >> 4;
			let t = (a & 0x0f) << 4;
			t = e ? (t + 0x108) << (e - 1) : t + 8;
			v = a & 0x80 ? t : -t;
		}
		sum += v * v;
	}
	return Math.sqrt(sum / Math.max(1, data.length));
}

/** Chromium calls carol through the guest; SRTP <-> RTP with afalg */
async function mediaRelay(hostPort, kport, [rmin, rmax], launching) {
	const inRange = (p) => p >= rmin && p <= rmax;
	browser = await within(launching, 20000, 'Chromium');
	ue = await ImsUe.start({ kamPort: kport, user: 'carol' });
	// the audio the UE receives: loudest G.711 payload
	let loudest = 0;
	const onRtp = ue.onRtp.bind(ue);
	ue.onRtp = (buf, rinfo) => {
		onRtp(buf, rinfo);
		const pt = buf[1] & 0x7f;
		if (buf.length === 172 && (pt === 0 || pt === 8))
			loudest = Math.max(loudest, g711Rms(pt, buf.subarray(12)));
	};
	await ue.register();
	page = await browser.newPage(srv.pageUrl({
		wss: `wss://127.0.0.1:${hostPort}`, user: 'alice',
		password: 'alicepw', impi: 'alice@ims.test' }), { name: 'alice' });
	const r = await page.call('register');
	if (!ok(r.registration === 'registered', 'Chromium registers alice ' +
		'through the guest', JSON.stringify(r)))
		return;

	const mark = ue.requests.mark();
	const cmark = con.lines.length;
	await page.call('call', 'sip:carol@ims.test');
	const inv = await ue.waitRequest('INVITE', 20000, mark);
	const co = parseSdp(inv.body);
	ok(co.addr === '127.0.0.1' && inRange(co.port) && co.proto === 'RTP/AVP',
		`INVITE at the core: c=127.0.0.1 (media_core_public), port ` +
		`${co.port} in ${rmin}-${rmax}, RTP/AVP`, inv.body);
	const s = await page.waitCall(['connected', 'failed', 'ended'], 20000);
	if (!ok(s.call === 'connected', 'the call from Chromium to carol is ' +
		'connected', JSON.stringify(s)))
		return;
	const { remote } = await page.sdp();
	const cand = remote.split(/\r?\n/).find((l) => /^a=candidate:/.test(l));
	const cf = cand?.split(' ') ?? [];
	ok(cf[4] === '127.0.0.1' && inRange(Number(cf[5])), 'the AGW\'s ' +
		'candidate is 127.0.0.1 (media_public) with its guest port', remote);

	const ue0 = ue.rtpSnapshot();
	const b0 = await page.stats();
	let media = null;
	try {
		media = await page.waitMedia({ packets: 50, ms: 20000, from: b0 });
	} catch (e) {
		ok(false, 'media both ways at the browser', e.message);
		return;
	}
	const ue1 = await ue.waitRtp(50, 5000, ue0).catch((e) => e);
	const b1 = media.to;
	ok(!(ue1 instanceof Error) && ue1.pts.filter((pt) => pt !== 13 &&
		pt !== 101).join() === String(ue.call.pt),
	`the UE gets plain G.711 RTP (PT ${ue.call.pt}) decrypted in the ` +
	'guest', JSON.stringify(ue1));
	ok(loudest > 300, `the RTP carries the browser's audio (loudest ` +
		`payload RMS ${loudest.toFixed(0)})`);
	const t = b1.transport ?? {};
	ok(t.dtlsState === 'connected' &&
		/AES_?128_CM_HMAC_SHA1_80|AES_CM_128_HMAC_SHA1_80/
			.test(t.srtpCipher ?? ''), 'Chromium: DTLS ' +
		`connected, SRTP ${t.srtpCipher} (the afalg suite)`,
	JSON.stringify(t));
	// the echo is the browser's own fake source (a short beep every
	// 500 ms, silence between) and the energy is counted at playout, so
	// it may lag the packet count on a loaded machine: wait up to 8 s
	let b2 = b1;
	const t0 = Date.now();
	const energyOf = (b) => (b.inbound?.totalAudioEnergy ?? 0) -
		(b0.inbound?.totalAudioEnergy ?? 0);
	for (const until = Date.now() + 8000; energyOf(b2) <= 0 &&
		Date.now() < until;) {
		await new Promise((r) => setTimeout(r, 200));
		b2 = await page.stats();
	}
	const rx = b2.inbound.packetsReceived - (b0.inbound?.packetsReceived ??
		0);
	const energy = energyOf(b2);
	ok(rx >= 50 && energy > 0, `Chromium decodes the echo (SRTP from the ` +
		`guest): ${rx} packets, audio energy ${energy.toExponential(2)} (${
		Date.now() - t0} ms after ${b1.inbound.packetsReceived -
		(b0.inbound?.packetsReceived ?? 0)} packets)`, JSON.stringify(b2));

	const bmark = ue.requests.mark();
	await page.call('hangup');
	await ue.waitRequest('BYE', 10000, bmark);
	const sl = await con.wait(/session \S+ stream 0: browser->core/, 10000,
		cmark).catch(() => null);
	// the line goes on with loss and jitter inside each parenthesis
	const m = sl && /browser->core (\d+) pkts \((\d+) dropped, (\d+) SRTP failed[^)]*\), core->browser (\d+) pkts \((\d+) dropped[^)]*\)/
		.exec(sl.line);
	ok(m && Number(m[1]) >= 50 && m[3] === '0' && Number(m[4]) >= 50,
		'imsedge in the guest (afalg): relayed both ways, no SRTP ' +
		'authentication failure', sl?.line ?? con.tail(10));
	if (m)
		console.log(`guest AGW stream: browser->core ${m[1]} pkts (${m[2]} ` +
			`dropped, ${m[3]} SRTP failed), core->browser ${m[4]} pkts ` +
			`(${m[5]} dropped)`);
}

main().catch((err) => {
	failed++;
	console.log(`FAIL ${err.stack || err}`);
}).finally(finish);

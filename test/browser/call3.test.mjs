// Real browser call tests, part 3 (see call.test.mjs for the set-up): the
// IMS-side party is a real, independent SIP UA instead of imsue.mjs.
//
// SIPp (sipp/register.xml) registers carol at the Kamailio S-CSCF with
// Digest, its Contact pointing at a second SIPp (sipp/uas_echo.xml, run
// with -rtp_echo) that answers the page's INVITE with a plain RTP/AVP PCMU
// answer. SIPp cannot count RTP (its statistics have no RTP columns), so
// its SDP advertises the port of a small counting UDP relay in this
// process, in front of SIPp's echo port: the relay counts (and checks) the
// packets the AGW sends, passes them to SIPp, and passes SIPp's echo back
// to the AGW from the advertised port. The browser's getStats() then shows
// inbound packets and bytes rising: media went browser -> AGW -> SIPp and
// back. Checklist items: ../shared/spec/webrtc-ims-digest.md section 8.
//
// Not done: baresip as the IMS-side UA. baresip 1.0.0 (Debian 12's
// baresip-core) registers carol at this Kamailio with Digest, but has no
// file/null audio player (its aufile is a source only; the players are
// sound-card modules), and it advertises the eth0 address in its SDP.
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 test/browser/call3.test.mjs

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
	freeUdpTcpPort, within,
} from '../integration/helpers.mjs';
import { parseSdp } from './imsue.mjs';
import { browserSuite } from './suite.mjs';
import {
	sleep, CALLS, CALL_CONF,
} from './harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCEN = path.join(HERE, 'sipp');
const HAVE_SIPP = spawnSync('sipp', ['-v'], { stdio: 'ignore' }).error ===
	undefined;
const SKIP = !CALLS ? 'call tests need the eIMS-AGW: set IMSEDGE_CALLS=1' :
	!HAVE_SIPP ? 'sipp is not installed' : false;
const [RTP_MIN, RTP_MAX] = CALL_CONF.rtp_ports.split('-').map(Number);
const inRange = (p) => p >= RTP_MIN && p <= RTP_MAX;

const S = browserSuite({ users: ['alice', 'carol'], skip: SKIP });
const { btest } = S;

/** A scenario from sipp/ with its @NAME@ placeholders filled in */
function render(dir, name, vars) {
	let text = fs.readFileSync(path.join(SCEN, `${name}.xml`), 'utf8');
	for (const [k, v] of Object.entries(vars))
		text = text.replaceAll(`@${k}@`, String(v));
	const left = /@[A-Z]+@/.exec(text);
	if (left)
		throw new Error(`${name}.xml: unrendered placeholder ${left[0]}`);
	const file = path.join(dir, `${name}.xml`);
	fs.writeFileSync(file, text);
	return file;
}

/**
 * One SIPp run (-m 1) under timeout(1); resolves its exit code. Its
 * messages, errors and output are in the diagnostics of a failed test.
 */
function sipp(ctx, dir, name, args, limit = 28) {
	const base = path.join(dir, name);
	const p = spawn('timeout', [String(limit), 'sipp', '-sf', `${base}.xml`,
		'-m', '1', '-i', '127.0.0.1', '-nostdin', '-timeout', `${limit - 3}`,
		'-timeout_error', '-trace_msg', '-message_file', `${base}.messages.log`,
		'-trace_err', '-error_file', `${base}.errors.log`,
		'-trace_logs', '-log_file', `${base}.log`, ...args],
	{ cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	p.stdout.on('data', (d) => { out = (out + d).slice(-4000); });
	p.stderr.on('data', (d) => { out = (out + d).slice(-4000); });
	const run = { name, proc: p, base,
		done: new Promise((resolve) => p.once('exit', (code, sig) => {
			run.exit = code ?? sig;
			resolve(run.exit);
		})) };
	const read = (f) => {
		try {
			return fs.readFileSync(f, 'utf8');
		} catch {
			return '';
		}
	};
	run.messages = () => read(`${base}.messages.log`);
	run.log = () => read(`${base}.log`);
	ctx.extra.push({ text: () => `--- SIPp ${name} (exit ${run.exit})\n${
		read(`${base}.errors.log`)}\n${run.log()}\n${run.messages()}\n${
		out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')}` });
	ctx.defer(async () => {
		if (run.exit === undefined) {
			p.kill('SIGTERM'); // timeout(1) passes it on to sipp
			await within(run.done, 3000, `SIPp ${name} exit`).catch(() =>
				p.kill('SIGKILL'));
		}
	});
	return run;
}

/** Until something is bound to 127.0.0.1:port/udp */
async function waitUdpBound(port, ms = 5000) {
	const deadline = Date.now() + ms;
	while (Date.now() < deadline) {
		const s = dgram.createSocket('udp4');
		const free = await new Promise((resolve) => {
			s.once('error', () => resolve(false));
			s.bind(port, '127.0.0.1', () => resolve(true));
		});
		s.close();
		if (!free)
			return;
		await sleep(50);
	}
	throw new Error(`nothing bound to udp port ${port} within ${ms} ms`);
}

/** An even UDP port free with its +1 and +2 (SIPp's -mp binds mp, mp+2) */
async function freeTriple() {
	// not from bind(0): Linux hands out odd ports there
	for (let i = 0; i < 50; i++) {
		const p = 40000 + 2 * Math.floor(Math.random() * 9000);
		const ok = await Promise.all([p, p + 1, p + 2].map((q) =>
			new Promise((resolve) => {
				const s = dgram.createSocket('udp4');
				s.once('error', () => resolve(false));
				s.bind(q, '127.0.0.1', () => { s.close(); resolve(true); });
			})));
		if (ok.every(Boolean))
			return p;
	}
	throw new Error('no free port triple');
}

/**
 * The counting relay: RTP from the AGW to `port` is counted (source,
 * payload type, SSRC) and passed to SIPp's echo port; what SIPp sends
 * back is passed to the AGW from `port`. port+1 takes (and counts) RTCP.
 */
async function rtpRelay(ctx, sippPort) {
	const rtp = dgram.createSocket('udp4');
	const rtcp = dgram.createSocket('udp4');
	const port = await freeTriple();
	await new Promise((r) => rtp.bind(port, '127.0.0.1', r));
	await new Promise((r) => rtcp.bind(port + 1, '127.0.0.1', r));
	const c = { port, fromAgw: 0, fromAgwBytes: 0, echoed: 0, rtcp: 0,
		sources: {}, pts: {}, ssrcs: {}, agw: null };
	rtp.on('message', (msg, rinfo) => {
		if (rinfo.address === '127.0.0.1' && rinfo.port === sippPort) {
			if (c.agw) {
				c.echoed++;
				rtp.send(msg, c.agw.port, c.agw.address);
			}
			return;
		}
		c.agw = rinfo;
		c.fromAgw++;
		c.fromAgwBytes += msg.length;
		const src = `${rinfo.address}:${rinfo.port}`;
		c.sources[src] = (c.sources[src] ?? 0) + 1;
		if (msg.length >= 12 && msg[0] >> 6 === 2) {
			const pt = msg[1] & 0x7f;
			c.pts[pt] = (c.pts[pt] ?? 0) + 1;
			c.ssrcs[msg.readUInt32BE(8).toString(16)] = true;
		}
		rtp.send(msg, sippPort, '127.0.0.1');
	});
	rtcp.on('message', () => { c.rtcp++; });
	c.snapshot = () => ({ port, fromAgw: c.fromAgw, fromAgwBytes:
		c.fromAgwBytes, echoed: c.echoed, rtcp: c.rtcp,
	sources: { ...c.sources }, pts: { ...c.pts },
	ssrcs: Object.keys(c.ssrcs) });
	ctx.extra.push({ text: () => `--- RTP relay: ${
		JSON.stringify(c.snapshot())}` });
	ctx.defer(() => { rtp.close(); rtcp.close(); });
	return c;
}

btest('D-24..D-27, D-33 with a real IMS-side UA: the page calls carol, ' +
	'registered by SIPp (Digest) and answered by SIPp with RTP echo; ' +
	'the relay before SIPp counts G.711 RTP from the AGW, the browser\'s ' +
	'getStats() shows the echo coming back; the browser hangs up and ' +
	'SIPp answers the BYE', { skip: SKIP }, async (t, ctx) => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-call3-'));
	ctx.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
	await S.edge(ctx);

	const uasPort = await freeUdpTcpPort();
	const mediaPort = await freeTriple();
	const relay = await rtpRelay(ctx, mediaPort);

	// the UAS first, so that carol's Contact answers
	render(dir, 'uas_echo', { RPORT: relay.port });
	const uas = sipp(ctx, dir, 'uas_echo', ['-p', String(uasPort),
		'-mp', String(mediaPort), '-rtp_echo']);
	await waitUdpBound(uasPort);
	render(dir, 'register', { USER: 'carol', IMPI: 'carol@ims.test',
		PASS: 'carolpw', CPORT: uasPort, EXPIRES: 600 });
	const regPort = await freeUdpTcpPort();
	const reg = sipp(ctx, dir, 'register', ['-p', String(regPort),
		`127.0.0.1:${S.kam.port}`], 10);
	assert.equal(await reg.done, 0, 'SIPp REGISTER of carol failed');

	const page = await S.registeredPage(ctx,
		{ query: { bundle: 'max-bundle' } });
	await page.call('call', 'sip:carol@ims.test');
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', `the call did not connect: ${
		JSON.stringify(s)}`);

	// D-24..D-27: the INVITE as SIPp got it (through Kamailio)
	const msgs = uas.messages();
	const inv = /INVITE sip:[^\n]*\n[\s\S]*?\r?\n\r?\n(v=0[\s\S]*?)(?:\n\n|-{5,}|$)/
		.exec(msgs);
	assert.ok(inv, `no INVITE with SDP in SIPp's trace:\n${msgs}`);
	const offer = parseSdp(inv[1].replace(/\r?\n/g, '\r\n'));
	const sdpCtx = `INVITE SDP at SIPp:\n${inv[1]}`;
	assert.equal(offer.media, 'audio', sdpCtx);
	assert.match(offer.proto, /^RTP\/AVPF?$/, `D-24: ${sdpCtx}`);
	for (const re of [/^a=setup:/, /^a=fingerprint:/, /^a=ice-ufrag:/,
		/^a=ice-pwd:/, /^a=candidate:/, /^a=group:BUNDLE/, /^a=rtcp-mux/])
		assert.ok(!offer.has(re), `D-25..D-27 ${re}: ${sdpCtx}`);
	assert.equal(offer.addr, CALL_CONF.media_core_addr, sdpCtx);
	assert.ok(inRange(offer.port), `core-side port in rtp_ports: ${sdpCtx}`);
	assert.ok(offer.pts.includes(0), `PCMU offered to the core: ${sdpCtx}`);

	// audio both ways: the browser receives SIPp's echo ...
	const r0 = relay.snapshot();
	const { from, to } = await page.waitMedia({ packets: 25, ms: 8000 });
	// ... and the IMS side counted RTP from the AGW
	const r1 = relay.snapshot();
	t.diagnostic(`browser inbound ${from.inbound?.packetsReceived ?? 0} -> ${
		to.inbound?.packetsReceived} packets, ${from.inbound?.bytesReceived ??
		0} -> ${to.inbound?.bytesReceived} bytes; outbound ${
		from.outbound?.packetsSent ?? 0} -> ${to.outbound?.packetsSent}`);
	t.diagnostic(`IMS side (relay before SIPp): ${JSON.stringify(r1)}`);
	// totals, not the growth since r0: the browser's 25 echoes may
	// include packets the relay counted just before r0
	assert.ok(r1.fromAgw >= 25,
		`too few RTP packets from the AGW: ${JSON.stringify([r0, r1])}`);
	assert.ok(r1.echoed >= 25,
		`SIPp echoed too few packets: ${JSON.stringify([r0, r1])}`);
	// D-33: plain RTP in PCMU, from the AGW's core-side address and port
	assert.deepEqual(Object.keys(r1.pts).filter((pt) => pt !== '13' &&
		pt !== '101'), ['0'], JSON.stringify(r1));
	for (const src of Object.keys(r1.sources)) {
		const [addr, port] = src.split(':');
		assert.equal(addr, CALL_CONF.media_core_addr, src);
		assert.ok(inRange(Number(port)), `source port ${src}`);
	}
	assert.equal(to.transport?.dtlsState, 'connected', JSON.stringify(to));
	assert.match(to.inbound?.codec ?? 'audio/PCMU', /^audio\/PCMU$/i,
		JSON.stringify(to.inbound));

	// the browser hangs up; SIPp gets the BYE, answers 200 and ends cleanly
	await page.call('hangup');
	await page.waitCall('ended', 3000);
	assert.equal(await within(uas.done, 5000, 'SIPp UAS end'), 0,
		'SIPp UAS did not complete (BYE not received?)');
	assert.match(uas.messages(), /BYE sip:carol@127\.0\.0\.1/);
	await sleep(300);
	const a = relay.snapshot();
	await sleep(500);
	const b = relay.snapshot();
	assert.ok(b.fromAgw - a.fromAgw <= 2,
		`RTP still arriving after the call: ${a.fromAgw} -> ${b.fromAgw}`);
});

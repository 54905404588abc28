// Real browser call tests, part 2 (see call.test.mjs for the set-up):
// early media and P-Early-Media (D-38), CANCEL both ways, no common codec
// (488 + Warning 305), emergency calls to the E-CSCF (D-39, also past the
// request rate limit), and a codec change by re-INVITE. Checklist items:
// ../shared/spec/webrtc-ims-digest.md section 8 (D-n = item n).
//
// Not covered: reliable provisionals (100rel/PRACK): JsSIP 3.x has no
// PRACK support, so the browser cannot take part.
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 test/browser/

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import {
	parseSipMessage, sipResponseTo, Waitable,
} from '../integration/helpers.mjs';
import { parseSdp } from './imsue.mjs';
import { browserSuite } from './suite.mjs';
import {
	sleep, CALLS,
} from './harness.mjs';

const USERS = ['alice', 'carol'];
const NEED_CALLS = CALLS ? false :
	'call tests need the eIMS-AGW: set IMSEDGE_CALLS=1';

const S = browserSuite({ users: USERS });
const { btest, edge, wicPage, registeredPage, imsUe } = S;

const rx = (s) => s.inbound?.packetsReceived ?? 0;

/** SIP messages the page received whose first line matches re */
async function pageIn(page, re) {
	const sip = await page.page.evaluate(() => window.wic.sip);
	return sip.filter((m) => m.dir === 'in' && re.test(m.text.split(
		'\r\n', 1)[0]));
}

/** Wait for an imsedge log line from `mark` on; returns it */
function imsLog(ims, re, ms, mark) {
	return ims.waitLog(re, ms, mark);
}

/* ================================================================== */
/* D-38: early media                                                   */
/* ================================================================== */

/**
 * The page calls carol, who answers 183 + SDP (with `pem` as
 * P-Early-Media, if any) and sends RTP at once. Resolves once the
 * browser's DTLS is up on the early answer (so media *could* flow).
 */
async function earlyCall(ctx, pem) {
	await edge(ctx);
	const ue = await imsUe(ctx, { autoAnswer: false,
		early: pem ? { pem } : {} });
	const page = await registeredPage(ctx);
	const mark = ue.requests.mark();
	await page.call('call', 'sip:carol@ims.test');
	await ue.waitRequest('INVITE', 10000, mark);
	await ue.waitCall((e) => e.ev === 'early', 3000, 'the 183');
	const s = await page.waitState((x) => x.call === 'progress' ||
		x.call === 'failed' || x.call === 'ended', 5000, 'the 183');
	assert.equal(s.call, 'progress', JSON.stringify(s));
	assert.equal(s.status, 183, JSON.stringify(s));
	const [p183] = await pageIn(page, /^SIP\/2\.0 183 /);
	assert.ok(p183, 'the 183 did not reach the page');
	assert.match(p183.text, /\r\n\r\nv=0/, 'the 183 reached the page ' +
		`without SDP:\n${p183.text}`);
	// DTLS on the early answer: the media path to the browser is there
	const deadline = Date.now() + 6000;
	let st;
	for (;;) {
		st = await page.stats();
		if (st.transport?.dtlsState === 'connected')
			break;
		assert.ok(Date.now() < deadline, `DTLS did not come up on the ` +
			`early (183) answer: ${JSON.stringify(st)}`);
		await sleep(100);
	}
	return { ue, page };
}

btest('D-38: early media without P-Early-Media is gated: the IMS UE ' +
	'sends RTP after its 183 + SDP; the browser gets none before the 200, ' +
	'and gets it after', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page } = await earlyCall(ctx, null);
	const s0 = await page.stats();
	const u0 = ue.rtpSnapshot();
	await sleep(1500);
	const s1 = await page.stats();
	const u1 = ue.rtpSnapshot();
	assert.ok(u1.sent - u0.sent >= 50, `the UE sent no early media: ${
		JSON.stringify([u0, u1])}`);
	assert.ok(rx(s1) <= 3, `D-38: ${rx(s1)} RTP packets reached the ` +
		`browser before the 200 without P-Early-Media: ${JSON.stringify(
			[s0, s1])}`);
	assert.equal((await page.state()).call, 'progress');

	ue.answer();
	const s = await page.waitCall(['connected', 'failed', 'ended'], 5000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	await page.waitMedia({ packets: 25, ms: 6000 });
	await page.call('hangup');
	await ue.waitCall((e) => e.ev === 'ended', 3000, 'the BYE');
});

btest('D-38: early media with P-Early-Media: sendrecv in the 183 reaches ' +
	'the browser before the 200', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page } = await earlyCall(ctx, 'sendrecv');
	const s0 = await page.stats();
	const deadline = Date.now() + 5000;
	let s1;
	for (;;) {
		s1 = await page.stats();
		if (rx(s1) - rx(s0) >= 25)
			break;
		assert.ok(Date.now() < deadline, `D-38: early media authorized ` +
			`by P-Early-Media did not reach the browser: ${JSON.stringify(
				[s0, s1, ue.rtpSnapshot()])}`);
		await sleep(100);
	}
	assert.equal(ue.call.answered, false, 'the UE answered already');
	assert.equal((await page.state()).call, 'progress');

	ue.answer();
	const s = await page.waitCall(['connected', 'failed', 'ended'], 5000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	await page.waitMedia({ packets: 25, ms: 6000 });
	const r = await ue.bye();
	assert.equal(r.status, 200, r.text);
	await page.waitCall('ended', 3000);
});

/* ================================================================== */
/* CANCEL                                                              */
/* ================================================================== */

btest('CANCEL from the browser: the IMS UE rings and never answers; the ' +
	'page hangs up; the UE gets CANCEL and answers 487; the page\'s call ' +
	'ends; imsedge releases the media', { skip: NEED_CALLS },
async (t, ctx) => {
	const ims = await edge(ctx);
	const ue = await imsUe(ctx, { autoAnswer: false });
	const page = await registeredPage(ctx);
	let mark = ue.requests.mark();
	const imark = ims.mark();
	await page.call('call', 'sip:carol@ims.test');
	await ue.waitRequest('INVITE', 10000, mark);
	await page.waitCall('progress', 5000);     // the 180
	mark = ue.requests.mark();
	await page.call('hangup');
	const cancel = await ue.waitRequest('CANCEL', 3000, mark);
	assert.equal(cancel.get('call-id'), ue.call.callId);
	await ue.waitCall((e) => e.ev === 'ended', 2000, 'the 487');
	const s = await page.waitCall(['failed', 'ended'], 3000);
	assert.equal(s.call, 'failed', JSON.stringify(s));
	assert.equal(s.ended?.cause, 'Canceled', JSON.stringify(s));
	const inv = (await page.page.evaluate(() => window.wic.sip))
		.find((m) => m.dir === 'out' && m.text.startsWith('INVITE '));
	const callId = /\r\nCall-ID: *([^\r]+)/i.exec(inv.text)[1];
	await imsLog(ims, new RegExp(`${callId.replace(/[.*+?^${}()|[\]\\]/g,
		'\\$&')}.*released`), 3000, imark);
	assert.ok((await pageIn(page, /^SIP\/2\.0 487 /)).length,
		'the 487 did not reach the page');
	// the UE never answered: nothing media-wise reached it
	assert.equal(ue.rtpSnapshot().packets, 0);
});

btest('CANCEL from the IMS side: the UE calls the page (no auto-answer) ' +
	'and cancels; the page sees the call end; imsedge releases the media',
{ skip: NEED_CALLS }, async (t, ctx) => {
	const ims = await edge(ctx);
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx);
	const imark = ims.mark();
	const pending = ue.invite('sip:alice@ims.test');
	await page.waitCall('incoming', 5000);
	await ue.waitCall((e) => e.ev === 'provisional' && e.status >= 180,
		3000, 'a 180 from the page');
	const c = await ue.cancel();
	assert.equal(c.status, 200, c.text);
	const { response } = await pending;
	assert.equal(response.status, 487, response.text);
	const s = await page.waitCall(['failed', 'ended'], 3000);
	assert.equal(s.ended?.originator, 'remote', JSON.stringify(s));
	assert.equal(s.ended?.cause, 'Canceled', JSON.stringify(s));
	assert.ok((await pageIn(page, /^CANCEL /)).length,
		'no CANCEL reached the page');
	await imsLog(ims, new RegExp(`${ue.call.callId.replace(/\./g, '\\.')
	}.*released`), 3000, imark);
});

/* ================================================================== */
/* No common codec                                                     */
/* ================================================================== */

btest('488 + Warning 305: with transcoding off, the IMS UE offers only ' +
	'AMR-WB to the page; imsedge refuses it and the page never sees the ' +
	'INVITE', { skip: NEED_CALLS }, async (t, ctx) => {
	await edge(ctx, { transcoding: 'no' });
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx);
	const { response, call } = await ue.invite('sip:alice@ims.test',
		{ pts: [96] });
	assert.equal(parseSdp(call.localOffer.raw).rtpmap[96]?.name, 'AMR-WB');
	assert.equal(response.status, 488, response.text);
	assert.match(response.get('warning') ?? '', /^305 /,
		`no Warning: 305 in\n${response.text}`);
	await sleep(500);
	assert.deepEqual(await pageIn(page, /^INVITE /), [],
		'the INVITE reached the page');
	assert.equal((await page.state()).calls, 0);
});

/* ================================================================== */
/* D-39: emergency                                                      */
/* ================================================================== */

/** A UDP SIP responder standing for the E-CSCF: 100 then 480 to INVITEs */
async function ecscf(ctx, { status = 480, reason = 'Temporarily ' +
	'Unavailable' } = {}) {
	const sock = dgram.createSocket('udp4');
	await new Promise((r) => sock.bind(0, '127.0.0.1', r));
	const e = { port: sock.address().port, requests: new Waitable(
		'a request at the E-CSCF'), trace: [] };
	const answered = new Map();
	sock.on('message', (buf, ri) => {
		const text = buf.toString('utf8');
		if (!text.trim())
			return;
		const m = parseSipMessage(text);
		e.trace.push(text);
		if (!m.isRequest)
			return;
		if (m.method === 'ACK') {
			e.requests.push(m);
			return;
		}
		if (answered.has(m.branch)) {
			sock.send(answered.get(m.branch), ri.port, ri.address);
			return;
		}
		e.requests.push(m);
		let out;
		if (m.method === 'INVITE') {
			sock.send(sipResponseTo(m, 100, 'Trying'), ri.port, ri.address);
			out = sipResponseTo(m, status, reason);
		} else {
			out = sipResponseTo(m, 200, 'OK');
		}
		answered.set(m.branch, out);
		sock.send(out, ri.port, ri.address);
	});
	sock.on('error', () => {});
	ctx.defer(() => sock.close());
	ctx.extra.push({ text: () => `--- E-CSCF responder\n${
		e.trace.join('\n----\n')}` });
	e.hop = `sip:127.0.0.1:${e.port};transport=udp`;
	return e;
}

/** The page calls target; the E-CSCF gets the INVITE, the page its 480 */
async function emergencyCall(ctx, page, e, target, ruri) {
	const { ims } = ctx;
	const mark = e.requests.mark();
	const imark = ims.mark();
	const kmark = S.kam.log.mark();
	const calls0 = (await page.state()).calls;
	await page.call('call', target);
	const inv = await e.requests.wait((m) => m.method === 'INVITE', 5000,
		mark, `the ${target} INVITE at the E-CSCF`);
	assert.equal(inv.ruri, ruri, inv.text);
	await imsLog(ims, /emergency call/, 2000, imark);
	const s = await page.waitState((x) => x.calls > calls0 &&
		['failed', 'ended'].includes(x.call), 5000, 'the call to fail');
	assert.equal(s.status, 480, `the page did not get the E-CSCF's ` +
		`answer: ${JSON.stringify(s)}`);
	// the E-CSCF gets the ACK for its 480 (imsedge's own, hop by hop)
	await e.requests.wait((m) => m.method === 'ACK', 3000, mark,
		'the ACK at the E-CSCF');
	await sleep(200);
	assert.ok(!S.kam.log.items.slice(kmark).some((l) =>
		/originating INVITE/.test(l)),
	`the emergency INVITE went to the S-CSCF:\n${S.kam.log.items.slice(
		kmark).join('\n')}`);
	// not refused by imsedge
	assert.ok(!ims.lines.slice(imark).some((l) => /INVITE .* rejected/
		.test(l)), ims.lines.slice(imark).join('\n'));
	return inv;
}

btest('D-39: emergency calls (urn:service:sos and sip:112@ims.test) go to ' +
	'mw_emergency_next_hop (the E-CSCF), not to the S-CSCF, and are ' +
	'logged as emergency calls', { skip: NEED_CALLS }, async (t, ctx) => {
	const e = await ecscf(ctx);
	await edge(ctx, { mw_emergency_next_hop: e.hop });
	const page = await registeredPage(ctx);
	await emergencyCall(ctx, page, e, 'urn:service:sos', 'urn:service:sos');
	await emergencyCall(ctx, page, e, '112', 'sip:112@ims.test');
});

btest('D-39: with w2_rate_limit 1 and a burst of requests just before, ' +
	'an emergency INVITE (unregistered browser) is not refused with 503 ' +
	'and reaches the E-CSCF', { skip: NEED_CALLS }, async (t, ctx) => {
	const e = await ecscf(ctx);
	await edge(ctx, { mw_emergency_next_hop: e.hop, w2_rate_limit: 1 });
	const page = await wicPage(ctx);
	const c = await page.call('connect');
	assert.equal(c.ws, 'connected', JSON.stringify(c));
	// a burst: one within the limit, the rest refused with 503
	const burst = await page.page.evaluate(() => Promise.all([1, 2, 3, 4]
		.map((i) => window.wic.message('sip:carol@ims.test', `m${i}`))));
	assert.ok(burst.some((r) => r.status === 503),
		`the burst was not rate limited: ${JSON.stringify(burst)}`);
	await emergencyCall(ctx, page, e, 'urn:service:sos', 'urn:service:sos');
	assert.ok(!(await pageIn(page, /^SIP\/2\.0 503 /)).some((m) =>
		/\r\nCSeq: *\d+ INVITE/i.test(m.text)),
	'the emergency INVITE got a 503');
});

/* ================================================================== */
/* Codec change by re-INVITE                                           */
/* ================================================================== */

btest('D-24, D-33: the IMS UE re-INVITEs with the other G.711 law only ' +
	'(codec change, e.g. PCMA); the call goes on with it toward the core ' +
	'and audio both ways',
{ skip: NEED_CALLS }, async (t, ctx) => {
	await edge(ctx);
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx);
	const mark = ue.requests.mark();
	await page.call('call', 'sip:carol@ims.test');
	const inv = await ue.waitRequest('INVITE', 10000, mark);
	const offer = parseSdp(inv.body);
	assert.ok(offer.pts.includes(0) && offer.pts.includes(8),
		`the core offer needs PCMU and PCMA for this test:\n${inv.body}`);
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	await page.waitMedia({ packets: 25, ms: 8000 });
	await ue.waitRtp(25, 4000);
	// the other G.711 law than the one first chosen (PCMA if PCMU)
	const from = ue.call.pt;
	const to = from === 0 ? 8 : 0;

	const r = await ue.reinvite('sendrecv', ue.call, 10000, { pts: [to] });
	assert.equal(r.status, 200, r.text);
	const ans = parseSdp(r.body);
	assert.ok(ans.pts.includes(to) && !ans.pts.includes(from),
		`the answer to a PT ${to}-only re-INVITE:\n${r.body}`);
	assert.equal(ue.call.pt, to);
	await sleep(200);
	ue.resetRtp();
	const u = await ue.waitRtp(25, 5000);
	assert.deepEqual(u.pts.filter((pt) => pt !== 13 && pt !== 101), [to],
		`RTP toward the core after the codec change: ${JSON.stringify(u)}`);
	await page.waitMedia({ packets: 25, ms: 5000 });
	assert.equal((await page.state()).call, 'connected');
	await page.call('hangup');
	await ue.waitCall((x) => x.ev === 'ended', 3000, 'the BYE');
});

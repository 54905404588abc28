// Call records (issue 14): one "cdr:" line per ended call with Call-ID,
// parties, direction, final status, end reason, duration, codec and
// SRTP suite and packets each way -- for each way a call ends: the browser hangs up
// (one BYE at the core, even though the browser closes DTLS first), the
// core hangs up, the core's caller cancels (not "declined"), the
// browser cancels, the browser's WebSocket closes (D-40), the called UE
// declines (603), is busy (486) or does not answer (480).
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 test/browser/cdr.test.mjs

import assert from 'node:assert/strict';
import { browserSuite } from './suite.mjs';
import { CALLS, sleep } from './harness.mjs';

const NEED_CALLS = CALLS ? false :
	'call tests need the eIMS-AGW: set IMSEDGE_CALLS=1';

const S = browserSuite({ users: ['alice', 'carol'] });
const { btest, edge, registeredPage, imsUe } = S;

/** The record of a Call-ID, parsed (key=value words) */
async function cdrOf(ims, callId, ms = 4000) {
	const esc = callId.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	const line = await ims.waitLog(new RegExp(`cdr: callid=${esc} `), ms);
	const rec = { line };
	for (const m of line.matchAll(/(\w+)=(\S+)/g))
		rec[m[1]] = m[2];
	return rec;
}

async function setup(ctx, ueOpts = {}, query = {}) {
	const ims = await edge(ctx);
	const ue = await imsUe(ctx, ueOpts);
	const page = await registeredPage(ctx, { query });
	return { ims, ue, page };
}

/** The page calls carol; up, with media both ways */
async function pageCalls(ue, page) {
	const mark = ue.requests.mark();
	await page.call('call', 'sip:carol@ims.test');
	const inv = await ue.waitRequest('INVITE', 10000, mark);
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	const ue0 = ue.rtpSnapshot();
	await page.waitMedia({ packets: 25, ms: 8000 });
	await ue.waitRtp(25, 4000, ue0);
	return inv.get('call-id');
}

function assertMedia(rec) {
	assert.equal(rec.codec, 'PCMU/8000', rec.line);
	// the SRTP suite toward the browser (the AGW is the DTLS client
	// here: Chromium chooses among the AGW's GCM and AES-CM profiles)
	assert.match(rec.srtp, /^(AEAD_AES_(128|256)_GCM|AES_CM_128_HMAC_SHA1_80)$/,
		rec.line);
	assert.ok(Number(rec.b2c_pkts) >= 25, rec.line);
	assert.ok(Number(rec.c2b_pkts) >= 25, rec.line);
	assert.ok(Number(rec.duration) > 0.3, rec.line);
}

btest('the browser hangs up: end=hangup_browser, one BYE at the core ' +
	'(the DTLS close before it is no failure)', { skip: NEED_CALLS },
async (t, ctx) => {
	const { ims, ue, page } = await setup(ctx);
	const callId = await pageCalls(ue, page);
	await sleep(500);
	const mark = ue.requests.mark();
	const imark = ims.mark();
	await page.call('hangup');
	const rec = await cdrOf(ims, callId);
	assert.equal(rec.dir, 'out', rec.line);
	assert.equal(rec.status, '200', rec.line);
	assert.equal(rec.end, 'hangup_browser', rec.line);
	assert.equal(rec.from, 'sip:alice@ims.test', rec.line);
	assert.equal(rec.to, 'sip:carol@ims.test', rec.line);
	assertMedia(rec);
	await sleep(2500);      // beyond the grace for a BYE after DTLS
	const byes = ue.requests.items.slice(mark)
		.filter((r) => r.method === 'BYE');
	assert.equal(byes.length, 1, 'exactly one BYE at the core');
	assert.ok(!ims.lines.slice(imark).some((l) =>
		/BYE to the core|DTLS failed/.test(l)),
	ims.lines.slice(imark).join('\n'));
});

btest('the browser closes DTLS first, then sends its BYE: a normal ' +
	'hang-up, one BYE at the core; without a BYE: end=dtls_closed',
{ skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, ue, page } = await setup(ctx);
	let callId = await pageCalls(ue, page);
	let mark = ue.requests.mark();
	await page.call('closeMedia');
	await ims.waitLog(/closes \(DTLS closed by the browser\)/, 3000);
	await sleep(300);
	await page.call('hangup');
	let rec = await cdrOf(ims, callId);
	assert.equal(rec.end, 'hangup_browser', rec.line);
	await sleep(2500);
	assert.equal(ue.requests.items.slice(mark)
		.filter((r) => r.method === 'BYE').length, 1, 'one BYE');

	// no BYE after the close: released after the grace, with a BYE
	await sleep(500);
	callId = await pageCalls(ue, page);
	mark = ue.requests.mark();
	await page.call('closeMedia');
	rec = await cdrOf(ims, callId, 5000);
	assert.equal(rec.end, 'dtls_closed', rec.line);
	await ue.waitRequest('BYE', 2000, mark);
});

btest('the core hangs up: end=hangup_core; then (the same page and UE) ' +
	'the UE declines, is busy, does not answer: end=declined (603), ' +
	'busy (486), timeout (480), no media, duration 0',
{ skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, ue, page } = await setup(ctx);
	const callId = await pageCalls(ue, page);
	const r = await ue.bye();
	assert.equal(r.status, 200);
	const rec = await cdrOf(ims, callId);
	assert.equal(rec.end, 'hangup_core', rec.line);
	assert.equal(rec.status, '200', rec.line);
	assertMedia(rec);
	await page.waitCall(['ended', 'failed'], 5000);

	for (const [status, reason, end] of [[603, 'Decline', 'declined'],
		[486, 'Busy Here', 'busy'], [480, 'Temporarily Unavailable',
			'timeout']]) {
		ue.rejectWith = { status, reason };
		const mark = ue.requests.mark();
		await page.call('call', 'sip:carol@ims.test');
		const inv = await ue.waitRequest('INVITE', 10000, mark);
		await page.waitCall(['failed', 'ended'], 5000);
		const r2 = await cdrOf(ims, inv.get('call-id'));
		assert.equal(r2.end, end, r2.line);
		assert.equal(r2.status, String(status), r2.line);
		assert.equal(r2.duration, '0.000', r2.line);
		assert.equal(r2.c2b_pkts, '0', r2.line);
		assert.equal(r2.c2b_lost, '0', r2.line);
		assert.equal(r2.c2b_far_lost, '-', r2.line);
	}
});

btest('the core\'s caller cancels a ringing call: end=cancel, status=487, ' +
	'dir=in (not "declined")', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, ue, page } = await setup(ctx);
	const p = ue.invite('sip:alice@ims.test', { ms: 10000 });
	p.catch(() => {});
	await page.waitCall(['ringing', 'incoming', 'progress'], 8000)
		.catch(() => {});
	await sleep(500);
	const c = await ue.cancel(ue.call);
	assert.equal(c.status, 200, c.text);
	const { response } = await p;
	assert.equal(response.status, 487);
	const rec = await cdrOf(ims, ue.call.callId);
	assert.equal(rec.dir, 'in', rec.line);
	assert.equal(rec.end, 'cancel', rec.line);
	assert.equal(rec.status, '487', rec.line);
	assert.equal(rec.duration, '0.000', rec.line);
	assert.ok(!ims.lines.some((l) => /declined/.test(l)));
});

btest('the browser cancels its ringing call: end=cancel, status=487',
	{ skip: NEED_CALLS }, async (t, ctx) => {
		const { ims, ue, page } = await setup(ctx, { autoAnswer: false });
		const mark = ue.requests.mark();
		await page.call('call', 'sip:carol@ims.test');
		const inv = await ue.waitRequest('INVITE', 10000, mark);
		await sleep(500);
		await page.call('hangup');
		const rec = await cdrOf(ims, inv.get('call-id'));
		assert.equal(rec.dir, 'out', rec.line);
		assert.equal(rec.end, 'cancel', rec.line);
		assert.equal(rec.status, '487', rec.line);
	});

btest('D-40: the WebSocket closes mid-call: end=ws_closed',
	{ skip: NEED_CALLS }, async (t, ctx) => {
		const { ims, ue, page } = await setup(ctx);
		const callId = await pageCalls(ue, page);
		await page.call('closeSocket');
		const rec = await cdrOf(ims, callId);
		assert.equal(rec.end, 'ws_closed', rec.line);
		assertMedia(rec);
	});

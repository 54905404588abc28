// Media addresses (issue 14): media_listen as an interface name gives a
// host candidate per address of it (IPv4 and IPv6) on one port, and an
// IPv6 call: Chromium pairs with the AGW's ::1 candidate, DTLS-SRTP and
// audio both ways. D-28, D-30 (ICE-lite host candidates), D-32, D-33.
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 test/browser/call4.test.mjs

import assert from 'node:assert/strict';
import { parseSdp } from './imsue.mjs';
import { browserSuite } from './suite.mjs';
import { CALLS } from './harness.mjs';

const NEED_CALLS = CALLS ? false :
	'call tests need the eIMS-AGW: set IMSEDGE_CALLS=1';

const S = browserSuite({ users: ['alice', 'carol'] });
const { btest, edge, registeredPage, imsUe } = S;

/** The page calls carol (the IMS UE); the call is up; the AGW's answer */
async function call(ctx, over) {
	const ims = await edge(ctx, over);
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx, {});
	const mark = ue.requests.mark();
	await page.call('call', 'sip:carol@ims.test');
	await ue.waitRequest('INVITE', 10000, mark);
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	const { remote } = await page.sdp();
	const cands = parseSdp(remote).lines
		.filter((l) => l.startsWith('a=candidate:'))
		.map((l) => l.split(' '));
	return { ims, ue, page, remote, cands };
}

async function mediaBothWays(page, ue) {
	const ue0 = ue.rtpSnapshot();
	const { to } = await page.waitMedia({ packets: 25, ms: 8000 });
	await ue.waitRtp(25, 4000, ue0);
	assert.equal(to.transport?.dtlsState, 'connected', JSON.stringify(to));
}

btest('D-30: media_listen lo: a host candidate for 127.0.0.1 and for ::1 ' +
	'on one port; audio both ways', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page, remote, cands } = await call(ctx,
		{ media_listen: 'lo', media_core_addr: '127.0.0.1' });
	const addrs = cands.map((f) => f[4]);
	assert.deepEqual(addrs, ['127.0.0.1', '::1'], remote);
	assert.equal(new Set(cands.map((f) => f[5])).size, 1,
		`one port for both: ${remote}`);
	assert.ok(cands.every((f) => /udp/i.test(f[2]) && f[7] === 'host'),
		remote);
	assert.ok(Number(cands[0][3]) > Number(cands[1][3]),
		`IPv4 first by priority: ${remote}`);
	await mediaBothWays(page, ue);
	await page.call('hangup');
	await page.waitCall('ended', 2000);
});

btest('D-28, D-32, D-33: an IPv6 call: media_listen ::1, the browser pairs ' +
	'with the AGW over IPv6, DTLS-SRTP up and audio both ways', { skip: NEED_CALLS },
async (t, ctx) => {
	const { ims, ue, page, remote, cands } = await call(ctx,
		{ media_listen: '::1', media_core_addr: '127.0.0.1' });
	assert.deepEqual(cands.map((f) => f[4]), ['::1'], remote);
	assert.match(remote, /^c=IN IP6 ::1$/m);
	await mediaBothWays(page, ue);
	// the browser's IPv6 source (its ::1, or another address of this
	// host that it chose to send to ::1 from)
	const up = await ims.waitLog(/DTLS-SRTP up with /, 3000);
	assert.match(up, /DTLS-SRTP up with \[[0-9a-f:]+\]:\d+: [A-Z0-9_]+$/);
	await page.call('hangup');
	await page.waitCall('ended', 2000);
});

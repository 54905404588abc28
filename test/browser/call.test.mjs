// Real browser (headless Chromium + the test WIC page on JsSIP) through
// imsedge to the Kamailio S-CSCF stand-in and a plain IMS UE (imsue.mjs:
// SIP/UDP, RTP/AVP G.711). Checklist items: ../shared/spec/webrtc-ims-digest.md
// section 8 (D-n = item n).
//
// Always: registration through imsedge (D-1, D-4, D-10), a page from an
// Origin imsedge does not allow (D-1), a request from the IMS side reaching
// the page (D-22).
// IMSEDGE_CALLS=1: calls both ways with media through the eIMS-AGW
// (D-24..D-33, D-36, D-40), both DTLS roles, max-bundle and balanced,
// hold/resume, hang-up from each side, WebSocket close and browser death.
//
//   node --test --test-concurrency=1 test/browser/
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 test/browser/

import assert from 'node:assert/strict';
import { parseSdp } from './imsue.mjs';
import { browserSuite } from './suite.mjs';
import {
	Browser, sleep, CALLS, CONSENT_TIMEOUT, CALL_CONF,
} from './harness.mjs';

const USERS = ['alice', 'bob', 'carol'];
const NEED_CALLS = CALLS ? false :
	'call tests need the eIMS-AGW: set IMSEDGE_CALLS=1';
const [RTP_MIN, RTP_MAX] = CALL_CONF.rtp_ports.split('-').map(Number);

const S = browserSuite({ users: USERS });
const { btest, edge, wicPage, registeredPage, imsUe } = S;

/* ================================================================== */
/* Always on                                                           */
/* ================================================================== */

btest('D-1, D-4, D-9: the WIC page registers through imsedge to the ' +
	'S-CSCF (Digest, Path with a flow token); screenshot', {},
async (t, ctx) => {
	const ims = await edge(ctx);
	const page = await wicPage(ctx);
	const kmark = S.kam.log.mark();
	const s = await page.call('register');
	assert.equal(s.registration, 'registered', JSON.stringify(s));
	assert.equal(s.regStatus, 200);
	assert.equal(s.ws, 'connected');

	// D-1: the page's Origin was allowed
	await ims.waitLog(new RegExp(`WebSocket open \\(origin ${
		S.srv.origin.replace(/\./g, '\\.')}`));

	// the browser saw the Digest round trip: REGISTER, 401, REGISTER, 200
	const sip = await page.page.evaluate(() => window.wic.sip);
	const firsts = sip.map((m) => `${m.dir} ${m.text.split('\r\n', 1)[0]}`);
	const regs = sip.filter((m) => m.dir === 'out' &&
		m.text.startsWith('REGISTER '));
	assert.ok(regs.length >= 2, firsts.join('\n'));
	assert.ok(firsts.some((f) => /^in SIP\/2\.0 401 /.test(f)),
		firsts.join('\n'));
	assert.match(regs.at(-1).text, /\r\nAuthorization: Digest [^\r]*username="alice@ims\.test"/i);
	const ok = sip.filter((m) => m.dir === 'in' &&
		m.text.startsWith('SIP/2.0 200 ')).at(-1);
	assert.ok(ok, firsts.join('\n'));
	assert.match(ok.text, /\r\nP-Associated-URI: [^\r]*<sip:alice@ims\.test>/i);
	assert.match(ok.text, /\r\nP-Associated-URI: [^\r]*<tel:\+15550001>/i);
	// D-9: nothing of the IPsec agreement reaches the browser
	assert.doesNotMatch(ok.text, /\r\nSecurity-Server:/i);

	// D-4: the S-CSCF stored the binding with imsedge's flow-token Path
	const line = await S.kam.waitLog(/REGISTER sip:alice@ims\.test done/, 3000,
		kmark);
	assert.match(line, new RegExp(`Path: <sip:fl[0-9a-f]+@127\\.0\\.0\\.1:${
		ims.mwPort};lr;ob>`));

	const shot = await page.screenshot('registered');
	t.diagnostic(`screenshot: ${shot}`);

	const u = await page.call('unregister');
	assert.equal(u.registration, 'unregistered', JSON.stringify(u));
});

btest('D-1: a page from an Origin imsedge does not list gets no ' +
	'WebSocket (HTTP 403) and does not register', {}, async (t, ctx) => {
	const ims = await edge(ctx);
	// the same page and server, reached as https://localhost:PORT: a
	// different Origin from the allowed https://127.0.0.1:PORT
	const page = await wicPage(ctx, { host: 'localhost' });
	const mark = ims.mark();
	const s = await page.call('register', 5000);
	assert.notEqual(s.registration, 'registered', JSON.stringify(s));
	assert.equal(s.ws, 'disconnected', JSON.stringify(s));
	await ims.waitLog(/upgrade rejected with 403/, 3000, mark);
	assert.ok(!ims.lines.slice(mark).some((l) => /WebSocket open/.test(l)),
		'imsedge opened a WebSocket for a disallowed Origin');
});

btest('D-22: a request from the IMS side reaches the page over its ' +
	'registration\'s WebSocket', {}, async (t, ctx) => {
	await edge(ctx);
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx);
	const r = await ue.message('sip:alice@ims.test', 'hello from carol');
	assert.equal(r.status, 200, r.text);
	const log = await page.log();
	const m = log.find((e) => e.ev === 'message');
	assert.ok(m, JSON.stringify(log));
	assert.equal(m.body, 'hello from carol');
	assert.match(m.from, /carol@ims\.test/);
});

/* ================================================================== */
/* Calls (IMSEDGE_CALLS=1)                                             */
/* ================================================================== */

const inRange = (p) => p >= RTP_MIN && p <= RTP_MAX;

/** D-24..D-27 (and D-35's target codecs): SDP as the core must see it */
function assertCoreSdp(text, what) {
	const s = parseSdp(text);
	const ctx = `${what}:\n${text}`;
	assert.equal(s.media, 'audio', ctx);
	assert.match(s.proto, /^RTP\/AVPF?$/, `D-24: ${ctx}`);
	assert.ok(!s.has(/^a=setup:/), `D-24 a=setup: ${ctx}`);
	for (const re of [/^a=fingerprint:/, /^a=tls-id:/, /^a=ice-ufrag:/,
		/^a=ice-pwd:/, /^a=ice-lite/, /^a=ice-options:/, /^a=candidate:/,
		/^a=end-of-candidates/])
		assert.ok(!s.has(re), `D-25 ${re}: ${ctx}`);
	assert.ok(!s.has(/^a=group:BUNDLE/), `D-26: ${ctx}`);
	assert.ok(!s.has(/^a=rtcp-mux/), `D-27: ${ctx}`);
	assert.equal(s.addr, CALL_CONF.media_core_addr, `c= line: ${ctx}`);
	assert.ok(inRange(s.port), `core-side port in rtp_ports: ${ctx}`);
	assert.ok(s.pts.some((pt) => pt === 0 || pt === 8 ||
		['PCMU', 'PCMA'].includes(s.rtpmap[pt]?.name)),
	`D-35: G.711 toward the core: ${ctx}`);
	return s;
}

/** D-28..D-30: SDP as the browser must see it from the AGW */
function assertWicSdp(text, type) {
	const s = parseSdp(text);
	const ctx = `${type} to the browser:\n${text}`;
	assert.equal(s.proto, 'UDP/TLS/RTP/SAVPF', `D-28: ${ctx}`);
	assert.ok(s.has(/^a=fingerprint:sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/i),
		`D-28 fingerprint: ${ctx}`);
	const setup = /^a=setup:(\S+)/m.exec(s.raw)?.[1];
	if (type === 'answer')
		assert.ok(['active', 'passive'].includes(setup), `D-29: ${ctx}`);
	else
		assert.ok(['actpass', 'active', 'passive'].includes(setup),
			`D-28 setup: ${ctx}`);
	assert.ok(s.has(/^a=ice-ufrag:\S+/), `D-30 ufrag: ${ctx}`);
	assert.ok(s.has(/^a=ice-pwd:\S{22,}/), `D-30 pwd: ${ctx}`);
	assert.ok(s.has(/^a=ice-lite/), `D-30 ice-lite: ${ctx}`);
	const cands = s.lines.filter((l) => l.startsWith('a=candidate:'));
	assert.ok(cands.length > 0, `D-30 candidates: ${ctx}`);
	assert.ok(cands.some((c) => {
		const f = c.split(' ');
		return /udp/i.test(f[2]) && f[4] === CALL_CONF.media_listen &&
			inRange(Number(f[5])) && f[7] === 'host';
	}), `D-30 a UDP host candidate on media_listen in rtp_ports: ${ctx}`);
	assert.ok(s.has(/^a=rtcp-mux/), `rtcp-mux toward the browser: ${ctx}`);
	return { s, setup };
}

/** The call's media flows both ways (browser getStats and UE counters) */
async function assertMediaBothWays(page, ue, what) {
	const ue0 = ue.rtpSnapshot();
	const { to } = await page.waitMedia({ packets: 25, ms: 8000 });
	const ue1 = await ue.waitRtp(25, 4000, ue0);
	const call = ue.call;
	// D-33: what the core gets is plain RTP in the negotiated G.711 PT,
	// from the AGW's core-side port
	assert.deepEqual(ue1.pts.filter((pt) => pt !== 13 && pt !== 101)
		.sort(), [call.pt], `${what}: payload types ${JSON.stringify(ue1)}`);
	for (const src of Object.keys(ue1.sources)) {
		const [addr, port] = src.split(':');
		assert.equal(addr, CALL_CONF.media_core_addr, `${what}: ${src}`);
		assert.ok(inRange(Number(port)), `${what}: source port ${src}`);
	}
	assert.equal(to.transport?.dtlsState, 'connected', JSON.stringify(to));
	return { stats: to, ue: ue1 };
}

/** The page calls carol; the call is up with its SDP checked */
async function pageCallsUe(page, ue, { bundle = 'max-bundle' } = {}) {
	const mark = ue.requests.mark();
	await page.call('call', 'sip:carol@ims.test');
	const inv = await ue.waitRequest('INVITE', 10000, mark);
	const coreOffer = assertCoreSdp(inv.body, 'D-24..D-27: INVITE at the core');
	assert.doesNotMatch(inv.get('content-type') ?? '', /multipart/);
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', `the call did not connect: ${
		JSON.stringify(s)}`);
	await ue.waitCall((e) => e.ev === 'ack', 3000, 'the ACK');
	const { local, remote, localType } = await page.sdp();
	assert.equal(localType, 'offer');
	assert.match(local, /^a=setup:actpass/m);
	const { setup } = assertWicSdp(remote, 'answer');
	const log = await page.log();
	assert.equal(log.find((e) => e.ev === 'peerconnection')?.bundlePolicy,
		bundle);
	return { inv, coreOffer, setup };
}

/** carol calls the page (autoanswer=1); the call is up with SDP checked */
async function ueCallsPage(page, ue) {
	const { response, call } = await ue.invite('sip:alice@ims.test');
	assert.equal(response.status, 200, `INVITE from the IMS side: ${
		response.first}\n${response.text}`);
	assertCoreSdp(response.body, 'D-24..D-27: 200 OK at the core');
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	const { local, remote, localType } = await page.sdp();
	assert.equal(localType, 'answer');
	const { setup } = assertWicSdp(remote, 'offer');
	assert.equal(setup, 'actpass', 'the AGW offers actpass to the browser');
	return { call, local, remote };
}

async function callSetup(ctx, { query = {}, on } = {}) {
	const ims = await edge(ctx);
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx, { query, on });
	return { ims, ue, page };
}

/** The SRTP suite the AGW's DTLS-SRTP negotiated (its log), which must
    be the one the browser reports (getStats srtpCipher) */
const SRTP_NAMES = {     // getStats (IANA) -> libre's srtp_suite_name()
	SRTP_AEAD_AES_128_GCM: 'AEAD_AES_128_GCM',
	SRTP_AEAD_AES_256_GCM: 'AEAD_AES_256_GCM',
	SRTP_AES128_CM_HMAC_SHA1_80: 'AES_CM_128_HMAC_SHA1_80',
	SRTP_AES128_CM_HMAC_SHA1_32: 'AES_CM_128_HMAC_SHA1_32',
};
async function assertSrtpSuite(ims, stats) {
	const up = await ims.waitLog(/DTLS-SRTP up with /, 3000);
	const suite = up.match(/: ([A-Z0-9_]+)$/)?.[1];
	assert.equal(SRTP_NAMES[stats.transport.srtpCipher], suite,
		`browser ${JSON.stringify(stats.transport)}, AGW: ${up}`);
	return suite;
}

/** After the call: RTP toward the UE has stopped */
async function assertRtpStopped(ue) {
	await sleep(300);
	const a = ue.rtpSnapshot();
	await sleep(500);
	const b = ue.rtpSnapshot();
	assert.ok(b.packets - a.packets <= 2,
		`RTP still arriving after the call: ${a.packets} -> ${b.packets}`);
}

btest('D-24..D-30, D-32, D-33 (max-bundle): the page calls an IMS UE; ' +
	'RTP/AVP toward the core, DTLS-SRTP toward the browser, audio both ' +
	'ways; the browser hangs up and the UE gets the BYE',
{ skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page } = await callSetup(ctx,
		{ query: { bundle: 'max-bundle' } });
	const { setup } = await pageCallsUe(page, ue, { bundle: 'max-bundle' });
	const { stats } = await assertMediaBothWays(page, ue, 'max-bundle');
	// D-29/D-32: the browser's DTLS role is the opposite of the AGW's
	assert.equal(stats.transport.dtlsRole, setup === 'active' ? 'server' :
		'client', JSON.stringify(stats.transport));

	const mark = ue.requests.mark();
	await page.call('hangup');
	const bye = await ue.waitRequest('BYE', 2000, mark);
	assert.equal(ue.call.endedBy, 'remote');
	assert.ok(bye);
	await page.waitCall('ended', 2000);
	await assertRtpStopped(ue);
});

btest('D-24..D-30, D-33 (balanced): the page calls an IMS UE; audio ' +
	'both ways; the IMS side hangs up and the page ends the call',
{ skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page } = await callSetup(ctx,
		{ query: { bundle: 'balanced' } });
	await pageCallsUe(page, ue, { bundle: 'balanced' });
	await assertMediaBothWays(page, ue, 'balanced');

	const r = await ue.bye();
	assert.equal(r.status, 200, r.text);
	const s = await page.waitCall('ended', 2000);
	assert.equal(s.ended.originator, 'remote', JSON.stringify(s));
	await assertRtpStopped(ue);
});

btest('D-28, D-29, D-32, D-33: the IMS UE calls the page, which ' +
	'auto-answers (browser DTLS client, AGW server); SRTP ' +
	'AEAD_AES_128_GCM (the AGW\'s preference); audio both ways; ' +
	'the IMS side hangs up', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, ue, page } = await callSetup(ctx,
		{ query: { autoanswer: 1 } });
	const { local } = await ueCallsPage(page, ue);
	assert.match(local, /^a=setup:active/m);
	const { stats } = await assertMediaBothWays(page, ue, 'IMS -> browser');
	assert.equal(stats.transport.dtlsRole, 'client',
		JSON.stringify(stats.transport));
	// AGW as DTLS server: Chromium offers AES_CM_128_HMAC_SHA1_80 first,
	// then both AEAD profiles; the AGW's preference (RFC 7714 GCM, our
	// mbedtls patch 0004) wins
	assert.equal(await assertSrtpSuite(ims, stats), 'AEAD_AES_128_GCM');

	const r = await ue.bye();
	assert.equal(r.status, 200, r.text);
	await page.waitCall('ended', 2000);
	await assertRtpStopped(ue);
});

btest('D-32, D-33: the AGW completes DTLS as client: the page answers ' +
	'a=setup:passive (browser DTLS server); audio both ways; the browser ' +
	'hangs up', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, ue, page } = await callSetup(ctx,
		{ query: { autoanswer: 1, dtls: 'passive' } });
	const { local } = await ueCallsPage(page, ue);
	assert.match(local, /^a=setup:passive/m);
	const { stats } = await assertMediaBothWays(page, ue, 'AGW DTLS client');
	assert.equal(stats.transport.dtlsRole, 'server',
		JSON.stringify(stats.transport));
	// AGW as DTLS client: it offers GCM first, the browser (server)
	// chooses; both ends must report the same suite
	t.diagnostic(`Chromium as DTLS server chose ${
		await assertSrtpSuite(ims, stats)}`);

	const mark = ue.requests.mark();
	await page.call('hangup');
	await ue.waitRequest('BYE', 2000, mark);
	await assertRtpStopped(ue);
});

btest('D-24..D-27, D-33: hold and resume by re-INVITE, from the browser ' +
	'and from the IMS side', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page } = await callSetup(ctx);
	await pageCallsUe(page, ue);
	await assertMediaBothWays(page, ue, 'before hold');

	// the browser holds: sendonly (or inactive) reaches the core as a
	// plain RTP/AVP re-INVITE; the UE answers recvonly and stops sending
	let mark = ue.requests.mark();
	assert.equal(await page.call('hold'), true);
	let re = await ue.waitRequest('INVITE', 5000, mark);
	const held = assertCoreSdp(re.body, 're-INVITE (hold) at the core');
	assert.ok(['sendonly', 'inactive'].includes(held.direction), re.body);
	let s = await page.waitState((x) => x.hold.local, 5000, 'local hold');
	await sleep(300);
	const h0 = await page.stats();
	await sleep(1000);
	const h1 = await page.stats();
	// while sendonly, Chromium may drop the inbound-rtp entry: none is
	// no packets received
	const rx = (x) => x.inbound?.packetsReceived ?? 0;
	assert.ok(rx(h1) - rx(h0) <= 3,
		`media to the browser while held: ${JSON.stringify([h0, h1])}`);

	mark = ue.requests.mark();
	assert.equal(await page.call('unhold'), true);
	re = await ue.waitRequest('INVITE', 5000, mark);
	assert.equal(assertCoreSdp(re.body, 're-INVITE (resume) at the core')
		.direction, 'sendrecv');
	s = await page.waitState((x) => !x.hold.local, 5000, 'resumed');
	await assertMediaBothWays(page, ue, 'after resume');

	// the IMS side holds and resumes
	let r = await ue.reinvite('sendonly');
	assert.equal(r.status, 200, r.text);
	assert.equal(assertCoreSdp(r.body, '200 to the hold re-INVITE')
		.direction, 'recvonly');
	s = await page.waitState((x) => x.hold.remote, 5000, 'remote hold');
	r = await ue.reinvite('sendrecv');
	assert.equal(r.status, 200, r.text);
	s = await page.waitState((x) => !x.hold.remote, 5000, 'remote resume');
	await assertMediaBothWays(page, ue, 'after the IMS side resumed');
	assert.equal(s.call, 'connected');

	await page.call('hangup');
	await ue.waitCall((e) => e.ev === 'ended', 2000, 'the end of the call');
});

btest('D-40: the browser\'s WebSocket closes mid-call: the IMS side ' +
	'gets a BYE within 1 s', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ue, page } = await callSetup(ctx);
	await pageCallsUe(page, ue);
	await assertMediaBothWays(page, ue, 'before the close');

	const mark = ue.requests.mark();
	const t0 = Date.now();
	await page.call('closeSocket');
	const bye = await ue.waitRequest('BYE', 3000, mark);
	const ms = bye.at - t0;
	t.diagnostic(`BYE ${ms} ms after the WebSocket close`);
	assert.ok(ms <= 1000, `BYE after ${ms} ms`);
	assert.equal(ue.call.state, 'ended');
	await assertRtpStopped(ue);
});

btest('D-31, D-40: the browser is killed mid-call: the call is released ' +
	`(BYE at the IMS side) within consent_timeout (${CONSENT_TIMEOUT} s)`,
{ skip: NEED_CALLS }, async (t, ctx) => {
	const own = await Browser.launch({ name: 'doomed' });
	ctx.defer(() => own.kill());
	const { ue, page } = await callSetup(ctx, { on: own });
	await pageCallsUe(page, ue);
	await assertMediaBothWays(page, ue, 'before the kill');

	const mark = ue.requests.mark();
	const t0 = Date.now();
	await own.kill();
	const bye = await ue.waitRequest('BYE', CONSENT_TIMEOUT * 1000 + 3000,
		mark);
	const ms = bye.at - t0;
	t.diagnostic(`BYE ${ms} ms after SIGKILL`);
	assert.ok(ms <= CONSENT_TIMEOUT * 1000 + 1000, `BYE after ${ms} ms`);
	ctx.pages.splice(0);
	await assertRtpStopped(ue);
});

btest('D-31, D-40: consent: a live browser keeps the call beyond ' +
	'consent_timeout; a frozen one (SIGSTOP, WebSocket still open) is ' +
	'released after consent_timeout', { skip: NEED_CALLS },
async (t, ctx) => {
	const own = await Browser.launch({ name: 'frozen' });
	ctx.defer(() => own.kill());
	const { ue, page } = await callSetup(ctx, { on: own });
	await pageCallsUe(page, ue);
	await assertMediaBothWays(page, ue, 'before the freeze');

	// D-31: the AGW answers the browser's checks throughout the call
	await sleep(CONSENT_TIMEOUT * 1000 + 1500);
	assert.notEqual(ue.call.state, 'ended',
		'the call was released while the browser was alive');
	const alive = await page.stats();
	assert.equal(alive.transport?.dtlsState, 'connected');
	await assertMediaBothWays(page, ue, 'after consent_timeout');

	const mark = ue.requests.mark();
	const t0 = Date.now();
	assert.ok(own.freeze(), 'could not SIGSTOP the browser');
	ctx.pages.splice(0);      // a frozen page cannot be asked anything
	const bye = await ue.waitRequest('BYE', CONSENT_TIMEOUT * 1000 + 4000,
		mark);
	const ms = bye.at - t0;
	t.diagnostic(`BYE ${ms} ms after the browser froze`);
	// consent runs out consent_timeout after the last check that passed
	// (RFC 7675), and Chromium's checks come up to ~2.5 s apart: the
	// release may come that much before consent_timeout after the freeze
	assert.ok(ms >= CONSENT_TIMEOUT * 1000 - 2600,
		`released after ${ms} ms: before consent could have expired`);
	assert.ok(ctx.ims.lines.some((l) => /no consent from/.test(l)) &&
		ctx.ims.lines.some((l) => /consent expired/.test(l)),
		'imsedge did not log a consent expiry');
	assert.ok(ms <= CONSENT_TIMEOUT * 1000 + 2500, `BYE after ${ms} ms`);
	// the WebSocket is still open: the release came from the media plane
	assert.ok(!ctx.ims.lines.some((l) => /WebSocket closed/.test(l)),
		'the WebSocket closed: not a consent release');
	// its call record says why (issue 14)
	const id = bye.get('call-id').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
	const rec = await ctx.ims.waitLog(new RegExp(`cdr: callid=${id} `),
		1500);
	t.diagnostic(rec);
	assert.match(rec, / end=consent_lost /);
	await own.kill();
});

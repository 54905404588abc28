// Real browser data channels through imsedge: headless Chromium (the test
// WIC page with dc=1, which adds a data channel "chat" to its call) calls
// the IMS UE (imsue.mjs, an edge fake on the core side: it rejects the
// data-channel m-line, as a core without data channels does). The eIMS-AGW
// terminates SCTP over the call's DTLS association and is the browser's
// data-channel peer. Checklist items: ../shared/spec/webrtc-ims-digest.md
// section 8 (D-n = item n).
//
// These tests prove the endpoint (SCTP association, DCEP, limits, close);
// chat (MSRP interworked toward IMS) is msrp.test.mjs.
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 test/browser/dc.test.mjs

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { parseSdp } from './imsue.mjs';
import { browserSuite } from './suite.mjs';
import {
	sleep, CALLS, CONSENT_TIMEOUT, Browser, IDLE_PORTS,
} from './harness.mjs';
import { freePort } from '../integration/helpers.mjs';

const USERS = ['alice', 'bob', 'carol'];
const NEED_CALLS = CALLS ? false :
	'data-channel tests need the eIMS-AGW: set IMSEDGE_CALLS=1';

const S = browserSuite({ users: USERS, skip: !CALLS && NEED_CALLS });
const { btest, edge, registeredPage, imsUe } = S;

/** Poll the page until pred(value of wic[fn]()) holds */
async function until(page, fn, pred, ms, what, ...args) {
	const deadline = Date.now() + ms;
	let v;
	for (;;) {
		v = await page.call(fn, ...args);
		if (pred(v))
			return v;
		assert.ok(Date.now() < deadline, `${what}: ${JSON.stringify(v)}`);
		await sleep(100);
	}
}

/** A connected call from the page (dc=1) to carol; the page and UE */
async function dcCall(ctx, over = {}, dc = '1', on = undefined,
	extra = {}) {
	const ims = await edge(ctx, over);
	const ue = await imsUe(ctx);
	const page = await registeredPage(ctx, { query: { dc, ...extra }, on });
	const mark = ims.mark();
	await page.call('call', 'sip:carol@ims.test');
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	return { ims, ue, page, mark };
}

btest('D-41, D-43: a data channel offered with the call is answered by ' +
	'the AGW (sctp-port, max-message-size), SCTP runs over the call\'s ' +
	'DTLS and the DCEP OPEN is acknowledged; the core sees the m-line ' +
	'rejected', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, ue, page, mark } = await dcCall(ctx);

	// the answer imsedge sent the browser: its own data-channel m-line
	const sip = await page.page.evaluate(() => window.wic.sip);
	const ok = sip.filter((m) => m.dir === 'in' &&
		/^SIP\/2\.0 200 /.test(m.text) && /\r\nm=application /.test(m.text))
		.at(-1);
	assert.ok(ok, 'no 200 with m=application reached the page');
	const app = ok.text.split(/\r\nm=/).find((x) =>
		x.startsWith('application '));
	assert.match(app, /^application [1-9]\d* UDP\/DTLS\/SCTP webrtc-datachannel/);
	assert.match(app, /\r\na=sctp-port:5000\r\n/);
	assert.match(app, /\r\na=max-message-size:65536\r\n/);

	// the core's offer had it rejected, with nothing of SCTP
	const offer = ue.call.remoteSdp.raw;
	assert.match(offer, /\r\nm=application 0 UDP\/DTLS\/SCTP webrtc-datachannel\r\n/);
	assert.doesNotMatch(offer, /a=sctp-port|a=max-message-size/);

	// SCTP up, the channel open: the AGW took the OPEN (D-43)
	const st = await until(page, 'dcState', (x) => x.chat === 'open', 8000,
		'the channel did not open');
	assert.equal(st.chat, 'open');
	const info = await page.call('dcInfo');
	assert.equal(info.state, 'connected', JSON.stringify(info));
	assert.equal(info.maxMessageSize, 65536, JSON.stringify(info));
	await ims.waitLog(/data channel \d+ 'chat' \(-\) open/, 3000, mark);

	// a second channel later, no renegotiation; messages are taken
	await page.call('dcOpen', 'second', 'x-test');
	await until(page, 'dcState', (x) => x.second === 'open', 5000,
		'the second channel did not open');
	await ims.waitLog(/data channel \d+ 'second' \(x-test\) open/, 3000,
		mark);
	await page.call('dcSend', 'chat', 'hello \u00fc\u20ac');
	await ims.waitLog(/data channel \d+: 11 bytes \(string\)/, 3000, mark);

	// audio still flows on the bundled transport
	await page.waitMedia({ packets: 25, ms: 6000 });
	await page.call('hangup');
	await ue.waitCall((e) => e.ev === 'ended', 3000, 'the BYE');
	await ims.waitLog(/SCTP association ended/, 3000, mark);
});

btest('D-46, D-63: a channel the browser closes is reset back by the AGW ' +
	'(Chromium reports it closed only when both directions are reset); ' +
	'a T.140 channel opened by DCEP alone is refused by a stream reset',
{ skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, page, mark } = await dcCall(ctx);
	await until(page, 'dcState', (x) => x.chat === 'open', 8000,
		'the channel did not open');
	await page.call('dcOpen', 'keep');
	await until(page, 'dcState', (x) => x.keep === 'open', 5000,
		'the second channel did not open');

	await page.call('dcClose', 'chat');
	const st = await until(page, 'dcState', (x) => x.chat === 'closed', 5000,
		'the closed channel never reached "closed"');
	assert.equal(st.keep, 'open', JSON.stringify(st));
	await ims.waitLog(/data channel \d+ closed/, 3000, mark);

	// T.140 opened by DCEP alone (no a=dcmap, so no m=text toward the
	// core, RFC 8865): refused by a stream reset, the rest goes on
	await page.call('dcOpen', 'rtt', 't140');
	const st2 = await until(page, 'dcState', (x) => x.rtt === 'closed',
		5000, 'the DCEP T.140 channel was not refused');
	assert.equal(st2.keep, 'open', JSON.stringify(st2));
	await ims.waitLog(/data channel \d+ 'rtt' \(t140\) opened by DCEP: refused/,
		3000, mark);

	// the stream can be used again
	await page.call('dcOpen', 'again');
	await until(page, 'dcState', (x) => x.again === 'open', 5000,
		'a channel after the close did not open');
	await page.call('hangup');
});

btest('D-41: limits: channels beyond max_datachannels are refused by a ' +
	'stream reset; dc_max_message is the a=max-message-size the browser ' +
	'obeys', { skip: NEED_CALLS }, async (t, ctx) => {
	const { ims, page, mark } = await dcCall(ctx, { max_datachannels: 2,
		dc_max_message: 2048 });
	await until(page, 'dcState', (x) => x.chat === 'open', 8000,
		'the channel did not open');
	const info = await page.call('dcInfo');
	assert.equal(info.maxMessageSize, 2048, JSON.stringify(info));

	await page.call('dcOpen', 'two');
	await until(page, 'dcState', (x) => x.two === 'open', 5000,
		'the second channel did not open');
	await page.call('dcOpen', 'three');
	const st = await until(page, 'dcState', (x) => x.three === 'closed',
		5000, 'the channel over the limit was not closed');
	assert.equal(st.chat, 'open', JSON.stringify(st));
	assert.equal(st.two, 'open', JSON.stringify(st));
	await ims.waitLog(/refused: too many channels/, 3000, mark);

	// Chromium itself refuses to send more than the AGW takes
	const big = await page.page.evaluate(() => {
		try {
			window.wic.dcSend('chat', 'x'.repeat(4096));
			return 'sent';
		} catch (e) {
			return e.name;
		}
	});
	assert.equal(big, 'TypeError');
	await page.call('hangup');
});

btest('D-41: datachannel no: the m-line is rejected toward the browser ' +
	'and the audio call goes on', { skip: NEED_CALLS }, async (t, ctx) => {
	const { page } = await dcCall(ctx, { datachannel: 'no' });
	const { remote } = await page.call('sdp');
	const sdp = parseSdp(remote);
	assert.ok(sdp.lines.includes('m=application 0 UDP/DTLS/SCTP ' +
		'webrtc-datachannel'), remote);
	await page.waitMedia({ packets: 25, ms: 6000 });
	await sleep(500);
	const st = await page.call('dcState');
	assert.notEqual(st.chat, 'open', JSON.stringify(st));
	await page.call('hangup');
});

btest('D-41: a data channel added by a re-offer to an audio call runs ' +
	'over the DTLS association already up', { skip: NEED_CALLS },
async (t, ctx) => {
	const { ims, ue, page, mark } = await dcCall(ctx, {}, '0');
	await page.waitMedia({ packets: 25, ms: 6000 });
	const invites = ue.requests.mark();
	const done = await page.call('dcAdd', 'late');
	assert.equal(done, true, 'the re-INVITE failed');
	await ue.waitRequest('INVITE', 3000, invites);
	await until(page, 'dcState', (x) => x.late === 'open', 8000,
		'the channel added by the re-offer did not open');
	await ims.waitLog(/data channel \d+ 'late' \(-\) open/, 3000, mark);
	// one DTLS association all along: no second handshake
	const hs = ims.lines.slice(mark).filter((l) => /DTLS(-SRTP)? up/.test(l));
	assert.equal(hs.length, 1, hs.join('\n'));
	await page.waitMedia({ packets: 25, ms: 6000 });
	await page.call('hangup');
});

/** imsedge_media_ports{state="used"} from metrics_listen */
async function portsUsed(mport) {
	const res = await fetch(`http://127.0.0.1:${mport}/metrics`);
	const m = /^imsedge_media_ports\{state="used"\} (\d+)$/m
		.exec(await res.text());
	assert.ok(m, 'no imsedge_media_ports in the metrics');
	return Number(m[1]);
}

btest('D-40: the browser is killed mid-chat: consent ends the call and ' +
	'the SCTP association with it, its media ports are freed; the next ' +
	'call opens a channel again',
{ skip: NEED_CALLS, timeout: 60000 }, async (t, ctx) => {
	const own = await Browser.launch({ name: 'doomed-dc' });
	ctx.defer(() => own.kill());
	const mport = await freePort();
	const { ims, ue, page, mark } = await dcCall(ctx,
		{ metrics_listen: `127.0.0.1:${mport}` }, '1', own);
	// a browser-side port and a core-side pair, its own or shared
	// (IDLE_PORTS of them are shared and stay when the call ends)
	assert.ok(await portsUsed(mport) >= 3, 'the call holds no ports');
	await until(page, 'dcState', (x) => x.chat === 'open', 8000,
		'the channel did not open');
	await page.call('dcSend', 'chat', 'bye');
	const req = ue.requests.mark();
	await own.kill();
	ctx.pages.splice(0);
	await ue.waitRequest('BYE', CONSENT_TIMEOUT * 1000 + 3000, req);
	await ims.waitLog(/SCTP association ended \(call ended\)/, 3000, mark);
	// the shared ports (taken at start) stay in use
	const idle = IDLE_PORTS;
	for (const end = Date.now() + 3000; await portsUsed(mport) > idle;) {
		assert.ok(Date.now() < end, 'media ports still in use');
		await sleep(100);
	}

	// imsedge goes on: the next call with a data channel (another
	// Chromium: the suite's own one is not used by this test)
	const next = await Browser.launch({ name: 'next-dc' });
	ctx.defer(() => next.kill());
	const page2 = await registeredPage(ctx, { query: { dc: '1' },
		on: next });
	await page2.call('call', 'sip:carol@ims.test');
	const s = await page2.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	await until(page2, 'dcState', (x) => x.chat === 'open', 8000,
		'no channel on the next call');
	await page2.call('hangup');
});

btest('D-44: a channel agreed in SDP (a=dcmap, RFC 8864) is open at the ' +
	'AGW without DCEP: the answer carries the a=dcmap back and the ' +
	'browser\'s messages on it are taken', { skip: NEED_CALLS },
async (t, ctx) => {
	const { ims, page, mark } = await dcCall(ctx, {}, '1', undefined,
		{ dcmap: '6' });
	await ims.waitLog(/data channel 6 'sdp' \(-\) agreed in SDP/, 5000,
		mark);
	const sip = await page.page.evaluate(() => window.wic.sip);
	const ok = sip.filter((m) => m.dir === 'in' &&
		/^SIP\/2\.0 200 /.test(m.text)).at(-1);
	assert.match(ok?.text ?? '', /\r\na=dcmap:6 label="sdp"\r\n/);
	await until(page, 'dcState', (x) => x.sdp === 'open' &&
		x.chat === 'open', 8000, 'the channels did not open');
	await page.call('dcSend', 'sdp', 'over sdp');
	await ims.waitLog(/data channel 6: 8 bytes \(string\)/, 3000, mark);
	await page.call('hangup');
});

/** The a=fingerprint of the section of an SDP whose m-line starts so */
function fingerprintOf(sdp, media) {
	const sec = sdp.split(/\r?\nm=/).find((x) => x.startsWith(media));
	return /\r?\na=fingerprint:(.+?)\r?\n/.exec(sec ?? '')?.[1] ?? null;
}

btest('D-64 (TS 26.114 DCMTSI): core_datachannel relay: a data channel goes end to ' +
	'end between two browsers through imsedge and Kamailio, DTLS and SCTP ' +
	'not terminated (each browser sees the other\'s fingerprint), text ' +
	'both ways byte-exact', { skip: NEED_CALLS, timeout: 60000 },
async (t, ctx) => {
	// alice's offer is relayed toward the core (the config key), bob's
	// leg gets it as a core offer with a data channel (always relayed):
	// both of imsedge's relay paths in one call, real DTLS/SCTP at each
	// end (Chromium); the caller does not bundle (a relayed m-line has
	// its own transport), the callee keeps the page's max-bundle
	const ims = await edge(ctx, { core_datachannel: 'relay' });
	const a = await registeredPage(ctx, { user: 'alice',
		query: { dc: '1', bundle: 'balanced' } });
	const b = await registeredPage(ctx, { user: 'bob',
		query: { autoanswer: '1' } });
	await a.call('call', 'sip:bob@ims.test');
	const s = await a.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));

	await until(b, 'dcState', (x) => x.chat === 'open', 8000,
		'the channel did not reach bob');
	await until(a, 'dcState', (x) => x.chat === 'open', 8000,
		'the channel did not open at alice');

	// the proof: each browser's DTLS peer has the other's certificate
	const [sa, sb] = [await a.call('sdp'), await b.call('sdp')];
	const agw = fingerprintOf(sa.remote, 'audio ');
	const aLocal = fingerprintOf(sa.local, 'application ');
	const bLocal = fingerprintOf(sb.local, 'application ');
	assert.ok(agw && aLocal && bLocal, 'fingerprints missing');
	assert.equal(fingerprintOf(sa.remote, 'application '), bLocal);
	assert.equal(fingerprintOf(sb.remote, 'application '), aLocal);
	assert.notEqual(bLocal, agw);
	assert.notEqual(fingerprintOf(sb.remote, 'audio '), aLocal);
	// not bundled with the media whose DTLS imsedge ends
	assert.doesNotMatch(sb.remote, /a=group:BUNDLE[^\r\n]* 1\b/);
	assert.match(sb.remote, /\r\nm=application [1-9]\d* UDP\/DTLS\/SCTP webrtc-datachannel\r\n/);

	const toB = ['plain', 'grüße 日本語 🙂', 'x'.repeat(20000) + 'é'];
	const toA = ['back', 'ÆØÅ\u2028\u0000end'];
	for (const m of toB)
		await a.call('dcSend', 'chat', m);
	for (const m of toA)
		await b.call('dcSend', 'chat', m);
	const gotB = await until(b, 'dcGot', (x) => x.length >= toB.length,
		5000, 'bob did not get the text', 'chat');
	const gotA = await until(a, 'dcGot', (x) => x.length >= toA.length,
		5000, 'alice did not get the text', 'chat');
	assert.deepEqual(gotB, toB);
	assert.deepEqual(gotA, toA);
	// the AGW's own SCTP endpoint saw none of it
	assert.ok(!ims.lines.some((l) => /data channel \d+ 'chat'/.test(l)),
		'imsedge terminated the channel');
	await a.call('hangup');
});

btest('D-64, D-41: a data-channel m-line that a DC-capable core adds by a ' +
	're-offer to an audio call is relayed to the browser end to end: the ' +
	'page gets the core\'s fingerprint, the core the page\'s, and the ' +
	'page\'s DTLS reaches the core untouched', { skip: NEED_CALLS,
	timeout: 60000 }, async (t, ctx) => {
	// Chromium puts an m-line that its own re-offer adds on the transport
	// of the established BUNDLE group, whose DTLS the AGW ends: that one
	// is terminated (the test above). A core's re-offer is relayed: the
	// AGW offers it on an ICE-lite transport of its own. The core is
	// carol (imsue.mjs, an edge fake without DTLS/SCTP): it receives the
	// page's ClientHello on its data-channel port.
	const ims = await edge(ctx, { core_datachannel: 'relay' });
	const b = await registeredPage(ctx, { user: 'bob',
		query: { autoanswer: '1' } });
	const ue = await imsUe(ctx);
	const mark = ims.mark();
	const { response } = await ue.invite('sip:bob@ims.test');
	assert.equal(response.status, 200);
	assert.doesNotMatch(response.body, /m=application/);
	await b.waitMedia({ packets: 10, ms: 6000 });

	const dcSock = dgram.createSocket('udp4');
	ctx.defer(() => dcSock.close());
	const got = [];
	dcSock.on('message', (m) => got.push(m));
	await new Promise((r) => dcSock.bind(0, '127.0.0.1', r));
	const fpCore = 'sha-256 ' + Array.from({ length: 32 }, (_, i) =>
		(i * 7 + 3).toString(16).padStart(2, '0').toUpperCase()).join(':');
	const r = await ue.reinvite('sendrecv', ue.call, 10000, { rest: [
		`m=application ${dcSock.address().port} UDP/DTLS/SCTP ` +
			'webrtc-datachannel',
		`a=fingerprint:${fpCore}`, 'a=setup:actpass', 'a=sctp-port:5000',
		'a=max-message-size:65536', 'a=dcmap:2 label="late"'] });
	assert.equal(r.status, 200, r.body);

	// the page's SDP: the core's DTLS/SCTP attributes, on a transport of
	// its own (not in the BUNDLE group, not the AGW's fingerprint)
	const sb = await b.call('sdp');
	const agw = fingerprintOf(sb.remote, 'audio ');
	assert.equal(fingerprintOf(sb.remote, 'application '), fpCore);
	assert.notEqual(agw, fpCore);
	const sip = await b.page.evaluate(() => window.wic.sip);
	const reoffer = sip.filter((m) => m.dir === 'in' &&
		/^INVITE /.test(m.text) && /m=application/.test(m.text)).at(-1);
	assert.match(reoffer?.text ?? '', /\r\na=dcmap:2 label="late"\r\n/);
	assert.doesNotMatch(sb.remote, /a=group:BUNDLE[^\r\n]* 1\b/);
	// the core's answer: the page's fingerprint and a core-side port
	const app = r.body.split(/\r\nm=/).find((x) =>
		x.startsWith('application '));
	assert.match(app ?? '', /^application [1-9]\d* UDP\/DTLS\/SCTP webrtc-datachannel/);
	assert.equal(fingerprintOf(r.body, 'application '),
		fingerprintOf(sb.local, 'application '));
	assert.notEqual(fingerprintOf(r.body, 'application '), agw);
	assert.doesNotMatch(app, /a=ice-|a=candidate/);

	// the page (DTLS client: it answered actpass) sends its ClientHello,
	// which the AGW relays to the core's address as it is
	const deadline = Date.now() + 8000;
	while (!got.some((m) => m[0] === 22) && Date.now() < deadline)
		await sleep(100);
	const hello = got.find((m) => m[0] === 22);
	assert.ok(hello, `no DTLS handshake reached the core (${got.length} ` +
		'datagrams)');
	assert.equal(hello[13], 1, 'not a ClientHello');
	assert.ok(!ims.lines.slice(mark).some((l) =>
		/data channel \d+ 'late'|SCTP association/.test(l)),
	'imsedge terminated it');
	await b.waitMedia({ packets: 10, ms: 6000 });
	await ue.bye();
});

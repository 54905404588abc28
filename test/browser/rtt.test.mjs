// Real-time text through imsedge (D-63; D-41, D-44): the browser phone
// (imsedge's WWSF serves it; headless Chromium, clicking and typing like
// a person) calls an IMS UE through imsedge and Kamailio and turns on
// real-time text: the page opens a T.140 data channel agreed in SDP (RFC
// 8865 a=dcmap, by a re-offer), the eIMS-AGW terminates it and speaks
// RFC 4103 RTP text (RED) toward the core, where the core was offered
// `m=text ... RTP/AVP 100 98`.
//
// The IMS side's text terminal is an edge fake (t140ue.mjs, on the Node
// IMS UE of imsue.mjs), not a real RFC 4103 implementation.
//
// One imsedge, one Kamailio, one Chromium, one page for all the steps:
// typed text reaches the IMS side byte-exact (non-ASCII, a BACKSPACE),
// IMS text appears on the page, a packet lost on the RTP side shows as
// U+FFFD after the RFC 4103 wait (1 s), and the same on an emergency
// call (112, straight to mw_emergency_next_hop: the UE stands for it).
// Then the IMS side calls with m=text: the page gets the T.140 channel in
// imsedge's offer.
//
//   IMSEDGE_CALLS=1 node --test test/browser/rtt.test.mjs

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
	Kamailio, UdpSip, BIN, ROOT, tmpDir, freePort,
} from '../integration/helpers.mjs';
import { Browser, startEdge, CALLS, LOGS } from './harness.mjs';
import { ImsUe } from './imsue.mjs';
import { T140Ue, textSection } from './t140ue.mjs';

const T = { timeout: 90000 };
const NO_CALLS = !CALLS && 'calls need the eIMS-AGW: IMSEDGE_CALLS=1';
const WWW = path.join(ROOT, 'build', 'www');

let kam;
let udp;
let browser;
let dir;

before(async () => {
	if (NO_CALLS)
		return;
	execFileSync('make', ['--no-print-directory', '-C', ROOT, 'www'],
		{ stdio: 'ignore' });
	dir = tmpDir();
	execFileSync(BIN, ['-u', path.join(dir, 'users'), 'alice',
		'alice@ims.test', 'sip:alice@ims.test'], { input: 'alicepw\n' });
	execFileSync(BIN, ['-k', path.join(dir, 'token.pem')]);
	[kam, udp] = await Promise.all([Kamailio.start(), UdpSip.open()]);
	browser = await Browser.launch({ name: 'rtt' });
});

after(async () => {
	await browser?.close();
	udp?.close();
	await kam?.stop();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

async function edge(t, over) {
	for (const u of ['alice', 'carol'])
		await udp.unregisterAll(kam.port, u);
	const port = await freePort();
	const origin = `https://127.0.0.1:${port}`;
	const ims = await startEdge({ kam, origin, over: {
		mw_ip: '127.0.0.2',
		wwsf_listen: `127.0.0.1:${port}`,
		wwsf_root: WWW,
		wwsf_users: path.join(dir, 'users'),
		wwsf_origin: origin,
		token_key: path.join(dir, 'token.pem'),
		w2_public_url: 'wss://127.0.0.1:@W2PORT@',
		consent_timeout: 10,
		...over,
	} });
	ims.origin = origin;
	t.after(() => ims.stop());
	return ims;
}

async function phone(t, ims) {
	const ctx = await browser.browser.newContext({ ignoreHTTPSErrors: true,
		viewport: { width: 400, height: 900 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(10000);
	const lines = [];
	page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
	page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
	t.after(async () => {
		if (t.passed === false || process.env.BROWSER_LOG) {
			fs.mkdirSync(LOGS, { recursive: true });
			const trace = await page.evaluate(() => window.imsedgeWic
				.trace().map((m) => `${m.dir}\n${m.text}`).join('\n'))
				.catch(() => '');
			fs.writeFileSync(path.join(LOGS, 'rtt-alice.log'),
				`${lines.join('\n')}\n--- SIP\n${trace}\n--- imsedge\n${
					ims.lines.slice(-300).join('\n')}`);
		}
		await ctx.close().catch(() => {});
	});
	await page.goto(`${ims.origin}/`, { waitUntil: 'load' });
	await page.waitForSelector('#app[data-view="login"]');
	await page.fill('#login-username', 'alice');
	await page.fill('#login-password', 'alicepw');
	await page.click('#btn-login');
	await page.waitForSelector('#reg-status[data-state="registered"]',
		{ timeout: 15000 });
	return page;
}

const callState = (page, st) => page.waitForSelector(
	`#call-state[data-state="${st}"]`, { timeout: 15000 });

/** Serious or critical axe-core violations on the page as it is */
async function axe(page) {
	await page.evaluate(fs.readFileSync(path.join(ROOT, 'test',
		'node_modules', 'axe-core', 'axe.min.js'), 'utf8'));
	const r = await page.evaluate(() => window.axe.run(document, {
		resultTypes: ['violations'] }));
	return r.violations.filter((v) => v.impact === 'serious' ||
		v.impact === 'critical').map((v) => `${v.id}: ${v.help} (${
		v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
}

const remote = (page) => page.textContent('#rtt-remote');

async function remoteIs(page, want, ms = 5000) {
	await page.waitForFunction((w) => document.getElementById('rtt-remote')
		.textContent === w, want, { timeout: ms }).catch(async () => {
		assert.equal(await remote(page), want, 'the page\'s remote text');
	});
}

/** Call `target`, turn real-time text on by keyboard; the core's offer */
async function rttCall(page, ue, fake, target) {
	const n = ue.calls.length;
	await page.fill('#dial-target', target);
	await page.click('#btn-call');
	await callState(page, 'in-call');
	assert.equal(ue.calls.length, n + 1);
	const call = ue.call;
	assert.equal(textSection(call.remoteSdp.raw), null,
		'text offered before the toggle');

	// keyboard: focus the Text button, Enter; focus goes to the text box
	await page.focus('#btn-rtt');
	await page.keyboard.press('Enter');
	await page.waitForSelector('#rtt-panel[data-state="open"]',
		{ timeout: 10000 });
	assert.equal(await page.getAttribute('#btn-rtt', 'aria-pressed'),
		'true');
	assert.equal(await page.evaluate(() => document.activeElement.id),
		'rtt-input');
	assert.equal(call.reinvites.length, 1, 'one re-INVITE');
	const offer = call.reinvites[0].offer.raw;
	const tx = textSection(offer);
	assert.ok(tx && tx.port > 0, `no m=text in the core's offer:\n${offer}`);
	assert.deepEqual(tx.pts, [100, 98]);
	for (const a of ['a=rtpmap:100 red/1000', 'a=rtpmap:98 t140/1000',
		'a=fmtp:100 98/98/98'])
		assert.ok(tx.lines.includes(a), `${a} missing:\n${offer}`);
	assert.doesNotMatch(offer, /webrtc-datachannel|a=dcmap|a=sctp/);
	assert.deepEqual(fake.peer, { address: tx.addr, port: tx.port });

	// what the page offered: the T.140 channel agreed in SDP (RFC 8865)
	const sent = await page.evaluate(() => window.imsedgeWic.trace()
		.filter((m) => m.dir === 'out' && /^INVITE /.test(m.text))
		.at(-1)?.text ?? '');
	assert.match(sent, /\r\nm=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
	assert.match(sent, /\r\na=dcmap:100 label="t140";subprotocol="t140"\r\n/);
	return call;
}

test('D-63, D-41, D-44: real-time text from the browser phone to an ' +
	'IMS UE and back through imsedge and Kamailio (RFC 8865 <-> RFC ' +
	'4103): byte-exact, loss shown as U+FFFD, also on an emergency call',
{ ...T, skip: NO_CALLS }, async (t) => {
	const ue = await ImsUe.start({ kamPort: kam.port, user: 'carol' });
	t.after(() => ue.close());
	const fake = await T140Ue.attach(ue);
	t.after(() => fake.close());
	// standing for the E-CSCF too, the UE record-routes emergency calls
	// (as an E-CSCF does), so that the re-INVITE finds it again
	const dialogHeaders = ue.dialogHeaders.bind(ue);
	ue.dialogHeaders = (call, req) => [...dialogHeaders(call, req),
		...(/^sip:112@/.test(req.ruri) ? [`Record-Route: <sip:127.0.0.1:${
			ue.port};lr>`] : [])];
	const ims = await edge(t, {
		mw_emergency_next_hop: `sip:127.0.0.1:${ue.port};transport=udp` });
	await ue.register();
	const page = await phone(t, ims);

	await rttCall(page, ue, fake, 'carol');

	// the page to the IMS side, typed key by key: byte-exact UTF-8
	const typed = 'Hej på dig – ✓ 😀 ø';
	await page.keyboard.type(typed);
	await fake.waitText((x) => x === typed, 8000, 'the typed text');
	assert.ok(fake.bytes().equals(Buffer.from(typed, 'utf8')));
	// a correction is a T.140 BACKSPACE
	await page.keyboard.press('Backspace');
	await fake.waitText((x) => x === `${typed}\b`, 5000, 'the BACKSPACE');
	assert.deepEqual(fake.errors, []);
	assert.ok(fake.packets.length >= 2 && fake.packets[0].pt === 100 &&
		fake.packets[0].m, JSON.stringify(fake.packets.slice(0, 3)));

	// the IMS side to the page, in RED packets
	fake.send('Hallå från IMS ✓ 😀', { marker: true });
	fake.send(' – ñ');
	await remoteIs(page, 'Hallå från IMS ✓ 😀 – ñ');
	assert.equal(await page.getAttribute('#rtt-remote', 'aria-live'),
		'polite');
	assert.equal(await page.getAttribute('#rtt-remote', 'role'), 'log');
	assert.deepEqual(await axe(page), [], 'the call view with text open');

	// a packet lost on the RTP side, the next one without redundancy:
	// after the wait the page shows U+FFFD in its place
	fake.send('X');
	fake.send('lost', { drop: true });
	const at = Date.now();
	fake.send('Y', { red: false });
	await remoteIs(page, 'Hallå från IMS ✓ 😀 – ñX\uFFFDY', 5000);
	assert.ok(Date.now() - at >= 800, 'the loss was marked before the wait');

	// hold and resume from the page: its re-offers keep the channel
	// (a=dcmap again), the core keeps m=text, text goes on both ways
	await page.click('#btn-hold');
	await callState(page, 'on-hold');
	await page.click('#btn-hold');
	await callState(page, 'in-call');
	const ri = ue.call.reinvites;
	assert.equal(ri.length, 3);
	for (const r of ri.slice(1))
		assert.equal(textSection(r.offer.raw)?.port, fake.peer.port);
	fake.send('!');
	await remoteIs(page, 'Hallå från IMS ✓ 😀 – ñX\uFFFDY!');
	await page.focus('#rtt-input');
	await page.keyboard.type(' ok');
	await fake.waitText((x) => x === `${typed}\b ok`, 5000,
		'text after the hold');

	await page.click('#btn-hangup');
	await callState(page, 'ended');

	// an emergency call: the same, straight to the E-CSCF's hop
	const imark = ims.lines.length;
	fake.chunks.clear();
	await rttCall(page, ue, fake, '112');
	assert.ok(ims.lines.slice(imark).some((l) => /emergency call/.test(l)),
		'not an emergency call at imsedge');
	assert.equal(await remote(page), '', 'the last call\'s text is shown');
	await page.keyboard.type('Help ✓');
	await fake.waitText((x) => x === 'Help ✓', 8000, 'the emergency text');
	fake.send('PSAP: where are you?');
	await remoteIs(page, 'PSAP: where are you?');
	await page.click('#btn-hangup');
	await callState(page, 'ended');

	// the IMS side calls with m=text: the page is offered a data channel
	// with the T.140 channel and has it at once, without a re-offer
	const sdpText = ue.sdpText.bind(ue);
	ue.sdpText = (call, o) => sdpText(call, { ...o, rest: [
		...(o.rest ?? []), `m=text ${fake.port} RTP/AVP 100 98`,
		'a=rtpmap:100 red/1000', 'a=rtpmap:98 t140/1000',
		'a=fmtp:100 98/98/98'] });
	const inv = ue.invite('sip:alice@ims.test');
	await callState(page, 'incoming');
	ue.sdpText = sdpText;
	await page.click('#btn-answer');
	const { call: c3 } = await inv;
	await callState(page, 'in-call');
	const ta = textSection(c3.remoteSdp.raw);
	assert.ok(ta?.port > 0, `no m=text in the answer:\n${c3.remoteSdp.raw}`);
	assert.deepEqual(ta.pts, [100, 98]);
	Object.assign(fake, { peer: { address: ta.addr, port: ta.port },
		latched: null });
	fake.chunks.clear();
	const got = await page.evaluate(() => window.imsedgeWic.trace()
		.filter((m) => m.dir === 'in' && /^INVITE /.test(m.text))
		.at(-1)?.text ?? '');
	assert.match(got, /\r\nm=application \d+ UDP\/DTLS\/SCTP webrtc-datachannel/);
	assert.match(got, /\r\na=dcmap:100 label="t140";subprotocol="t140"\r\n/);
	await page.waitForSelector('#rtt-panel[data-state="open"]',
		{ state: 'attached', timeout: 10000 });
	// text from the IMS side opens the panel
	fake.send('Incoming ✓ ñ', { marker: true });
	await remoteIs(page, 'Incoming ✓ ñ');
	assert.equal(await page.getAttribute('#btn-rtt', 'aria-pressed'),
		'true');
	await page.focus('#rtt-input');
	await page.keyboard.type('svar ø');
	await fake.waitText((x) => x === 'svar ø', 8000, 'the reply');
	assert.equal(c3.reinvites.length, 0);
	await page.click('#btn-hangup');
	await callState(page, 'ended');
});

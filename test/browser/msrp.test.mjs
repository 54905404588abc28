// The browser phone's chat in a call (MSRP over a data channel, RFC 8873)
// interworked by imsedge's eIMS-AGW with MSRP over TCP (RFC 4975) toward
// the IMS side: headless Chromium on the product page (build/www with
// site.json "chat": true) logs in as alice and calls carol through
// imsedge and Kamailio. Carol is imsue.mjs (SIP, G.711) with msrpue.mjs
// answering the m=message line: an EDGE FAKE written for this test, not
// an IMS messaging client. In the first call Kamailio's msrp module
// (test/kamailio/kamailio.cfg, Debian's kamailio package) is an RFC 4976
// relay between the AGW and carol: carol AUTHs to it (digest) and names
// its Use-Path URI first in a=path and in c=/m= (RFC 6714), so the AGW
// connects to the relay and sends with the whole two-URI To-Path; the
// relay answers SENDs hop by hop. Kamailio relays frames of at most
// 10 KB of body (MSRP_MAX_BODY_SIZE), so the 40 KB single chunk that the
// AGW must split goes straight to carol in the second call.
//
// One call carries all the checks (lean): the SDP both ways (D-45), a
// message typed and sent with the keyboard (non-ASCII), one larger than
// a chunk (the page sends 2048-byte chunks), replies through the relay
// (in 1000- and 8000-byte chunks), each byte-exact, and every SEND
// answered. Then carol calls alice (audio only, no relay) and alice opens
// the chat mid-call (the Chat button): the page's re-offer adds the
// data-channel m-line, the core's re-INVITE m=message; a single 40 KB
// chunk is split by the AGW for the data channel; carol then drops her
// MSRP connection and the AGW closes the channel (the chat ends, the
// call goes on).
//
//   IMSEDGE_BIN=build/host/imsedge IMSEDGE_CALLS=1 \
//     node --test test/browser/msrp.test.mjs

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
import { MsrpUe } from './msrpue.mjs';

const T = { timeout: 60000 };
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
	browser = await Browser.launch({ name: 'msrp' });
});

after(async () => {
	await browser?.close();
	udp?.close();
	await kam?.stop();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

async function edge(t) {
	for (const u of ['alice', 'carol'])
		await udp.unregisterAll(kam.port, u);
	const root = path.join(dir, 'www');
	fs.cpSync(WWW, root, { recursive: true });
	fs.rmSync(path.join(root, 'site.json.gz'), { force: true });
	fs.writeFileSync(path.join(root, 'site.json'),
		JSON.stringify({ chat: true }));
	const port = await freePort();
	const origin = `https://127.0.0.1:${port}`;
	const ims = await startEdge({ kam, origin, over: {
		mw_ip: '127.0.0.2',
		wwsf_listen: `127.0.0.1:${port}`,
		wwsf_root: root,
		wwsf_users: path.join(dir, 'users'),
		wwsf_origin: origin,
		token_key: path.join(dir, 'token.pem'),
		w2_public_url: 'wss://127.0.0.1:@W2PORT@',
	} });
	ims.origin = origin;
	t.after(() => ims.stop());
	return ims;
}

async function page(t, ims) {
	const ctx = await browser.browser.newContext({ ignoreHTTPSErrors: true,
		viewport: { width: 400, height: 900 } });
	const p = await ctx.newPage();
	p.setDefaultTimeout(10000);
	const lines = [];
	p.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
	p.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
	t.after(async () => {
		if (t.passed === false || process.env.BROWSER_LOG) {
			fs.mkdirSync(LOGS, { recursive: true });
			const trace = await p.evaluate(() => window.imsedgeWic
				.trace().map((m) => `${m.dir}\n${m.text}`).join('\n'))
				.catch(() => '');
			fs.writeFileSync(path.join(LOGS, 'msrp-alice.log'),
				`${lines.join('\n')}\n--- SIP\n${trace}\n--- imsedge\n${
					ims.lines.slice(-300).join('\n')}`);
		}
		await ctx.close().catch(() => {});
	});
	await p.goto(`${ims.origin}/`, { waitUntil: 'load' });
	await p.waitForSelector('#app[data-view="login"]');
	await p.fill('#login-username', 'alice');
	await p.fill('#login-password', 'alicepw');
	await p.click('#btn-login');
	await p.waitForSelector('#app[data-view="phone"]');
	await p.waitForSelector('#reg-status[data-state="registered"]',
		{ timeout: 15000 });
	return p;
}

const chatLog = (p) => p.evaluate(() =>
	window.imsedgeWic.status.call.chatLog);

test('D-45: the chat of a call: MSRP over a data channel from the page ' +
	'reaches an IMS-side MSRP/TCP endpoint through the AGW byte-exact ' +
	'(non-ASCII, larger than a chunk) and replies reach the page, both ' +
	'ways in chunks; in a second call (incoming, audio only) the chat is ' +
	'opened mid-call by a re-offer', { ...T, skip: NO_CALLS }, async (t) => {
	const t0 = Date.now();
	const at = (what) => t.diagnostic(`${what}: ${Date.now() - t0} ms`);
	const ims = await edge(t);
	at('imsedge up');
	const msrp = await MsrpUe.start();
	t.after(() => msrp.close());
	await msrp.useRelay({ port: kam.port, user: 'carol',
		password: 'carolpw' });
	const relay = msrp.relay.uri;
	assert.match(relay, new RegExp(`^msrp://127\\.0\\.0\\.1:${kam.port}/\\S+;tcp$`));
	const ue = await ImsUe.start({ kamPort: kam.port, user: 'carol' });
	t.after(() => ue.close());
	ue.mediaAnswer = (l, offer) => msrp.answer(l, offer);
	await ue.register();
	const p = await page(t, ims);
	at('registered');

	await p.fill('#dial-target', 'carol');
	await p.click('#btn-call');
	await p.waitForSelector('#call-state[data-state="in-call"]',
		{ timeout: 15000 });
	at('in call');

	// the core's offer: m=message with the AGW's core-side address
	const offer = msrp.offer;
	assert.ok(offer, `no m=message offered: ${ue.call.remoteSdp.raw}`);
	assert.match(offer, /^m=message [1-9]\d* TCP\/MSRP \*\r?\n/);
	assert.match(offer, /\r\nc=IN IP4 127\.0\.0\.1\r\n/);
	assert.match(offer, /\r\na=path:msrp:\/\/127\.0\.0\.1:\d+\/\w+;tcp\r\n/);
	assert.match(offer, /\r\na=accept-types:text\/plain\r\n/);
	assert.match(offer, /\r\na=msrp-cema\r\n/);
	assert.match(offer, /\r\na=setup:actpass\r\n/);
	assert.doesNotMatch(offer, /dcsa|dcmap|;dc\b/);
	// the browser's answer: the channel with the AGW's own path
	const sip = await p.evaluate(() => window.imsedgeWic.trace());
	const ok = sip.filter((m) => m.dir === 'in' &&
		/^SIP\/2\.0 200 /.test(m.text) && /m=application/.test(m.text))
		.at(-1);
	assert.ok(ok, 'no 200 with m=application reached the page');
	assert.match(ok.text, /\r\na=dcmap:1 label="chat";subprotocol="MSRP"\r\n/);
	assert.match(ok.text, /\r\na=dcsa:1 path:msrp:\/\/[^\s]+;dc\r\n/);
	assert.match(ok.text, /\r\na=dcsa:1 accept-types:text\/plain\r\n/);

	// keyboard: type, Enter sends; the log is announced (role=log)
	await p.waitForSelector('#chat-panel:not([hidden])');
	await p.waitForSelector('#chat-text:not([disabled])', { timeout: 10000 });
	at('chat open');
	assert.equal(await p.getAttribute('#chat-log', 'role'), 'log');
	assert.equal(await p.getAttribute('#chat-log', 'aria-live'), 'polite');
	assert.equal(await p.textContent('label[for="chat-text"]'),
		'Chat message');
	const short = 'Grüße aus dem Browser – 你好 🙂';
	await p.focus('#chat-text');
	await p.keyboard.type(short);
	await p.keyboard.press('Enter');
	await msrp.until(() => msrp.messages.length >= 1, 10000, 'message 1');
	assert.ok(msrp.messages[0].body.equals(Buffer.from(short, 'utf8')),
		`got ${msrp.messages[0].body.toString('utf8')}`);
	assert.equal(await p.inputValue('#chat-text'), '');

	// larger than one chunk: 2048-byte chunks from the page
	const big = `${'äöü€🙂 '.repeat(600)}end`;
	await p.fill('#chat-text', big);
	await p.press('#chat-text', 'Enter');
	await msrp.until(() => msrp.messages.length >= 2, 10000, 'message 2');
	const m2 = msrp.messages[1];
	assert.ok(m2.body.equals(Buffer.from(big, 'utf8')), 'message 2 differs');
	assert.ok(m2.chunks >= 3, `${m2.chunks} chunks`);
	assert.match(m2.ctype, /^text\/plain/);
	// through the relay: it took itself off the To-Path and put itself
	// first in the From-Path (RFC 4976); the AGW never connected to carol
	const agwUri = /a=path:(\S+)/.exec(offer)[1];
	const froms = new Set(msrp.requests.map((r) => r.headers['from-path']));
	assert.deepEqual([...froms], [`${relay} ${agwUri}`],
		'From-Path: the relay, then the AGW\'s core-side URI');
	assert.deepEqual([...new Set(msrp.requests.map((r) =>
		r.headers['to-path']))], [msrp.path]);
	assert.equal(msrp.accepted ?? 0, 0, 'the AGW connected to carol');

	at('two messages received at the IMS side');

	// replies through the relay, with the two-URI To-Path: one in
	// 1000-byte chunks, one of 40 KB in 8000-byte chunks
	const reply1 = `Antwort: ${'ünïcødé ✓ '.repeat(200)}`;
	const reply2 = `${'x€'.repeat(10000)}Ω${'y'.repeat(10000)}`;
	msrp.send(reply1, { chunk: 1000 });
	msrp.send(reply2, { chunk: 8000 });
	const deadline = Date.now() + 10000;
	let log;
	for (;;) {
		log = await chatLog(p);
		if (log.length >= 4 || Date.now() > deadline)
			break;
		await new Promise((r) => setTimeout(r, 100));
	}
	assert.equal(log.length, 4, JSON.stringify(log.map((m) => m.dir)));
	assert.deepEqual(log.map((m) => m.dir), ['out', 'out', 'in', 'in']);
	assert.equal(log[2].text, reply1);
	assert.equal(log[3].text, reply2);
	const shown = await p.$$eval('#chat-log li', (li) =>
		li.map((x) => x.textContent));
	assert.equal(shown.length, 4);
	assert.ok(shown[3].endsWith(reply2.slice(-50)));

	// every SEND chunk of the IMS side was answered 200, once (by the
	// relay, hop by hop)
	const sentTids = msrp.sent;
	await msrp.until(() => sentTids.every((x) => msrp.responses.some(
		(r) => r.tid === x)), 5000, '200 for every chunk');
	assert.ok(msrp.responses.every((r) => r.status === 200));
	assert.equal(msrp.responses.length, sentTids.length);

	at('replies shown');
	await p.click('#btn-hangup');
	await p.waitForSelector('#call-state[data-state="ended"]');
	at('ended');

	// chat opened mid-call: carol calls, alice answers (audio only),
	// then opens the chat; the page re-offers with a data-channel m-line
	// added (bundled on the DTLS already up) and the core's re-INVITE
	// gains m=message (D-45 on a re-offer)
	const msrp2 = await MsrpUe.start();
	t.after(() => msrp2.close());
	ue.mediaAnswer = (l, o) => msrp2.answer(l, o);
	const inv = ue.invite('sip:alice@ims.test');
	await p.waitForSelector('#btn-answer:not([disabled])', { timeout: 10000 });
	await p.click('#btn-answer');
	const { response } = await inv;
	assert.equal(response.status, 200);
	assert.doesNotMatch(response.body, /m=application/);
	await p.waitForSelector('#call-state[data-state="in-call"]');
	assert.equal(await p.isHidden('#chat-panel'), true);
	await p.click('#btn-chat');
	await p.waitForSelector('#chat-text:not([disabled])', { timeout: 10000 });
	at('chat opened by a re-offer');
	const re = ue.call.reinvites.filter((r) => r.dir === 'in');
	assert.equal(re.length, 1);
	assert.match(re[0].offer.raw, /\r\nm=audio [1-9]\d* RTP\/AVP /);
	assert.match(msrp2.offer ?? '', /^m=message [1-9]\d* TCP\/MSRP \*/);
	const hi = 'mitten im Gespräch ✓';
	await p.fill('#chat-text', hi);
	await p.press('#chat-text', 'Enter');
	await msrp2.until(() => msrp2.messages.length >= 1, 10000, 'mid-call');
	assert.ok(msrp2.messages[0].body.equals(Buffer.from(hi, 'utf8')));
	// straight to carol (no relay): a single 40 KB chunk that the AGW
	// splits for the data channel (16 KiB a message)
	msrp2.send('und zurück ✓');
	msrp2.send(reply2, { chunk: 65536 });
	for (const end = Date.now() + 10000; ;) {
		log = await chatLog(p);
		if (log.length >= 3 || Date.now() > end)
			break;
		await new Promise((r) => setTimeout(r, 100));
	}
	assert.deepEqual(log.map((m) => [m.dir, m.text]),
		[['out', hi], ['in', 'und zurück ✓'], ['in', reply2]]);
	assert.equal(msrp2.accepted, 1);

	// the IMS side drops its connection: the AGW closes the channel
	// toward the page (stream reset, D-46), whose chat ends; the call
	// goes on
	msrp2.close();
	await p.waitForSelector('#chat-text[disabled]', { timeout: 5000 });
	assert.equal(await p.evaluate(() =>
		window.imsedgeWic.status.call.chat), 'closed');
	assert.equal(await p.getAttribute('#call-state', 'data-state'),
		'in-call');
	await p.click('#btn-hangup');
	await p.waitForSelector('#call-state[data-state="ended"]');
	at('second call ended');
});

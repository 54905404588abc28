// The product: imsedge's own WWSF serves the browser phone (src/wic,
// built into build/www) over HTTPS; a person logs in, the page registers
// with its token (TNA toward Kamailio), and two pages call each other
// through imsedge and Kamailio with audio both ways. Headless Chromium,
// the real page, clicks like a user. Checklist items: D-11, D-16, D-18,
// D-19, D-20, D-51 (and the call items for WIC-to-WIC media).
//
// Screenshots (login, registered, in call) go to
// build/browser/screenshots/wwsf-*.png; README links copies in
// docs/screenshots/.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
	Kamailio, UdpSip, BIN, ROOT, freePort, tmpDir,
} from '../integration/helpers.mjs';
import {
	Browser, startEdge, sleep, within, CALLS, SCREENSHOTS, LOGS,
} from './harness.mjs';

const T = { timeout: 60000 };
const WWW = path.join(ROOT, 'build', 'www');
const USERS = ['alice', 'bob'];

let kam;
let udp;
let browser;
let dir;

before(async () => {
	execFileSync('make', ['--no-print-directory', '-C', ROOT, 'www'],
		{ stdio: 'ignore' });
	dir = tmpDir();
	for (const u of [...USERS, 'carol'])
		execFileSync(BIN, ['-u', path.join(dir, 'users'), u,
			`${u}@ims.test`, `sip:${u}@ims.test`],
		{ input: `${u}pw\n` });
	execFileSync(BIN, ['-k', path.join(dir, 'token.pem')]);
	[kam, udp] = await Promise.all([Kamailio.start(), UdpSip.open()]);
	browser = await Browser.launch({ name: 'wwsf' });
});

after(async () => {
	await browser?.close();
	udp?.close();
	await kam?.stop();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

/** imsedge with its WWSF on a known port (the origin names it) */
async function edge(t, over = {}) {
	for (const u of [...USERS, 'carol'])
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
		identity_pool: 'guests sip:guest{1-3}@ims.test',
		...over,
	} });
	ims.origin = origin;
	t.after(() => ims.stopExpectRunning());
	return ims;
}

/** A page of the phone at the WWSF, as a person opens it */
async function phone(t, ims, name) {
	const ctx = await browser.browser.newContext({ ignoreHTTPSErrors: true,
		viewport: { width: 400, height: 760 } });
	const page = await ctx.newPage();
	page.setDefaultTimeout(10000);
	const consoleLines = [];
	page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
	page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
	t.after(async () => {
		if (t.passed === false || process.env.BROWSER_LOG) {
			fs.mkdirSync(LOGS, { recursive: true });
			fs.writeFileSync(path.join(LOGS, `wwsf-${name}.log`),
				consoleLines.join('\n'));
		}
		await ctx.close().catch(() => {});
	});
	const resp = await page.goto(`${ims.origin}/`, { waitUntil: 'load' });
	page.resp = resp;
	page.consoleLines = consoleLines;
	await page.waitForSelector('#app[data-view="login"]');
	return page;
}

async function login(page, user, password = `${user}pw`) {
	await page.fill('#login-username', user);
	await page.fill('#login-password', password);
	await page.click('#btn-login');
}

function state(page) {
	return page.evaluate(() => window.imsedgeWic.status);
}

async function shot(page, name) {
	fs.mkdirSync(SCREENSHOTS, { recursive: true });
	await page.screenshot({ path: path.join(SCREENSHOTS, `wwsf-${name}.png`),
		fullPage: true });
}

async function registered(page) {
	await page.waitForSelector('#reg-status[data-state="registered"]',
		{ timeout: 15000 });
}

test('D-51: the page comes over HTTPS with the hardening headers', T,
	async (t) => {
		const ims = await edge(t);
		const page = await phone(t, ims, 'headers');
		const h = page.resp.headers();
		assert.equal(page.resp.status(), 200);
		assert.match(h['content-security-policy'], /script-src 'self'/);
		assert.doesNotMatch(h['content-security-policy'], /unsafe-inline/);
		assert.match(h['strict-transport-security'], /max-age=\d+/);
		assert.equal(h['x-content-type-options'], 'nosniff');
		assert.ok(!page.consoleLines.some((l) =>
			/Content Security Policy|Refused to/.test(l)),
		page.consoleLines.join('\n'));
	});

test('D-11, D-16: log in, the page registers with its token (TNA at ' +
	'Kamailio); screenshots', T, async (t) => {
	const ims = await edge(t);
	const page = await phone(t, ims, 'alice');
	await shot(page, 'login');
	const mark = kam.log.items.length;
	await login(page, 'alice');
	await page.waitForSelector('#app[data-view="phone"]');
	await registered(page);
	assert.match(await page.textContent('#own-impu'), /alice@ims\.test/);
	assert.equal((await state(page)).impu, 'sip:alice@ims.test');
	const line = await kam.waitLog(/REGISTER sip:alice@ims\.test: TNA/,
		3000, mark);
	assert.match(line, /integrity-protected="auth-done"/);
	assert.ok(!kam.log.items.slice(mark).some((l) => /Bearer/.test(l)),
		'a token reached the core');
	await shot(page, 'registered');
});

test('a wrong password shows the error, nothing registers', T,
	async (t) => {
		const ims = await edge(t);
		const page = await phone(t, ims, 'wrong');
		const mark = kam.log.items.length;
		await login(page, 'alice', 'nope');
		await page.waitForSelector(
			'#login-error[data-state="credentials"]');
		assert.match(await page.textContent('#login-error'),
			/password/i);
		assert.equal((await state(page)).view, 'login');
		await sleep(300);
		assert.ok(!kam.log.items.slice(mark).some((l) => /rcv REGISTER/
			.test(l)));
	});

test('D-18: a guest gets an identity from the pool', T, async (t) => {
	const ims = await edge(t);
	const page = await phone(t, ims, 'guest');
	await page.waitForSelector('#btn-guest:not([hidden])');
	await page.click('#btn-guest');
	await registered(page);
	assert.match((await state(page)).impu, /^sip:guest[1-3]@ims\.test$/);
	assert.match(await page.textContent('#own-impu'), /guest[1-3]@ims/);
	assert.equal((await state(page)).pool, 'guests');
});

test('D-19: an expired token sends the user back to log in', T,
	async (t) => {
		const ims = await edge(t, { token_lifetime: 10 });
		const page = await phone(t, ims, 'expiry');
		const mark = kam.log.items.length;
		// the WWSF becomes unreachable for refreshes, as on a laptop
		// that slept: the token runs out
		await page.route('**/api/refresh', (r) => r.abort('failed'));
		await login(page, 'alice');
		await registered(page);
		await page.waitForSelector('#app[data-view="login"]',
			{ timeout: 30000 });
		assert.equal(await page.getAttribute('#login-error', 'data-state'),
			'expired');
		assert.match(await page.textContent('#login-error'),
			/session has expired/i);
		// the registration never outlived the token (D-19)
		const tna = kam.log.items.slice(mark)
			.filter((l) => /REGISTER sip:alice@ims\.test: TNA/.test(l));
		assert.ok(tna.length >= 1);
		for (const l of tna)
			assert.ok(Number(/expires=(\d+)/.exec(l)[1]) <= 10, l);
		// and logging in again works
		await page.unroute('**/api/refresh');
		await login(page, 'alice');
		await registered(page);
	});

test('two phones call each other through imsedge and Kamailio; audio ' +
	'both ways; screenshot', { ...T, skip: !CALLS &&
	'calls need the eIMS-AGW: IMSEDGE_CALLS=1' }, async (t) => {
	const ims = await edge(t);
	const [a, b] = [await phone(t, ims, 'call-alice'),
		await phone(t, ims, 'call-bob')];
	await login(a, 'alice');
	await login(b, 'bob');
	await Promise.all([registered(a), registered(b)]);

	await a.fill('#dial-target', 'bob');
	await a.click('#btn-call');
	await b.waitForSelector('#call-state[data-state="incoming"]');
	await b.click('#btn-answer');
	await Promise.all([a, b].map((p) => p.waitForSelector(
		'#call-state[data-state="in-call"]', { timeout: 15000 })));

	const flows = async (p) => {
		const first = await p.evaluate(() => window.imsedgeWic.stats());
		const deadline = Date.now() + 8000;
		for (;;) {
			await sleep(250);
			const s = await p.evaluate(() => window.imsedgeWic.stats());
			if (s.inbound.packets - first.inbound.packets >= 25 &&
				s.outbound.packets - first.outbound.packets >= 25 &&
				s.inbound.energy > first.inbound.energy)
				return s;
			if (Date.now() > deadline)
				throw new Error(`no audio: ${JSON.stringify(first)} -> ${
					JSON.stringify(s)}`);
		}
	};
	await Promise.all([flows(a), flows(b)]);
	await sleep(1200);
	assert.match(await a.textContent('#call-timer'), /0:0[1-9]/);
	await shot(a, 'in-call');

	await b.click('#btn-hangup');
	await a.waitForSelector('#call-state[data-state="ended"]');
	assert.equal(await a.getAttribute('#call-state', 'data-reason'),
		'normal');
	await within(ims.waitLog(/BYE/), 3000, 'BYE in the log').catch(() => {});
});

// Firefox ESR and Chromium with `make run`'s config (issue 14): stock
// Firefox ESR (Debian's firefox-esr, headless, driven by puppeteer-core
// over WebDriver BiDi, a fresh profile with only fake media and the
// puppeteer profile's no-network prefs) logs in on the phone page as
// alice and calls bob on a Chromium page (no loopback flag) through
// imsedge and Kamailio, as a person does after `make run`.
//
// The config is rootfs/etc/imsedge/dev.conf itself, only its file paths
// moved to a temporary directory: the same ports (7443, 8443, Mw
// 127.0.0.2:5070, Kamailio on 5060) and `media_listen any`. So that
// those fixed ports are free and `any` finds an address that is not
// loopback (Firefox pairs no loopback candidate by default), the file
// runs itself again in a network namespace of its own (unshare -n, root)
// with lo and a veth pair, one end 198.51.100.1/24 (TEST-NET-2) holding
// the default route, the other end in the namespace too: no test
// traffic leaves it.
//
// Chromium calls Firefox, so Firefox answers and is the DTLS client.
// Asserted: both pages hear the other (inbound RTP packets and audio
// energy rise, outbound packets too), no loopback candidate anywhere and
// the AGW's on the veth address, Firefox's post-quantum-sized DTLS
// ClientHello (an X25519MLKEM768 key share, over 1,200 bytes) reaching
// the AGW in fragments (iptables u32 and string counters in the
// namespace, on the port of Firefox's leg) with the handshake then
// completing, the hang-up reason on both pages and both legs' call
// records (end reason, packets both ways, SRTP suite: AEAD_AES_128_GCM on
// Firefox's leg).

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const FILE = fileURLToPath(import.meta.url);
const NS_ENV = 'IMSEDGE_FFX_NETNS';
const NS_ADDR = '198.51.100.1';
const NS_SETUP = 'ip link set lo up && ' +
	'ip link add imsedge0 type veth peer name imsedge1 && ' +
	`ip addr add ${NS_ADDR}/24 dev imsedge0 && ` +
	'ip link set imsedge1 up && ip link set imsedge0 up && ' +
	'ip route add default dev imsedge0 && ' +
	'exec "$@"';
const FIREFOX = process.env.FIREFOX_BIN ?? '/usr/bin/firefox-esr';
const CALLS = process.env.IMSEDGE_CALLS === '1';

if (process.env[NS_ENV] !== '1') {
	const why = !CALLS ? 'calls need the eIMS-AGW: IMSEDGE_CALLS=1' :
		!fs.existsSync(FIREFOX) ? `no Firefox at ${FIREFOX} ` +
			'(tools/setup installs firefox-esr)' :
		spawnSync('unshare', ['-n', 'true']).status !== 0 ?
			'needs a network namespace of its own (unshare -n: root)' :
			null;
	if (why) {
		test('Chromium calls Firefox ESR with make run\'s config',
			{ skip: why }, () => {});
	} else {
		// this file again, in the namespace; its test output is ours
		const child = spawn('unshare', ['-n', 'sh', '-c', NS_SETUP, 'sh',
			process.execPath, ...process.execArgv, FILE], {
			stdio: 'inherit', env: { ...process.env, [NS_ENV]: '1' } });
		for (const sig of ['SIGTERM', 'SIGINT'])
			process.on(sig, () => child.kill(sig));
		child.on('exit', (code, sig) => {
			if (sig)
				process.stderr.write(`firefox.test: ended by ${sig}\n`);
			process.exit(code ?? 1);
		});
	}
} else {
	await inNamespace();
}

async function inNamespace() {
	const { Kamailio, Imsedge, BIN, ROOT, tmpDir, sleep, within } =
		await import('../integration/helpers.mjs');
	const { Browser, SCREENSHOTS, LOGS } = await import('./harness.mjs');

	// the browsers start slowly on a loaded machine
	const T = { timeout: 180000 };
	const DEV_CONF = path.join(ROOT, 'rootfs', 'etc', 'imsedge', 'dev.conf');
	const PATH_KEYS = ['tls_cert', 'tls_key', 'wwsf_root', 'wwsf_users',
		'token_key'];
	const ORIGIN = 'https://localhost:8443';

	/**
	 * dev.conf with its paths made absolute: build/run/X to dir/X,
	 * the rest from the repository root; every other line as it is
	 */
	function devConf(dir) {
		return fs.readFileSync(DEV_CONF, 'utf8').split('\n').map((l) => {
			const m = /^(\S+) (\S+)$/.exec(l);
			if (!m || !PATH_KEYS.includes(m[1]) || path.isAbsolute(m[2]))
				return l;
			const v = m[2].startsWith('build/run/') ?
				path.join(dir, m[2].slice('build/run/'.length)) :
				path.join(ROOT, m[2]);
			return `${m[1]} ${v}`;
		}).join('\n');
	}

	/*
	 * Counters of DTLS ClientHello records arriving over UDP (u32: the
	 * record's content type 22 at the payload's start, handshake type 1
	 * at byte 13; its length, 3 bytes at 14; fragment_offset, 3 at 19),
	 * and of those carrying an X25519MLKEM768 key share (group 0x11ec,
	 * 1216 bytes: the bytes 11 ec 04 c0)
	 */
	const U32_HELLO = '0>>22&0x3C@8>>24=0x16&&0>>22&0x3C@21>>24=0x01';
	const HELLO_RULES = {
		first: ['-m', 'u32', '--u32', `${U32_HELLO}&&0>>22&0x3C@27>>8=0`],
		later: ['-m', 'u32', '--u32',
			`${U32_HELLO}&&0>>22&0x3C@27>>8=0x1:0xFFFFFF`],
		big: ['-m', 'u32', '--u32',
			`${U32_HELLO}&&0>>22&0x3C@22>>8=1200:0xFFFFFF`],
		mlkem: ['-m', 'u32', '--u32', U32_HELLO, '-m', 'string',
			'--algo', 'bm', '--hex-string', '|11ec04c0|'],
	};

	/** The counters, for packets to `dport` if given; named tag-NAME */
	function helloRules(tag, dport) {
		for (const [name, match] of Object.entries(HELLO_RULES))
			execFileSync('iptables', ['-w', '-A', 'INPUT', '-p', 'udp',
				'-d', NS_ADDR, ...(dport ? ['--dport', String(dport)] : []),
				...match, '-m', 'comment', '--comment', `${tag}-${name}`]);
	}

	/** { tag: { name: packets } } */
	function helloCounts() {
		const out = execFileSync('iptables', ['-w', '-L', 'INPUT', '-v',
			'-x', '-n'], { encoding: 'utf8' });
		const n = {};
		for (const l of out.split('\n')) {
			const m = /^\s*(\d+)\s+\d+\s.*\/\* (\w+)-(\w+) \*\//.exec(l);
			if (m)
				(n[m[2]] ??= {})[m[3]] = Number(m[1]);
		}
		return n;
	}

	async function firefox() {
		const { default: puppeteer } = await import('puppeteer-core');
		return puppeteer.launch({
			browser: 'firefox',
			executablePath: FIREFOX,
			headless: true,
			// the self-signed dev certificate, accepted once by a
			// person after `make run`
			acceptInsecureCerts: true,
			timeout: 60000,
			protocolTimeout: 30000,
			extraPrefsFirefox: {
				// a fake microphone, allowed without asking
				'media.navigator.streams.fake': true,
				'media.navigator.permission.disabled': true,
				// nothing to reach here (puppeteer's profile turns
				// the rest of the background traffic off)
				'app.update.auto': false,
				'toolkit.telemetry.enabled': false,
				'network.connectivity-service.enabled': false,
				'network.captive-portal-service.enabled': false,
			},
		});
	}

	/* The two drivers' differences, for one page of either */
	function wrap(page, kind, name) {
		const lines = [];
		page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
		page.on('pageerror', (e) => lines.push(`pageerror: ${e.message}`));
		return {
			page, kind, name, lines,
			fill: (sel, text) => kind === 'firefox' ?
				page.locator(sel).fill(text) : page.fill(sel, text),
			click: (sel) => page.click(sel),
			wait: (sel, timeout = 15000) =>
				page.waitForSelector(sel, { timeout }),
			attr: (sel, a) => page.$eval(sel, (e, x) => e.getAttribute(x), a),
			text: (sel) => page.$eval(sel, (e) => e.textContent),
			eval: (fn, arg) => within(page.evaluate(fn, arg), 15000,
				`evaluate in ${name}`),
		};
	}

	async function login(p, user) {
		await p.page.goto(`${ORIGIN}/`, { waitUntil: 'load' });
		await p.wait('#app[data-view="login"]');
		await p.fill('#login-username', user);
		await p.fill('#login-password', `${user}pw`);
		await p.click('#btn-login');
		await p.wait('#app[data-view="phone"]');
		await p.wait('#reg-status[data-state="registered"]');
	}

	const callState = (p, st, ms) => p.wait(
		`#call-state[data-state="${st}"]`, ms);
	const stats = (p) => p.eval(() => window.imsedgeWic.stats());

	/** Inbound RTP packets and audio energy rise on p within ms */
	async function hears(p, ms = 10000) {
		const a = await stats(p);
		const deadline = Date.now() + ms;
		for (;;) {
			await sleep(250);
			const b = await stats(p);
			if (b.inbound.packets - a.inbound.packets >= 25 &&
				b.inbound.energy > a.inbound.energy &&
				b.outbound.packets - a.outbound.packets >= 25)
				return b;
			if (Date.now() > deadline)
				throw new Error(`${p.name}: no audio both ways in ${ms} ms: ${
					JSON.stringify(a)} -> ${JSON.stringify(b)}`);
		}
	}

	/** a=candidate lines of the SDP bodies in a page's SIP trace */
	async function candidates(p, dir) {
		const trace = await p.eval(() => window.imsedgeWic.trace());
		return trace.filter((m) => m.dir === dir).flatMap((m) =>
			m.text.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:')));
	}

	test('D-28..D-30, D-32, D-33, D-40: Chromium calls stock Firefox ' +
		'ESR through imsedge with make run\'s dev.conf (media_listen ' +
		'any): audio both ways, Firefox\'s fragmented ' +
		'post-quantum-sized DTLS ClientHello, hang-up reason on both ' +
		'pages and in the call records', T,
	async (t) => {
		let last = 'start';
		const t0 = Date.now();
		const step = (what) => {
			last = what;
			if (process.env.BROWSER_LOG)
				process.stderr.write(`firefox.test: ${Date.now() - t0} ms: ${
					what}\n`);
		};
		t.after(() => t.passed === false && process.stderr.write(
			`firefox.test: failed after step "${last}"\n`));
		const dir = tmpDir();
		const stops = [];
		t.after(async () => {
			for (const f of stops.reverse())
				await f().catch((e) => process.stderr.write(
					`cleanup: ${e.message}\n`));
			fs.rmSync(dir, { recursive: true, force: true });
		});

		// what tools/run makes in build/run, here in dir
		execFileSync(path.join(ROOT, 'tools', 'devcerts'), [dir],
			{ stdio: 'ignore' });
		execFileSync(BIN, ['-k', path.join(dir, 'token.pem')],
			{ stdio: 'ignore' });
		for (const u of ['alice', 'bob'])
			execFileSync(BIN, ['-u', path.join(dir, 'users'), u,
				`${u}@ims.test`, `sip:${u}@ims.test`],
			{ input: `${u}pw\n`, stdio: ['pipe', 'ignore', 'inherit'] });
		helloRules('all');

		step('Kamailio');
		const kam = await Kamailio.start({ port: 5060 });
		stops.push(() => kam.stop());
		const ims = new Imsedge();
		ims.confPath = path.join(dir, 'imsedge.conf');
		fs.writeFileSync(ims.confPath, devConf(dir));
		stops.push(() => ims.stopExpectRunning());
		step('browsers and imsedge');
		const took = {};
		const timed = (what, p) => p.then((v) => {
			took[what] = Date.now() - t0;
			return v;
		});
		const [ff, cr] = await Promise.all([timed('Firefox', firefox()),
			timed('Chromium', Browser.launch({ name: 'chromium',
				loopback: false })), timed('imsedge', ims.spawn())]);
		t.diagnostic(`started at (ms): ${JSON.stringify(took)}`);
		stops.push(() => cr.close());
		stops.push(() => within(ff.close(), 5000, 'Firefox close')
			.catch(() => ff.process()?.kill('SIGKILL')));
		const version = await ff.version();
		t.diagnostic(`${version}; Chromium ${cr.version}`);
		assert.match(version, /^firefox\/\d+/i);

		// alice on Chromium calls bob on Firefox: Firefox answers, so it
		// is the DTLS client (a=setup:active) and sends its ClientHello
		const bctx = await cr.browser.newContext({ ignoreHTTPSErrors: true,
			viewport: { width: 400, height: 860 } });
		const a = wrap(await bctx.newPage(), 'chromium', 'alice@chromium');
		const b = wrap((await ff.pages())[0] ?? await ff.newPage(),
			'firefox', 'bob@firefox');
		// run first of the clean-ups: the pages are still open
		stops.push(async () => {
			if (t.passed !== false && !process.env.BROWSER_LOG)
				return;
			fs.mkdirSync(LOGS, { recursive: true });
			for (const p of [a, b]) {
				const trace = await p.eval(() => window.imsedgeWic.trace()
					.map((m) => `${m.dir}\n${m.text}`).join('\n'))
					.catch(() => '');
				fs.writeFileSync(path.join(LOGS, `firefox-${p.kind}.log`),
					`${p.lines.join('\n')}\n--- SIP\n${trace}\n`);
			}
			fs.writeFileSync(path.join(LOGS, 'firefox-imsedge.log'),
				`${ims.lines.join('\n')}\n--- Kamailio\n${
					kam.log.items.join('\n')}\n`);
		});

		step('log in');
		await Promise.all([login(a, 'alice'), login(b, 'bob')]);
		step('Chromium calls');
		await a.fill('#dial-target', 'bob');
		await a.click('#btn-call');
		await callState(b, 'incoming');
		// the AGW's port toward Firefox, before Firefox answers (and so
		// before its first ClientHello): what reaches it is Firefox's
		const toFirefox = await candidates(b, 'in');
		const agwPort = Number(toFirefox[0]?.split(' ')[5]);
		assert.ok(agwPort > 0, `no AGW candidate in the INVITE to bob: ${
			toFirefox}`);
		helloRules('firefox', agwPort);
		await b.click('#btn-answer');
		await Promise.all([callState(a, 'in-call'), callState(b, 'in-call')]);
		step('audio both ways');
		const [sa, sb] = await Promise.all([hears(a), hears(b)]);
		t.diagnostic(`Chromium hears ${sa.inbound.codec}, ${
			sa.inbound.packets} packets; Firefox hears ${
			sb.inbound.codec}, ${sb.inbound.packets} packets`);

		// default settings: candidates on the veth address, none on
		// loopback (Firefox and Chromium pair no loopback candidate)
		step('candidates');
		const seen = {
			'Chromium': await candidates(a, 'out'),
			'AGW to Chromium': await candidates(a, 'in'),
			'AGW to Firefox': toFirefox,
			'Firefox': await candidates(b, 'out'),
		};
		for (const [who, c] of Object.entries(seen)) {
			assert.ok(c.length > 0, `${who}: no candidates`);
			assert.ok(c.every((l) => !/ (127\.\d+\.\d+\.\d+|::1) /
				.test(l)), `${who}: a loopback candidate:\n${c.join('\n')}`);
		}
		assert.ok(toFirefox.some((l) => l.includes(` ${NS_ADDR} `)),
			toFirefox.join('\n'));
		// Firefox hides its address behind an mDNS name (no remembered
		// microphone permission): the ICE-lite AGW learns it from the
		// checks
		t.diagnostic(`Firefox's candidates: ${seen.Firefox.join(' | ')}`);

		// Firefox's ClientHellos as the AGW took them in: over 1,200
		// bytes with an ML-KEM key share, in fragments (D-32)
		const n = helloCounts();
		t.diagnostic(`DTLS ClientHello records to the AGW: from Firefox ${
			JSON.stringify(n.firefox)}; in all ${JSON.stringify(n.all)}`);
		const fx = n.firefox;
		assert.ok(fx.first >= 1 && fx.big >= 1 && fx.later >= 1 &&
			fx.mlkem >= 1, `Firefox's ClientHello was not large, ` +
			`fragmented, with an ML-KEM key share: ${JSON.stringify(n)}`);

		fs.mkdirSync(SCREENSHOTS, { recursive: true });
		await b.page.screenshot({ path: path.join(SCREENSHOTS,
			'firefox-in-call.png') });

		// Firefox hangs up: Chromium says the other party did
		const from = ims.mark();
		step('Firefox hangs up');
		await b.click('#btn-hangup');
		await Promise.all([callState(a, 'ended'), callState(b, 'ended')]);
		assert.equal(await a.attr('#call-state', 'data-reason'), 'normal');
		assert.match(await a.text('#call-state'), /other party hung up/i);
		assert.match(await b.text('#call-state'), /you hung up/i);
		// one record per leg: bob's (his browser hung up) and alice's
		// (the core did), each with packets both ways (D-40)
		step('call records');
		const cdrs = [];
		for (const dir of ['in', 'out'])
			cdrs.push(await ims.waitLog(new RegExp(
				`cdr: .*dir=${dir} .*status=200 `), 5000, from));
		const [bob, alice] = cdrs;
		assert.match(bob, /to=sip:bob@ims\.test .*end=hangup_browser /);
		assert.match(alice, /from=sip:alice@ims\.test .*end=hangup_core /);
		// SRTP: Firefox (DTLS client, the AGW server) offers
		// AEAD_AES_128_GCM first, 256_GCM, then AES-CM; the AGW takes
		// GCM-128. Chromium's leg: the AGW is client, Chromium chooses.
		assert.match(bob, / srtp=AEAD_AES_128_GCM /, bob);
		assert.match(alice,
			/ srtp=(AEAD_AES_(128|256)_GCM|AES_CM_128_HMAC_SHA1_80) /, alice);
		for (const l of cdrs) {
			assert.match(l, / b2c_pkts=[1-9]\d* /, l);
			assert.match(l, / c2b_pkts=[1-9]\d* /, l);
		}
	});
}

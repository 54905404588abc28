// Logs an operator can use (issue 14): an ISO 8601 time on every stderr
// line; security events (refused logins, lockouts, refused tokens and
// Origins) in the one "security: event=NAME peer=ADDR port=PORT" format,
// checked with fail2ban's own fail2ban-regex and the sample filter in
// docs/fail2ban/ (including a forged line inside a client's Origin); and
// a log line for every failed start-up, never a silent exit 1.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import {
	startImsedge, connectWss, SipWs, tmpDir, freePort, runSync, configText,
	baseConfig, within, sleep, BIN, ROOT, CA, ORIGIN, LOG_TIME,
} from './helpers.mjs';

const T = { timeout: 30000 };
const AUD = 'wss://edge.ims.test:7443';
const FILTER = path.join(ROOT, 'docs', 'fail2ban', 'imsedge.conf');

let dir;
let ims;
let wwsfPort;

/* POST to the API; a 503 (the PBKDF2 budget of a busy machine) is
   tried again after its Retry-After */
async function api(route, body, origin = ORIGIN) {
	for (let i = 0; i < 10; i++) {
		const status = await apiOnce(route, body, origin);
		if (status !== 503)
			return status;
		await sleep(1000);
	}
	throw new Error(`${route}: 503 ten times`);
}

function apiOnce(route, body, origin) {
	return new Promise((resolve, reject) => {
		const data = JSON.stringify(body);
		const req = https.request({ host: '127.0.0.1', port: wwsfPort,
			path: route, method: 'POST', ca: CA,
			servername: 'localhost', agent: false,
			headers: { 'Content-Type': 'application/json', Origin: origin,
				'Content-Length': Buffer.byteLength(data) } },
		(res) => {
			res.resume();
			res.on('end', () => resolve(res.statusCode));
		});
		req.on('error', reject);
		req.end(data);
	});
}

function writeKey(file) {
	const k = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
	fs.writeFileSync(file, k.privateKey.export({ format: 'pem',
		type: 'pkcs8' }), { mode: 0o600 });
	return k;
}

before(async () => {
	dir = tmpDir();
	fs.mkdirSync(path.join(dir, 'www'));
	fs.writeFileSync(path.join(dir, 'www', 'index.html'), '<!doctype html>');
	writeKey(path.join(dir, 'token.pem'));
	const r = runSync(['-u', path.join(dir, 'users'), 'alice',
		'alice@ims.test', 'sip:alice@ims.test'], { input: 'alicepw\n' });
	assert.equal(r.status, 0, r.stderr);
	wwsfPort = await freePort();
	ims = await startImsedge({
		w2_public_url: AUD,
		wwsf_listen: `127.0.0.1:${wwsfPort}`,
		wwsf_root: path.join(dir, 'www'),
		wwsf_origin: ORIGIN,
		wwsf_users: path.join(dir, 'users'),
		token_key: path.join(dir, 'token.pem'),
	});
});

after(async () => {
	await ims?.stopExpectRunning();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

test('every stderr line starts with an ISO 8601 UTC time of now', T,
	() => {
		assert.ok(ims.raw.length > 3);
		for (const l of ims.raw) {
			const m = /^(\S+) (debug|info |warn |error) \S+: /.exec(l);
			assert.ok(m, `line without time and level: ${l}`);
			assert.match(`${m[1]} `, LOG_TIME);
			const t = Date.parse(m[1]);
			assert.ok(Math.abs(Date.now() - t) < 60000, l);
		}
	});

test('security events: one format, and fail2ban bans only the real peer',
	T, async () => {
		const from = ims.mark();
		// 5 wrong passwords, then the lockout (429)
		for (let i = 0; i < 5; i++)
			assert.equal(await api('/api/login',
				{ username: 'alice', password: 'nope' }), 401);
		assert.equal(await api('/api/login',
			{ username: 'mallory', password: 'x' }), 429);
		// the API from a foreign page
		assert.equal(await api('/api/guest', {}, 'https://evil.example'),
			403);
		// W2 from a foreign page, with a forged event in its Origin
		const forged = 'https://x.example/security: event=login_failed ' +
			'peer=203.0.113.1 port=1';
		const r = await connectWss(ims.port, { origin: forged });
		assert.equal(r.status, 403);
		// a REGISTER with a token that does not verify
		const ua = await SipWs.open(ims.port);
		const res = await ua.request({ method: 'REGISTER',
			ruri: 'sip:ims.test', from: '<sip:alice@ims.test>',
			to: '<sip:alice@ims.test>',
			contact: `${ua.contact};expires=300`,
			extra: ['Expires: 300', 'Authorization: Bearer a.b.c'] });
		assert.equal(res.status, 403);
		ua.close();

		await ims.waitLog(/event=token_refused/, 3000, from);
		const sec = ims.raw.slice(from).filter((l) =>
			/ security: /.test(l));
		const events = sec.map((l) => /event=(\w+)/.exec(l)[1]);
		assert.deepEqual(events.filter((e) => e === 'login_failed').length,
			5, sec.join('\n'));
		for (const e of ['login_locked', 'origin_refused',
			'token_refused'])
			assert.ok(events.includes(e), `${e} missing:\n${sec}`);
		for (const l of sec)
			assert.match(l, / warn +security: event=\w+ peer=127\.0\.0\.1 port=\d+( |$)/);

		// fail2ban's own matcher on the whole log: one hit per event,
		// each 127.0.0.1, and never the address forged in the Origin
		const log = path.join(dir, 'imsedge.log');
		fs.writeFileSync(log, ims.raw.join('\n') + '\n');
		const f = spawnSync('fail2ban-regex', ['-o', 'ip', log, FILTER],
			{ encoding: 'utf8' });
		assert.equal(f.status, 0, f.stderr);
		const ips = f.stdout.split('\n').filter(Boolean);
		assert.equal(ips.length, ims.raw.filter((l) =>
			/ security: /.test(l)).length, f.stdout);
		assert.ok(ips.every((ip) => ip === '127.0.0.1'), f.stdout);
	});

test('an expected WebSocket close is logged at debug, not warn', T,
	async () => {
		const from = ims.mark();
		const ua = await SipWs.open(ims.port);
		ua.close();
		await ims.waitLog(/WebSocket closed/, 3000, from);
		const after = ims.lines.slice(from);
		assert.ok(!after.some((l) => /^(warn|error)/.test(l)),
			after.join('\n'));
	});

/** Start imsedge on a config that cannot start: its exit and stderr */
async function failStart(conf, wrap = []) {
	const file = path.join(dir, `fail-${crypto.randomUUID()}.conf`);
	fs.writeFileSync(file, configText(conf));
	const argv = [...wrap, BIN, '-c', file];
	const p = spawn(argv[0], argv.slice(1),
		{ stdio: ['ignore', 'pipe', 'pipe'] });
	let err = '';
	p.stderr.on('data', (d) => { err += d; });
	// 'close', not 'exit': only then has all of stderr been read
	const [code] = await within(new Promise((resolve) =>
		p.once('close', (...a) => resolve(a))), 5000, 'imsedge exit');
	const t = spawnSync(argv[0], [...argv.slice(1), '-t'],
		{ encoding: 'utf8' });
	return { code, err, file, t };
}

test('no silent exit: waf_pubkey naming our own origin and key', T,
	async () => {
		const key = path.join(dir, 'own.pem');
		const k = writeKey(key);
		const pub = path.join(dir, 'own.pub.pem');
		fs.writeFileSync(pub, k.publicKey.export({ format: 'pem',
			type: 'spki' }));
		const conf = {
			...baseConfig(),
			w2_listen: `127.0.0.1:${await freePort()}`,
			mw_listen: `127.0.0.1:${await freePort()}`,
			w2_public_url: AUD,
			wwsf_listen: `127.0.0.1:${await freePort()}`,
			wwsf_root: path.join(dir, 'www'),
			wwsf_origin: ORIGIN,
			token_key: key,
			waf_pubkey: `${ORIGIN} ${pub}`,
		};
		const r = await failStart(conf);
		assert.equal(r.code, 1);
		assert.match(r.err, /error main: start-up failed: web access/);
		assert.match(r.err, /waf_pubkey .*already trusted/);
		// -t refuses it, with the waf_pubkey line
		const line = configText(conf).split('\n')
			.findIndex((l) => l.startsWith('waf_pubkey ')) + 1;
		assert.equal(r.t.status, 1);
		assert.match(r.t.stderr, new RegExp(`^${r.file}:${line}: ` +
			'waf_pubkey: .*already trusted', 'm'));
	});

test('no silent exit: a W2 address that is not this host\'s', T,
	async () => {
		const conf = { ...baseConfig(),
			w2_listen: `203.0.113.77:${await freePort()}`,
			mw_listen: `127.0.0.1:${await freePort()}` };
		const r = await failStart(conf);
		assert.equal(r.code, 1);
		assert.match(r.err, /error main: start-up failed: W2 listener: /);
		assert.match(r.t.stderr, new RegExp(`^${r.file}:\\d+: w2_listen: ` +
			'203.0.113.77 is not an address of this host', 'm'));
	});

/* A network namespace with only loopback (lo up), if this host can */
const NETNS = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"',
	'sh'];
const haveNetns = spawnSync(NETNS[0], [...NETNS.slice(1), 'true'])
	.status === 0;

test('no silent exit: the any address on a host with only loopback', {
	...T, skip: !haveNetns && 'no network namespaces here' }, async () => {
	const conf = { ...baseConfig(),
		w2_listen: `0.0.0.0:${await freePort()}`,
		mw_listen: `0.0.0.0:${await freePort()}` };
	const r = await failStart(conf, NETNS);
	assert.equal(r.code, 1);
	assert.match(r.err, /error main: start-up failed: /, r.err);
	for (const key of ['w2_listen', 'mw_listen'])
		assert.match(r.t.stderr, new RegExp(`^${r.file}:\\d+: ${key}: ` +
			'0.0.0.0: this host has no address', 'm'), r.t.stderr);
	assert.equal(r.t.status, 1);
});

test('SIGHUP names the changed keys that need a restart', T, async () => {
	const one = await startImsedge();
	try {
		let from = one.mark();
		one.writeConfig(baseConfig({ log_level: 'info' }));
		one.signal('SIGHUP');
		await one.waitLog(/main: reloaded /, 3000, from);
		assert.ok(!one.lines.slice(from).some((l) =>
			/need a restart/.test(l)), one.lines.slice(from).join('\n'));

		from = one.mark();
		one.writeConfig(baseConfig({ log_level: 'info',
			mw_next_hop: 'sip:127.0.0.9:5060', max_calls: 7 }));
		one.signal('SIGHUP');
		const l = await one.waitLog(/need a restart/, 3000, from);
		assert.match(l, /^warn +main: reload: changed keys that need a restart to take effect: mw_next_hop, max_calls$/);
	} finally {
		await one.stopExpectRunning();
	}
});

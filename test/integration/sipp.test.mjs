// eP-CSCF registration edits, checked header by header at the S-CSCF:
// SIPp plays the S-CSCF (UAS scenarios in test/sipp/, placeholders
// @NAME@ filled in here) on a free UDP port, imsedge relays REGISTERs
// from a raw SIP-over-WSS client (the browser) to it. The scenarios
// fail (SIPp exit code != 0) when a header is missing or wrong
// (ereg/strcmp with check_it); this file asserts what the browser gets
// back and that SIPp exited 0.
//
// Checklist items: D-4 Path/Require path, D-5 P-Visited-Network-ID and
// P-Charging-Vector, D-6 no Security-Client/sec-agree, D-7 IMS-AKA
// tls-connected, D-8 no ck/ik, D-9 no Security-Server, D-10 Digest
// tls-pending/tls-yes, D-23 responses on the receiving WebSocket,
// D-50 Max-Forwards, Via and the relayed 200.
//
// SIPP_KEEP=1 keeps each run's directory (rendered scenario, SIPp
// message, error and log files) and prints its path.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import {
	ROOT, openWss, parseSip, sleep, startImsedge, tmpDir, within,
} from './helpers.mjs';

const SCENARIOS = path.join(ROOT, 'test', 'sipp');
const SIPP = process.env.SIPP_BIN || 'sipp';
const VNI = 'visited.example.net';
const HOST = 'df7jal23ls0d.invalid';       /* the browser's Via host */

/* ------------------------------------------------------------------ */
/* ports                                                              */

const picked = new Set();

function udpFree(port) {
	return new Promise((resolve) => {
		const s = dgram.createSocket('udp4');
		s.once('error', () => resolve(false));
		s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
	});
}

/**
 * Whether a UDP socket is bound to 127.0.0.1:port, from /proc/net/udp
 * (looking, unlike a test bind, cannot take the port from SIPp)
 */
function udpBound(port) {
	const want = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
	return fs.readFileSync('/proc/net/udp', 'utf8').split('\n')
		.some((l) => l.trim().split(/\s+/)[1] === want);
}

/**
 * A UDP port on 127.0.0.1 free a moment ago, with port+2 free too (SIPp
 * binds its media ports there), below the kernel's ephemeral range so
 * imsedge's own ports (bound to 0) cannot collide with it
 */
async function freeUdpPort(pair = false) {
	for (let i = 0; i < 200; i++) {
		const p = 20000 + crypto.randomInt(12000);
		if (picked.has(p) || (pair && picked.has(p + 2)))
			continue;
		if (await udpFree(p) && (!pair || await udpFree(p + 2))) {
			picked.add(p);
			if (pair)
				picked.add(p + 2);
			return p;
		}
	}
	throw new Error('no free UDP port');
}

/* ------------------------------------------------------------------ */
/* SIPp                                                               */

/** test/sipp/NAME.xml with @KEY@ replaced, written into dir */
function render(name, vars, dir) {
	let text = fs.readFileSync(path.join(SCENARIOS, `${name}.xml`),
		'utf8');
	for (const [k, v] of Object.entries(vars))
		text = text.replaceAll(`@${k}@`, String(v));
	const left = text.match(/@[A-Z][A-Z0-9_]*@/);
	if (left)
		throw new Error(`${name}.xml: placeholder ${left[0]} not filled`);
	const file = path.join(dir, `${name}.xml`);
	fs.writeFileSync(file, text);
	return file;
}

function readIf(file, max = 6000) {
	try {
		const t = fs.readFileSync(file, 'utf8');
		return t.length > max ? '...' + t.slice(-max) : t;
	} catch {
		return '';
	}
}

/** A SIPp UAS run in the foreground: -m calls, then exit */
class Sipp {
	constructor(name, file, dir, port, calls) {
		this.name = name;
		this.dir = dir;
		this.port = port;
		this.err = path.join(dir, `${name}.errors.log`);
		this.msgs = path.join(dir, `${name}.messages.log`);
		this.log = path.join(dir, `${name}.log`);
		this.stderr = '';
		this.exit = null;
		this.args = ['-sf', file, '-i', '127.0.0.1', '-p', String(port),
			'-t', 'u1', '-m', String(calls), '-nostdin',
			'-timeout', '20s', '-timeout_error',
			'-trace_err', '-error_file', this.err,
			'-trace_msg', '-message_file', this.msgs,
			'-trace_logs', '-log_file', this.log];
	}

	async start() {
		this.args.push('-mp', String(await freeUdpPort(true)),
			'-cp', String(await freeUdpPort()));
		this.proc = spawn(SIPP, this.args, { cwd: this.dir,
			stdio: ['ignore', 'ignore', 'pipe'] });
		this.proc.stderr.setEncoding('utf8');
		this.proc.stderr.on('data', (d) => { this.stderr += d; });
		this.exited = new Promise((resolve) => {
			this.proc.once('error', (e) => {
				this.exit = { code: null, error: e };
				resolve(this.exit);
			});
			this.proc.once('exit', (code, signal) => {
				this.exit = { code, signal };
				resolve(this.exit);
			});
		});
		/* rejects as soon as SIPp exits non-zero (e.g. a scenario it
		   cannot load, or a missing binary): raced with every wait for
		   a response so that shows as the SIPp error, not as a timeout.
		   A failed check_it does not stop SIPp: it marks the call
		   failed, plays the scenario to its end and exits 1. */
		this.failed = this.exited.then((e) => {
			if (e.code !== 0)
				throw new Error(this.report());
			return new Promise(() => {});
		});
		this.failed.catch(() => {});

		const deadline = Date.now() + 5000;
		while (!udpBound(this.port)) {
			if (this.exit)
				throw new Error(`SIPp did not start:\n${this.report()}`);
			if (Date.now() > deadline)
				throw new Error('SIPp did not bind its port in 5 s');
			await sleep(20);
		}
	}

	report() {
		const e = !this.exit ? 'running' : this.exit.error ?
			`cannot run ${SIPP}: ${this.exit.error.message}` :
			`exit ${JSON.stringify(this.exit)}`;
		return `S-CSCF scenario ${this.name}.xml: SIPp ${e}\n` +
			`--- SIPp errors (${this.err}):\n${readIf(this.err)}\n` +
			`--- SIPp stderr:\n${this.stderr.slice(-3000)}\n` +
			`--- SIPp log:\n${readIf(this.log, 3000)}`;
	}

	/** Wait for SIPp to finish its calls; fail unless it exits 0 */
	async done(ms = 8000) {
		try {
			await within(this.exited, ms, `SIPp (${this.name}) to exit`);
		} catch {
			this.kill();
			await this.exited;
			throw new Error(`SIPp did not finish within ${ms} ms:\n${
				this.report()}`);
		}
		if (this.exit.code !== 0)
			throw new Error(this.report());
	}

	kill() {
		if (this.proc && !this.exit)
			this.proc.kill('SIGKILL');
	}
}

/* ------------------------------------------------------------------ */
/* the browser                                                        */

function hex(n) {
	return crypto.randomBytes(n).toString('hex');
}

/**
 * One registration as a browser keeps it: Call-ID, From tag, CSeq.
 * next() builds the next REGISTER with fresh branch; `headers` are extra
 * header lines put before Content-Length.
 */
class Registration {
	constructor({ user = 'alice', callId = `${hex(8)}@test.invalid` } = {}) {
		this.user = user;
		this.callId = callId;
		this.fromTag = hex(4);
		this.cseq = 0;
	}

	next(headers = [], { expires = 600, maxForwards = 70 } = {}) {
		const branch = `z9hG4bK${hex(8)}`;
		const via = `SIP/2.0/WSS ${HOST};branch=${branch}`;
		const cseq = ++this.cseq;
		const lines = [
			'REGISTER sip:ims.test SIP/2.0',
			`Via: ${via}`,
			`Max-Forwards: ${maxForwards}`,
			`From: <sip:${this.user}@ims.test>;tag=${this.fromTag}`,
			`To: <sip:${this.user}@ims.test>`,
			`Call-ID: ${this.callId}`,
			`CSeq: ${cseq} REGISTER`,
			`Contact: <sip:${this.user}@${HOST};transport=ws>`,
			`Expires: ${expires}`,
			...headers,
			'Content-Length: 0',
		];
		return { text: lines.join('\r\n') + '\r\n\r\n', branch, via,
			cseq, callId: this.callId };
	}
}

/** The initial Digest Authorization a browser sends (D-10) */
function digest0(user = 'alice@ims.test', extra = '') {
	return `Authorization: Digest username="${user}", realm="ims.test", ` +
		`nonce="", uri="sip:ims.test", response=""${extra}`;
}

/**
 * Per test: a free S-CSCF port, imsedge pointing at it, the scenario
 * rendered with MW (imsedge's Mw port), SCSCF and `vars`, SIPp running.
 * fn(ctx) drives the browser; afterwards SIPp must exit 0. Everything
 * started here is stopped here.
 */
async function withScscf(scenario, { calls = 1, vars = {} }, fn) {
	const dir = tmpDir();
	const scscf = await freeUdpPort();
	const clients = [];
	let ims, sipp, failure;

	try {
		ims = await startImsedge({
			mw_next_hop: `sip:127.0.0.1:${scscf};transport=udp`,
			visited_network_id: VNI,
			mw_timeout: 5,
			w2_ping_interval: 0,
		});
		const file = render(scenario, { MW: ims.mwPort, SCSCF: scscf,
			...vars }, dir);
		sipp = new Sipp(scenario, file, dir, scscf, calls);
		await sipp.start();

		const ctx = {
			ims, sipp, scscf,
			async open() {
				const c = await openWss(ims.port);
				clients.push(c);
				return c;
			},
			/** Send a REGISTER, return the parsed response */
			async register(c, req, ms = 3000) {
				await c.send(req.text);
				return ctx.receive(c, ms);
			},
			/** The next SIP message on c (fails early if SIPp failed) */
			async receive(c, ms = 3000) {
				const m = await Promise.race([c.next(ms), sipp.failed]);
				return parseSip(m.text);
			},
		};
		await fn(ctx);
		await sipp.done();
	} catch (e) {
		failure = e;
	} finally {
		for (const c of clients)
			c.terminate();
		if (sipp && !sipp.exit) {
			sipp.kill();
			await sipp.exited;
		}
		try {
			await ims?.stopExpectRunning();
		} catch (e) {
			failure ??= e;
		}
	}

	if (failure) {
		/* a failed header check explains a JS-side timeout best */
		if (sipp?.exit && sipp.exit.code !== 0 &&
		    !String(failure.message).includes('S-CSCF scenario'))
			failure.message += `\n${sipp.report()}`;
		console.error(`sipp run directory kept: ${dir}`);
		throw failure;
	}
	if (process.env.SIPP_KEEP)
		console.error(`sipp run directory: ${dir}`);
	else
		fs.rmSync(dir, { recursive: true, force: true });
}

/* ------------------------------------------------------------------ */
/* browser-side assertions                                            */

/** The response answers req: status, own Via only, Call-ID, CSeq */
function assertAnswers(res, req, status, reason) {
	assert.equal(res.status, status, `expected ${status}:\n${res.text}`);
	if (reason)
		assert.equal(res.reason, reason);
	assert.deepEqual(res.headers['via'], [req.via],
		'the browser must see its own Via only');
	assert.deepEqual(res.headers['call-id'], [req.callId]);
	assert.deepEqual(res.headers['cseq'], [`${req.cseq} REGISTER`]);
	assert.equal(res.headers['security-server'], undefined,
		'no Security-Server toward the browser');
}

/** A 200 to REGISTER with the S-CSCF's bindings unchanged */
function assert200(res, req, scscf) {
	assertAnswers(res, req, 200, 'OK');
	assert.deepEqual(res.headers['service-route'],
		[`<sip:orig@127.0.0.1:${scscf};lr>`]);
	assert.deepEqual(res.headers['p-associated-uri'],
		['<sip:alice@ims.test>']);
}

/** Parse a challenge: scheme and [name, value] params in order */
function parseChallenge(v) {
	const m = /^(\S+)\s+(.*)$/.exec(v);
	assert.ok(m, `challenge: ${v}`);
	const params = [];
	const re = /\s*([^=,\s]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,]*)\s*(?:,|$)/gy;
	let p;
	while (re.lastIndex < m[2].length && (p = re.exec(m[2])))
		params.push([p[1], p[2].trim()]);
	assert.equal(re.lastIndex, m[2].length, `unparsed challenge: ${v}`);
	return { scheme: m[1], params };
}

const PATH_RE = /^<sip:(fl[0-9a-f]{24})@127\.0\.0\.1:(\d+);lr;ob>$/;

/* ------------------------------------------------------------------ */

describe('eP-CSCF REGISTER at the S-CSCF (SIPp)', () => {
	test('D-4: REGISTER on Mw has one Path <sip:fl+24hex@127.0.0.1:M;' +
	     'lr;ob> (one flow token per WebSocket), Require: path and ' +
	     'Supported: path', async () => {
		await withScscf('path', {}, async (t) => {
			const ws1 = await t.open();
			const ws2 = await t.open();
			const reg = new Registration();
			const seen = [];

			let req = reg.next(['Supported: outbound, gruu']);
			let res = await t.register(ws1, req);
			assert200(res, req, t.scscf);
			seen.push(res.headers['x-seen-path']?.[0]);

			req = reg.next(['Require: path',
				'Supported: path, outbound']);
			res = await t.register(ws1, req);
			assert200(res, req, t.scscf);
			seen.push(res.headers['x-seen-path']?.[0]);

			req = reg.next();
			res = await t.register(ws2, req);
			assert200(res, req, t.scscf);
			seen.push(res.headers['x-seen-path']?.[0]);

			const tokens = seen.map((p) => {
				const m = PATH_RE.exec(p ?? '');
				assert.ok(m, `Path seen at the S-CSCF: ${p}`);
				assert.equal(Number(m[2]), t.ims.mwPort);
				return m[1];
			});
			assert.equal(tokens[0], tokens[1],
				'one WebSocket, one flow token');
			assert.notEqual(tokens[0], tokens[2],
				'another WebSocket, another flow token');
		});
	});
	test('D-5: REGISTER on Mw has one P-Visited-Network-ID (configured) ' +
	     'and one P-Charging-Vector with a new 32-hex icid each time; ' +
	     'the browser\'s own copies are replaced', async () => {
		await withScscf('charging', {
			vars: { VNI: VNI.replaceAll('.', '\\.') },
		}, async (t) => {
			const ws = await t.open();
			const reg = new Registration();

			let req = reg.next();
			let res = await t.register(ws, req);
			assertAnswers(res, req, 401, 'Unauthorized');
			const icid1 = res.headers['x-seen-icid']?.[0];

			req = reg.next([
				'P-Visited-Network-ID: "evil.example"',
				'P-Charging-Vector: icid-value=' +
				'0123456789abcdef0123456789abcdef;' +
				'icid-generated-at=192.0.2.1',
			]);
			res = await t.register(ws, req);
			assert200(res, req, t.scscf);
			const icid2 = res.headers['x-seen-icid']?.[0];

			assert.match(icid1 ?? '', /^[0-9a-fA-F]{32}$/);
			assert.match(icid2 ?? '', /^[0-9a-fA-F]{32}$/);
			assert.notEqual(icid1, icid2, 'a new icid per REGISTER');
		});
	});

	test('D-6: Security-Client, Security-Verify and every sec-agree tag ' +
	     'are removed; Supported keeps outbound and gets path',
	async () => {
		await withScscf('secagree', {}, async (t) => {
			const ws = await t.open();
			const reg = new Registration();
			const secClient = 'Security-Client: ipsec-3gpp; ' +
				'alg=hmac-sha-1-96; spi-c=1; spi-s=2; port-c=3; port-s=4';

			let req = reg.next([
				secClient,
				'Require: sec-agree',
				'Proxy-Require: sec-agree',
				'Supported: sec-agree, outbound',
			]);
			let res = await t.register(ws, req);
			assertAnswers(res, req, 401, 'Unauthorized');

			req = reg.next([
				secClient,
				'Security-Verify: ipsec-3gpp; alg=hmac-sha-1-96; ' +
				'spi-c=1111; spi-s=2222; port-c=5062; port-s=5064',
				'Require: sec-agree',
				'Proxy-Require: sec-agree',
				'Supported: path, sec-agree, outbound',
				'Authorization: Digest username="alice@ims.test", ' +
				'realm="ims.test", nonce="n1", uri="sip:ims.test", ' +
				'response="8e6d5a1b2c3f4e5d6a7b8c9d0e1f2a3b", ' +
				'algorithm=MD5, qop=auth, nc=00000001, ' +
				'cnonce="c0ffee01"',
			]);
			res = await t.register(ws, req);
			assert200(res, req, t.scscf);
		});
	});

	test('D-7: IMS-AKA REGISTER (AKAv1-MD5, AKAv2-SHA-256) carries ' +
	     'integrity-protected="tls-connected" exactly once, the ' +
	     'browser\'s own value replaced', async () => {
		await withScscf('aka', {}, async (t) => {
			const ws = await t.open();
			const reg = new Registration();

			let req = reg.next([digest0('alice@ims.test',
				', algorithm=AKAv1-MD5')]);
			let res = await t.register(ws, req);
			assertAnswers(res, req, 401, 'Unauthorized');

			req = reg.next(['Authorization: Digest ' +
				'username="alice@ims.test", realm="ims.test", ' +
				'integrity-protected="tls-yes", nonce="abc", ' +
				'uri="sip:ims.test", ' +
				'response="6629fae49393a05397450978507c4ef1", ' +
				'algorithm=AKAv2-SHA-256, qop=auth, nc=00000001, ' +
				'cnonce="0a4f113b"']);
			res = await t.register(ws, req);
			assert200(res, req, t.scscf);

			req = reg.next(['Authorization: Digest ' +
				'username="alice@ims.test", realm="ims.test", ' +
				'nonce="abc", uri="sip:ims.test", ' +
				'response="0b8f3a5dc1e0d2b9a4c7e6f5d8a9b0c1", ' +
				'algorithm=AKAv1-MD5, qop=auth, nc=00000002, ' +
				'cnonce="0a4f113b"']);
			res = await t.register(ws, req);
			assert200(res, req, t.scscf);
		});
	});

	/** Two AKA REGISTERs answered 401 by challenge.xml */
	async function akaChallenges() {
		const out = [];
		await withScscf('challenge', {}, async (t) => {
			const ws = await t.open();
			const reg = new Registration();
			for (let i = 0; i < 2; i++) {
				const req = reg.next([digest0('alice@ims.test',
					', algorithm=AKAv1-MD5')]);
				out.push({ req, res: await t.register(ws, req) });
			}
		});
		return out;
	}

	test('D-8: the 401 reaches the browser with its challenges ' +
	     'minus ck and ik (realm, nonce, algorithm, qop kept)',
	async () => {
		const [a, b] = await akaChallenges();

		for (const { req, res } of [a, b]) {
			assertAnswers(res, req, 401, 'Unauthorized');
			assert.doesNotMatch(res.text, /\b(ck|ik)\s*=/i,
				'no AKA keys toward the browser');
			assert.doesNotMatch(res.text,
				/00112233445566778899aabbccddeeff|ffeeddccbbaa99887766554433221100/,
				'no AKA key material toward the browser');
		}

		assert.equal(a.res.headers['www-authenticate']?.length, 1);
		assert.deepEqual(parseChallenge(a.res.headers['www-authenticate'][0]),
			{ scheme: 'Digest', params: [
				['realm', '"ims.test"'], ['nonce', '"abc"'],
				['algorithm', 'AKAv1-MD5'], ['qop', '"auth"']] });

		assert.equal(b.res.headers['www-authenticate']?.length, 2);
		assert.deepEqual(parseChallenge(b.res.headers['www-authenticate'][0]),
			{ scheme: 'Digest', params: [
				['realm', '"ims.test"'], ['nonce', '"def"'],
				['algorithm', 'AKAv2-SHA-256'],
				['qop', '"auth,auth-int"']] });
		assert.deepEqual(parseChallenge(b.res.headers['www-authenticate'][1]),
			{ scheme: 'Digest', params: [
				['realm', '"ims.test"'], ['nonce', '"ghi"'],
				['algorithm', 'MD5'], ['qop', '"auth"']] });
	});

	test('D-9: the 401 reaches the browser without Security-Server, ' +
	     'with the browser\'s Via as its only Via', async () => {
		for (const { req, res } of await akaChallenges()) {
			assertAnswers(res, req, 401, 'Unauthorized');
			assert.doesNotMatch(res.text, /^security-server\s*:/im);
			assert.doesNotMatch(res.text, /ipsec-3gpp/i);
			assert.doesNotMatch(res.text, /^(via|v)\s*:.*UDP/im,
				'imsedge\'s Via is stripped');
		}
	});

	test('D-10: SIP Digest REGISTER carries integrity-protected=' +
	     '"tls-pending", then "tls-yes" on the same WebSocket once ' +
	     'registered; browser values replaced, never doubled; the 200 ' +
	     'keeps Service-Route and P-Associated-URI', async () => {
		await withScscf('digest', {}, async (t) => {
			const ws1 = await t.open();
			const ws2 = await t.open();
			const reg = new Registration();

			let req = reg.next([digest0()]);
			let res = await t.register(ws1, req);
			assertAnswers(res, req, 401, 'Unauthorized');
			assert.deepEqual(res.headers['www-authenticate'], [
				'Digest realm="ims.test", nonce="n1", algorithm=MD5, ' +
				'qop="auth"']);

			req = reg.next(['Authorization: Digest ' +
				'username="alice@ims.test", realm="ims.test", ' +
				'nonce="n1", uri="sip:ims.test", ' +
				'response="8e6d5a1b2c3f4e5d6a7b8c9d0e1f2a3b", ' +
				'algorithm=MD5, qop=auth, nc=00000001, ' +
				'cnonce="c0ffee01", integrity-protected="tls-yes"']);
			res = await t.register(ws1, req);
			assert200(res, req, t.scscf);
			assert.deepEqual(res.headers['contact'], [
				`<sip:alice@${HOST};transport=ws>;expires=600`]);

			req = reg.next(['Authorization: Digest ' +
				'username="alice@ims.test", realm="ims.test", ' +
				'nonce="n1", uri="sip:ims.test", ' +
				'response="1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a", ' +
				'algorithm=MD5, qop=auth, nc=00000002, ' +
				'cnonce="c0ffee01", integrity-protected="tls-pending"']);
			res = await t.register(ws1, req);
			assert200(res, req, t.scscf);

			req = reg.next([digest0('mallory@ims.test')]);
			res = await t.register(ws1, req);
			assertAnswers(res, req, 401, 'Unauthorized');

			req = reg.next([digest0()]);
			res = await t.register(ws2, req);
			assertAnswers(res, req, 401, 'Unauthorized');
		});
	});

	test('D-23: each response goes back on the WebSocket its REGISTER ' +
	     'came on, also when the answers cross', async () => {
		await withScscf('flows', { calls: 2 }, async (t) => {
			const wsA = await t.open();
			const wsB = await t.open();
			const regA = new Registration({
				callId: `slow-${hex(8)}@test.invalid` });
			const regB = new Registration({ user: 'bob',
				callId: `fast-${hex(8)}@test.invalid` });
			const order = [];

			const reqA = regA.next();
			const reqB = regB.next();
			await wsA.send(reqA.text);
			await sleep(30);
			await wsB.send(reqB.text);
			const [resA, resB] = await Promise.all([
				t.receive(wsA).then((r) => { order.push('A'); return r; }),
				t.receive(wsB).then((r) => { order.push('B'); return r; }),
			]);

			assertAnswers(resA, reqA, 200, 'OK');
			assertAnswers(resB, reqB, 200, 'OK');
			assert.match(resA.headers['to']?.[0] ?? '',
				/^<sip:alice@ims\.test>;tag=/);
			assert.match(resB.headers['to']?.[0] ?? '',
				/^<sip:bob@ims\.test>;tag=/);
			assert.deepEqual(order, ['B', 'A'],
				'the S-CSCF answered B first');

			const pa = PATH_RE.exec(resA.headers['x-seen-path']?.[0] ?? '');
			const pb = PATH_RE.exec(resB.headers['x-seen-path']?.[0] ?? '');
			assert.ok(pa && pb, 'Path seen at the S-CSCF');
			assert.notEqual(pa[1], pb[1], 'one flow token per WebSocket');

			await sleep(300);
			assert.deepEqual(wsA.queue.map((m) => m.text), [],
				'nothing else on WebSocket A');
			assert.deepEqual(wsB.queue.map((m) => m.text), [],
				'nothing else on WebSocket B');
		});
	});

	test('D-50: REGISTER on Mw keeps the request, Max-Forwards one ' +
	     'less, imsedge\'s Via (rport) over the browser\'s unchanged ' +
	     'Via; the core\'s 100 stays on Mw; the 200 reaches the ' +
	     'browser with Service-Route and P-Associated-URI unchanged',
	     async () => {
		const reg = new Registration();
		const req1 = reg.next();
		const req2 = reg.next([], { maxForwards: 10 });
		await withScscf('mw', { vars: {
			CALLID: reg.callId.replaceAll('.', '\\.'),
			FROMTAG: reg.fromTag,
			BRANCH1: req1.branch,
			BRANCH2: req2.branch,
		} }, async (t) => {
			const ws = await t.open();
			for (const req of [req1, req2]) {
				const res = await t.register(ws, req);
				assertAnswers(res, req, 200, 'OK');
				assert.deepEqual(res.headers['service-route'], [
					`<sip:orig@127.0.0.1:${t.scscf};lr>`,
					`<sip:orig2@127.0.0.1:${t.scscf};lr;x=1>`]);
				assert.deepEqual(res.headers['p-associated-uri'], [
					'<sip:alice@ims.test>, <tel:+15550001>']);
				assert.deepEqual(res.headers['contact'], [
					`<sip:alice@${HOST};transport=ws>;expires=600`]);
			}
		});
	});
});

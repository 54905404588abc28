// The eP-CSCF trust boundary (24.229 5.2.6.3; 33.203 U.2): a table of
// hostile requests from a browser, each asserting exactly what reached
// the core, byte for byte, or the refusal. Checklist D-20, D-52..D-55.
//
// Two cores:
// - the real Kamailio (test/kamailio), which registers a REGISTER with
//   integrity-protected="auth-done" from imsedge's Mw address 127.0.0.2
//   without a challenge: the forged-TNA table must not register anyone;
// - FakeCore below, an edge fake that says so: a UDP/TCP socket acting as
//   the S-CSCF (200 to everything, Service-Route naming itself) and
//   keeping the bytes of every request imsedge sends it.
// An "evil" socket stands for a host a browser names in a Request-URI or
// Route: nothing may ever reach it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
	startImsedge, Kamailio, UdpSip, SipWs, tmpDir, sleep, freePort,
	freeUdpTcpPort, parseSipMessage, sipResponseTo, ORIGIN,
} from './helpers.mjs';

const T = { timeout: 30000 };
const AUD = 'wss://edge.ims.test:7443';
const ALICE = 'sip:alice@ims.test';

/** Split a TCP byte stream into SIP messages by Content-Length */
function sipFrames(state, chunk, onMessage) {
	state.buf = Buffer.concat([state.buf, chunk]);
	for (;;) {
		const eoh = state.buf.indexOf('\r\n\r\n');
		if (eoh < 0)
			return;
		const head = state.buf.subarray(0, eoh).toString('utf8');
		const m = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
		const len = eoh + 4 + (m ? Number(m[1]) : 0);
		if (state.buf.length < len)
			return;
		onMessage(state.buf.subarray(0, len).toString('utf8'));
		state.buf = state.buf.subarray(len);
	}
}

/**
 * The edge fake of the core: answers every request (REGISTER with a
 * Service-Route naming itself) and records the bytes it received
 */
class FakeCore {
	static async start() {
		const c = new FakeCore();
		c.port = await freeUdpTcpPort();
		c.requests = [];
		c.udp = dgram.createSocket('udp4');
		c.udp.on('message', (buf, rinfo) => c.onMessage(buf.toString(
			'utf8'), (t) => c.udp.send(t, rinfo.port, rinfo.address)));
		await new Promise((resolve) => c.udp.bind(c.port, '127.0.0.1',
			resolve));
		c.tcp = net.createServer((sock) => {
			const state = { buf: Buffer.alloc(0) };
			sock.on('data', (d) => sipFrames(state, d, (t) =>
				c.onMessage(t, (r) => sock.write(r))));
			sock.on('error', () => {});
		});
		await new Promise((resolve) => c.tcp.listen(c.port, '127.0.0.1',
			resolve));
		return c;
	}

	get nextHop() {
		return `sip:127.0.0.1:${this.port};transport=udp`;
	}

	get route() {
		return `<sip:orig@127.0.0.1:${this.port};lr>`;
	}

	onMessage(text, reply) {
		const m = parseSipMessage(text);
		if (!m.isRequest)
			return;
		this.requests.push(m);
		if (m.method === 'ACK')
			return;
		const extra = [];
		if (m.method === 'REGISTER') {
			const ex = m.get('expires') ?? '300';
			extra.push(...m.all('contact').map((c) => `Contact: ${c}${
				/;\s*expires=/i.test(c) ? '' : `;expires=${ex}`}`),
				`Service-Route: ${this.route}`,
				`P-Associated-URI: ${m.get('to').replace(/;.*$/, '')}`);
		}
		reply(sipResponseTo(m, 200, 'OK', { extra }));
	}

	/** Requests of one Call-ID */
	of(callId) {
		return this.requests.filter((r) => r.get('call-id') === callId);
	}

	close() {
		this.udp.close();
		this.tcp.close();
	}
}

/** A host a browser may name: records anything that reaches it */
class Evil {
	static async start() {
		const e = new Evil();
		e.port = await freeUdpTcpPort();
		e.got = [];
		e.udp = dgram.createSocket('udp4');
		e.udp.on('message', (b) => e.got.push(b.toString('utf8')));
		await new Promise((resolve) => e.udp.bind(e.port, '127.0.0.1',
			resolve));
		e.tcp = net.createServer((s) => {
			s.on('data', (d) => e.got.push(d.toString('utf8')));
			s.on('error', () => {});
		});
		await new Promise((resolve) => e.tcp.listen(e.port, '127.0.0.1',
			resolve));
		return e;
	}

	close() {
		this.udp.close();
		this.tcp.close();
	}
}

let kam;
let udp;
let core;
let evil;
let imsKam;    // in front of Kamailio, Mw address 127.0.0.2
let imsFake;   // in front of FakeCore, tokens on
let dir;
let key;

function b64u(x) {
	return Buffer.from(x).toString('base64url');
}

function token(over = {}) {
	const now = Math.floor(Date.now() / 1000);
	const jwk = crypto.createPublicKey(key).export({ format: 'jwk' });
	const kid = b64u(crypto.createHash('sha256').update(JSON.stringify(
		{ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest());
	const input = `${b64u(JSON.stringify({ alg: 'ES256', typ: 'JWT',
		kid }))}.${b64u(JSON.stringify({ iss: ORIGIN, aud: AUD,
		sub: 'alice', impi: 'alice@ims.test', impu: [ALICE], iat: now,
		exp: now + 300, jti: b64u(crypto.randomBytes(16)), ...over }))}`;
	const sig = crypto.sign('sha256', Buffer.from(input),
		{ key, dsaEncoding: 'ieee-p1363' });
	return `${input}.${b64u(sig)}`;
}

before(async () => {
	dir = tmpDir();
	key = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
		.privateKey;
	fs.writeFileSync(path.join(dir, 'token.pem'), key.export(
		{ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
	fs.mkdirSync(path.join(dir, 'www'));
	fs.writeFileSync(path.join(dir, 'www', 'index.html'), '<!doctype html>');

	kam = await Kamailio.start();
	udp = await UdpSip.open();
	await udp.unregisterAll(kam.port, 'alice');
	core = await FakeCore.start();
	evil = await Evil.start();
	const common = {
		w2_max_message: 65536,
		w2_ping_interval: 5,
		w2_rate_limit: 1000,
	};
	imsKam = await startImsedge({ ...common, mw_next_hop: kam.nextHop,
		mw_ip: '127.0.0.2' });
	imsFake = await startImsedge({ ...common, mw_next_hop: core.nextHop,
		w2_public_url: AUD,
		wwsf_listen: `127.0.0.1:${await freePort()}`,
		wwsf_root: path.join(dir, 'www'), wwsf_origin: ORIGIN,
		token_key: path.join(dir, 'token.pem') });
});

after(async () => {
	await imsKam?.stopExpectRunning();
	await imsFake?.stopExpectRunning();
	core?.close();
	evil?.close();
	udp?.close();
	await kam?.stop();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

function rnd(n = 6) {
	return crypto.randomBytes(n).toString('hex');
}

/** A REGISTER of alice with these extra header lines */
function register(ua, extra, { callId } = {}) {
	return ua.request({ method: 'REGISTER', ruri: 'sip:ims.test',
		from: `<${ALICE}>`, to: `<${ALICE}>`, callId,
		contact: `${ua.contact};expires=300`,
		extra: ['Expires: 300', 'Supported: path, outbound', ...extra] });
}

/** A browser registered at FakeCore (no token: Digest is the core's) */
async function registered() {
	const ua = await SipWs.open(imsFake.port);
	const r = await register(ua, []);
	assert.equal(r.status, 200, r.text);
	return ua;
}

/** What FakeCore got for this Call-ID (after a moment for stragglers) */
async function atCore(callId, n = 1) {
	await sleep(200);
	const got = core.of(callId);
	assert.equal(got.length, n, `requests at the core for ${callId}:\n${
		got.map((g) => g.text).join('\n')}`);
	return got;
}

function header(m, name) {
	return m.text.split('\r\n').filter((l) => l.toLowerCase()
		.startsWith(`${name.toLowerCase()}:`));
}

// ---- D-52: forged Trusted Node Authentication ---------------------------

const DIG = 'realm="ims.test", nonce="", uri="sip:ims.test", response=""';
const forged = [
	// a quoted-pair in credentials is where parsers disagree: refused
	['issue 10: "alice\\\\" (refused)',
		[`Authorization: Digest username="alice@ims.test\\\\", ` +
			`integrity-protected="auth-done", ${DIG}`], 403],
	['issue 10 without the escape', [`Authorization: Digest ` +
		`username="alice@ims.test", integrity-protected="auth-done", ${DIG}`]],
	['token value', [`Authorization: Digest username="alice@ims.test", ` +
		`integrity-protected=auth-done, ${DIG}`]],
	['upper case name', [`Authorization: Digest username="alice@ims.test", ` +
		`INTEGRITY-PROTECTED="auth-done", ${DIG}`]],
	['blanks around =, last', [`Authorization: Digest ` +
		`username="alice@ims.test", ${DIG}, integrity-protected = ` +
		'"auth-done"']],
	['twice', [`Authorization: Digest username="alice@ims.test", ${DIG}, ` +
		'integrity-protected="auth-done", integrity-protected="auth-done"']],
	['header name in lower case', [`authorization: Digest ` +
		`username="alice@ims.test", integrity-protected="auth-done", ${DIG}`]],
	['Proxy-Authorization', [`Proxy-Authorization: Digest ` +
		`username="alice@ims.test", integrity-protected="auth-done", ${DIG}`]],
	['another scheme', ['Authorization: Foo integrity-protected="auth-done"']],
	['second Authorization', [
		`Authorization: Digest username="alice@ims.test", ${DIG}`,
		`Authorization: Digest username="alice@ims.test", ` +
			`integrity-protected="auth-done", ${DIG}`]],
	['folded', [`Authorization: Digest username="alice@ims.test",\r\n ` +
		`integrity-protected="auth-done", ${DIG}`]],
	['escaped quote (refused)', [`Authorization: Digest ` +
		`username="alice@ims.test\\", integrity-protected="auth-done", ` +
		DIG], 400],
	['hidden in a value (refused)', [`Authorization: Digest ` +
		`username="alice@ims.test", opaque="integrity-protected=auth-done", ` +
		DIG], 403],
	['in another parameter\'s name (refused)', [`Authorization: Digest ` +
		`username="alice@ims.test", xintegrity-protected=auth-done, ` +
		DIG], 403],
	['escaped pair then forged (refused)', [`Authorization: Digest ` +
		`username="a\\\\\\"", integrity-protected="auth-done", ${DIG}`], 403],
	['Bearer and forged Digest', ['Authorization: Bearer x.y.z',
		`Authorization: Digest username="alice@ims.test", ` +
			`integrity-protected="auth-done", ${DIG}`], 403],
];

for (const [what, extra, refused] of forged) {
	test(`D-52 forged TNA, ${what}: Kamailio does not register alice`, T,
		async () => {
			const ua = await SipWs.open(imsKam.port);
			try {
				const from = kam.log.items.length;
				const r = await register(ua, extra);
				assert.notEqual(r.status, 200, r.text);
				if (refused)
					assert.equal(r.status, refused, r.text);
				await sleep(200);
				const lines = kam.log.items.slice(from);
				assert.ok(!lines.some((l) => /TNA auth-done/.test(l)),
					lines.join('\n'));
				assert.ok(!lines.some((l) => /auth-done/.test(l) &&
					l.includes(r.get('call-id'))), lines.join('\n'));
			} finally {
				await ua.close();
			}
		});

	test(`D-52 forged TNA, ${what}: what reaches the core`, T, async () => {
		const ua = await SipWs.open(imsFake.port);
		try {
			const callId = `${rnd(8)}@trust`;
			const r = await register(ua, extra, { callId });
			if (refused) {
				assert.equal(r.status, refused, r.text);
				await atCore(callId, 0);
				await imsFake.waitLog(new RegExp(
					`REGISTER sip:ims.test rejected: `));
				return;
			}
			const [m] = await atCore(callId);
			assert.doesNotMatch(m.text, /auth-done/i);
			// exactly one integrity-protected: ours, on a Digest
			// Authorization (D-10)
			const ip = m.text.match(/integrity-protected/gi) ?? [];
			const digest = header(m, 'Authorization')
				.filter((l) => /^authorization:\s*digest/i.test(l));
			assert.equal(ip.length, digest.length, m.text);
			for (const l of digest)
				assert.match(l, /, integrity-protected="tls-pending"$/);
			assert.doesNotMatch(m.text, /\r\n[ \t]/, 'folded line');
		} finally {
			await ua.close();
		}
	});
}

// ---- D-53: network-trusted headers --------------------------------------

const trusted = [
	'P-Asserted-Identity: <sip:boss@ims.test>',
	'p-asserted-identity: "Boss" <sip:boss@ims.test>',
	'P-ASSERTED-IDENTITY : <tel:+15550009>',
	'P-Charging-Vector: icid-value=forged',
	'P-Charging-Function-Addresses: ccf=192.0.2.66',
	'P-Visited-Network-ID: forged.example',
	'Path: <sip:forged.example;lr>',
	'Service-Route: <sip:forged.example;lr>',
	'P-Served-User: <sip:boss@ims.test>',
	'P-Access-Network-Info: 3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=forged',
	'Security-Client: tls;q=0.1',
	'Security-Verify: tls;q=0.1',
	'Security-Server: tls;q=0.1',
	'P-Profile-Key: <sip:forged.example>',
	'P-Asserted-Service: urn:urn-7:3gpp-service.ims.icsi.forged',
	'P-Associated-URI: <sip:boss@ims.test>',
	'P-Called-Party-ID: <sip:boss@ims.test>',
	'Record-Route: <sip:forged.example;lr>',
];

test('D-53: forged P-headers in a MESSAGE never reach the core; the ' +
	'asserted identity is the registered one', T, async () => {
	const ua = await registered();
	try {
		// the From in the browser's spelling; the asserted identity is
		// the core's
		const r = await ua.message({ to: 'sip:bob@ims.test',
			from: '<sip:alice@IMS.TEST;x=y>',
			extra: trusted });
		assert.equal(r.status, 200, r.text);
		const [m] = await atCore(r.get('call-id'));
		assert.doesNotMatch(m.text, /forged|boss|15550009/i);
		assert.deepEqual(header(m, 'P-Asserted-Identity'),
			[`P-Asserted-Identity: <${ALICE}>`]);
		const pcv = header(m, 'P-Charging-Vector');
		assert.equal(pcv.length, 1, m.text);
		assert.match(pcv[0], /^P-Charging-Vector: icid-value=[0-9a-f]{32};/);
		for (const h of ['P-Charging-Function-Addresses',
			'P-Visited-Network-ID', 'Path', 'Service-Route',
			'P-Served-User', 'P-Access-Network-Info', 'Security-Client',
			'Security-Verify', 'Security-Server', 'P-Profile-Key',
			'P-Asserted-Service', 'P-Associated-URI', 'P-Called-Party-ID',
			'Record-Route'])
			assert.deepEqual(header(m, h), [], h);
		assert.deepEqual(header(m, 'Route'), [`Route: ${core.route}`]);
		assert.deepEqual(header(m, 'Max-Forwards'), ['Max-Forwards: 69']);
	} finally {
		await ua.close();
	}
});

test('D-53: forged P-headers in a REGISTER are replaced by ours', T,
	async () => {
		const ua = await SipWs.open(imsFake.port);
		try {
			const callId = `${rnd(8)}@trust`;
			const r = await register(ua, trusted, { callId });
			assert.equal(r.status, 200, r.text);
			const [m] = await atCore(callId);
			assert.doesNotMatch(m.text, /forged|boss|15550009/i);
			assert.equal(header(m, 'Path').length, 1);
			assert.match(header(m, 'Path')[0], /^Path: <sip:fl[0-9a-f]+@/);
			assert.equal(header(m, 'P-Visited-Network-ID').length, 1);
			assert.equal(header(m, 'P-Charging-Vector').length, 1);
			assert.deepEqual(header(m, 'P-Asserted-Identity'), []);
		} finally {
			await ua.close();
		}
	});

// ---- D-54: routing only toward the core ---------------------------------

test('D-54: Request-URI and Route naming another host: the request goes ' +
	'to the Service-Route, nothing to that host', T, async () => {
	const ua = await registered();
	try {
		const host = `127.0.0.1:${evil.port}`;
		const cases = [
			{ to: `sip:bob@${host}`, extra: [] },
			{ to: `sip:bob@${host};transport=tcp`, extra: [] },
			{ to: 'sip:bob@ims.test', extra: [`Route: <sip:${host};lr>`] },
			{ to: 'sip:bob@ims.test', extra: [`route: <sip:${host};lr>, ` +
				`<sip:${host};lr;transport=tcp>`] },
		];
		for (const c of cases) {
			const r = await ua.message(c);
			assert.equal(r.status, 200, r.text);
			const [m] = await atCore(r.get('call-id'));
			assert.deepEqual(header(m, 'Route'), [`Route: ${core.route}`]);
		}
		// headers embedded in the Request-URI: refused
		const h = await ua.message({ to: 'sip:bob@ims.test?Route=' +
			`%3Csip:${host};lr%3E` });
		assert.equal(h.status, 400);
		assert.equal(h.reason, 'Headers in Request-URI');
		await atCore(h.get('call-id'), 0);
		// in a dialog (To tag): the browser's Route goes along, the
		// request still goes to the core
		const d = ua.build({ method: 'MESSAGE', ruri: `sip:bob@${host}`,
			to: `<sip:bob@ims.test>;tag=abc`, extra: [
				`Route: <sip:${host};lr>`], body: 'x' });
		const r = await ua.request(d);
		assert.equal(r.status, 200, r.text);
		await atCore(d.callId);
		assert.deepEqual(evil.got, []);
	} finally {
		await ua.close();
	}
});

test('D-54 D-55: a stray ACK naming another host goes to the core, not ' +
	'there; with Max-Forwards 0 it is dropped with a log line', T,
	async () => {
		const ua = await registered();
		try {
			const host = `127.0.0.1:${evil.port}`;
			const ack = ua.build({ method: 'ACK', ruri: `sip:bob@${host}`,
				to: '<sip:bob@ims.test>;tag=x1', extra: [
					`Route: <sip:${host};lr>`] });
			await ua.client.send(ack.text);
			const [m] = await atCore(ack.callId);
			assert.deepEqual(header(m, 'Max-Forwards'),
				['Max-Forwards: 69']);

			const mark = imsFake.mark();
			const zero = ua.build({ method: 'ACK', ruri: `sip:bob@${host}`,
				to: '<sip:bob@ims.test>;tag=x2', maxForwards: 0 });
			await ua.client.send(zero.text);
			await imsFake.waitLog(/ACK sip:bob@.* rejected: Too Many Hops/,
				3000, mark);
			await atCore(zero.callId, 0);
			assert.deepEqual(evil.got, []);
		} finally {
			await ua.close();
		}
	});

test('D-54: an ACK on a WebSocket that never registered is dropped', T,
	async () => {
		const ua = await SipWs.open(imsFake.port);
		try {
			const mark = imsFake.mark();
			const ack = ua.build({ method: 'ACK',
				ruri: `sip:bob@127.0.0.1:${evil.port}`,
				to: '<sip:bob@ims.test>;tag=x3' });
			await ua.client.send(ack.text);
			await imsFake.waitLog(/ACK .* dropped: Not Registered/, 3000,
				mark);
			await atCore(ack.callId, 0);
			assert.deepEqual(evil.got, []);
		} finally {
			await ua.close();
		}
	});

// ---- D-55: Max-Forwards edge values --------------------------------------

const maxfwd = [
	['0', 483], ['00', 483], ['1', 0], ['70', 69], ['255', 254],
	['256', 70], ['4294967295', 70], ['4294967296', 70],
	['99999999999999999999', 70], ['-1', 400], ['abc', 400], ['7 0', 400],
	['0x10', 400], [null, 70],
];

test('D-55: Max-Forwards edge values: 483, 400 or one less (70 when ' +
	'absent or out of range), never wrapping', T, async () => {
	const ua = await registered();
	try {
		for (const [v, want] of maxfwd) {
			const req = ua.build({ method: 'MESSAGE',
				ruri: 'sip:bob@ims.test', body: 'x' });
			const text = v === null ?
				req.text.replace('Max-Forwards: 70\r\n', '') :
				req.text.replace('Max-Forwards: 70', `Max-Forwards: ${v}`);
			const r = await ua.request({ ...req, text });
			if (want >= 400) {
				assert.equal(r.status, want, `${v}: ${r.text}`);
				await atCore(req.callId, 0);
				continue;
			}
			assert.equal(r.status, 200, `${v}: ${r.text}`);
			const [m] = await atCore(req.callId);
			assert.deepEqual(header(m, 'Max-Forwards'),
				[`Max-Forwards: ${want}`], `${v}`);
		}
		const dup = ua.build({ method: 'MESSAGE', ruri: 'sip:bob@ims.test',
			extra: ['max-forwards: 0'], body: 'x' });
		const r = await ua.request(dup);
		assert.equal(r.status, 400);
		await atCore(dup.callId, 0);
	} finally {
		await ua.close();
	}
});

// ---- D-20: tokens on every request ---------------------------------------

test('D-20: on a token registration, a malformed or missing token is 403 ' +
	'on every method; ACK/CANCEL not its own are refused too', T,
	async () => {
		const ua = await SipWs.open(imsFake.port);
		try {
			const r = await register(ua, [`Authorization: Bearer ${
				token()}`]);
			assert.equal(r.status, 200, r.text);
			for (const auth of [null, 'Bearer', 'Bearer a b',
				'Bearer garbage.garbage.garbage', 'Bearer access_token=',
				'Bearer access_token="x" y', `Bearer ${token()}x`]) {
				const m = await ua.message({ to: 'sip:bob@ims.test',
					extra: auth ? [`Authorization: ${auth}`] : [] });
				assert.equal(m.status, 403, `${auth}: ${m.text}`);
				assert.match(m.reason, /token/i);
				await atCore(m.get('call-id'), 0);
			}
			const c = await ua.request({ method: 'CANCEL',
				ruri: 'sip:bob@ims.test' });
			assert.equal(c.status, 403);
			assert.match(c.reason, /token/i);

			const mark = imsFake.mark();
			const ack = ua.build({ method: 'ACK',
				ruri: `sip:bob@127.0.0.1:${evil.port}`,
				to: '<sip:bob@ims.test>;tag=x4' });
			await ua.client.send(ack.text);
			await imsFake.waitLog(/ACK .* dropped: Token required/, 3000,
				mark);
			await atCore(ack.callId, 0);

			// with its token the same ACK goes to the core
			const ok = ua.build({ method: 'ACK',
				ruri: `sip:bob@127.0.0.1:${evil.port}`,
				to: '<sip:bob@ims.test>;tag=x5',
				extra: [`Authorization: Bearer ${token()}`] });
			await ua.client.send(ok.text);
			const [m] = await atCore(ok.callId);
			assert.doesNotMatch(m.text, /Bearer/);
			assert.deepEqual(evil.got, []);
		} finally {
			await ua.close();
		}
	});

test('D-20: a malformed token on a Digest registration is 403 too', T,
	async () => {
		const ua = await registered();
		try {
			const m = await ua.message({ to: 'sip:bob@ims.test',
				extra: ['Authorization: Bearer not a token'] });
			assert.equal(m.status, 403, m.text);
			await atCore(m.get('call-id'), 0);
		} finally {
			await ua.close();
		}
	});

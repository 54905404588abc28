// Web authentication at the eP-CSCF (24.371 6.4.2/6.4.3, TS 23.228
// U.2.1.3): REGISTER with a Bearer token, Trusted Node Authentication
// toward Kamailio, and the token attacks, each answered 403 with nothing
// sent on Mw -- proved from Kamailio's side: it logs every request it
// receives ("rcv METHOD ... callid=..."), and no line for the attack's
// Call-ID may appear. Checklist items D-11..D-20.
//
// Tokens are made here with Node's crypto (ES256, the raw r||s
// signature of RFC 7518), so the eP-CSCF's verifier is checked against
// an independent signer. imsedge's own WAF signs with token_key; the
// test holds that key too, which lets it forge pool tokens.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
	startImsedge, Kamailio, UdpSip, SipWs, tmpDir, sleep, freePort, ORIGIN,
} from './helpers.mjs';

const T = { timeout: 20000 };
const OTHER = 'https://other.example';
const AUD = 'wss://edge.ims.test:7443';
const ALICE = 'sip:alice@ims.test';

let kam;
let udp;
let ims;
let dir;
let goodKey;     // our WAF's key (token_key), issuer ORIGIN
let otherKey;    // a second trusted WAF, issuer OTHER
let rogueKey;    // trusted by nobody

function b64u(x) {
	return Buffer.from(x).toString('base64url');
}

function kid(key) {
	// RFC 7638 thumbprint of the public JWK
	const { crv, kty, x, y } = crypto.createPublicKey(key)
		.export({ format: 'jwk' });
	return b64u(crypto.createHash('sha256')
		.update(JSON.stringify({ crv, kty, x, y })).digest());
}

function sign(header, claims, key) {
	const input = `${b64u(JSON.stringify(header))}.${
		b64u(JSON.stringify(claims))}`;
	const sig = crypto.sign('sha256', Buffer.from(input),
		{ key, dsaEncoding: 'ieee-p1363' });
	return `${input}.${b64u(sig)}`;
}

function claims(over = {}) {
	const now = Math.floor(Date.now() / 1000);
	return { iss: ORIGIN, aud: AUD, sub: 'alice', impi: 'alice@ims.test',
		impu: [ALICE], iat: now, exp: now + 300,
		jti: b64u(crypto.randomBytes(16)), ...over };
}

function token(over = {}, key = goodKey, hdr = {}) {
	return sign({ alg: 'ES256', typ: 'JWT', kid: kid(key), ...hdr },
		claims(over), key);
}

before(async () => {
	dir = tmpDir();
	const mk = () => crypto.generateKeyPairSync('ec',
		{ namedCurve: 'P-256' }).privateKey;
	goodKey = mk();
	otherKey = mk();
	rogueKey = mk();
	fs.writeFileSync(path.join(dir, 'token.pem'), goodKey.export(
		{ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
	fs.writeFileSync(path.join(dir, 'other.pem'), crypto.createPublicKey(
		otherKey).export({ format: 'pem', type: 'spki' }));
	fs.mkdirSync(path.join(dir, 'www'));
	fs.writeFileSync(path.join(dir, 'www', 'index.html'), '<!doctype html>');

	kam = await Kamailio.start();
	udp = await UdpSip.open();
	await udp.unregisterAll(kam.port, 'alice');
	ims = await startImsedge({
		mw_next_hop: kam.nextHop,
		mw_ip: '127.0.0.2',
		w2_max_message: 65536,
		w2_ping_interval: 5,
		w2_origin: [ORIGIN, OTHER],
		w2_public_url: AUD,
		wwsf_listen: `127.0.0.1:${await freePort()}`,
		wwsf_root: path.join(dir, 'www'),
		wwsf_origin: ORIGIN,
		token_key: path.join(dir, 'token.pem'),
		identity_pool: 'guests sip:guest{1-5}@ims.test',
		waf_pubkey: `${OTHER} ${path.join(dir, 'other.pem')}`,
	});
});

after(async () => {
	await ims?.stopExpectRunning();
	udp?.close();
	await kam?.stop();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

/** A REGISTER of `aor` carrying `auth` (an Authorization value) */
function register(ua, auth, { aor = ALICE, expires = 300, extra = [] } = {}) {
	return ua.request({ method: 'REGISTER', ruri: 'sip:ims.test',
		from: `<${aor}>`, to: `<${aor}>`,
		contact: `${ua.contact};expires=${expires}`,
		extra: [`Expires: ${expires}`, 'Supported: path, outbound',
			...(auth ? [`Authorization: ${auth}`] : []), ...extra] });
}

async function wss(origin = ORIGIN) {
	const ua = await SipWs.open(ims.port, { origin });
	return ua;
}

/** Kamailio logged no request with this Call-ID (give it time to) */
async function coreSawNothing(callId) {
	await sleep(300);
	const seen = kam.log.items.filter((l) => l.includes(`callid=${callId}`));
	assert.deepEqual(seen, [], 'the request reached the core');
}

test('D-11 D-16 D-17: a valid Bearer REGISTER is sent with TNA auth-done, ' +
	'no Bearer, and is not challenged', T, async () => {
	const ua = await wss();
	try {
		const from = kam.log.items.length;
		const r = await register(ua, `Bearer ${token()}`);
		assert.equal(r.status, 200, r.text);
		const line = await kam.waitLog(/REGISTER sip:alice@ims\.test: TNA/,
			3000, from);
		assert.match(line, /from 127\.0\.0\.2, username=alice@ims\.test/);
		assert.match(line, /auth=\[Digest username="alice@ims\.test", realm="ims\.test", uri="sip:ims\.test", nonce="", response="", integrity-protected="auth-done"\]/);
		assert.doesNotMatch(line, /Bearer/);
		// one request reached Kamailio: no 401 round trip (D-16)
		const regs = kam.log.items.slice(from)
			.filter((l) => /rcv REGISTER/.test(l));
		assert.equal(regs.length, 1);
		assert.ok(!kam.log.items.slice(from)
			.some((l) => /auth failed/.test(l)));
	} finally {
		await ua.close();
	}
});

test('D-12: the access_token="..." form of Bearer is accepted too', T,
	async () => {
		const ua = await wss();
		try {
			const r = await register(ua,
				`Bearer access_token="${token()}"`);
			assert.equal(r.status, 200, r.text);
		} finally {
			await ua.close();
		}
	});

test('D-19: Expires is capped at the token\'s remaining lifetime', T,
	async () => {
		const ua = await wss();
		try {
			const now = Math.floor(Date.now() / 1000);
			const from = kam.log.items.length;
			const r = await register(ua, `Bearer ${token({ exp: now + 60 })}`,
				{ expires: 3600 });
			assert.equal(r.status, 200, r.text);
			const line = await kam.waitLog(/TNA auth-done/, 3000, from);
			const ex = Number(/expires=(\d+)/.exec(line)[1]);
			assert.ok(ex <= 60 && ex >= 55, `Expires ${ex}`);
			const mine = r.all('contact').flatMap((c) => c.split(/,\s*(?=<)/))
				.find((c) => c.includes(ua.host));
			assert.ok(mine, r.text);
			const granted = Number(/expires=(\d+)/.exec(mine)[1]);
			assert.ok(granted <= 60, `granted ${granted}: ${mine}\n${r.text}`);
		} finally {
			await ua.close();
		}
	});

// Each attack: the token (or header) and the reason phrase of the 403
const now = () => Math.floor(Date.now() / 1000);
const attacks = [
	['D-13 tampered payload', () => {
		const [h, , s] = token().split('.');
		return `Bearer ${h}.${b64u(JSON.stringify(claims({
			impu: ['sip:alice@ims.test', 'sip:bob@ims.test'] })))}.${s}`;
	}, /signature/i],
	['D-13 wrong signature (a key nobody trusts)', () =>
		`Bearer ${token({}, rogueKey, { kid: kid(goodKey) })}`,
	/signature/i],
	['D-13 alg none', () => `Bearer ${b64u(JSON.stringify(
		{ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify(claims()))}.`,
	/algorithm|malformed/i],
	['D-13 HS256 keyed with the public key', () => {
		const input = `${b64u(JSON.stringify({ alg: 'HS256',
			typ: 'JWT' }))}.${b64u(JSON.stringify(claims()))}`;
		const pub = crypto.createPublicKey(goodKey)
			.export({ format: 'pem', type: 'spki' });
		const mac = crypto.createHmac('sha256', pub).update(input).digest();
		return `Bearer ${input}.${b64u(mac)}`;
	}, /algorithm/i],
	['D-13 expired', () => `Bearer ${token({ iat: now() - 600,
		exp: now() - 120 })}`, /expired/i],
	['D-13 wrong audience', () => `Bearer ${token({
		aud: 'wss://someone-else.example' })}`, /audience/i],
	['D-13 unknown key id', () => `Bearer ${token({}, goodKey,
		{ kid: 'nope' })}`, /key/i],
	['D-13 malformed Bearer', () => 'Bearer abc def', /malformed/i],
	['D-15 issuer not the WWSF of this Origin', () => `Bearer ${token(
		{ iss: OTHER }, otherKey)}`, /origin/i],
	['D-15 issuer nobody trusts', () => `Bearer ${token(
		{ iss: 'https://evil.example' }, rogueKey)}`, /issuer/i],
	['D-14 IMPU not in the claims', () => `Bearer ${token(
		{ impu: ['sip:bob@ims.test'] })}`, /not covered/i],
	['D-18 pool token for an IMPU outside the pool', () => `Bearer ${token(
		{ pool: 'guests', impu: [ALICE] })}`, /pool/i],
	['D-18 pool IMPU no lease holds', () => `Bearer ${token(
		{ pool: 'guests', impu: ['sip:guest3@ims.test'],
			impi: 'guest3@ims.test' })}`, /lease/i,
	'sip:guest3@ims.test'],
];

for (const [name, auth, reason, aor] of attacks) {
	test(`${name}: 403, nothing on Mw`, T, async () => {
		const ua = await wss();
		try {
			const r = await register(ua, auth(), { aor });
			assert.equal(r.status, 403, r.text);
			assert.match(r.reason, reason);
			await coreSawNothing(r.get('call-id'));
			assert.ok(ims.lines.some((l) => l.includes(r.reason)),
				'no log line with the reason');
		} finally {
			await ua.close();
		}
	});
}

test('D-15: the other WWSF\'s token works on a WebSocket from its own ' +
	'Origin', T, async () => {
	const ua = await wss(OTHER);
	try {
		const r = await register(ua, `Bearer ${token({ iss: OTHER },
			otherKey)}`);
		assert.equal(r.status, 200, r.text);
	} finally {
		await ua.close();
	}
});

test('D-20: after a token registration, requests need a valid token and ' +
	'the token never reaches the core', T, async () => {
	const ua = await wss();
	try {
		const tok = token();
		assert.equal((await register(ua, `Bearer ${tok}`)).status, 200);
		const to = 'sip:nobody@127.0.0.1:9';

		const none = await ua.message({ to });
		assert.equal(none.status, 403);
		assert.match(none.reason, /token required/i);
		await coreSawNothing(none.get('call-id'));

		const bad = await ua.message({ to, extra: [
			`Authorization: Bearer ${token({}, rogueKey,
				{ kid: kid(goodKey) })}`] });
		assert.equal(bad.status, 403);
		await coreSawNothing(bad.get('call-id'));

		const other = await ua.message({ to, extra: [
			`Authorization: Bearer ${token({ impu: ['sip:bob@ims.test'] })}`] });
		assert.equal(other.status, 403);
		assert.match(other.reason, /registration/i);

		const from = kam.log.items.length;
		const ok = ua.message({ to: 'sip:alice@ims.test',
			extra: [`Authorization: Bearer ${tok}`] });
		const line = await kam.waitLog(/rcv MESSAGE/, 3000, from);
		assert.doesNotMatch(line, /Bearer/);
		await ok.catch(() => {});
	} finally {
		await ua.close();
	}
});

test('Kamailio challenges auth-done from anyone but the eP-CSCF', T,
	async () => {
		const r = await udp.request(kam.port, (via) => [
			'REGISTER sip:ims.test SIP/2.0', `Via: ${via}`,
			'Max-Forwards: 70', 'From: <sip:alice@ims.test>;tag=x1',
			'To: <sip:alice@ims.test>', `Call-ID: ${b64u(
				crypto.randomBytes(6))}@udp.invalid`,
			'CSeq: 1 REGISTER', 'Contact: <sip:a@127.0.0.1:9>',
			'Expires: 60', 'Authorization: Digest username=' +
			'"alice@ims.test", realm="ims.test", uri="sip:ims.test", ' +
			'nonce="", response="", integrity-protected="auth-done"',
			'Content-Length: 0', '', ''].join('\r\n'));
		assert.equal(r.status, 401);
	});

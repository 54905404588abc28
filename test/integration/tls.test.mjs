// TLS versions and resumption on W2 (WSS) and the WWSF (HTTPS), against
// real clients: Node's TLS (OpenSSL inside Node) with minVersion/
// maxVersion, and the openssl command line (s_client -tls1_3/-tls1_2).
// TLS 1.3 is preferred, TLS 1.2 kept for older clients, AEAD suites only;
// a reconnecting client resumes with the session ticket it was given.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { once } from 'node:events';
import {
	startImsedge, tmpDir, freePort, within, CA, CERT, ORIGIN,
} from './helpers.mjs';

const T = { timeout: 30000 };

let ims;
let dir;
let wwsfPort;

before(async () => {
	dir = tmpDir();
	const key = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
		.privateKey;
	fs.writeFileSync(path.join(dir, 'token.pem'), key.export(
		{ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
	fs.mkdirSync(path.join(dir, 'www'));
	fs.writeFileSync(path.join(dir, 'www', 'index.html'),
		'<!doctype html>');
	wwsfPort = await freePort();
	ims = await startImsedge({
		w2_public_url: 'wss://localhost:@W2PORT@',
		wwsf_listen: `127.0.0.1:${wwsfPort}`,
		wwsf_root: path.join(dir, 'www'),
		wwsf_origin: ORIGIN,
		token_key: path.join(dir, 'token.pem'),
		w2_handshake_timeout: 10,
	});
});

after(async () => {
	await ims?.stopExpectRunning();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

/** A Node TLS connection; resolves with the socket once established */
async function connect(port, opts = {}) {
	const s = tls.connect({ host: '127.0.0.1', port, ca: CA,
		servername: 'localhost', ...opts });
	// a TLS 1.2 ticket comes in the handshake, a TLS 1.3 one after it
	s.sessionP = within(once(s, 'session'), 5000, 'session ticket');
	s.sessionP.catch(() => {});
	const err = once(s, 'error').then(([e]) => { throw e; });
	await within(Promise.race([once(s, 'secureConnect'), err]), 5000,
		'TLS handshake');
	s.on('error', () => {});
	return s;
}

function closeSock(s) {
	s.destroy();
}

/** openssl s_client with args; resolves with its stdout */
function sClient(port, args, input = 'Q\n') {
	return new Promise((resolve, reject) => {
		const p = spawn('openssl', ['s_client', '-connect',
			`127.0.0.1:${port}`, '-servername', 'localhost',
			'-CAfile', CERT, ...args],
		{ stdio: ['pipe', 'pipe', 'pipe'] });
		let out = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { out += d; });
		const t = setTimeout(() => p.kill(), 10000);
		p.on('error', reject);
		p.on('close', () => {
			clearTimeout(t);
			resolve(out);
		});
		// give the server time to send its tickets before quitting
		setTimeout(() => p.stdin.end(input), 1500);
	});
}

const servers = [['W2', () => ims.port], ['WWSF', () => wwsfPort]];

for (const [name, port] of servers) {
	test(`${name}: a default Node client gets TLS 1.3 with an AEAD suite`,
		T, async () => {
			const s = await connect(port());
			assert.equal(s.getProtocol(), 'TLSv1.3');
			assert.match(s.getCipher().name,
				/^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA/);
			assert.equal(s.getPeerCertificate().subject.CN, 'localhost');
			closeSock(s);
		});

	test(`${name}: a TLS 1.2-only Node client gets ECDHE with AEAD`,
		T, async () => {
			const s = await connect(port(), { maxVersion: 'TLSv1.2' });
			assert.equal(s.getProtocol(), 'TLSv1.2');
			assert.match(s.getCipher().name,
				/^ECDHE-(ECDSA|RSA)-.*(GCM|CHACHA20)/);
			closeSock(s);
		});

	test(`${name}: a TLS 1.3-only Node client is served`, T, async () => {
		const s = await connect(port(), { minVersion: 'TLSv1.3' });
		assert.equal(s.getProtocol(), 'TLSv1.3');
		closeSock(s);
	});

	test(`${name}: TLS 1.1 and non-AEAD TLS 1.2 suites are refused`,
		T, async () => {
			await assert.rejects(connect(port(), {
				minVersion: 'TLSv1', maxVersion: 'TLSv1.1',
				ciphers: 'DEFAULT@SECLEVEL=0' }));
			await assert.rejects(connect(port(), {
				maxVersion: 'TLSv1.2',
				ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA' }));
		});

	for (const v of ['TLSv1.3', 'TLSv1.2']) {
		test(`${name}: a ${v} Node client resumes with its ticket`, T,
			async () => {
				const a = await connect(port(),
					{ minVersion: v, maxVersion: v });
				const [session] = await a.sessionP;
				assert.equal(a.isSessionReused(), false);
				closeSock(a);
				const b = await connect(port(),
					{ minVersion: v, maxVersion: v, session });
				assert.equal(b.getProtocol(), v);
				const reused = b.isSessionReused();
				closeSock(b);
				assert.equal(reused, true, 'the second handshake resumed');
			});
	}

	test(`${name}: openssl s_client -tls1_3 and -tls1_2`, T, async () => {
		const o13 = await sClient(port(), ['-tls1_3']);
		assert.match(o13, /New, TLSv1\.3, Cipher is TLS_/);
		assert.match(o13, /Verify return code: 0 \(ok\)/);
		const o12 = await sClient(port(), ['-tls1_2']);
		assert.match(o12, /New, TLSv1\.2, Cipher is ECDHE-/);
		assert.match(o12, /Verify return code: 0 \(ok\)/);
	});

	test(`${name}: openssl s_client resumes (-sess_out, -sess_in)`, T,
		async () => {
			const sess = path.join(dir, `${name}.sess`);
			for (const v of ['-tls1_3', '-tls1_2']) {
				fs.rmSync(sess, { force: true });
				const first = await sClient(port(),
					[v, '-sess_out', sess]);
				assert.match(first, /^New, /m);
				const again = await sClient(port(),
					[v, '-sess_in', sess]);
				assert.match(again, /^Reused, /m, `${v} reused`);
			}
		});
}

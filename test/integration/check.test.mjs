// imsedge -t checks everything start would need (issue 14): files that
// load, the web root, addresses of this host, free ports (or held by the
// running imsedge: -t before a reload), token keys not trusted twice --
// every problem on its own line as "FILE:LINE: key: reason".

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import {
	startImsedge, runSync, tmpDir, freePort, configText, baseConfig, CERT,
	KEY,
} from './helpers.mjs';

let dir;

before(() => { dir = tmpDir(); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Write conf, run -t: {status, stdout, problems: [[line, text]], file} */
function check(conf) {
	const file = path.join(dir, `${crypto.randomUUID()}.conf`);
	const text = configText(conf);
	fs.writeFileSync(file, text);
	const r = runSync(['-t', '-c', file]);
	const problems = r.stderr.split('\n').filter(Boolean).map((l) => {
		assert.ok(l.startsWith(`${file}:`), l);
		const m = /^:(\d+): (.*)$/.exec(l.slice(file.length));
		assert.ok(m, `no FILE:LINE: ${l}`);
		return [Number(m[1]), m[2]];
	});
	const lineOf = (key) => text.split('\n')
		.findIndex((l) => l.startsWith(`${key} `)) + 1;
	return { ...r, problems, file, lineOf };
}

async function ports() {
	return { w2_listen: `127.0.0.1:${await freePort()}`,
		mw_listen: `127.0.0.1:${await freePort()}` };
}

test('a good config with WWSF and media passes', async () => {
	fs.mkdirSync(path.join(dir, 'www'), { recursive: true });
	fs.writeFileSync(path.join(dir, 'www', 'index.html'), 'x');
	const key = path.join(dir, 'tok.pem');
	fs.writeFileSync(key, crypto.generateKeyPairSync('ec',
		{ namedCurve: 'P-256' }).privateKey.export({ format: 'pem',
		type: 'pkcs8' }));
	const r = check({ ...baseConfig(), ...await ports(),
		media_listen: '127.0.0.1',
		wwsf_listen: `127.0.0.1:${await freePort()}`,
		wwsf_root: path.join(dir, 'www'), token_key: key,
		w2_public_url: 'wss://x.example:7443' });
	assert.deepEqual(r.problems, []);
	assert.equal(r.status, 0);
});

test('every problem at once, each with its line', async () => {
	const users = path.join(dir, 'users');
	fs.writeFileSync(users, 'alice not-a-hash\n');
	const notPriv = path.join(dir, 'pub.pem');
	fs.writeFileSync(notPriv, crypto.createPublicKey(crypto
		.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey)
		.export({ format: 'pem', type: 'spki' }));
	const r = check({ ...baseConfig(), ...await ports(),
		tls_key: path.join(dir, 'missing-key.pem'),
		media_listen: '203.0.113.77',
		wwsf_listen: `127.0.0.1:${await freePort()}`,
		wwsf_root: path.join(dir, 'no-such-dir'),
		wwsf_users: users,
		token_key: notPriv,
		w2_public_url: 'wss://x.example:7443' });
	assert.equal(r.status, 1);
	assert.equal(r.stdout, '');
	const want = [
		[r.lineOf('tls_key'), /^tls_key: .*missing-key\.pem: cannot read: No such file/],
		[r.lineOf('token_key'), /^token_key: .*: not an EC P-256 private key$/],
		[r.lineOf('wwsf_users'), /^wwsf_users: .*users:1: /],
		[r.lineOf('wwsf_root'), /^wwsf_root: .*no-such-dir is not a directory/],
		[r.lineOf('media_listen'), /^media_listen: 203\.0\.113\.77 is not an address of this host$/],
	];
	assert.equal(r.problems.length, want.length, r.stderr);
	for (const [line, re] of want)
		assert.ok(r.problems.some(([l, t]) => l === line && re.test(t)),
			`want line ${line} ${re} in:\n${r.stderr}`);
});

test('a web root without index.html', async () => {
	fs.mkdirSync(path.join(dir, 'empty'), { recursive: true });
	const key = path.join(dir, 'tok2.pem');
	fs.writeFileSync(key, crypto.generateKeyPairSync('ec',
		{ namedCurve: 'P-256' }).privateKey.export({ format: 'pem',
		type: 'pkcs8' }));
	const r = check({ ...baseConfig(), ...await ports(),
		wwsf_listen: `127.0.0.1:${await freePort()}`,
		wwsf_root: path.join(dir, 'empty'), token_key: key,
		w2_public_url: 'wss://x.example:7443' });
	assert.deepEqual(r.problems, [[r.lineOf('wwsf_root'),
		`wwsf_root: ${path.join(dir, 'empty')} has no index.html ` +
		'(make www builds the page)']]);
});

test('ports another program holds are refused (TCP and UDP)', async () => {
	const srv = net.createServer().listen(0, '127.0.0.1');
	await once(srv, 'listening');
	const udp = dgram.createSocket('udp4');
	udp.bind(0, '127.0.0.1');
	await once(udp, 'listening');
	try {
		const r = check({ ...baseConfig(),
			w2_listen: `127.0.0.1:${srv.address().port}`,
			mw_listen: `127.0.0.1:${udp.address().port}` });
		assert.deepEqual(r.problems, [
			[r.lineOf('w2_listen'), `w2_listen: 127.0.0.1:${
				srv.address().port} (tcp) is in use by another program`],
			[r.lineOf('mw_listen'), `mw_listen: 127.0.0.1:${
				udp.address().port} (udp) is in use by another program`],
		]);
		assert.equal(r.status, 1);
	} finally {
		srv.close();
		udp.close();
	}
});

test('ports the running imsedge holds pass (-t before a reload)',
	async () => {
		const ims = await startImsedge();
		try {
			const r = check({ ...baseConfig(),
				w2_listen: `127.0.0.1:${ims.port}`,
				mw_listen: `127.0.0.1:${ims.mwPort}`,
				tls_cert: CERT, tls_key: KEY });
			assert.deepEqual(r.problems, []);
			assert.equal(r.status, 0);
		} finally {
			await ims.stopExpectRunning();
		}
	});

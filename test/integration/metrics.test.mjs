// Metrics for scrapers that are not on this host (issue 14): with
// metrics_token, GET /metrics on the WWSF's HTTPS listener answers the
// Prometheus text to a request carrying that token as its bearer token,
// and 401 (WWW-Authenticate: Bearer, a security event in the log) to any
// other; without metrics_token the path does not exist. metrics_listen
// stays loopback-only plain HTTP; -t refuses the misconfigurations with
// their line. SIGHUP takes a new token at once (rotation without a
// restart; this also proves a WWSF without a users file, guests only,
// can be reloaded at all: it could not). The scrape is parsed with
// parse-prometheus-text-format (npm).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import parse from 'parse-prometheus-text-format';
import {
	startImsedge, baseConfig, configText, runSync, tmpDir, freePort, ORIGIN,
	httpsGet,
} from './helpers.mjs';

const T = { timeout: 20000 };
const TOKEN = crypto.randomBytes(32).toString('base64');
const TOKEN2 = crypto.randomBytes(33).toString('base64url');

let dir;
let web;        // the keys that turn the WWSF on
let ims;
let wwsfPort;

/** One HTTPS request to the WWSF: {status, headers, body} */
function req(port, { path: p = '/metrics', headers = {}, ...opts } = {}) {
	return httpsGet(port, headers, { path: p, ...opts });
}

const bearer = (t) => ({ Authorization: `Bearer ${t}` });

before(async () => {
	dir = tmpDir();
	const key = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
		.privateKey;
	fs.writeFileSync(path.join(dir, 'token.pem'), key.export(
		{ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
	fs.mkdirSync(path.join(dir, 'www'));
	fs.writeFileSync(path.join(dir, 'www', 'index.html'), '<!doctype html>');
	wwsfPort = await freePort();
	web = {
		w2_public_url: 'wss://edge.ims.test:7443',
		wwsf_listen: `127.0.0.1:${wwsfPort}`,
		wwsf_root: path.join(dir, 'www'),
		wwsf_origin: ORIGIN,
		token_key: path.join(dir, 'token.pem'),
	};
	ims = await startImsedge({ ...web, metrics_token: TOKEN });
});

after(async () => {
	await ims?.stopExpectRunning();
	if (dir)
		fs.rmSync(dir, { recursive: true, force: true });
});

test('metrics_token: GET https://WWSF/metrics with the bearer token is ' +
	'the Prometheus text, parsed by a Prometheus parser', T, async () => {
	const r = await req(wwsfPort, { headers: bearer(TOKEN) });
	assert.equal(r.status, 200, r.body);
	assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
	assert.match(r.headers['cache-control'], /no-store/);
	const families = parse(r.body);
	const names = families.map((f) => f.name);
	for (const n of ['imsedge_websocket_connections',
		'imsedge_registrations', 'imsedge_resident_memory_bytes'])
		assert.ok(names.includes(n), `${n} in ${names.join(' ')}`);
	for (const f of families)
		assert.match(f.name, /^imsedge_[a-z0-9_]+$/);
	// the scrape itself is a WWSF request: an HSTS header like any page
	assert.ok(r.headers['strict-transport-security'],
		JSON.stringify(r.headers));
});

test('metrics_token: no token, a wrong one, another scheme, a prefix of ' +
	'it and the token with a character more: 401, WWW-Authenticate: ' +
	'Bearer, a security event each; nothing of the metrics leaks',
T, async () => {
	const cases = [
		[{}, 'no_token'],
		[bearer('x'.repeat(44)), 'wrong_token'],
		[bearer(TOKEN.slice(0, -1)), 'wrong_token'],
		[bearer(`${TOKEN}A`), 'wrong_token'],
		[{ Authorization: `Basic ${Buffer.from(`u:${TOKEN}`)
			.toString('base64')}` }, 'no_token'],
		[{ Authorization: TOKEN }, 'no_token'],
	];
	for (const [headers, reason] of cases) {
		const from = ims.mark();
		const r = await req(wwsfPort, { headers });
		assert.equal(r.status, 401, JSON.stringify(headers));
		assert.match(r.headers['www-authenticate'], /^Bearer /);
		assert.doesNotMatch(r.body, /imsedge_/);
		await ims.waitLog(new RegExp('security: event=metrics_refused ' +
			`.*reason=${reason}`), 2000, from);
	}
});

test('metrics_token: only GET; other paths under /metrics are files ' +
	'(404), not the metrics', T, async () => {
	const post = await req(wwsfPort, { method: 'POST', payload: '{}',
		headers: { ...bearer(TOKEN), Origin: ORIGIN,
			'Content-Type': 'application/json' } });
	assert.equal(post.status, 405);
	assert.match(post.headers.allow, /GET/);
	for (const p of ['/metrics/', '/metrics.txt', '/Metrics',
		'/api/metrics']) {
		const r = await req(wwsfPort, { path: p, headers: bearer(TOKEN) });
		assert.equal(r.status, 404, p);
		assert.doesNotMatch(r.body, /imsedge_/, p);
	}
	const q = await req(wwsfPort, { path: '/metrics?x=1',
		headers: bearer(TOKEN) });
	assert.equal(q.status, 200);
});

test('metrics_token: SIGHUP with a new token: the old one is refused at ' +
	'once, the new one scrapes', T, async () => {
	const from = ims.mark();
	ims.writeConfig(baseConfig({ ...web, metrics_token: TOKEN2 }));
	ims.signal('SIGHUP');
	await ims.waitLog(/main: reloaded /, 3000, from);
	assert.equal((await req(wwsfPort, { headers: bearer(TOKEN) })).status,
		401);
	assert.equal((await req(wwsfPort, { headers: bearer(TOKEN2) })).status,
		200);
});

test('without metrics_token there is no /metrics on the WWSF (404, even ' +
	'with a token)', T, async () => {
	const port = await freePort();
	const one = await startImsedge({ ...web,
		wwsf_listen: `127.0.0.1:${port}` });
	try {
		const r = await req(port, { headers: bearer(TOKEN) });
		assert.equal(r.status, 404);
		assert.doesNotMatch(r.body, /imsedge_/);
	} finally {
		await one.stopExpectRunning();
	}
});

test('-t refuses metrics misconfigurations with FILE:LINE: a short token, ' +
	'a character outside b64token, a token without the WWSF, ' +
	'metrics_listen off loopback', T, async () => {
	const cases = [
		[{ ...web, metrics_token: 'short' }, 'metrics_token',
			/must be 32 to 256 characters/],
		[{ ...web, metrics_token: `${'a'.repeat(40)}"x` },
			'metrics_token', /character '"' is not allowed/],
		[{ metrics_token: TOKEN }, null, /metrics_token need wwsf_listen/],
		[{ metrics_listen: '0.0.0.0:9100' }, 'metrics_listen',
			/not a loopback address.*metrics_token/],
	];
	for (const [over, key, re] of cases) {
		const file = path.join(dir, 'bad.conf');
		const text = configText(baseConfig({
			w2_listen: `127.0.0.1:${await freePort()}`,
			mw_listen: `127.0.0.1:${await freePort()}`,
			control_socket: path.join(dir, 'ctl.sock'), ...over }));
		fs.writeFileSync(file, text);
		const r = runSync(['-t', '-c', file]);
		assert.equal(r.status, 1, r.stderr);
		// the line of the key at fault, or (a key missing) the end
		const lines = text.split('\n');
		const at = key ? lines.findIndex((l) => l.startsWith(`${key} `)) +
			1 : null;
		const line = r.stderr.split('\n').find((l) => re.test(l));
		assert.ok(line, r.stderr);
		assert.match(line, new RegExp(`^${file}${at ? `:${at}` : ''}: `));
		assert.ok(!r.stderr.includes(TOKEN), 'the token is not logged');
	}
});

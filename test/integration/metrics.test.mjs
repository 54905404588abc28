// Metrics for scrapers that are not on this host (issue 14): with
// metrics_token, GET /metrics on the WWSF's HTTPS listener answers the
// Prometheus text to a request carrying that token as its bearer token,
// and 401 (WWW-Authenticate: Bearer, a security event in the log) to any
// other; without metrics_token the path does not exist. metrics_listen
// stays loopback-only plain HTTP; -t refuses the misconfigurations with
// their line. SIGHUP takes a new token at once (rotation without a
// restart; this also proves a WWSF without a users file, guests only,
// can be reloaded at all: it could not). The scrape is parsed with
// parse-prometheus-text-format (npm). Under load: metrics_listen
// scraped over and over while 50 WSS clients connect and send OPTIONS;
// every scrape parses, no counter goes down, the connection gauge
// counts all 50.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import parse from 'parse-prometheus-text-format';
import {
	startImsedge, baseConfig, configText, runSync, tmpDir, freePort, ORIGIN,
	httpsGet, SipWs,
} from './helpers.mjs';

const T = { timeout: 20000 };
const TOKEN = crypto.randomBytes(32).toString('base64');
const TOKEN2 = crypto.randomBytes(33).toString('base64url');

let dir;
let web;        // the keys that turn the WWSF on
let ims;
let wwsfPort;
let metricsPort;

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
	metricsPort = await freePort();
	ims = await startImsedge({ ...web, metrics_token: TOKEN,
		metrics_listen: `127.0.0.1:${metricsPort}` });
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

/** GET http://127.0.0.1:metricsPort/metrics: the body */
function scrape() {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port: metricsPort, path: '/metrics' },
			(res) => {
				let body = '';
				res.setEncoding('utf8');
				res.on('data', (d) => (body += d));
				res.on('end', () => (res.statusCode === 200 ?
					resolve(body) : reject(new Error(
						`HTTP ${res.statusCode}: ${body}`))));
			}).on('error', reject);
	});
}

/** Counter values of a parsed scrape by name{labels}; a histogram's or
 *  summary's count too */
function counters(families) {
	const out = new Map();
	for (const f of families) {
		for (const m of f.metrics) {
			const k = `${f.name}${JSON.stringify(m.labels ?? {})}`;
			if (f.type === 'COUNTER')
				out.set(k, Number(m.value));
			else if (m.count !== undefined)
				out.set(`${k}_count`, Number(m.count));
		}
	}
	return out;
}

const gauge = (families, name) => Number(families
	.find((f) => f.name === name)?.metrics[0]?.value);

test('metrics_listen under load: scraped 20 times while 50 WSS clients ' +
	'connect and send OPTIONS; every scrape parses, no counter goes down, ' +
	'the connection gauge reaches 50', T, async (t) => {
	const N = 50;
	const base = parse(await scrape());
	const conns0 = gauge(base, 'imsedge_websocket_connections');
	const clients = [];
	let loaded = false;
	const load = (async () => {
		// two waves: w2_pending_per_address (32) handshakes at a time
		for (let w = 0; w < 2; w++)
			clients.push(...await Promise.all(Array.from(
				{ length: N / 2 }, () => SipWs.open(ims.port))));
		await Promise.all(clients.map(async (c) => {
			for (let i = 0; i < 3; i++)
				await c.request({ method: 'OPTIONS',
					ruri: 'sip:ims.test' });
		}));
		loaded = true;
	})();
	load.catch(() => {});
	const scrapes = [];
	let during = 0;
	try {
		// back to back while the load runs; at least 20, and one with
		// every client open once it is done
		while (scrapes.length < 20 || !loaded) {
			const text = await scrape();
			let fams;
			assert.doesNotThrow(() => (fams = parse(text)),
				`scrape ${scrapes.length} does not parse`);
			assert.ok(fams.length > 20, text);
			scrapes.push(fams);
			if (!loaded)
				during++;
			if (scrapes.length > 400)
				await load;      // a load that failed: its error
		}
		await load;
		scrapes.push(parse(await scrape()));
	} finally {
		for (const c of clients)
			c.client.ws.terminate();
	}
	let prev = counters(base);
	for (const [i, fams] of scrapes.entries()) {
		const cur = counters(fams);
		for (const [k, v] of prev) {
			assert.ok(cur.has(k), `scrape ${i}: ${k} gone`);
			assert.ok(cur.get(k) >= v, `scrape ${i}: ${k} ${v} -> ${
				cur.get(k)}`);
		}
		prev = cur;
	}
	const top = Math.max(...scrapes.map((f) =>
		gauge(f, 'imsedge_websocket_connections')));
	assert.ok(top >= conns0 + N, `connections: ${conns0} -> ${top}`);
	const opts = (f) => counters(f).get('imsedge_sip_requests_total' +
		'{"side":"browser","method":"OPTIONS"}') ?? 0;
	assert.ok(opts(scrapes.at(-1)) - opts(base) >= 3 * N,
		`OPTIONS: ${opts(base)} -> ${opts(scrapes.at(-1))}`);
	// the scrapes overlapped the load (not all before or after it)
	assert.ok(during >= 2, `${during} scrapes during the load`);
	t.diagnostic(`${scrapes.length} scrapes, ${during} during the load; ` +
		`connections ${conns0} -> ${top}`);
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
	ims.writeConfig(baseConfig({ ...web, metrics_token: TOKEN2,
		metrics_listen: `127.0.0.1:${metricsPort}` }));
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

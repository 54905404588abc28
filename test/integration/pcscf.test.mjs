// eP-CSCF end to end: browsers (JsSIP, or a hand-written SIP-over-WSS
// client) -> imsedge -> the Kamailio S-CSCF stand-in (test/kamailio) and
// back. Checklist items from ../shared/spec/webrtc-ims-digest.md section 8.
//
// One Kamailio for the file; each test starts its own imsedge and, before
// it runs, every binding of alice, bob and carol is removed at Kamailio
// (REGISTER Contact: * straight over UDP), so no test sees another's
// registrations.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
	startImsedge, Kamailio, UdpSip, UdpTap, SipWs, JsSipUa, openWss,
	sipOptions, closedPort, sleep,
} from './helpers.mjs';

const USERS = ['alice', 'bob', 'carol'];
const T = { timeout: 20000 };
const FLOW_PATH = (mwPort) => new RegExp(
	`^<sip:fl[0-9a-f]{24}@127\\.0\\.0\\.1:${mwPort};lr;ob>$`);

let kam;
let udp;

before(async () => {
	kam = await Kamailio.start();
	udp = await UdpSip.open();
});

after(async () => {
	udp?.close();
	await kam?.stop();
});

beforeEach(async () => {
	for (const u of USERS)
		await udp.unregisterAll(kam.port, u);
});

/** imsedge as eP-CSCF, next hop Kamailio unless `over` says otherwise */
function pcscf(over = {}) {
	return startImsedge({
		mw_next_hop: kam.nextHop,
		w2_max_message: 65536,
		w2_ping_interval: 5,
		...over,
	});
}

/** Cleanups run last-in first-out after the test, failures or not */
function cleanups(t) {
	const list = [];
	t.after(async () => {
		let first;
		for (const f of list.reverse()) {
			try {
				await f();
			} catch (e) {
				first ??= e;
			}
		}
		if (first)
			throw first;
	});
	return (f) => list.push(f);
}

async function imsedgeFor(t, over) {
	const ims = await pcscf(over);
	const defer = cleanups(t);
	defer(() => ims.stopExpectRunning());
	return { ims, defer };
}

async function jssipUas(defer, port, ...users) {
	const uas = users.map((user) => new JsSipUa({ port, user }));
	for (const ua of uas)
		defer(() => ua.stop());
	await Promise.all(uas.map((ua) => ua.start()));
	return uas;
}

async function rawUa(defer, port, user) {
	const c = await SipWs.open(port, { user });
	defer(() => c.close());
	return c;
}

function tags(value) {
	return (value ?? '').split(',').map((s) => s.trim().toLowerCase());
}

test('D-4/D-5/D-22: alice and bob register through imsedge (Path, ' +
	'Require: path, P-Visited-Network-ID, P-Charging-Vector on Mw); ' +
	'MESSAGEs both ways arrive over the registration\'s WebSocket with ' +
	'P-Asserted-Identity', T, async (t) => {
	const tap = await UdpTap.start(kam.port);
	const { ims, defer } = await imsedgeFor(t, {
		mw_next_hop: tap.nextHop,
		visited_network_id: 'visited.example',
	});
	defer(() => tap.close());

	const [alice, bob] = await jssipUas(defer, ims.port, 'alice', 'bob');

	// D-4, D-5: what the core got for each user (401 round, then 200)
	const paths = {};
	for (const user of ['alice', 'bob']) {
		const regs = tap.requests.items.filter((m) =>
			m.method === 'REGISTER' &&
			m.get('to').includes(`sip:${user}@ims.test`));
		assert.ok(regs.length >= 2, `${user}: REGISTER, 401, REGISTER ` +
			`on Mw; saw ${regs.length}`);
		for (const m of regs) {
			assert.match(m.get('path'), FLOW_PATH(ims.mwPort),
				`${user}: Path with the flow token\n${m.text}`);
			assert.ok(tags(m.all('require').join(',')).includes('path'),
				`Require: path\n${m.text}`);
			assert.ok(tags(m.all('supported').join(',')).includes('path'),
				`Supported: path\n${m.text}`);
			assert.deepEqual(m.all('p-visited-network-id'),
				['visited.example']);
			assert.match(m.get('p-charging-vector') ?? '',
				/icid-value=[^;\s]+/, `P-Charging-Vector\n${m.text}`);
			// Max-Forwards: one less than the browser sent
			const ua = user === 'alice' ? alice : bob;
			const sent = ua.trace.items.find((x) => x.dir === 'out' &&
				x.msg.get('call-id') === m.get('call-id') &&
				x.msg.get('cseq') === m.get('cseq'));
			assert.ok(sent, `the browser's REGISTER for ${m.get('cseq')}`);
			assert.equal(Number(m.get('max-forwards')),
				Number(sent.msg.get('max-forwards')) - 1);
		}
		const authd = regs.find((m) => m.get('authorization'));
		assert.ok(authd, `${user}: a REGISTER with credentials`);
		assert.match(authd.get('authorization'),
			/integrity-protected="tls-pending"/);
		paths[user] = regs[0].get('path');
	}
	assert.notEqual(paths.alice, paths.bob, 'one flow per WebSocket');
	await ims.waitLog(/alice@ims\.test registered for 300 s/);
	await ims.waitLog(/bob@ims\.test registered for 300 s/);

	// D-22: alice -> bob arrives on bob's WebSocket only
	const aliceIn = alice.trace.mark();
	let got = bob.nextMessage(5000, bob.events.mark());
	let r = await alice.sendMessage('sip:bob@ims.test', 'hello bob');
	let m = await got;
	assert.equal(r.status, 200, `alice's MESSAGE: ${JSON.stringify(r)}`);
	assert.equal(m.request.body, 'hello bob');
	assert.deepEqual(m.request.getHeaders('P-Asserted-Identity'),
		['<sip:alice@ims.test>']);
	assert.match(m.request.getHeader('Via'), /^SIP\/2\.0\/WSS /,
		'imsedge\'s Via on top of what bob gets');
	assert.ok(!alice.trace.items.slice(aliceIn).some((x) =>
		x.dir === 'in' && x.msg.method === 'MESSAGE'),
	'the MESSAGE went to bob\'s WebSocket, not alice\'s');

	// and back
	got = alice.nextMessage(5000, alice.events.mark());
	r = await bob.sendMessage('sip:alice@ims.test', 'hello alice');
	m = await got;
	assert.equal(r.status, 200, `bob's MESSAGE: ${JSON.stringify(r)}`);
	assert.equal(m.request.body, 'hello alice');
	assert.deepEqual(m.request.getHeaders('P-Asserted-Identity'),
		['<sip:bob@ims.test>']);
});

test('D-4: the REGISTER 200 relayed to the browser carries Service-Route, ' +
	'P-Associated-URI and the Path imsedge sent; the 401 carries the ' +
	'challenge', T,
async (t) => {
	const { ims, defer } = await imsedgeFor(t);
	const alice = await rawUa(defer, ims.port, 'alice');

	const { challenge, response } = await alice.register({ expires: 300 });
	assert.ok(challenge, `a 401 first, got ${response.first}`);
	assert.equal(challenge.status, 401);
	assert.match(challenge.get('www-authenticate') ?? '',
		/^Digest .*realm="ims\.test"/);
	assert.equal(challenge.all('security-server').length, 0);

	assert.equal(response.status, 200, response.text);
	assert.deepEqual(response.all('service-route'),
		[`<sip:orig@127.0.0.1:${kam.port};lr>`]);
	assert.deepEqual(response.all('p-associated-uri')
		.flatMap((v) => v.split(',').map((s) => s.trim())),
	['<sip:alice@ims.test>', '<tel:+15550001>']);
	assert.match(response.get('contact') ?? '', /;expires=300\b/);
	// Kamailio echoes the Path it stored (proof imsedge sent one)
	assert.match(response.get('path') ?? '', FLOW_PATH(ims.mwPort));
	// our own Via is gone, the browser's is on top
	assert.equal(response.all('via').length, 1);
	assert.match(response.get('via'), new RegExp(alice.host));
	await ims.waitLog(
		/alice@ims\.test registered for 300 s \(2 identities\)/);
});

test('D-50: registration refresh keeps the binding; deregistration ' +
	'removes it at the core and at imsedge', T, async (t) => {
	const { ims, defer } = await imsedgeFor(t);
	const [alice, bob] = await jssipUas(defer, ims.port, 'alice', 'bob');
	await ims.waitLog(/alice@ims\.test registered for 300 s/);

	// refresh: another REGISTER round on the same WebSocket, 200 again
	const regLines = () => ims.lines.filter((l) =>
		/alice@ims\.test registered for 300 s/.test(l)).length;
	const before = regLines();
	const tr = alice.trace.mark();
	const ev = alice.events.mark();
	const logMark = ims.mark();
	alice.ua.register();
	const ok = await alice.trace.wait((x) => x.dir === 'in' &&
		x.msg.cseq?.method === 'REGISTER' && x.msg.status >= 200,
	5000, tr);
	// a 401 round may come first; wait for the final one
	const final = ok.msg.status === 401 ?
		(await alice.trace.wait((x) => x.dir === 'in' &&
			x.msg.cseq?.method === 'REGISTER' &&
			x.msg.status >= 200 && x.msg.status !== 401, 5000, tr)).msg :
		ok.msg;
	assert.equal(final.status, 200, final.text);
	assert.match(final.get('contact') ?? '', /expires=300/);
	assert.ok(alice.ua.isRegistered());
	assert.ok(!alice.events.items.slice(ev).some((x) =>
		x.name === 'registrationFailed' || x.name === 'unregistered'));
	await ims.waitLog(/alice@ims\.test registered for 300 s/, 3000,
		logMark);
	assert.equal(regLines(), before + 1, 'the refresh was logged');
	// the refreshed binding still routes
	const got = bob.nextMessage(5000, bob.events.mark());
	let r = await alice.sendMessage('sip:bob@ims.test', 'after refresh');
	assert.equal(r.status, 200, JSON.stringify(r));
	assert.equal((await got).request.body, 'after refresh');

	// explicit deregistration of bob
	const mark = ims.mark();
	const evb = bob.events.mark();
	bob.ua.unregister();
	await bob.waitEvent('unregistered', 5000, evb);
	await ims.waitLog(/bob@ims\.test deregistered/, 3000, mark);

	// the core no longer knows bob
	r = await alice.sendMessage('sip:bob@ims.test', 'anyone?');
	assert.ok(!r.ok && [404, 480].includes(r.status),
		`MESSAGE to the deregistered bob: ${JSON.stringify(r)}`);
	// and imsedge no longer lets bob's WebSocket send as bob
	r = await bob.sendMessage('sip:alice@ims.test', 'still here?');
	assert.equal(r.status, 403, JSON.stringify(r));
	assert.equal(r.reason, 'Not Registered');
});

test('D-20: only registered identities may send: no binding -> 403 Not ' +
	'Registered; From not registered -> 403 Identity Not Registered; ' +
	'P-Preferred-Identity of an associated URI is asserted', T, async (t) => {
	const { ims, defer } = await imsedgeFor(t);

	// a WebSocket that never registered
	const stranger = await rawUa(defer, ims.port, 'alice');
	let mark = ims.mark();
	let r = await stranger.message({ to: 'sip:bob@ims.test' });
	assert.equal(r.status, 403, r.text);
	assert.equal(r.reason, 'Not Registered');
	await ims.waitLog(/rejected: Not Registered/, 2000, mark);
	// a keepalive OPTIONS (no user part) is still answered by imsedge
	r = await stranger.request({ method: 'OPTIONS', ruri: 'sip:127.0.0.1',
		to: '<sip:127.0.0.1>' });
	assert.equal(r.status, 200, r.text);

	const alice = await rawUa(defer, ims.port, 'alice');
	const bob = await rawUa(defer, ims.port, 'bob');
	await alice.registerOk();
	await bob.registerOk();

	// From a user alice did not register
	mark = ims.mark();
	r = await alice.message({ to: 'sip:bob@ims.test',
		from: '<sip:carol@ims.test>', body: 'I am carol' });
	assert.equal(r.status, 403, r.text);
	assert.equal(r.reason, 'Identity Not Registered');
	await ims.waitLog(/rejected: Identity Not Registered/, 2000, mark);

	// P-Preferred-Identity naming someone else's number: refused too
	r = await alice.message({ to: 'sip:bob@ims.test',
		extra: ['P-Preferred-Identity: <tel:+15550003>'] });
	assert.equal(r.status, 403, r.text);
	assert.equal(r.reason, 'Identity Not Registered');

	// alice's own alias (P-Associated-URI) as preferred identity
	let reqs = bob.requests.mark();
	let sent = alice.message({ to: 'sip:bob@ims.test', body: 'from my tel',
		extra: ['P-Preferred-Identity: <tel:+15550001>'] });
	let m = await bob.nextRequest((x) => x.method === 'MESSAGE', 5000,
		reqs);
	assert.equal(m.body, 'from my tel');
	assert.deepEqual(m.all('p-asserted-identity'), ['<tel:+15550001>']);
	assert.deepEqual(m.all('p-preferred-identity'), []);
	await bob.reply(m, 200, 'OK');
	r = await sent;
	assert.equal(r.status, 200, r.text);

	// a P-Asserted-Identity from the browser is not trusted
	reqs = bob.requests.mark();
	sent = alice.message({ to: 'sip:bob@ims.test', body: 'spoof',
		extra: ['P-Asserted-Identity: <sip:carol@ims.test>'] });
	m = await bob.nextRequest((x) => x.method === 'MESSAGE', 5000, reqs);
	assert.deepEqual(m.all('p-asserted-identity'), ['<sip:alice@ims.test>']);
	await bob.reply(m, 200, 'OK');
	assert.equal((await sent).status, 200);
});

test('D-21: after the callee\'s WebSocket closed, a request for it fails ' +
	'(430 Flow Failed) at once; a request pending on a WebSocket that ' +
	'closes gets 480', T, async (t) => {
	const { ims, defer } = await imsedgeFor(t);
	const [alice, bob] = await jssipUas(defer, ims.port, 'alice', 'bob');

	let mark = ims.mark();
	bob.terminate();
	await ims.waitLog(/WebSocket closed/, 3000, mark);

	mark = ims.mark();
	const r = await alice.sendMessage('sip:bob@ims.test', 'gone?',
		{ ms: 6000 });
	t.diagnostic(`MESSAGE to bob after his WebSocket closed: ${r.status} ` +
		`${r.reason} in ${r.ms} ms`);
	assert.ok(!r.ok && [430, 480].includes(r.status),
		`MESSAGE to bob after his WebSocket closed: ${JSON.stringify(r)}`);
	assert.ok(r.ms < 4000, `answered in ${r.ms} ms`);
	await ims.waitLog(/MESSAGE for a flow that has gone: 430/, 2000, mark);

	// a raw bob that takes the MESSAGE and drops the connection instead
	// of answering
	await udp.unregisterAll(kam.port, 'bob');
	const bob2 = await rawUa(defer, ims.port, 'bob');
	await bob2.registerOk();
	const reqs = bob2.requests.mark();
	const pending = alice.sendMessage('sip:bob@ims.test', 'answer me',
		{ ms: 6000 });
	await bob2.nextRequest((x) => x.method === 'MESSAGE', 5000, reqs);
	bob2.terminate();
	const r2 = await pending;
	assert.equal(r2.status, 480, JSON.stringify(r2));
	assert.ok(r2.ms < 4000, `answered in ${r2.ms} ms`);
});

test('imsedge core down: REGISTER gets 408 after mw_timeout over UDP and ' +
	'503 at once over TCP; imsedge keeps serving and works when the core ' +
	'is back', T,
async (t) => {
	const deadPort = await closedPort();
	const { ims, defer } = await imsedgeFor(t, {
		mw_next_hop: `sip:127.0.0.1:${deadPort};transport=udp`,
		mw_timeout: 2,
	});

	const alice = await rawUa(defer, ims.port, 'alice');
	let mark = ims.mark();
	let r = await alice.register({ ms: 6000 });
	assert.equal(r.response.status, 408, r.response.text);
	assert.equal(r.response.reason, 'Request Timeout');
	assert.ok(r.response.elapsed >= 1800 && r.response.elapsed <= 4000,
		`408 after ${r.response.elapsed} ms (mw_timeout 2 s)`);
	await ims.waitLog(/REGISTER to sip:ims\.test: no answer from the core/,
		1000, mark);

	// still serving: a new connection's OPTIONS and the old connection
	const probe = await openWss(ims.port);
	defer(() => probe.terminate());
	const o = await probe.request(sipOptions().text);
	assert.equal(o.status, 200);
	r = await alice.request({ method: 'OPTIONS', ruri: 'sip:127.0.0.1',
		to: '<sip:127.0.0.1>' });
	assert.equal(r.status, 200);

	// the core comes back on that address: registration works
	const kam2 = await Kamailio.start({ port: deadPort });
	defer(() => kam2.stop());
	r = await alice.register();
	assert.equal(r.response.status, 200, r.response.text);
	assert.deepEqual(r.response.all('service-route'),
		[`<sip:orig@127.0.0.1:${deadPort};lr>`]);

	// over TCP to a closed port: 503 without waiting for mw_timeout
	const tcpPort = await closedPort();
	const ims2 = await pcscf({
		mw_next_hop: `sip:127.0.0.1:${tcpPort};transport=tcp`,
		mw_timeout: 10,
	});
	defer(() => ims2.stopExpectRunning());
	const carol = await rawUa(defer, ims2.port, 'carol');
	r = await carol.register({ ms: 5000 });
	assert.equal(r.response.status, 503, r.response.text);
	assert.ok(r.response.elapsed < 2000,
		`503 after ${r.response.elapsed} ms`);
	const probe2 = await openWss(ims2.port);
	defer(() => probe2.terminate());
	assert.equal((await probe2.request(sipOptions().text)).status, 200);
});

test('imsedge limits: max_registrations refuses a binding beyond it ' +
	'with 503 and Retry-After', T, async (t) => {
	const { ims, defer } = await imsedgeFor(t, { max_registrations: 1 });
	const alice = await rawUa(defer, ims.port, 'alice');
	const bob = await rawUa(defer, ims.port, 'bob');

	await alice.registerOk();
	let r = await bob.register();
	assert.equal(r.response.status, 503, r.response.text);
	assert.equal(r.response.reason, 'Too Many Registrations');
	assert.match(r.response.get('retry-after') ?? '', /^\d+/);

	// a refresh of the existing binding is not a new one
	r = await alice.register();
	assert.equal(r.response.status, 200, r.response.text);

	// once alice is gone there is room for bob
	r = await alice.register({ expires: 0 });
	assert.equal(r.response.status, 200, r.response.text);
	await ims.waitLog(/alice@ims\.test deregistered/);
	r = await bob.register();
	assert.equal(r.response.status, 200, r.response.text);
});

test('imsedge limits: w2_rate_limit answers a burst over the rate with 503 ' +
	'Retry-After: 1', T, async (t) => {
	const { ims, defer } = await imsedgeFor(t, { w2_rate_limit: 3 });
	const alice = await rawUa(defer, ims.port, 'alice');
	await alice.registerOk();
	await sleep(1100);     // a fresh one-second window

	const answers = await Promise.all(Array.from({ length: 10 }, (_, i) =>
		alice.message({ to: 'sip:carol@ims.test', body: `burst ${i}` })));
	const limited = answers.filter((a) => a.status === 503);
	const passed = answers.filter((a) => a.status !== 503);
	assert.ok(limited.length >= 1, 'some requests were limited: ' +
		answers.map((a) => a.status).join(' '));
	assert.ok(passed.length >= 1 && passed.length <= 3, 'at most 3 ' +
		`passed: ${answers.map((a) => a.status).join(' ')}`);
	for (const a of limited)
		assert.deepEqual(a.all('retry-after'), ['1'], a.text);
	for (const a of passed)
		assert.equal(a.status, 404, 'carol is not registered: ' + a.text);

	// the next second is a new window
	await sleep(1100);
	const a = await alice.message({ to: 'sip:carol@ims.test' });
	assert.equal(a.status, 404, a.text);
});

test('D-50: a binding ends on its own when the time the core granted ' +
	'runs out',
	T, async (t) => {
	// the tap shortens what Kamailio grants (min 10 s) to 1 s
	const tap = await UdpTap.start(kam.port);
	const { ims, defer } = await imsedgeFor(t, { mw_next_hop: tap.nextHop });
	defer(() => tap.close());
	tap.rewrite = (text) => /^SIP\/2\.0 200 .*\r\nCSeq: \d+ REGISTER/s
		.test(text) ? text.replace(/;expires=300\b/g, ';expires=1') : text;

	const alice = await rawUa(defer, ims.port, 'alice');
	const { response } = await alice.registerOk();
	assert.match(response.get('contact'), /;expires=1\b/,
		'the tap edited the 200');
	await ims.waitLog(/alice@ims\.test registered for 1 s/);
	let r = await alice.message({ to: 'sip:carol@ims.test' });
	assert.equal(r.status, 404, 'still registered: to the core');

	await ims.waitLog(/registration of sip:alice@ims\.test expired/, 3000);
	r = await alice.message({ to: 'sip:carol@ims.test' });
	assert.equal(r.status, 403, r.text);
	assert.equal(r.reason, 'Not Registered');
});

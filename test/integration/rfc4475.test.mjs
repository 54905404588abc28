// RFC 4475 torture messages on all three transports of the eP-CSCF: W2
// (a WebSocket that has not registered), Mw UDP and Mw TCP (straight to
// imsedge's Mw port). Valid ones are parsed and answered (W2: 403 Not
// Registered or 483; Mw: 404 when they route through no flow); invalid
// ones get 400 with a log line, or, when nothing can be answered, a
// WebSocket close 1007 (W2) or a drop (UDP) / close (TCP) with a log
// line naming the peer. The messages follow the RFC; test/unit/rfc4475.c
// holds the parser-level table.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import {
	startImsedge, openWss, parseSipMessage, closedPort, sleep,
} from './helpers.mjs';

const T = { timeout: 20000 };
const SDP = ['v=0', 'o=mhandley 29739 7272939 IN IP4 192.0.2.1', 's=-',
	'c=IN IP4 192.0.2.1', 't=0 0', 'm=audio 49217 RTP/AVP 0 12',
	'm=video 3227 RTP/AVP 31', 'a=rtpmap:31 LPC', ''].join('\r\n');

/** Lines to a message; @CL@ becomes the body's length */
function msg(lines, body = '') {
	return lines.join('\r\n').replace('@CL@', String(Buffer.byteLength(
		body))) + '\r\n\r\n' + body;
}

function longreq() {
	const vias = [];
	for (let i = 33; i > 0; i--)
		vias.push(`${['Via', 'v', 'V  '][i % 3]}: SIP/2.0/TCP ` +
			`sip${i}.example.com`);
	return msg(['INVITE sip:user@example.com SIP/2.0',
		`To: "I have a user name of ${'extreme'.repeat(10)} proportion"` +
			'<sip:user@example.com:6000;unknownparam1=very' +
			`${'long'.repeat(20)}value>`,
		`F: sip:${'amazinglylongcallername'.repeat(5)}@example.net;tag=12${
			'982'.repeat(50)}424`,
		`Call-ID: longreq.one${'really'.repeat(20)}longcallid`,
		'CSeq: 3882340 INVITE',
		`Unknown-${'Long'.repeat(20)}-Name: unknown-${'long'.repeat(20)}` +
			'-value; unknown-param = x',
		...vias, 'Max-Forwards: 70', 'Content-Type: application/sdp',
		'Content-Length: @CL@'], SDP);
}

// [name, text, W2 status (0: close 1007), Mw status (0: no answer)]
const VALID = [
	['3.4.1 inv2543 (RFC 2543: no branch, no tags)', () => msg([
		'INVITE sip:UserB@example.com SIP/2.0',
		'Via: SIP/2.0/UDP iftgw.example.com',
		'From: <sip:+13035551111@ift.client.example.net;user=phone>',
		'Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>',
		'To: sip:+16505552222@ss1.example.net;user=phone',
		'Call-ID: inv2543.1717@ift.client.example.com', 'CSeq: 56 INVITE',
		'Content-Type: application/sdp', 'Content-Length: @CL@'], SDP),
	403, 404],
	['unknown method with a body', () => msg([
		'NEWMETHOD sip:user@example.com SIP/2.0',
		'To: sip:j.user@example.com',
		'From: sip:caller@example.net;tag=34525', 'Max-Forwards: 6',
		'Call-ID: newmethod.dj0234sxdfl3', 'CSeq: 8 NEWMETHOD',
		'Contact: <sip:caller@host.example.net>',
		'Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw',
		'Content-Type: application/sdp', 'l: @CL@'], SDP), 403, 404],
	['3.1.1.7 longreq', longreq, 403, 404],
	['3.3.11 zeromf', () => msg(['OPTIONS sip:user@example.com SIP/2.0',
		'Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas',
		'CSeq: 39234321 OPTIONS',
		'Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i',
		'Max-Forwards: 0', 'To: sip:user@example.com',
		'From: sip:caller@example.net;tag=3ghsd41', 'l: 0']), 483, 483],
];

const INVALID = [
	['3.1.2.4 scalar02', () => msg(['REGISTER sip:example.com SIP/2.0',
		'Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3',
		'To: <sip:user@example.com>',
		'From: <sip:user@example.com>;tag=239232jh3',
		'CSeq: 36893488147419103232 REGISTER',
		'Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32',
		'Max-Forwards: 300', 'Contact: <sip:user@host129.example.com>',
		'Content-Length: 0']), 'Bad CSeq'],
	['3.1.2.7 ltgtruri', () => msg(['INVITE <sip:user@example.com> SIP/2.0',
		'To: sip:user@example.com', 'From: sip:caller@example.net;tag=39291',
		'Max-Forwards: 23', 'Call-ID: ltgtruri.1@192.0.2.5', 'CSeq: 1 INVITE',
		'Via: SIP/2.0/UDP 192.0.2.5', 'Content-Type: application/sdp',
		'Content-Length: @CL@'], SDP), 'Bad Request-Line'],
	['3.1.2.17 mismatch01', () => msg(['OPTIONS sip:user@example.com SIP/2.0',
		'To: sip:j.user@example.com', 'From: sip:caller@example.net;tag=34525',
		'Max-Forwards: 6', 'Call-ID: mismatch01.dj0234sxdfl3',
		'CSeq: 8 INVITE',
		'Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw', 'l: 0']),
	'CSeq method does not match'],
	['3.3.8 multi01', () => msg(['INVITE sip:user@company.com SIP/2.0',
		'Contact: <sip:caller@host25.example.net>',
		'Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw',
		'Max-Forwards: 70', 'CSeq: 5 INVITE',
		'Call-ID: multi01.98asdh@192.0.2.1', 'CSeq: 59 INVITE',
		'Call-ID: multi01.98asdh@192.0.2.2',
		'From: sip:caller@example.com;tag=3413415', 'To: sip:user@example.com',
		'To: sip:other@example.net',
		'From: sip:caller@example.net;tag=2923420123',
		'Content-Type: application/sdp', 'l: @CL@'], SDP),
	'Header repeated'],
];

// not parsable at all: nothing can be answered
const UNPARSABLE = [
	['no SIP-Version (resiprocate)', () => msg(['INVITE sip:alan@jasomi.com',
		'Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234',
		'To: <sip:alan@jasomi.com>', 'From: <sip:ralph@example.com>;tag=1',
		'Call-ID: nover.aksdj', 'CSeq: 8 INVITE', 'Content-Length: 0'])],
	['a To too short to stand in for', () => msg([
		'OPTIONS sip:user@example.com SIP/2.0', 'To: "a',
		'From: <sip:caller@example.net>;tag=1', 'Call-ID: quot.3',
		'CSeq: 2 OPTIONS', 'Max-Forwards: 70',
		'Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw', 'l: 0'])],
];

let ims;

before(async () => {
	ims = await startImsedge({ mw_next_hop:
		`sip:127.0.0.1:${await closedPort()};transport=udp`,
	w2_max_message: 65536 });
});

after(async () => {
	await ims?.stopExpectRunning();
});

function w2() {
	return openWss(ims.port);
}

/**
 * One datagram to Mw; the response, or null after ms. A UDP response
 * goes to the top Via's sent-by (RFC 3261 18.2.2), so that names this
 * socket.
 */
function udp(text, ms = 1500) {
	return new Promise((resolve) => {
		const s = dgram.createSocket('udp4');
		const t = setTimeout(() => {
			s.close();
			resolve(null);
		}, ms);
		s.on('message', (b) => {
			clearTimeout(t);
			s.close();
			resolve(parseSipMessage(b.toString('utf8')));
		});
		s.bind(0, '127.0.0.1', () => s.send(text.replace(
			/^(Via|v|V) *:[^\r\n;]*/im,
			`Via: SIP/2.0/UDP 127.0.0.1:${s.address().port}`),
		ims.mwPort, '127.0.0.1'));
	});
}

/** One message over a TCP connection to Mw: {rsp, closed} */
function tcp(text, ms = 1500) {
	return new Promise((resolve) => {
		let buf = '';
		let closed = false;
		const s = net.connect(ims.mwPort, '127.0.0.1', () => s.write(text));
		const done = () => {
			s.destroy();
			const i = buf.indexOf('\r\n\r\n');
			resolve({ rsp: i >= 0 ? parseSipMessage(buf) : null, closed });
		};
		const t = setTimeout(done, ms);
		s.on('data', (d) => {
			buf += d.toString('utf8');
			if (buf.includes('\r\n\r\n')) {
				clearTimeout(t);
				done();
			}
		});
		s.on('close', () => {
			closed = true;
			clearTimeout(t);
			done();
		});
		s.on('error', () => {});
	});
}

for (const [name, make, w2Status, mwStatus] of VALID) {
	test(`RFC 4475 valid, ${name}: answered on W2, Mw UDP and Mw TCP`, T,
		async () => {
			const c = await w2();
			try {
				const r = await c.request(make());
				assert.equal(r.status, w2Status, JSON.stringify(r));
			} finally {
				c.terminate();
			}
			const u = await udp(make());
			assert.equal(u?.status, mwStatus, `UDP: ${u?.text}`);
			const { rsp } = await tcp(make());
			assert.equal(rsp?.status, mwStatus, `TCP: ${rsp?.text}`);
		});
}

for (const [name, make, reason] of INVALID) {
	test(`RFC 4475 invalid, ${name}: 400 "${reason}" with a log line on ` +
		'every transport', T, async () => {
		const c = await w2();
		try {
			const mark = ims.mark();
			const r = await c.request(make());
			assert.equal(r.status, 400);
			assert.equal(r.reason, reason);
			await ims.waitLog(new RegExp(`bad SIP request: ${reason}`),
				3000, mark);
		} finally {
			c.terminate();
		}
		for (const [tp, send] of [['udp', async (t) => udp(t)],
			['tcp', async (t) => (await tcp(t)).rsp]]) {
			const mark = ims.mark();
			const rsp = await send(make());
			assert.equal(rsp?.status, 400, `${tp}: ${rsp?.text}`);
			assert.equal(rsp.reason, reason);
			await ims.waitLog(new RegExp(
				`bad SIP request on Mw \\(${tp}\\): ${reason}`, 'i'), 3000,
			mark);
		}
	});
}

for (const [name, make] of UNPARSABLE) {
	test(`RFC 4475 unparsable, ${name}: W2 closes 1007, Mw drops or ` +
		'closes, each with a log line', T, async () => {
		const c = await w2();
		let mark = ims.mark();
		await c.send(make());
		const { code } = await c.waitClose();
		assert.equal(code, 1007);
		await ims.waitLog(/unparsable SIP message .* closing with 1007/,
			3000, mark);

		mark = ims.mark();
		assert.equal(await udp(make(), 800), null);
		await ims.waitLog(/sip: 127\.0\.0\.1:\d+: unparsable message over UDP/,
			3000, mark);

		mark = ims.mark();
		const t = await tcp(make());
		assert.equal(t.rsp, null);
		assert.ok(t.closed, 'TCP connection left open');
		await ims.waitLog(/sip: 127\.0\.0\.1:\d+: unparsable message over TCP/,
			3000, mark);
	});
}

// Decoded only after a repair of the Request-Line or with a wrong
// Content-Length: W2 answers (the socket and its registration stay), Mw
// (libre's parser) drops them (UDP) or closes (TCP) with a log line.
// [name, text, W2 status, W2 reason]
const W2_FAULT = [
	['3.1.2.16 badvers (Via of SIP/7.0 copied as sent)', () => msg([
		'OPTIONS sip:t.watson@example.org SIP/7.0',
		'Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw',
		'Max-Forwards:     70',
		'From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe',
		'To:      T. Watson <sip:t.watson@example.org>',
		'Call-ID: badvers.31417@c.example.com', 'CSeq:    1 OPTIONS',
		'l: 0']), 505, 'Version Not Supported'],
	['3.1.2.8 lwsruri', () => msg([
		'INVITE sip:user@example.com; lr SIP/2.0',
		'To: sip:user@example.com;tag=3xfe-9921883-z9f',
		'From: sip:caller@example.net;tag=231413434', 'Max-Forwards: 5',
		'Call-ID: lwsruri.asdfasdoeoi2323', 'CSeq: 2130706432 INVITE',
		'Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395',
		'Content-Length: 0']), 400, 'Bad Request-Line'],
	['3.1.2.9 lwsstart', () => msg([
		'INVITE  sip:user@example.com  SIP/2.0', 'Max-Forwards: 8',
		'To: sip:user@example.com', 'From: sip:caller@example.net;tag=8814',
		'Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com',
		'CSeq: 1893884 INVITE',
		'Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923',
		'Content-Length: 0']), 400, 'Bad Request-Line'],
	['3.1.2.10 trws', () => msg([
		'OPTIONS sip:remote-target@example.com SIP/2.0  ',
		'Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093',
		'To: <sip:remote-target@example.com>',
		'From: <sip:local-resource@example.com>;tag=329429089',
		'Call-ID: trws.oicu34958239neffasdhr2345r', 'CSeq: 238923 OPTIONS',
		'Max-Forwards: 70', 'Content-Length: 0']), 400, 'Bad Request-Line'],
	['3.1.2.18 mcl01', () => msg([
		'OPTIONS sip:user@example.com SIP/2.0',
		'Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423',
		'To: sip:user@example.com', 'From: sip:other@example.net;tag=3923942',
		'Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf',
		'CSeq: 15932 OPTIONS', 'Content-Length: 13', 'Max-Forwards: 60',
		'Content-Length: 5', 'Content-Type: text/plain'],
	"There's no way to know how many octets are supposed to be here.\r\n"),
	400, 'Bad Content-Length'],
	// a To, From or Content-Type libre's parser cannot take: W2 names it
	// (the To, From and CSeq copied as they came; src/sip/standin.c)
	['3.1.2.6 quotbal', () => msg(['INVITE sip:user@example.com SIP/2.0',
		'To: "Mr. J. User <sip:j.user@example.com>',
		'From: sip:caller@example.net;tag=93334',
		'Max-Forwards: 10', 'Call-ID: quotbal.aksdj', 'CSeq: 8 INVITE',
		'Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234',
		'Content-Type: application/sdp', 'Content-Length: @CL@'], SDP),
	400, 'Bad To', /^To: "Mr\. J\. User <sip:j\.user@example\.com>;tag=/m],
	['3.3.4 unksm2', () => msg(['REGISTER sip:example.com SIP/2.0',
		'To: isbn:2983792873', 'From: <http://www.example.com>;tag=3234233',
		'Call-ID: unksm2.daksdj@hyphenated-host.example.com',
		'CSeq: 234902 REGISTER', 'Max-Forwards: 70',
		'Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw',
		'Contact: <name:John_Smith>', 'l: 0']),
	400, 'Bad From', /^From: <http:\/\/www\.example\.com>;tag=3234233\r$/m],
	['a MESSAGE whose Content-Type has no subtype', () => msg([
		'MESSAGE sip:user@example.com SIP/2.0', 'To: <sip:user@example.com>',
		'From: <sip:caller@example.net>;tag=1', 'Call-ID: ctype.1',
		'CSeq: 7 MESSAGE', 'Max-Forwards: 70',
		'Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw',
		'c: text', 'l: @CL@'], 'hello'),
	400, 'Bad Content-Type', /^CSeq: 7 MESSAGE\r$/m],
];

for (const [name, make, status, reason, copied] of W2_FAULT) {
	test(`RFC 4475 ${name}: W2 answers ${status} and keeps the socket, ` +
		'Mw drops or closes', T, async () => {
		const c = await w2();
		try {
			const mark = ims.mark();
			const r = await c.request(make());
			assert.equal(r.status, status, JSON.stringify(r));
			assert.equal(r.reason, reason);
			assert.match(r.text, /^Via: SIP\/\d\.\d\/(UDP|TCP) /m);
			if (copied)
				assert.match(r.text, copied);
			await ims.waitLog(new RegExp(`bad SIP request: ${reason}`),
				3000, mark);
			// the socket still works
			const ok = await c.request(OPTIONS_EDGE());
			assert.equal(ok.status, 200, JSON.stringify(ok));
		} finally {
			c.terminate();
		}
		// Mw: libre's parser drops it or sipx_validate answers 4xx
		const u = await udp(make(), 800);
		assert.ok(u === null || u.status >= 400, `UDP: ${u?.text}`);
		const t = await tcp(make());
		assert.ok(!t.rsp || t.rsp.status >= 400, `TCP: ${t.rsp?.text}`);
	});
}

test('RFC 4475 3.1.2.16 badvers: the 505 copies the Via as sent', T,
	async () => {
		const c = await w2();
		try {
			const r = await c.request(W2_FAULT[0][1]());
			assert.equal(r.status, 505);
			assert.match(r.text, /^Via: SIP\/7\.0\/UDP c\.example\.com;/m);
			assert.match(r.text, /^Call-ID: badvers\.31417@c\.example\.com/m);
		} finally {
			c.terminate();
		}
	});

// An OPTIONS to the edge itself (no user part): W2 answers 200
const OPTIONS_EDGE = () => msg(['OPTIONS sip:edge.example.com SIP/2.0',
	'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKedge1',
	'Max-Forwards: 70', 'To: <sip:edge.example.com>',
	'From: <sip:probe@example.com>;tag=e1', 'Call-ID: edge.1',
	'CSeq: 1 OPTIONS', 'Content-Length: 0']);

test('Mw TCP without Content-Length: closed with a log line', T, async () => {
	const mark = ims.mark();
	const t = await tcp(msg(['OPTIONS sip:user@example.com SIP/2.0',
		'Via: SIP/2.0/TCP h.example.com;branch=z9hG4bK1',
		'To: sip:user@example.com', 'From: sip:c@example.net;tag=1',
		'Call-ID: nocl.1', 'CSeq: 1 OPTIONS', 'Max-Forwards: 70']));
	assert.ok(t.closed);
	await ims.waitLog(/message over TCP without Content-Length, closing/,
		3000, mark);
	await sleep(10);
});

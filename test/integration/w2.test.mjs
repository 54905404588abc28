// W2 listener end to end: WSS upgrade policy (checklist D-1 Origin,
// D-2 sip subprotocol), SIP over WebSocket, WebSocket limits, pings,
// timeouts, connection limit, SIGTERM and SIGHUP.
//
// Every instance runs with w2_ping_interval 1, w2_handshake_timeout 1
// and w2_max_message 2048 so that each case takes a few seconds at most.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import {
	CERT2, KEY2, ORIGIN, EVIL, RawWss, WebSocket, baseConfig, connectWss,
	httpsGet, openWss, parseSip, sipOptions, sipRequest, sleep,
	startImsedge, tlsConnect, within,
} from './helpers.mjs';

const MAX_MESSAGE = 2048;
const PING_MS = 1000;
const HANDSHAKE_MS = 1000;

function esc(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A log line about the peer 127.0.0.1:port containing `what` */
function peerLine(port, what) {
	return new RegExp(`127\\.0\\.0\\.1:${port}\\b.*${
		typeof what === 'string' ? esc(what) : what.source}`);
}

/** Assert the 200 OK answers `req` (the sipOptions/sipRequest result) */
function assertAnswers(res, req, status = 200, reason = 'OK') {
	assert.equal(res.first, `SIP/2.0 ${status} ${reason}`);
	assert.deepEqual(res.headers['call-id'], [req.callId]);
	assert.deepEqual(res.headers['cseq'], [`${req.cseq} ${req.method}`]);
	assert.deepEqual(res.headers['via'], [
		`SIP/2.0/WSS df7jal23ls0d.invalid;branch=${req.branch}`]);
	assert.deepEqual(res.headers['from'], [req.from]);
	assert.match(res.headers['to']?.[0] ?? '',
		/^<sip:imsedge@127\.0\.0\.1>;tag=\S+$/);
}

/** A SIP OPTIONS padded with a body to exactly `size` bytes */
function optionsOfSize(size) {
	const fixed = { callId: 'size@test.invalid', branch: 'z9hG4bKsize',
		fromTag: 'size' };
	let n = 1;
	for (let i = 0; i < 5; i++) {
		const req = sipOptions({ ...fixed, body: 'x'.repeat(n) });
		const d = size - Buffer.byteLength(req.text);
		if (d === 0)
			return req;
		n += d;
	}
	throw new Error(`cannot build a ${size}-byte OPTIONS`);
}

describe('W2 listener', () => {
	let ims;
	const clients = [];

	before(async () => {
		ims = await startImsedge({
			w2_origin: [ORIGIN, 'http://localhost:8080'] });
	});

	after(async () => {
		for (const c of clients)
			c.terminate();
		await ims?.stopExpectRunning();
	});

	async function open(opts) {
		const c = await openWss(ims.port, opts);
		clients.push(c);
		return c;
	}

	/** A rejected upgrade: status, and the log line with peer + reason */
	async function rejected(opts, status, reason) {
		const r = await connectWss(ims.port, opts);
		assert.equal(r.ok, false, 'the upgrade must not succeed');
		assert.equal(r.status, status);
		assert.match(r.body, new RegExp(esc(reason)));
		assert.ok(r.localPort > 0);
		const line = await ims.waitLog(peerLine(r.localPort,
			`upgrade rejected with ${status}: ${reason}`));
		assert.match(line, /^info +w2: /);
		return r;
	}

	test('D-1, D-2: allowed Origin with sip subprotocol gets 101 and ' +
	     'Sec-WebSocket-Protocol: sip', async () => {
		const r = await connectWss(ims.port);
		assert.equal(r.ok, true);
		clients.push(r.client);
		assert.equal(r.status, 101);
		assert.equal(r.headers['sec-websocket-protocol'], 'sip');
		assert.equal(r.client.ws.protocol, 'sip');
		await ims.waitLog(peerLine(r.client.localPort,
			`WebSocket open (origin ${ORIGIN}`));
	});

	test('D-1: every configured origin is allowed', async () => {
		const c = await open({ origin: 'http://localhost:8080' });
		assert.equal(c.status, 101);
	});

	test('D-2: sip among other offered subprotocols is chosen',
		async () => {
			const c = await open({ protocols: ['foo', 'sip'] });
			assert.equal(c.headers['sec-websocket-protocol'], 'sip');
		});

	test('W2 is TLS 1.3 with an AEAD suite (1.2: tls.test.mjs)',
		async () => {
			const c = await open();
			assert.equal(c.protocol, 'TLSv1.3');
			assert.match(c.cipher.name,
				/^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA/);
			assert.equal(c.peerCert.subject.CN, 'localhost');
		});

	/** A TLS handshake the server refuses (not a refused TCP connect) */
	async function tlsRefused(opts) {
		await assert.rejects(tlsConnect(ims.port, opts), (e) => {
			assert.match(e.code ?? '', /^(ERR_SSL_.*ALERT|ECONNRESET$)/,
				`refused by the server, not ${e.code}: ${e.message}`);
			return true;
		});
	}

	test('a client offering only TLS 1.1 is refused', async () => {
		await tlsRefused({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1',
			ciphers: 'DEFAULT@SECLEVEL=0' });
	});

	test('a client offering only non-ECDHE or non-AEAD suites is refused',
		async () => {
			await tlsRefused({ maxVersion: 'TLSv1.2',
				ciphers: 'AES128-SHA:AES256-SHA:AES128-GCM-SHA256' });
			await tlsRefused({ maxVersion: 'TLSv1.2',
				ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:' +
					'ECDHE-ECDSA-AES256-SHA384' });
		});

	test('D-1: disallowed Origin gets 403', async () => {
		await rejected({ origin: EVIL }, 403,
			`origin '${EVIL}' not allowed`);
	});

	test('D-1: an Origin differing only in scheme or port gets 403',
		async () => {
			await rejected({ origin: 'http://good.example' }, 403,
				"origin 'http://good.example' not allowed");
			await rejected({ origin: 'https://good.example:8443' }, 403,
				"origin 'https://good.example:8443' not allowed");
		});

	test('D-1: no Origin gets 403', async () => {
		await rejected({ origin: null }, 403, 'no Origin');
	});

	test('D-2: no sip subprotocol gets 400', async () => {
		await rejected({ protocols: [] }, 400,
			'Sec-WebSocket-Protocol does not offer sip');
	});

	test('D-2: other subprotocols only (SIP, sip2) get 400', async () => {
		await rejected({ protocols: ['SIP', 'sip2'] }, 400,
			'Sec-WebSocket-Protocol does not offer sip');
	});

	/* an Upgrade request written by hand over TLS: the status line */
	async function rawUpgrade(lines) {
		const s = await tlsConnect(ims.port);
		const localPort = s.localPort;
		s.write(lines.join('\r\n') + '\r\n\r\n', 'latin1');
		let got = '';
		s.setEncoding('latin1');
		await within(new Promise((res) => {
			s.on('data', (d) => {
				got += d;
				if (got.includes('\r\n\r\n'))
					res();
			});
			s.on('close', res);
		}), 3000, 'the answer');
		s.destroy();
		return { status: +(got.match(/^HTTP\/1\.1 (\d{3})/)?.[1] ?? 0),
			got, localPort };
	}

	test('D-1: an Upgrade head a proxy could read differently gets 400 ' +
		'(several Origin, Host or key; a header name with a space; a ' +
		'bare CR; a control character)', async () => {
		const good = ['GET / HTTP/1.1', 'Host: localhost',
			'Upgrade: websocket', 'Connection: Upgrade',
			'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
			'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Protocol: sip'];
		const ok = await rawUpgrade([...good, `Origin: ${ORIGIN}`]);
		assert.equal(ok.status, 101, ok.got);
		const bad = {
			'several Origin': [`Origin: ${ORIGIN}`, `Origin: ${EVIL}`],
			'several Host': [`Origin: ${ORIGIN}`, 'Host: evil.example'],
			'bad Sec-WebSocket-Key': [`Origin: ${ORIGIN}`,
				'Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=='],
			'bad header field name': [`Origin : ${ORIGIN}`],
			'bare CR': [`Origin: ${ORIGIN}\rX-A: b`],
			'control character in the head': [
				`Origin: ${ORIGIN}\x01`],
		};
		for (const [why, extra] of Object.entries(bad)) {
			const r = await rawUpgrade([...good, ...extra]);
			assert.equal(r.status, 400, `${why}: ${r.got}`);
			await ims.waitLog(peerLine(r.localPort,
				`upgrade rejected with 400: ${why}`));
		}
	});

	test('a request that is not an Upgrade gets 426', async () => {
		const r = await httpsGet(ims.port, { Origin: ORIGIN });
		assert.equal(r.status, 426);
		assert.match(r.body, /Upgrade: websocket/);
		await ims.waitLog(peerLine(r.localPort,
			'upgrade rejected with 426: no Upgrade: websocket'));
	});

	test('SIP OPTIONS gets 200 OK with the same Call-ID, CSeq and Via',
		async () => {
			const c = await open();
			const req = sipOptions({ cseq: 7 });
			await c.send(req.text);
			const m = await c.next();
			assert.equal(m.isBinary, false, 'a text message');
			assertAnswers(parseSip(m.text), req);
		});

	test('several OPTIONS on one connection each get their 200',
		async () => {
			const c = await open();
			const reqs = [1, 2, 3].map((cseq) => sipOptions({ cseq }));
			for (const r of reqs)
				await c.send(r.text);
			for (const r of reqs)
				assertAnswers(parseSip((await c.next()).text), r);
		});

	// D-20 (non-token users): only a registered flow may send requests
	// other than REGISTER toward the core.
	test('D-20: requests from an unregistered connection get 403',
		async () => {
			const c = await open();
			for (const method of ['MESSAGE', 'INVITE', 'SUBSCRIBE']) {
				const req = sipRequest({ method });
				const res = await c.request(req.text);
				assertAnswers(res, req, 403, 'Not Registered');
			}
			await ims.waitLog(peerLine(c.localPort,
				'rejected: Not Registered'));
		});

	// A response must copy the Call-ID (RFC 3261 8.2.6.2): without one the
	// request cannot be answered, so it is treated as garbage (close 1007).
	test('SIP missing Call-ID cannot be answered: close 1007', async () => {
		const c = await open();
		await c.send(sipOptions({ omit: ['Call-ID'] }).text);
		const { code } = await c.waitClose();
		assert.equal(code, 1007);
		await ims.waitLog(peerLine(c.localPort,
			'bad SIP request: Missing Call-ID'));
		await ims.waitLog(peerLine(c.localPort,
			'SIP request cannot be answered, closing with 1007'));
	});

	// D-55: a proxy adds a missing Max-Forwards (RFC 3261 16.6); one
	// that is not a number is a 400
	test('SIP bad Max-Forwards gets 400, stays open; missing is fine',
		async () => {
			const c = await open();
			const bad = sipOptions();
			const res = await c.request(bad.text.replace(
				'Max-Forwards: 70', 'Max-Forwards: -1'));
			assert.equal(res.status, 400);
			assert.equal(res.reason, 'Bad Max-Forwards');
			const req = sipOptions({ omit: ['Max-Forwards'] });
			assertAnswers(await c.request(req.text), req);
		});

	test('a message of exactly w2_max_message bytes is accepted',
		async () => {
			const c = await open();
			const req = optionsOfSize(MAX_MESSAGE);
			assertAnswers(await c.request(req.text), req);
		});

	test('a message larger than w2_max_message: close 1009',
		async () => {
			const c = await open();
			const req = optionsOfSize(MAX_MESSAGE + 1);
			await c.send(req.text);
			const { code } = await c.waitClose();
			assert.equal(code, 1009);
			assert.equal(c.queue.length, 0, 'no SIP answer');
			await ims.waitLog(peerLine(c.localPort,
				'WebSocket closed, code 1009'));
		});

	test('fragments reassembled beyond w2_max_message: close 1009',
		async () => {
			const c = await open();
			const part = 'a'.repeat(1000);
			await c.send(part, { fin: false });
			await c.send(part, { fin: false });
			await c.send(part, { fin: true });
			const { code } = await c.waitClose();
			assert.equal(code, 1009);
		});

	test('a SIP OPTIONS in 3 fragments gets its 200', async () => {
		const c = await open();
		const req = sipOptions();
		const t = req.text;
		const a = Math.floor(t.length / 3);
		await c.send(t.slice(0, a), { fin: false });
		await c.send(t.slice(a, 2 * a), { fin: false });
		await c.send(t.slice(2 * a), { fin: true });
		assertAnswers(parseSip((await c.next()).text), req);
	});

	test('text that is not UTF-8: close 1007', async () => {
		const c = await open();
		// well-formed SIP whose 3-byte body is not UTF-8
		const text = sipOptions({ body: 'xxx' }).text;
		const bad = Buffer.concat([Buffer.from(text.slice(0, -3)),
			Buffer.from([0xc3, 0x28, 0xff])]);
		await c.send(bad, { binary: false });
		const { code } = await c.waitClose();
		assert.equal(code, 1007);
		assert.equal(c.queue.length, 0, 'no SIP answer');
		await ims.waitLog(peerLine(c.localPort,
			'WebSocket closed, code 1007'));
	});

	test('a message that is not SIP: close 1007', async () => {
		const c = await open();
		await c.send('hello');
		const { code } = await c.waitClose();
		assert.equal(code, 1007);
		await ims.waitLog(peerLine(c.localPort, 'unparsable SIP message'));
	});

	test('an unmasked client frame: close 1002', async () => {
		const raw = await RawWss.open(ims.port);
		try {
			assert.match(raw.head, /^HTTP\/1\.1 101 /);
			assert.match(raw.head, /\r\nSec-WebSocket-Protocol: sip\r\n/i);
			// the same frame masked is answered (the path works) ...
			const ok = sipOptions();
			raw.write(RawWss.frame(0x1, ok.text));
			let f;
			do
				f = await raw.readFrame();
			while (f.opcode === 0x9);
			assert.equal(f.opcode, 0x1);
			assertAnswers(parseSip(f.payload.toString()), ok);
			// ... unmasked it is a protocol error
			raw.write(RawWss.frame(0x1, sipOptions().text,
				{ mask: false }));
			do
				f = await raw.readFrame();
			while (f.opcode === 0x9);
			assert.equal(f.opcode, 0x8, 'a close frame, not an answer');
			assert.equal(f.payload.readUInt16BE(0), 1002);
			assert.equal(f.masked, false, 'server frames are unmasked');
			raw.write(RawWss.frame(0x8, f.payload.subarray(0, 2)));
			await ims.waitLog(peerLine(raw.sock.localPort,
				'WebSocket closed, code 1002'));
		} finally {
			raw.destroy();
		}
	});

	test('the server pings every w2_ping_interval; a client that ' +
	     'answers stays connected', async () => {
		const c = await open();
		await sleep(2.5 * PING_MS);
		assert.ok(c.pings >= 2, `${c.pings} pings in 2.5 intervals`);
		assert.ok(c.pings <= 3, `${c.pings} pings in 2.5 intervals`);
		assert.equal(c.ws.readyState, WebSocket.OPEN);
		const req = sipOptions();
		assertAnswers(await c.request(req.text), req);
	});

	test('a client that stops reading is dropped within 2 ping ' +
	     'intervals', async () => {
		const c = await open();
		const from = ims.mark();
		c.ws._socket.pause();
		const t0 = Date.now();
		await ims.waitLog(peerLine(c.localPort, 'WebSocket closed'),
			2 * PING_MS + 1000, from);
		const dt = Date.now() - t0;
		assert.ok(dt >= 0.9 * PING_MS, `dropped after ${dt} ms`);
		// TCP is gone: reading again finds the end, without a close frame
		c.ws._socket.resume();
		const { code } = await c.waitClose(2000);
		assert.equal(code, 1006);
	});

	test('a TLS connection that never sends the Upgrade is closed ' +
	     'after w2_handshake_timeout', async () => {
		const t0 = Date.now();
		const s = await tlsConnect(ims.port);
		const port = s.localPort;
		await within(once(s, 'close'), HANDSHAKE_MS + 1500, 'close');
		const dt = Date.now() - t0;
		assert.ok(dt >= 0.9 * HANDSHAKE_MS, `closed after ${dt} ms`);
		assert.ok(dt <= HANDSHAKE_MS + 1000, `closed after ${dt} ms`);
		await ims.waitLog(peerLine(port, 'handshake timeout in HTTP stage'));
	});

	test('a TCP connection that never starts TLS is closed after ' +
	     'w2_handshake_timeout', async () => {
		const t0 = Date.now();
		const s = net.connect(ims.port, '127.0.0.1');
		s.on('error', () => {});
		s.resume();
		await once(s, 'connect');
		const port = s.localPort;
		await within(once(s, 'close'), HANDSHAKE_MS + 1500, 'close');
		const dt = Date.now() - t0;
		assert.ok(dt >= 0.9 * HANDSHAKE_MS, `closed after ${dt} ms`);
		await ims.waitLog(peerLine(port, 'handshake timeout in TLS stage'));
	});

	test('plain ws:// (no TLS) does not get a 101', async () => {
		let result;
		try {
			result = await connectWss(ims.port, { scheme: 'ws' });
		} catch (e) {
			result = { ok: false, error: e };
		}
		if (result.client)
			result.client.terminate();
		assert.equal(result.ok, false);
		assert.notEqual(result.status, 101);
	});

	test('the listener still works after all of the above', async () => {
		const c = await open();
		const req = sipOptions();
		assertAnswers(await c.request(req.text), req);
		assert.ok(ims.running, 'imsedge is still running');
	});
});

describe('max_connections', () => {
	let ims;
	const clients = [];

	before(async () => {
		ims = await startImsedge({ max_connections: 2 });
	});

	after(async () => {
		for (const c of clients)
			c.terminate();
		await ims?.stopExpectRunning();
	});

	test('at max_connections an upgrade gets 503 with Retry-After; a ' +
	     'freed slot is usable again', async () => {
		const a = await openWss(ims.port);
		const b = await openWss(ims.port);
		clients.push(a, b);

		const r = await connectWss(ims.port);
		assert.equal(r.ok, false);
		assert.equal(r.status, 503);
		assert.match(r.headers['retry-after'] ?? '', /^[1-9]\d*$/);
		await ims.waitLog(peerLine(r.localPort,
			'upgrade rejected with 503: connection limit reached'));

		// the open ones are unaffected
		const req = sipOptions();
		assertAnswers(await b.request(req.text), req);

		const from = ims.mark();
		a.ws.close(1000);
		assert.equal((await a.waitClose()).code, 1000);
		await ims.waitLog(peerLine(a.localPort, 'WebSocket closed'),
			3000, from);

		const c = await openWss(ims.port);
		clients.push(c);
		assert.equal(c.status, 101);
	});
});

describe('SIGTERM', () => {
	let ims;
	const clients = [];

	before(async () => { ims = await startImsedge(); });

	after(async () => {
		for (const c of clients)
			c.terminate();
		await ims?.stop();
	});

	test('every client gets close 1001 and the process exits 0 within ' +
	     '2 s', async () => {
		for (let i = 0; i < 3; i++)
			clients.push(await openWss(ims.port));
		// one connection still in the HTTP stage must not hold it up
		const pending = await tlsConnect(ims.port);

		const t0 = Date.now();
		ims.signal('SIGTERM');
		const exit = await within(ims.exited, 2000, 'imsedge exit');
		const dt = Date.now() - t0;
		pending.destroy();

		assert.deepEqual(exit, { code: 0, signal: null },
			`exit after ${dt} ms`);
		for (const c of clients) {
			const { code } = await c.waitClose(1000);
			assert.equal(code, 1001);
		}
		await ims.waitLog(/shutting down/, 100);
	});
});

describe('SIGHUP', () => {
	let ims;
	let live;
	const clients = [];
	const NEW = 'https://new.example';

	before(async () => {
		ims = await startImsedge();
		live = await openWss(ims.port);
		clients.push(live);
		assert.equal(live.peerCert.subject.CN, 'localhost');
	});

	after(async () => {
		for (const c of clients)
			c.terminate();
		await ims?.stopExpectRunning();
	});

	async function hup() {
		const from = ims.mark();
		ims.signal('SIGHUP');
		return ims.waitLog(/reloaded|reload failed/, 3000, from);
	}

	test('D-1: reload replaces certificate and Origin list without ' +
	     'dropping live connections', async () => {
		ims.writeConfig(baseConfig({ tls_cert: CERT2, tls_key: KEY2,
			w2_origin: [NEW] }));
		assert.match(await hup(), /reloaded certificate and 1 allowed/);

		// the live connection still works
		const req = sipOptions();
		assertAnswers(await live.request(req.text), req);

		// a new connection sees the new certificate; the added origin
		// is accepted
		const c = await openWss(ims.port, { origin: NEW });
		clients.push(c);
		assert.equal(c.peerCert.subject.CN, 'imsedge-reloaded');
		const req2 = sipOptions();
		assertAnswers(await c.request(req2.text), req2);

		// the removed origin is refused
		const r = await connectWss(ims.port, { origin: ORIGIN });
		assert.equal(r.ok, false);
		assert.equal(r.status, 403);
		await ims.waitLog(peerLine(r.localPort,
			`upgrade rejected with 403: origin '${ORIGIN}' not allowed`));
	});

	test('an invalid config on SIGHUP keeps the running settings',
		async () => {
			// would allow ORIGIN again, but has an unknown key
			ims.writeConfig(baseConfig({ w2_origin: [ORIGIN, NEW] }),
				'foo bar\n');
			assert.match(await hup(), /reload failed/);
			assert.ok(ims.running, 'still running');

			const c = await openWss(ims.port, { origin: NEW });
			clients.push(c);
			assert.equal(c.peerCert.subject.CN, 'imsedge-reloaded');
			const r = await connectWss(ims.port, { origin: ORIGIN });
			assert.equal(r.status, 403);

			const req = sipOptions();
			assertAnswers(await live.request(req.text), req);
		});

	test('an unloadable certificate on SIGHUP keeps the running ' +
	     'settings', async () => {
		ims.writeConfig(baseConfig({ tls_cert: '/nonexistent/cert.pem',
			w2_origin: [ORIGIN] }));
		assert.match(await hup(), /reload failed/);
		assert.ok(ims.running, 'still running');

		const c = await openWss(ims.port, { origin: NEW });
		clients.push(c);
		assert.equal(c.peerCert.subject.CN, 'imsedge-reloaded');
		const r = await connectWss(ims.port, { origin: ORIGIN });
		assert.equal(r.status, 403);
	});
});

// imsedge -t (configuration check), -v, -h and bad invocations.
//
// A bad config must give exit 1, nothing on stdout and one line per
// problem on stderr: "FILE:LINE: reason", or "FILE: reason" for a missing
// key or an unreadable file; every problem, not only the first.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, CERT, KEY, CERT2, KEY2, runSync, tmpDir, freePort }
	from './helpers.mjs';

// -t checks that the ports are free: take free ones
const W2_PORT = await freePort();
const MW_PORT = await freePort();

let dir;
let n = 0;

before(() => { dir = tmpDir(); });
after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/** Write lines to a fresh file; returns its path */
function conf(lines) {
	const p = path.join(dir, `c${++n}.conf`);
	fs.writeFileSync(p, lines.join('\n') + '\n');
	return p;
}

const GOOD = [
	'# imsedge test config',
	'',
	`w2_listen 127.0.0.1:${W2_PORT}`,
	`tls_cert ${CERT}`,
	`tls_key ${KEY}`,
	'w2_origin https://good.example',
	'w2_origin http://localhost:8080',
	`mw_listen 127.0.0.1:${MW_PORT}`,
	'mw_next_hop sip:127.0.0.1:5060;transport=udp',
];

/** GOOD with line `lineno` (1-based) replaced, or appended if past end */
function withLine(lineno, text) {
	const l = [...GOOD];
	l[lineno - 1] = text;
	return l;
}

function without(key) {
	return GOOD.filter((l) => !l.startsWith(`${key} `));
}

/** -t on lines: must fail with exactly `expect` (FILE replaced) */
function expectError(lines, expect) {
	const file = conf(lines);
	const r = runSync(['-t', '-c', file]);
	const want = expect.replaceAll('FILE', file);
	assert.equal(r.stderr, want + '\n',
		`stderr should be exactly one line: ${want}`);
	assert.equal(r.stdout, '');
	assert.equal(r.status, 1);
}

describe('imsedge -t', () => {
	test('a good config: exit 0 and "FILE: configuration OK"', () => {
		const file = conf([...GOOD,
			'   # an indented comment',
			'max_connections 10',
			'w2_max_message 1024',
			'w2_ping_interval 0',
			'w2_idle_timeout 86400',
			'w2_handshake_timeout 120',
			'log_level warn',
			'log_syslog no']);
		const r = runSync(['-t', '-c', file]);
		assert.equal(r.stdout, `${file}: configuration OK\n`);
		assert.equal(r.stderr, '');
		assert.equal(r.status, 0);
	});

	test('-c after -t and the other certificate pair also pass', () => {
		const file = conf([...without('tls_cert').filter(
			(l) => !l.startsWith('tls_key ')),
		`tls_cert ${CERT2}`, `tls_key ${KEY2}`]);
		const r = runSync(['-c', file, '-t']);
		assert.equal(r.stdout, `${file}: configuration OK\n`);
		assert.equal(r.status, 0);
	});

	test('unknown key', () => {
		expectError(withLine(2, 'foo bar'), "FILE:2: unknown key 'foo'");
	});

	test('non-list key given twice', () => {
		expectError([...GOOD, 'w2_listen 127.0.0.1:9443'],
			"FILE:10: key 'w2_listen' given twice");
	});

	test('the list key w2_origin may repeat, others may not', () => {
		expectError([...GOOD, 'log_level info', 'log_level info'],
			"FILE:11: key 'log_level' given twice");
	});

	test('key without a value', () => {
		expectError(withLine(4, 'tls_cert'),
			"FILE:4: key 'tls_cert' needs a value");
	});

	test('key without a value, trailing blanks only', () => {
		expectError(withLine(1, 'log_level   \t'),
			"FILE:1: key 'log_level' needs a value");
	});

	test('bad address', () => {
		expectError(withLine(3, 'w2_listen x'),
			"FILE:3: 'x' is not an ADDR:PORT");
	});

	test('address without a port', () => {
		expectError(withLine(8, 'mw_listen 127.0.0.1'),
			"FILE:8: '127.0.0.1' is not an ADDR:PORT");
	});

	test('bad number: not digits (max_connections 1..1000000)', () => {
		expectError([...GOOD, 'max_connections abc'],
			"FILE:10: 'abc' is not a number in 1..1000000");
	});

	test('bad number: max_connections out of range', () => {
		expectError([...GOOD, 'max_connections 1000001'],
			"FILE:10: '1000001' is not a number in 1..1000000");
		expectError([...GOOD, 'max_connections 0'],
			"FILE:10: '0' is not a number in 1..1000000");
	});

	test('bad number: w2_max_message range 1024..1048576', () => {
		expectError([...GOOD, 'w2_max_message 1023'],
			"FILE:10: '1023' is not a number in 1024..1048576");
		expectError([...GOOD, 'w2_max_message 1048577'],
			"FILE:10: '1048577' is not a number in 1024..1048576");
	});

	test('bad number: w2_ping_interval range 0..3600', () => {
		expectError([...GOOD, 'w2_ping_interval 3601'],
			"FILE:10: '3601' is not a number in 0..3600");
		expectError([...GOOD, 'w2_ping_interval -1'],
			"FILE:10: '-1' is not a number in 0..3600");
	});

	test('bad number: w2_idle_timeout range 1..86400', () => {
		expectError([...GOOD, 'w2_idle_timeout 0'],
			"FILE:10: '0' is not a number in 1..86400");
		expectError([...GOOD, 'w2_idle_timeout 86401'],
			"FILE:10: '86401' is not a number in 1..86400");
	});

	test('bad number: w2_handshake_timeout range 1..120', () => {
		expectError([...GOOD, 'w2_handshake_timeout 121'],
			"FILE:10: '121' is not a number in 1..120");
		expectError([...GOOD, 'w2_handshake_timeout 1s'],
			"FILE:10: '1s' is not a number in 1..120");
	});

	test('bad origin', () => {
		expectError(withLine(6, 'w2_origin ftp:/x'),
			"FILE:6: 'ftp:/x' is not an origin like https://host[:port]");
	});

	test('bad origin: a path is not part of an origin', () => {
		expectError(withLine(7, 'w2_origin https://good.example/app'),
			"FILE:7: 'https://good.example/app' is not an origin " +
			'like https://host[:port]');
	});

	test('bad SIP URI', () => {
		expectError(withLine(9, 'mw_next_hop x'),
			"FILE:9: 'x' is not a SIP URI");
		expectError(withLine(9, 'mw_next_hop http://127.0.0.1:5060'),
			"FILE:9: 'http://127.0.0.1:5060' is not a SIP URI");
	});

	test('bad log level', () => {
		expectError([...GOOD, 'log_level loud'],
			"FILE:10: 'loud' is not one of debug, info, warn, error");
	});

	test('bad bool', () => {
		expectError([...GOOD, 'log_syslog maybe'],
			"FILE:10: 'maybe' is not yes or no");
	});

	test('every bad line is reported, in file order', () => {
		expectError([...GOOD, 'log_syslog maybe', 'foo bar'],
			"FILE:10: 'maybe' is not yes or no\n" +
			"FILE:11: unknown key 'foo'");
	});

	test('missing required keys, reported in table order', () => {
		const order = ['w2_listen', 'tls_cert', 'tls_key', 'w2_origin',
			'mw_listen', 'mw_next_hop'];
		for (const [i, key] of order.entries()) {
			// leave out this key and every later one
			const lines = GOOD.filter((l) => !order.slice(i).some(
				(k) => l.startsWith(`${k} `)));
			expectError(lines, order.slice(i).map((k) =>
				`FILE: missing required key '${k}'`).join('\n'));
			// leave out only this key
			expectError(without(key),
				`FILE: missing required key '${key}'`);
		}
	});

	test('an empty file lacks every required key', () => {
		expectError(['# nothing here'], ['w2_listen', 'tls_cert', 'tls_key',
			'w2_origin', 'mw_listen', 'mw_next_hop'].map((k) =>
			`FILE: missing required key '${k}'`).join('\n'));
	});

	test('unreadable file: "FILE: reason"', () => {
		const file = path.join(dir, 'does-not-exist.conf');
		const r = runSync(['-t', '-c', file]);
		assert.match(r.stderr, new RegExp(
			`^${escape(file)}: [^\\n]*No such file or directory\\n$`));
		assert.equal(r.stdout, '');
		assert.equal(r.status, 1);
	});

	test('certificate file missing: cannot load', () => {
		const cert = path.join(dir, 'nocert.pem');
		const file = conf([...without('tls_cert'), `tls_cert ${cert}`]);
		const r = runSync(['-t', '-c', file]);
		assert.equal(r.stderr, `${file}:9: tls_cert: ${cert}: ` +
			'cannot read: No such file or directory\n');
		assert.equal(r.stdout, '');
		assert.equal(r.status, 1);
	});

	test('certificate and key that do not match: cannot load', () => {
		const file = conf([...without('tls_key'), `tls_key ${KEY2}`]);
		const r = runSync(['-t', '-c', file]);
		assert.equal(r.stderr, `${file}:4: tls_cert: ${CERT} and ` +
			`tls_key ${KEY2} do not load as a certificate and its ` +
			'private key (PEM)\n');
		assert.equal(r.stdout, '');
		assert.equal(r.status, 1);
	});

	test('a file that is not PEM: cannot load', () => {
		const junk = path.join(dir, 'junk.pem');
		fs.writeFileSync(junk, 'not a certificate\n');
		const file = conf([...without('tls_cert'), `tls_cert ${junk}`]);
		const r = runSync(['-t', '-c', file]);
		assert.equal(r.stderr, `${file}:9: tls_cert: ${junk} and ` +
			`tls_key ${KEY} do not load as a certificate and its ` +
			'private key (PEM)\n');
		assert.equal(r.status, 1);
	});
});

function escape(s) {
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function makefileVersion() {
	try {
		const mk = fs.readFileSync(path.join(ROOT, 'Makefile'), 'utf8');
		return /^VERSION\s*:?=\s*(\S+)/m.exec(mk)?.[1];
	} catch {
		return undefined;
	}
}

describe('command line', () => {
	test('-v prints the version', () => {
		const r = runSync(['-v']);
		const v = makefileVersion();
		if (v)
			assert.equal(r.stdout, `imsedge ${v}\n`);
		else
			assert.match(r.stdout, /^imsedge \d+\.\d+\.\d+\n$/);
		assert.equal(r.status, 0);
	});

	test('-h prints the usage and exits 0', () => {
		const r = runSync(['-h']);
		const out = r.stdout + r.stderr;
		assert.match(out, /^usage: imsedge \[-t\] -c FILE$/m);
		assert.match(out, /-v/);
		assert.match(out, /-h/);
		assert.equal(r.status, 0);
	});

	test('no arguments: usage and exit 2', () => {
		const r = runSync([]);
		assert.match(r.stderr, /^usage: imsedge/m);
		assert.equal(r.stdout, '');
		assert.equal(r.status, 2);
	});

	test('an unknown option: usage and exit 2', () => {
		const r = runSync(['-x']);
		assert.match(r.stderr, /usage: imsedge/);
		assert.equal(r.status, 2);
	});

	test('a stray argument: usage and exit 2', () => {
		const r = runSync(['-c', 'a.conf', 'extra']);
		assert.match(r.stderr, /usage: imsedge/);
		assert.equal(r.status, 2);
	});

	test('the binary under test exists', () => {
		assert.ok(fs.existsSync(BIN), `no binary at ${BIN}`);
	});
});

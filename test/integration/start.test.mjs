// How imsedge starts as a packaged daemon would: the allocator settings
// (src/core/trim.c) run it again once with glibc's malloc tunable set;
// never twice, even where glibc drops the tunable (a binary with file
// capabilities, run by an ordinary user: secure execution).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BIN } from './helpers.mjs';

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`])
	.status === 0;
const NEED = process.getuid() !== 0 ? 'needs root (setcap, setpriv)' :
	!which('setcap') || !which('setpriv') || !which('strace') ||
	!which('timeout') ?
		'needs setcap, setpriv and strace' : false;

test('a binary with file capabilities run by an ordinary user starts ' +
	'once (no exec loop) and answers', { skip: NEED }, () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-cap-'));
	try {
		const bin = path.join(dir, 'imsedge');
		fs.copyFileSync(BIN, bin);
		fs.chmodSync(dir, 0o755);
		fs.chownSync(dir, 65534, 65534);
		fs.chmodSync(bin, 0o755);
		const cap = spawnSync('setcap', ['cap_net_bind_service+ep', bin]);
		assert.equal(cap.status, 0, String(cap.stderr));
		// timeout -s KILL: an exec loop never prints and never ends
		const r = spawnSync('timeout', ['-s', 'KILL', '10', 'setpriv',
			'--reuid=65534', '--regid=65534', '--clear-groups', bin, '-h'],
		{ encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
		assert.equal(r.status, 0, `imsedge -h: status ${r.status}, ${
			r.stderr}`);
		assert.match(r.stdout + r.stderr, /usage: imsedge/);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('run by root as is, it runs itself again at most once', {
	skip: NEED }, () => {
	const r = spawnSync('timeout', ['-s', 'KILL', '10', 'strace', '-f',
		'-e', 'trace=execve', BIN, '-h'], { encoding: 'utf8' });
	const execs = r.stderr.split('\n').filter((l) => /execve\(/.test(l) &&
		!/ENOENT/.test(l));
	assert.ok(execs.length >= 1 && execs.length <= 2, `${execs.length
	} execs: ${r.stderr.slice(0, 500)}`);
});

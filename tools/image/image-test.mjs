// Boot the QEMU test image and register through it.
//
//   IMAGE_BOARD=armhf|mipsel node tools/image/image-test.mjs [IMAGEDIR]
//   (IMAGEDIR default build/BOARD/image; armhf: -M virt, mipsel: -M malta)
//
// Kamailio (the S-CSCF stand-in) runs on the host on 127.0.0.1:KPORT; the
// guest reaches it as 10.0.2.2:KPORT through QEMU's user network (slirp).
// The guest's W2 port 7443 is forwarded to 127.0.0.1:HOSTPORT, and its Mw
// port (UDP) to 127.0.0.1:MWPORT: not needed while imsedge's Via makes
// Kamailio answer through slirp's NAT (verified), but keeps responses sent to
// the Via port at the received address 127.0.0.1 working. A raw SIP-over-WSS
// client registers alice through the guest's eP-CSCF; the guest's own
// certificate (printed on the console by /init) is the only trusted one.
//
// The guest config says `crypto_provider afalg`: imsedge must log
// `crypto: provider afalg` (its known-answer tests passed against the guest
// kernel's ctr(aes)/hmac(sha1)), not the fallback to software. /init then
// runs cryptobench once (2000 packets); its ns/packet figures are printed as
// emulated (QEMU TCG) figures, useful only to compare providers.
//
// Environment: QEMU_SYSTEM (default qemu-system-arm / -mipsel), IMAGE_TEST_TIMEOUT
// (seconds for the whole run, default 150), IMAGE_TEST_LOG=1 echoes the
// console.

import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SipWs, within, sleep } from '../../test/integration/helpers.mjs';

const BOARDS = {
	armhf: { qemu: 'qemu-system-arm', console: 'ttyAMA0',
		machine: ['-M', 'virt', '-cpu', 'cortex-a7'],
		devices: ['-device', 'virtio-net-device,netdev=n0',
			'-device', 'virtio-rng-device'] },
	mipsel: { qemu: 'qemu-system-mipsel', console: 'ttyS0',
		machine: ['-M', 'malta', '-cpu', '24Kf', '-vga', 'none'],
		devices: ['-device', 'virtio-net-pci,netdev=n0,romfile=',
			'-device', 'virtio-rng-pci'] },
};
const board = process.env.IMAGE_BOARD || 'armhf';
const B = BOARDS[board];
if (!B) {
	console.error(`image-test: unknown board ${board}`);
	process.exit(2);
}
const imageDir = path.resolve(process.argv[2] ||
	path.join(ROOT, 'build', board, 'image'));
const qemuBin = process.env.QEMU_SYSTEM || B.qemu;
const totalSec = Number(process.env.IMAGE_TEST_TIMEOUT || 150);
const ORIGIN = 'https://wwsf.test';
const GUEST = '10.0.2.15';

let passed = 0;
let failed = 0;
function ok(cond, what, detail = '') {
	if (cond) {
		passed++;
		console.log(`ok   ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${what}${detail ? `\n${detail}` : ''}`);
	}
	return cond;
}

/** A port free for TCP and UDP on 127.0.0.1 a moment ago */
async function freePort() {
	for (let i = 0; i < 50; i++) {
		const srv = net.createServer();
		await new Promise((res, rej) => {
			srv.once('error', rej);
			srv.listen(0, '127.0.0.1', res);
		});
		const { port } = srv.address();
		await new Promise((res) => srv.close(res));
		const u = dgram.createSocket('udp4');
		const free = await new Promise((res) => {
			u.once('error', () => res(false));
			u.bind(port, '127.0.0.1', () => res(true));
		});
		if (free)
			await new Promise((res) => u.close(res));
		if (free)
			return port;
	}
	throw new Error('no free port');
}

/** Lines of a child's stream, with waiters */
class Lines {
	constructor(name, echo) {
		this.name = name;
		this.echo = echo;
		this.lines = [];
		this.waiters = [];
		this.buf = '';
	}

	attach(stream) {
		stream.setEncoding('utf8');
		stream.on('data', (d) => {
			this.buf += d;
			let nl;
			while ((nl = this.buf.indexOf('\n')) >= 0) {
				this.add(this.buf.slice(0, nl).replace(/\r$/, ''));
				this.buf = this.buf.slice(nl + 1);
			}
		});
	}

	add(line) {
		if (this.echo)
			process.stderr.write(`[${this.name}] ${line}\n`);
		this.lines.push({ line, at: Date.now() });
		for (const w of [...this.waiters]) {
			if (w.re.test(line)) {
				this.waiters.splice(this.waiters.indexOf(w), 1);
				w.resolve({ line, at: Date.now(),
					index: this.lines.length - 1 });
			}
		}
	}

	wait(re, ms, from = 0) {
		for (let i = from; i < this.lines.length; i++) {
			if (re.test(this.lines[i].line))
				return Promise.resolve({ ...this.lines[i], index: i });
		}
		let w;
		const p = new Promise((resolve) => {
			w = { re, resolve };
			this.waiters.push(w);
		});
		return within(p, ms, `${this.name} line ${re}`).finally(() => {
			const i = this.waiters.indexOf(w);
			if (i >= 0)
				this.waiters.splice(i, 1);
		});
	}

	tail(n = 30) {
		return this.lines.slice(-n).map((l) => `  ${l.line}`).join('\n');
	}
}

function exited(child) {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null)
			resolve();
		else
			child.once('exit', () => resolve());
	});
}

async function stop(child, sig = 'SIGTERM') {
	if (!child || child.exitCode !== null || child.signalCode !== null)
		return;
	child.kill(sig);
	try {
		await within(exited(child), 3000, 'exit');
	} catch {
		child.kill('SIGKILL');
		await exited(child);
	}
}

const started = Date.now();
let kam = null;
let qemu = null;
let sip = null;
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-image-'));
const echo = !!process.env.IMAGE_TEST_LOG;
const kamLog = new Lines('kamailio', echo);
const con = new Lines('console', echo);
const qemuErr = new Lines('qemu', echo);

const guard = setTimeout(() => {
	console.log(`FAIL image-test: overall timeout ${totalSec} s`);
	failed++;
	finish();
}, totalSec * 1000);

let finishing = false;
async function finish() {
	if (finishing)
		return;
	finishing = true;
	clearTimeout(guard);
	try {
		sip?.client?.ws?.terminate();
	} catch { /* closed */ }
	await stop(qemu, 'SIGTERM');
	await stop(kam, 'SIGTERM');
	if (failed && !process.env.KEEP) {
		console.log(`console tail:\n${con.tail(40)}`);
		console.log(`kamailio tail:\n${kamLog.tail(15)}`);
		console.log(`qemu stderr:\n${qemuErr.tail(10)}`);
	}
	if (!process.env.KEEP)
		fs.rmSync(runDir, { recursive: true, force: true });
	else
		console.log(`kept ${runDir}`);
	console.log(`image-test: run time ${((Date.now() - started) / 1000)
		.toFixed(1)} s`);
	console.log(`image-test: ${board}: ${passed} passed, ${failed} failed`);
	process.exit(failed || !passed ? 1 : 0);
}
for (const s of ['SIGINT', 'SIGTERM'])
	process.on(s, () => { failed++; finish(); });

async function main() {
	for (const f of ['vmlinuz', 'initrd.gz']) {
		if (!fs.existsSync(path.join(imageDir, f)))
			throw new Error(`${imageDir}/${f} missing (make image)`);
	}
	const kport = await freePort();
	const hostPort = await freePort();
	let mwPort = await freePort();
	while (mwPort === kport || mwPort === hostPort)
		mwPort = await freePort();

	// --- Kamailio on the host -------------------------------------------
	kam = spawn(path.join(ROOT, 'test', 'kamailio', 'start'),
		[String(kport), path.join(runDir, 'kamailio')],
		{ stdio: ['ignore', 'ignore', 'pipe'] });
	kamLog.attach(kam.stderr);
	await within(Promise.race([kamLog.wait(/kamailio ready/, 20000),
		exited(kam).then(() => { throw new Error('Kamailio exited'); })]),
	21000, 'Kamailio');
	ok(true, `Kamailio ready on 127.0.0.1:${kport}`);

	// --- QEMU -----------------------------------------------------------
	const bootSec = Math.max(30, totalSec - 20);
	const args = [
		'-k', '5', String(bootSec), qemuBin, ...B.machine,
		'-m', '128', '-nographic',
		'-kernel', path.join(imageDir, 'vmlinuz'),
		'-initrd', path.join(imageDir, 'initrd.gz'),
		'-append', `console=${B.console} quiet imsedge.kport=${kport} ` +
			`imsedge.mwport=${mwPort} imsedge.stats=1`,
		'-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${hostPort}-` +
			`${GUEST}:7443,hostfwd=udp:127.0.0.1:${mwPort}-${GUEST}:` +
			`${mwPort}`,
		...B.devices,
	];
	const t0 = Date.now();
	qemu = spawn('timeout', args, { stdio: ['ignore', 'pipe', 'pipe'] });
	con.attach(qemu.stdout);
	qemuErr.attach(qemu.stderr);
	const ready = await within(Promise.race([
		con.wait(/^imsedge-ready$/, 120000),
		exited(qemu).then(() => { throw new Error('QEMU exited'); }),
	]), 121000, 'imsedge-ready');
	const bootS = (ready.at - t0) / 1000;
	ok(true, `guest booted, imsedge ready after ${bootS.toFixed(1)} s`);
	console.log(`boot-to-ready: ${bootS.toFixed(1)} s`);

	// the guest's certificate, from the console
	const b = con.lines.findIndex((l) => l.line === 'image-cert-begin');
	const e = con.lines.findIndex((l) => l.line === 'image-cert-end');
	const pem = b >= 0 && e > b ? con.lines.slice(b + 1, e)
		.map((l) => l.line).join('\n') + '\n' : '';
	let cert = null;
	try {
		cert = new crypto.X509Certificate(pem);
	} catch { /* reported below */ }
	if (!ok(cert && /IP Address:10\.0\.2\.15/.test(cert.subjectAltName ||
		'') && /CN=imsedge-guest/.test(cert.subject),
	'guest certificate (imsedge -k/-x): CN imsedge-guest, IP:10.0.2.15',
	cert ? `${cert.subject} ${cert.subjectAltName}` : pem))
		throw new Error('no usable guest certificate');
	// --- crypto provider: afalg admitted by its known-answer tests ------
	const cl = con.lines.slice(0, ready.index + 1).map((l) => l.line)
		.filter((l) => /^imsedge: .*crypto: provider /.test(l));
	const fb = cl.find((l) => /provider afalg unavailable/.test(l));
	ok(!fb && cl.some((l) => /crypto: provider afalg$/.test(l)),
		'imsedge selected crypto_provider afalg (KATs passed in the ' +
		'guest kernel, no fallback)', cl.join('\n') || 'no crypto line');
	console.log(`crypto selection (guest log): ${cl.join(' | ')}`);

	// --- cryptobench, once, after ready (emulated figures) ---------------
	const cbb = await con.wait(/^image-cryptobench-begin$/, 5000,
		ready.index + 1);
	const cbe = await con.wait(/^image-cryptobench-end /, 25000, cbb.index);
	const cbl = con.lines.slice(cbb.index + 1, cbe.index).map((l) => l.line);
	const fig = {};
	for (const l of cbl) {
		const f = /^(\S+)\s+(\d+) ns\/packet/.exec(l);
		if (f)
			fig[f[1]] = Number(f[2]);
	}
	const drv = cbl.find((l) => /^image-crypto-drivers: /.test(l));
	if (ok(cbe.line === 'image-cryptobench-end (0)' && fig.software &&
		fig.afalg, 'cryptobench in the guest: software and afalg figures',
	cbl.join('\n'))) {
		console.log(`cryptobench (EMULATED, qemu ${board} TCG; compare ` +
			`providers only), SRTP protect of a 172-byte RTP packet:`);
		for (const [k, v] of Object.entries(fig))
			console.log(`  ${k.padEnd(14)} ${String(v).padStart(8)} ` +
				'ns/packet (emulated)');
		console.log(`  afalg/software: ${(fig.afalg / fig.software)
			.toFixed(1)}x`);
		if (drv)
			console.log(`  kernel drivers: ${drv.replace(
				/^image-crypto-drivers: /, '').trim()}`);
		console.log(`  bench wall time in guest: ${((cbe.at - cbb.at) /
			1000).toFixed(1)} s`);
	}

	// first figures after "ready" and the bench (stats every second)
	const idle = await con.wait(/^image-stats: /, 3000, cbe.index + 1);
	console.log(`idle after start: ${idle.line.replace(/^image-stats: /,
		'')}`);

	// --- register through the guest -------------------------------------
	const kmark = kamLog.lines.length;
	sip = await SipWs.open(hostPort, { origin: ORIGIN, ca: [pem],
		timeout: 10000,
		tlsOptions: { checkServerIdentity: (host, c) =>
			/IP Address:10\.0\.2\.15/.test(c.subjectaltname || '') ?
				undefined : new Error(`unexpected SAN ${
					c.subjectaltname}`) } });
	ok(true, `WSS upgrade at wss://127.0.0.1:${hostPort} ` +
		`(Origin ${ORIGIN}, guest certificate verified)`);
	const { challenge, response } = await sip.register({ user: 'alice',
		password: 'alicepw', ms: 15000 });
	ok(challenge?.status === 401, 'REGISTER -> 401 from Kamailio via ' +
		'the guest', challenge?.text);
	ok(response.status === 200, 'REGISTER with credentials -> 200',
		response.text);
	const pau = response.get('p-associated-uri') || '';
	ok(/sip:alice@ims\.test/.test(pau), '200 has P-Associated-URI ' +
		'alice', response.text);
	const path_ = new RegExp(`REGISTER sip:alice@ims\\.test done \\(Path: ` +
		`<sip:[^>]*@${GUEST.replace(/\./g, '\\.')}:${mwPort};lr`);
	let seen = null;
	try {
		seen = await kamLog.wait(path_, 3000, kmark);
	} catch { /* reported below */ }
	ok(seen, `Kamailio saved alice with the guest's Path ` +
		`(${GUEST}:${mwPort})`, kamLog.tail(10));

	// --- memory figures after a registration ------------------------------
	const from = con.lines.length;
	const st = await con.wait(/^image-stats: /, 5000, from);
	const m = /imsedge_rss=(\d+) kB imsedge_hwm=(\d+) kB mem_total=(\d+)kB mem_used=(\d+)kB mem_free=(\d+)kB mem_avail=(\d+)kB/
		.exec(st.line);
	if (ok(m, 'memory figures from the guest console', st.line)) {
		console.log(`imsedge RSS in guest: ${m[1]} kB (peak ${m[2]} kB)`);
		console.log(`guest memory: total ${m[3]} kB, used ${m[4]} kB, ` +
			`free ${m[5]} kB, available ${m[6]} kB`);
	}
	ok(!con.lines.some((l) => /imsedge exited/.test(l.line)),
		'imsedge still running in the guest');
}

main().catch((err) => {
	failed++;
	console.log(`FAIL ${err.stack || err}`);
}).finally(finish);

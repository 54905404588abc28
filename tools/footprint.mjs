#!/usr/bin/env node
// Footprint figures of imsedge (`make size`, which builds every board
// first): writes docs/footprint.md (generated) and prints the table.
//
//   node tools/footprint.mjs [--out FILE] [--targets host,armhf,mipsel]
//                            [--regs N=100] [--calls N=10]
//
// - stripped binary size per board (build/BOARD/imsedge, the board's strip);
// - imsedge's VmRSS (/proc/PID/status; in the guest /init's image-stats
//   line) idle, with N registrations and with N active calls, on the host
//   and in the QEMU test image of armhf and mipsel (tools/image/guest.mjs);
// - boot-to-ready in the guest (QEMU start to imsedge's "main: ready");
// - SRTP protect ns/packet per crypto provider (cryptobench; afalg only in
//   the guest, under TCG emulation).
//
// Load: the Kamailio registrar of the benchmarks (tools/bench/registrar-
// start, users user0001.. with password "pw"). Registrations: N Node WIC
// clients (SIP over WSS, Digest) through imsedge. Calls: the first `calls`
// clients send an INVITE with a Chromium offer (test/data/sdp/chrome-offer-
// audio.sdp) to one Node IMS UE each (test/browser/imsue.mjs, registered
// straight at Kamailio), which answers; the client ACKs and the call stays
// up with G.711 RTP from the UE reaching the AGW's core side. The Node
// clients do no ICE or DTLS, so the AGW holds each call's sessions, ports
// and SDP state but relays no SRTP (browser-side media: image-test).
// Every process started here is stopped by its pid.

import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, SipWs, within, sleep } from '../test/integration/helpers.mjs';
import { ImsUe } from '../test/browser/imsue.mjs';
import {
	Lines, exited, stop, freePort, freeUdpRange, startGuest, guestPem,
	guestTls, guestStats,
} from './image/guest.mjs';

const BOARDS = ['host', 'armhf', 'mipsel'];
const STRIP = { host: 'strip', armhf: 'arm-linux-gnueabihf-strip',
	mipsel: 'mipsel-linux-gnu-strip' };
const ORIGIN = 'https://footprint.invalid';

function parseArgs(argv) {
	const o = { out: path.join(ROOT, 'docs', 'footprint.md'),
		targets: BOARDS.slice(), regs: 100, calls: 10 };
	for (let i = 0; i < argv.length; i++) {
		const [k, v0] = argv[i].split('=', 2);
		const v = v0 ?? argv[++i];
		if (v === undefined)
			throw new Error(`${k} needs a value`);
		if (k === '--out')
			o.out = path.resolve(v);
		else if (k === '--targets')
			o.targets = v.split(',').filter((t) => BOARDS.includes(t));
		else if (k === '--regs' || k === '--calls')
			o[k.slice(2)] = Math.max(1, Math.floor(Number(v)) || 0);
		else
			throw new Error(`unknown argument ${argv[i]}`);
	}
	if (o.calls > o.regs)
		throw new Error('--calls must not exceed --regs');
	return o;
}

const opt = parseArgs(process.argv.slice(2));
const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imsedge-footprint-'));
const children = new Set();

function log(msg) {
	process.stderr.write(`footprint: ${msg}\n`);
}

/* ---- sizes --------------------------------------------------------- */

/** The board's default TRANSCODE (board.mk's `TRANSCODE ?=`) */
function transcodeDefault(b) {
	const mk = fs.readFileSync(path.join(ROOT, 'board', b, 'board.mk'),
		'utf8');
	const m = /^TRANSCODE \?= *(\d)/m.exec(mk);
	return m ? Number(m[1]) : 0;
}

/** Sizes of build/BOARD (the default TRANSCODE) and build/BOARD-tcN (the
    other one, when built: make size builds both) */
function sizes() {
	const out = {};
	for (const b of BOARDS) {
		const def = transcodeDefault(b);
		for (const [dir, tc] of [[b, def], [`${b}-tc${1 - def}`, 1 - def]]) {
			const bin = path.join(ROOT, 'build', dir, 'imsedge');
			if (!fs.existsSync(bin))
				continue;
			const tmp = path.join(runDir, `imsedge-${dir}`);
			execFileSync(STRIP[b], ['-o', tmp, bin]);
			const dyn = execFileSync('readelf', ['-d', bin],
				{ encoding: 'utf8' }).includes('(NEEDED)');
			out[b] ??= [];
			out[b].push({ transcode: tc, default: tc === def,
				stripped: fs.statSync(tmp).size,
				unstripped: fs.statSync(bin).size,
				linkage: dyn ? 'dynamic' : 'static' });
		}
	}
	return out;
}

/* ---- the registrar ------------------------------------------------- */

async function registrar(users, advertise) {
	const port = await freePort();
	const env = { ...process.env };
	if (advertise)
		env.KAMAILIO_ADVERTISE = advertise;
	const p = spawn(path.join(ROOT, 'tools', 'bench', 'registrar-start'),
		[String(port), path.join(runDir, `kam-${port}`), String(users)],
		{ stdio: ['ignore', 'ignore', 'pipe'], env });
	children.add(p);
	const lines = new Lines('kamailio', !!process.env.KAMAILIO_LOG);
	lines.attach(p.stderr);
	await within(Promise.race([lines.wait(/kamailio ready/, 20000),
		exited(p).then(() => {
			throw new Error(`registrar exited:\n${lines.tail(20)}`);
		})]), 21000, 'registrar');
	return { p, port, lines };
}

/* ---- load: registrations and calls --------------------------------- */

const OFFER = fs.readFileSync(path.join(ROOT, 'test', 'data', 'sdp',
	'chrome-offer-audio.sdp'), 'utf8');

/** A Chromium-like offer with fresh ICE credentials */
function offer() {
	const ufrag = crypto.randomBytes(3).toString('hex');
	const pwd = crypto.randomBytes(12).toString('hex');
	return OFFER.split(/\r?\n/).filter((l) => l !== '')
		.filter((l) => !/^a=candidate:/.test(l))
		.flatMap((l) => /^a=ice-ufrag:/.test(l) ? [`a=ice-ufrag:${ufrag}`,
			'a=candidate:1 1 udp 2122260223 127.0.0.1 9 typ host ' +
			'generation 0'] : [l])
		.map((l) => l.replace(/^a=ice-pwd:.*/, `a=ice-pwd:${pwd}`))
		.join('\r\n') + '\r\n';
}

function uriOf(nameAddr) {
	return /<([^>]+)>/.exec(nameAddr)?.[1] ?? nameAddr.trim();
}

/** INVITE from a WIC client, 200 from the UE, ACK: the call is up */
async function call(c, target) {
	const fromTag = crypto.randomBytes(4).toString('hex');
	const inv = c.build({ method: 'INVITE', ruri: target, fromTag,
		to: `<${target}>`, body: offer(), contentType: 'application/sdp' });
	const r = await c.request(inv, 30000);
	if (r.status !== 200)
		throw new Error(`INVITE ${target}: ${r.first}`);
	const routes = r.all('record-route').flatMap((v) => v.split(/,\s*/))
		.reverse();
	const ack = c.build({ method: 'ACK', ruri: uriOf(r.get('contact')),
		fromTag, to: r.get('to'), callId: inv.callId, cseq: inv.cseq,
		contact: false, extra: routes.map((x) => `Route: ${x}`) });
	await c.client.send(ack.text);
}

/** N clients registered, `calls` of them in a call; returns teardown */
async function load(port, kport, tls, measure) {
	const clients = [];
	const ues = [];
	const fig = {};
	try {
		fig.idle = await measure('idle');
		const users = Array.from({ length: opt.regs },
			(_, i) => `user${String(i + 1).padStart(4, '0')}`);
		let next = 0;
		const worker = async () => {
			while (next < users.length) {
				const user = users[next++];
				const c = await SipWs.open(port, { origin: ORIGIN,
					user, timeout: 30000, ...tls });
				clients.push(c);
				await c.registerOk({ password: 'pw', ms: 30000 });
			}
		};
		await Promise.all(Array.from({ length: 8 }, worker));
		fig.regs = await measure(`${opt.regs} registrations`);

		for (let i = 0; i < opt.calls; i++) {
			const user = `user${String(opt.regs + i + 1).padStart(4, '0')}`;
			const ue = await ImsUe.start({ kamPort: kport, user,
				password: 'pw' });
			ues.push(ue);
			await ue.register();
		}
		await Promise.all(ues.map((ue, i) => call(clients[i], ue.aor)));
		await sleep(2000);
		const up = ues.filter((ue) => ue.call?.state === 'confirmed' &&
			ue.rtpSnapshot().sent > 0).length;
		if (up !== opt.calls)
			throw new Error(`only ${up} of ${opt.calls} calls up`);
		fig.calls = await measure(`${opt.calls} calls`);
		return fig;
	} finally {
		for (const ue of ues)
			await ue.close().catch(() => {});
		for (const c of clients)
			c.terminate();
	}
}

/* ---- host ---------------------------------------------------------- */

function vmRss(pid) {
	const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
	return Number(/^VmRSS:\s+(\d+) kB/m.exec(s)?.[1]);
}

async function host() {
	const kam = await registrar(opt.regs + opt.calls);
	const port = await freePort();
	const [rmin, rmax] = await freeUdpRange(8 * opt.calls);
	const conf = path.join(runDir, 'imsedge.conf');
	fs.writeFileSync(conf, [
		`w2_listen 127.0.0.1:${port}`,
		`tls_cert ${path.join(ROOT, 'test', 'data', 'cert.pem')}`,
		`tls_key ${path.join(ROOT, 'test', 'data', 'key.pem')}`,
		`w2_origin ${ORIGIN}`,
		`mw_listen 127.0.0.1:${await freePort()}`,
		`mw_next_hop sip:127.0.0.1:${kam.port};transport=udp`,
		'media_listen 127.0.0.1',
		`rtp_ports ${rmin}-${rmax}`,
		'log_level info', ''].join('\n'));
	const bin = path.join(ROOT, 'build', 'host', 'imsedge');
	const p = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
	children.add(p);
	const lines = new Lines('imsedge', !!process.env.IMSEDGE_LOG);
	lines.attach(p.stderr);
	await lines.wait(/main: ready/, 10000);
	await sleep(1000);
	const measure = async (what) => {
		await sleep(1000);
		const kb = vmRss(p.pid);
		log(`host: ${what}: VmRSS ${kb} kB`);
		return kb;
	};
	try {
		return await load(port, kam.port, { ca: [fs.readFileSync(
			path.join(ROOT, 'test', 'data', 'cert.pem'))] }, measure);
	} finally {
		await stop(p);
		await stop(kam.p);
	}
}

/* ---- a guest ------------------------------------------------------- */

async function guest(board) {
	const imageDir = path.join(ROOT, 'build', board, 'image');
	for (const f of ['vmlinuz', 'initrd.gz'])
		if (!fs.existsSync(path.join(imageDir, f)))
			throw new Error(`${imageDir}/${f} missing (make image)`);
	const kam = await registrar(opt.regs + opt.calls, '10.0.2.2');
	const hostPort = await freePort();
	const mwPort = await freePort();
	const n = 4 * opt.calls;
	const [rmin, rmax] = await freeUdpRange(n);
	const g = startGuest({ board, imageDir, seconds: 240, hostPort,
		udpPorts: [mwPort, ...Array.from({ length: n }, (_, i) => rmin + i)],
		echo: !!process.env.IMAGE_TEST_LOG,
		cmdline: { kport: kam.port, mwport: mwPort, stats: 1,
			rtp: `${rmin}-${rmax}`, mpub: '127.0.0.1', origin: ORIGIN } });
	children.add(g.qemu);
	try {
		const ready = await within(Promise.race([
			g.con.wait(/^imsedge-ready$/, 120000),
			exited(g.qemu).then(() => { throw new Error('QEMU exited'); }),
		]), 121000, 'imsedge-ready');
		const boot = (ready.at - g.t0) / 1000;
		log(`${board}: boot-to-ready ${boot.toFixed(1)} s`);
		const cbe = await g.con.wait(/^image-cryptobench-end /, 60000,
			ready.index);
		const cbb = await g.con.wait(/^image-cryptobench-begin$/, 1000,
			ready.index);
		const bench = {};
		for (const { line } of g.con.lines.slice(cbb.index + 1, cbe.index)) {
			const f = /^(\S+)\s+(\d+) ns\/packet/.exec(line);
			if (f)
				bench[f[1]] = Number(f[2]);
		}
		const drivers = g.con.lines.slice(cbb.index, cbe.index)
			.map((l) => l.line).find((l) => /^image-crypto-drivers:/.test(l))
			?.replace(/^image-crypto-drivers:\s*/, '') ?? '';
		const crypto_ = g.con.lines.map((l) => l.line)
			.find((l) => /crypto: provider /.test(l)) ?? '';
		const measure = async (what) => {
			await sleep(1000);
			const st = await guestStats(g.con, g.con.lines.length, 5000);
			if (!st)
				throw new Error(`${board}: no memory figures`);
			log(`${board}: ${what}: VmRSS ${st.rss} kB (guest ` +
				`MemAvailable ${st.avail} kB)`);
			return st.rss;
		};
		const rss = await load(hostPort, kam.port, guestTls(guestPem(g.con)),
			measure);
		return { rss, boot, bench, drivers,
			crypto: crypto_.replace(/^.*crypto: /, '') };
	} finally {
		await stop(g.qemu);
		await stop(kam.p);
	}
}

/* ---- host SRTP figures --------------------------------------------- */

function hostBench() {
	const bin = path.join(ROOT, 'build', 'host', 'cryptobench');
	const out = execFileSync(bin, ['-n', '200000'], { encoding: 'utf8',
		stdio: ['ignore', 'pipe', 'ignore'] });
	const bench = {};
	for (const l of out.split('\n')) {
		const f = /^(\S+)\s+(\d+) ns\/packet/.exec(l);
		if (f)
			bench[f[1]] = Number(f[2]);
		const u = /^(\S+)\s+unavailable \((.*)\)/.exec(l);
		if (u)
			bench[u[1]] = `unavailable (${u[2]})`;
	}
	return bench;
}

/* ---- the report ---------------------------------------------------- */

function git(args) {
	try {
		return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' })
			.trim();
	} catch {
		return '?';
	}
}

function machine() {
	const cpu = os.cpus()[0]?.model?.replace(/\s+/g, ' ') ?? '?';
	const qemu = (() => {
		try {
			return execFileSync('qemu-system-arm', ['--version'],
				{ encoding: 'utf8' }).split('\n')[0];
		} catch {
			return 'qemu ?';
		}
	})();
	return `${os.hostname()}, ${cpu} x${os.cpus().length}, ${Math.round(
		os.totalmem() / 1048576)} MiB, Linux ${os.release()}; ${qemu}`;
}

const kb = (v) => v === undefined ? 'n/a' : `${v} kB`;
const ns = (v) => v === undefined ? 'n/a' : typeof v === 'number' ?
	`${v}` : v;

function report(sz, res) {
	const dirty = git(['status', '--porcelain', '--untracked-files=no']);
	const L = [];
	L.push('# imsedge footprint', '',
		'<!-- GENERATED by `make size` (tools/footprint.mjs); do not edit. -->',
		'', `Generated ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} ` +
		`at commit ${git(['rev-parse', '--short', 'HEAD'])}${dirty ?
			' (with uncommitted changes)' : ''} on ${machine()}.`, '');
	L.push('## Binary size', '',
		'| board | TRANSCODE | stripped | unstripped | linkage |',
		'|---|---|---:|---:|---|');
	for (const b of BOARDS)
		for (const v of sz[b] ?? [])
			L.push(`| ${b} | ${v.transcode}${v.default ? ' (default)' :
				''} | ${v.stripped} B (${(v.stripped / 1024).toFixed(0)} ` +
				`KiB) | ${v.unstripped} B | ${v.linkage} |`);
	L.push('', 'Stripped with the board\'s strip (what the image and the ' +
		'.ipk ship); static binaries include libre, mbedtls, libsrtp2 ' +
		'and the C library. TRANSCODE=1 adds the audio codecs (libopus, ' +
		'opencore-amr, vo-amrwbenc) and the AGW\'s transcoding path; the ' +
		'images and packages ship the default.', '');
	L.push('## Memory (imsedge VmRSS)', '',
		`| target | idle | ${opt.regs} registrations | ${opt.regs} ` +
		`registrations + ${opt.calls} active calls | boot-to-ready |`,
		'|---|---:|---:|---:|---:|');
	for (const t of opt.targets) {
		const r = res[t];
		if (!r) {
			L.push(`| ${t} | not measured | | | |`);
			continue;
		}
		L.push(`| ${t === 'host' ? 'host (x86-64, glibc)' :
			`${t} guest (QEMU TCG)`} | ${kb(r.rss?.idle)} | ${kb(
			r.rss?.regs)} | ${kb(r.rss?.calls)} | ${r.boot === undefined ?
			'n/a' : `${r.boot.toFixed(1)} s`} |`);
	}
	L.push('', `Idle: after start-up, nothing connected. Registrations: ` +
		`${opt.regs} WSS connections (TLS 1.2, Node clients), each ` +
		'registered with Digest through imsedge to Kamailio. Calls: ' +
		`${opt.calls} of those clients send an INVITE with a Chromium ` +
		'offer to a Node IMS UE (one each), which answers; the calls are ' +
		'ACKed and stay up, with G.711 RTP from the UEs reaching the ' +
		'AGW. The clients do no ICE/DTLS, so these figures hold the ' +
		'calls\' SIP dialogs, AGW sessions, sockets and SDP state, not ' +
		'DTLS/SRTP contexts (a real browser adds one DTLS handshake and ' +
		'an SRTP context per call). Host RSS is the process\'s ' +
		'/proc/PID/status VmRSS; in the guest the same line, read by ' +
		'the image\'s /init. Boot-to-ready: from QEMU start to ' +
		'imsedge\'s "main: ready" (Debian kernel + busybox initramfs, ' +
		'128 MiB), emulated.', '');
	L.push('## SRTP protect, ns per 172-byte RTP packet', '',
		'| target | libsrtp2-mbedtls | software | afalg |', '|---|---:|---:|---:|');
	for (const t of opt.targets) {
		const b = res[t]?.bench ?? {};
		L.push(`| ${t === 'host' ? 'host' : `${t} guest (QEMU TCG)`} | ${ns(
			b['libsrtp2-mbedtls'])} | ${ns(b.software)} | ${ns(b.afalg ??
			(t === 'host' ? 'unavailable (no AF_ALG here)' : undefined))} |`);
	}
	L.push('', 'cryptobench: SRTP_AES128_CM_HMAC_SHA1_80 protect (host: ' +
		'200000 packets; guest: the 2000-packet run of the image\'s ' +
		'/init, so expect noise of tens of per cent). ' +
		'"libsrtp2-mbedtls" is libsrtp2\'s own mbedtls backend (it re-hashes ' +
		'the HMAC key pads per packet), "software" imsedge\'s provider ' +
		'through the plug-in as imsedge runs it (pads hashed once per key), ' +
		'"afalg" the Linux kernel crypto ' +
		'API (docs/crypto.md). **The guest figures are emulated (QEMU TCG): ' +
		'afalg is slower there because every packet costs system calls into ' +
		'an emulated kernel whose AES/SHA-1 code is emulated too; the ' +
		'figures compare providers in one guest and say nothing about a ' +
		'real crypto engine.** The host has no AF_ALG, hence no afalg ' +
		'figure there.');
	for (const t of opt.targets) {
		const r = res[t];
		if (r?.drivers || r?.crypto)
			L.push('', `${t} guest: ${r.crypto}; kernel drivers ${r.drivers}.`);
	}
	return L.join('\n') + '\n';
}

async function main() {
	const sz = sizes();
	const res = {};
	for (const t of opt.targets) {
		log(`measuring ${t}`);
		const t0 = Date.now();
		if (t === 'host')
			res.host = { rss: await host(), bench: hostBench() };
		else
			res[t] = await guest(t);
		log(`${t} done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
	}
	const text = report(sz, res);
	fs.mkdirSync(path.dirname(opt.out), { recursive: true });
	fs.writeFileSync(opt.out, text);
	process.stdout.write(text);
	log(`wrote ${path.relative(ROOT, opt.out)}`);
}

async function cleanup() {
	for (const c of children)
		await stop(c).catch(() => {});
	fs.rmSync(runDir, { recursive: true, force: true });
}

for (const s of ['SIGINT', 'SIGTERM'])
	process.on(s, () => cleanup().finally(() => process.exit(1)));

main().then(cleanup, async (e) => {
	log(`FAILED: ${e.stack || e}`);
	await cleanup();
	process.exit(1);
});

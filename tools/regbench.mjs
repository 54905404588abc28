#!/usr/bin/env node
// Registration benchmark: SIP REGISTER over WSS through imsedge, and the same
// load through Kamailio's own websocket module (a WSS proxy in front of the
// same registrar), printed side by side. A benchmark, not a test: it asserts
// only that every registration succeeded, and exits 1 (loudly) otherwise.
//
//   node tools/regbench.mjs [--clients N=200] [--duration S=20] [--refresh T=5]
//                           [--targets imsedge,kamailio-ws] [--imsedge BIN]
//                           [--kamailio-children K=2] [--keep]
//                           [--ciphers OPENSSL-LIST|default]
//                           [--handshakes N] [--rounds R]
//
// It starts the registrar (test/kamailio/kamailio.cfg with N generated users,
// tools/bench/registrar-start), then for each target in turn: starts it, reads
// its idle memory, opens N WSS connections (Origin https://bench.invalid,
// subprotocol sip; at most 50 handshakes at once), registers user0001..userN
// with MD5 Digest (401, then REGISTER with Authorization, qop=auth), and then,
// for S seconds, re-registers every client every T seconds (the refreshes
// spread evenly over T; the nonce is reused with nc + 1, a new 401 is
// answered). CPU (utime + stime of every process of the target, from
// /proc/PID/stat) and memory are read at the start and the end of those S
// seconds. Afterwards every client de-registers (Expires: 0) and closes, and
// the target is stopped with SIGTERM. See docs/bench-registration.md.
//
// --ciphers: the OpenSSL cipher list the clients offer (TLS 1.2 only), by
// default ECDHE-ECDSA-AES128-GCM-SHA256 for both targets; "default" lets each
// server choose (Kamailio may then pick TLS 1.3 if KAMAILIO_TLS_METHOD allows).
// --handshakes N: instead of registrations, N full TLS handshakes per row
// against each target (no resumption, 8 at a time), one row per TLS version
// (1.3, 1.2 with ECDHE-ECDSA-AES128-GCM-SHA256) and key exchange group
// (X25519, P-256; the certificate is test/data/cert.pem, ECDSA P-256), and
// prints the target's CPU per handshake (/proc/PID/stat, every process)
// and handshakes per CPU-second. Kamailio then allows TLS 1.2 and 1.3
// (KAMAILIO_TLS_METHOD=TLSv1.2+). A client connects, and drops the
// connection as soon as its side of the handshake is complete.
// --rounds R: the targets run R times, alternated (imsedge, Kamailio,
// imsedge, ...), each round reported on its own, then the ratio of
// registrations per CPU-second in each round and their median: on a VM
// where either side's CPU for the same load moves by 20 % between runs, one
// pair is not enough to judge a ratio.
// --keep keeps the work directory (configs, Kamailio run dirs). Environment:
// BENCH_OSSL_FIX=0 runs the Kamailio WSS proxy without the OpenSSL 3 fork
// fix (tools/bench/ossl-fork-fix.c); it then crashes under load on Debian 12.
import { createRequire } from 'node:module';
import { spawn, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'test', 'package.json'));
const WebSocket = require('ws');

const ORIGIN = 'https://bench.invalid';
const DOMAIN = 'ims.test';
// imsedge refuses above max(max_conn/4, 64) in handshake; under callgrind,
// fewer at once so that handshakes finish within imsedge's deadline
const CONNECT_PARALLEL = process.env.REGBENCH_CALLGRIND ? 8 : 50;
const REQ_TIMEOUT_MS = 10000;
const TARGETS = ['imsedge', 'kamailio-ws'];
let TLS_OPTS = {};

// ---------------------------------------------------------------- arguments

function usage(msg) {
	if (msg)
		console.error(`regbench: ${msg}`);
	console.error('usage: node tools/regbench.mjs [--clients N=200] [--duration S=20] ' +
		'[--refresh T=5] [--targets imsedge,kamailio-ws] [--imsedge BIN] ' +
		'[--kamailio-children K=2] [--ciphers LIST|default] [--handshakes N] ' +
		'[--rounds R] [--keep]');
	process.exit(2);
}

function parseArgs(argv) {
	const o = {
		clients: 200, duration: 20, refresh: 5, targets: TARGETS.slice(),
		imsedge: path.join(ROOT, 'build', 'host', 'imsedge'),
		kamChildren: 2, keep: false, ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
		handshakes: 0, rounds: 1,
	};
	for (let i = 0; i < argv.length; i++) {
		let [k, v] = argv[i].split('=', 2);
		const need = () => {
			if (v === undefined)
				v = argv[++i];
			if (v === undefined)
				usage(`${k} needs a value`);
			return v;
		};
		const num = (lo, hi) => {
			const n = Number(need());
			if (!Number.isFinite(n) || n < lo || n > hi)
				usage(`${k}: ${v} is not a number in ${lo}..${hi}`);
			return n;
		};
		switch (k) {
		case '--clients': o.clients = Math.floor(num(1, 100000)); break;
		case '--duration': o.duration = num(1, 3600); break;
		case '--refresh': o.refresh = num(0.2, 3600); break;
		case '--kamailio-children': o.kamChildren = Math.floor(num(1, 64)); break;
		case '--imsedge': o.imsedge = path.resolve(need()); break;
		case '--targets':
			o.targets = need().split(',').filter(Boolean);
			for (const t of o.targets)
				if (!TARGETS.includes(t))
					usage(`unknown target ${t}`);
			break;
		case '--ciphers': o.ciphers = need(); break;
		case '--handshakes': o.handshakes = Math.floor(num(1, 1000000)); break;
		case '--rounds': o.rounds = Math.floor(num(1, 100)); break;
		case '--keep': o.keep = true; break;
		case '-h': case '--help': usage();
		default: usage(`unknown argument ${argv[i]}`);
		}
	}
	return o;
}

const opt = parseArgs(process.argv.slice(2));
// the same TLS 1.2 suite for both targets (imsedge's own first choice; the
// one a browser gets): the figures compare the SIP/WebSocket work, not ciphers
if (opt.ciphers !== 'default')
	TLS_OPTS = { ciphers: opt.ciphers, maxVersion: 'TLSv1.2' };

// ---------------------------------------------------------------- processes

const CLK_TCK = (() => {
	try {
		return Number(execFileSync('getconf', ['CLK_TCK']).toString()) || 100;
	} catch {
		return 100;
	}
})();

const started = [];     // every child process we started (group leaders)
let workDir = null;     // removed on a signal unless --keep

/**
 * Start a child in its own process group; collect stderr+stdout lines.
 * ready: RegExp on a log line, or null.
 */
function startProc(name, cmd, args, ready, env = {}) {
	const proc = spawn(cmd, args, {
		cwd: ROOT, env: { ...process.env, ...env },
		stdio: ['ignore', 'pipe', 'pipe'], detached: true,
	});
	const p = {
		name, proc, pid: proc.pid, lines: [], nlines: 0, exited: null,
		watchers: [],
	};
	started.push(p);
	const onData = (() => {
		let buf = '';
		return (chunk) => {
			buf += chunk;
			let i;
			while ((i = buf.indexOf('\n')) >= 0) {
				const line = buf.slice(0, i);
				buf = buf.slice(i + 1);
				p.nlines++;
				p.lines.push(line);
				if (p.lines.length > 5000)
					p.lines.splice(0, 1000);
				for (const w of p.watchers)
					w(line);
			}
		};
	})();
	proc.stdout.setEncoding('utf8').on('data', onData);
	proc.stderr.setEncoding('utf8').on('data', onData);
	p.exitPromise = new Promise((res) => proc.on('exit', (code, sig) => {
		p.exited = { code, sig };
		res(p.exited);
	}));
	p.readyPromise = new Promise((res, rej) => {
		const t = setTimeout(() => rej(new Error(
			`${name}: not ready within 30 s\n${tail(p)}`)), 30000);
		if (!ready) {
			clearTimeout(t);
			res();
			return;
		}
		p.watchers.push((line) => {
			if (ready.test(line)) {
				clearTimeout(t);
				res();
			}
		});
		p.exitPromise.then((e) => {
			clearTimeout(t);
			rej(new Error(`${name} exited (${e.code ?? e.sig}) before it was ready\n${tail(p)}`));
		});
	});
	p.readyPromise.catch(() => {});
	return p;
}

function tail(p, n = 25) {
	return p.lines.slice(-n).map((l) => `  ${p.name}| ${l}`).join('\n');
}

async function stopProc(p, ms = 10000) {
	if (p.exited)
		return p.exited;
	p.beforeStop = p.lines.slice();
	try {
		process.kill(p.pid, 'SIGTERM');
	} catch { /* gone */ }
	const t = setTimeout(() => {
		try {
			process.kill(-p.pid, 'SIGKILL');
		} catch { /* gone */ }
	}, ms);
	const e = await p.exitPromise;
	clearTimeout(t);
	// anything left in its group (Kamailio children) goes too
	await sleep(200);
	try {
		process.kill(-p.pid, 'SIGKILL');
	} catch { /* gone */ }
	return e;
}

function killAllSync() {
	for (const p of started) {
		if (!p.exited) {
			try {
				process.kill(-p.pid, 'SIGKILL');
			} catch { /* gone */ }
		}
	}
}

process.on('exit', killAllSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.on(sig, () => {
		console.error(`regbench: ${sig}, stopping`);
		killAllSync();
		if (workDir && !opt.keep)
			fs.rmSync(workDir, { recursive: true, force: true });
		process.exit(1);
	});
}

// ---------------------------------------------------------------- /proc

function readStat(pid) {
	try {
		const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
		const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
		return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
	} catch {
		return null;
	}
}

/** pid and all its descendants */
function processTree(root) {
	const children = new Map();
	for (const d of fs.readdirSync('/proc')) {
		if (!/^\d+$/.test(d))
			continue;
		const st = readStat(d);
		if (!st)
			continue;
		if (!children.has(st.ppid))
			children.set(st.ppid, []);
		children.get(st.ppid).push(Number(d));
	}
	const out = [];
	const todo = [root];
	while (todo.length) {
		const pid = todo.pop();
		out.push(pid);
		todo.push(...(children.get(pid) || []));
	}
	return out;
}

/** CPU seconds (utime + stime) summed over the tree */
function cpuSeconds(root) {
	let ticks = 0;
	for (const pid of processTree(root)) {
		const st = readStat(pid);
		if (st)
			ticks += st.ticks;
	}
	return ticks / CLK_TCK;
}

function kib(text, key) {
	const m = text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm'));
	return m ? Number(m[1]) : 0;
}

/** Memory of the tree: VmRSS sum, shm part, PSS sum (shared pages split) */
function memory(root) {
	const m = { procs: 0, rss: 0, rssShmemMax: 0, pss: 0 };
	for (const pid of processTree(root)) {
		try {
			const st = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
			const sm = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
			m.procs++;
			m.rss += kib(st, 'VmRSS');
			m.rssShmemMax = Math.max(m.rssShmemMax, kib(st, 'RssShmem'));
			m.pss += kib(sm, 'Pss');
		} catch { /* exited meanwhile */ }
	}
	return m;
}

/** Kamailio shm pool use (KiB) through its ctl socket, or null */
function kamShm(ctl) {
	try {
		const out = execFileSync('kamcmd', ['-s', `unix:${ctl}`, 'core.shmmem'],
			{ timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
		const get = (k) => Number((out.match(new RegExp(`\\b${k}:\\s*(\\d+)`)) || [])[1]);
		return { total: get('total') / 1024, used: get('real_used') / 1024 };
	} catch {
		return null;
	}
}

// ---------------------------------------------------------------- helpers

function sleep(ms) {
	return new Promise((r) => setTimeout(r, ms));
}

/** A port free for TCP and UDP on 127.0.0.1 a moment ago */
async function freePort() {
	for (let i = 0; i < 50; i++) {
		const srv = net.createServer();
		await new Promise((r) => srv.listen(0, '127.0.0.1', r));
		const { port } = srv.address();
		const u = dgram.createSocket('udp4');
		const ok = await new Promise((r) => {
			u.once('error', () => r(false));
			u.bind(port, '127.0.0.1', () => r(true));
		});
		if (ok)
			await new Promise((r) => u.close(r));
		await new Promise((r) => srv.close(r));
		if (ok)
			return port;
	}
	throw new Error('no free port');
}

async function waitTcp(port, p, ms = 20000) {
	const end = Date.now() + ms;
	for (;;) {
		if (p.exited)
			throw new Error(`${p.name} exited (${p.exited.code ?? p.exited.sig})\n${tail(p)}`);
		const ok = await new Promise((r) => {
			const s = net.connect(port, '127.0.0.1');
			s.once('connect', () => {
				s.destroy();
				r(true);
			});
			s.once('error', () => r(false));
		});
		if (ok)
			return;
		if (Date.now() > end)
			throw new Error(`${p.name}: port ${port} not accepting within ${ms} ms\n${tail(p)}`);
		await sleep(100);
	}
}

const md5 = (s) => crypto.createHash('md5').update(s).digest('hex');
const rnd = (n = 8) => crypto.randomBytes(n).toString('hex');

function percentile(sorted, q) {
	if (!sorted.length)
		return NaN;
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function firstLine(s) {
	return String(s).split('\r\n', 1)[0];
}

// ---------------------------------------------------------------- SIP client

function digestParams(h) {
	const out = {};
	const re = /([a-zA-Z-]+)\s*=\s*(?:"([^"]*)"|([^\s,]+))/g;
	let m;
	while ((m = re.exec(h)))
		out[m[1].toLowerCase()] = m[2] !== undefined ? m[2] : m[3];
	return out;
}

function header(msg, name) {
	const m = msg.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'mi'));
	return m ? m[1].trim() : null;
}

class Stats {
	constructor() {
		this.ok = 0;             // 200 OKs to REGISTER, any phase
		this.okWindow = 0;       // 200 OKs received inside the measured window
		this.challenges = 0;     // 401s
		this.sent = 0;
		this.fail = new Map();   // reason -> count
		this.lat = [];           // ms, REGISTER -> 200 (no 401 between), in window
		this.late = 0;           // refresh due while the previous one was pending
		this.closed = 0;         // connections closed by the server
		this.firstFail = [];     // a few failing messages, for the report
	}
	failed(reason, detail) {
		this.fail.set(reason, (this.fail.get(reason) || 0) + 1);
		if (this.firstFail.length < 5)
			this.firstFail.push(`${reason}${detail ? `: ${detail}` : ''}`);
	}
	get errors() {
		let n = 0;
		for (const v of this.fail.values())
			n += v;
		return n;
	}
}

class Client {
	constructor(i, width, port, stats) {
		this.i = i;
		this.user = `user${String(i).padStart(width, '0')}`;
		this.impi = `${this.user}@${DOMAIN}`;
		this.host = `c${i}-${rnd(3)}.invalid`;
		this.port = port;
		this.stats = stats;
		this.callId = `${rnd(10)}@regbench`;
		this.tag = rnd(5);
		this.instance = crypto.randomUUID();
		this.cseq = 0;
		this.chal = null;         // {realm, nonce, opaque, qop, algorithm}
		this.nc = 0;
		this.pending = null;
		this.ws = null;
		this.closing = false;
		this.window = null;       // {start, end} ms timestamps
	}

	connect() {
		return new Promise((resolve, reject) => {
			const ws = new WebSocket(`wss://127.0.0.1:${this.port}/`, 'sip', {
				origin: ORIGIN, rejectUnauthorized: false, perMessageDeflate: false,
				handshakeTimeout: 15000, ...TLS_OPTS,
			});
			this.ws = ws;
			ws.once('open', () => resolve());
			ws.once('unexpected-response', (req, res) =>
				reject(new Error(`${this.user}: HTTP ${res.statusCode} to the Upgrade`)));
			ws.on('error', (e) => {
				reject(e);
				if (this.pending)
					this.finish(null, `ws error ${e.code || e.message}`);
			});
			ws.on('close', (code) => {
				if (!this.closing) {
					this.stats.closed++;
					this.stats.failed('connection closed', `${this.user} close ${code}`);
				}
				if (this.pending)
					this.finish(null, `closed ${code}`);
				reject(new Error(`${this.user}: closed ${code} before open`));
			});
			ws.on('message', (data) => this.onMessage(String(data)));
		});
	}

	authorization() {
		const c = this.chal;
		const uri = `sip:${DOMAIN}`;
		const ha1 = md5(`${this.impi}:${c.realm}:pw`);
		const ha2 = md5(`REGISTER:${uri}`);
		let h = `Digest username="${this.impi}", realm="${c.realm}", nonce="${c.nonce}", ` +
			`uri="${uri}", algorithm=MD5`;
		if (c.qop && /\bauth\b/.test(c.qop)) {
			const nc = (++this.nc).toString(16).padStart(8, '0');
			const cnonce = rnd(8);
			h += `, response="${md5(`${ha1}:${c.nonce}:${nc}:${cnonce}:auth:${ha2}`)}"` +
				`, cnonce="${cnonce}", qop=auth, nc=${nc}`;
		}
		else {
			h += `, response="${md5(`${ha1}:${c.nonce}:${ha2}`)}"`;
		}
		if (c.opaque !== undefined)
			h += `, opaque="${c.opaque}"`;
		return h;
	}

	request(expires) {
		this.branch = `z9hG4bK${rnd(8)}`;
		this.cseq++;
		const lines = [
			`REGISTER sip:${DOMAIN} SIP/2.0`,
			`Via: SIP/2.0/WSS ${this.host};branch=${this.branch}`,
			'Max-Forwards: 70',
			`To: <sip:${this.impi}>`,
			`From: <sip:${this.impi}>;tag=${this.tag}`,
			`Call-ID: ${this.callId}`,
			`CSeq: ${this.cseq} REGISTER`,
			`Contact: <sip:${this.user}@${this.host};transport=ws>;` +
				`+sip.instance="<urn:uuid:${this.instance}>";expires=${expires}`,
			`Expires: ${expires}`,
			'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
			'Supported: path, gruu',
		];
		if (this.chal)
			lines.push(`Authorization: ${this.authorization()}`);
		lines.push('User-Agent: regbench', 'Content-Length: 0', '', '');
		return lines.join('\r\n');
	}

	/** One registration: resolves true on 200, false on a failure (counted) */
	register(expires = 600) {
		if (this.pending)
			return Promise.resolve(false);
		return new Promise((resolve) => {
			this.pending = {
				resolve, expires, t0: performance.now(), challenged: false,
				timer: setTimeout(() => this.finish(null, 'timeout'), REQ_TIMEOUT_MS),
			};
			this.send();
		});
	}

	send() {
		this.stats.sent++;
		try {
			this.ws.send(this.request(this.pending.expires));
		} catch (e) {
			this.finish(null, `send: ${e.message}`);
		}
	}

	finish(code, reason, detail) {
		const p = this.pending;
		if (!p)
			return;
		this.pending = null;
		clearTimeout(p.timer);
		if (code === 200) {
			this.stats.ok++;
			const now = performance.now();
			if (this.window && now >= this.window.start && now <= this.window.end) {
				this.stats.okWindow++;
				if (!p.challenged)
					this.stats.lat.push(now - p.t0);
			}
			p.resolve(true);
			return;
		}
		this.stats.failed(reason, detail ? `${this.user}: ${detail}` : this.user);
		p.resolve(false);
	}

	onMessage(msg) {
		const p = this.pending;
		const status = msg.match(/^SIP\/2\.0 (\d{3})/);
		if (!status) {
			this.stats.failed('unexpected request', firstLine(msg));
			return;
		}
		const via = header(msg, 'Via') || header(msg, 'v') || '';
		const cseq = header(msg, 'CSeq') || '';
		if (!p || !via.includes(this.branch) || !cseq.startsWith(`${this.cseq} `))
			return;           // stray (retransmission or late)
		const code = Number(status[1]);
		if (code < 200)
			return;
		if (code === 401) {
			this.stats.challenges++;
			const h = header(msg, 'WWW-Authenticate');
			const fresh = h && digestParams(h.replace(/^Digest\s+/i, ''));
			// a second 401 in a row is a failure, unless the nonce went stale
			if (!fresh || !fresh.nonce ||
			    (p.challenged && !/^true$/i.test(fresh.stale || ''))) {
				this.finish(null, '401 again (credentials refused)', firstLine(msg));
				return;
			}
			p.challenged = true;
			this.chal = fresh;
			this.nc = 0;
			this.send();
			return;
		}
		if (code === 200) {
			this.finish(200);
			return;
		}
		this.finish(null, `SIP ${code}`, firstLine(msg));
	}

	close() {
		this.closing = true;
		if (!this.ws)
			return Promise.resolve();
		if (this.ws.readyState === WebSocket.CLOSED)
			return Promise.resolve();
		return new Promise((res) => {
			const t = setTimeout(() => {
				this.ws.terminate();
				res();
			}, 3000);
			this.ws.once('close', () => {
				clearTimeout(t);
				res();
			});
			this.ws.close(1000);
		});
	}
}

/** Run fn over items with at most n in flight */
async function pool(items, n, fn) {
	let next = 0;
	const worker = async () => {
		while (next < items.length)
			await fn(items[next++]);
	};
	await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

// ---------------------------------------------------------------- one target

async function startTarget(name, ctx) {
	const dir = fs.mkdtempSync(path.join(ctx.dir, `${name}-`));
	if (name === 'imsedge') {
		const port = await freePort();
		const conf = path.join(dir, 'imsedge.conf');
		fs.writeFileSync(conf, [
			'# regbench',
			`w2_listen 127.0.0.1:${port}`,
			`tls_cert ${path.join(ROOT, 'test/data/cert.pem')}`,
			`tls_key ${path.join(ROOT, 'test/data/key.pem')}`,
			`w2_origin ${ORIGIN}`,
			`mw_listen 127.0.0.1:${await freePort()}`,
			`mw_next_hop sip:127.0.0.1:${ctx.regPort};transport=udp`,
			`max_connections ${opt.clients + 64}`,
			`max_registrations ${opt.clients + 64}`,
			// every client comes from 127.0.0.1
			'w2_pending_per_address 1000000',
			'w2_connections_per_address 1000000',
			'w2_rate_limit 0',
			'log_level warn',
			// under callgrind: no WebSocket pings in the window, so that
			// its counts are the registrations' own
			...(process.env.REGBENCH_CALLGRIND ? ['w2_ping_interval 0'] : []),
			'',
		].join('\n'));
		// REGBENCH_CALLGRIND=FILE: imsedge under callgrind, instructions
		// counted only inside the measured window (see countCallgrind)
		const cg = process.env.REGBENCH_CALLGRIND;
		const p = cg ?
			startProc('imsedge', 'valgrind', ['--tool=callgrind',
				'--instr-atstart=no', `--callgrind-out-file=${path.resolve(cg)}`,
				ctx.imsedge, '-c', conf], null) :
			startProc('imsedge', ctx.imsedge, ['-c', conf], null);
		await waitTcp(port, p);
		return { p, port, dir, shm: () => null };
	}
	const port = await freePort();
	const udp = await freePort();
	const method = opt.handshakes ? { KAMAILIO_TLS_METHOD: 'TLSv1.2+' } : {};
	const p = startProc('kamailio-ws', path.join(ROOT, 'tools/bench/kamailio-wss-start'),
		[String(port), String(udp), String(ctx.regPort), dir], /kamailio ready/, {
			...method,
			BENCH_ORIGIN: ORIGIN, BENCH_CHILDREN: String(opt.kamChildren),
			BENCH_MAXCONN: String(Math.max(4096, opt.clients + 64)),
			// OpenSSL keeps its per-connection state in Kamailio's shm pool,
			// about 150 KiB a connection: size the pool with N (untouched pages
			// cost nothing)
			KAMAILIO_SHM: process.env.KAMAILIO_SHM ||
				String(Math.max(256, Math.ceil(64 + opt.clients * 0.25))),
		});
	await p.readyPromise;
	await waitTcp(port, p);
	const ctl = path.join(dir, 'kamailio.ctl');
	return { p, port, dir, shm: () => kamShm(ctl) };
}

/** Log lines of a target that say something went wrong */
function complaints(name, lines) {
	const re = name === 'imsedge' ? /^(WARN|ERROR)/ :
		/\b(WARNING|ERROR|CRITICAL|BUG|ALERT):/;
	const skip = name === 'imsedge' ? null :
		/openssl bug #1491|neither "nathelper" nor|handle_sigs\(\)|shutdown|Thank you/;
	return lines.filter((l) => re.test(l) && !(skip && skip.test(l)));
}

async function runTarget(name, ctx) {
	const N = opt.clients;
	const width = Math.max(4, String(N).length);
	const t = await startTarget(name, ctx);
	const r = { name, stats: new Stats() };
	const stats = r.stats;
	const clients = [];

	try {
		await sleep(1000);
		r.memIdle = memory(t.p.pid);
		r.shmIdle = t.shm();

		// setup: TLS + Upgrade + 401 + REGISTER for every client
		const cpu0 = cpuSeconds(t.p.pid);
		const reg0 = cpuSeconds(ctx.registrar.pid);
		const node0 = process.cpuUsage();
		const s0 = performance.now();
		for (let i = 1; i <= N; i++)
			clients.push(new Client(i, width, t.port, stats));
		await pool(clients, CONNECT_PARALLEL, async (c) => {
			try {
				await c.connect();
			} catch (e) {
				stats.failed('connect', `${c.user}: ${e.message}`);
				return;
			}
			await c.register();
		});
		r.setupSec = (performance.now() - s0) / 1000;
		r.setupCpu = cpuSeconds(t.p.pid) - cpu0;
		r.setupRegCpu = cpuSeconds(ctx.registrar.pid) - reg0;
		const nu = process.cpuUsage(node0);
		r.setupNodeCpu = (nu.user + nu.system) / 1e6;
		if (stats.ok !== N || stats.errors)
			throw new Error(`${name}: only ${stats.ok} of ${N} clients registered ` +
				`(${stats.errors} errors)\n  ${stats.firstFail.join('\n  ')}\n${tail(t.p)}`);
		const c0 = clients[0].ws._socket;
		r.tls = `${c0.getProtocol()} ${c0.getCipher().name}`;

		// the measured window: refreshes every T s, spread evenly
		await sleep(300);
		const T = opt.refresh * 1000;
		const S = opt.duration * 1000;
		const start = performance.now() + 50;
		const end = start + S;
		for (const c of clients)
			c.window = { start, end };
		const timers = [];
		let expected = 0;
		clients.forEach((c, k) => {
			const offset = (k / N) * T;
			for (let due = offset; due < S; due += T)
				expected++;
			const tick = (due) => {
				if (due >= S)
					return;
				if (c.pending)
					stats.late++;
				else
					c.register();
				const next = due + T;
				timers.push(setTimeout(() => tick(next),
					Math.max(0, start + next - performance.now())));
			};
			timers.push(setTimeout(() => tick(offset),
				Math.max(0, start + offset - performance.now())));
		});
		r.expected = expected;

		await sleep(Math.max(0, start - performance.now()));
		const cg = name === 'imsedge' && process.env.REGBENCH_CALLGRIND;
		if (cg)
			execFileSync('callgrind_control', ['-i', 'on', String(t.p.pid)]);
		const w = {
			cpu: cpuSeconds(t.p.pid), reg: cpuSeconds(ctx.registrar.pid),
			node: process.cpuUsage(), t: performance.now(),
		};
		await sleep(Math.max(0, end - performance.now()));
		if (cg)
			execFileSync('callgrind_control', ['-i', 'off', String(t.p.pid)]);
		r.cpu = cpuSeconds(t.p.pid) - w.cpu;
		r.regCpu = cpuSeconds(ctx.registrar.pid) - w.reg;
		const wn = process.cpuUsage(w.node);
		r.nodeCpu = (wn.user + wn.system) / 1e6;
		r.windowSec = (performance.now() - w.t) / 1000;
		r.memLoaded = memory(t.p.pid);
		r.shmLoaded = t.shm();
		r.okWindow = stats.okWindow;
		for (const tm of timers)
			clearTimeout(tm);

		// the last refreshes finish (outside the window)
		const drainEnd = Date.now() + REQ_TIMEOUT_MS + 1000;
		while (clients.some((c) => c.pending) && Date.now() < drainEnd)
			await sleep(50);

		if (t.p.exited)
			throw new Error(`${name} exited during the run (${t.p.exited.code ?? t.p.exited.sig})\n${tail(t.p)}`);

		// de-register (not measured), so the registrar starts the next target clean
		const before = stats.errors;
		await pool(clients.filter((c) => c.ws.readyState === WebSocket.OPEN),
			CONNECT_PARALLEL, (c) => c.register(0));
		r.deregErrors = stats.errors - before;
	} finally {
		await pool(clients, 200, (c) => c.close());
		const e = await stopProc(t.p);
		r.exit = e.code ?? e.sig;
		if (name === 'imsedge' && process.env.REGBENCH_CALLGRIND && r.okWindow)
			r.callgrind = countCallgrind(process.env.REGBENCH_CALLGRIND, r.okWindow);
		r.complaints = complaints(name, t.p.beforeStop || t.p.lines);
		r.logLines = t.p.nlines;
		if (!opt.keep)
			fs.rmSync(t.dir, { recursive: true, force: true });
	}
	return r;
}

/**
 * Instructions, malloc() calls and getrandom() calls per registration from a
 * callgrind output file (only the measured window was instrumented)
 */
function countCallgrind(file, regs) {
	const names = new Map();
	let ir = 0, cfn = '', mallocs = 0, getrandoms = 0;
	for (const l of fs.readFileSync(file, 'utf8').split('\n')) {
		let m;
		if ((m = /^(?:summary|totals):\s+(\d+)/.exec(l)))
			ir = Math.max(ir, Number(m[1]));
		else if ((m = /^(c?)fn=\((\d+)\)(?: (.*))?$/.exec(l))) {
			// names are compressed: "(id) name" the first time, "(id)" after
			if (m[3] !== undefined)
				names.set(m[2], m[3]);
			if (m[1])
				cfn = names.get(m[2]) || '';
		} else if ((m = /^calls=(\d+)/.exec(l))) {
			if (/^(malloc|calloc|realloc)(\'2)?$/.test(cfn))
				mallocs += Number(m[1]);
			else if (/^getrandom(\'2)?$/.test(cfn))
				getrandoms += Number(m[1]);
		}
	}
	return {
		irPerReg: ir / regs, mallocPerReg: mallocs / regs,
		getrandomPerReg: getrandoms / regs,
	};
}

// ---------------------------------------------------------------- handshakes

const HS_PARALLEL = 8;
// In TLS 1.2 the client's supported groups also name the curves it takes
// an ECDSA certificate on (RFC 8422 5.1): an X25519-only client refuses
// the P-256 certificate ("wrong curve"). Browsers offer both; so does the
// X25519 row, and the negotiated group is printed.
const HS_ROWS = [
	{ tls: 'TLSv1.3', group: 'X25519', offer: 'X25519' },
	{ tls: 'TLSv1.3', group: 'P-256', offer: 'P-256' },
	{ tls: 'TLSv1.2', group: 'X25519', offer: 'X25519:P-256' },
	{ tls: 'TLSv1.2', group: 'P-256', offer: 'P-256' },
];

/** One full handshake; resolves with the negotiated protocol */
function handshake(port, row) {
	return new Promise((resolve, reject) => {
		const s = tls.connect({
			host: '127.0.0.1', port, servername: 'localhost',
			rejectUnauthorized: false, ecdhCurve: row.offer,
			minVersion: row.tls, maxVersion: row.tls,
			...(row.tls === 'TLSv1.2' ?
				{ ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' } : {}),
		});
		let proto = null;
		const t = setTimeout(() => {
			s.destroy();
			reject(new Error(`${row.tls} ${row.group}: no handshake in 10 s`));
		}, 10000);
		// the server's handshake work is done when the client has its
		// Finished (TLS 1.2) or nearly (1.3: the client's Finished is
		// in flight); the client then drops the connection at once
		s.once('secureConnect', () => {
			const k = s.getEphemeralKeyInfo();
			proto = `${s.getProtocol()} ${k.name || k.type}`;
			clearTimeout(t);
			s.destroy();
			resolve(proto);
		});
		s.on('error', (e) => {
			clearTimeout(t);
			if (!proto)
				reject(new Error(`${row.tls} ${row.group}: ${e.code || e.message}`));
		});
		s.once('close', () => {
			clearTimeout(t);
			if (!proto)
				reject(new Error(`${row.tls} ${row.group}: closed before the handshake`));
		});
	});
}

async function runHandshakes(name, ctx) {
	const N = opt.handshakes;
	const t = await startTarget(name, ctx);
	const r = { name, rows: [] };
	try {
		await sleep(500);
		// warm-up: first connections (worker start-up, caches)
		for (let i = 0; i < 8; i++)
			await handshake(t.port, HS_ROWS[i % HS_ROWS.length]);
		for (const row of HS_ROWS) {
			let proto = null;
			const cpu0 = cpuSeconds(t.p.pid);
			const t0 = Date.now();
			await pool(Array.from({ length: N }, (_, i) => i), HS_PARALLEL,
				async () => { proto = await handshake(t.port, row); });
			const secs = (Date.now() - t0) / 1000;
			await sleep(200);
			const cpu = cpuSeconds(t.p.pid) - cpu0;
			r.rows.push({ ...row, proto, cpu, secs, n: N });
			if (t.p.exited)
				throw new Error(`${name} exited (${t.p.exited.code ?? t.p.exited.sig})\n${tail(t.p)}`);
		}
	} finally {
		const e = await stopProc(t.p);
		r.exit = e.code ?? e.sig;
		if (name === 'imsedge' && process.env.REGBENCH_CALLGRIND && r.okWindow)
			r.callgrind = countCallgrind(process.env.REGBENCH_CALLGRIND, r.okWindow);
		r.logLines = t.p.nlines;
		r.complaints = complaints(name, t.p.beforeStop || t.p.lines);
		if (!opt.keep)
			fs.rmSync(t.dir, { recursive: true, force: true });
	}
	return r;
}

function reportHandshakes(results, v) {
	console.log('');
	console.log(`regbench --handshakes: ${opt.handshakes} full TLS handshakes per row, ` +
		`${HS_PARALLEL} at a time, no resumption; certificate ECDSA P-256 ` +
		'(test/data/cert.pem) on both targets');
	console.log(`  imsedge:  ${v.imsedge}`);
	console.log(`  kamailio: ${v.kamailio} (tls module on the system OpenSSL; ` +
		`${opt.kamChildren} TCP workers)`);
	console.log(`  client:   ${v.node}`);
	console.log(`  machine:  ${v.machine}`);
	console.log(`  load:     ${v.loadBefore} before, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} after`);
	console.log('');
	const base = {};
	for (const r of results)
		for (const h of r.rows)
			if (r.name === 'kamailio-ws')
				base[`${h.tls} ${h.group}`] = h.cpu / h.n;
	const rows = [];
	for (const r of results)
		for (const h of r.rows) {
			const ms = h.cpu / h.n * 1000;
			const k = base[`${h.tls} ${h.group}`];
			rows.push([r.name, h.tls, h.group, h.proto, h.n, f2(h.cpu),
				f3(ms), f1(h.n / h.cpu), f1(h.n / h.secs),
				k ? f2(ms / (k * 1000)) : '-']);
		}
	console.log(table(['target', 'TLS', 'group', 'negotiated', 'handshakes', 'target CPU s',
		'CPU ms per handshake', 'handshakes per CPU-s', 'handshakes/s (wall)',
		'x Kamailio'], rows));
	console.log('  (CPU = utime + stime of every process of the target, 10 ms ticks, ' +
		'read before and 200 ms after each row; idle timers included)');
	for (const r of results) {
		console.log(`${r.name}: exit ${r.exit} after SIGTERM, ${r.logLines} log lines, ` +
			`${r.complaints.length} warnings/errors`);
		for (const l of r.complaints.slice(0, 8))
			console.log(`  ${r.name}| ${l}`);
	}
}

// ---------------------------------------------------------------- report

function versions() {
	const v = {};
	const run = (cmd, args) => {
		try {
			return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
				.toString().split('\n')[0].trim();
		} catch (e) {
			return `(${cmd}: ${e.message.split('\n')[0]})`;
		}
	};
	v.imsedge = run(opt.imsedge, ['-v']);
	if (fs.existsSync(opt.imsedge)) {
		const sha = crypto.createHash('sha256').update(fs.readFileSync(opt.imsedge))
			.digest('hex').slice(0, 12);
		const head = run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
		const dirty = run('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src', 'third_party',
			'Makefile']);
		v.imsedge += ` (${path.relative(ROOT, opt.imsedge) || opt.imsedge}, sha256 ${sha}, ` +
			`built ${fs.statSync(opt.imsedge).mtime.toISOString().slice(0, 19)}Z; ` +
			`tree ${head}${dirty ? ' + local changes' : ''})`;
	}
	v.kamailio = run('kamailio', ['-v']).replace(/^version:\s*/, '');
	v.loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
	v.node = `node ${process.version}, OpenSSL ${process.versions.openssl}, ws ${require('ws/package.json').version}`;
	const cpu = os.cpus();
	v.machine = `${os.availableParallelism()} CPUs (nproc), ${cpu[0] ? cpu[0].model.trim() : '?'}, ` +
		`${Math.round(os.totalmem() / 2 ** 20)} MiB RAM, Linux ${os.release()}`;
	return v;
}

function table(head, rows) {
	const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
	const line = (r) => r.map((c, i) => (i ? String(c).padStart(w[i]) : String(c).padEnd(w[i])))
		.join(' | ');
	return [line(head), w.map((n) => '-'.repeat(n)).join('-|-'), ...rows.map(line)].join('\n');
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '-');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '-');
const f3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '-');

/* Registrations per CPU-second of one target's run */
const regPerCpu = (r) => r.okWindow / r.cpu;

/* imsedge's registrations per CPU-second over Kamailio's in these results
   (one round), or null if either is missing or used no CPU */
function regRatio(results) {
	const ims = results.find((r) => r.name === 'imsedge');
	const kam = results.find((r) => r.name === 'kamailio-ws');
	return ims && kam && ims.cpu > 0 && kam.cpu > 0 ?
		{ ims, kam, ratio: regPerCpu(ims) / regPerCpu(kam) } : null;
}

/* The imsedge/Kamailio ratio per round and the median of the rounds that
   have both */
function reportRounds(results) {
	const ratios = [];
	for (let round = 1; round <= opt.rounds; round++) {
		const rr = regRatio(results.filter((r) => r.round === round));
		if (rr)
			ratios.push(rr.ratio);
	}
	if (!ratios.length)
		return;
	const sorted = ratios.slice().sort((a, b) => a - b);
	const m = sorted.length >> 1;
	const median = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
	console.log(`\nregbench: imsedge / kamailio-ws registrations per CPU-second, per round: ` +
		`${ratios.map((x) => `${f2(x)}x`).join(', ')}; median ${f2(median)}x`);
}

function report(results, v) {
	const N = opt.clients;
	console.log('');
	console.log(`regbench: REGISTER over WSS, ${N} clients, refresh every ${opt.refresh} s, ` +
		`measured for ${opt.duration} s (offered ${f1(N / opt.refresh)} reg/s)`);
	console.log(`  imsedge:  ${v.imsedge}`);
	console.log(`  kamailio: ${v.kamailio} (websocket + tls + xhttp; ${opt.kamChildren} UDP + ` +
		`${opt.kamChildren} TCP workers); registrar: the same Kamailio, test/kamailio/kamailio.cfg`);
	console.log(`  client:   ${v.node}`);
	console.log(`  machine:  ${v.machine}`);
	console.log(`  load:     ${v.loadBefore} before, ${os.loadavg().map((x) => x.toFixed(2)).join(' ')} ` +
		'after (1/5/15 min load average: other work on the machine shows here)');
	console.log('');
	console.log(table(
		['target', 'clients', 'registrations', 'reg/s', 'CPU s per 1000 reg',
			'RSS idle KiB', 'RSS loaded KiB', 'RSS per client KiB'],
		results.map((r) => [r.name, N, r.okWindow, f1(r.okWindow / r.windowSec),
			f3(r.cpu / r.okWindow * 1000), r.memIdle.pss, r.memLoaded.pss,
			f2((r.memLoaded.pss - r.memIdle.pss) / N)])));
	const ims = results.find((r) => r.name === 'imsedge');
	const rr = regRatio(results);
	if (rr)
		console.log(`  registrations per CPU-second: imsedge ${f1(regPerCpu(rr.ims))}, ` +
			`kamailio-ws ${f1(regPerCpu(rr.kam))}: ${f2(rr.ratio)}x`);
	if (ims && ims.callgrind)
		console.log(`  imsedge under callgrind (window only): ` +
			`${Math.round(ims.callgrind.irPerReg)} instructions, ` +
			`${f1(ims.callgrind.mallocPerReg)} malloc/calloc/realloc calls, ` +
			`${f2(ims.callgrind.getrandomPerReg)} getrandom calls per registration`);
	console.log('  RSS = PSS summed over the target\'s processes (/proc/PID/smaps_rollup): pages');
	console.log('  shared between processes (Kamailio\'s shm pool, libraries) are split between them,');
	console.log('  so each page counts once. Raw VmRSS sums and Kamailio\'s shm use are below.');
	console.log('');
	console.log(table(
		['target', 'expected', 'errors', 'late', '401s', 'p50 ms', 'p99 ms',
			'target CPU s', 'registrar CPU s', 'registrar CPU s/1000', 'regbench CPU s'],
		results.map((r) => {
			const lat = r.stats.lat.slice().sort((a, b) => a - b);
			return [r.name, r.expected, r.stats.errors, r.stats.late, r.stats.challenges,
				f2(percentile(lat, 0.5)), f2(percentile(lat, 0.99)),
				f2(r.cpu), f2(r.regCpu), f3(r.regCpu / r.okWindow * 1000), f2(r.nodeCpu)];
		})));
	console.log('  (the measured window; "expected" = refreshes due in it; 401s over the whole run)');
	console.log('');
	console.log(table(
		['target', 'setup s', 'setup conn/s', 'setup target CPU s', 'setup registrar CPU s',
			'setup regbench CPU s', 'TLS'],
		results.map((r) => [r.name, f2(r.setupSec), f1(N / r.setupSec), f2(r.setupCpu),
			f2(r.setupRegCpu), f2(r.setupNodeCpu), r.tls])));
	console.log('  (setup = N x (TLS handshake + Upgrade + REGISTER/401 + REGISTER/200), ' +
		`${CONNECT_PARALLEL} at a time, before the window)`);
	console.log('');
	console.log(table(
		['target', 'processes', 'VmRSS sum idle KiB', 'VmRSS sum loaded KiB',
			'shm used idle KiB', 'shm used loaded KiB', 'shm pool KiB'],
		results.map((r) => [r.name, r.memLoaded.procs, r.memIdle.rss, r.memLoaded.rss,
			r.shmIdle ? Math.round(r.shmIdle.used) : '-',
			r.shmLoaded ? Math.round(r.shmLoaded.used) : '-',
			r.shmLoaded ? Math.round(r.shmLoaded.total) : '-'])));
	console.log('');
	for (const r of results) {
		const extra = [];
		if (r.deregErrors)
			extra.push(`${r.deregErrors} de-registration errors`);
		if (r.stats.closed)
			extra.push(`${r.stats.closed} connections closed by the server`);
		console.log(`${r.name}: exit ${r.exit} after SIGTERM, ${r.logLines} log lines, ` +
			`${r.complaints.length} warnings/errors${extra.length ? `, ${extra.join(', ')}` : ''}`);
		for (const l of r.complaints.slice(0, 8))
			console.log(`  ${r.name}| ${l}`);
		for (const l of r.stats.firstFail)
			console.log(`  failure: ${l}`);
	}
}

// ---------------------------------------------------------------- main

async function main() {
	if (!fs.existsSync(opt.imsedge) && opt.targets.includes('imsedge'))
		throw new Error(`${opt.imsedge} not found (run make first)`);
	const v = versions();
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'regbench-'));
	workDir = dir;
	// run a private copy: a rebuild during the run cannot change what is measured
	const imsedge = path.join(dir, 'imsedge');
	if (opt.targets.includes('imsedge'))
		fs.copyFileSync(opt.imsedge, imsedge);
	const regPort = await freePort();
	const registrar = startProc('registrar', path.join(ROOT, 'tools/bench/registrar-start'),
		[String(regPort), path.join(dir, 'registrar'), String(opt.clients)], /kamailio ready/, {
			// its transactions (8 KiB cells), contacts and reginfo
			// PUBLISHes: 64 MiB ran out at 3,000 clients refreshing every
			// 5 s ("Free fragment not found", 408s); untouched pages cost
			// nothing
			KAMAILIO_SHM: String(Math.max(64, Math.ceil(opt.clients * 0.1))),
		});
	await registrar.readyPromise;
	const ctx = { dir, regPort, registrar, imsedge };
	console.error(`regbench: registrar on udp 127.0.0.1:${regPort}, ${opt.clients} users, ` +
		`work dir ${dir}`);

	const results = [];
	let failure = null;
	try {
		for (let round = 1; round <= opt.rounds; round++) for (const name of opt.targets) {
			console.error(`regbench: ${name}: ${opt.clients} clients, ${opt.duration} s ` +
				`(round ${round} of ${opt.rounds}) ...`);
			const r = opt.handshakes ? await runHandshakes(name, ctx) :
				await runTarget(name, ctx);
			r.round = round;
			results.push(r);
			if (registrar.exited)
				throw new Error(`registrar exited (${registrar.exited.code ?? registrar.exited.sig})\n${tail(registrar)}`);
		}
	} catch (e) {
		failure = e;
	}
	await stopProc(registrar);
	const regComplaints = complaints('registrar', registrar.beforeStop || registrar.lines);
	if (!opt.keep)
		fs.rmSync(dir, { recursive: true, force: true });

	if (results.length && opt.handshakes) {
		reportHandshakes(results, v);
		if (failure) {
			console.error(`\nregbench: FAILED: ${failure.message}`);
			process.exit(1);
		}
		return;
	}
	for (let round = 1; round <= opt.rounds; round++) {
		const rr = results.filter((r) => r.round === round);
		if (!rr.length)
			continue;
		if (opt.rounds > 1)
			console.log(`\n=== round ${round} of ${opt.rounds}`);
		report(rr, v);
	}
	if (opt.rounds > 1)
		reportRounds(results);
	if (regComplaints.length) {
		console.log(`registrar: ${regComplaints.length} warnings/errors`);
		for (const l of regComplaints.slice(0, 8))
			console.log(`  registrar| ${l}`);
	}
	if (failure) {
		console.error(`\nregbench: FAILED: ${failure.message}`);
		process.exit(1);
	}
	const bad = results.filter((r) => r.stats.errors || r.okWindow < 0.9 * r.expected ||
		r.exit !== 0);
	if (bad.length) {
		console.error(`\nregbench: FAILED: ${bad.map((r) => `${r.name} (${r.stats.errors} errors, ` +
			`${r.okWindow} of ${r.expected} refreshes, exit ${r.exit})`).join('; ')}`);
		process.exit(1);
	}
}

main().catch((e) => {
	console.error(`regbench: FAILED: ${e.stack || e}`);
	killAllSync();
	process.exit(1);
});

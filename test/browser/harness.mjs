// The real-browser test harness: Chromium (Debian's, /usr/bin/chromium)
// driven by playwright-core, the test WIC page (wic/, built by build.mjs,
// served by server.mjs), imsedge and the Kamailio S-CSCF stand-in from
// ../integration/helpers.mjs, and the IMS-side UE from imsue.mjs.
//
// Environment:
//   IMSEDGE_CALLS=1    also run the call tests (media through the AGW)
//   IMSEDGE_BIN        imsedge binary (default build/host/imsedge)
//   IMSEDGE_MEDIA_SHARED=0  calls with media_port_shared no (a port pair per
//                      stream; the default is one browser-side port)
//   IMSEDGE_MEDIA_CORE_SHARED=0  calls with media_core_port_shared no (a
//                      core-side port pair per stream; the default is one
//                      core-side port pair for every call)
//   CHROMIUM_BIN       browser (default /usr/bin/chromium)
//   BROWSER_LOG=1      echo the page's console to stderr as it happens
//   IMSEDGE_LOG=1, KAMAILIO_LOG=1   echo those logs (see helpers.mjs)
//
// On a failed test (withDiagnostics) the page console, the WIC event log,
// its SIP trace, the UE's SIP trace and the tails of the imsedge and
// Kamailio logs go to build/browser/logs/<test>.log and to stderr.

import fs from 'node:fs';
import path from 'node:path';
import { build, OUT, SCREENSHOTS } from './build.mjs';
import { startServer } from './server.mjs';
import { startImsedge, within, sleep } from '../integration/helpers.mjs';

export { build, startServer, sleep, within, SCREENSHOTS };

export const CALLS = process.env.IMSEDGE_CALLS === '1';
export const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
export const LOGS = path.join(OUT, 'logs');

const LOOPBACK_ARG = '--allow-loopback-in-peer-connection';

/** Flags that work on this machine (see ../shared/design/dependencies.md) */
export const CHROMIUM_ARGS = [
	'--headless',
	'--no-sandbox',
	'--disable-gpu',
	'--disable-quic',
	'--no-first-run',
	'--disable-background-networking',
	'--disable-component-update',
	'--disable-sync',
	'--use-fake-device-for-media-stream',
	'--use-fake-ui-for-media-stream',
	// without it Chromium gathers no 127.0.0.1 ICE candidates
	LOOPBACK_ARG,
	// test only: the page and imsedge use the self-signed test/data cert
	'--ignore-certificate-errors',
	'--autoplay-policy=no-user-gesture-required',
];

/** imsedge keys for the media gateway (only with IMSEDGE_CALLS=1) */
export const CALL_CONF = {
	media_listen: '127.0.0.1',
	media_core_addr: '127.0.0.1',
	rtp_ports: '30000-30999',
	consent_timeout: 3,
	// IMSEDGE_MEDIA_SHARED=0: a browser-side port per stream instead of
	// the default one port for every call
	...(process.env.IMSEDGE_MEDIA_SHARED === '0' ?
		{ media_port_shared: 'no' } : {}),
	...(process.env.IMSEDGE_MEDIA_CORE_SHARED === '0' ?
		{ media_core_port_shared: 'no' } : {}),
};
/** One browser-side port for every call (media_port_shared) */
export const MEDIA_SHARED = process.env.IMSEDGE_MEDIA_SHARED !== '0';
/** One core-side port pair for every call (media_core_port_shared) */
export const MEDIA_CORE_SHARED =
	process.env.IMSEDGE_MEDIA_CORE_SHARED !== '0';
/** Media ports in use with no call: the shared ports, taken at start */
export const IDLE_PORTS = (MEDIA_SHARED ? 1 : 0) +
	(MEDIA_CORE_SHARED ? 2 : 0);
export const CONSENT_TIMEOUT = CALL_CONF.consent_timeout;

/**
 * imsedge in front of Kamailio for pages served from `origin`. The call
 * keys are added only when calls are on (before the AGW existed imsedge
 * rejected them as unknown keys).
 */
export function startEdge({ kam, origin, calls = CALLS, over = {} }) {
	return startImsedge({
		mw_next_hop: kam.nextHop,
		w2_origin: [origin],
		w2_max_message: 65536,
		// long enough that a frozen browser is found by media consent,
		// not by WebSocket keepalive
		w2_ping_interval: 30,
		w2_handshake_timeout: 5,
		log_level: 'debug',
		...(calls ? CALL_CONF : {}),
		...over,
	});
}

/** A Chromium process (its own process group) with a Playwright client */
export class Browser {
	/**
	 * @param {object} o
	 * @param {boolean} o.loopback  with --allow-loopback-in-peer-connection
	 *   (false: Chromium's default, no loopback ICE candidates)
	 */
	static async launch({ args = [], name = 'browser', loopback = true } =
	{}) {
		const { chromium } = await import('playwright-core');
		const b = new Browser();
		b.name = name;
		b.pages = [];
		b.server = await chromium.launchServer({
			executablePath: CHROMIUM,
			headless: true,
			args: [...CHROMIUM_ARGS.filter((a) => loopback ||
				a !== LOOPBACK_ARG), ...args],
			timeout: 20000,
		});
		b.pid = b.server.process().pid;
		try {
			b.browser = await chromium.connect(b.server.wsEndpoint(),
				{ timeout: 10000 });
		} catch (e) {
			await b.kill();
			throw e;
		}
		b.version = b.browser.version();
		b.browser.on('disconnected', () => { b.disconnected = true; });
		return b;
	}

	/** A fresh context and page (certificate errors ignored, mic allowed) */
	async newPage(url, { name = 'page' } = {}) {
		const ctx = await this.browser.newContext({ ignoreHTTPSErrors: true,
			viewport: { width: 900, height: 760 } });
		const page = await ctx.newPage();
		page.setDefaultTimeout(10000);
		const w = new WicPage(page, name);
		this.pages.push(w);
		if (url)
			await w.goto(url);
		return w;
	}

	/** Signal the whole browser process group (Chromium is its leader) */
	signal(sig) {
		try {
			process.kill(-this.pid, sig);
			return true;
		} catch {
			return false;
		}
	}

	/** Freeze every Chromium process: sockets stay open, nothing answers */
	freeze() {
		this.frozen = this.signal('SIGSTOP');
		return this.frozen;
	}

	thaw() {
		if (this.frozen)
			this.signal('SIGCONT');
		this.frozen = false;
	}

	/** SIGKILL the browser (its sockets close with the process) */
	async kill() {
		this.signal('SIGCONT');
		this.signal('SIGKILL');
		this.killed = true;
		await this.server?.close().catch(() => {});
	}

	/** Always safe; kills what does not close in time */
	async close() {
		if (this.closed)
			return;
		this.closed = true;
		if (this.killed)
			return;
		this.thaw();
		try {
			await within(this.browser?.close() ?? Promise.resolve(), 5000,
				'browser close');
			await within(this.server.close(), 5000, 'browser server close');
		} catch {
			await this.kill();
		}
	}
}

/** One WIC page: console capture, window.wic calls, waiting for states */
export class WicPage {
	constructor(page, name) {
		this.page = page;
		this.name = name;
		this.console = [];
		const note = (line) => {
			this.console.push(line);
			if (process.env.BROWSER_LOG)
				process.stderr.write(`[${name}] ${line}\n`);
		};
		page.on('console', (m) => note(`${m.type()}: ${m.text()}`));
		page.on('pageerror', (e) => note(`pageerror: ${e.message}`));
		page.on('requestfailed', (r) => note(`requestfailed: ${r.url()} ${
			r.failure()?.errorText ?? ''}`));
		page.on('websocket', (ws) => {
			note(`websocket: open ${ws.url()}`);
			ws.on('close', () => note(`websocket: closed ${ws.url()}`));
			ws.on('socketerror', (e) => note(`websocket: error ${e}`));
		});
		page.on('crash', () => note('page crashed'));
	}

	async goto(url) {
		this.url = url;
		await this.page.goto(url, { waitUntil: 'load' });
		await this.page.waitForFunction(() => window.wic &&
			window.wic.log.some((e) => e.ev === 'ready'), null,
		{ timeout: 5000 });
		return this;
	}

	/** Call window.wic.<fn>(...args) in the page */
	call(fn, ...args) {
		return within(this.page.evaluate(([f, a]) => window.wic[f](...a),
			[fn, args]), 15000, `wic.${fn}() in ${this.name}`);
	}

	state() {
		return this.call('state');
	}

	stats() {
		return this.call('stats');
	}

	sdp() {
		return this.call('sdp');
	}

	log() {
		return this.page.evaluate(() => window.wic.log);
	}

	/** Poll state() until pred(state) holds; the last state on timeout */
	async waitState(pred, ms = 5000, what = 'a WIC state') {
		const deadline = Date.now() + ms;
		let s;
		for (;;) {
			s = await this.state();
			if (pred(s))
				return s;
			if (Date.now() > deadline)
				throw new Error(`${this.name}: timed out after ${ms} ms ` +
					`waiting for ${what}; state: ${JSON.stringify(s)}`);
			await sleep(50);
		}
	}

	waitCall(states, ms = 10000) {
		const want = [].concat(states);
		return this.waitState((s) => want.includes(s.call), ms,
			`call state ${want.join('|')}`);
	}

	/**
	 * Wait until the browser has received at least `packets` more audio
	 * RTP packets (and more bytes) than at `from`; also checks that it
	 * keeps sending. Resolves { from, to }.
	 */
	async waitMedia({ packets = 25, ms = 6000, from } = {}) {
		from ??= await this.stats();
		const base = (s) => ({ rx: s.inbound?.packetsReceived ?? 0,
			bytes: s.inbound?.bytesReceived ?? 0,
			tx: s.outbound?.packetsSent ?? 0 });
		const a = base(from);
		const deadline = Date.now() + ms;
		let to;
		for (;;) {
			to = await this.stats();
			const b = base(to);
			if (b.rx - a.rx >= packets && b.bytes > a.bytes &&
				b.tx - a.tx >= packets)
				return { from, to };
			if (Date.now() > deadline)
				throw new Error(`${this.name}: media did not flow within ${
					ms} ms (wanted ${packets} packets each way): from ${
					JSON.stringify(from)} to ${JSON.stringify(to)}`);
			await sleep(100);
		}
	}

	async screenshot(name) {
		fs.mkdirSync(SCREENSHOTS, { recursive: true });
		const file = path.join(SCREENSHOTS, `${name}.png`);
		await this.page.screenshot({ path: file, fullPage: true });
		return file;
	}

	/** Console, WIC events and SIP trace, as text */
	async diagnostics() {
		let log = [], sip = [], st = null;
		try {
			[log, sip, st] = await within(this.page.evaluate(() => [
				window.wic?.log ?? [], window.wic?.sip ?? [],
				window.wic?.state() ?? null]), 2000, 'page diagnostics');
		} catch (e) {
			log = [{ ev: `(could not read the page: ${e.message})` }];
		}
		return [`--- ${this.name}: ${this.url}`,
			`state: ${JSON.stringify(st)}`,
			'console:', ...this.console.map((l) => `  ${l}`),
			'wic.log:', ...log.map((e) => `  ${JSON.stringify(e)}`),
			'wic.sip:', ...sip.map((m) => `  ${m.t} ${m.dir}: ${
				m.text.replace(/\r\n/g, '\n    ')}`)].join('\n');
	}
}

/**
 * Run fn; on failure gather diagnostics from every source (objects with
 * a diagnostics() method, or {name, text()}) into LOGS/<slug>.log and
 * stderr, then rethrow
 */
export async function withDiagnostics(name, sources, fn) {
	try {
		return await fn();
	} catch (e) {
		const parts = [`=== ${name}: ${e.stack ?? e}`];
		for (const s of sources()) {
			if (!s)
				continue;
			try {
				parts.push(await within(Promise.resolve(
					s.diagnostics ? s.diagnostics() : s.text()), 3000,
				'diagnostics'));
			} catch (d) {
				parts.push(`(diagnostics failed: ${d.message})`);
			}
		}
		const text = parts.join('\n\n') + '\n';
		fs.mkdirSync(LOGS, { recursive: true });
		const file = path.join(LOGS, `${name.replace(/[^A-Za-z0-9]+/g,
			'-').replace(/^-|-$/g, '').slice(0, 80)}.log`);
		fs.writeFileSync(file, text);
		process.stderr.write(`${text.slice(0, 20000)}\n(full log: ${
			file})\n`);
		throw e;
	}
}

/** A diagnostics source for a log-line array (imsedge, Kamailio) */
export function linesSource(name, lines, tail = 120) {
	return { text: () => `--- ${name} (last ${tail} lines)\n${
		lines().slice(-tail).join('\n')}` };
}

/** Cleanups run last-in first-out after the test, failed or not */
export function cleanups(t) {
	const list = [];
	t.after(async () => {
		for (const f of list.reverse()) {
			try {
				await f();
			} catch (e) {
				process.stderr.write(`cleanup: ${e.message}\n`);
			}
		}
	});
	return (f) => list.push(f);
}

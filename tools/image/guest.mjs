// Boot the QEMU test image of a board and follow its console: shared by
// image-test.mjs (the image test) and tools/footprint/footprint.mjs (the
// figures of `make size`).
//
// The guest is 10.0.2.15 on QEMU's user network (slirp) and reaches the
// host as 10.0.2.2. Host forwards on 127.0.0.1: TCP hostPort -> guest 7443
// (W2), UDP mwPort -> the same port (Mw), and every UDP port of udpPorts
// -> the same port in the guest (media: imsedge advertises 127.0.0.1 with
// its own port numbers, see media_public in mkimage's /init).

import { spawn } from 'node:child_process';
import path from 'node:path';
import { within } from '../../test/integration/helpers.mjs';

export const GUEST = '10.0.2.15';

export const BOARDS = {
	armhf: { qemu: 'qemu-system-arm', console: 'ttyAMA0',
		machine: ['-M', 'virt', '-cpu', 'cortex-a7'],
		devices: ['-device', 'virtio-net-device,netdev=n0',
			'-device', 'virtio-rng-device'] },
	mipsel: { qemu: 'qemu-system-mipsel', console: 'ttyS0',
		machine: ['-M', 'malta', '-cpu', '24Kf', '-vga', 'none'],
		devices: ['-device', 'virtio-net-pci,netdev=n0,romfile=',
			'-device', 'virtio-rng-pci'] },
};

// Ports come from the test helpers: below the kernel's ephemeral range,
// so no outgoing socket can take one between the check and QEMU's bind
export { freePort, freeUdpRange } from '../../test/integration/helpers.mjs';

/** Lines of a child's stream, with waiters */
export class Lines {
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

export function exited(child) {
	return new Promise((resolve) => {
		if (child.exitCode !== null || child.signalCode !== null)
			resolve();
		else
			child.once('exit', () => resolve());
	});
}

export async function stop(child, sig = 'SIGTERM') {
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

/**
 * Start QEMU (not waiting for anything). Resolves { qemu, con, err, t0 }.
 *
 * @param {object} o
 * @param {string} o.board     armhf | mipsel
 * @param {string} o.imageDir  holds vmlinuz and initrd.gz
 * @param {number} o.seconds   QEMU is killed after this long (timeout)
 * @param {object} o.cmdline   imsedge.KEY=VALUE for /init
 * @param {number} o.hostPort  host TCP port forwarded to the guest's 7443
 * @param {number} o.wwsfPort host TCP port forwarded to the guest's 8443
 *                            (the WWSF), or none
 * @param {number[]} o.udpPorts host UDP ports forwarded to the same port
 * @param {boolean} o.echo     echo the console to stderr
 */
export function startGuest({ board, imageDir, seconds, cmdline = {},
	hostPort, wwsfPort, udpPorts = [], echo = false, qemuBin }) {
	const B = BOARDS[board];
	if (!B)
		throw new Error(`unknown board ${board}`);
	const fwd = [`hostfwd=tcp:127.0.0.1:${hostPort}-${GUEST}:7443`,
		...(wwsfPort ? [`hostfwd=tcp:127.0.0.1:${wwsfPort}-${GUEST}:8443`] :
			[]),
		...udpPorts.map((p) => `hostfwd=udp:127.0.0.1:${p}-${GUEST}:${p}`)];
	const kargs = Object.entries(cmdline)
		.map(([k, v]) => `imsedge.${k}=${v}`).join(' ');
	const args = [
		'-k', '5', String(seconds), qemuBin || B.qemu, ...B.machine,
		'-m', '128', '-nographic',
		'-kernel', path.join(imageDir, 'vmlinuz'),
		'-initrd', path.join(imageDir, 'initrd.gz'),
		'-append', `console=${B.console} quiet ${kargs}`,
		'-netdev', `user,id=n0,${fwd.join(',')}`,
		...B.devices,
	];
	const con = new Lines('console', echo);
	const err = new Lines('qemu', echo);
	const t0 = Date.now();
	const qemu = spawn('timeout', args, { stdio: ['ignore', 'pipe', 'pipe'] });
	con.attach(qemu.stdout);
	err.attach(qemu.stderr);
	return { qemu, con, err, t0 };
}

/** The guest's certificate (PEM) printed by /init, '' if none yet */
export function guestPem(con) {
	const b = con.lines.findIndex((l) => l.line === 'image-cert-begin');
	const e = con.lines.findIndex((l) => l.line === 'image-cert-end');
	return b >= 0 && e > b ? con.lines.slice(b + 1, e)
		.map((l) => l.line).join('\n') + '\n' : '';
}

/** TLS options that trust exactly the guest's certificate */
export function guestTls(pem) {
	return { ca: [pem], tlsOptions: { checkServerIdentity: (host, c) =>
		/IP Address:10\.0\.2\.15/.test(c.subjectaltname || '') ?
			undefined : new Error(`unexpected SAN ${c.subjectaltname}`) } };
}

/**
 * The next memory report (`image-stats:` line) after console line `from`:
 * { rss, hwm, total, used, free, avail } in kB, null if malformed
 */
export async function guestStats(con, from, ms = 5000) {
	const st = await con.wait(/^image-stats: /, ms, from);
	const m = /imsedge_rss=(\d+) kB imsedge_hwm=(\d+) kB mem_total=(\d+)kB mem_used=(\d+)kB mem_free=(\d+)kB mem_avail=(\d+)kB/
		.exec(st.line);
	if (!m)
		return null;
	const [rss, hwm, total, used, free, avail] = m.slice(1).map(Number);
	return { rss, hwm, total, used, free, avail, line: st.line };
}



// The video side of the IMS UE (imsue.mjs's mediaAnswer hook): an
// IMS-side video peer as TS 26.114 has it, H.264 (Constrained Baseline,
// packetization-mode=1) over RTP/AVPF when offered by capability
// negotiation (else RTP/AVP) with RTCP feedback (nack, nack pli, ccm fir)
// on an RTP port and an RTCP port of its own (a=rtcp). An edge fake in
// Node, not a real terminal:
//
// - what it sends is made by ffmpeg (libx264, lavfi testsrc) at test
//   time: an Annex B file, split into access units and packetized here
//   (RFC 6184: single NAL unit packets, FU-A above MAX_PAYLOAD), 15
//   frames a second, looped (an IDR every second);
// - what it receives is depacketized (single NAL, STAP-A, FU-A) into an
//   Annex B file that ffmpeg decodes (decodedFrames());
// - RTCP: every packet received on the RTCP port is kept (fb() finds
//   feedback by type); pli() sends a Picture Loss Indication about the
//   browser's video; skip() leaves out one sequence number (the browser
//   NACKs it).
//
// SIPp playing a pcap was the first idea. It is not used: SIPp
// plays a pcap from a socket other than the one it would receive on, so
// the AGW's symmetric RTP (it latches to the source) sends the browser's
// video to the player, and SIPp keeps nothing it receives for ffmpeg;
// making the pcap would need a capture (tcpdump) as well.

import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

const FPS = 15;
const MAX_PAYLOAD = 1100;
const START = Buffer.from([0, 0, 0, 1]);

/** ffmpeg: `secs` of testsrc as H.264 Constrained Baseline, Annex B */
export function encodeH264(file, { secs = 2, size = '320x240' } = {}) {
	execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
		'-f', 'lavfi', '-i', `testsrc=size=${size}:rate=${FPS}`,
		'-t', String(secs), '-c:v', 'libx264', '-profile:v', 'baseline',
		'-level', '3.1', '-pix_fmt', 'yuv420p', '-bf', '0',
		'-x264-params', `keyint=${FPS}:min-keyint=${FPS}:scenecut=0:` +
		'repeat-headers=1:slices=1:sliced-threads=0',
		'-f', 'h264', file], { stdio: ['ignore', 'ignore', 'pipe'] });
	return file;
}

/** The NAL units of an Annex B buffer */
export function nalUnits(buf) {
	const out = [];
	let start = -1;
	for (let i = 0; i + 2 < buf.length; i++) {
		if (buf[i] !== 0 || buf[i + 1] !== 0 || buf[i + 2] !== 1)
			continue;
		if (start >= 0) {
			// a 4-byte start code's leading zero is not the NAL's
			const end = buf[i - 1] === 0 ? i - 1 : i;
			out.push(buf.subarray(start, end));
		}
		start = i + 3;
		i += 2;
	}
	if (start >= 0 && start < buf.length)
		out.push(buf.subarray(start));
	return out.filter((n) => n.length);
}

/** Access units: SPS/PPS go with the slice that follows them; SEI and
 *  access unit delimiters are left out */
export function accessUnits(nals) {
	const aus = [];
	let cur = [];
	for (const n of nals) {
		const type = n[0] & 0x1f;
		if (type === 6 || type === 9)
			continue;
		cur.push(n);
		if (type === 1 || type === 5) {
			aus.push(cur);
			cur = [];
		}
	}
	return aus;
}

/** RFC 6184 payloads of one NAL unit: itself, or FU-A pieces */
function packetize(nal) {
	if (nal.length <= MAX_PAYLOAD)
		return [nal];
	const out = [];
	const ind = (nal[0] & 0xe0) | 28;
	const type = nal[0] & 0x1f;
	for (let off = 1; off < nal.length; off += MAX_PAYLOAD) {
		const end = Math.min(off + MAX_PAYLOAD, nal.length);
		const hdr = (off === 1 ? 0x80 : 0) |
			(end === nal.length ? 0x40 : 0) | type;
		out.push(Buffer.concat([Buffer.from([ind, hdr]),
			nal.subarray(off, end)]));
	}
	return out;
}

function rtpPayload(buf) {
	const cc = buf[0] & 0x0f;
	let off = 12 + 4 * cc;
	if ((buf[0] >> 4) & 1 && buf.length >= off + 4)
		off += 4 + 4 * buf.readUInt16BE(off + 2);
	let end = buf.length;
	if (buf[0] & 0x20)
		end -= buf[end - 1];
	return off < end ? buf.subarray(off, end) : null;
}

export class VideoPeer {
	/** Sockets for RTP and RTCP; the H.264 file to send (Annex B) */
	static async open({ h264, recordTo }) {
		const v = new VideoPeer();
		v.aus = accessUnits(nalUnits(fs.readFileSync(h264)));
		if (!v.aus.length)
			throw new Error(`no H.264 access units in ${h264}`);
		v.recordTo = recordTo;
		v.out = fs.openSync(recordTo, 'w');
		v.rtp = dgram.createSocket('udp4');
		v.rtcp = dgram.createSocket('udp4');
		await Promise.all([v.rtp, v.rtcp].map((s) => new Promise((r) =>
			s.bind(0, '127.0.0.1', r))));
		v.rtp.on('error', () => {});
		v.rtcp.on('error', () => {});
		v.rtp.on('message', (b, ri) => v.onRtp(b, ri));
		v.rtcp.on('message', (b, ri) => v.onRtcp(b, ri));
		v.ssrc = crypto.randomBytes(4).readUInt32BE(0);
		v.seq = crypto.randomBytes(2).readUInt16BE(0);
		v.ts = crypto.randomBytes(4).readUInt32BE(0);
		v.idx = 0;
		v.pt = null;
		v.peer = null;        // { rtp, rtcp } from the offer
		v.latched = null;
		v.rtcpLatched = null;
		v.rx = { packets: 0, ssrc: null, nals: 0, bad: 0, fu: null };
		v.tx = { packets: 0, frames: 0 };
		v.rtcpIn = [];        // { pt, fmt, sender, media, at }
		v.timer = setInterval(() => v.tick(), Math.round(1000 / FPS));
		return v;
	}

	/** imsue.mjs's mediaAnswer hook: answer an m=video line with H.264 */
	answer(mline, offer) {
		if (!/^m=video [1-9]\d* RTP\/AVPF? /.test(mline))
			return null;
		const sect = offer.raw.split(/\r?\n(?=m=)/)
			.find((s) => s.startsWith(mline));
		const lines = sect.split(/\r?\n/);
		const h264 = lines.map((l) => /^a=rtpmap:(\d+) H264\/90000/i
			.exec(l)?.[1]).filter(Boolean);
		const fmtp = (pt) => lines.find((l) => l.startsWith(
			`a=fmtp:${pt} `)) ?? '';
		// Constrained Baseline with packetization-mode=1 first
		const pt = h264.find((p) => /packetization-mode=1/
			.test(fmtp(p)) && /profile-level-id=42e0/i.test(fmtp(p))) ??
			h264.find((p) => /packetization-mode=1/.test(fmtp(p)));
		if (!pt)
			return null;
		this.pt = Number(pt);
		this.offerFmtp = fmtp(pt);
		const port = Number(mline.split(' ')[1]);
		const c = (lines.find((l) => l.startsWith('c=')) ??
			offer.lines.find((l) => l.startsWith('c=')))?.split(' ')[2];
		const rtcp = /^a=rtcp:(\d+)/m.exec(sect);
		this.peer = { address: c, port,
			rtcpPort: rtcp ? Number(rtcp[1]) : port + 1 };
		const dirs = { sendrecv: 'sendrecv', sendonly: 'recvonly',
			recvonly: 'sendonly', inactive: 'inactive' };
		const dir = lines.map((l) => dirs[l.slice(2)]).find(Boolean) ??
			'sendrecv';
		this.direction = dir;
		// RTP/AVPF offered by capability negotiation (RFC 5939, as TS
		// 26.114 does): taken, and said so (a=acfg)
		const tcap = /^a=tcap:(\d+) RTP\/AVPF\s*$/m.exec(sect);
		const pcfg = tcap && new RegExp(`^a=pcfg:(\\d+) t=${tcap[1]}\\s*$`,
			'm').exec(sect);
		this.offerFb = lines.filter((l) => l.startsWith('a=rtcp-fb:'));
		this.avpf = !!pcfg;
		return [`m=video ${this.rtp.address().port} ${pcfg ? 'RTP/AVPF' :
			mline.split(' ')[2]} ${pt}`,
		'c=IN IP4 127.0.0.1', `a=rtcp:${this.rtcp.address().port}`,
		...(pcfg ? [`a=acfg:${pcfg[1]} t=${tcap[1]}`] : []),
		`a=rtpmap:${pt} H264/90000`,
		`a=fmtp:${pt} profile-level-id=42e01f;packetization-mode=1`,
		`a=rtcp-fb:${pt} nack`, `a=rtcp-fb:${pt} nack pli`,
		`a=rtcp-fb:${pt} ccm fir`, `a=${dir}`].join('\r\n');
	}

	/* one access unit every 1/FPS s, while the call sends */
	tick() {
		const dest = this.latched ?? this.peer;
		if (!dest || this.pt === null || this.stopped ||
			!/send/.test(this.direction))
			return;
		const au = this.aus[this.idx++ % this.aus.length];
		const pkts = au.flatMap(packetize);
		pkts.forEach((p, i) => {
			const h = Buffer.alloc(12);
			h[0] = 0x80;
			h[1] = this.pt | (i === pkts.length - 1 ? 0x80 : 0);
			h.writeUInt16BE(this.seq, 2);
			h.writeUInt32BE(this.ts >>> 0, 4);
			h.writeUInt32BE(this.ssrc, 8);
			this.seq = (this.seq + 1) & 0xffff;
			if (this.skipNext) {
				// left out: the browser asks for it again (NACK)
				this.skipNext = false;
				this.skipped = h.readUInt16BE(2);
				this.skippedAt = Date.now();
				return;
			}
			this.tx.packets++;
			this.rtp.send(Buffer.concat([h, p]), dest.port, dest.address);
		});
		this.tx.frames++;
		this.ts = (this.ts + 90000 / FPS) >>> 0;
	}

	/** Leave out the next packet (its sequence number) */
	skip() {
		this.skipNext = true;
	}

	onRtp(buf, rinfo) {
		if (buf.length < 12 || (buf[0] >> 6) !== 2 ||
			(buf[1] & 0x7f) !== this.pt) {
			this.rx.bad++;
			return;
		}
		this.latched = { address: rinfo.address, port: rinfo.port };
		this.rx.packets++;
		this.rx.ssrc = buf.readUInt32BE(8);
		const p = rtpPayload(buf);
		if (!p)
			return;
		const type = p[0] & 0x1f;
		if (type >= 1 && type <= 23) {
			this.nal(p);
		} else if (type === 24) {          // STAP-A
			for (let off = 1; off + 2 <= p.length;) {
				const n = p.readUInt16BE(off);
				off += 2;
				if (off + n > p.length)
					break;
				this.nal(p.subarray(off, off + n));
				off += n;
			}
		} else if (type === 28 && p.length > 2) {   // FU-A
			const start = p[1] & 0x80, end = p[1] & 0x40;
			if (start)
				this.rx.fu = [Buffer.from([(p[0] & 0xe0) | (p[1] & 0x1f)])];
			if (this.rx.fu)
				this.rx.fu.push(p.subarray(2));
			if (end && this.rx.fu) {
				this.nal(Buffer.concat(this.rx.fu));
				this.rx.fu = null;
			}
		}
	}

	nal(n) {
		this.rx.nals++;
		fs.writeSync(this.out, Buffer.concat([START, n]));
	}

	/* compound RTCP: every packet of it */
	onRtcp(buf, rinfo) {
		this.rtcpLatched = { address: rinfo.address, port: rinfo.port };
		for (let off = 0; off + 8 <= buf.length;) {
			const len = (buf.readUInt16BE(off + 2) + 1) * 4;
			if ((buf[off] >> 6) !== 2 || off + len > buf.length)
				break;
			const pt = buf[off + 1], fmt = buf[off] & 0x1f;
			const nacked = [];     // RTPFB NACK: PID and BLP pairs
			for (let i = off + 12; pt === 205 && fmt === 1 &&
				i + 4 <= off + len; i += 4) {
				const pid = buf.readUInt16BE(i), blp = buf.readUInt16BE(i + 2);
				nacked.push(pid);
				for (let k = 0; k < 16; k++)
					if (blp & (1 << k))
						nacked.push((pid + k + 1) & 0xffff);
			}
			this.rtcpIn.push({ pt, fmt, sender: buf.readUInt32BE(off + 4),
				media: len >= 12 ? buf.readUInt32BE(off + 8) : null,
				nacked, at: Date.now() });
			off += len;
		}
	}

	/** RTCP feedback received: RTPFB (205) or PSFB (206) of a format */
	fb(pt, fmt) {
		return this.rtcpIn.filter((r) => r.pt === pt && r.fmt === fmt);
	}

	/** A Picture Loss Indication (RFC 4585 6.3.1) about the browser's
	 *  video, to the AGW's RTCP port */
	pli() {
		const b = Buffer.alloc(12);
		b[0] = 0x81;
		b[1] = 206;
		b.writeUInt16BE(2, 2);
		b.writeUInt32BE(this.ssrc, 4);
		b.writeUInt32BE(this.rx.ssrc ?? 0, 8);
		const to = this.rtcpLatched ?? { address: this.peer.address,
			port: this.peer.rtcpPort };
		this.rtcp.send(b, to.port, to.address);
	}

	/** Frames ffmpeg decodes from what was received */
	decodedFrames() {
		fs.fsyncSync(this.out);
		const out = execFileSync('ffprobe', ['-v', 'error', '-f', 'h264',
			'-count_frames', '-select_streams', 'v:0', '-show_entries',
			'stream=nb_read_frames,width,height', '-of', 'json',
			this.recordTo], { encoding: 'utf8' });
		const s = JSON.parse(out).streams?.[0] ?? {};
		return { frames: Number(s.nb_read_frames ?? 0), width: s.width,
			height: s.height };
	}

	close() {
		clearInterval(this.timer);
		this.rtp.close();
		this.rtcp.close();
		fs.closeSync(this.out);
	}
}

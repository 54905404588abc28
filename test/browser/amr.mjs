// AMR/AMR-WB for the IMS-side UE of the transcoding tests (an edge fake
// of a VoLTE phone, in Node): the tone it sends comes from amrtone.c
// (Debian's libvo-amrwbenc / libopencore-amrnb, not the product's
// transcoder); what it receives is decoded by Debian's ffmpeg with
// ffmpeg's own AMR decoders (amrwb, amrnb). This file only moves bits:
// RFC 4867 section 4.3/4.4 payloads <-> section 5 storage frames.

import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, OUT } from './build.mjs';

/* speech bits per frame type (RFC 4867 / TS 26.101, TS 26.201) */
const BITS = {
	nb: [95, 103, 118, 134, 148, 159, 204, 244, 39],
	wb: [132, 177, 253, 285, 317, 365, 397, 461, 477, 40],
};
export const AMR = {
	'AMR-WB': { kind: 'wb', rate: 16000, magic: '#!AMR-WB\n' },
	AMR: { kind: 'nb', rate: 8000, magic: '#!AMR\n' },
};

const bitsOf = (kind, ft) => BITS[kind][ft] ?? 0;

/** Build the tone tool once per process; its path */
let tool;
export function amrTool() {
	if (tool)
		return tool;
	const bin = path.join(OUT, 'amrtone');
	fs.mkdirSync(OUT, { recursive: true });
	execFileSync('cc', ['-O2', '-Wall', '-Werror', '-o', bin,
		path.join(ROOT, 'test', 'browser', 'amrtone.c'),
		'-lvo-amrwbenc', '-lopencore-amrnb', '-lm']);
	tool = bin;
	return tool;
}

/** Storage frames ({ ft, q, data }) of a tone made by amrtone */
export function toneFrames(codec, hz, ms) {
	const { kind, magic } = AMR[codec];
	const file = execFileSync(amrTool(), [kind, String(hz), String(ms)]);
	if (file.toString('latin1', 0, magic.length) !== magic)
		throw new Error('amrtone: no storage-format magic');
	const frames = [];
	for (let off = magic.length; off < file.length;) {
		const ft = (file[off] >> 3) & 0x0f, q = (file[off] >> 2) & 1;
		const n = Math.ceil(bitsOf(kind, ft) / 8);
		frames.push({ ft, q, data: file.subarray(off + 1, off + 1 + n) });
		off += 1 + n;
	}
	return frames;
}

class BitWriter {
	constructor() {
		this.bytes = [];
		this.n = 0;
	}

	put(v, bits) {
		for (let i = bits - 1; i >= 0; i--) {
			if (this.n % 8 === 0)
				this.bytes.push(0);
			if ((v >> i) & 1)
				this.bytes[this.bytes.length - 1] |= 0x80 >> (this.n % 8);
			this.n++;
		}
	}

	/* the first `bits` bits of data (MSB first) */
	putBits(data, bits) {
		for (let i = 0; i < bits; i++)
			this.put((data[i >> 3] >> (7 - (i & 7))) & 1, 1);
	}

	buffer() {
		return Buffer.from(this.bytes);
	}
}

class BitReader {
	constructor(buf) {
		this.buf = buf;
		this.n = 0;
	}

	left() {
		return this.buf.length * 8 - this.n;
	}

	get(bits) {
		let v = 0;
		for (let i = 0; i < bits; i++, this.n++)
			v = (v << 1) | ((this.buf[this.n >> 3] >> (7 - (this.n & 7))) & 1);
		return v;
	}
}

/** One frame as an RTP payload (CMR 15: no request) */
export function amrPack(codec, frame, octetAlign) {
	if (octetAlign)
		return Buffer.concat([Buffer.from([0xf0,
			(frame.ft << 3) | (frame.q << 2)]), frame.data]);
	const w = new BitWriter();
	w.put(15, 4);
	w.put(0, 1);
	w.put(frame.ft, 4);
	w.put(frame.q, 1);
	w.putBits(frame.data, bitsOf(AMR[codec].kind, frame.ft));
	return w.buffer();
}

/**
 * The frames of an RTP payload (either format, several frames); throws
 * on a payload that does not parse
 */
export function amrUnpack(codec, payload, octetAlign) {
	const kind = AMR[codec].kind;
	const tocs = [];
	const out = [];
	if (octetAlign) {
		let off = 1;
		for (let f = 1; f;) {
			if (off >= payload.length)
				throw new Error('AMR: truncated ToC');
			const b = payload[off++];
			f = b >> 7;
			tocs.push({ ft: (b >> 3) & 0x0f, q: (b >> 2) & 1 });
		}
		for (const t of tocs) {
			const n = Math.ceil(bitsOf(kind, t.ft) / 8);
			if (off + n > payload.length)
				throw new Error('AMR: truncated frame');
			out.push({ ...t, data: payload.subarray(off, off + n) });
			off += n;
		}
		return { cmr: payload[0] >> 4, frames: out };
	}
	const r = new BitReader(payload);
	const cmr = r.get(4);
	for (let f = 1; f;) {
		if (r.left() < 6)
			throw new Error('AMR: truncated ToC');
		f = r.get(1);
		tocs.push({ ft: r.get(4), q: r.get(1) });
	}
	for (const t of tocs) {
		const bits = bitsOf(kind, t.ft);
		if (r.left() < bits)
			throw new Error('AMR: truncated frame');
		const w = new BitWriter();
		for (let i = 0; i < bits; i++)
			w.put(r.get(1), 1);
		out.push({ ...t, data: w.buffer() });
	}
	return { cmr, frames: out };
}

/**
 * Decode storage frames with ffmpeg's own decoder (amrwb/amrnb, not
 * libopencore); resolves an Int16Array at the codec's rate
 */
export function ffmpegDecode(codec, frames) {
	const { kind, magic } = AMR[codec];
	const file = Buffer.concat([Buffer.from(magic, 'latin1'),
		...frames.flatMap((f) => [Buffer.from([(f.ft << 3) | (f.q << 2)]),
			f.data])]);
	return ffmpeg(['-f', 'amr', '-c:a', `amr${kind}`], file,
		AMR[codec].rate);
}

/* ffmpeg from stdin to s16le on stdout; resolves the samples, rejects
   with its stderr if it fails or decodes nothing */
function ffmpeg(input, data, rate) {
	return new Promise((resolve, reject) => {
		const p = spawn('ffmpeg', ['-hide_banner', '-v', 'error',
			...input, '-i', 'pipe:0', '-f', 's16le', '-ac', '1', '-ar',
			String(rate), 'pipe:1']);
		const out = [], err = [];
		p.stdout.on('data', (b) => out.push(b));
		p.stderr.on('data', (b) => err.push(b));
		p.on('error', reject);
		p.stdin.on('error', () => {});
		p.on('close', (status) => {
			const pcm = Buffer.concat(out);
			if (status !== 0 || !pcm.length)
				return reject(new Error(`ffmpeg ${input.join(' ')}: status ${
					status}, ${pcm.length} bytes out: ${Buffer.concat(err)
					.toString().split('\n').slice(0, 4).join(' | ')}`));
			resolve(new Int16Array(pcm.buffer, pcm.byteOffset,
				pcm.length >> 1));
		});
		p.stdin.end(data);
	});
}

/** Decode G.711 payloads (PCMA or PCMU) with ffmpeg; resolves an
    Int16Array */
export function ffmpegG711(codec, payloads) {
	return ffmpeg(['-f', codec === 'PCMA' ? 'alaw' : 'mulaw', '-ar', '8000',
		'-ac', '1'], Buffer.concat(payloads), 8000);
}

/**
 * G.722 frames (160 bytes, 20 ms at 16 kHz) of a tone, encoded by
 * ffmpeg's own G.722 encoder (libavcodec, not the product's spandsp)
 */
export function g722Frames(hz, ms) {
	// one more second encoded first and left out: the loop starts from an
	// adapted ADPCM state, so its seam is small (the decoder's state runs
	// on across it)
	const file = execFileSync('ffmpeg', ['-hide_banner', '-v', 'error',
		'-f', 'lavfi', '-i', `aevalsrc=0.25*sin(2*PI*${hz}*t):s=16000:d=${
			ms / 1000 + 1}`, '-c:a', 'g722', '-f', 'g722', 'pipe:1']);
	const frames = [];
	for (let off = 8000; off + 160 <= file.length; off += 160)
		frames.push(file.subarray(off, off + 160));
	if (!frames.length)
		throw new Error('ffmpeg made no G.722 frames');
	return frames;
}

/** Decode G.722 payloads with ffmpeg's decoder; resolves an Int16Array
    at 16 kHz */
export function ffmpegG722(payloads) {
	return ffmpeg(['-f', 'g722'], Buffer.concat(payloads), 16000);
}

/**
 * The strongest frequency of pcm (50 Hz steps, 100 Hz .. rate/2) and the
 * SNR of a tone at `hz`: per 20 ms block a least-squares sine/cosine fit
 * at hz; tone power over the power of what the fit leaves
 */
export function toneAnalysis(pcm, rate, hz) {
	const x = Float64Array.from(pcm);
	const goertzel = (f) => {
		const k = 2 * Math.cos(2 * Math.PI * f / rate);
		let s1 = 0, s2 = 0;
		for (let i = 0; i < x.length; i++) {
			const s = x[i] + k * s1 - s2;
			s2 = s1;
			s1 = s;
		}
		return s1 * s1 + s2 * s2 - k * s1 * s2;
	};
	let peak = 0, best = -1;
	for (let f = 100; f < rate / 2 - 50; f += 50) {
		const p = goertzel(f);
		if (p > best) {
			best = p;
			peak = f;
		}
	}
	const n = rate / 50;
	let sig = 0, res = 0;
	for (let o = 0; o + n <= x.length; o += n) {
		let a = 0, b = 0;
		for (let i = 0; i < n; i++) {
			const w = 2 * Math.PI * hz * i / rate;
			a += x[o + i] * Math.cos(w);
			b += x[o + i] * Math.sin(w);
		}
		a *= 2 / n;
		b *= 2 / n;
		for (let i = 0; i < n; i++) {
			const w = 2 * Math.PI * hz * i / rate;
			const e = a * Math.cos(w) + b * Math.sin(w);
			sig += e * e;
			res += (x[o + i] - e) ** 2;
		}
	}
	const rms = Math.sqrt(x.reduce((s, v) => s + v * v, 0) /
		Math.max(1, x.length));
	return { peak, snr: 10 * Math.log10(sig / Math.max(res, 1e-9)),
		rms: Math.round(rms), samples: x.length };
}

// Real browser call tests of the eIMS-AGW's audio transcoding (D-35, D-61,
// D-62): headless Chromium (the test WIC page, its microphone a sine tone)
// <-> imsedge <-> Kamailio <-> an IMS-side UE that speaks only AMR-WB or
// only AMR, as a VoLTE phone does. The UE is an edge fake in Node
// (imsue.mjs): its AMR frames come from amrtone.c, built on Debian's
// libvo-amrwbenc/libopencore-amrnb (not the product's transcoder), and
// what it receives is decoded by Debian's ffmpeg with ffmpeg's own AMR
// decoders. Audio is proven at both ends:
// - at the UE: the browser's tone decoded at the right frequency (peak
//   on a 50 Hz grid) with an SNR of at least MIN_SNR_DB;
// - at the browser: getStats' totalAudioEnergy grows, and an AnalyserNode
//   on the received track finds the UE's tone as the strongest frequency.
// Each codec both ways: the UE calls (its offer octet-aligned, RFC 4867
// 4.4) and the browser calls (imsedge's offer: bandwidth-efficient, 4.3).
// Then a G.711-only UE (PCMA) calls: the browser's own codec, relayed
// without transcoding; the same checks, ffmpeg's alaw decoder, and the
// UE's 400 Hz tone at the browser.
// One imsedge, page and UE for the four calls (one test: the suite's
// beforeEach would drop the registrations between subtests), to keep the
// time down; XCODE_VERBOSE=1 prints the figures and phases.
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 \
//     test/browser/xcode.test.mjs

import assert from 'node:assert/strict';
import { browserSuite } from './suite.mjs';
import { sleep, CALLS } from './harness.mjs';
import {
	toneFrames, ffmpegDecode, ffmpegG711, toneAnalysis, AMR,
} from './amr.mjs';

/* the browser's tone, the UE's tone (multiples of 50 Hz: whole cycles per
   20 ms block in toneAnalysis) */
const B_HZ = 1000;
const UE_HZ = 600;
/* the G.711 UE's tone (imsue.mjs) */
const G711_HZ = 400;
/* at the UE: 13.5..27.3 dB measured on a loaded machine (Opus then AMR
   at 12.2 or AMR-WB at 23.85 kbit/s; ffmpeg on amrtone's own output
   without imsedge: 26.7 and 28.9 dB); the wrong frequency, a bit slip
   or a wrong rate gives well under 0 dB */
const MIN_SNR_DB = 10;
/* at the browser, the tone's bins over the rest of the spectrum
   (AnalyserNode): 9.7..14.8 dB measured on a loaded machine (AMR and
   Opus in a row, NetEq stretching time); the peak's frequency is the
   sharper check there */
const MIN_BROWSER_DB = 6;
/* frames skipped at the UE after the first speech frame (encoder
   start-up, Opus ramp) */
const SKIP = 25;
const FRAMES = 50;

const NEED = CALLS ? (process.env.IMSEDGE_TRANSCODE === '0' ?
	'IMSEDGE_TRANSCODE=0: a build without transcoding' : false) :
	'call tests need the eIMS-AGW: set IMSEDGE_CALLS=1';

const S = browserSuite({ users: ['alice', 'carol'], skip: NEED });
const { btest, edge, registeredPage, imsUe } = S;

let t0 = Date.now();
function phase(what) {
	if (process.env.XCODE_VERBOSE)
		console.error(`${what} +${Date.now() - t0} ms`);
	t0 = Date.now();
}

const isAmr = (codec) => !!AMR[codec];
const got = (ue, codec) => isAmr(codec) ? ue.rx.amr : ue.rx.g711;

/* where the UE's speech starts: the first AMR speech frame (before it,
   while the browser's tone is on its way, the AGW sends DTX: SID and
   NO_DATA), or the first G.711 packet */
function first(ue, codec) {
	if (!isAmr(codec))
		return 0;
	const sid = codec === 'AMR-WB' ? 9 : 8;
	return ue.rx.amr.findIndex((f) => f.ft < sid);
}

/** Wait until the UE has n AMR frames (or G.711 packets) of speech */
async function frames(ue, n, codec) {
	const deadline = Date.now() + 6000;
	for (;;) {
		const i = first(ue, codec);
		if (i >= 0 && got(ue, codec).length - i >= n)
			return i;
		assert.ok(Date.now() < deadline, `the UE got ${got(ue, codec)
			.length} ${codec} frames, speech from ${i}, wanted ${n}: ${
			JSON.stringify(ue.rtpSnapshot())}`);
		await sleep(50);
	}
}

/**
 * Both ends' audio once the call is up: the browser's side is checked at
 * once; what the UE got is kept in x.atUe for ueAudio() (after the calls:
 * ffmpeg and the analysis take seconds on a loaded machine, and would
 * disturb the UE's 20 ms sending if they ran during a call)
 */
async function proveAudio(ctx, codec, { ims, page, ue, atUe }, mark) {
	const ueHz = isAmr(codec) ? UE_HZ : G711_HZ;
	if (isAmr(codec))
		await ims.waitLog(new RegExp(
			`transcoding opus/\\d+ <-> ${codec}/\\d+`), 5000, mark);
	// past the start (encoder start-up, Opus ramp), then both ends at once
	await frames(ue, SKIP, codec);
	const s0 = await page.stats();
	const [heard] = await Promise.all([page.call('listen', 1000),
		frames(ue, SKIP + FRAMES, codec)]);
	const s1 = await page.stats();
	phase('media');
	assert.equal(ue.rx.badAmr, 0, `${ue.rx.badAmr} ${codec} payloads ` +
		'at the UE did not parse');
	if (!isAmr(codec))   // G.711 is the browser's own: the relay
		assert.ok(!ims.lines.slice(mark).some((l) =>
			/transcoding opus/.test(l)), 'a G.711 call was transcoded');
	const snrB = heard.db - heard.restDb;
	const line = `${codec}: the browser's source energy ${
		s0.source?.totalAudioEnergy} -> ${s1.source?.totalAudioEnergy
	}; at the browser ${JSON.stringify(heard)}, energy ${
		s0.inbound?.totalAudioEnergy} -> ${s1.inbound?.totalAudioEnergy}`;
	ctx.extra.push({ text: () => `--- audio ${line}` });
	if (process.env.XCODE_VERBOSE)
		console.error(`${codec}: browser ${heard.hz.toFixed(0)} Hz ${
			snrB.toFixed(1)} dB`);
	assert.ok(s1.inbound?.totalAudioEnergy > s0.inbound?.totalAudioEnergy,
		`no audio energy at the browser: ${line}`);
	assert.ok(Math.abs(heard.hz - ueHz) <= 2 * heard.binHz, `the ` +
		`browser's strongest frequency is ${heard.hz} Hz, the UE sent ${
			ueHz} Hz: ${line}`);
	assert.ok(snrB >= MIN_BROWSER_DB, `the UE's tone at the browser is ${
		snrB.toFixed(1)} dB over the rest of the spectrum: ${line}`);
	const i = first(ue, codec);
	atUe.push({ codec, rx: got(ue, codec).slice(i + SKIP,
		i + SKIP + FRAMES), line: `${line}; speech from frame ${i}` });
}

/** What the UE got in one call: decoded by ffmpeg, the browser's tone */
async function ueAudio(ctx, { codec, rx, line }) {
	const rate = AMR[codec]?.rate ?? 8000;
	const fts = {};
	for (const f of rx)
		fts[f.ft ?? codec] = (fts[f.ft ?? codec] ?? 0) + 1;
	const what = `${line}; frame types at the UE ${JSON.stringify(fts)}`;
	let pcm;
	try {
		pcm = isAmr(codec) ? await ffmpegDecode(codec, rx) :
			await ffmpegG711(codec, rx);
	} catch (e) {
		e.message = `${codec}: ${e.message}; ${what}`;
		throw e;
	}
	const a = toneAnalysis(pcm, rate, B_HZ);
	ctx.extra.push({ text: () => `--- at the UE ${JSON.stringify(a)
	}: ${what}` });
	if (process.env.XCODE_VERBOSE)
		console.error(`${codec}: UE snr ${a.snr.toFixed(1)} dB peak ${
			a.peak}`);
	assert.equal(pcm.length, FRAMES * rate / 50, `${codec}: ffmpeg ` +
		`decoded ${pcm.length} samples of ${FRAMES} frames: ${what}`);
	assert.ok(a.peak === B_HZ, `${codec}: the UE's decoded audio ` +
		`peaks at ${a.peak} Hz, the browser sent ${B_HZ} Hz: ${what}`);
	assert.ok(a.snr >= MIN_SNR_DB, `${codec}: the browser's ${B_HZ} Hz ` +
		`tone at the UE: SNR ${a.snr.toFixed(1)} dB < ${MIN_SNR_DB}: ${
			what} ${JSON.stringify(a)}`);
}

/* the UE calls the page (which answers at once) */
async function ueCalls(ctx, codec, x) {
	const mark = x.ims.mark();
	const { response, call } = await x.ue.invite('sip:alice@ims.test',
		isAmr(codec) ? {} : { pts: [8] });
	assert.equal(response.status, 200, response.text);
	const pt = call.answerSdp.pts[0];
	assert.equal(call.answerSdp.rtpmap[pt]?.name ?? (pt === 8 ? 'PCMA' :
		pt), codec.toUpperCase(), `the answer's codec: ${response.body}`);
	if (isAmr(codec))
		assert.match(response.body, new RegExp(`a=fmtp:${pt} [^\\r]*` +
			'octet-align=1'), 'RFC 4867 8.3: octet-align echoed');
	phase('call');
	await proveAudio(ctx, codec, x, mark);
	const r = await x.ue.bye();
	assert.equal(r.status, 200, r.text);
	await x.page.waitCall('ended', 3000);
}

/* the page calls the UE (which answers with the offer's AMR payload
   type and format) */
async function pageCalls(ctx, codec, x) {
	const mark = x.ims.mark();
	await x.page.call('call', 'sip:carol@ims.test');
	const s = await x.page.waitCall(['connected', 'failed', 'ended'],
		10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	assert.equal(x.ue.call.octetAlign, false, 'imsedge offered ' +
		`octet-aligned: ${x.ue.call.offer.raw}`);
	phase('call');
	await proveAudio(ctx, codec, x, mark);
	await x.page.call('hangup');
	await x.ue.waitCall((e) => e.ev === 'ended', 3000, 'the BYE');
}

btest('D-35, D-61: AMR-WB-only and AMR-only IMS UEs and the browser ' +
	'call each other (transcoded), a G.711-only UE calls it (relayed): ' +
	'the tones arrive both ways',
{ skip: NEED, timeout: 90000 }, async (t, ctx) => {
	phase('start');
	const ims = await edge(ctx);
	const page = await registeredPage(ctx, { query: { tone: B_HZ,
		autoanswer: 1 } });
	const ue = await imsUe(ctx);
	const x = { ims, page, ue, atUe: [] };
	phase('set-up');
	for (const codec of ['AMR-WB', 'AMR']) {
		const tone = toneFrames(codec, UE_HZ, 1000);
		for (const [who, fn, oa] of [['the UE calls the browser ' +
			'(octet-aligned offer)', ueCalls, true], ['the browser calls ' +
			'the UE (imsedge offers bandwidth-efficient)', pageCalls,
		false]]) {
			ue.amr = { codec, octetAlign: oa, frames: tone };
			try {
				await fn(ctx, codec, x);
			} catch (e) {
				e.message = `${codec}, ${who}: ${e.message}`;
				throw e;
			}
			phase('bye');
		}
	}
	// a G.711-only phone: no transcoding, the browser's PCMA relayed
	ue.amr = null;
	ue.record = true;
	try {
		await ueCalls(ctx, 'PCMA', x);
	} catch (e) {
		e.message = `PCMA, the UE calls the browser: ${e.message}`;
		throw e;
	}
	phase('bye');
	// what each call brought the UE, decoded side by side
	await Promise.all(x.atUe.map((r) => ueAudio(ctx, r)));
	phase('decoded');
});

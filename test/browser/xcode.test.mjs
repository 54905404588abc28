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
// Then the AMR-WB UE (with telephone-event/16000) calls once more, and
// mid-call (D-35):
// - DTMF the browser sends (RTCDTMFSender, telephone-event/48000) reaches
//   the UE with its duration and timestamp in the UE's 16 kHz clock;
// - DTMF the UE sends is played out by the browser (NetEq renders RFC 4733
//   events as their two tones: the AnalyserNode finds both), and the UE's
//   tone is back after it;
// - 20% of the UE's packets dropped (a lossy hop, seeded): the browser
//   still gets ~50 packets a second (concealment, no stall) and the tone;
// - hold (the core's re-INVITE sendonly) and resume: audio again at the
//   UE, the first packet after it marked;
// - codec change by the core's re-INVITE: AMR-WB -> AMR (transcoded
//   again, ffmpeg checks the UE's side), then -> PCMA (the browser's own,
//   relayed); across DTMF, loss, hold and the AMR switch the AGW's
//   packets to the UE have sequence numbers +1 each (nothing is skipped:
//   what is not sent during a hold takes no number) and timestamps that
//   follow the browser's clock (never backwards).
// Then the browser calls the AMR-WB UE (imsedge's offer carries
// telephone-event/16000) and the same path runs with the roles reversed:
// DTMF both ways, the browser's own hold and resume (each re-INVITE
// becomes an offer toward the core that keeps AMR-WB; a marked talkspurt
// after it), the core's codec changes to AMR and PCMA, sequence numbers
// continuous.
// One imsedge, page and UE for the six calls (one test: the suite's
// beforeEach would drop the registrations between subtests), to keep the
// time down; XCODE_VERBOSE=1 prints the figures and phases.
//
//   IMSEDGE_CALLS=1 node --test --test-concurrency=1 \
//     test/browser/xcode.test.mjs

import assert from 'node:assert/strict';
import { browserSuite } from './suite.mjs';
import { sleep, CALLS } from './harness.mjs';
import {
	toneFrames, ffmpegDecode, ffmpegG711, toneAnalysis, AMR, g722Frames,
	ffmpegG722,
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

/* ---- one AMR-WB call through the mid-call events ----------------------- */

/* Chromium's RTCDTMFSender: digit '1' for DTMF_MS; the UE's digit '5' */
const DTMF_MS = 200;
const UE_EVENT = 5;
const UE_DTMF_MS = 800;
/* RFC 4733 digit 5: 770 Hz + 1336 Hz */
const ROW5 = 770;
const COL5 = 1336;
/* share of the UE's packets dropped on the lossy hop */
const LOSS = 0.2;

/** Wait for pred() over polled state, ms at most */
async function until(pred, ms, what) {
	const deadline = Date.now() + ms;
	for (;;) {
		const v = pred();
		if (v)
			return v;
		assert.ok(Date.now() < deadline, `${what} within ${ms} ms`);
		await sleep(20);
	}
}

/* speech frames at the UE from index i on */
const speech = (ue, codec, i = 0) => ue.rx.amr.slice(i).filter((f) =>
	f.ft < (codec === 'AMR-WB' ? 9 : 8)).length;

/* the browser's digit at the UE: RFC 4733 2.5, in the UE's clock */
async function dtmfToUe(x, rate) {
	const { page, ue } = x;
	const i0 = ue.rx.te.length;
	await page.call('dtmf', '1', DTMF_MS);
	const te = await until(() => {
		const v = ue.rx.te.slice(i0);
		return v.filter((p) => p.end).length >= 3 && v;
	}, 3000, 'three end packets of the browser\'s digit at the UE');
	const what = JSON.stringify(te);
	assert.ok(te.every((p) => p.event === 1), `event 1: ${what}`);
	assert.ok(te.every((p) => p.ts === te[0].ts), `one timestamp: ${what}`);
	assert.equal(te[0].m, 1, `the event's first packet is marked: ${what}`);
	// Chromium says 200 ms in 48 kHz units; the UE must read it at rate
	const end = te.find((p) => p.end).dur;
	assert.ok(Math.abs(end - DTMF_MS * rate / 1000) <= rate / 50,
		`the digit lasts ${end} units at ${rate} Hz, it was ${DTMF_MS
		} ms: ${what}`);
	// the event's timestamp in the audio's timeline (the UE's clock):
	// within 300 ms of the audio packet before it
	const k = ue.rx.log.findIndex((p) => p.seq === te[0].seq);
	const prev = ue.rx.log.slice(0, k).reverse()
		.find((p) => p.pt !== ue.call.tePt);
	const d = (te[0].ts - prev.ts) >>> 0;
	assert.ok(d <= 0.3 * rate, `the event's timestamp is ${d} after the ` +
		`audio's (${rate} Hz): ${what}`);
	return `browser -> UE: ${te.length} packets, duration ${end}`;
}

/* the UE's digit at the browser: NetEq plays RFC 4733 events out as their
   two tones (the page has no other view of received DTMF) */
async function dtmfToBrowser(x) {
	const { page, ue } = x;
	const sent = ue.sendDtmf(UE_EVENT, UE_DTMF_MS);
	await sleep(150);   // the event's first packets on their way
	const heard = await page.call('listen', UE_DTMF_MS - 350,
		[ROW5, COL5, UE_HZ]);
	await sent;
	const [row, col, tone] = heard.at;
	const what = JSON.stringify(heard);
	assert.ok(row - tone >= 10 && col - tone >= 10, `digit ${UE_EVENT}'s ` +
		`${ROW5}/${COL5} Hz at the browser not 10 dB over the UE's ${UE_HZ
		} Hz tone: ${what}`);
	// and then the UE's tone again: the event did not stall the path
	const s0 = await page.stats();
	const after = await page.call('listen', 600);
	const s1 = await page.stats();
	const also = `${JSON.stringify(after)}; ${JSON.stringify(s0.inbound)
	} -> ${JSON.stringify(s1.inbound)}`;
	assert.ok(Math.abs(after.hz - UE_HZ) <= 2 * after.binHz &&
		after.db - after.restDb >= MIN_BROWSER_DB, `the UE's tone at the ` +
		`browser after its digit: ${also}`);
	return `UE -> browser: ${ROW5} Hz ${row.toFixed(1)} dB, ${COL5} Hz ${
		col.toFixed(1)} dB, ${UE_HZ} Hz ${tone.toFixed(1)} dB; then ${
		after.hz.toFixed(0)} Hz`;
}

/* LOSS of the UE's packets dropped: the tone still arrives and the
   browser's packets keep flowing (conceal, not stall) */
async function lossy(x) {
	const { page, ue } = x;
	const lost0 = ue.tx.lost ?? 0, sent0 = ue.tx.packets;
	ue.loss = LOSS;
	const s0 = await page.stats();
	const heard = await page.call('listen', 1000);
	const s1 = await page.stats();
	ue.loss = 0;
	const pkts = s1.inbound.packetsReceived - s0.inbound.packetsReceived;
	const lost = ue.tx.lost - lost0;
	// 50 a second in the page's own clock (getStats' times), or what the
	// UE would have sent if its timer fell behind (a loaded machine):
	// concealment fills the gaps
	const want = 0.85 * Math.min((s1.at - s0.at) / 20,
		ue.tx.packets - sent0 + lost);
	const what = `${lost} of ${ue.tx.packets - sent0 + lost} dropped; ${
		pkts} packets at the browser in ${s1.at - s0.at} ms; ${
		JSON.stringify(heard)}`;
	assert.ok(ue.tx.lost - lost0 >= 5, `the hop dropped: ${what}`);
	assert.ok(pkts >= want, `the stream toward the browser stalled: ${
		what}`);
	assert.ok(Math.abs(heard.hz - UE_HZ) <= 2 * heard.binHz &&
		heard.db - heard.restDb >= MIN_BROWSER_DB, `the UE's tone at the ` +
		`browser through ${LOSS * 100}% loss: ${what}`);
	return what;
}

/* hold (the core's re-INVITE sendonly), resume (sendrecv): audio again,
   the AGW's sequence numbers continuous */
async function holdResume(x, rate) {
	const { page, ue } = x;
	let r = await ue.reinvite('sendonly');
	assert.equal(r.status, 200, r.text);
	assert.match(r.body, /a=recvonly/, 'the browser\'s answer to hold');
	// what the browser sent before the hold has arrived: then nothing
	await sleep(100);
	const atHold = ue.rx.log.length;
	await sleep(300);
	const during = ue.rx.log.length - atHold;
	r = await ue.reinvite('sendrecv');
	assert.equal(r.status, 200, r.text);
	const a0 = ue.rx.amr.length;
	await until(() => speech(ue, 'AMR-WB', a0) >= 10, 4000,
		'speech at the UE after the resume');
	// timestamps follow the browser's (its clock ran on during the hold),
	// the first packet after it starts a talkspurt (RFC 3551 4.1)
	const [a, b] = [ue.rx.log[atHold - 1], ue.rx.log[atHold + during]];
	assert.equal(b.m, 1, `the first packet after the hold is marked: ${
		JSON.stringify([a, b])}`);
	return `hold: ${during} packets at the UE in 300 ms on hold; across ` +
		`it ${b.at - a.at} ms, timestamps +${((b.ts - a.ts) >>> 0) /
		(rate / 1000)} ms, sequence +${(b.seq - a.seq) & 0xffff}, M=${b.m}`;
}

/* every packet the AGW sent the UE in this call: sequence numbers +1 each
   (hold, DTMF and codec changes included: none are skipped), timestamps
   never backwards */
function continuous(log) {
	for (let i = 1; i < log.length; i++) {
		const [a, b] = [log[i - 1], log[i]];
		assert.equal((b.seq - a.seq) & 0xffff, 1, `RTP at the UE: ` +
			`sequence ${a.seq} then ${b.seq} (packet ${i} of ${log.length})`);
		assert.ok(((b.ts - a.ts) >>> 0) < 0x80000000, `RTP at the UE: ` +
			`timestamp ${a.ts} then ${b.ts} (packet ${i})`);
	}
}

/* the core switches codecs by a re-INVITE: the call goes on in the new
   one (AMR: transcoded again; PCMA: the browser's own, relayed) */
async function switchTo(ctx, codec, x) {
	const { ims, page, ue } = x;
	const mark = ims.mark();
	const pts = codec === 'AMR' ? [97, 101] : [8];
	const a0 = ue.rx.amr.length, g0 = ue.rx.g711.length;
	if (codec === 'AMR') {
		ue.amr = { codec, octetAlign: true, dtmf: true,
			frames: toneFrames(codec, UE_HZ, 1000) };
	} else {
		ue.amr = null;
		ue.record = true;
	}
	const r = await ue.reinvite('sendrecv', ue.call, 10000, { pts });
	assert.equal(r.status, 200, r.text);
	assert.equal(ue.call.pt, pts[0], `the answer's codec: ${r.body}`);
	if (codec === 'AMR')
		await ims.waitLog(/transcoding opus\/\d+ <-> AMR\/97/, 5000, mark);
	const n = () => codec === 'AMR' ? speech(ue, codec, a0) :
		ue.rx.g711.length - g0;
	await until(() => n() >= SKIP, 5000, `${codec} at the UE`);
	const heard = await page.call('listen', 800);
	const hz = codec === 'AMR' ? UE_HZ : G711_HZ;
	assert.ok(Math.abs(heard.hz - hz) <= 2 * heard.binHz, `after the ` +
		`switch to ${codec} the browser hears ${heard.hz} Hz, not ${hz}: ${
			JSON.stringify(heard)}`);
	await until(() => n() >= SKIP + FRAMES, 5000, `${codec} at the UE`);
	if (codec === 'AMR') {
		const rx = ue.rx.amr.slice(a0);
		const i = rx.findIndex((f) => f.ft < 8);
		x.atUe.push({ codec, rx: rx.slice(i + SKIP, i + SKIP + FRAMES),
			line: `after the switch from AMR-WB` });
	} else {
		x.atUe.push({ codec, rx: ue.rx.g711.slice(g0 + SKIP,
			g0 + SKIP + FRAMES), line: 'after the switch to PCMA' });
	}
	return `${codec}: browser ${heard.hz.toFixed(0)} Hz`;
}

/* one mid-call step: its note kept, its name on a failure, its time */
function stepper(notes, prefix, label) {
	return async (what, fn) => {
		try {
			notes.push(await fn());
		} catch (e) {
			e.message = `${prefix}${what}: ${e.message}`;
			throw e;
		} finally {
			phase(`${label}: ${what}`);
		}
	};
}

/* the AMR-WB UE (with DTMF) calls; mid-call: DTMF both ways, loss, hold
   and resume, codec changes to AMR and PCMA */
async function midCall(ctx, x) {
	const { ue } = x;
	const codec = 'AMR-WB', rate = 16000;
	ue.amr = { codec, octetAlign: true, dtmf: true,
		frames: toneFrames(codec, UE_HZ, 1000) };
	ue.record = false;
	const mark = x.ims.mark();
	const { response, call } = await ue.invite('sip:alice@ims.test');
	assert.equal(response.status, 200, response.text);
	assert.ok(call.tePt, `telephone-event/16000 in the answer: ${
		response.body}`);
	assert.equal(call.answerSdp.rtpmap[call.tePt].rate, rate);
	await x.ims.waitLog(/transcoding opus\/\d+ <-> AMR-WB\/\d+/, 5000,
		mark);
	await until(() => speech(ue, codec) >= SKIP, 5000, 'speech at the UE');
	phase('mid: call');
	const notes = [];
	const step = stepper(notes, '', 'mid');
	await step('DTMF to the UE', () => dtmfToUe(x, rate));
	await step('DTMF to the browser', () => dtmfToBrowser(x));
	await step('loss', () => lossy(x));
	await step('hold', () => holdResume(x, rate));
	await step('AMR', () => switchTo(ctx, 'AMR', x));
	// the AGW's own stream ends here: PCMA is the browser's, relayed
	const log = ue.rx.log.slice();
	await step('PCMA', () => switchTo(ctx, 'PCMA', x));
	await step('sequence', () => continuous(log));
	ctx.extra.push({ text: () => `--- mid-call: ${notes.join('; ')}` });
	if (process.env.XCODE_VERBOSE)
		console.error(notes.join('\n'));
	const r = await ue.bye();
	assert.equal(r.status, 200, r.text);
	await x.page.waitCall('ended', 3000);
}

/* the browser holds (its re-INVITE sendonly) and resumes: each becomes
   an offer toward the core that keeps the transcoded codec; speech at
   the UE again after it, a talkspurt marked (RFC 4867 4.1) */
async function pageHoldResume(x) {
	const { page, ue } = x;
	const pt = ue.call.pt;
	let mark = ue.requests.mark();
	assert.equal(await page.call('hold'), true);
	let re = await ue.waitRequest('INVITE', 5000, mark);
	assert.match(re.body, /a=(sendonly|inactive)/, `the hold at the core: ${
		re.body}`);
	assert.match(re.body, /AMR-WB\/16000/, `the hold offers AMR-WB: ${
		re.body}`);
	await page.waitState((s) => s.hold.local, 5000, 'local hold');
	assert.equal(ue.call.pt, pt, `the hold's answer keeps AMR-WB: ${
		re.body}`);
	// the page mutes while it holds: the AGW sends DTX (SID) at most
	await sleep(300);
	const atHold = ue.rx.log.length;
	await sleep(300);
	const during = ue.rx.log.length - atHold;
	mark = ue.requests.mark();
	const k0 = ue.rx.log.length;
	assert.equal(await page.call('unhold'), true);
	re = await ue.waitRequest('INVITE', 5000, mark);
	assert.match(re.body, /a=sendrecv/, `the resume at the core: ${re.body}`);
	assert.match(re.body, /AMR-WB\/16000/, `the resume offers AMR-WB: ${
		re.body}`);
	await page.waitState((s) => !s.hold.local, 5000, 'resumed');
	const a0 = ue.rx.amr.length;
	await until(() => speech(ue, 'AMR-WB', a0) >= 10, 4000,
		'speech at the UE after the browser resumed');
	const log = ue.rx.log.slice(k0);
	const b = log.find((p) => p.pt === pt && p.m === 1);
	assert.ok(b, `a talkspurt marked after the browser resumed: ${
		JSON.stringify(log.slice(0, 12))}`);
	return `browser hold: ${during} packets at the UE in 300 ms on hold; ` +
		`after the resume the talkspurt at sequence +${
			(b.seq - ue.rx.log[k0 - 1].seq) & 0xffff}`;
}

/* the browser calls the AMR-WB UE (which answers with DTMF); mid-call:
   DTMF both ways, the browser's hold and resume, the core's codec
   changes to AMR and PCMA: the same path with the roles reversed (the
   AGW made the core's offer; the browser's re-INVITEs become offers
   toward the core that keep the transcoded codec) */
async function pageMidCall(ctx, x) {
	const { page, ue } = x;
	const codec = 'AMR-WB', rate = 16000;
	ue.amr = { codec, octetAlign: false, dtmf: true,
		frames: toneFrames(codec, UE_HZ, 1000) };
	ue.record = false;
	const mark = x.ims.mark();
	await page.call('call', 'sip:carol@ims.test');
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	assert.ok(ue.call.tePt !== null, `telephone-event/16000 in imsedge's ` +
		`offer: ${ue.call.offer.raw}`);
	await x.ims.waitLog(/transcoding opus\/\d+ <-> AMR-WB\/\d+/, 5000,
		mark);
	await until(() => speech(ue, codec) >= SKIP, 5000, 'speech at the UE');
	phase('page mid: call');
	const notes = [];
	const step = stepper(notes, 'the browser called; ', 'page mid');
	await step('DTMF to the UE', () => dtmfToUe(x, rate));
	await step('DTMF to the browser', () => dtmfToBrowser(x));
	await step('hold', () => pageHoldResume(x));
	await step('AMR', () => switchTo(ctx, 'AMR', x));
	const log = ue.rx.log.slice();
	await step('PCMA', () => switchTo(ctx, 'PCMA', x));
	await step('sequence', () => continuous(log));
	ctx.extra.push({ text: () => `--- browser-called mid-call: ${
		notes.join('; ')}` });
	if (process.env.XCODE_VERBOSE)
		console.error(notes.join('\n'));
	await page.call('hangup');
	await ue.waitCall((e) => e.ev === 'ended', 3000, 'the BYE');
}

/* ---- a G.722-only UE (D-35, D-61) --------------------------------------
   G.722 is a WebRTC browser's own codec (Chromium offers G722/8000 on 9),
   so a G.722-only phone calling the browser is relayed, not transcoded
   (pass-through stays the fast path); a browser without G.722 (the page
   leaves it out of its offer: dropCodecs) calling that phone gets G.722
   added toward the core by imsedge and is transcoded: Opus at 16 kHz <->
   G.722 (RTP clock 8000, RFC 3551 4.5.2), telephone-event 48000 <-> 8000.
   The UE (an edge fake) sends G.722 frames made by ffmpeg's own encoder
   and what it receives is decoded by ffmpeg's decoder (libavcodec, not
   the spandsp code imsedge links). */

/* the G.722 UE's tone (a multiple of 50 Hz) */
const G722_HZ = 800;

/** Both ends' audio of a G.722 call (what the UE got kept in x.atUe) */
async function g722Audio(ctx, x, { xcoded, mark }) {
	const { ims, page, ue } = x;
	if (xcoded)
		await ims.waitLog(/transcoding opus\/\d+ <-> G722\/9/, 5000, mark);
	await until(() => ue.rx.g722.length >= SKIP, 6000, 'G.722 at the UE');
	const s0 = await page.stats();
	const [heard] = await Promise.all([page.call('listen', 1000),
		until(() => ue.rx.g722.length >= SKIP + FRAMES, 6000,
			'G.722 at the UE')]);
	const s1 = await page.stats();
	phase('g722: media');
	const snrB = heard.db - heard.restDb;
	const line = `G722 (${xcoded ? 'transcoded' : 'relayed'}): at the ` +
		`browser ${JSON.stringify(heard)}, energy ${
			s0.inbound?.totalAudioEnergy} -> ${s1.inbound?.totalAudioEnergy}`;
	ctx.extra.push({ text: () => `--- audio ${line}` });
	if (process.env.XCODE_VERBOSE)
		console.error(`G722: browser ${heard.hz.toFixed(0)} Hz ${
			snrB.toFixed(1)} dB`);
	if (!xcoded)
		assert.ok(!ims.lines.slice(mark).some((l) =>
			/transcoding opus/.test(l)), 'a G.722 call was transcoded ' +
			'although the browser has G.722');
	assert.ok(ue.rx.g722.slice(SKIP, SKIP + FRAMES).every((b) =>
		b.length === 160), `G.722 payloads at the UE are not 160 bytes ` +
		`(20 ms): ${ue.rx.g722.slice(SKIP, SKIP + 5).map((b) => b.length)}`);
	assert.ok(s1.inbound?.totalAudioEnergy > s0.inbound?.totalAudioEnergy,
		`no audio energy at the browser: ${line}`);
	assert.ok(Math.abs(heard.hz - G722_HZ) <= 2 * heard.binHz, `the ` +
		`browser's strongest frequency is ${heard.hz} Hz, the UE sent ${
			G722_HZ} Hz: ${line}`);
	assert.ok(snrB >= MIN_BROWSER_DB, `the UE's tone at the browser is ${
		snrB.toFixed(1)} dB over the rest of the spectrum: ${line}`);
	x.atUe.push({ rx: ue.rx.g722.slice(SKIP, SKIP + FRAMES), line });
}

/** What the G.722 UE got: ffmpeg's decoder, the browser's tone at 16 kHz */
async function g722AtUe(ctx, { rx, line }) {
	const pcm = await ffmpegG722(rx);
	const a = toneAnalysis(pcm, 16000, B_HZ);
	ctx.extra.push({ text: () => `--- at the G.722 UE ${JSON.stringify(a)
	}: ${line}` });
	if (process.env.XCODE_VERBOSE)
		console.error(`G722: UE snr ${a.snr.toFixed(1)} dB peak ${a.peak}`);
	assert.equal(pcm.length, FRAMES * 320, `ffmpeg decoded ${pcm.length} ` +
		`samples of ${FRAMES} G.722 frames: ${line}`);
	assert.equal(a.peak, B_HZ, `the UE's decoded G.722 peaks at ${a.peak
	} Hz, the browser sent ${B_HZ} Hz: ${line}`);
	assert.ok(a.snr >= MIN_SNR_DB, `the browser's tone at the G.722 UE: ` +
		`SNR ${a.snr.toFixed(1)} dB < ${MIN_SNR_DB}: ${line} ${
			JSON.stringify(a)}`);
}

btest('D-35, D-61: a G.722-only IMS UE calls the browser (its own codec, ' +
	'relayed) and a browser without G.722 calls it (transcoded Opus/16000 ' +
	'<-> G.722 on the 8000 clock, DTMF 48000 -> 8000): the tones arrive ' +
	'both ways', { skip: NEED, timeout: 60000 }, async (t, ctx) => {
	phase('start');
	const ims = await edge(ctx);
	const page = await registeredPage(ctx, { query: { tone: B_HZ,
		autoanswer: 1 } });
	const ue = await imsUe(ctx);
	const x = { ims, page, ue, atUe: [] };
	ue.amr = null;
	ue.g722 = { frames: g722Frames(G722_HZ, 4000), dtmf: true };
	phase('g722: set-up');

	// the UE calls: G.722 only, relayed to the browser
	let mark = ims.mark();
	const { response, call } = await ue.invite('sip:alice@ims.test');
	assert.equal(response.status, 200, response.text);
	assert.equal(call.answerSdp.pts[0], 9, `the answer's codec: ${
		response.body}`);
	await g722Audio(ctx, x, { xcoded: false, mark });
	let r = await ue.bye();
	assert.equal(r.status, 200, r.text);
	await page.waitCall('ended', 3000);

	// a browser without G.722 calls: imsedge adds G722/8000 toward the
	// core (RFC 3551's clock), the UE answers it (and telephone-event/8000)
	await page.call('dropCodecs', ['G722']);
	mark = ims.mark();
	await page.call('call', 'sip:carol@ims.test');
	const s = await page.waitCall(['connected', 'failed', 'ended'], 10000);
	assert.equal(s.call, 'connected', JSON.stringify(s));
	const offer = ue.call.offer;
	assert.equal(offer.rtpmap[9]?.name, 'G722', `G722/8000 on 9 in ` +
		`imsedge's offer: ${offer.raw}`);
	assert.equal(offer.rtpmap[9]?.rate, 8000, offer.raw);
	assert.equal(ue.call.pt, 9);
	await g722Audio(ctx, x, { xcoded: true, mark });
	// DTMF in the core's 8000 clock (not the 16 kHz sampling rate)
	const dtmf = await dtmfToUe(x, 8000);
	ctx.extra.push({ text: () => `--- G.722 DTMF: ${dtmf}` });
	await page.call('hangup');
	await ue.waitCall((e) => e.ev === 'ended', 3000, 'the BYE');
	await page.call('dropCodecs', []);
	await Promise.all(x.atUe.map((a) => g722AtUe(ctx, a)));
	phase('g722: decoded');
});

btest('D-35, D-61: AMR-WB-only and AMR-only IMS UEs and the browser ' +
	'call each other (transcoded), a G.711-only UE calls it (relayed): ' +
	'the tones arrive both ways',
{ skip: NEED, timeout: 120000 }, async (t, ctx) => {
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
	await midCall(ctx, x);
	await pageMidCall(ctx, x);
	// what each call brought the UE, decoded side by side
	await Promise.all(x.atUe.map((r) => ueAudio(ctx, r)));
	phase('decoded');
});

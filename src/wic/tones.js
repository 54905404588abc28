// Tones made with WebAudio (no audio files): the ringtone for incoming
// calls, the ringback while the far end rings, and a short key click for
// the dial pad. One AudioContext, created (and resumed) on a user gesture
// by unlock() so browsers let it play later without one.

let ctx = null;
let master = null;

/** Create/resume the AudioContext; call from a click handler */
export function unlock() {
	try {
		if (!ctx) {
			const AC = window.AudioContext || window.webkitAudioContext;
			if (!AC)
				return;
			ctx = new AC();
			master = ctx.createGain();
			master.gain.value = 0.25;
			master.connect(ctx.destination);
		}
		if (ctx.state === 'suspended')
			ctx.resume().catch(() => {});
	} catch {
		ctx = null;
	}
}

/** Schedule `freqs` (mixed) from t for d seconds with short ramps */
function burst(freqs, t, d, level = 1) {
	const g = ctx.createGain();
	g.gain.setValueAtTime(0, t);
	g.gain.linearRampToValueAtTime(level / freqs.length, t + 0.02);
	g.gain.setValueAtTime(level / freqs.length, t + d - 0.03);
	g.gain.linearRampToValueAtTime(0, t + d);
	g.connect(master);
	const oscs = freqs.map((f) => {
		const o = ctx.createOscillator();
		o.type = 'sine';
		o.frequency.value = f;
		o.connect(g);
		o.start(t);
		o.stop(t + d + 0.01);
		return o;
	});
	oscs[0].onended = () => g.disconnect();
	return oscs;
}

/**
 * A repeating pattern: `steps` is [[freqs, seconds] | [null, seconds]...]
 * Returns a stop function.
 */
function loop(steps, level) {
	unlock();
	if (!ctx)
		return () => {};
	const period = steps.reduce((a, [, d]) => a + d, 0);
	let next = ctx.currentTime + 0.05;
	let live = [];
	const schedule = () => {
		// keep about two periods queued
		while (next < ctx.currentTime + 2 * period) {
			let t = next;
			for (const [freqs, d] of steps) {
				if (freqs)
					for (const o of burst(freqs, t, d, level))
						live.push({ o, end: t + d });
				t += d;
			}
			next += period;
		}
		live = live.filter((x) => x.end > ctx.currentTime);
	};
	schedule();
	const timer = setInterval(schedule, 500);
	return () => {
		clearInterval(timer);
		for (const x of live) {
			try {
				x.o.stop();
			} catch { /* already stopped */ }
		}
		live = [];
	};
}

let stopRing = null;
let stopRingback = null;
let stopWaiting = null;

/** The incoming-call ringtone: a warbling two-tone, 1.2 s on, 2 s off */
export function ringStart() {
	if (stopRing)
		return;
	const warble = [];
	for (let i = 0; i < 12; i++)
		warble.push([i % 2 ? [650, 975] : [800, 1200], 0.1]);
	stopRing = loop([...warble, [null, 2]], 0.9);
}

export function ringStop() {
	stopRing?.();
	stopRing = null;
}

/** Ringback while the callee's phone rings (ITU 425 Hz, 1 s on, 4 s off) */
export function ringbackStart() {
	if (stopRingback)
		return;
	stopRingback = loop([[[425], 1], [null, 4]], 0.5);
}

export function ringbackStop() {
	stopRingback?.();
	stopRingback = null;
}

/** Call waiting, under a call: two soft 440 Hz beeps every 4 s */
export function waitingStart() {
	if (stopWaiting)
		return;
	stopWaiting = loop([[[440], 0.2], [null, 0.2], [[440], 0.2],
		[null, 3.4]], 0.25);
}

export function waitingStop() {
	stopWaiting?.();
	stopWaiting = null;
}

/** DTMF pair for a dial pad key, as local feedback (0.12 s) */
const DTMF = { 1: [697, 1209], 2: [697, 1336], 3: [697, 1477],
	4: [770, 1209], 5: [770, 1336], 6: [770, 1477], 7: [852, 1209],
	8: [852, 1336], 9: [852, 1477], '*': [941, 1209], 0: [941, 1336],
	'#': [941, 1477] };

export function keyTone(key) {
	unlock();
	if (!ctx || !DTMF[key])
		return;
	burst(DTMF[key], ctx.currentTime + 0.01, 0.12, 0.5);
}

export function stopAll() {
	ringStop();
	ringbackStop();
	waitingStop();
}

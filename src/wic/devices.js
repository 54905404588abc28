// Choice of microphone, speaker and camera (#devices, a disclosure in
// the phone view). The lists come from enumerateDevices(); their names
// appear once the browser has given the page the microphone (before
// that: "Microphone 1"...). The microphone is used from the next call on
// and, in a call, replaces the track being sent; the speaker is the
// far end's audio element's sink (setSinkId, where the browser has it);
// the camera is for video calls. The choice stays in this tab's memory.

const $ = (id) => document.getElementById(id);
const KINDS = { audioinput: ['dev-mic', 'Microphone'],
	audiooutput: ['dev-speaker', 'Speaker'],
	videoinput: ['dev-camera', 'Camera'] };

export const chosen = { audioinput: '', audiooutput: '', videoinput: '' };

function canSink() {
	return typeof HTMLMediaElement !== 'undefined' &&
		'setSinkId' in HTMLMediaElement.prototype;
}

/** Fill the three lists (keeping what is chosen) */
export async function refresh() {
	let list = [];
	try {
		list = await navigator.mediaDevices.enumerateDevices();
	} catch {
		list = [];
	}
	for (const [kind, [id, word]] of Object.entries(KINDS)) {
		const sel = $(id);
		const devs = list.filter((d) => d.kind === kind && d.deviceId);
		const opts = [new Option('System default', '')];
		devs.forEach((d, i) => {
			if (d.deviceId !== 'default')
				opts.push(new Option(d.label || `${word} ${i + 1}`,
					d.deviceId));
		});
		sel.replaceChildren(...opts);
		sel.value = devs.some((d) => d.deviceId === chosen[kind]) ?
			chosen[kind] : '';
		chosen[kind] = sel.value;
	}
	$('dev-speaker-row').hidden = !canSink();
}

/**
 * Wire the lists; `phone()` gives the Phone (or null), `audio` is the far
 * end's audio element
 */
export function wire({ phone, audio }) {
	$('devices').addEventListener('toggle', () => {
		if ($('devices').open)
			refresh();
	});
	navigator.mediaDevices?.addEventListener?.('devicechange', refresh);
	$('dev-mic').addEventListener('change', () => {
		chosen.audioinput = $('dev-mic').value;
		phone()?.setMic(chosen.audioinput);
	});
	$('dev-speaker').addEventListener('change', async () => {
		chosen.audiooutput = $('dev-speaker').value;
		await sink(audio);
	});
	$('dev-camera').addEventListener('change', () => {
		chosen.videoinput = $('dev-camera').value;
		phone()?.setCamera(chosen.videoinput);
	});
}

/** Play `el` on the chosen speaker */
export async function sink(el) {
	if (!canSink())
		return;
	try {
		await el.setSinkId(chosen.audiooutput);
	} catch (e) {
		console.warn(`speaker: ${e.name}`);
	}
}

// Video in a call: counters from getStats() for tests and the page's
// own check (frames decoded and sent, the codec), whether an SDP offer
// has a video m-line that is not refused (port 0), and the constraints
// the camera is opened with.

/** Video counters of `pc`: { inbound: {...}, outbound: {...} } */
export async function videoStats(pc) {
	const out = {
		at: Date.now(),
		mlines: 0,
		inbound: { packets: 0, framesDecoded: 0, frameWidth: null,
			frameHeight: null, pliSent: 0, firSent: 0, nackSent: 0,
			codec: null },
		outbound: { packets: 0, framesSent: 0, framesEncoded: 0,
			pliReceived: 0, firReceived: 0, nackReceived: 0, codec: null },
	};
	if (!pc || pc.connectionState === 'closed')
		return out;
	// video m-lines in the call: a downgrade to audio stops them all
	out.mlines = pc.getTransceivers().filter((x) =>
		x.receiver.track?.kind === 'video' && !x.stopped &&
		x.currentDirection !== 'stopped' && x.direction !== 'stopped')
		.length;
	let report;
	try {
		report = await pc.getStats();
	} catch {
		return out;
	}
	const byId = new Map();
	report.forEach((s) => byId.set(s.id, s));
	const codec = (id) => {
		const c = byId.get(id);
		return c ? `${c.mimeType}${c.sdpFmtpLine ? ` ${c.sdpFmtpLine}` :
			''}` : null;
	};
	report.forEach((s) => {
		if (s.kind !== 'video')
			return;
		if (s.type === 'inbound-rtp') {
			const i = out.inbound;
			i.packets += s.packetsReceived ?? 0;
			i.framesDecoded += s.framesDecoded ?? 0;
			i.frameWidth = s.frameWidth ?? i.frameWidth;
			i.frameHeight = s.frameHeight ?? i.frameHeight;
			i.pliSent += s.pliCount ?? 0;
			i.firSent += s.firCount ?? 0;
			i.nackSent += s.nackCount ?? 0;
			i.codec = codec(s.codecId) ?? i.codec;
		} else if (s.type === 'outbound-rtp') {
			const o = out.outbound;
			o.packets += s.packetsSent ?? 0;
			o.framesSent += s.framesSent ?? 0;
			o.framesEncoded += s.framesEncoded ?? 0;
			o.pliReceived += s.pliCount ?? 0;
			o.firReceived += s.firCount ?? 0;
			o.nackReceived += s.nackCount ?? 0;
			o.codec = codec(s.codecId) ?? o.codec;
		}
	});
	return out;
}

/** Does this SDP offer video (an m=video line with a port)? */
export function offersVideo(sdp) {
	return /^m=video [1-9]/m.test(String(sdp ?? ''));
}

/**
 * TS 26.114 video is H.264: in a local offer or answer, move the H.264
 * payload types (Constrained Baseline 42e01f, packetization-mode=1
 * first) to the front of each m=video line, so both ends send H.264
 * when the far end has it. Other codecs stay, in their order.
 */
export function preferH264(sdp) {
	const lines = String(sdp).split('\r\n');
	const out = [];
	let video = -1;
	const rank = new Map();     // pt -> rank (lower first)
	const flush = () => {
		if (video < 0)
			return;
		const m = out[video].split(' ');
		const pts = m.slice(3);
		const first = pts.filter((p) => rank.has(p))
			.sort((a, b) => rank.get(a) - rank.get(b));
		out[video] = [...m.slice(0, 3), ...first,
			...pts.filter((p) => !rank.has(p))].join(' ');
		video = -1;
		rank.clear();
	};
	const h264 = new Set();
	for (const l of lines) {
		if (l.startsWith('m=')) {
			flush();
			if (l.startsWith('m=video'))
				video = out.length;
			h264.clear();
		}
		let x = /^a=rtpmap:(\d+) H264\/90000/i.exec(l);
		if (x && video >= 0)
			h264.add(x[1]);
		x = /^a=fmtp:(\d+) (.*)$/.exec(l);
		if (x && video >= 0 && h264.has(x[1])) {
			const f = x[2];
			const pm1 = /packetization-mode=1/.test(f);
			const cb = /profile-level-id=42e0/i.test(f);
			rank.set(x[1], (pm1 ? 0 : 2) + (cb ? 0 : 1));
		}
		out.push(l);
	}
	flush();
	return out.join('\r\n');
}

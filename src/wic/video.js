// Video in a call: counters from getStats() for tests and the page's
// own check (frames decoded and sent, the codec), whether an SDP offer
// has a video m-line that is not refused (port 0), and the constraints
// the camera is opened with.

/** Video counters of `pc`: { inbound: {...}, outbound: {...} } */
export async function videoStats(pc) {
	const out = {
		at: Date.now(),
		inbound: { packets: 0, framesDecoded: 0, frameWidth: null,
			frameHeight: null, pliSent: 0, firSent: 0, nackSent: 0,
			codec: null },
		outbound: { packets: 0, framesSent: 0, framesEncoded: 0,
			pliReceived: 0, firReceived: 0, nackReceived: 0, codec: null },
	};
	if (!pc || pc.connectionState === 'closed')
		return out;
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

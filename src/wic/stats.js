// Audio counters of a call from RTCPeerConnection.getStats(): what the
// page sends and receives, and how much sound there is in each direction
// (totalAudioEnergy: inbound-rtp for what is heard, media-source for the
// microphone), so a test can tell real audio from silence.

/** A stats snapshot; every field is there (zeros/null without a call) */
export async function audioStats(pc) {
	const out = {
		at: Date.now(),
		inbound: { packets: 0, bytes: 0, lost: 0, jitter: null,
			audioLevel: null, energy: 0, samplesDuration: 0, codec: null },
		outbound: { packets: 0, bytes: 0, audioLevel: null, energy: 0,
			samplesDuration: 0, codec: null },
		transport: null,
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
		return c ? `${c.mimeType}/${c.clockRate}` : null;
	};
	report.forEach((s) => {
		if (s.kind !== 'audio' && s.type !== 'transport')
			return;
		if (s.type === 'inbound-rtp') {
			const i = out.inbound;
			i.packets += s.packetsReceived ?? 0;
			i.bytes += s.bytesReceived ?? 0;
			i.lost += s.packetsLost ?? 0;
			i.jitter = s.jitter ?? i.jitter;
			i.audioLevel = s.audioLevel ?? i.audioLevel;
			i.energy += s.totalAudioEnergy ?? 0;
			i.samplesDuration += s.totalSamplesDuration ?? 0;
			i.codec = codec(s.codecId) ?? i.codec;
		} else if (s.type === 'outbound-rtp') {
			const o = out.outbound;
			o.packets += s.packetsSent ?? 0;
			o.bytes += s.bytesSent ?? 0;
			o.codec = codec(s.codecId) ?? o.codec;
		} else if (s.type === 'media-source') {
			const o = out.outbound;
			o.audioLevel = s.audioLevel ?? o.audioLevel;
			o.energy += s.totalAudioEnergy ?? 0;
			o.samplesDuration += s.totalSamplesDuration ?? 0;
		} else if (s.type === 'transport' && !out.transport) {
			out.transport = { dtlsState: s.dtlsState ?? null,
				iceState: s.iceState ?? null,
				srtpCipher: s.srtpCipher ?? null };
		}
	});
	return out;
}

// imsedge test WIC: a minimal WebRTC IMS client on JsSIP, driven by the
// browser tests through window.wic (and usable by hand through the page).
//
// Settings from the URL query:
//   wss         wss://HOST:PORT of imsedge's W2 listener (required)
//   user        IMPU user part or full URI (alice or sip:alice@ims.test)
//   password    Digest password
//   impi        Authorization username (default user@domain)
//   domain      home domain when `user` is a bare name (default ims.test)
//   bundle      max-bundle (default) | balanced
//   autoanswer  1: answer incoming calls at once
//   dtls        test only: passive = answer with a=setup:passive (the
//               browser becomes the DTLS server); default leaves Chromium's
//               choice (active) alone
//   debug       1: JsSIP debug output on the console
//   dcmap       ID: with dc=1, a channel "sdp" agreed in SDP (a=dcmap)
//   tone        HZ: the call's microphone is a sine tone at HZ (WebAudio
//               oscillator) instead of the fake capture device's beeps
//   dc          1: an outgoing call offers a data channel "chat" (the
//               AGW's data-channel endpoint); dcOpen/dcSend/dcClose/
//               dcState/dcInfo drive channels on the call's connection,
//               dcGot(label) is what one received; channels the far end
//               opens (a relayed data channel's peer) are kept too
//
// window.wic: register(), unregister(), call(target), answer(), hangup(),
// hold(), unhold(), message(target, body), connect(), state(), stats(), sdp(),
// closeSocket(), listen(ms, freqs) (the strongest frequency of the call's
// received audio, AnalyserNode, and the level at each of freqs), dtmf(tones,
// ms) (RFC 4733 through the audio sender), dropCodecs(names) (the page's
// SDP offers leave those codecs out, as a browser without them would),
// log (events), sip (every SIP message in and out).
// call() takes sip:/sips:/tel: URIs, a service URN (urn:service:sos, sent
// as the Request-URI as it is), or a user (sip:user@domain).

import JsSIP from 'jssip';

const q = new URLSearchParams(location.search);
const DOMAIN = q.get('domain') || 'ims.test';
const USER = q.get('user') || '';
const AOR = USER.startsWith('sip:') || USER.startsWith('sips:') ?
	USER : `sip:${USER}@${DOMAIN}`;
const IMPI = q.get('impi') || AOR.replace(/^sips?:/, '');
const WSS = q.get('wss') || '';
const BUNDLE = q.get('bundle') === 'balanced' ? 'balanced' : 'max-bundle';
const AUTOANSWER = q.get('autoanswer') === '1';
const DTLS = q.get('dtls') || 'auto';
const DC = q.get('dc') === '1';
// dcmap=ID: also a channel "sdp" agreed in SDP (negotiated, stream ID),
// announced by an a=dcmap line added to the offer (RFC 8864)
const DCMAP = q.get('dcmap');

const PC_CONFIG = { bundlePolicy: BUNDLE, rtcpMuxPolicy: 'require',
	iceServers: [] };
const MEDIA = { audio: true, video: false };
const TONE = Number(q.get('tone')) || 0;

if (q.get('debug') === '1')
	JsSIP.debug.enable('JsSIP:*');
else
	JsSIP.debug.disable('JsSIP:*');

const t0 = performance.now();
const st = {
	ws: 'disconnected',
	registration: 'unregistered',
	call: 'idle',
	direction: null,
	status: null,
	reason: null,
	cause: null,
	regStatus: null,
	regCause: null,
	hold: { local: false, remote: false },
	calls: 0,
	ended: null,
};
const log = [];
const sip = [];
let ua = null;
let session = null;
let pc = null;

const $ = (id) => document.getElementById(id);

function ev(name, data = {}) {
	const e = { t: Math.round(performance.now() - t0), ev: name, ...data };
	log.push(e);
	const extra = Object.entries(data).map(([k, v]) =>
		`${k}=${typeof v === 'object' ? JSON.stringify(v) : v}`).join(' ');
	console.log(`[wic] ${name} ${extra}`);
	const pre = $('log');
	if (pre) {
		pre.textContent += `${String(e.t).padStart(6)} ms  ${name} ${
			extra}\n`;
		pre.scrollTop = pre.scrollHeight;
	}
	render();
}

function render() {
	const set = (id, text, state) => {
		const el = $(id);
		if (!el)
			return;
		el.textContent = text;
		if (state !== undefined)
			el.dataset.state = state;
	};
	set('identity', `${AOR} (IMPI ${IMPI})`);
	set('wss', WSS || '(no wss= in the URL)');
	set('ws-state', st.ws, st.ws);
	set('reg-state', st.registration + (st.regStatus ?
		` (${st.regStatus})` : ''), st.registration);
	const hold = st.hold.local ? ', on hold' : st.hold.remote ?
		', held by peer' : '';
	set('call-state', `${st.call}${st.direction ? ` (${st.direction})` :
		''}${hold}`, st.call);
	set('last-status', st.status ? `${st.status} ${st.reason ?? ''}${
		st.cause ? ` - ${st.cause}` : ''}` : st.cause ?? '-');
}

/* ---- SIP trace: every message through the WebSocket ------------------ */

/**
 * JsSIP's grammar has no URN URIs (RFC 5031): a response with
 * `To: <urn:service:sos>` fails to parse and is dropped. For JsSIP only
 * (the trace keeps the original), <urn:X> in the headers becomes
 * <sip:X@urn.invalid>; null when there is none
 */
function urnShim(text) {
	const i = text.indexOf('\r\n\r\n');
	const head = i >= 0 ? text.slice(0, i) : text;
	if (!/<urn:/i.test(head))
		return null;
	return { data: head.replace(/<urn:([^>]*)>/gi, (m, u) =>
		`<sip:${u.replace(/[^A-Za-z0-9.-]/g, '.')}@urn.invalid>`) +
		(i >= 0 ? text.slice(i) : '') };
}

class TracedSocket extends JsSIP.WebSocketInterface {
	send(message) {
		const text = String(message);
		sip.push({ t: Math.round(performance.now() - t0), dir: 'out',
			text });
		console.log(`[wic] sip out: ${text.split('\r\n', 1)[0]}`);
		return super.send(message);
	}

	_onMessage(e) {
		const text = typeof e.data === 'string' ? e.data :
			new TextDecoder().decode(e.data);
		sip.push({ t: Math.round(performance.now() - t0), dir: 'in',
			text });
		console.log(`[wic] sip in: ${text.split('\r\n', 1)[0]}`);
		super._onMessage(urnShim(text) ?? e);
	}

	/** Close the WebSocket (a close frame, as a tab closing does) */
	closeNow(code = 1000) {
		if (this._ws)
			this._ws.close(code);
	}
}

let socket = null;

function uaStart() {
	if (ua)
		return ua;
	if (!WSS)
		throw new Error('no wss= in the page URL');
	socket = new TracedSocket(WSS);
	ua = new JsSIP.UA({
		sockets: [socket],
		uri: AOR,
		password: q.get('password') || undefined,
		authorization_user: IMPI,
		register: false,
		register_expires: 600,
		session_timers: false,
		// A closed WebSocket stays closed long enough for a test to see
		// what the edge does about it
		connection_recovery_min_interval: 30,
		connection_recovery_max_interval: 60,
		user_agent: 'imsedge-test-wic JsSIP/' + JsSIP.version,
	});
	ua.on('connecting', () => { st.ws = 'connecting'; ev('ws-connecting'); });
	ua.on('connected', () => { st.ws = 'connected'; ev('ws-connected'); });
	ua.on('disconnected', (e) => {
		st.ws = 'disconnected';
		ev('ws-disconnected', { error: !!e?.error,
			code: e?.code ?? null });
		if (st.registration === 'registering') {
			st.registration = 'failed';
			st.regCause = 'WebSocket closed';
			regDone();
		}
	});
	ua.on('registered', (e) => {
		st.registration = 'registered';
		st.regStatus = e.response?.status_code ?? null;
		st.regCause = null;
		ev('registered', { status: st.regStatus,
			pau: e.response?.getHeader('P-Associated-URI') ?? null });
		regDone();
	});
	ua.on('unregistered', (e) => {
		st.registration = 'unregistered';
		st.regStatus = e?.response?.status_code ?? null;
		ev('unregistered', { status: st.regStatus,
			cause: e?.cause ?? null });
		regDone();
	});
	ua.on('registrationFailed', (e) => {
		st.registration = 'failed';
		st.regStatus = e.response?.status_code ?? null;
		st.regCause = e.cause;
		ev('registration-failed', { status: st.regStatus,
			cause: e.cause });
		regDone();
	});
	ua.on('newRTCSession', onNewSession);
	ua.on('newMessage', (e) => {
		if (e.originator !== 'remote')
			return;
		ev('message', { from: e.request.from.uri.toString(),
			body: e.request.body });
	});
	ua.start();
	return ua;
}

/* ---- registration ---------------------------------------------------- */

let regWaiters = [];
function regDone() {
	const w = regWaiters;
	regWaiters = [];
	for (const f of w)
		f(state());
}

function waitReg(ms) {
	return new Promise((resolve) => {
		const t = setTimeout(() => resolve(state()), ms);
		regWaiters.push((s) => { clearTimeout(t); resolve(s); });
	});
}

/** REGISTER (connecting first); resolves state() once it is decided */
function register(ms = 10000) {
	uaStart();
	st.registration = 'registering';
	st.regStatus = null;
	st.regCause = null;
	ev('register');
	const p = waitReg(ms);
	// JsSIP fails a REGISTER at once ("Connection Error") while the
	// WebSocket is still connecting: send it once connected
	if (ua.isConnected()) {
		ua.register();
	} else {
		const go = () => {
			ua.removeListener('disconnected', stop);
			if (st.registration === 'registering')
				ua.register();
		};
		const stop = () => ua.removeListener('connected', go);
		ua.once('connected', go);
		ua.once('disconnected', stop);
	}
	return p;
}

/** Open the WebSocket without registering; resolves state() */
function connect(ms = 5000) {
	uaStart();
	if (ua.isConnected())
		return Promise.resolve(state());
	return new Promise((resolve) => {
		const t = setTimeout(() => resolve(state()), ms);
		ua.once('connected', () => { clearTimeout(t); resolve(state()); });
	});
}

function unregister(ms = 5000) {
	if (!ua)
		return Promise.resolve(state());
	const p = waitReg(ms);
	ua.unregister();
	return p;
}

/* ---- calls ----------------------------------------------------------- */

function attachPc(connection) {
	pc = connection;
	ev('peerconnection', { bundlePolicy: pc.getConfiguration().bundlePolicy });
	if (DTLS === 'passive') {
		// Test only: answer a=setup:passive so the browser is the DTLS
		// server and the far end (the AGW) has to be the client
		const createAnswer = pc.createAnswer.bind(pc);
		pc.createAnswer = async (...a) => {
			const d = await createAnswer(...a);
			return { type: d.type, sdp: d.sdp.replace(
				/^a=setup:(active|actpass)\r?$/gm, 'a=setup:passive') };
		};
	}
	pc.addEventListener('track', (e) => {
		const audio = $('remote');
		if (audio && e.streams[0])
			audio.srcObject = e.streams[0];
		ev('track', { kind: e.track.kind });
	});
	// channels the far end opens (DCEP): a peer that is not the AGW
	pc.addEventListener('datachannel', (e) => {
		dcTrack(e.channel);
		ev('dc-remote', { label: e.channel.label, id: e.channel.id });
	});
	pc.addEventListener('iceconnectionstatechange', () =>
		ev('ice', { state: pc.iceConnectionState }));
	pc.addEventListener('connectionstatechange', () =>
		ev('pc', { state: pc.connectionState }));
}

function onNewSession(e) {
	const s = e.session;
	if (session && !session.isEnded()) {
		// one call at a time: refuse the second
		if (e.originator === 'remote')
			s.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
		return;
	}
	session = s;
	// an outgoing session's RTCPeerConnection exists (attachPc ran) before
	// newRTCSession; an incoming one's is made when answering
	pc = s.connection ?? null;
	st.calls++;
	st.direction = e.originator === 'local' ? 'outgoing' : 'incoming';
	st.call = e.originator === 'local' ? 'calling' : 'incoming';
	st.status = null;
	st.reason = null;
	st.cause = null;
	st.ended = null;
	st.hold = { local: false, remote: false };
	ev('session', { direction: st.direction,
		remote: s.remote_identity.uri.toString() });

	if (e.originator === 'remote')
		s.on('peerconnection', (x) => attachPc(x.peerconnection));
	s.on('progress', (x) => {
		st.call = st.direction === 'outgoing' ? 'progress' : st.call;
		if (x.response) {
			st.status = x.response.status_code;
			st.reason = x.response.reason_phrase;
		}
		ev('progress', { status: st.status });
	});
	s.on('accepted', (x) => {
		st.call = 'accepted';
		if (x.response) {
			st.status = x.response.status_code;
			st.reason = x.response.reason_phrase;
		}
		ev('accepted', { status: x.response?.status_code ?? null });
	});
	s.on('confirmed', () => {
		st.call = 'connected';
		ev('confirmed');
	});
	s.on('ended', (x) => {
		st.call = 'ended';
		st.cause = x.cause;
		st.ended = { originator: x.originator, cause: x.cause };
		ev('ended', { originator: x.originator, cause: x.cause });
	});
	s.on('failed', (x) => {
		st.call = 'failed';
		st.cause = x.cause;
		if (x.message && x.message.status_code) {
			st.status = x.message.status_code;
			st.reason = x.message.reason_phrase;
		}
		st.ended = { originator: x.originator, cause: x.cause };
		ev('failed', { originator: x.originator, cause: x.cause,
			status: x.message?.status_code ?? null });
	});
	s.on('hold', (x) => {
		st.hold[x.originator === 'local' ? 'local' : 'remote'] = true;
		ev('hold', { originator: x.originator });
	});
	s.on('unhold', (x) => {
		st.hold[x.originator === 'local' ? 'local' : 'remote'] = false;
		ev('unhold', { originator: x.originator });
	});
	s.on('reinvite', () => ev('reinvite-in'));
	s.on('sdp', (x) => {
		if (x.originator === 'local' && x.type === 'offer' && DROP.size)
			x.sdp = dropCodecs(x.sdp);
		ev('sdp', { originator: x.originator, type: x.type });
	});
	s.on('peerconnection:setremotedescriptionfailed', (err) =>
		ev('setremotedescription-failed', { error: String(err) }));
	s.on('peerconnection:createanswerfailed', (err) =>
		ev('createanswer-failed', { error: String(err) }));
	s.on('getusermediafailed', (err) =>
		ev('getusermedia-failed', { error: String(err) }));

	if (e.originator === 'remote' && AUTOANSWER)
		setTimeout(() => answer(), 0);
}

function call(target) {
	uaStart();
	if (session && !session.isEnded())
		throw new Error('a call is already up');
	let uri = null;
	if (/^urn:/i.test(target))
		// JsSIP only parses SIP URIs: a URI object prints as urn:<host>
		uri = new JsSIP.URI('urn', null, target.slice(4));
	else if (!/^(sips?|tel):/.test(target))
		target = `sip:${target}${target.includes('@') ? '' : `@${DOMAIN}`}`;
	ev('call', { target });
	ua.call(uri ?? target, {
		mediaConstraints: MEDIA, mediaStream: toneStream(),
		pcConfig: PC_CONFIG,
		eventHandlers: {
			peerconnection: (x) => {
				attachPc(x.peerconnection);
				if (DC)
					dcOpen('chat');
				if (DC && DCMAP)
					dcOpen('sdp', '', Number(DCMAP));
			},
			sdp: (x) => {
				if (DC && DCMAP && x.originator === 'local')
					x.sdp = x.sdp.replace(/(a=sctp-port:\d+\r\n)/,
						`$1a=dcmap:${DCMAP} label="sdp"\r\n`);
			},
		},
	});
	return state();
}

function answer() {
	if (!session || session.direction !== 'incoming' ||
		!session.isInProgress())
		throw new Error('no incoming call to answer');
	st.call = 'answering';
	ev('answer');
	session.answer({ mediaConstraints: MEDIA, mediaStream: toneStream(),
		pcConfig: PC_CONFIG });
	return state();
}

function hangup() {
	if (session && !session.isEnded()) {
		ev('hangup');
		session.terminate();
	}
	return state();
}

function hold() {
	if (!session)
		throw new Error('no call');
	ev('hold-request');
	return session.hold({ useUpdate: false }) !== false;
}

function unhold() {
	if (!session)
		throw new Error('no call');
	ev('unhold-request');
	return session.unhold({ useUpdate: false }) !== false;
}

/** A MESSAGE; resolves { status } of the final response (0: none) */
function message(target, body = 'hello', ms = 5000) {
	uaStart();
	ev('message-send', { target });
	return new Promise((resolve) => {
		const t = setTimeout(() => resolve({ status: 0 }), ms);
		const done = (e) => {
			clearTimeout(t);
			resolve({ status: e.response?.status_code ?? 0,
				cause: e.cause ?? null });
		};
		ua.sendMessage(target, body, { eventHandlers: {
			succeeded: done, failed: done } });
	});
}

/** Close the WebSocket to imsedge (a close frame), keeping the call's
 *  media as it is */
/* Close the call's RTCPeerConnection (DTLS close_notify) without a BYE */
function closeMedia() {
	ev('close-media');
	session?.connection?.close();
}

function closeSocket(code = 1000) {
	ev('close-socket', { code });
	socket?.closeNow(code);
}

function state() {
	return {
		aor: AOR, impi: IMPI, bundle: BUNDLE, dtls: DTLS,
		ws: st.ws,
		registration: st.registration,
		regStatus: st.regStatus,
		regCause: st.regCause,
		call: st.call,
		direction: st.direction,
		status: st.status,
		reason: st.reason,
		cause: st.cause,
		ended: st.ended,
		hold: { ...st.hold },
		calls: st.calls,
		pc: pc ? { connection: pc.connectionState,
			ice: pc.iceConnectionState,
			signaling: pc.signalingState } : null,
	};
}

/** Audio RTP counters and the transport, from getStats() */
async function stats() {
	const out = { at: Math.round(performance.now() - t0),
		inbound: null, outbound: null, transport: null, pair: null };
	if (!pc)
		return out;
	const r = await pc.getStats();
	const byId = new Map();
	r.forEach((s) => byId.set(s.id, s));
	r.forEach((s) => {
		if (s.type === 'inbound-rtp' && s.kind === 'audio')
			out.inbound = { packetsReceived: s.packetsReceived ?? 0,
				bytesReceived: s.bytesReceived ?? 0,
				packetsLost: s.packetsLost ?? 0, jitter: s.jitter,
				totalAudioEnergy: s.totalAudioEnergy ?? 0,
				ssrc: s.ssrc, codec: byId.get(s.codecId)?.mimeType };
		else if (s.type === 'outbound-rtp' && s.kind === 'audio')
			out.outbound = { packetsSent: s.packetsSent ?? 0,
				bytesSent: s.bytesSent ?? 0, ssrc: s.ssrc,
				codec: byId.get(s.codecId)?.mimeType };
		else if (s.type === 'media-source' && s.kind === 'audio')
			out.source = { audioLevel: s.audioLevel ?? 0,
				totalAudioEnergy: s.totalAudioEnergy ?? 0 };
		else if (s.type === 'transport' && !out.transport)
			out.transport = { dtlsState: s.dtlsState,
				dtlsRole: s.dtlsRole, iceState: s.iceState,
				iceRole: s.iceRole, srtpCipher: s.srtpCipher,
				tlsVersion: s.tlsVersion,
				selectedCandidatePairId: s.selectedCandidatePairId };
	});
	const pair = out.transport &&
		byId.get(out.transport.selectedCandidatePairId);
	if (pair) {
		const l = byId.get(pair.localCandidateId);
		const rc = byId.get(pair.remoteCandidateId);
		out.pair = { state: pair.state, nominated: pair.nominated,
			requestsSent: pair.requestsSent,
			responsesReceived: pair.responsesReceived,
			requestsReceived: pair.requestsReceived,
			consentRequestsSent: pair.consentRequestsSent,
			local: l && `${l.address}:${l.port}/${l.protocol}`,
			remote: rc && `${rc.address}:${rc.port}/${rc.protocol}` };
	}
	return out;
}

/* ---- data channels (dc=1) ------------------------------------------- */

const channels = new Map();

/** Open a channel (DCEP) on the call's connection; label must be new */
function dcOpen(label, protocol = '', id = null) {
	if (!pc)
		throw new Error('no call');
	const ch = pc.createDataChannel(label, id === null ? { protocol } :
		{ protocol, negotiated: true, id });
	return dcTrack(ch);
}

/** Keep a channel (ours, or one the far end opened) by its label */
function dcTrack(ch) {
	const label = ch.label;
	ch.binaryType = 'arraybuffer';
	ch.got = [];
	ch.addEventListener('open', () => ev('dc-open', { label, id: ch.id }));
	ch.addEventListener('close', () => ev('dc-close', { label }));
	ch.addEventListener('error', (e) => ev('dc-error', { label,
		error: String(e.error?.message ?? e) }));
	ch.addEventListener('message', (e) => ch.got.push(e.data));
	channels.set(label, ch);
	return ch.readyState;
}

/** What a channel received: strings as they are, binary as hex */
function dcGot(label) {
	return (channels.get(label)?.got ?? []).map((d) => typeof d ===
		'string' ? d : { hex: [...new Uint8Array(d)].map((b) =>
			b.toString(16).padStart(2, '0')).join('') });
}

/** Add a channel by a re-offer (the call had none); resolves the
 *  renegotiation's outcome */
function dcAdd(label) {
	dcOpen(label);
	return new Promise((resolve) => {
		const ok = session.renegotiate({}, () => resolve(true));
		if (!ok)
			resolve(false);
	});
}

function dcSend(label, text) {
	channels.get(label).send(text);
	return channels.get(label).bufferedAmount;
}

function dcClose(label) {
	channels.get(label).close();
	return channels.get(label).readyState;
}

/** readyState per label */
function dcState() {
	return Object.fromEntries([...channels].map(([l, c]) =>
		[l, c.readyState]));
}

/** The SCTP transport as the browser sees it */
function dcInfo() {
	return { maxMessageSize: pc?.sctp?.maxMessageSize ?? null,
		state: pc?.sctp?.state ?? null,
		dtls: pc?.sctp?.transport?.state ?? null };
}

/* ---- audio as a tone (tone=HZ) and what arrives ----------------------- */

let actx = null;

function audioContext() {
	actx ??= new AudioContext();
	return actx;
}

/** A stream with a sine at TONE Hz, or undefined (the capture device) */
function toneStream() {
	if (!TONE)
		return undefined;
	const ctx = audioContext();
	const osc = ctx.createOscillator();
	const gain = ctx.createGain();
	const dst = ctx.createMediaStreamDestination();
	osc.frequency.value = TONE;
	gain.gain.value = 0.25;
	osc.connect(gain).connect(dst);
	osc.start();
	return dst.stream;
}

/**
 * Listen to the call's received audio for ms: the strongest frequency
 * (AnalyserNode, averaged over the spectra taken) and its level in dB
 */
async function listen(ms = 1000, freqs = []) {
	const tr = pc?.getReceivers().find((r) => r.track?.kind === 'audio');
	if (!tr)
		throw new Error('no audio receiver');
	const ctx = audioContext();
	await ctx.resume();
	const src = ctx.createMediaStreamSource(new MediaStream([tr.track]));
	const an = ctx.createAnalyser();
	an.fftSize = 4096;
	an.smoothingTimeConstant = 0;
	src.connect(an);
	const bins = new Float32Array(an.frequencyBinCount);
	const sum = new Float64Array(an.frequencyBinCount);
	let n = 0;
	const end = performance.now() + ms;
	while (performance.now() < end) {
		await new Promise((r) => setTimeout(r, 50));
		an.getFloatFrequencyData(bins);
		for (let i = 0; i < bins.length; i++)
			sum[i] += 10 ** (bins[i] / 10);
		n++;
	}
	src.disconnect();
	let peak = 1;
	for (let i = 2; i < sum.length; i++)
		if (sum[i] > sum[peak])
			peak = i;
	const db = (i) => 10 * Math.log10(sum[i] / n);
	let rest = 0;
	for (let i = 1; i < sum.length; i++)
		if (Math.abs(i - peak) > 3)
			rest += sum[i] / n;
	const binHz = ctx.sampleRate / an.fftSize;
	// each frequency's level: its strongest bin within +-1 bin
	const at = freqs.map((f) => {
		const i = Math.round(f / binHz);
		return Math.max(db(i - 1), db(i), db(i + 1));
	});
	return { hz: peak * binHz, db: db(peak),
		restDb: 10 * Math.log10(rest), spectra: n, binHz, at };
}

/* RFC 4733 digits from the call's audio sender (RTCDTMFSender); resolves
   when the last has been played out (tonechange with an empty tone) */
function dtmf(tones, ms = 200, gap = 70) {
	const s = pc?.getSenders().find((x) => x.track?.kind === 'audio');
	if (!s?.dtmf?.canInsertDTMF)
		throw new Error('no DTMF sender');
	ev('dtmf', { tones, ms });
	return new Promise((resolve) => {
		s.dtmf.ontonechange = (e) => {
			if (!e.tone) {
				s.dtmf.ontonechange = null;
				resolve(true);
			}
		};
		s.dtmf.insertDTMF(tones, ms, gap);
	});
}

/** The current local and remote SDP of the call */
/* dropCodecs(['G722']): the page's offers leave those codecs out (their
   payload types and lines), as a browser without them would; [] undoes */
let DROP = new Set();
function setDrop(names) {
	DROP = new Set(names.map((n) => n.toUpperCase()));
	return [...DROP];
}

function dropCodecs(text) {
	const pts = new Set();
	for (const [, pt, name] of text.matchAll(/^a=rtpmap:(\d+) ([^/\r\n]+)/gm))
		if (DROP.has(name.toUpperCase()))
			pts.add(pt);
	return text.split('\r\n').filter((l) => {
		const a = /^a=(?:rtpmap|fmtp|rtcp-fb):(\d+) /.exec(l);
		return !(a && pts.has(a[1]));
	}).map((l) => l.startsWith('m=audio ') ? l.split(' ')
		.filter((f, i) => i < 3 || !pts.has(f)).join(' ') : l)
		.join('\r\n');
}

function sdp() {
	return { local: pc?.localDescription?.sdp ?? null,
		remote: pc?.remoteDescription?.sdp ?? null,
		localType: pc?.localDescription?.type ?? null };
}

window.wic = { register, unregister, call, answer, hangup, hold, unhold,
	message, connect, state, stats, sdp, closeSocket, closeMedia, log, sip,
	listen, dtmf, dropCodecs: setDrop, version: JsSIP.version,
	dcOpen, dcAdd, dcSend, dcClose, dcState, dcInfo, dcGot,
	config: { pcConfig: PC_CONFIG, mediaConstraints: MEDIA } };

/* ---- the page's own controls ---------------------------------------- */

function guard(f) {
	return (...a) => {
		try {
			const r = f(...a);
			if (r && typeof r.catch === 'function')
				r.catch((e) => ev('error', { error: e.message }));
		} catch (e) {
			ev('error', { error: e.message });
		}
	};
}

function wire() {
	$('btn-register')?.addEventListener('click', guard(() => register()));
	$('dial')?.addEventListener('submit', (e) => {
		e.preventDefault();
		guard(() => call($('target').value.trim()))();
	});
	$('btn-answer')?.addEventListener('click', guard(answer));
	$('btn-hangup')?.addEventListener('click', guard(hangup));
	$('btn-hold')?.addEventListener('click', guard(hold));
	$('btn-unhold')?.addEventListener('click', guard(unhold));
	setInterval(async () => {
		if (!pc || !session || session.isEnded())
			return;
		const s = await stats().catch(() => null);
		const el = $('media');
		if (el && s)
			el.textContent = `rx ${s.inbound?.packetsReceived ?? 0} pkts / ${
				s.inbound?.bytesReceived ?? 0} B, tx ${
				s.outbound?.packetsSent ?? 0} pkts; DTLS ${
				s.transport?.dtlsState ?? '-'} (${
				s.transport?.dtlsRole ?? '-'}), ICE ${
				s.transport?.iceState ?? '-'}`;
	}, 1000);
	render();
	ev('ready', { aor: AOR, bundle: BUNDLE, autoanswer: AUTOANSWER,
		jssip: JsSIP.version });
}

if (document.readyState === 'loading')
	document.addEventListener('DOMContentLoaded', wire);
else
	wire();

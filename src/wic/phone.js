// The SIP side of the page: one JsSIP UA registered to imsedge's eP-CSCF
// over wss with `Authorization: Bearer <token>`, one call at a time.
//
// Phone keeps a plain state object and calls onChange(state) after every
// change; app.js renders it. Registration states: connecting, registered,
// failed, unregistered. Call states: idle, calling, ringing, incoming,
// connecting, in-call, on-hold, ended.

import JsSIP from 'jssip';
import { audioStats } from './stats.js';
import { rttOf, rttRemote, rttSid, withDcmap } from './rtt.js';
import { videoStats, offersVideo, preferH264 } from './video.js';
import { displayUri, domainOf } from './address.js';
import * as tones from './tones.js';
import { MsrpChat, MSRP_SID } from './msrp.js';

JsSIP.debug.disable('JsSIP:*');

const PC_CONFIG = { bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require',
	iceServers: [] };
const AUDIO_ONLY = { audio: true, video: false };
const AUDIO_VIDEO = { audio: true, video: true };
// after a failed REGISTER (503, timeout...) try again after this long
const REGISTER_RETRY_S = 30;
const TRACE_MAX = 200;
// no RTP from the far end for this long ends a call (RFC 7675's consent
// timeout); site.json `mediaTimeout` changes it
export const MEDIA_TIMEOUT_S = 30;

/** A transceiver whose m-line is gone (stop(), or port 0) */
function stopped(tr) {
	return tr.stopped || tr.currentDirection === 'stopped' ||
		tr.direction === 'stopped';
}

function stopStream(stream) {
	for (const t of stream?.getTracks() ?? [])
		t.stop();
}

/**
 * JsSIP's grammar has no tel: or urn: URIs: a message with
 * `From: <tel:+4930...>` would be dropped. For JsSIP only, those become
 * <sip:X@tel.invalid;user=phone> and <sip:X@urn.invalid> (displayUri()
 * shows them as they were). Returns the rewritten text or null.
 */
export function uriShim(text) {
	const i = text.indexOf('\r\n\r\n');
	const head = i >= 0 ? text.slice(0, i) : text;
	if (!/(<|:\s*)(tel|urn):/i.test(head))
		return null;
	const clean = (u) => u.replace(/[^A-Za-z0-9+.*#-]/g, '.')
		.replace(/#/g, '%23');
	const map = (scheme, u) => scheme.toLowerCase() === 'tel' ?
		`sip:${clean(u)}@tel.invalid;user=phone` :
		`sip:${clean(u)}@urn.invalid`;
	let out = head.replace(/<(tel|urn):([^>;]*)(;[^>]*)?>/gi,
		(m, s, u) => `<${map(s, u)}>`);
	// name-addr without <>: From: tel:+49...;tag=x
	out = out.replace(/^((?:From|f|To|t|P-Asserted-Identity)\s*:\s*)(tel|urn):([^;,\s]*)/gim,
		(m, h, s, u) => `${h}<${map(s, u)}>`);
	return out === head ? null : out + (i >= 0 ? text.slice(i) : '');
}

/** A SIP message with the bearer token blanked, for the trace */
function redact(text) {
	return text.replace(/^(Authorization\s*:\s*Bearer\s+)\S+/gim,
		'$1<redacted>');
}

/** Plain words for how a call ended; { kind, text } */
export function callEndText({ originator, cause, status, reason,
	direction }) {
	const C = JsSIP.C.causes;
	const code = status ?? 0;
	if (cause === C.USER_DENIED_MEDIA_ACCESS || cause === 'media-denied')
		return { kind: 'microphone',
			text: 'No access to the microphone' };
	if (originator === 'remote' || code >= 300) {
		if (code === 486 || code === 600)
			return { kind: 'busy', text: 'The other party is busy' };
		if (code === 404 || code === 604)
			return { kind: 'not-found',
				text: 'Number or address not found' };
		if (code === 480 || code === 410)
			return { kind: 'unavailable',
				text: 'The other party is not available' };
		if (code === 408)
			return { kind: 'no-answer', text: 'No answer' };
		if (code === 488 || code === 606)
			return { kind: 'incompatible',
				text: 'The call could not be connected: the other ' +
					'phone does not support this call\'s audio format' };
		if (code === 484)
			return { kind: 'incomplete',
				text: 'The number or address is incomplete' };
		if (code === 603)
			return { kind: 'declined', text: 'The call was declined' };
		if (code === 403)
			return { kind: 'forbidden', text: 'This call is not allowed' };
		if (code === 487 && direction === 'outgoing')
			return { kind: 'canceled', text: 'Call canceled' };
		if (code === 503 || code === 502 || code === 504 || code === 500)
			return { kind: 'unreachable',
				text: 'The phone service is unreachable' };
		if (code >= 300)
			return { kind: 'failed', text: `The call failed (${code}${
				reason ? ` ${reason}` : ''})` };
	}
	switch (cause) {
	case C.CANCELED:
		return direction === 'incoming' ?
			{ kind: 'missed', text: 'Missed call' } :
			{ kind: 'canceled', text: 'Call canceled' };
	case C.REJECTED:
		return originator === 'local' ?
			{ kind: 'declined', text: 'You declined the call' } :
			{ kind: 'declined', text: 'The call was declined' };
	case C.NO_ANSWER:
	case C.EXPIRES:
		return { kind: 'no-answer', text: 'No answer' };
	case C.BYE:
		return originator === 'local' ?
			{ kind: 'normal', text: 'You hung up' } :
			{ kind: 'normal', text: 'The other party hung up' };
	case C.CONNECTION_ERROR:
	case C.REQUEST_TIMEOUT:
		return { kind: 'unreachable',
			text: 'Connection to the phone service lost' };
	case C.RTP_TIMEOUT:
		return { kind: 'media', text: 'The call dropped (no audio)' };
	case C.BAD_MEDIA_DESCRIPTION:
	case C.INCOMPATIBLE_SDP:
	case C.WEBRTC_ERROR:
	case C.MISSING_SDP:
		return { kind: 'incompatible',
			text: 'The call could not be connected (audio set-up failed)' };
	case C.ADDRESS_INCOMPLETE:
		return { kind: 'incomplete',
			text: 'The number or address is incomplete' };
	default:
		return { kind: 'failed', text: cause ? `The call failed (${cause})` :
			'The call ended' };
	}
}

/** What a getUserMedia error means for the user */
export function micErrorText(err) {
	switch (err?.name) {
	case 'NotAllowedError':
	case 'SecurityError':
		return 'The browser does not allow this page to use the ' +
			'microphone. Click the lock or settings icon next to the ' +
			'address bar, allow the microphone for this site, then try ' +
			'again.';
	case 'NotFoundError':
	case 'OverconstrainedError':
		return 'No microphone was found. Connect one and try again.';
	case 'NotReadableError':
	case 'AbortError':
		return 'The microphone is in use by another application or ' +
			'could not be started. Close the other application and ' +
			'try again.';
	default:
		return `The microphone could not be opened (${err?.name ??
			'unknown error'}).`;
	}
}

class TracedSocket extends JsSIP.WebSocketInterface {
	constructor(url, trace) {
		super(url);
		this._trace = trace;
	}

	send(message) {
		this._trace('out', String(message));
		return super.send(message);
	}

	_onMessage(e) {
		const text = typeof e.data === 'string' ? e.data :
			new TextDecoder().decode(e.data);
		this._trace('in', text);
		const shim = uriShim(text);
		super._onMessage(shim === null ? e : { data: shim });
	}
}

export class Phone {
	/**
	 * @param {object} o
	 * @param {string} o.w2Url     wss://... of imsedge's eP-CSCF
	 * @param {string[]} o.impu    public identities; the first SIP one is used
	 * @param {string} o.token     the bearer token (without "Bearer ")
	 * @param {function} o.onChange   (state) after every change
	 * @param {function} o.onExpired  the edge refused the token (401/403)
	 * @param {HTMLAudioElement} o.audio  where the far end is played
	 * @param {function} o.onCall  ('new' | 'ended', session, info)
	 * @param {function} o.onMessage  ({ peer, peerName, text }) received
	 * @param {number} o.mediaTimeout  s without RTP in that end a call
	 * @param {object} o.video  { remote, local }: <video> elements
	 * @param {boolean} o.chat  outgoing calls offer an MSRP chat over a
	 *                          data channel (RFC 8873; see msrp.js)
	 */
	constructor({ w2Url, impu, impi, token, onChange, onExpired, audio,
		onCall, onMessage, mediaTimeout = MEDIA_TIMEOUT_S, video,
		chat = false }) {
		this.chatOn = chat;
		this.impu = impu.find((u) => /^sips?:/i.test(u)) ?? impu[0];
		this.domain = domainOf(this.impu);
		this.impi = impi;
		this.w2Url = w2Url;
		this.onChange = onChange;
		this.onExpired = onExpired;
		this.onCall = onCall;
		this.onMessage = onMessage;
		this.audio = audio;
		this.videoEls = video ?? null;   // { remote, local } <video>s
		this.trace = [];
		this.st = {
			registration: 'connecting',
			regStatus: null,
			regReason: null,
			regError: null,
			regText: 'Connecting…',
			ws: 'disconnected',
			call: 'idle',
			direction: null,
			peer: null,
			peerName: null,
			hold: { local: false, remote: false },
			muted: false,
			startedAt: null,
			endedAt: null,
			end: null,
			calls: 0,
			held: null,        // { peer, peerName } of the call on hold
			waiting: null,     // { peer, peerName } of a call waiting
			notice: null,      // { kind, text }: reconnected, call-ended
			video: { local: false, remote: false },
			chat: 'off',       // off, connecting, open, closed
			chatLog: [],       // { dir: 'in' | 'out', text } this call
		};
		this.session = null;
		this.held = null;
		this.waiting = null;
		this.infos = new WeakMap();
		this.pc = null;
		this.mediaTimeout = mediaTimeout;
		this.watchTimer = null;
		this.lostAt = null;
		this.stopping = false;
		this.starting = false;     // waiting for the microphone
		this.retryTimer = null;
		this.reregister = false;
		this._token = token;
	}

	/* ---- registration ------------------------------------------------ */

	start() {
		const socket = new TracedSocket(this.w2Url, (dir, text) =>
			this._traceMsg(dir, text));
		const ua = new JsSIP.UA({
			sockets: [socket],
			uri: this.impu,
			authorization_jwt: `Bearer ${this._token}`,
			authorization_user: this.impi || undefined,
			register: true,
			register_expires: 600,
			session_timers: false,
			no_answer_timeout: 90,
			connection_recovery_min_interval: 2,
			connection_recovery_max_interval: 30,
			user_agent: `imsedge-wic JsSIP/${JsSIP.version}`,
		});
		this.ua = ua;
		ua.on('connecting', () => {
			this.st.ws = 'connecting';
			if (this.st.registration !== 'registered' &&
				this.st.registration !== 'failed')
				this._reg('connecting', 'Connecting…');
			else
				this._changed();
		});
		ua.on('connected', () => {
			this.st.ws = 'connected';
			if (this.st.registration !== 'registered')
				this._reg('connecting', 'Registering…');
		});
		ua.on('disconnected', (e) => {
			this.st.ws = 'disconnected';
			if (this.stopping)
				return this._changed();
			this.lostAt ??= Date.now();
			this._lineLost();
			this._reg('failed', 'The phone service is unreachable. ' +
				'Trying again…', { error: 'unreachable',
				reason: e?.error ? 'WebSocket error' : 'WebSocket closed' });
		});
		ua.on('registered', (e) => {
			clearTimeout(this.retryTimer);
			if (this.lostAt) {
				this.lostAt = null;
				this.st.notice = { kind: 'reconnected', text: 'The ' +
					'connection came back: registered again.' };
			}
			this._reg('registered', 'Registered', {
				status: e.response?.status_code ?? null });
			if (this.reregister) {
				this.reregister = false;
				ua.register();
			}
		});
		ua.on('unregistered', (e) => {
			if (this.stopping || this.st.ws !== 'connected')
				return this._reg('unregistered', 'Not registered', {
					status: e?.response?.status_code ?? null });
			this._reg('unregistered', 'Not registered', {
				status: e?.response?.status_code ?? null,
				reason: e?.cause ?? null });
		});
		ua.on('registrationFailed', (e) => this._regFailed(e));
		ua.on('newRTCSession', (e) => this._newSession(e));
		ua.on('newMessage', (e) => this._newMessage(e));
		ua.start();
	}

	_regFailed(e) {
		const status = e.response?.status_code ?? null;
		const reason = e.response?.reason_phrase ?? e.cause ?? null;
		this.reregister = false;
		if (this.stopping)
			return;
		if (status === 401 || status === 403) {
			this._reg('failed', 'Your session has expired', {
				status, reason, error: 'expired' });
			this.onExpired?.('register', status);
			return;
		}
		const C = JsSIP.C.causes;
		const unreachable = status === 503 || status === 408 ||
			status === 480 || status === 504 || status === 502 ||
			(!status && (e.cause === C.CONNECTION_ERROR ||
				e.cause === C.REQUEST_TIMEOUT));
		if (unreachable)
			this._reg('failed', 'The phone service is unreachable. ' +
				'Trying again…', { status, reason, error: 'unreachable' });
		else
			this._reg('failed', `Registration failed${status ?
				` (${status} ${reason ?? ''})`.replace(/ \)$/, ')') :
				reason ? ` (${reason})` : ''}`, { status, reason,
				error: 'rejected' });
		clearTimeout(this.retryTimer);
		this.retryTimer = setTimeout(() => {
			if (!this.stopping && this.ua?.isConnected() &&
				!this.ua.isRegistered())
				this.ua.register();
		}, REGISTER_RETRY_S * 1000);
	}

	_reg(state, text, { status = null, reason = null, error = null } = {}) {
		Object.assign(this.st, { registration: state, regText: text,
			regStatus: status, regReason: reason, regError: error });
		this._changed();
	}

	/** A new token: used from the next request on, and REGISTER again
	 *  so the registration lasts as long as the token does */
	setToken(token) {
		this._token = token;
		this.ua?.set('authorization_jwt', `Bearer ${token}`);
		if (!this.ua?.isConnected())
			return;
		// a REGISTER in flight makes JsSIP ignore register(): redo after it
		if (this.ua._registrator?._registering)
			this.reregister = true;
		else
			this.ua.register();
	}

	/** Unregister (waiting at most `ms`), hang up, close the WebSocket */
	async stop(ms = 3000) {
		if (this.stopping || !this.ua)
			return;
		this.stopping = true;
		clearTimeout(this.retryTimer);
		tones.stopAll();
		const ua = this.ua;
		if (this.session && !this.session.isEnded()) {
			try {
				this.session.terminate();
			} catch { /* already gone */ }
		}
		if (ua.isRegistered() && ua.isConnected()) {
			await new Promise((resolve) => {
				const t = setTimeout(resolve, ms);
				const done = () => {
					clearTimeout(t);
					resolve();
				};
				ua.once('unregistered', done);
				ua.unregister();
			});
		}
		for (const x of [this.waiting, this.held])
			if (x && !x.isEnded())
				try {
					x.terminate();
				} catch { /* gone */ }
		ua.stop();
		clearInterval(this.watchTimer);
		this._reg('unregistered', 'Not registered');
	}

	/* ---- calls ------------------------------------------------------- */
	//
	// this.session is the call on screen; this.held a call put on hold
	// to answer a waiting one; this.waiting a call ringing during a call.
	// Per call: this.infos (direction, peer, times, microphone stream,
	// far-end stream, peer connection, forced end reason).

	get busy() {
		return !!this.session && !this.session.isEnded();
	}

	_info(s) {
		let i = this.infos.get(s);
		if (!i) {
			i = { direction: null, peer: null, peerName: null, at: Date.now(),
				startedAt: null, stream: null, remote: null, pc: null,
				forced: null };
			this.infos.set(s, i);
		}
		return i;
	}

	/* A new microphone stream; `starting` is set while the browser asks */
	async _mic(video = false) {
		this.starting = true;
		try {
			return await navigator.mediaDevices.getUserMedia(
				{ audio: this.audioInput ?? true,
					video: video ? this.videoInput ?? true : false });
		} finally {
			this.starting = false;
		}
	}

	/**
	 * Call `uri` (a SIP URI), with video if `video`; throws a mic error
	 * ({ name }) if no microphone (or camera)
	 */
	async call(uri, { video = false } = {}) {
		if (this.busy || this.starting)
			throw new Error('A call is already in progress');
		const target = JsSIP.URI.parse(uri);
		if (!target)
			throw new Error('Not a valid address');
		Object.assign(this.st, { call: 'calling', direction: 'outgoing',
			chat: 'off', chatLog: [],
			peer: uri, peerName: displayUri(uri, this.domain),
			hold: { local: false, remote: false }, muted: false,
			startedAt: null, endedAt: null, end: null, notice: null });
		this._changed();
		let stream;
		try {
			stream = await this._mic(video);
		} catch (err) {
			this._ended({ kind: 'microphone',
				text: 'No access to the microphone',
				cause: 'media-denied', status: null, micError: err.name });
			throw err;
		}
		if (this.stopping) {
			stopStream(stream);
			return;
		}
		const s = this.ua.call(target, {
			mediaStream: stream,
			mediaConstraints: video ? AUDIO_VIDEO : AUDIO_ONLY,
			pcConfig: PC_CONFIG,
			// offerToReceiveVideo only when true: a false one would turn
			// a camera added later by re-INVITE into sendonly for good
			// (the legacy option rewrites the video transceivers)
			rtcOfferConstraints: video ? { offerToReceiveAudio: true,
				offerToReceiveVideo: true } : { offerToReceiveAudio: true },
		});
		this._info(s).stream = stream;
		this._showLocal(s);
		if (s.isEnded())
			stopStream(stream);
	}

	async answer() {
		const s = this.session;
		if (!s || s.direction !== 'incoming' || !s.isInProgress() ||
			this.starting)
			return;
		tones.ringStop();
		const video = this._offersVideo(s);
		let stream;
		try {
			stream = await this._mic(video);
		} catch (err) {
			// keep it ringing: the user may allow the microphone and
			// answer again, or decline
			tones.ringStart();
			throw err;
		}
		if (s !== this.session || s.isEnded()) {
			stopStream(stream);
			return;
		}
		this._info(s).stream = stream;
		this._showLocal(s);
		this.st.call = 'connecting';
		this._changed();
		s.answer({ mediaStream: stream, mediaConstraints: video ?
			AUDIO_VIDEO : AUDIO_ONLY, pcConfig: PC_CONFIG });
	}

	decline() {
		const s = this.session;
		if (s && s.direction === 'incoming' && s.isInProgress())
			s.terminate({ status_code: 603, reason_phrase: 'Decline' });
	}

	hangup() {
		if (this.busy)
			this.session.terminate();
	}

	/**
	 * Answer the waiting call; the call on screen is put on hold
	 * (re-INVITE, a=sendonly) or, with `endFirst`, hung up
	 */
	async answerWaiting(endFirst = false) {
		const w = this.waiting;
		if (!w || !w.isInProgress() || this.starting)
			return;
		tones.waitingStop();
		const video = this._offersVideo(w);
		let stream;
		try {
			stream = await this._mic(video);
		} catch (err) {
			tones.waitingStart();
			throw err;
		}
		if (this.waiting !== w || w.isEnded()) {
			stopStream(stream);
			return;
		}
		this.waiting = null;
		this.st.waiting = null;
		const first = this.session;
		if (first && !first.isEnded() && !endFirst) {
			if (!first.isOnHold().local)
				first.hold({ useUpdate: false });
			this.held = first;
			this.st.held = this._who(first);
		}
		this._switchTo(w);
		if (first && !first.isEnded() && endFirst)
			first.terminate();
		this._info(w).stream = stream;
		this._showLocal(w);
		this.st.call = 'connecting';
		this._changed();
		w.answer({ mediaStream: stream, mediaConstraints: video ?
			AUDIO_VIDEO : AUDIO_ONLY, pcConfig: PC_CONFIG });
	}

	/** Refuse the waiting call (486 Busy Here: the caller hears busy) */
	declineWaiting() {
		const w = this.waiting;
		if (w && w.isInProgress())
			w.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
	}

	/** Swap the call on screen with the held one */
	swap() {
		const a = this.session;
		const h = this.held;
		if (!h || h.isEnded() || !a?.isEstablished())
			return;
		if (!a.isOnHold().local)
			a.hold({ useUpdate: false });
		this.held = a;
		this.st.held = this._who(a);
		this._switchTo(h);
		if (h.isOnHold().local)
			h.unhold({ useUpdate: false });
	}

	/** Microphone `id` ('' = the default) from now on, in a call too */
	async setMic(id) {
		this.audioInput = id ? { deviceId: { exact: id } } : true;
		const s = this.session;
		const info = s && this.infos.get(s);
		const sender = this.pc?.getSenders()
			.find((x) => x.track?.kind === 'audio');
		if (!info?.stream || !sender || s.isEnded())
			return;
		const stream = await navigator.mediaDevices.getUserMedia(
			{ audio: this.audioInput, video: false });
		if (s.isEnded() || this.session !== s) {
			stopStream(stream);
			return;
		}
		const track = stream.getAudioTracks()[0];
		track.enabled = sender.track.enabled;
		await sender.replaceTrack(track);
		stopStream(info.stream);
		info.stream = stream;
	}

	/** Camera `id` ('' = the default) for video */
	setCamera(id) {
		this.videoInput = id ? { deviceId: { exact: id } } : true;
	}

	/** The microphone track being sent in the call on screen */
	get micTrack() {
		return this.pc?.getSenders()
			.find((x) => x.track?.kind === 'audio')?.track ?? null;
	}

	toggleMute() {
		const s = this.session;
		if (!this.busy || !s.isEstablished())
			return;
		if (s.isMuted().audio)
			s.unmute({ audio: true });
		else
			s.mute({ audio: true });
	}

	toggleHold() {
		const s = this.session;
		if (!this.busy || !s.isEstablished())
			return false;
		return s.isOnHold().local ? s.unhold({ useUpdate: false }) :
			s.hold({ useUpdate: false });
	}

	/** A DTMF digit in the call (RFC 4733 in the RTP, else SIP INFO) */
	dtmf(key) {
		const s = this.session;
		if (!this.busy || !s.isEstablished())
			return;
		try {
			s.sendDTMF(key, { transportType: 'RFC2833', duration: 120 });
		} catch {
			try {
				s.sendDTMF(key, { duration: 120 });
			} catch { /* no DTMF for this call */ }
		}
	}

	_offersVideo(s) {
		return offersVideo(s._request?.body);
	}

	/** The camera on or off in the call on screen, by re-INVITE */
	async toggleCamera() {
		const s = this.session;
		const pc = this.pc;
		if (!this.busy || !s.isEstablished() || !pc || this.starting)
			return;
		const info = this._info(s);
		const tr = pc.getTransceivers().find((x) => !stopped(x) &&
			(x.sender.track?.kind === 'video' ||
				x.receiver.track?.kind === 'video'));
		const sending = tr?.sender.track && tr.sender.track.readyState ===
			'live' && /send/.test(tr.direction);
		if (sending) {
			// stop sending video: a=recvonly while the far end still
			// sends; otherwise video leaves the call (downgrade to
			// audio: the m=video line goes with port 0)
			const t = tr.sender.track;
			await tr.sender.replaceTrack(null);
			t.stop();
			info.stream?.removeTrack(t);
			if (tr.currentDirection === 'sendrecv')
				tr.direction = 'recvonly';
			else
				tr.stop();
		} else {
			let cam;
			this.starting = true;
			try {
				cam = await navigator.mediaDevices.getUserMedia(
					{ video: this.videoInput ?? true });
			} finally {
				this.starting = false;
			}
			const track = cam.getVideoTracks()[0];
			if (s.isEnded()) {
				stopStream(cam);
				return;
			}
			info.stream ??= new MediaStream();
			info.stream.addTrack(track);
			if (tr) {
				await tr.sender.replaceTrack(track);
				tr.direction = 'sendrecv';
			} else {
				pc.addTrack(track, info.stream);
			}
		}
		this._showLocal(s);
		s.renegotiate({ useUpdate: false });
		this._changed();
	}

	/** The local camera in #local-video for the call on screen */
	_showLocal(s) {
		if (s !== this.session || !this.videoEls)
			return;
		const v = this._info(s).stream?.getVideoTracks()
			.filter((t) => t.readyState === 'live') ?? [];
		const el = this.videoEls.local;
		el.srcObject = v.length ? new MediaStream(v) : null;
		if (v.length)
			el.play().catch(() => {});
		this._videoState();
	}

	/** st.video from the call on screen; the far end's video shown */
	_videoState() {
		const s = this.session;
		const info = s && !s.isEnded() ? this._info(s) : null;
		const rv = info?.remoteVideo;
		const remote = !!rv?.getVideoTracks().some((t) => !t.muted &&
			t.readyState === 'live');
		const local = !!info?.stream?.getVideoTracks().some((t) =>
			t.readyState === 'live');
		if (this.videoEls) {
			const el = this.videoEls.remote;
			const want = remote ? rv : null;
			if (el.srcObject !== want) {
				el.srcObject = want;
				if (want)
					el.play().catch(() => {});
			}
			if (!local && this.videoEls.local.srcObject)
				this.videoEls.local.srcObject = null;
		}
		const v = this.st.video;
		if (v.local !== local || v.remote !== remote) {
			this.st.video = { local, remote };
			this.onChange?.(this.st);
		}
	}

	async videoStats() {
		return videoStats(this.busy ? this.pc : null);
	}

	_who(s) {
		const i = this._info(s);
		return { peer: i.peer, peerName: i.peerName };
	}

	_attachPc(s, pc) {
		const info = this._info(s);
		if (info.pc === pc)
			return;
		info.pc = pc;
		if (s === this.session)
			this.pc = pc;
		if (this.chatOn && s.direction === 'outgoing' && !info.chat)
			this._chatStart(s, pc, info);
		pc.addEventListener('track', (e) => {
			if (e.track.kind === 'video') {
				info.remoteVideo = e.streams[0] ??
					new MediaStream([e.track]);
				e.track.addEventListener('unmute', () => this._videoState());
				e.track.addEventListener('mute', () => this._videoState());
				if (s === this.session)
					this._videoState();
				return;
			}
			if (e.track.kind !== 'audio')
				return;
			info.remote = e.streams[0] ?? new MediaStream([e.track]);
			if (s !== this.session)
				return;
			this._play(info.remote);
			if (this.st.call === 'ringing')
				// early media: the far end plays its own ringback
				tones.ringbackStop();
		});
		// an offer/answer done: video may have come or gone (a far-end
		// downgrade ends the track without a mute event)
		pc.addEventListener('signalingstatechange', () => {
			if (pc.signalingState === 'stable' && s === this.session)
				this._videoState();
		});
		// ICE or DTLS failed (Chromium: consent lost for ~30 s)
		pc.addEventListener('connectionstatechange', () => {
			if (pc.connectionState === 'failed' && !s.isEnded())
				this._endWith(s, { kind: 'media', text: 'The call ' +
					'dropped: the media connection failed' });
		});
	}

	_play(stream) {
		if (this.audio.srcObject !== stream)
			this.audio.srcObject = stream;
		if (stream)
			this.audio.play().catch(() => {});
	}

	/** End `s` ourselves, showing `end` rather than "You hung up" */
	_endWith(s, end) {
		this._info(s).forced = { ...end, cause: end.kind, status: null,
			originator: 'system' };
		try {
			s.terminate();
		} catch { /* not in a state to send anything */ }
		if (!this._info(s).done)
			this._sessionEnded(s, {});
	}

	/** The WebSocket closed: no call can go on without its signalling */
	_lineLost() {
		for (const s of [this.waiting, this.held, this.session])
			if (s && !s.isEnded())
				this._endWith(s, { kind: 'unreachable',
					text: 'Connection to the phone service lost' });
	}

	_newSession(e) {
		const s = e.session;
		const remote = e.originator === 'remote';
		if (remote && (this.busy || this.starting)) {
			// a second call: it waits if there is one call up, else busy
			if (this.waiting || this.held || this.starting ||
				!this.session.isEstablished())
				s.terminate({ status_code: 486, reason_phrase: 'Busy Here' });
			else
				this._waitingCall(s);
			return;
		}
		if (this.busy && s !== this.session)
			return;
		this.st.calls++;
		const info = this._info(s);
		info.direction = remote ? 'incoming' : 'outgoing';
		if (remote) {
			const uri = s.remote_identity.uri.toString();
			const name = s.remote_identity.display_name;
			info.peer = uri;
			info.peerName = name || displayUri(uri, this.domain);
			this.session = s;
			this.pc = null;
			Object.assign(this.st, { call: 'incoming',
				direction: 'incoming', peer: uri, peerName: info.peerName,
				chat: 'off', chatLog: [],
				hold: { local: false, remote: false }, muted: false,
				startedAt: null, endedAt: null, end: null, notice: null });
			tones.ringStart();
		} else {
			info.peer = this.st.peer;
			info.peerName = this.st.peerName;
			this.session = s;
			this.pc = null;
		}
		this.onCall?.('new', s, info);
		this._wire(s);
		this._changed();
	}

	_waitingCall(s) {
		const uri = s.remote_identity.uri.toString();
		const info = this._info(s);
		info.direction = 'incoming';
		info.peer = uri;
		info.peerName = s.remote_identity.display_name ||
			displayUri(uri, this.domain);
		this.waiting = s;
		this.st.calls++;
		this.st.waiting = this._who(s);
		this.onCall?.('new', s, info);
		this._wire(s);
		tones.waitingStart();
		this._changed();
	}

	_wire(s) {
		const info = this._info(s);
		const mine = () => s === this.session;
		if (s.connection)
			this._attachPc(s, s.connection);
		s.on('peerconnection', (x) => this._attachPc(s, x.peerconnection));
		// H.264 first in what this page offers or answers (TS 26.114)
		s.on('sdp', (x) => {
			if (x.originator === 'local' && /^m=video/m.test(x.sdp))
				x.sdp = preferH264(x.sdp);
			// real-time text: the T.140 channel agreed in SDP (rtt.js)
			if (x.originator === 'remote')
				rttRemote(s, x.sdp);
			else if (rttOf(s))
				x.sdp = withDcmap(x.sdp, rttSid(s));
			if (info.chat && x.originator === 'local' && x.type === 'offer')
				x.sdp = info.chat.mungeOffer(x.sdp);
			if (info.chat && x.originator === 'remote' &&
				x.type === 'answer' && !info.chat.takeAnswer(x.sdp) &&
				mine()) {
				this.st.chat = 'off';
				this._changed();
			}
		});
		s.on('progress', (x) => {
			if (s.direction !== 'outgoing' || !mine())
				return;
			const code = x.response?.status_code;
			this.st.call = 'ringing';
			if (code === 180 && !x.response.body)
				tones.ringbackStart();
			else if (x.response?.body)
				tones.ringbackStop();
			this._changed();
		});
		s.on('accepted', () => {
			info.startedAt ??= Date.now();
			if (!mine())
				return;
			tones.ringStop();
			tones.ringbackStop();
			this.st.call = 'connecting';
			this.st.startedAt ??= info.startedAt;
			this._changed();
		});
		s.on('confirmed', () => {
			info.startedAt ??= Date.now();
			if (!mine())
				return;
			this.st.call = 'in-call';
			this.st.startedAt ??= info.startedAt;
			this._holdState();
		});
		s.on('hold', () => mine() && this._holdState());
		s.on('unhold', () => mine() && this._holdState());
		s.on('muted', () => {
			if (mine()) {
				this.st.muted = true;
				this._changed();
			}
		});
		s.on('unmuted', () => {
			if (mine()) {
				this.st.muted = false;
				this._changed();
			}
		});
		s.on('ended', (x) => this._sessionEnded(s, x));
		s.on('failed', (x) => this._sessionEnded(s, x));
	}

	/** Show `s` (established or ringing in) as the call on screen */
	_switchTo(s) {
		const info = this._info(s);
		this.session = s;
		this.pc = info.pc;
		Object.assign(this.st, { direction: info.direction,
			peer: info.peer, peerName: info.peerName,
			startedAt: info.startedAt, endedAt: null, end: null,
			muted: s.isEstablished() ? s.isMuted().audio : false });
		this._play(info.remote);
		this._videoState();
		if (s.isEstablished()) {
			this.st.call = 'in-call';
			this._holdState();
		} else {
			this.st.call = 'incoming';
			this.st.hold = { local: false, remote: false };
			this._changed();
		}
	}

	_holdState() {
		const h = this.session.isOnHold();
		this.st.hold = { local: h.local, remote: h.remote };
		if (this.st.call === 'in-call' || this.st.call === 'on-hold')
			this.st.call = h.local || h.remote ? 'on-hold' : 'in-call';
		this._changed();
	}

	_sessionEnded(s, x) {
		const info = this._info(s);
		if (info.done)
			return;
		info.done = true;
		stopStream(info.stream);
		info.stream = null;
		const status = x.message?.status_code ?? null;
		const reason = x.message?.reason_phrase ?? null;
		const end = info.forced ?? { ...callEndText({
			originator: x.originator, cause: x.cause, status, reason,
			direction: info.direction }), cause: x.cause, status,
		originator: x.originator };
		info.end = end;
		this.onCall?.('ended', s, info);
		if (s === this.waiting) {
			this.waiting = null;
			this.st.waiting = null;
			tones.waitingStop();
			this._changed();
			return;
		}
		if (s === this.held) {
			this.held = null;
			this.st.held = null;
			this._changed();
			return;
		}
		if (s !== this.session)
			return;
		const next = this.held ?? this.waiting;
		if (next) {
			// the other call comes back on screen (held, or ringing in)
			this.held = null;
			this.waiting = null;
			Object.assign(this.st, { held: null, waiting: null,
				notice: { kind: 'call-ended', text: `Call with ${
					info.peerName} ended: ${end.text}` } });
			tones.stopAll();
			this._switchTo(next);
			if (!next.isEstablished())
				tones.ringStart();
			return;
		}
		this._ended(end);
	}

	_ended(end) {
		tones.stopAll();
		if (this.audio.srcObject) {
			this.audio.pause();
			this.audio.srcObject = null;
		}
		this.pc = null;
		this._videoState();
		Object.assign(this.st, { call: 'ended', end,
			endedAt: Date.now(), hold: { local: false, remote: false },
			muted: false });
		this._changed();
	}

	/* ---- media watchdog: no RTP in for mediaTimeout s ends the call --- */

	_watch() {
		const s = this.session;
		const on = this.mediaTimeout > 0 && s && !s.isEnded() &&
			this.st.call === 'in-call' && this.pc;
		if (!on) {
			clearInterval(this.watchTimer);
			this.watchTimer = null;
			this.watchBase = null;
			return;
		}
		if (this.watchTimer && this.watchSession === s)
			return;
		clearInterval(this.watchTimer);
		this.watchSession = s;
		this.watchBase = null;
		this.watchTimer = setInterval(() => this._watchTick(s), 1000);
	}

	async _watchTick(s) {
		const pc = this._info(s).pc;
		if (!pc)
			return;
		const { inbound } = await audioStats(pc);
		if (s !== this.session || this.watchSession !== s ||
			!this.watchTimer || this.st.call !== 'in-call')
			return;
		const now = Date.now();
		const b = this.watchBase;
		if (!b || inbound.packets !== b.packets) {
			this.watchBase = { packets: inbound.packets, at: now };
			return;
		}
		if (now - b.at >= this.mediaTimeout * 1000)
			this._endWith(s, { kind: 'media', text: `The call dropped: ` +
				`no sound from the other side for ${this.mediaTimeout} s` });
	}

	/* ---- messages (RFC 3428 pager mode) ----------------------------- */

	/** Send `text` to `uri`; resolves { ok, status, reason } */
	sendMessage(uri, text) {
		return new Promise((resolve) => {
			if (!this.ua?.isConnected()) {
				resolve({ ok: false, status: null,
					reason: 'not connected to the phone service' });
				return;
			}
			try {
				this.ua.sendMessage(uri, text, {
					contentType: 'text/plain; charset=utf-8',
					eventHandlers: {
						succeeded: (e) => resolve({ ok: true,
							status: e.response?.status_code ?? 200 }),
						failed: (e) => resolve({ ok: false,
							status: e.response?.status_code ?? null,
							reason: e.response?.reason_phrase ??
								e.cause ?? null }),
					},
				});
			} catch (err) {
				resolve({ ok: false, status: null, reason: err.message });
			}
		});
	}

	_newMessage(e) {
		if (e.originator !== 'remote')
			return;
		const rq = e.request;
		const uri = e.message.remote_identity.uri.toString();
		const type = String(rq.getHeader('Content-Type') ?? 'text/plain');
		const text = /^text\/plain\b/i.test(type) ? String(rq.body ?? '') :
			`(a message of type ${type.split(';')[0]} this page cannot ` +
			'show)';
		this.onMessage?.({ peer: uri, peerName: e.message.remote_identity
			.display_name || displayUri(uri, this.domain), text });
	}

	/* ---- state ------------------------------------------------------- */

	async stats() {
		return audioStats(this.busy ? this.pc : null);
	}

	_traceMsg(dir, text) {
		this.trace.push({ t: Date.now(), dir, text: redact(text) });
		if (this.trace.length > TRACE_MAX)
			this.trace.splice(0, this.trace.length - TRACE_MAX);
	}

	/* the chat channel, agreed in the offer's SDP (msrp.js) */
	_chatStart(s, pc, info) {
		let ch;
		try {
			ch = pc.createDataChannel('chat', { negotiated: true,
				id: MSRP_SID, protocol: 'MSRP' });
		} catch {
			return;
		}
		const mine = () => s === this.session;
		info.chat = new MsrpChat(ch, {
			onMessage: (text) => {
				if (!mine())
					return;
				this.st.chatLog = [...this.st.chatLog, { dir: 'in', text }];
				this._changed();
			},
			onState: (state) => {
				if (!mine() || (state === 'open' && !info.chat.peerPath))
					return;
				this.st.chat = state;
				this._changed();
			},
		});
		if (mine()) {
			this.st.chat = 'connecting';
			this._changed();
		}
	}

	/**
	 * Open the chat in the call on screen, one that has none (an incoming
	 * call, or chat refused at the start): the channel agreed in SDP and a
	 * re-offer that adds it (a data-channel m-line if the call has none)
	 *
	 * @returns {boolean} whether the re-offer went out
	 */
	chatOpen() {
		const s = this.session;
		if (!this.chatOn || !s?.isEstablished() || !this.pc)
			return false;
		const info = this._info(s);
		if (info.chat && this.st.chat !== 'off')
			return false;
		if (!info.chat)
			this._chatStart(s, this.pc, info);
		const ok = s.renegotiate({ useUpdate: false });
		if (!ok) {
			this.st.chat = 'off';
			this._changed();
		}
		return ok;
	}

	/** Send a chat message in the current call */
	chatSend(text) {
		const chat = this.session && this._info(this.session).chat;
		if (!chat?.ready)
			throw new Error('The chat is not connected');
		chat.send(text);
		this.st.chatLog = [...this.st.chatLog, { dir: 'out', text }];
		this._changed();
	}

	_changed() {
		this._watch();
		this.onChange?.(this.st);
	}
}

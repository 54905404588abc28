// imsedge browser phone: the page imsedge's WWSF serves. Log in (or take a
// guest line) through the WWSF API, then register to imsedge's eP-CSCF
// over wss with the token and make and take calls (phone.js).
//
// The token is kept in sessionStorage for a reload of the tab (keep.js);
// it is refreshed at 80 % of its lifetime (POST /api/refresh) and handed
// to JsSIP, which sends it as `Authorization: Bearer` on every request.
// Log out unregisters, tells the WAF (POST /api/logout) and forgets it.
//
// For tests: window.imsedgeWic (read-only) has `status` (a snapshot),
// stats() (audio counters of the call) and trace() (SIP messages, the
// token blanked). Stable ids and data-state attributes are listed in
// README.md.

import JsSIP from 'jssip';
import * as api from './api.js';
import { Phone, micErrorText } from './phone.js';
import { audioStats } from './stats.js';
import { videoStats } from './video.js';
import { toSipUri, displayUri } from './address.js';
import * as tones from './tones.js';
import * as keep from './keep.js';
import { site, loadSite } from './site.js';
import { History } from './history.js';
import { Messages } from './messages.js';
import { Recents, callEntry } from './recents.js';
import * as notify from './notify.js';
import * as devices from './devices.js';
import { Rtt } from './rtt.js';

const $ = (id) => document.getElementById(id);

const REFRESH_AT = 0.8;        // of the token lifetime
const REFRESH_RETRY_S = 15;    // after a network failure of /api/refresh
const EXPIRED_TEXT = 'Your session has expired, please log in again.';

const ui = {
	view: 'loading',
	config: null,
	loginError: null,          // { kind, text, retryUntil }
	phoneError: null,          // { kind, text }
	busyLogin: false,
};
let sess = null;             // the API answer (token inside)
let phone = null;
let refreshTimer = null;
let tickTimer = null;
let retryTimer = null;
let history = null;          // History of the identity logged in
let messages = null;
let recents = null;
let rtt = null;               // real-time text in a call (rtt.js)
let tab = 'dial';

/* ---- views ------------------------------------------------------------ */

function show(view) {
	ui.view = view;
	$('app').dataset.view = view;
	$('view-login').hidden = view !== 'login';
	$('view-phone').hidden = view !== 'phone';
	$('btn-logout').hidden = view !== 'phone';
	document.title = view === 'phone' && sess ?
		`${site.title} – ${displayUri(phone?.impu ?? sess.impu[0])}` :
		site.title;
	if (view === 'login')
		setTimeout(() => ($('login-username').value ?
			$('login-password') : $('login-username')).focus(), 0);
	render();
}

function setLoginError(err) {
	clearInterval(retryTimer);
	ui.loginError = err;
	if (err?.retryUntil) {
		retryTimer = setInterval(() => {
			if (Date.now() >= err.retryUntil) {
				clearInterval(retryTimer);
				if (ui.loginError === err)
					ui.loginError = null;
			}
			render();
		}, 1000);
	}
	render();
}

function loginErrorText(e) {
	const wait = e.retryAfter != null ? ` Please wait ${formatWait(
		e.retryAfter)} before trying again.` : ' Please wait a moment ' +
		'before trying again.';
	switch (e.kind) {
	case 'credentials':
		return 'Wrong user name or password.';
	case 'rate':
		return e.code === 'pool_empty' ?
			`All guest lines are in use.${wait}` :
			`Too many attempts.${wait}`;
	case 'no_pool':
		return 'Guest access is not available.';
	case 'request':
		return e.message || 'Please enter your user name and password.';
	case 'network':
		return 'Cannot reach the server. Check your network connection ' +
			'and try again.';
	case 'expired':
		return EXPIRED_TEXT;
	default:
		return e.message || 'The server had a problem. Please try again ' +
			'later.';
	}
}

function formatWait(s) {
	s = Math.max(0, Math.ceil(s));
	if (s < 60)
		return `${s} second${s === 1 ? '' : 's'}`;
	const m = Math.ceil(s / 60);
	return `${m} minute${m === 1 ? '' : 's'}`;
}

function formatDuration(ms) {
	const s = Math.max(0, Math.floor(ms / 1000));
	const h = Math.floor(s / 3600);
	const mm = String(Math.floor(s / 60) % 60);
	const ss = String(s % 60).padStart(2, '0');
	return h ? `${h}:${mm.padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

const CALL_TEXT = {
	idle: 'Ready',
	calling: 'Calling…',
	ringing: 'Ringing…',
	incoming: 'Incoming call',
	connecting: 'Connecting…',
	'in-call': 'In call',
	'on-hold': 'On hold',
};

function render() {
	renderLogin();
	renderPhone();
}

function renderLogin() {
	const err = ui.loginError;
	const box = $('login-error');
	let text = null;
	if (err) {
		text = err.text;
		if (err.retryUntil) {
			const left = (err.retryUntil - Date.now()) / 1000;
			text = left > 0 ? err.template.replace('%s', formatWait(left)) :
				null;
		}
	}
	box.hidden = !text;
	box.textContent = text ?? '';
	box.dataset.state = text ? err.kind : 'none';
	const waiting = !!(err?.retryUntil && Date.now() < err.retryUntil &&
		err.kind === 'rate');
	$('btn-login').disabled = ui.busyLogin || (waiting && !err.guest);
	const cfg = ui.config;
	$('guest-box').hidden = !cfg?.guest;
	$('btn-guest').disabled = ui.busyLogin || (waiting && !!err.guest);
	const pools = cfg?.pools ?? [];
	$('guest-pool').hidden = pools.length < 2;
	$('guest-pool-label').hidden = pools.length < 2;
}

function renderPhone() {
	if (!phone)
		return;
	const st = phone.st;
	$('own-impu').textContent = displayUri(phone.impu, '') || phone.impu;
	$('own-impu').title = sess.impu.join('\n');
	const note = sess.pool ? `Guest line${sess.pool ? ` (${sess.pool})` :
		''}` : sess.user && sess.user !== displayUri(phone.impu, phone.domain) ?
		`Signed in as ${sess.user}` : '';
	$('own-note').hidden = !note;
	$('own-note').textContent = note;

	const reg = $('reg-status');
	reg.dataset.state = st.registration;
	reg.textContent = { connecting: st.regText || 'Connecting…',
		registered: 'Registered', unregistered: 'Not registered',
		failed: 'Failed' }[st.registration];
	reg.title = st.regReason ?? '';
	if (st.registration === 'failed')
		reg.dataset.reason = st.regError ?? 'rejected';
	else
		delete reg.dataset.reason;

	// a registration problem is an error box the user can read in full
	let perr = ui.phoneError;
	if (!perr && st.registration === 'failed')
		perr = { kind: st.regError ?? 'registration', text: st.regText };
	const pbox = $('phone-error');
	pbox.hidden = !perr;
	pbox.textContent = perr?.text ?? '';
	pbox.dataset.state = perr?.kind ?? 'none';

	renderSecondLine(st);
	$('btn-notify').hidden = notify.permission() !== 'default';

	const call = st.call;
	const view = $('view-phone');
	view.dataset.call = call;
	$('call-panel').dataset.state = call;
	const cs = $('call-state');
	cs.dataset.state = call;
	let text = CALL_TEXT[call] ?? call;
	if (call === 'on-hold' && !st.hold.local)
		text = 'On hold by the other party';
	if (call === 'in-call' && st.muted)
		text = 'In call (muted)';
	if (call === 'ended')
		text = `Call ended: ${st.end?.text ?? 'ended'}`;
	cs.textContent = text;
	if (call === 'ended') {
		cs.dataset.reason = st.end?.kind ?? 'failed';
		if (st.end?.status)
			cs.dataset.status = String(st.end.status);
		else
			delete cs.dataset.status;
	} else {
		delete cs.dataset.reason;
		delete cs.dataset.status;
	}
	$('call-peer').textContent = call === 'idle' ? '' :
		call === 'incoming' ? `${st.peerName} is calling` : st.peerName ?? '';
	$('call-peer').title = st.peer ?? '';
	const timer = $('call-timer');
	timer.hidden = !st.startedAt;
	if (st.startedAt)
		timer.textContent = formatDuration((st.endedAt ?? Date.now()) -
			st.startedAt);

	const registered = st.registration === 'registered';
	const active = ['calling', 'ringing', 'connecting', 'in-call',
		'on-hold'].includes(call);
	const established = call === 'in-call' || call === 'on-hold';
	const free = !phone.busy && call !== 'calling';
	$('btn-call').disabled = !(registered && free &&
		$('dial-target').value.trim());
	$('btn-video-call').disabled = $('btn-call').disabled;
	$('btn-camera').disabled = !established;
	$('btn-camera').setAttribute('aria-pressed', String(!!st.video?.local));
	$('btn-camera').querySelector('.lbl').textContent = st.video?.local ?
		'Camera off' : 'Camera on';
	$('video-box').hidden = !(st.video?.local || st.video?.remote) ||
		!active;
	$('btn-answer').disabled = call !== 'incoming';
	$('btn-decline').disabled = call !== 'incoming';
	$('btn-hangup').disabled = !active;
	$('btn-mute').disabled = !established;
	$('btn-hold').disabled = !established;
	const muted = established && st.muted;
	$('btn-mute').setAttribute('aria-pressed', String(muted));
	$('btn-mute').querySelector('.lbl').textContent = muted ? 'Unmute' :
		'Mute';
	const held = established && st.hold.local;
	$('btn-hold').setAttribute('aria-pressed', String(held));
	$('btn-hold').querySelector('.lbl').textContent = held ? 'Resume' :
		'Hold';
	$('dial-target').disabled = established;
	rtt?.render();
	$('btn-backspace').disabled = established;
	renderChat(st, active);
	// a chat opened mid-call (a re-offer adds it)
	$('btn-chat').classList.toggle('on', !!site.chat);
	$('btn-chat').disabled = !(call === 'in-call' && site.chat &&
		(!st.chat || st.chat === 'off'));

	if (call === 'incoming')
		document.title = `Incoming call – ${st.peerName}`;
	else if (ui.view === 'phone')
		document.title = `${site.title} – ${displayUri(phone.impu, '')}`;

	if ((active || call === 'ended') && st.startedAt && !st.endedAt) {
		if (!tickTimer)
			tickTimer = setInterval(renderPhone, 1000);
	} else if (tickTimer) {
		clearInterval(tickTimer);
		tickTimer = null;
	}
}

/* The chat of the call (MSRP over a data channel, msrp.js): a log that
   screen readers announce (role=log, polite) and a form (Enter sends) */
function renderChat(st, active) {
	const show = active && st.chat && st.chat !== 'off';
	$('chat-panel').hidden = !show;
	$('chat-text').disabled = st.chat !== 'open';
	$('btn-chat-send').disabled = st.chat !== 'open';
	$('chat-state').textContent = { connecting: 'Connecting the chat…',
		open: '', closed: 'The chat has ended' }[st.chat] ?? '';
	const log = $('chat-log');
	const items = st.chatLog ?? [];
	if (!show && !log.childElementCount)
		return;
	if (items.length < log.childElementCount)
		log.replaceChildren();
	for (const m of items.slice(log.childElementCount)) {
		const li = document.createElement('li');
		li.className = 'msg';
		li.dataset.dir = m.dir === 'out' ? 'out' : 'in';
		const who = document.createElement('span');
		who.className = 'sr';
		who.textContent = m.dir === 'out' ? 'You: ' : `${st.peerName}: `;
		li.append(who, document.createTextNode(m.text));
		log.append(li);
	}
}

/** Call waiting, the held call and the notice line */
function renderSecondLine(st) {
	const w = st.waiting;
	const wp = $('waiting-panel');
	const was = !wp.hidden;
	wp.hidden = !w;
	$('waiting-peer').textContent = w ? `${w.peerName} is calling ` +
		'(call waiting)' : '';
	$('waiting-peer').title = w?.peer ?? '';
	if (w && !was)
		setTimeout(() => $('btn-cw-hold').focus(), 0);
	const h = st.held;
	$('held-panel').hidden = !h;
	$('held-peer').textContent = h ? `On hold: ${h.peerName}` : '';
	$('held-peer').title = h?.peer ?? '';
	$('btn-swap').disabled = !h || st.call !== 'in-call' &&
		st.call !== 'on-hold';
	const n = st.notice;
	$('phone-notice').hidden = !n;
	$('phone-notice').textContent = n?.text ?? '';
	$('phone-notice').dataset.state = n?.kind ?? 'none';
}

/* ---- login ------------------------------------------------------------ */

async function loadConfig() {
	try {
		ui.config = await api.getConfig();
	} catch (e) {
		ui.config = null;
		if (e.kind === 'network')
			setLoginError({ kind: 'network', text: loginErrorText(e) });
	}
	render();
}

async function signIn(how) {
	if (ui.busyLogin)
		return;
	tones.unlock();            // a user gesture: let the ringtone play later
	const guest = how === 'guest';
	let username = '';
	let password = '';
	if (!guest) {
		username = $('login-username').value.trim();
		password = $('login-password').value;
		if (!username || !password) {
			setLoginError({ kind: 'request', text: 'Please enter your ' +
				'user name and password.' });
			(!username ? $('login-username') : $('login-password')).focus();
			return;
		}
	}
	ui.busyLogin = true;
	setLoginError(null);
	$('btn-login').textContent = guest ? 'Log in' : 'Logging in…';
	try {
		const pools = ui.config?.pools ?? [];
		const pool = pools.length > 1 ? $('guest-pool').value : undefined;
		const s = guest ? await api.guest(pool) :
			await api.login(username, password);
		$('login-password').value = '';
		startPhone(s);
	} catch (e) {
		if (!(e instanceof api.ApiError))
			throw e;
		const err = { kind: e.kind, text: loginErrorText(e), guest };
		if (e.kind === 'rate' && e.retryAfter != null) {
			err.retryUntil = Date.now() + e.retryAfter * 1000;
			err.template = loginErrorText({ ...e, retryAfter: 0 })
				.replace(/0 seconds/, '%s');
		}
		if (e.kind === 'credentials') {
			$('login-password').value = '';
			$('login-password').focus();
		}
		if (e.kind === 'no_pool')
			loadConfig();
		setLoginError(err);
	} finally {
		ui.busyLogin = false;
		$('btn-login').textContent = 'Log in';
		render();
	}
}

/* ---- the phone ---------------------------------------------------------- */

function startPhone(s) {
	sess = s;
	keep.save(s);
	ui.phoneError = null;
	phone = new Phone({
		mediaTimeout: site.mediaTimeout ?? undefined,
		chat: site.chat,
		onCall: (what, x, info) => callEvent(what, info),
		onMessage: (m) => {
			messages?.receive(m);
			notify.show(`Message from ${m.peerName}`, m.text, 'msg');
		},
		w2Url: s.w2Url,
		impu: s.impu,
		impi: s.impi,
		token: s.token,
		audio: $('remote-audio'),
		video: { remote: $('remote-video'), local: $('local-video') },
		onChange: () => renderPhone(),
		onExpired: () => expire(),
	});
	if (devices.chosen.audioinput)
		phone.audioInput = { deviceId: { exact: devices.chosen.audioinput } };
	if (devices.chosen.videoinput)
		phone.setCamera(devices.chosen.videoinput);
	scheduleRefresh();
	show('phone');
	phone.start();
	openHistory(phone);
}

/** The identity's calls and messages (IndexedDB), then its views */
async function openHistory(p) {
	const h = await History.open(p.impu);
	if (phone !== p) {
		h.close();
		return;
	}
	history = h;
	messages = new Messages({ phone: () => phone, history: h,
		domain: p.domain, onUnread: (n) => badge('badge-messages', n,
			'unread') });
	recents = new Recents({ history: h, domain: p.domain,
		onMissed: (n) => badge('badge-missed', n, 'missed'),
		onCallBack: (uri) => callBack(uri) });
	await Promise.all([messages.load(), recents.load()]);
	selectTab(tab);
}

function closeHistory() {
	history?.close();
	history = null;
	messages = null;
	recents = null;
	badge('badge-messages', 0);
	badge('badge-missed', 0);
	$('msg-thread').replaceChildren();
	$('msg-convs').replaceChildren();
	$('history-list').replaceChildren();
	$('msg-to').value = '';
}

function badge(id, n, what) {
	const b = $(id);
	b.hidden = !n;
	b.textContent = n ? String(n) : '';
	if (n)
		b.setAttribute('aria-label', `${n} ${what}`);
	else
		b.removeAttribute('aria-label');
}

function callEvent(what, info) {
	if (what === 'new' && info.direction === 'incoming')
		notify.show(`Incoming call – ${site.title}`,
			`${info.peerName} is calling`, 'call');
	if (what === 'ended') {
		notify.close('call');
		recents?.add(callEntry(info, info.end));
	}
}

const TABS = ['dial', 'messages', 'history'];

function selectTab(name, focus = false) {
	tab = name;
	for (const t of TABS) {
		const b = $(`tab-${t}`);
		b.setAttribute('aria-selected', String(t === name));
		b.tabIndex = t === name ? 0 : -1;
		$(`panel-${t}`).hidden = t !== name;
	}
	if (focus)
		$(`tab-${name}`).focus();
	messages?.setVisible(name === 'messages');
	recents?.setVisible(name === 'history');
}

function callBack(uri) {
	if (!phone || phone.busy)
		return;
	$('dial-target').value = displayUri(uri, phone.domain) || uri;
	selectTab('dial');
	renderPhone();
	placeCall();
}

function scheduleRefresh() {
	clearTimeout(refreshTimer);
	if (!sess)
		return;
	const at = sess.receivedAt + sess.lifetime * 1000 * REFRESH_AT;
	refreshTimer = setTimeout(refreshToken, Math.max(1000, at - Date.now()));
}

async function refreshToken() {
	const s = sess;
	if (!s)
		return;
	try {
		const n = await api.refresh(s.token);
		if (sess !== s)
			return;
		sess = { ...s, token: n.token, lifetime: n.lifetime,
			receivedAt: n.receivedAt, expires: n.expires };
		keep.save(sess);
		phone?.setToken(n.token);
		scheduleRefresh();
	} catch (e) {
		if (sess !== s)
			return;
		const left = s.receivedAt + s.lifetime * 1000 - Date.now();
		if (e.kind === 'expired' || left < 2000) {
			expire();
			return;
		}
		// the server or the network is down: try again before it runs out
		refreshTimer = setTimeout(refreshToken, Math.min(
			REFRESH_RETRY_S * 1000, Math.max(1000, left / 2)));
	}
}

/** Back to the login view, with `message` in its error box */
async function endSession(error) {
	clearTimeout(refreshTimer);
	keep.clear();
	closeHistory();
	const p = phone;
	phone = null;
	sess = null;
	ui.phoneError = null;
	setLoginError(error);
	show('login');
	await p?.stop(error ? 500 : 3000).catch(() => {});
	$('remote-audio').srcObject = null;
}

function expire() {
	if (!phone)
		return;
	endSession({ kind: 'expired', text: EXPIRED_TEXT });
}

async function logout() {
	if (!phone)
		return;
	const btn = $('btn-logout');
	btn.disabled = true;
	btn.textContent = 'Logging out…';
	clearTimeout(refreshTimer);
	const p = phone;
	const token = sess?.token;
	keep.clear();
	try {
		await p.stop(3000);
		// the server revokes the token, so a copy of it is worthless
		// (best effort: logout() is false on a 404 or no answer)
		if (token)
			await api.logout(token);
	} finally {
		btn.disabled = false;
		btn.textContent = 'Log out';
	}
	if (phone === p)
		endSession(null);
}

function setPhoneError(err) {
	ui.phoneError = err;
	renderPhone();
}

async function placeCall(opts = {}) {
	if (!phone || phone.busy)
		return;
	tones.unlock();
	const input = $('dial-target').value;
	const uri = toSipUri(input, phone.domain);
	if (!uri) {
		setPhoneError({ kind: 'address', text: `“${input.trim()}” is not ` +
			'a phone number, user name or SIP address.' });
		return;
	}
	setPhoneError(null);
	try {
		await phone.call(uri, opts);
	} catch (e) {
		setPhoneError(e?.name && /Error$/.test(e.name) &&
			e.name !== 'Error' && e.name !== 'TypeError' ?
			{ kind: 'microphone', text: micErrorText(e) } :
			{ kind: 'call', text: e.message });
	}
}

async function answer() {
	if (!phone)
		return;
	tones.unlock();
	setPhoneError(null);
	try {
		await phone.answer();
	} catch (e) {
		setPhoneError({ kind: 'microphone', text: micErrorText(e) });
	}
}

async function answerWaiting(endFirst) {
	if (!phone)
		return;
	setPhoneError(null);
	try {
		await phone.answerWaiting(endFirst);
	} catch (e) {
		setPhoneError({ kind: 'microphone', text: micErrorText(e) });
	}
}

function pressKey(key) {
	if (!phone)
		return;
	const st = phone.st.call;
	if (st === 'in-call' || st === 'on-hold') {
		tones.keyTone(key);
		phone.dtmf(key);
		flashKey(key);
		return;
	}
	const input = $('dial-target');
	input.value += key;
	input.dispatchEvent(new Event('input'));
}

function flashKey(key) {
	const b = document.querySelector(`#dialpad .key[data-key="${
		CSS.escape(key)}"]`);
	if (!b)
		return;
	b.classList.add('sent');
	setTimeout(() => b.classList.remove('sent'), 150);
}

/* ---- wiring --------------------------------------------------------------- */

function wire() {
	$('login-form').addEventListener('submit', (e) => {
		e.preventDefault();
		signIn('password');
	});
	$('btn-guest').addEventListener('click', () => signIn('guest'));
	$('btn-logout').addEventListener('click', logout);
	$('dial-form').addEventListener('submit', (e) => {
		e.preventDefault();
		if (!$('btn-call').disabled)
			placeCall();
	});
	$('dial-target').addEventListener('input', () => {
		if (ui.phoneError?.kind === 'address')
			ui.phoneError = null;
		renderPhone();
	});
	$('btn-backspace').addEventListener('click', () => {
		const input = $('dial-target');
		input.value = input.value.slice(0, -1);
		input.dispatchEvent(new Event('input'));
	});
	$('dialpad').addEventListener('click', (e) => {
		const b = e.target.closest('.key');
		if (b)
			pressKey(b.dataset.key);
	});
	// long press on 0 gives +
	let zeroTimer = null;
	const zero = document.querySelector('#dialpad .key[data-key="0"]');
	zero.addEventListener('pointerdown', () => {
		zeroTimer = setTimeout(() => {
			zeroTimer = 'fired';
			if (phone && !['in-call', 'on-hold'].includes(phone.st.call)) {
				const input = $('dial-target');
				input.value += '+';
				input.dispatchEvent(new Event('input'));
			}
		}, 600);
	});
	zero.addEventListener('click', (e) => {
		if (zeroTimer === 'fired') {
			e.stopPropagation();
			e.preventDefault();
		}
		clearTimeout(zeroTimer);
		zeroTimer = null;
	}, true);
	zero.addEventListener('pointerleave', () => {
		if (zeroTimer !== 'fired')
			clearTimeout(zeroTimer);
	});
	$('btn-call').addEventListener('click', () => placeCall());
	$('btn-video-call').addEventListener('click', () =>
		placeCall({ video: true }));
	$('btn-camera').addEventListener('click', async () => {
		try {
			await phone?.toggleCamera();
		} catch (e) {
			setPhoneError({ kind: 'camera', text: micErrorText(e)
				.replace(/microphone/g, 'camera') });
		}
	});
	$('btn-answer').addEventListener('click', answer);
	$('btn-decline').addEventListener('click', () => phone?.decline());
	$('btn-hangup').addEventListener('click', () => phone?.hangup());
	$('btn-mute').addEventListener('click', () => phone?.toggleMute());
	$('btn-hold').addEventListener('click', () => phone?.toggleHold());
	$('btn-chat').addEventListener('click', () => phone?.chatOpen());
	rtt = new Rtt({ phone: () => phone, els: { button: $('btn-rtt'),
		panel: $('rtt-panel'), remote: $('rtt-remote'),
		input: $('rtt-input'), status: $('rtt-status') } });
	$('btn-cw-hold').addEventListener('click', () => answerWaiting(false));
	$('btn-cw-end').addEventListener('click', () => answerWaiting(true));
	$('btn-cw-decline').addEventListener('click', () =>
		phone?.declineWaiting());
	$('btn-swap').addEventListener('click', () => phone?.swap());
	for (const t of TABS)
		$(`tab-${t}`).addEventListener('click', () => selectTab(t));
	// arrow keys move between tabs (WAI-ARIA tabs pattern)
	$('tabs').addEventListener('keydown', (e) => {
		const at = TABS.indexOf(e.target.id?.replace(/^tab-/, ''));
		const i = at >= 0 ? at : TABS.indexOf(tab);
		const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0,
			End: TABS.length - 1 }[e.key];
		if (next === undefined)
			return;
		e.preventDefault();
		selectTab(TABS[(next + TABS.length) % TABS.length], true);
	});
	$('msg-form').addEventListener('submit', (e) => {
		e.preventDefault();
		messages?.send();
	});
	$('chat-form').addEventListener('submit', (e) => {
		e.preventDefault();
		const text = $('chat-text').value;
		if (!text || !phone)
			return;
		try {
			phone.chatSend(text);
			$('chat-text').value = '';
			$('chat-error').hidden = true;
		} catch (err) {
			$('chat-error').textContent = err.message;
			$('chat-error').hidden = false;
		}
	});
	$('msg-to').addEventListener('input', () => messages?.render());
	devices.wire({ phone: () => phone, audio: $('remote-audio') });
	$('btn-notify').addEventListener('click', async () => {
		await notify.ask();
		renderPhone();
	});
	// digits typed anywhere but a text field go out as DTMF in a call
	document.addEventListener('keydown', (e) => {
		if (!phone || e.ctrlKey || e.metaKey || e.altKey ||
			e.target instanceof HTMLInputElement)
			return;
		if (/^[0-9*#]$/.test(e.key) &&
			['in-call', 'on-hold'].includes(phone.st.call))
			pressKey(e.key);
	});
	window.addEventListener('pagehide', () => {
		// best effort: hang up and unregister when the tab goes away
		// (the session stays kept: a reload registers again)
		phone?.stop(0);
	});
	window.addEventListener('online', () => {
		if (ui.view === 'login' && ui.loginError?.kind === 'network')
			setLoginError(null);
		if (ui.view === 'login' && !ui.config)
			loadConfig();
	});
}

/* ---- window.imsedgeWic: read-only, for tests -------------------------- */

function snapshot() {
	const st = phone?.st;
	const s = {
		view: ui.view,
		jssip: JsSIP.version,
		guestAvailable: !!ui.config?.guest,
		pools: [...(ui.config?.pools ?? [])],
		loginError: ui.loginError ? { kind: ui.loginError.kind,
			text: $('login-error').textContent } : null,
		phoneError: $('phone-error').hidden ? null :
			{ kind: $('phone-error').dataset.state,
				text: $('phone-error').textContent },
		user: sess?.user ?? null,
		pool: sess?.pool ?? null,
		impi: sess?.impi ?? null,
		impu: phone?.impu ?? null,
		impus: sess ? [...sess.impu] : [],
		tokenExpiresAt: sess ? Math.round((sess.receivedAt +
			sess.lifetime * 1000) / 1000) : null,
		ws: st?.ws ?? 'disconnected',
		registration: st ? { state: st.registration, text: st.regText,
			status: st.regStatus, reason: st.regReason,
			error: st.regError } : { state: 'unregistered', text: null,
			status: null, reason: null, error: null },
		call: st ? {
			state: st.call, direction: st.direction, peer: st.peer,
			peerName: st.peerName, muted: st.muted,
			hold: { ...st.hold },
			duration: st.startedAt ? Math.round(((st.endedAt ??
				Date.now()) - st.startedAt) / 1000) : 0,
			end: st.end ? { ...st.end } : null,
			count: st.calls,
			held: st.held ? { ...st.held } : null,
			video: { ...st.video },
			waiting: st.waiting ? { ...st.waiting } : null,
			chat: st.chat,
			chatLog: st.chatLog.map((m) => ({ ...m })),
		} : { state: 'idle', direction: null, peer: null, peerName: null,
			muted: false, hold: { local: false, remote: false },
			duration: 0, end: null, count: 0, held: null, waiting: null },
		notice: st?.notice ? { ...st.notice } : null,
		tab,
	};
	return deepFreeze(s);
}

function deepFreeze(o) {
	for (const v of Object.values(o))
		if (v && typeof v === 'object')
			deepFreeze(v);
	return Object.freeze(o);
}

Object.defineProperty(window, 'imsedgeWic', {
	value: Object.freeze({
		get status() {
			return snapshot();
		},
		/** Video counters of the current call (zeros without one) */
		videoStats() {
			return phone ? phone.videoStats() : videoStats(null);
		},
		/** Audio counters of the current call (zeros without one) */
		stats() {
			return phone ? phone.stats() : audioStats(null);
		},
		/** The devices in use: { mic (label, deviceId), speaker } */
		devices() {
			const t = phone?.micTrack;
			return { mic: t ? { label: t.label,
				deviceId: t.getSettings().deviceId } : null,
			speaker: $('remote-audio').sinkId ?? null,
			chosen: { ...devices.chosen } };
		},
		/** The last SIP messages in and out (Authorization blanked) */
		trace() {
			return (phone?.trace ?? []).map((m) => ({ ...m }));
		},
	}),
	writable: false,
	configurable: false,
	enumerable: false,
});

/* ---- start ------------------------------------------------------------ */

/** A session kept by this tab: refresh it and go straight to the phone */
async function resume() {
	const kept = keep.load();
	if (!kept)
		return false;
	try {
		const n = await api.refresh(kept.token);
		startPhone({ ...kept, ...n, user: n.user ?? kept.user,
			pool: n.pool ?? kept.pool });
	} catch (e) {
		if (e.kind === 'expired') {
			keep.clear();
			setLoginError({ kind: 'expired', text: EXPIRED_TEXT });
			return false;
		}
		// the WWSF is unreachable now: the kept token is still good
		startPhone(kept);
	}
	return true;
}

async function main() {
	wire();
	await loadSite();
	if (!await resume())
		show('login');
	loadConfig();
}

if (document.readyState === 'loading')
	document.addEventListener('DOMContentLoaded', main);
else
	main();

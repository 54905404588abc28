// Real-time text in a call: T.140 over a data channel (RFC 8865), which
// imsedge interworks with RFC 4103 RTP text toward IMS (also on emergency
// calls).
//
// The Text button opens a T.140 channel agreed in SDP: a channel with a
// fixed id (negotiated, no DCEP) and `a=dcmap:<id> label="t140";
// subprotocol="t140"` in every SDP the page sends for that call, added
// by a re-offer. A call whose offer has such a channel (imsedge maps a
// core's m=text to one) gets it at once, without a re-offer. What the user types goes as it is typed: each change of
// the text box is one message with what was added, after a T.140
// BACKSPACE (U+0008) per character removed; a new line is U+2028. Text
// from the other party appears in an aria-live log (role="log") as it
// comes, BACKSPACE erasing; it opens the panel if it was closed. The
// button hides and shows the panel; the channel stays for the call.

export const RTT_SID = 100;
const BS = '\u0008';
const LSEP = '\u2028';
const SHOWN_MAX = 20000;      // characters kept on screen
const SEND_MAX = 500;         // characters per message

const state = new WeakMap();  // JsSIP session -> { ch, sent, shown }
const offered = new WeakMap(); // session -> stream id the far end offered

/** True if session `s` has real-time text (opened or offered) */
export function rttOf(s) {
	return state.has(s) || offered.has(s);
}

/** The T.140 channel's stream id in session `s` */
export function rttSid(s) {
	return state.get(s)?.sid ?? offered.get(s) ?? RTT_SID;
}

/** An SDP received in `s`: note a T.140 channel agreed in it */
export function rttRemote(s, sdp) {
	const m = /\r\na=dcmap:(\d+) [^\r\n]*subprotocol="t140"/.exec(sdp);
	if (m && Number(m[1]) < 1024)
		offered.set(s, Number(m[1]));
}

/** An SDP the page sends, with the T.140 channel's a=dcmap (RFC 8865) */
export function withDcmap(sdp, sid = RTT_SID) {
	const DCMAP = `a=dcmap:${sid} label="t140";subprotocol="t140"`;
	if (/\r\na=dcmap:\d+ [^\r\n]*subprotocol="t140"/.test(sdp))
		return sdp;
	const m = /(^|\r\n)m=application [^\r\n]*webrtc-datachannel\r\n/
		.exec(sdp);
	if (!m)
		return sdp;
	const start = m.index + m[0].length;
	const next = sdp.indexOf('\r\nm=', start);
	const at = next < 0 ? sdp.length : next + 2;
	return `${sdp.slice(0, at)}${DCMAP}\r\n${sdp.slice(at)}`;
}

/** What to send for a text box that went from `before` to `after` */
export function diffText(before, after) {
	const a = [...before];
	const b = [...after];
	let i = 0;
	while (i < a.length && i < b.length && a[i] === b[i])
		i++;
	return BS.repeat(a.length - i) + b.slice(i).join('');
}

/** `shown` with received T.140 `text` applied */
export function applyText(shown, text) {
	let out = shown;
	for (const ch of text) {
		if (ch === BS)
			out = out.slice(0, out.length - ([...out.slice(-2)].at(-1)
				?.length ?? 0));
		else if (ch === '\n' || ch === LSEP)
			out += '\n';
		else if (ch === '\t' || (ch >= ' ' && ch !== '\u007f' &&
			ch !== '\uFEFF'))
			out += ch;
		// CR (of CR LF), BOM and other controls: nothing shown
	}
	return out.length > SHOWN_MAX ? out.slice(-SHOWN_MAX) : out;
}

export class Rtt {
	/**
	 * @param {object} o
	 * @param {Function} o.phone  the Phone now (its session and pc)
	 * @param {object} o.els     button, panel, remote, input, status
	 * @param {Function} o.changed  called when what is shown changes
	 */
	constructor({ phone, els, changed = () => {} }) {
		this.phone = phone;
		this.els = els;
		this.changed = changed;
		this.open = false;
		this.shownFor = null;
		els.button.addEventListener('click', () => this.toggle());
		els.input.addEventListener('input', () => this.typed());
	}

	current() {
		const s = this.phone()?.session;
		return s ? state.get(s) ?? null : null;
	}

	/** Show or hide the panel; the first time in a call, open the channel */
	toggle() {
		if (this.open) {
			this.open = false;
			this.render();
			this.els.button.focus();
			return;
		}
		if (!this.current() && !this.start())
			return;
		this.open = true;
		this.render();
		this.els.input.focus();
	}

	start() {
		const s = this.phone()?.session;
		const pc = this.phone()?.pc;
		if (!s || !pc || !s.isEstablished())
			return false;
		const st = this.channel(s, pc, offered.get(s) ?? RTT_SID);
		st.ok = offered.has(s) ||
			s.renegotiate({}, () => this.render());
		return true;
	}

	/** The T.140 channel `sid` of session `s` on `pc` */
	channel(s, pc, sid) {
		const ch = pc.createDataChannel('t140', { negotiated: true,
			id: sid, protocol: 't140' });
		ch.binaryType = 'arraybuffer';
		const st = { ch, sid, sent: '', shown: '', ok: null };
		state.set(s, st);
		const dec = new TextDecoder();
		ch.addEventListener('open', () => {
			this.typed();
			this.render();
		});
		ch.addEventListener('close', () => this.render());
		ch.addEventListener('message', (e) => {
			const text = typeof e.data === 'string' ? e.data :
				dec.decode(e.data);
			this.received(s, st, text);
		});
		return st;
	}

	received(s, st, text) {
		const before = st.shown;
		st.shown = applyText(st.shown, text);
		if (s !== this.phone()?.session)
			return;
		if (!this.open) {
			this.open = true;
			this.render();
		}
		this.show(before, st.shown);
	}

	/* the remote text on screen: appended or trimmed, not rewritten,
	   so that a screen reader reads what is new */
	show(before, after) {
		const box = this.els.remote;
		const node = box.firstChild;
		if (!node || node.nodeType !== Node.TEXT_NODE ||
			node.data !== before) {
			box.textContent = after;
			return;
		}
		let i = 0;
		while (i < before.length && before[i] === after[i])
			i++;
		if (i < before.length)
			node.deleteData(i, before.length - i);
		if (i < after.length)
			node.appendData(after.slice(i));
	}

	typed() {
		const st = this.current();
		if (!st || st.ch.readyState !== 'open')
			return;
		const now = this.els.input.value.replace(/\r?\n/g, LSEP);
		const d = diffText(st.sent, now);
		if (!d)
			return;
		try {
			// a paste goes in parts (imsedge queues 4 KiB of text)
			const cps = [...d];
			for (let i = 0; i < cps.length; i += SEND_MAX)
				st.ch.send(cps.slice(i, i + SEND_MAX).join(''));
			st.sent = now;
		} catch { /* closing: nothing more goes */ }
	}

	/** Bring the controls in line with the call (from renderPhone) */
	render() {
		const s = this.phone()?.session;
		const st = this.current();
		const up = !!s && s.isEstablished() && !s.isEnded() &&
			!!this.phone().pc;
		// offered by the far end: the channel is there at once
		if (up && !st && offered.has(s)) {
			this.channel(s, this.phone().pc, offered.get(s)).ok = true;
			this.render();
			return;
		}
		const { button, panel, remote, input, status } = this.els;
		if (!up)
			this.open = false;
		button.disabled = !up;
		button.setAttribute('aria-pressed', String(this.open));
		panel.hidden = !this.open;
		if (this.shownFor !== s) {
			this.shownFor = s;
			remote.textContent = st?.shown ?? '';
			input.value = st?.sent.replaceAll(LSEP, '\n') ?? '';
		}
		const rs = st?.ch.readyState;
		// typing may start at once: it goes when the channel opens
		input.disabled = !st || rs === 'closing' || rs === 'closed';
		panel.dataset.state = rs ?? 'none';
		status.textContent = !st ? '' : st.ok === false ?
			'Real-time text could not be started in this call.' :
			rs === 'open' ? 'Connected: text is sent as you type.' :
			rs === 'connecting' ? 'Connecting…' : 'Real-time text ended.';
		this.changed();
	}
}

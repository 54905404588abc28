// Messages (SIP MESSAGE, RFC 3428 pager mode): a conversation view for
// one peer at a time (#msg-to), the list of conversations, delivery
// state per message (sending, sent, failed with the reason, received)
// and the unread count on the Messages tab. Kept in history.js.

import { toSipUri, displayUri } from './address.js';

const $ = (id) => document.getElementById(id);
const MAX_TEXT = 1000;         // characters per message

/** A conversation key: the URI without parameters, lower case */
export function peerKey(uri) {
	return String(uri ?? '').split(';')[0].toLowerCase();
}

export class Messages {
	/**
	 * @param {object} o
	 * @param {function} o.phone    () the Phone (or null)
	 * @param {History} o.history
	 * @param {string} o.domain     own domain, for short names
	 * @param {function} o.onUnread (count)
	 */
	constructor({ phone, history, domain, onUnread }) {
		this.phone = phone;
		this.history = history;
		this.domain = domain;
		this.onUnread = onUnread;
		this.entries = [];       // oldest first
		this.unread = 0;
		this.visible = false;
	}

	async load() {
		this.entries = (await this.history.list('messages')).reverse();
		this.render();
	}

	/** The Messages tab is shown (or hidden): unread are read */
	setVisible(on) {
		this.visible = on;
		if (on) {
			this.unread = 0;
			this.onUnread?.(0);
		}
		this.render();
	}

	/** Open the conversation with `uri` */
	open(uri) {
		$('msg-to').value = displayUri(uri, this.domain) || uri;
		this.render();
		$('msg-text').focus();
	}

	_target() {
		return toSipUri($('msg-to').value, this.domain);
	}

	async send() {
		const to = this._target();
		const text = $('msg-text').value.trim().slice(0, MAX_TEXT);
		const err = $('msg-error');
		if (!to) {
			err.hidden = false;
			err.textContent = 'Enter a name, number or SIP address to ' +
				'write to.';
			$('msg-to').focus();
			return;
		}
		if (!text)
			return;
		err.hidden = true;
		$('msg-text').value = '';
		const e = { peer: to, dir: 'out', text, at: Date.now(),
			state: 'sending' };
		this.entries.push(e);
		e.id = await this.history.add('messages', { ...e });
		this.render();
		const r = await (this.phone()?.sendMessage(to, text) ??
			{ ok: false, reason: 'not logged in' });
		e.state = r.ok ? 'sent' : 'failed';
		e.error = r.ok ? null : failureText(r);
		await this.history.update('messages', e.id, { state: e.state,
			error: e.error });
		this.render();
	}

	async receive({ peer, text }) {
		const e = { peer, dir: 'in', text: String(text).slice(0, 10000),
			at: Date.now(), state: 'received' };
		this.entries.push(e);
		e.id = await this.history.add('messages', { ...e });
		const open = this.visible &&
			peerKey(this._target()) === peerKey(peer);
		if (!this.visible) {
			this.unread++;
			this.onUnread?.(this.unread);
		}
		if (!open && !$('msg-to').value.trim())
			$('msg-to').value = displayUri(peer, this.domain) || peer;
		this.render();
	}

	render() {
		const key = peerKey(this._target());
		const thread = $('msg-thread');
		thread.replaceChildren(...this.entries
			.filter((e) => peerKey(e.peer) === key)
			.map((e) => bubble(e)));
		thread.hidden = !thread.childElementCount;
		thread.scrollTop = thread.scrollHeight;
		// conversations: the last message per peer, newest first
		const last = new Map();
		for (const e of this.entries)
			last.set(peerKey(e.peer), e);
		const list = $('msg-convs');
		list.replaceChildren(...[...last.values()].reverse().map((e) => {
			const li = document.createElement('li');
			const b = document.createElement('button');
			b.type = 'button';
			b.className = 'conv';
			b.dataset.peer = e.peer;
			const name = displayUri(e.peer, this.domain) || e.peer;
			b.textContent = `${name}: ${e.text.slice(0, 60)}`;
			b.setAttribute('aria-label', `Conversation with ${name}, last ` +
				`message: ${e.text.slice(0, 60)}`);
			b.addEventListener('click', () => this.open(e.peer));
			li.append(b);
			return li;
		}));
		$('msg-convs-title').hidden = !list.childElementCount;
	}
}

function failureText(r) {
	if (r.status === 404 || r.status === 604)
		return 'Not delivered: no such user';
	if (r.status === 480 || r.status === 408)
		return 'Not delivered: the other party is not reachable';
	if (r.status)
		return `Not delivered (${r.status}${r.reason ? ` ${r.reason}` : ''})`;
	return `Not delivered${r.reason ? ` (${r.reason})` : ''}`;
}

const STATE_TEXT = { sending: 'Sending…', sent: 'Delivered',
	received: '' };

function bubble(e) {
	const li = document.createElement('li');
	li.className = 'msg';
	li.dataset.dir = e.dir;
	li.dataset.state = e.state;
	const p = document.createElement('span');
	p.className = 'text';
	p.textContent = e.text;
	const meta = document.createElement('small');
	const time = new Date(e.at).toLocaleTimeString([], { hour: '2-digit',
		minute: '2-digit' });
	const st = e.state === 'failed' ? e.error : STATE_TEXT[e.state] ?? '';
	meta.textContent = st ? `${time} · ${st}` : time;
	li.append(p, meta);
	li.setAttribute('aria-label', `${e.dir === 'in' ? 'Received' :
		'Sent'} ${time}: ${e.text}${st ? `. ${st}` : ''}`);
	return li;
}

// Recent calls: every call that ended (in, out, missed) kept in
// history.js, listed newest first with a "Call back" button each; the
// missed calls since the user last opened the list make the badge on
// the Recents tab (#badge-missed).

import { displayUri } from './address.js';

const $ = (id) => document.getElementById(id);

/** One ended call as kept: { peer, dir, at, duration, kind, text } */
export function callEntry(info, end) {
	const dur = info.startedAt ? Math.round((Date.now() - info.startedAt) /
		1000) : 0;
	return { peer: info.peer, dir: info.direction === 'incoming' ? 'in' :
		'out', at: info.at, duration: dur, kind: end?.kind ?? 'failed',
	text: end?.text ?? '' };
}

export class Recents {
	constructor({ history, domain, onCallBack, onMissed }) {
		this.history = history;
		this.domain = domain;
		this.onCallBack = onCallBack;
		this.onMissed = onMissed;
		this.calls = [];         // newest first
		this.seen = 0;
		this.visible = false;
	}

	async load() {
		this.calls = await this.history.list('calls');
		this.seen = Number(await this.history.getMeta('seenMissed')) || 0;
		this._badge();
		this.render();
	}

	async add(entry) {
		entry.id = await this.history.add('calls', { ...entry });
		this.calls.unshift(entry);
		if (this.visible)
			await this._seen();
		this._badge();
		this.render();
	}

	async setVisible(on) {
		this.visible = on;
		if (on)
			await this._seen();
		this._badge();
	}

	async _seen() {
		this.seen = Date.now();
		await this.history.setMeta('seenMissed', this.seen);
	}

	get missed() {
		return this.calls.filter((c) => c.kind === 'missed' &&
			c.at > this.seen).length;
	}

	_badge() {
		this.onMissed?.(this.missed);
	}

	render() {
		const list = $('history-list');
		list.replaceChildren(...this.calls.map((c) => this._item(c)));
		$('history-empty').hidden = this.calls.length > 0;
	}

	_item(c) {
		const li = document.createElement('li');
		li.className = 'hist';
		const missed = c.kind === 'missed';
		li.dataset.kind = missed ? 'missed' : c.dir;
		const name = displayUri(c.peer, this.domain) || c.peer;
		const what = missed ? 'Missed call' : c.dir === 'in' ?
			'Incoming call' : 'Outgoing call';
		const when = new Date(c.at).toLocaleString([], { month: 'short',
			day: 'numeric', hour: '2-digit', minute: '2-digit' });
		const len = c.duration ? `, ${Math.floor(c.duration / 60)}:${
			String(c.duration % 60).padStart(2, '0')}` : '';
		const text = document.createElement('span');
		text.className = 'hist-text';
		const n = document.createElement('strong');
		n.textContent = name;
		n.title = c.peer;
		const d = document.createElement('small');
		d.textContent = `${what}, ${when}${len}`;
		text.append(n, d);
		const b = document.createElement('button');
		b.type = 'button';
		b.className = 'secondary callback';
		b.textContent = 'Call back';
		b.dataset.peer = c.peer;
		b.setAttribute('aria-label', `Call back ${name} (${what}, ${when})`);
		b.addEventListener('click', () => this.onCallBack?.(c.peer));
		li.append(text, b);
		return li;
	}
}

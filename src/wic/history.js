// Calls and messages kept in the browser: one IndexedDB database per
// identity (`imsedge-history:<IMPU>`), so two users of one browser never
// see each other's history. Stores: `calls` and `messages` (auto keys,
// an `at` index) and `meta` (`seenMissed`: when the user last looked at
// the missed calls). Everything degrades to memory when IndexedDB is
// unavailable (private windows of some browsers).

const VERSION = 1;
const KEEP = 500;            // entries per store; older ones are dropped

function req(r) {
	return new Promise((resolve, reject) => {
		r.onsuccess = () => resolve(r.result);
		r.onerror = () => reject(r.error);
	});
}

function openDb(name) {
	if (typeof indexedDB === 'undefined')
		return Promise.resolve(null);
	const r = indexedDB.open(name, VERSION);
	r.onupgradeneeded = () => {
		const db = r.result;
		for (const s of ['calls', 'messages'])
			if (!db.objectStoreNames.contains(s))
				db.createObjectStore(s, { keyPath: 'id',
					autoIncrement: true }).createIndex('at', 'at');
		if (!db.objectStoreNames.contains('meta'))
			db.createObjectStore('meta');
	};
	return req(r).catch(() => null);
}

export class History {
	static async open(impu) {
		const h = new History();
		h.db = await openDb(`imsedge-history:${impu}`);
		h.mem = { calls: [], messages: [], meta: {} };
		return h;
	}

	close() {
		this.db?.close();
		this.db = null;
	}

	async _tx(store, mode, fn) {
		const tx = this.db.transaction(store, mode);
		const done = new Promise((resolve, reject) => {
			tx.oncomplete = resolve;
			tx.onerror = () => reject(tx.error);
			tx.onabort = () => reject(tx.error);
		});
		const out = await fn(tx.objectStore(store));
		await done;
		return out;
	}

	/** Add an entry to `store`; resolves its id */
	async add(store, entry) {
		if (!this.db) {
			const id = this.mem[store].length + 1;
			this.mem[store].push({ ...entry, id });
			return id;
		}
		const id = await this._tx(store, 'readwrite', (s) =>
			req(s.add({ ...entry })));
		this._trim(store);
		return id;
	}

	/** Merge `change` into the entry `id` of `store` */
	async update(store, id, change) {
		if (!this.db) {
			const e = this.mem[store].find((x) => x.id === id);
			if (e)
				Object.assign(e, change);
			return;
		}
		await this._tx(store, 'readwrite', async (s) => {
			const e = await req(s.get(id));
			if (e)
				await req(s.put({ ...e, ...change }));
		});
	}

	/** Entries of `store`, newest first */
	async list(store) {
		if (!this.db)
			return [...this.mem[store]].reverse();
		const all = await this._tx(store, 'readonly', (s) =>
			req(s.index('at').getAll()));
		return all.reverse();
	}

	async getMeta(key) {
		if (!this.db)
			return this.mem.meta[key];
		return this._tx('meta', 'readonly', (s) => req(s.get(key)));
	}

	async setMeta(key, value) {
		if (!this.db) {
			this.mem.meta[key] = value;
			return;
		}
		await this._tx('meta', 'readwrite', (s) => req(s.put(value, key)));
	}

	async _trim(store) {
		try {
			await this._tx(store, 'readwrite', async (s) => {
				const n = await req(s.count());
				if (n <= KEEP)
					return;
				const keys = await req(s.getAllKeys(null, n - KEEP));
				for (const k of keys)
					s.delete(k);
			});
		} catch { /* best effort */ }
	}
}

// The session across a reload: the WWSF's answer (token inside) in
// sessionStorage, which lives as long as the tab and is not shared with
// other tabs or kept after the browser closes (never localStorage).
// app.js saves it after login and every refresh and clears it at logout
// or expiry; on load, a kept session that has not run out is refreshed
// (POST /api/refresh) before the phone starts with it.

const KEY = 'imsedge.session';

/** Keep `sess` (as api.js returns it) for a reload of this tab */
export function save(sess) {
	try {
		sessionStorage.setItem(KEY, JSON.stringify(sess));
	} catch { /* storage off or full: a reload logs out, as before */ }
}

export function clear() {
	try {
		sessionStorage.removeItem(KEY);
	} catch { /* storage off */ }
}

/** The kept session if it still has `marginMs` to live, else null */
export function load(marginMs = 5000) {
	let s = null;
	try {
		s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
	} catch {
		s = null;
	}
	const ok = s && typeof s.token === 'string' && Array.isArray(s.impu) &&
		typeof s.w2Url === 'string' && Number.isFinite(s.receivedAt) &&
		Number.isFinite(s.lifetime) &&
		s.receivedAt + s.lifetime * 1000 - marginMs > Date.now();
	if (!ok) {
		clear();
		return null;
	}
	return s;
}

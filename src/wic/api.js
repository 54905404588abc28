// The WWSF API of imsedge (same origin, JSON): config, login, guest,
// refresh, logout. Every failure becomes an ApiError whose `kind` says what the
// user can do about it:
//   credentials  wrong user name or password (401 on login)
//   rate         too many attempts / no guest free now (429, 503 pool_empty);
//                `retryAfter` in seconds when the server sent Retry-After
//   expired      the token is no longer accepted (401 on refresh)
//   no_pool      the guest pool does not exist (404)
//   request      the server refused the request as malformed (400)
//   server       any other answer (5xx, garbage)
//   network      no answer at all (offline, server down, TLS failure)

export class ApiError extends Error {
	constructor(kind, message, { status = 0, code = null,
		retryAfter = null } = {}) {
		super(message);
		this.kind = kind;
		this.status = status;
		this.code = code;
		this.retryAfter = retryAfter;
	}
}

const TIMEOUT_MS = 15000;

/** Retry-After as seconds (delta-seconds or an HTTP date); null if absent */
export function retryAfterSeconds(value, now = Date.now()) {
	if (value == null || value === '')
		return null;
	if (/^\d+$/.test(value.trim()))
		return Number(value.trim());
	const t = Date.parse(value);
	return Number.isNaN(t) ? null : Math.max(0, Math.ceil((t - now) / 1000));
}

async function request(method, path, { body, token } = {}) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (token)
		headers.Authorization = `Bearer ${token}`;
	const ctl = new AbortController();
	const timer = setTimeout(() => ctl.abort(), TIMEOUT_MS);
	let res;
	try {
		res = await fetch(path, {
			method,
			headers,
			body: body === undefined ? undefined : JSON.stringify(body),
			credentials: 'same-origin',
			cache: 'no-store',
			signal: ctl.signal,
		});
	} catch (e) {
		throw new ApiError('network', e.name === 'AbortError' ?
			'The server did not answer in time.' :
			'Cannot reach the server. Check your network connection.');
	} finally {
		clearTimeout(timer);
	}
	let data = null;
	try {
		data = await res.json();
	} catch {
		data = null;
	}
	return { res, data };
}

/** An ApiError for a non-2xx answer */
function failure(res, data, what) {
	const status = res.status;
	const code = data?.error ?? null;
	const msg = typeof data?.message === 'string' && data.message ?
		data.message : null;
	const retryAfter = retryAfterSeconds(res.headers.get('Retry-After'));
	const opts = { status, code, retryAfter };
	if (status === 401 && what === 'refresh')
		return new ApiError('expired', msg ?? 'Your session has expired.',
			opts);
	if (status === 401)
		return new ApiError('credentials',
			'Wrong user name or password.', opts);
	if (status === 429 || (status === 503 && code === 'pool_empty'))
		return new ApiError('rate', msg ?? 'Too many attempts.', opts);
	if (status === 404 && code === 'no_pool')
		return new ApiError('no_pool', 'Guest access is not available.',
			opts);
	if (status === 400)
		return new ApiError('request', msg ?? 'The request was refused.',
			opts);
	return new ApiError('server', `The server had a problem (HTTP ${
		status}). Please try again later.`, opts);
}

/** Check a login/guest/refresh answer has what the phone needs */
function session(data) {
	const ok = data && typeof data.token === 'string' && data.token &&
		Array.isArray(data.impu) && data.impu.length > 0 &&
		typeof data.w2_url === 'string' && /^wss?:\/\//.test(data.w2_url);
	if (!ok)
		throw new ApiError('server',
			'The server sent an incomplete answer. Please try again later.');
	const now = Math.floor(Date.now() / 1000);
	const lifetime = Number(data.lifetime) > 0 ? Number(data.lifetime) :
		Math.max(0, Number(data.expires) - now);
	return {
		token: data.token,
		// the server's clock may differ: count from our own receipt time
		lifetime,
		receivedAt: Date.now(),
		expires: Number(data.expires) || now + lifetime,
		impi: typeof data.impi === 'string' ? data.impi : null,
		impu: data.impu.map(String),
		w2Url: data.w2_url,
		user: typeof data.user === 'string' ? data.user : null,
		pool: typeof data.pool === 'string' ? data.pool : null,
	};
}

async function post(path, body, what, token) {
	const { res, data } = await request('POST', path, { body, token });
	if (!res.ok)
		throw failure(res, data, what);
	return session(data);
}

/** GET /api/config -> { guest, pools, w2Url } */
export async function getConfig() {
	const { res, data } = await request('GET', '/api/config');
	if (!res.ok || !data || typeof data !== 'object')
		throw failure(res, data, 'config');
	return {
		guest: data.guest === true,
		pools: Array.isArray(data.pools) ? data.pools.map(String) : [],
		w2Url: typeof data.w2_url === 'string' ? data.w2_url : null,
	};
}

export function login(username, password) {
	return post('/api/login', { username, password }, 'login');
}

export function guest(pool) {
	return post('/api/guest', pool ? { pool } : {}, 'guest');
}

export function refresh(token) {
	return post('/api/refresh', {}, 'refresh', token);
}

/**
 * Tell the WAF the token is done with: POST /api/logout, the server
 * revokes it (D-60). Best effort: a WAF without the endpoint (404) or an
 * unreachable one is not an error for the user, who is logged out
 * locally either way.
 */
export async function logout(token) {
	try {
		const { res } = await request('POST', '/api/logout', { body: {},
			token });
		return res.ok;
	} catch {
		return false;
	}
}

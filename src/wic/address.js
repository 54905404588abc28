// What the user typed in the address entry -> the SIP URI to call.
//
//   sip:bob@ims.test, sips:...     as it is
//   bob@ims.test                   sip:bob@ims.test
//   bob                            sip:bob@<own domain>
//   +49 30 1234-567, tel:+49301234567
//                                  sip:+49301234567@<own domain>;user=phone
//   1234, *100#                    sip:1234@<own domain>
//
// Phone numbers go out in their SIP form (RFC 3261 19.1.6) rather than as
// tel: URIs because JsSIP's parser only knows SIP URIs. Returns null for
// anything else.

const SEPARATORS = /[\s\-.()/]/g;
const USER = /^[A-Za-z0-9_.!~*'&=+$,;?/-]+$/;
const HOST = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/;

/** The host part of a sip:/sips: URI (null for tel: and the like) */
export function domainOf(uri) {
	const m = /^sips?:(?:[^@]*@)?([^;?>]+)/i.exec(uri ?? '');
	return m ? m[1].replace(/:\d+$/, '') : null;
}

export function toSipUri(input, domain) {
	let s = String(input ?? '').trim();
	if (!s)
		return null;
	if (/^sips?:/i.test(s)) {
		const rest = s.replace(/^sips?:/i, '');
		const at = rest.lastIndexOf('@');
		if (at <= 0)
			return rest && USER.test(rest) && domain ?
				`${s.slice(0, s.length - rest.length).toLowerCase()}${
					rest}@${domain}` : null;
		const host = rest.slice(at + 1).split(/[;?]/)[0];
		return HOST.test(host) ? s : null;
	}
	let tel = false;
	if (/^tel:/i.test(s)) {
		s = s.slice(4).split(';')[0];
		tel = true;
	}
	const number = s.replace(SEPARATORS, '');
	if (/^\+?[0-9*#]+$/.test(number) && /[0-9]/.test(number)) {
		if (!domain)
			return null;
		// # is a reserved character in a URI
		const user = number.replace(/#/g, '%23');
		return number.startsWith('+') ?
			`sip:${user}@${domain};user=phone` : `sip:${user}@${domain}`;
	}
	if (tel)
		return null;
	const at = s.lastIndexOf('@');
	if (at > 0) {
		const user = s.slice(0, at);
		const host = s.slice(at + 1);
		return USER.test(user) && HOST.test(host) ? `sip:${s}` : null;
	}
	return USER.test(s) && domain ? `sip:${s}@${domain}` : null;
}

/** A short, readable name for a URI: +4930..., bob, bob@other.net */
export function displayUri(uri, ownDomain) {
	const m = /^(sips?|tel|urn):([^;?>]*)/i.exec(String(uri ?? ''));
	if (!m)
		return String(uri ?? '');
	if (m[1].toLowerCase() === 'tel')
		return m[2];
	const [user, host] = m[2].includes('@') ?
		[m[2].slice(0, m[2].lastIndexOf('@')),
			m[2].slice(m[2].lastIndexOf('@') + 1)] : ['', m[2]];
	let u = user;
	try {
		u = decodeURIComponent(user);
	} catch { /* keep it as it is */ }
	// the shim in phone.js maps tel:X to sip:X@tel.invalid
	if (host === 'tel.invalid' || host === 'urn.invalid')
		return u;
	if (!u)
		return host;
	return host.toLowerCase() === (ownDomain ?? '').toLowerCase() ?
		u : `${u}@${host}`;
}

// Operator settings for the page: `site.json` in the web root (beside
// index.html), optional. Every key is optional; unknown keys are ignored
// and a bad value is ignored with a console warning:
//
//   {
//     "title": "Acme Phone",          tab title and the name in the top bar
//     "logo": "logo.svg",             an image in the web root (same origin)
//     "logoAlt": "Acme",              its text for screen readers
//     "colors": { "accent": "#0b5cad", "accentText": "#ffffff",
//                 "background": "#eef2f7", "card": "#ffffff",
//                 "text": "#17202a" },  CSS colours (#rgb / #rrggbb)
//     "mediaTimeout": 30              s without sound from the far end
//                                     that end a call (0 = never)
//     "chat": true                    calls offer a chat (MSRP over a
//                                     data channel; needs imsedge's
//                                     datachannel yes)
//   }
//
// Colours are set as CSS custom properties through the CSSOM, which the
// page's CSP (style-src 'self') allows; nothing is inlined.

const COLOR_VARS = { accent: '--accent', accentText: '--accent-fg',
	background: '--bg', card: '--card', text: '--fg' };
const COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;
const FILE = /^[A-Za-z0-9][A-Za-z0-9._-]*\.(?:svg|png|jpe?g|webp)$/;

export const site = { title: 'Phone', mediaTimeout: null, chat: false,
	loaded: false };

function warn(key) {
	console.warn(`site.json: ignoring a bad "${key}"`);
}

/** Load site.json (a missing file is the default look) and apply it */
export async function loadSite() {
	let cfg = null;
	try {
		const res = await fetch('site.json', { cache: 'no-store',
			credentials: 'same-origin' });
		if (res.ok)
			cfg = await res.json();
	} catch {
		cfg = null;
	}
	site.loaded = true;
	if (!cfg || typeof cfg !== 'object')
		return site;
	if (typeof cfg.title === 'string' && cfg.title.trim())
		site.title = cfg.title.trim().slice(0, 60);
	else if (cfg.title !== undefined)
		warn('title');
	if (typeof cfg.logo === 'string' && FILE.test(cfg.logo)) {
		site.logo = cfg.logo;
		site.logoAlt = typeof cfg.logoAlt === 'string' ?
			cfg.logoAlt.slice(0, 60) : '';
	} else if (cfg.logo !== undefined) {
		warn('logo');
	}
	for (const [k, v] of Object.entries(cfg.colors ?? {})) {
		if (COLOR_VARS[k] && typeof v === 'string' && COLOR.test(v))
			document.documentElement.style.setProperty(COLOR_VARS[k], v);
		else
			warn(`colors.${k}`);
	}
	const mt = cfg.mediaTimeout;
	if (Number.isInteger(mt) && mt >= 0 && mt <= 3600)
		site.mediaTimeout = mt;
	else if (mt !== undefined)
		warn('mediaTimeout');
	if (typeof cfg.chat === 'boolean')
		site.chat = cfg.chat;
	else if (cfg.chat !== undefined)
		warn('chat');
	applyBrand();
	return site;
}

function applyBrand() {
	const brand = document.querySelector('.topbar .brand');
	if (brand)
		brand.textContent = site.title;
	const logo = document.querySelector('.topbar .logo');
	if (logo && site.logo) {
		logo.src = site.logo;
		logo.alt = site.logoAlt ?? '';
	}
	const meta = document.querySelector('meta[name="theme-color"]');
	const accent = getComputedStyle(document.documentElement)
		.getPropertyValue('--accent').trim();
	if (meta && accent)
		meta.content = accent;
}

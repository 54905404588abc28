// Desktop notifications for an incoming call or message while the tab is
// in the background. Permission is asked only when the user asks for it
// (the "Notify me" button, a click), never on load; nothing is shown
// while the page is visible or when permission was not given.

const open = new Map();        // tag -> Notification

export function supported() {
	return typeof Notification !== 'undefined';
}

/** 'default' (not asked yet), 'granted', 'denied' or 'unsupported' */
export function permission() {
	return supported() ? Notification.permission : 'unsupported';
}

/** Ask for permission (call from a click) */
export async function ask() {
	if (!supported() || Notification.permission !== 'default')
		return permission();
	try {
		return await Notification.requestPermission();
	} catch {
		return permission();
	}
}

/** Show `title`/`body` if the tab is hidden; `tag` groups (call, msg) */
export function show(title, body, tag) {
	if (!supported() || Notification.permission !== 'granted' ||
		document.visibilityState === 'visible')
		return null;
	try {
		close(tag);
		const n = new Notification(title, { body: String(body)
			.slice(0, 200), tag, icon: 'icon.svg' });
		n.onclick = () => {
			window.focus();
			n.close();
		};
		open.set(tag, n);
		return n;
	} catch {
		return null;
	}
}

export function close(tag) {
	open.get(tag)?.close();
	open.delete(tag);
}

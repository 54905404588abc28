// One real-browser test suite per file: Kamailio, the page server, a UDP
// SIP helper and one Chromium, started once; btest() wraps a test with a
// context (ctx.ims, ctx.ue, ctx.pages, ctx.extra, ctx.defer) whose logs
// are gathered if it fails; edge/wicPage/registeredPage/imsUe build the
// usual pieces of a call test.

import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Kamailio, UdpSip } from '../integration/helpers.mjs';
import { ImsUe } from './imsue.mjs';
import {
	build, startServer, startEdge, Browser, withDiagnostics, linesSource,
	cleanups,
} from './harness.mjs';

const T = { timeout: 30000 };

/**
 * Set up the suite's hooks and return its handles and helpers
 *
 * @param {object} o
 * @param {string[]} o.users  bindings cleared at Kamailio before each test
 * @param {string|false} o.skip  a reason to start nothing (tests skip too)
 */
export function browserSuite({ users, skip = false }) {
	const s = { kam: null, srv: null, udp: null, browser: null };

	before(async () => {
		if (skip)
			return;
		await build();
		[s.kam, s.srv, s.udp] = await Promise.all([Kamailio.start(),
			startServer(), UdpSip.open()]);
		s.browser = await Browser.launch();
	});

	after(async () => {
		await s.browser?.close();
		await s.srv?.close();
		s.udp?.close();
		await s.kam?.stop();
	});

	beforeEach(async () => {
		if (skip)
			return;
		for (const u of users)
			await s.udp.unregisterAll(s.kam.port, u);
	});

	s.btest = (name, opts, fn) => test(name, { ...T, ...opts }, (t) => {
		const ctx = { pages: [], defer: cleanups(t), extra: [] };
		const sources = () => [
			...ctx.pages,
			ctx.ue && { text: () => `--- UE ${ctx.ue.name} SIP trace\n${
				ctx.ue.traceText({ full: true })}\nRTP: ${JSON.stringify(
				ctx.ue.rtpSnapshot())}` },
			...ctx.extra,
			ctx.ims && linesSource('imsedge', () => ctx.ims.lines),
			linesSource('kamailio', () => s.kam.log.items, 60),
		];
		return withDiagnostics(name, sources, () => fn(t, ctx));
	});

	s.edge = async (ctx, over) => {
		ctx.ims = await startEdge({ kam: s.kam, origin: s.srv.origin, over });
		ctx.defer(() => ctx.ims.stopExpectRunning());
		return ctx.ims;
	};

	/** The page for a user, on this (or another) browser */
	s.wicPage = async (ctx, { user = 'alice', query = {}, on = s.browser,
		host } = {}) => {
		const url = s.srv.pageUrl({ wss: `wss://127.0.0.1:${ctx.ims.port}`,
			user, password: `${user}pw`, impi: `${user}@ims.test`,
			...query }, host ? { host } : {});
		const page = await on.newPage(url, { name: `${user}@browser` });
		ctx.pages.push(page);
		ctx.defer(() => on.closed || on.killed || on.frozen ? null :
			page.page.context().close().catch(() => {}));
		return page;
	};

	s.registeredPage = async (ctx, opts) => {
		const page = await s.wicPage(ctx, opts);
		const st = await page.call('register');
		assert.equal(st.registration, 'registered',
			`REGISTER from the page failed: ${JSON.stringify(st)}`);
		return page;
	};

	s.imsUe = async (ctx, opts = {}) => {
		ctx.ue = await ImsUe.start({ kamPort: s.kam.port, user: 'carol',
			...opts });
		ctx.defer(() => ctx.ue.close());
		await ctx.ue.register();
		return ctx.ue;
	};

	return s;
}

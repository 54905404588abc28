// A small HTTPS server for the browser tests: serves the built test WIC
// (build/browser/, see build.mjs) at https://127.0.0.1:PORT/ with the test
// certificate (test/data/cert.pem, key.pem; CN localhost, SAN localhost
// and 127.0.0.1, self-signed: Chromium runs with --ignore-certificate-errors).
// Its Origin, https://127.0.0.1:PORT, is what imsedge must allow
// (w2_origin).
//
//   node test/browser/server.mjs [PORT]     serve until Ctrl-C
//   const srv = await startServer(); srv.origin; srv.pageUrl({...}); await srv.close();

import fs from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { build, OUT, ROOT } from './build.mjs';

const CERT = path.join(ROOT, 'test', 'data', 'cert.pem');
const KEY = path.join(ROOT, 'test', 'data', 'key.pem');

const TYPES = {
	'.html': 'text/html; charset=utf-8',
	'.js': 'text/javascript; charset=utf-8',
	'.css': 'text/css; charset=utf-8',
	'.map': 'application/json',
	'.png': 'image/png',
};

/** Security headers every answer carries */
const HEADERS = {
	'Content-Security-Policy': "default-src 'self'; script-src 'self'; " +
		"style-src 'self'; connect-src 'self' wss:; " +
		"media-src 'self' blob: mediastream:; img-src 'self' data:",
	'X-Content-Type-Options': 'nosniff',
	'Cache-Control': 'no-store',
	'Strict-Transport-Security': 'max-age=60',
};

/**
 * Start serving build/browser/ (building it first if needed).
 * Resolves { port, origin, server, requests, pageUrl(query), close() }.
 */
export async function startServer({ host = '127.0.0.1', port = 0 } = {}) {
	await build();
	const requests = [];
	const server = https.createServer({
		cert: fs.readFileSync(CERT),
		key: fs.readFileSync(KEY),
	}, (req, res) => {
		const url = new URL(req.url, 'https://x');
		requests.push({ method: req.method, path: url.pathname,
			origin: req.headers.origin ?? null, at: Date.now() });
		if (req.method !== 'GET' && req.method !== 'HEAD') {
			res.writeHead(405, { ...HEADERS, Allow: 'GET, HEAD' });
			res.end();
			return;
		}
		let name = url.pathname === '/' ? 'index.html' :
			url.pathname.slice(1);
		// flat directory: no sub-paths, no dot files
		if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) ||
			name.includes('..')) {
			res.writeHead(404, HEADERS);
			res.end('not found\n');
			return;
		}
		if (name === 'favicon.ico') {
			res.writeHead(204, HEADERS);
			res.end();
			return;
		}
		const file = path.join(OUT, name);
		fs.readFile(file, (err, data) => {
			if (err) {
				res.writeHead(404, HEADERS);
				res.end('not found\n');
				return;
			}
			res.writeHead(200, { ...HEADERS,
				'Content-Type': TYPES[path.extname(name)] ??
					'application/octet-stream',
				'Content-Length': data.length });
			res.end(req.method === 'HEAD' ? undefined : data);
		});
	});
	server.listen(port, host);
	await once(server, 'listening');
	const actual = server.address().port;
	const sockets = new Set();
	server.on('connection', (s) => {
		sockets.add(s);
		s.on('close', () => sockets.delete(s));
	});
	const origin = `https://${host}:${actual}`;
	return {
		port: actual,
		origin,
		server,
		requests,
		/** The page URL with these query settings (null/undefined left out) */
		pageUrl(query = {}, { host: h = host } = {}) {
			const u = new URL(`https://${h}:${actual}/`);
			for (const [k, v] of Object.entries(query))
				if (v !== null && v !== undefined)
					u.searchParams.set(k, String(v));
			return u.toString();
		},
		async close() {
			for (const s of sockets)
				s.destroy();
			await new Promise((resolve) => server.close(() => resolve()));
		},
	};
}

if (process.argv[1] && path.resolve(process.argv[1]) ===
	fileURLToPath(import.meta.url)) {
	const port = Number(process.argv[2] ?? 8443);
	startServer({ port }).then((s) => {
		console.log(`serving ${OUT} at ${s.origin}/ ` +
			`(add w2_origin ${s.origin} to imsedge's config)`);
	}, (e) => {
		console.error(e.message);
		process.exit(1);
	});
}

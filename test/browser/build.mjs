// Build the test WebRTC IMS client (test/browser/wic/) into build/browser/:
// wic.js is src/wic.js with JsSIP bundled by esbuild (one IIFE, no
// module loader), index.html and wic.css are copied next to it.
//
//   node test/browser/build.mjs        build once, print the output dir
//   import { build } from './build.mjs'; await build();   (tests)
//
// build() runs esbuild at most once per process.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const SRC = path.join(HERE, 'wic');
export const OUT = path.join(ROOT, 'build', 'browser');
export const SCREENSHOTS = path.join(OUT, 'screenshots');

const STATIC = ['index.html', 'wic.css'];

let built;

async function run() {
	// esbuild lives in test/node_modules (tools/npm-setup)
	const { build: esbuild } = await import('esbuild');
	fs.mkdirSync(OUT, { recursive: true });
	const r = await esbuild({
		entryPoints: [path.join(SRC, 'src', 'wic.js')],
		outfile: path.join(OUT, 'wic.js'),
		bundle: true,
		format: 'iife',
		platform: 'browser',
		target: ['chrome120'],
		sourcemap: true,
		minify: false,
		legalComments: 'eof',
		logLevel: 'silent',
		define: { 'process.env.NODE_ENV': '"production"' },
		metafile: true,
	});
	for (const f of STATIC)
		fs.copyFileSync(path.join(SRC, f), path.join(OUT, f));
	const jssip = Object.keys(r.metafile.inputs)
		.some((i) => i.includes('node_modules/jssip/'));
	if (!jssip)
		throw new Error('build: JsSIP is not in the bundle');
	return { dir: OUT, warnings: r.warnings };
}

/** Build once per process; resolves { dir, warnings } */
export function build() {
	built ??= run();
	return built;
}

if (process.argv[1] && path.resolve(process.argv[1]) ===
	fileURLToPath(import.meta.url)) {
	build().then(({ dir, warnings }) => {
		for (const w of warnings)
			console.error(`warning: ${w.text}`);
		console.log(dir);
	}, (e) => {
		console.error(e.message);
		process.exit(1);
	});
}

#!/usr/bin/env node
// Build the imsedge browser phone (src/wic/) into build/www/, the directory
// imsedge's WWSF serves:
//
//   app.js        src/wic/app.js and its modules with JsSIP, one minified
//                 IIFE (esbuild); its source map goes beside the directory,
//                 to OUTDIR.maps/app.js.map, so that what is installed
//                 (the whole directory) carries no map
//   index.html, style.css, icon.svg, site.json (operator settings)
//                 copied
//   FILE.gz       for every text file, gzip -9 (node:zlib), the same bytes
//                 for the same input (no name, no time in the header)
//
//   node tools/wic-build.mjs [OUTDIR]
//
// esbuild and JsSIP come from src/wic/node_modules (tools/npm-setup), or
// from test/node_modules when that is all there is. Fails when JsSIP is
// not in the bundle.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src', 'wic');
const OUT = path.resolve(process.argv[2] ?? path.join(ROOT, 'build', 'www'));
const MAPS = `${OUT}.maps`;
const STATIC = ['index.html', 'style.css', 'icon.svg', 'site.json'];
const TEXT = /\.(html|css|js|map|svg|json|txt)$/;
const MODULES = [path.join(SRC, 'node_modules'),
	path.join(ROOT, 'test', 'node_modules')];

function die(msg) {
	console.error(`wic-build: ${msg}`);
	process.exit(1);
}

/** esbuild from the first node_modules that has it */
function loadEsbuild() {
	for (const dir of MODULES) {
		if (!fs.existsSync(path.join(dir, 'esbuild', 'package.json')))
			continue;
		return { esbuild: createRequire(path.join(dir, 'x.js'))('esbuild'),
			dir };
	}
	die('esbuild not found: run tools/npm-setup (installs src/wic)');
}

const { esbuild, dir: modules } = loadEsbuild();
if (!fs.existsSync(path.join(modules, 'jssip', 'package.json')))
	die(`jssip not found in ${modules}: run tools/npm-setup`);
const jssipVersion = JSON.parse(fs.readFileSync(path.join(modules, 'jssip',
	'package.json'), 'utf8')).version;

// a clean directory: nothing stale is served
fs.rmSync(OUT, { recursive: true, force: true });
fs.mkdirSync(OUT, { recursive: true });

let result;
try {
	result = await esbuild.build({
		entryPoints: [path.join(SRC, 'app.js')],
		outfile: path.join(OUT, 'app.js'),
		absWorkingDir: ROOT,
		nodePaths: [modules],
		bundle: true,
		format: 'iife',
		platform: 'browser',
		target: ['chrome109', 'firefox115', 'safari15.4', 'edge109'],
		minify: true,
		// written beside app.js, no sourceMappingURL comment; moved below
		sourcemap: 'external',
		// source paths in the map relative to the repository, not this host
		sourceRoot: '',
		legalComments: 'eof',
		banner: { js: `/*! imsedge browser phone. Bundles JsSIP ${
			jssipVersion} (MIT, https://jssip.net) and its dependencies ` +
			'debug, ms, events, sdp-transform (MIT). */' },
		charset: 'utf8',
		define: { 'process.env.NODE_ENV': '"production"' },
		metafile: true,
		logLevel: 'warning',
	});
} catch (e) {
	die(`esbuild failed: ${e.message}`);
}

const inputs = Object.keys(result.metafile.inputs);
if (!inputs.some((i) => /(^|\/)node_modules\/jssip\//.test(i)))
	die('JsSIP is not in the bundle');
const js = fs.readFileSync(path.join(OUT, 'app.js'), 'utf8');
if (!js.includes(jssipVersion))
	die(`JsSIP ${jssipVersion} is not in the bundle`);

fs.rmSync(MAPS, { recursive: true, force: true });
fs.mkdirSync(MAPS, { recursive: true });
fs.renameSync(path.join(OUT, 'app.js.map'), path.join(MAPS, 'app.js.map'));

for (const f of STATIC)
	fs.copyFileSync(path.join(SRC, f), path.join(OUT, f));

// gzip siblings; zlib writes mtime 0 and no file name: reproducible
const files = fs.readdirSync(OUT).filter((f) => TEXT.test(f)).sort();
let total = 0;
for (const f of files) {
	const data = fs.readFileSync(path.join(OUT, f));
	const gz = zlib.gzipSync(data, { level: 9 });
	fs.writeFileSync(path.join(OUT, `${f}.gz`), gz);
	total += gz.length;
}

const size = (f) => fs.statSync(path.join(OUT, f)).size;
console.log(`wic-build: ${path.relative(ROOT, OUT) || OUT}: app.js ${
	size('app.js')} B (${size('app.js.gz')} B gz), JsSIP ${jssipVersion}, ${
	files.length} files + .gz (${total} B gz)`);

#!/usr/bin/env node
// Memory figure for W2: start imsedge, read its RSS with no clients, open N
// idle WSS connections (each proves it is live with one OPTIONS -> 200), read
// the RSS again. Prints figures; asserts nothing (a benchmark, not a test).
// WSLOAD_ROUNDS=R repeats connect-all/leave-all R times; WSLOAD_AFTER=S then
// reads the RSS every 10 s for S seconds after the last client has left
// (memory returned after load, issue 13). WSLOAD_SETTLE=S (default 12)
// reads the RSS again after the connections have stayed idle S seconds:
// the W2 tick gives the heap that the handshakes freed back every 10 s
// (0: no second reading).
//
//   node tools/wsload.mjs [N] [path/to/imsedge]
import { createRequire } from 'node:module';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import net from 'node:net';

const require = createRequire(new URL('../test/package.json', import.meta.url));
const WebSocket = require('ws');

const N = Number(process.argv[2] || 1000);
const bin = resolve(process.argv[3] || 'build/host/imsedge');
const data = resolve('test/data');
const origin = 'https://wwsf.example.net:8443';

function freePort() {
  return new Promise((res) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port; s.close(() => res(p));
    });
  });
}

function rssKiB(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return Number(m[1]);
}

function options(i) {
  return `OPTIONS sip:edge.invalid SIP/2.0\r\nVia: SIP/2.0/WSS c${i}.invalid;branch=z9hG4bK${i}x\r\n` +
    `Max-Forwards: 70\r\nTo: <sip:edge.invalid>\r\nFrom: <sip:load${i}@example.net>;tag=${i}\r\n` +
    `Call-ID: load-${i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
}

function open(port, i) {
  return new Promise((res, rej) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, 'sip',
      { origin, rejectUnauthorized: false });
    ws.on('open', () => ws.send(options(i)));
    ws.on('message', (m) => String(m).startsWith('SIP/2.0 200') ? res(ws) : rej(new Error(String(m))));
    ws.on('error', rej);
    ws.on('unexpected-response', (req, r) => rej(new Error(`HTTP ${r.statusCode}`)));
  });
}

const port = await freePort();
const dir = mkdtempSync(join(tmpdir(), 'wsload-'));
const conf = join(dir, 'imsedge.conf');
writeFileSync(conf, `w2_listen 127.0.0.1:${port}\ntls_cert ${data}/cert.pem\ntls_key ${data}/key.pem\n` +
  `w2_origin ${origin}\nmw_listen 127.0.0.1:${await freePort()}\nmw_next_hop sip:127.0.0.1:5060\n` +
  `max_connections ${N + 16}\nw2_ping_interval 0\nlog_level warn\n` +
  // every client comes from 127.0.0.1
  'w2_pending_per_address 1000000\nw2_connections_per_address 1000000\n');

const proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
await new Promise((r) => setTimeout(r, 500));
const idle = rssKiB(proc.pid);
const idleParts = readFileSync(`/proc/${proc.pid}/status`, 'utf8')
  .match(/RssAnon:\s+(\d+)[\s\S]*RssFile:\s+(\d+)/).slice(1)
  .map((v, i) => `${['anon', 'file'][i]} ${v} KiB`).join(', ');

const t0 = process.hrtime.bigint();
const socks = [];
for (let i = 0; i < N; i += 50) {
  const batch = [];
  for (let j = i; j < Math.min(N, i + 50); j++) batch.push(open(port, j));
  socks.push(...await Promise.all(batch));
}
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
await new Promise((r) => setTimeout(r, 300));
const loaded = rssKiB(proc.pid);

console.log(`imsedge RSS idle:                 ${idle} KiB`);
console.log(`imsedge RSS with ${N} WSS conns:  ${loaded} KiB`);
console.log(`per connection:                   ${((loaded - idle) / N).toFixed(1)} KiB`);
console.log(`connect (TLS + upgrade + OPTIONS): ${(N / secs).toFixed(0)} conn/s over ${secs.toFixed(2)} s`);
const SETTLE = Number(process.env.WSLOAD_SETTLE ?? 12);
if (SETTLE) {
  await new Promise((r) => setTimeout(r, SETTLE * 1000));
  const settled = rssKiB(proc.pid);
  console.log(`after ${SETTLE} s idle:                 ${settled} KiB, ` +
    `per connection ${((settled - idle) / N).toFixed(1)} KiB`);
}

const ROUNDS = Number(process.env.WSLOAD_ROUNDS || 1);
const AFTER = Number(process.env.WSLOAD_AFTER || 0);
for (let r = 1; r <= ROUNDS; r++) {
  for (const ws of socks.splice(0)) ws.terminate();
  if (r === ROUNDS) break;
  for (let i = 0; i < N; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 50); j++) batch.push(open(port, j));
    socks.push(...await Promise.all(batch));
  }
  console.log(`round ${r + 1}: ${N} conns, RSS ${rssKiB(proc.pid)} KiB`);
}
function anonKiB(pid) {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8');
  return `anon ${st.match(/RssAnon:\s+(\d+)/)[1]} KiB, file ${
    st.match(/RssFile:\s+(\d+)/)[1]} KiB`;
}
for (let t = 0; AFTER && t <= AFTER; t += 10) {
  if (!t) console.log(`idle at start:                    ${idle} KiB (${idleParts})`);
  console.log(`${t} s after all left:               ${rssKiB(proc.pid)} KiB` +
    ` (${(100 * rssKiB(proc.pid) / idle).toFixed(0)} % of idle; ${anonKiB(proc.pid)})`);
  if (t < AFTER) await new Promise((res) => setTimeout(res, 10000));
}
proc.kill('SIGTERM');

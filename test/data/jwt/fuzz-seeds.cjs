// Seed tokens for fuzz_jwt (run from the tree root: node test/data/jwt/fuzz-seeds.cjs)
const c = require('crypto'), fs = require('fs');
const dir = 'test/fuzz/corpus/jwt/';
const key = c.createPrivateKey(fs.readFileSync('test/data/jwt/a.key'));
const b64 = (x) => Buffer.from(x).toString('base64url');
const ISS = 'https://phone.example.net:8443';
const claims = {iss: ISS, aud: 'wss://edge.example.net:8443', sub: 'alice',
  impi: 'alice@ims.test', impu: ['sip:alice@ims.test', 'tel:+15551234'],
  iat: 1700000000, exp: 1700003600, jti: 'x'};
function tok(hdr, pay) {
  const input = b64(typeof hdr === 'string' ? hdr : JSON.stringify(hdr)) + '.' +
    b64(typeof pay === 'string' ? pay : JSON.stringify(pay));
  const sig = c.sign('sha256', Buffer.from(input), {key, dsaEncoding: 'ieee-p1363'});
  return input + '.' + sig.toString('base64url');
}
const es = {alg: 'ES256', typ: 'JWT'};
const seeds = {
  valid: tok(es, claims),
  valid_kid: tok({...es, kid: 'PVnLOfVNQE6HewnKSBdBECeOiZw_46B9CXSmzAqMF4w'}, claims),
  aud_array: tok(es, {...claims, aud: ['a', 'wss://edge.example.net:8443']}),
  pool: tok(es, {...claims, sub: 'guest', pool: 'guests', nbf: 1699999999}),
  expired: tok(es, {...claims, exp: 1600000000}),
  kid_unknown: tok({...es, kid: 'nope'}, claims),
  alg_none: b64('{"alg":"none"}') + '.' + b64(JSON.stringify(claims)) + '.',
  hs256: tok({alg: 'HS256'}, claims),
  crit: tok({...es, crit: ['exp']}, claims),
  dup_key: tok(es, '{"iss":"' + ISS + '","iss":"x"}'),
  escapes: tok(es, {...claims, sub: 'a\u00e9\ud83d\ude00"\\\n\u0001'}),
  numbers: tok(es, '{"iss":"' + ISS + '","exp":1e3,"iat":-0.5E+2,"nbf":[true,false,null]}'),
  deep: tok(es, '{"iss":"' + ISS + '","a":[[[[[[[[[[1]]]]]]]]]]}'),
  wrong_types: tok(es, {...claims, impu: 'sip:a@b', exp: '1'}),
};
for (const [name, t] of Object.entries(seeds))
  fs.writeFileSync(dir + name, t);
const v = seeds.valid;
fs.writeFileSync(dir + 'bad_padding', v + '==');
fs.writeFileSync(dir + 'two_parts', v.slice(0, v.lastIndexOf('.')));
fs.writeFileSync(dir + 'bad_char', v.replace(/\.(.)/, '.*'));
fs.writeFileSync(dir + 'huge', v + 'A'.repeat(4200));

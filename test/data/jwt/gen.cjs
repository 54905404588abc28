// Made the fixtures of test/unit/jwt.c once (node test/data/jwt/gen.cjs test/data/jwt);
// running it again makes new keys and tokens, so the pasted ones in jwt.c
// would need replacing too. a.key came from imsedge -k.
const crypto = require('crypto');
const fs = require('fs');
const d = process.argv[2];
// key b: PKCS#8 PEM (private), c: DER SEC1, p384: wrong curve, rsa
const b = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
fs.writeFileSync(d + '/b.key', b.privateKey.export({type: 'pkcs8', format: 'pem'}));
fs.writeFileSync(d + '/b.pub', b.publicKey.export({type: 'spki', format: 'pem'}));
const c = crypto.generateKeyPairSync('ec', {namedCurve: 'P-256'});
fs.writeFileSync(d + '/c.der', c.privateKey.export({type: 'sec1', format: 'der'}));
fs.writeFileSync(d + '/c.pub.der', c.publicKey.export({type: 'spki', format: 'der'}));
const p = crypto.generateKeyPairSync('ec', {namedCurve: 'P-384'});
fs.writeFileSync(d + '/p384.key', p.privateKey.export({type: 'sec1', format: 'pem'}));
const r = crypto.generateKeyPairSync('rsa', {modulusLength: 1024});
fs.writeFileSync(d + '/rsa.pub', r.publicKey.export({type: 'spki', format: 'pem'}));
// the Node-made token, signed with key b
const b64 = (x) => Buffer.from(x).toString('base64url');
const hdr = {alg: 'ES256', typ: 'JWT'};
const pay = {iss: 'https://node.example', aud: 'wss://edge.example:8443/sip',
  sub: 'alice', impi: 'alice@ims.test', impu: ['sip:alice@ims.test', 'tel:+15551234'],
  iat: 1700000000, exp: 1700003600, jti: 'node-1'};
const input = b64(JSON.stringify(hdr)) + '.' + b64(JSON.stringify(pay));
const sig = crypto.sign('sha256', Buffer.from(input), {key: b.privateKey, dsaEncoding: 'ieee-p1363'});
const tok = input + '.' + sig.toString('base64url');
fs.writeFileSync(d + '/node.jwt', tok + '\n');
// the same with a JWK thumbprint kid, to cross-check RFC 7638
const jwk = b.publicKey.export({format: 'jwk'});
const tp = crypto.createHash('sha256').update(JSON.stringify({crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y})).digest('base64url');
fs.writeFileSync(d + '/b.kid', tp + '\n');
// HS256 over the public key PEM as HMAC secret (alg confusion attack)
const h2 = b64(JSON.stringify({alg: 'HS256', typ: 'JWT'})) + '.' + b64(JSON.stringify(pay));
const mac = crypto.createHmac('sha256', b.publicKey.export({type: 'spki', format: 'pem'})).update(h2).digest('base64url');
fs.writeFileSync(d + '/hs256.jwt', h2 + '.' + mac + '\n');
console.log(tok);

// Interop check of the OFFICIAL pomelo browser client (official-client.js, unchanged) against the
// chat demo's connector alone (no chat backend): handshake with the route dictionary and
// pomelo-protobuf, connector.entryHandler.entry (protobuf request and response),
// connector.entryHandler.echo, a 4 KB echo that travels compressed both ways (permessage-deflate,
// which ws offers as browsers do), and at least two heartbeat rounds. Prints PASS and exits 0 when
// every step passed. Env: HOST, PORT, TRACE=1 (hex dump), WAIT ms (default 7500).
'use strict';
const { newClient } = require('./official-client');
const host = process.env.HOST || '127.0.0.1', port = +(process.env.PORT || 3010);
const t0 = Date.now(), ts = () => ((Date.now() - t0) / 1000).toFixed(3) + 's';
const hb = { 'C->S': 0, 'S->C': 0 };
let entryFrame = null;
let extensions = null;
const a = newClient({
  trace: !!process.env.TRACE,
  onOpen: (ext) => { extensions = ext; },
  onFrame: (dir, b) => {
    if (b[0] === 3) hb[dir]++;
    if (dir === 'C->S' && b[0] === 4 && b.includes(Buffer.from('connector.entryHandler.entry'))) entryFrame = Buffer.from(b); // a copy
  },
});
const got = {};
const errors = [];
const mark = (k, v) => { got[k] = true; console.log(ts(), k, JSON.stringify(v)); };
const check = (cond, what) => { if (!cond) errors.push(what); };
const STEPS = ['handshake', 'entry.response', 'echo.response', 'echo.large'];

a.on('io-error', (e) => errors.push('io-error ' + (e && e.message)));
a.on('onKick', (m) => errors.push('kicked ' + JSON.stringify(m)));
a.init({ host, port, user: { hello: 'interop' } }, () => {
  const dict = a.data.dict || {};
  const protos = a.data.protos || {};
  check(dict['connector.entryHandler.entry'] === 5 && dict['onLeave'] === 8, 'dictionary codes');
  check(protos.client && protos.client['connector.entryHandler.entry'], 'client protos');
  check(protos.server && protos.server['onChat'], 'server protos');
  mark('handshake', { dictRoutes: Object.keys(dict).length, clientProtos: Object.keys(protos.client || {}) });
  a.request('connector.entryHandler.entry', { username: 'interop', rid: 'room1' }, (res) => {
    mark('entry.response', res);
    check(res.code === 200 && Array.isArray(res.users) && res.users.indexOf('interop') >= 0, 'entry response');
    // The request body went out pomelo-protobuf encoded: tag 1 (0a), length 7, "interop".
    check(entryFrame && entryFrame.includes(Buffer.from('0a07696e7465726f70', 'hex')), 'entry body is protobuf');
    a.request('connector.entryHandler.echo', { x: 1, s: 'frontend echo', n: [1, 2.5, null] }, (r) => {
      mark('echo.response', r);
      check(JSON.stringify(r) === JSON.stringify({ x: 1, s: 'frontend echo', n: [1, 2.5, null] }), 'echo');
      // Over ws's 1 KB threshold: the client compresses the request, the server the response.
      const large = { x: 3, s: 'compressible '.repeat(300) };
      a.request('connector.entryHandler.echo', large, (r2) => {
        mark('echo.large', { bytes: JSON.stringify(r2).length });
        check(JSON.stringify(r2) === JSON.stringify(large), 'large echo');
        check(/permessage-deflate/.test(extensions || ''), 'permessage-deflate negotiated (extensions: ' + extensions + ')');
      });
    });
  });
});

setTimeout(() => {
  console.log(ts(), 'heartbeats: sent', hb['C->S'], 'received', hb['S->C']);
  const missing = STEPS.filter((s) => !got[s]);
  // Two rounds: the server's heartbeat after the ACK, the client's answer 3 s later, the
  // server's echo, the client's second heartbeat 3 s after that, and its echo.
  check(hb['C->S'] >= 2 && hb['S->C'] >= 3, 'two heartbeat rounds');
  const ok = missing.length === 0 && errors.length === 0;
  console.log(ok ? 'PASS' : 'FAIL missing=' + missing.join(',') + ' errors=' + errors.join('; '));
  a.disconnect();
  setTimeout(() => process.exit(ok ? 0 : 1), 200);
}, +(process.env.WAIT || 7500));

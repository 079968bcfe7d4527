// Generates testdata/jsvectors.json by running the published pomelo-protobuf library.
//
//   npm pack pomelo-protobuf@0.4.0 && tar xzf pomelo-protobuf-0.4.0.tgz
//   node gen_jsvectors.js ./package > jsvectors.json
//
// Every expected value in the output comes from the library: parsed forms and versions from its
// parser (lib/parser.js) and JSON.stringify, wire bytes from its Node encoder (lib/encoder.js),
// JSON from its Node decoder (lib/decoder.js) and JSON.stringify. The Go tests compare against
// these bytes exactly.
'use strict';
const path = require('path');
const crypto = require('crypto');
const lib = process.argv[2];
if (!lib) {
  console.error('usage: node gen_jsvectors.js <path to pomelo-protobuf package>');
  process.exit(2);
}
const protobuf = require(path.resolve(lib, 'lib/protobuf.js'));
const parser = require(path.resolve(lib, 'lib/parser.js'));
const encoder = require(path.resolve(lib, 'lib/encoder.js'));
const decoder = require(path.resolve(lib, 'lib/decoder.js'));

console.warn = function () {}; // the encoder warns on purpose-made failures

const stripBOM = (s) => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);
const md5 = (s) => crypto.createHash('md5').update(s).digest('base64');

// Description files, as text: the Go parser must give JSON.stringify(parse(JSON.parse(text))).
const parseTexts = {
  'array-index keys': '{"b":{"required uInt32 x":1},"10":{"required uInt32 y":2},"2":{"optional string 5":1,"required uInt32 a":2,"optional uInt32 0":3}}',
  'duplicate keys': '{"r":{"required uInt32 x":1,"optional string y":2,"required uInt32 x":3},"s":{},"r":{"optional uInt32 z":4,"optional uInt32 w":1}}',
  'ignored keys': '{"r":{"required uInt32":1,"required  uInt32 x":2,"optional string y z":3,"message":{},"message A B":{},"foo bar baz":4,"Required uInt32 up":6,"required uInt32 ok":5," required uInt32 lead":7}}',
  'duplicate tags': '{"r":{"required uInt32 a":1,"optional string b":1,"repeated double c":2,"optional uInt32 __tags":2}}',
  'nested order': '{"r":{"message B":{"required uInt32 x":1},"message 3":{"optional string s":1},"optional B b":1,"repeated 3 t":2,"message 1":{}}}',
  'non-object values': '{"a":5,"b":"str","c":[1,2],"d":null,"e":{"message M":7,"optional M m":1,"message N":[1],"repeated N n":2},"f":true}',
  'tag forms': '{"r":{"required uInt32 a":1.0,"required uInt32 b":1e2,"optional uInt32 c":0,"optional uInt32 d":268435455,"optional uInt32 e":-0,"optional uInt32 f":2.5E1}}',
  'names and escapes': '{"r\\u00e9":{"required string n\\u00e9\\"\\\\\\u0001\\u001f\\b\\f\\n\\r\\t":1,"optional string \u4e2d\u6587":2,"optional string <a>&\\u2028\\/":3},"lone\\ud800":{"optional uInt32 x\\udc00y":1,"optional uInt32 pair\\ud83d\\ude00":2},"tab\\there":{}}',
  'recursion': '{"message Node":{"required uInt32 v":1,"optional Node next":2,"repeated Node kids":3},"list":{"repeated Node items":1}}',
  'shadowing': '{"message P":{"required uInt32 top":1},"r":{"message P":{"required string inner":1},"optional P p":1},"s":{"optional P p":1}}',
  'empty': '{}',
  'whitespace and BOM': '\ufeff \r\n\t{ "r" : { "required uInt32 x" : 1 } , "s":{ } }\n',
  'big tags': '{"r":{"optional uInt32 a":300,"optional uInt32 b":7,"optional uInt32 c":100000,"optional uInt32 d":16,"optional uInt32 e":2}}',
};

const parseCases = [];
for (const name of Object.keys(parseTexts)) {
  const text = parseTexts[name];
  const parsed = JSON.stringify(parser.parse(JSON.parse(stripBOM(text))));
  parseCases.push({ name, description: text, parsed, version_as_server: md5('{}' + parsed), version_as_client: md5(parsed + '{}') });
}

// One schema with every type, used by the decode and encode cases (and the Go property tests).
const allProtos = {
  't.all': {
    'optional uInt32 u': 1, 'optional sInt32 s': 2, 'optional int32 i': 3, 'optional float f': 4,
    'optional double d': 5, 'optional string str': 6,
    'message Sub': { 'required uInt32 x': 1, 'optional string name': 2, 'repeated double pos': 3 },
    'optional Sub sub': 7, 'repeated Sub subs': 8,
    'repeated uInt32 ru': 9, 'repeated sInt32 rs': 10, 'repeated int32 ri': 11, 'repeated float rf': 12,
    'repeated double rd': 13, 'repeated string rstr': 14, 'optional uInt32 big': 1000, 'optional Top top': 15,
  },
  'message Top': { 'required string id': 1, 'repeated Top children': 2, 'optional float w': 3 },
};
const parsedAll = parser.parse(allProtos);
encoder.init(parsedAll);
decoder.init(parsedAll);

// Helpers that build wire bytes for t.all, so that lengths are never counted by hand.
const vhex = (n) => { // varint
  const out = [];
  do { let b = n % 128; n = Math.floor(n / 128); if (n) b += 128; out.push(b); } while (n);
  return Buffer.from(out).toString('hex');
};
const lenHex = (h) => vhex(h.length / 2) + h;
const fl = (x) => { const b = Buffer.alloc(4); b.writeFloatLE(x); return b.toString('hex'); };
const db = (x) => { const b = Buffer.alloc(8); b.writeDoubleLE(x); return b.toString('hex'); };
const F = (h) => '25' + h; // optional float f = 4
const D = (h) => '29' + h; // optional double d = 5
const S = (h) => '32' + lenHex(h); // optional string str = 6
const decodeHex = [
  // floats: 0.1, 1e-7, max, min normal, smallest denormal, -0, 16777216, NaN, +Inf, -Inf
  F(fl(0.1)), F(fl(1e-7)), F(fl(3.4028234663852886e38)), F(fl(1.1754943508222875e-38)), F(fl(1.401298464324817e-45)),
  F(fl(-0)), F(fl(16777216)), F('0000c07f'), F('0000807f'), F('000080ff'), F(fl(-123.456)), F(fl(1e10)), F(fl(3.3e-5)),
  // doubles
  ...[0.1, 1e21, 1e-7, 123456789012345680000, 5e-324, 1.7976931348623157e308, -1e-7, 1e-6, 1.234e-6, 1e20,
    9007199254740992, 9007199254740994, -0, 1.5e300, 0.000001, 123.456, 1 / 3, -2.5e-8, 4.35, 1e100].map((x) => D(db(x))),
  D('000000000000f87f'), D('000000000000f0ff'),
  // strings: ASCII specials, control characters, invalid UTF-8 of every kind, non-BMP
  S('22225c3c3e262f7f'), S('000108090a0c0d1f'), S('ff6162'), S('c328'), S('e4b8'), S('eda080'), S('f09f98'),
  S('f4908080'), S('c080'), S('f09f9880'), S('e280a8e280a9'), S('efbfbd'), S('e4b8ade6'), S('e0808041'), S('80bf41'),
  S('f8888080'), S('ed9fbf'), S('f0908080f48fbfbf'),
  // repeated runs: empty run, two runs of one field, non-minimal varint, packed floats and doubles
  '4800', '480101480102' + '5002' + '1f03', '088000', '108000', '5802' + '0203',
  '6502' + fl(1) + '0000c0ff', '6901' + db(0), '7201' + '61' + '7200' + '7203' + 'e4b8ad',
  // nested and recursive
  '3a' + lenHex('0801') + '42' + lenHex('0801' + '120161') + '42' + lenHex('0802'),
  '7a' + lenHex('0a0161' + '12' + lenHex('0a0162') + '1d' + fl(100)),
  '7a' + lenHex('0a0161' + '12' + lenHex('0a0162' + '12' + lenHex('0a0163'))),
  '3a' + lenHex('0801' + '1a02' + db(1.5) + db(-2.25)),
  'c03e' + vhex(4095), 'c03e' + vhex(4294967295),
  '0801' + '1003' + '1805' + F(fl(2.5)) + S('616263') + '4803010203',
];

const decodeCases = [];
for (const h of decodeHex) {
  let json = null;
  try {
    const v = decoder.decode('t.all', Buffer.from(h, 'hex'));
    json = JSON.stringify(v);
  } catch (e) {
    continue; // not a message the Node decoder reads: the Go tests have their own error table
  }
  decodeCases.push({ hex: h, json });
}

const longStr = 'x'.repeat(200);
const many = Array.from({ length: 200 }, (_, i) => i * 1000);
const encodeMsgs = [
  '{"u":1.7,"s":-1.5,"i":2.9,"f":0.1,"d":0.1}',
  '{"str":"\\u00e9\\n\\"\\\\\\u0000\\ud83d\\ude00 \\u4e2d"}',
  '{"str":"lone \\ud800 high, lone \\udc00 low, reversed \\udc00\\ud800"}',
  '{"str":"' + longStr + '"}',
  '{"ru":' + JSON.stringify(many) + '}',
  '{"rs":[-1,0,1,-2147483648,2147483647],"ri":[-7,7],"rf":[0.5,-0.25,16777217,1e-46,3.4028235677973366e38],"rd":[0.1,-0,1e300]}',
  '{"sub":{"x":1,"name":"' + longStr + '","pos":[1.5]},"u":3}',
  '{"subs":[{"x":1},{"x":2,"name":"b"},{"x":3,"pos":[0.1,0.2]}]}',
  '{"top":{"id":"a","children":[{"id":"b","children":[{"id":"c"}]},{"id":"d","w":2.5}]}}',
  '{"zz":{"deep":[1,{"x":[null,true,false,"s"]}]},"u":5,"unknown":"x","big":4294967295}',
  '{"big":4294967295,"u":0,"s":0,"i":-2147483648,"d":-1e-7,"f":-0}',
  '{"rstr":["a","","\\u00e9"],"ru":[],"rd":[],"str":""}',
  '{"sub":{"x":0},"subs":[],"top":{"id":""}}',
];
const encodeCases = [];
for (const text of encodeMsgs) {
  let out = null;
  try {
    out = protobuf.encode('t.all', JSON.parse(text));
  } catch (e) {
    out = null;
  }
  if (!out) {
    console.error('encode failed: ' + text);
    process.exit(1);
  }
  encodeCases.push({ msg: text, hex: out.toString('hex') });
}

process.stdout.write(JSON.stringify({
  about: 'Generated by gen_jsvectors.js from npm pomelo-protobuf@0.4.0 under Node ' + process.version +
    '. parse_cases: description text -> JSON.stringify(parser.parse(JSON.parse(text))) and the protoVersion with the other file {}. ' +
    'decode_cases: t.all wire hex -> JSON.stringify(decoder.decode). encode_cases: JSON text -> encoder.encode hex.',
  protos: JSON.stringify(allProtos),
  parse_cases: parseCases,
  decode_cases: decodeCases,
  encode_cases: encodeCases,
}, null, 1) + '\n');

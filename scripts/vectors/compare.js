#!/usr/bin/env node
// compare.js GENERATED REFERENCE [LABEL]
//
// Compares two vector files semantically (parsed JSON, object key order
// ignored, array order and number values significant) and says whether
// they are also byte-identical. On a difference it names the cases that
// differ and the first differing paths. Exit status: 0 equal, 1 different,
// 2 usage or read error. Uses only Node built-ins.
'use strict';

const fs = require('fs');
const util = require('util');

const MAX_PATHS = 10;

function diffPaths(a, b, path, out) {
  if (out.length >= MAX_PATHS) return;
  if (util.isDeepStrictEqual(a, b)) return;
  const bothObjects = a && b && typeof a === 'object' && typeof b === 'object' &&
    Array.isArray(a) === Array.isArray(b);
  if (!bothObjects) {
    out.push(`${path || '.'}: generated ${short(a)}, reference ${short(b)}`);
    return;
  }
  if (Array.isArray(a) && a.length !== b.length) {
    out.push(`${path}: generated has ${a.length} elements, reference ${b.length}`);
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const sub = Array.isArray(a) ? `${path}[${k}]` : `${path}.${k}`;
    if (!(k in a)) out.push(`${sub}: missing from generated`);
    else if (!(k in b)) out.push(`${sub}: missing from reference`);
    else diffPaths(a[k], b[k], sub, out);
    if (out.length >= MAX_PATHS) return;
  }
}

function short(v) {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 80 ? s.slice(0, 77) + '...' : s;
}

// caseLabel names an element of a "cases"-like array for the report.
function caseLabel(c, i) {
  if (c && typeof c === 'object') {
    for (const k of ['name', 'uid', 'route']) {
      if (typeof c[k] === 'string') return `#${i} ${JSON.stringify(c[k])}`;
    }
  }
  return `#${i}`;
}

function main() {
  const [genPath, refPath, label = refPath] = process.argv.slice(2);
  if (!genPath || !refPath) {
    process.stderr.write('usage: compare.js GENERATED REFERENCE [LABEL]\n');
    process.exit(2);
  }
  let genText, refText, gen, ref;
  try {
    genText = fs.readFileSync(genPath, 'utf8');
    refText = fs.readFileSync(refPath, 'utf8');
    gen = JSON.parse(genText);
    ref = JSON.parse(refText);
  } catch (e) {
    process.stderr.write(`${label}: ${e.message}\n`);
    process.exit(2);
  }

  if (util.isDeepStrictEqual(gen, ref)) {
    const bytes = genText === refText ? 'byte-identical' : 'same content, different formatting';
    process.stdout.write(`ok    ${label} (${bytes})\n`);
    return;
  }

  process.stdout.write(`DIFF  ${label}\n`);
  // Name differing cases in every top-level array (cases, server_cases, ...).
  for (const key of Object.keys(gen)) {
    if (!Array.isArray(gen[key]) || !Array.isArray(ref[key])) continue;
    const n = Math.max(gen[key].length, ref[key].length);
    for (let i = 0; i < n; i++) {
      if (!util.isDeepStrictEqual(gen[key][i], ref[key][i])) {
        const c = gen[key][i] !== undefined ? gen[key][i] : ref[key][i];
        process.stdout.write(`      ${key} ${caseLabel(c, i)} differs\n`);
      }
    }
  }
  const paths = [];
  diffPaths(gen, ref, '', paths);
  for (const p of paths) process.stdout.write(`      ${p}\n`);
  process.exit(1);
}

main();

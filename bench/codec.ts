// Codec micro-benchmarks: our encoder beside xmlbuilder2 (the oracle of the
// encoder tests), and our decoder beside the reference decoder it replaced
// (test/reference-decode.ts, the oracle of the differential test) and a bare
// fast-xml-parser parse (which builds only a tree, no values), on the same
// payloads (bench/workloads.ts), in one run.

import { XMLParser } from 'fast-xml-parser';
import { create } from 'xmlbuilder2';
import { dumps } from '../lib/xmlrpc/encode.js';
import { loads } from '../lib/xmlrpc/decode.js';
import { referenceLoads } from '../test/reference-decode.js';
import { formatRate, rate, table } from './measure.js';
import { PAYLOADS } from './workloads.js';

type Builder = ReturnType<typeof create>;

// xmlbuilder2 building the same methodCall, value by value.
function builderValue(parent: Builder, v: unknown): void {
  const value = parent.ele('value');
  if (typeof v === 'number') value.ele(Number.isInteger(v) ? 'int' : 'double').txt(String(v));
  else if (typeof v === 'string') value.ele('string').txt(v);
  else if (typeof v === 'boolean') value.ele('boolean').txt(v ? '1' : '0');
  else if (Buffer.isBuffer(v)) value.ele('base64').txt(v.toString('base64'));
  else if (Array.isArray(v)) {
    const data = value.ele('array').ele('data');
    for (const e of v) builderValue(data, e);
  } else {
    const struct = value.ele('struct');
    for (const [k, e] of Object.entries(v as object)) {
      const member = struct.ele('member');
      member.ele('name').txt(k);
      builderValue(member, e);
    }
  }
}

function builderDumps(params: unknown[], method: string): string {
  const doc = create({ version: '1.0' });
  const call = doc.ele('methodCall');
  call.ele('methodName').txt(method);
  const ps = call.ele('params');
  for (const p of params) builderValue(ps.ele('param'), p);
  return doc.end();
}

export function runCodecBench(): string {
  const fxp = new XMLParser({ preserveOrder: true, ignoreAttributes: true, parseTagValue: false, trimValues: false });
  const rows: string[][] = [];
  for (const [name, params] of PAYLOADS) {
    const xml = dumps(params, 'echo');
    const bytes = Buffer.from(xml);
    const mb = bytes.length / 1e6;
    const big = bytes.length > 100_000;
    const opts = big ? { rounds: 3, roundMs: 400, maxOps: 2000 } : {};
    const enc = rate(() => dumps(params, 'echo'), opts);
    const encPeer = rate(() => builderDumps(params, 'echo'), { ...opts, maxOps: big ? 20 : 100_000 });
    const dec = rate(() => loads(bytes), opts);
    const decRef = rate(() => referenceLoads(bytes), { ...opts, maxOps: big ? 200 : 100_000 });
    const decPeer = rate(() => fxp.parse(bytes), { ...opts, maxOps: big ? 200 : 100_000 });
    rows.push([
      name,
      `${(bytes.length / 1024).toFixed(1)} KiB`,
      formatRate(enc.opsPerSec),
      formatRate(encPeer.opsPerSec),
      `${(enc.opsPerSec / encPeer.opsPerSec).toFixed(1)}x`,
      formatRate(dec.opsPerSec),
      `${(dec.opsPerSec * mb).toFixed(1)} MB/s`,
      formatRate(decRef.opsPerSec),
      `${(dec.opsPerSec / decRef.opsPerSec).toFixed(1)}x`,
      formatRate(decPeer.opsPerSec),
      `${(dec.opsPerSec / decPeer.opsPerSec).toFixed(2)}x`,
    ]);
  }
  return table(['payload', 'size', 'encode ours', 'xmlbuilder2', 'ratio', 'decode ours', 'ours MB/s', 'reference', 'ratio', 'fast-xml-parser', 'ratio'], rows);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(runCodecBench());
}

// The pull decoder (lib/xmlrpc/decode.ts) against the reference decoder
// (test/reference-decode.ts: the scan + fast-xml-parser + walk pipeline it
// replaced), document by document: both must return the same values (-0,
// bigint, Buffer, Date, Double and null-prototype structs compared exactly),
// or both throw a DecodeError with the same code, or both the same Fault.
// Fed: the decode test corpus, every truncation of its samples, random
// values written in random but valid styles (white space, comments, PIs,
// CDATA, references, prefixes, attributes, Python's layout, encodings), byte
// mutations and element-level mutations of those, long base64 canonical or
// not, and documents nested past a small maxDepth with an XML-RPC error put
// after the deep part (the one case where the rank of two errors depends on
// the walk order, see lib/xmlrpc/ranking.ts), plus a table of those ranking rules.

import t, { type Test } from 'tap';
import { inspect } from 'node:util';
import { DecodeError, Fault } from '../lib/errors.js';
import { loads, type DecodeOptions } from '../lib/xmlrpc/decode.js';
import { referenceLoads } from './reference-decode.js';
import { Double } from '../lib/xmlrpc/values.js';
import { ACCEPTED_DOCS, ACCEPTED_VALUES, MALFORMED, SAMPLES, call, mutate, prng } from './xml-corpus.js';

type Doc = string | Buffer;
type Rand = () => number;

// ---------------------------------------------------------------------------
// comparing outcomes

type Outcome =
  | { kind: 'value'; value: unknown }
  | { kind: 'decode-error'; code: string; message: string }
  | { kind: 'fault'; faultCode: number; faultString: string }
  | { kind: 'other'; error: unknown };

function outcome(fn: () => unknown): Outcome {
  try {
    return { kind: 'value', value: fn() };
  } catch (err) {
    if (err instanceof DecodeError) return { kind: 'decode-error', code: err.code, message: err.message };
    if (err instanceof Fault) return { kind: 'fault', faultCode: err.faultCode, faultString: err.faultString };
    return { kind: 'other', error: err };
  }
}

/** Where two decoded values differ, or null. Exact: -0 is not 0, a Buffer is not a Uint8Array. */
function difference(a: unknown, b: unknown, path = '$'): string | null {
  if (typeof a !== typeof b) return `${path}: ${typeof a} vs ${typeof b}`;
  if (typeof a === 'number') return Object.is(a, b) ? null : `${path}: ${a} vs ${b as number}`;
  if (typeof a !== 'object' || a === null || b === null) return a === b ? null : `${path}: ${String(a)} vs ${String(b)}`;
  const o = b as object;
  if (Buffer.isBuffer(a) || Buffer.isBuffer(o)) {
    return Buffer.isBuffer(a) && Buffer.isBuffer(o) && a.equals(o) ? null : `${path}: Buffers differ`;
  }
  if (a instanceof Date || o instanceof Date) {
    return a instanceof Date && o instanceof Date && Object.is(a.getTime(), o.getTime()) ? null : `${path}: Dates differ`;
  }
  if (a instanceof Double || o instanceof Double) {
    return a instanceof Double && o instanceof Double && Object.is(a.value, o.value) ? null : `${path}: Doubles differ`;
  }
  if (Array.isArray(a) || Array.isArray(o)) {
    if (!Array.isArray(a) || !Array.isArray(o) || a.length !== o.length) return `${path}: arrays differ in kind or length`;
    for (let k = 0; k < a.length; k++) {
      const d = difference(a[k], o[k], `${path}[${k}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(o)) return `${path}: prototypes differ`;
  const ka = Reflect.ownKeys(a);
  const kb = Reflect.ownKeys(o);
  if (ka.length !== kb.length || ka.some((k, n) => k !== kb[n])) return `${path}: keys ${String(ka)} vs ${String(kb)}`;
  for (const k of ka) {
    const d = difference((a as Record<string | symbol, unknown>)[k], (o as Record<string | symbol, unknown>)[k], `${path}.${String(k)}`);
    if (d !== null) return d;
  }
  return null;
}

function mismatch(ours: Outcome, ref: Outcome): string | null {
  if (ours.kind !== ref.kind) return `${describe(ours)} vs reference ${describe(ref)}`;
  switch (ours.kind) {
    case 'value': {
      const d = difference(ours.value, (ref as { value: unknown }).value);
      return d === null ? null : `values differ at ${d}`;
    }
    case 'decode-error':
      return ours.code === (ref as { code: string }).code ? null : `${describe(ours)} vs reference ${describe(ref)}`;
    case 'fault': {
      const r = ref as { faultCode: number; faultString: string };
      return ours.faultCode === r.faultCode && ours.faultString === r.faultString ? null : 'faults differ';
    }
    default: {
      const e = (x: Outcome) => ((x as { error: unknown }).error as Error)?.constructor?.name;
      return e(ours) === e(ref) ? null : `${describe(ours)} vs reference ${describe(ref)}`;
    }
  }
}

function describe(o: Outcome): string {
  switch (o.kind) {
    case 'value':
      return 'a value';
    case 'decode-error':
      return `${o.code} (${o.message})`;
    case 'fault':
      return `Fault ${o.faultCode}`;
    default:
      return `${String(o.error)}`;
  }
}

/** Runs one document through both decoders; tallies the outcome. */
class Differ {
  readonly outcomes = new Map<string, number>();
  failures = 0;
  checked = 0;
  constructor(private readonly t: Test) {}

  check(label: string, doc: Doc, options?: DecodeOptions): Outcome {
    const ours = outcome(() => loads(doc, options));
    const ref = outcome(() => referenceLoads(doc, options));
    this.checked++;
    const key = ours.kind === 'decode-error' ? ours.code : ours.kind;
    this.outcomes.set(key, (this.outcomes.get(key) ?? 0) + 1);
    const d = mismatch(ours, ref);
    if (d !== null) {
      this.failures++;
      if (this.failures <= 25) {
        const text = typeof doc === 'string' ? doc : doc.toString('latin1');
        this.t.fail(
          `${label}: ${d}\n  options: ${JSON.stringify(options ?? {})}\n  doc: ${JSON.stringify(text.length > 600 ? text.slice(0, 600) + '…' : text)}`,
        );
      }
    }
    return ours;
  }

  report(what: string): void {
    this.t.equal(this.failures, 0, `${this.checked} ${what}: the same outcome from both decoders`);
    this.t.comment([...this.outcomes].map(([o, n]) => `${o}: ${n}`).join(', '));
  }
}

// ---------------------------------------------------------------------------
// random values, written in random valid styles

type Node =
  | { t: 'int' | 'double'; v: number }
  | { t: 'i8'; v: bigint }
  | { t: 'boolean'; v: boolean }
  | { t: 'string' | 'untyped'; v: string }
  | { t: 'date'; v: Date }
  | { t: 'base64'; v: Buffer }
  | { t: 'nil' }
  | { t: 'array'; v: Node[] }
  | { t: 'struct'; v: Array<[string, Node]> }
  | { t: 'raw'; xml: string }; // the inside of a <value>, verbatim

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
const chance = (r: Rand, p: number): boolean => r() < p;

const CHARS = [
  'a',
  'b',
  'Z',
  '0',
  ' ',
  ' ',
  '\t',
  '\n',
  '\r',
  '\r\n',
  '<',
  '>',
  '&',
  '"',
  "'",
  ']',
  ']]>',
  ';',
  '=',
  '/',
  'é',
  '€',
  '😀',
  '\u00a0',
  '\u0085',
  '\u2028',
  '\ufffd',
  '\ufeff',
  '中',
  '#',
  '-',
  '--',
];
const KEYS = ['a', 'b', 'faultCode', 'faultString', '__proto__', 'constructor', 'toString', '04', '1', '0', '', ' spaced ', 'x<y', 'é'];

function randomString(r: Rand): string {
  let s = '';
  const n = Math.floor(r() * r() * 24);
  for (let k = 0; k < n; k++) s += pick(r, CHARS);
  return s;
}

function randomNode(r: Rand, depth: number): Node {
  switch (Math.floor(r() * (depth >= 4 ? 10 : 12))) {
    case 0:
      return { t: 'int', v: pick(r, [0, 1, -1, 7, 2147483647, -2147483648, Math.floor(r() * 2 ** 32) - 2 ** 31]) };
    case 1:
      return { t: 'i8', v: pick(r, [0n, -1n, 2n ** 63n - 1n, -(2n ** 63n), BigInt(Math.floor(r() * 2 ** 53)) * pick(r, [1n, -1n, 1000n])]) };
    case 2:
      return { t: 'double', v: pick(r, [-0, 0, 0.5, -1.25, 1e300, -1e-300, 5e-324, 2 ** 53, 1 / 3, Math.floor(r() * 1e6), (r() - 0.5) * 1e9]) };
    case 3:
      return { t: 'boolean', v: r() < 0.5 };
    case 4:
      return { t: 'string', v: randomString(r) };
    case 5:
      return { t: 'untyped', v: randomString(r) };
    case 6:
      return { t: 'date', v: new Date(Math.floor((r() - 0.3) * 2 ** 42)) };
    case 7:
      return { t: 'base64', v: Buffer.from(Array.from({ length: Math.floor(r() * r() * (chance(r, 0.2) ? 1200 : 120)) }, () => Math.floor(r() * 256))) };
    case 8:
      return { t: 'nil' };
    case 9:
      return { t: 'string', v: randomString(r) };
    case 10:
      return { t: 'array', v: Array.from({ length: Math.floor(r() * 5) }, () => randomNode(r, depth + 1)) };
    default:
      return { t: 'struct', v: Array.from({ length: Math.floor(r() * 5) }, () => [pick(r, KEYS), randomNode(r, depth + 1)] as [string, Node]) };
  }
}

interface Style {
  python: boolean; // newlines where Python's xmlrpc.client puts them
  ws: number; // white space between elements
  misc: number; // comments and processing instructions
  refs: number; // characters written as references
  cdata: number;
  prefix: number; // ex: prefixes
  attrs: number;
  empty: number; // <x/> for empty elements
}

function randomStyle(r: Rand): Style {
  const python = chance(r, 0.3);
  const level = (p: number) => (chance(r, p) ? r() * 0.4 : 0);
  return { python, ws: level(0.5), misc: level(0.3), refs: level(0.4), cdata: level(0.3), prefix: level(0.15), attrs: level(0.15), empty: r() };
}

const WS = [' ', '\n', '\t', '\r\n', '\r', '  \n  '];
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Valid base64 that is not canonical: nonzero bits after the last byte (`QR==` for `QQ==`). */
function nonCanonical(b64: string): string {
  const m = /([A-Za-z0-9+/])(=+)$/.exec(b64);
  if (m === null) return b64;
  const at = m.index;
  return b64.slice(0, at) + B64[B64.indexOf(m[1] as string) | 1] + m[2];
}
const MISC = ['<!-- c -->', '<!---->', '<?pi x?>', '<?pi?>', "<?pi it's?>", '<!-- <value> -->'];
// Character data that XML-RPC reads as white space where only white space may be.
const WS_DATA = ['&#32;', '&#x9;', '&#10;', '<![CDATA[ ]]>', '<![CDATA[]]>'];

class Writer {
  constructor(
    private readonly r: Rand,
    private readonly st: Style,
  ) {}

  /** Between elements. */
  gap(nl = false): string {
    const { r, st } = this;
    let out = st.python && nl ? '\n' : '';
    while (chance(r, st.ws)) out += pick(r, WS);
    while (chance(r, st.misc)) out += pick(r, MISC) + (chance(r, st.ws) ? pick(r, WS) : '');
    return out;
  }

  /** Between elements, where character data that is white space also counts (value, data, struct...). */
  gapData(nl = false): string {
    let out = this.gap(nl);
    while (chance(this.r, this.st.refs * 0.3)) out += pick(this.r, WS_DATA);
    return out;
  }

  el(name: string, content: string, emptyOk = false): string {
    const { r, st } = this;
    const raw = (chance(r, st.prefix) ? 'ex:' : '') + name;
    const attrs = chance(r, st.attrs) ? pick(r, [' a="1"', ` b='x&amp;y'`, ' xmlns:ex="urn:x"', ' c="it\'s >" d=\'"\'', '\n a = "&#65;"']) : '';
    if (emptyOk && content === '' && chance(r, st.empty)) return `<${raw}${attrs}${chance(r, 0.2) ? ' ' : ''}/>`;
    return `<${raw}${attrs}>${content}</${raw}${chance(r, 0.1) ? ' ' : ''}>`;
  }

  /** Character data for a string, escaped at random. */
  text(s: string): string {
    const { r, st } = this;
    let out = '';
    let cdata: string | null = null;
    const flush = () => {
      if (cdata !== null) out += `<![CDATA[${cdata}]]>`;
      cdata = null;
    };
    for (const ch of s) {
      if (cdata !== null && !(cdata + ch).includes(']]>') && chance(r, 0.9)) {
        cdata += ch;
        continue;
      }
      flush();
      if (chance(r, st.cdata) && ch !== '>') {
        cdata = ch;
        continue;
      }
      if (chance(r, st.misc * 0.2)) out += pick(r, MISC);
      const cp = ch.codePointAt(0) as number;
      if (ch === '<') out += pick(r, ['&lt;', '&#60;', '&#x3C;', '&#x3c;']);
      else if (ch === '&') out += pick(r, ['&amp;', '&#38;', '&#x26;']);
      else if (ch === '>' && (out.endsWith(']]') || chance(r, st.refs))) out += pick(r, ['&gt;', '&#62;']);
      else if (ch === '\r' && chance(r, 0.7)) out += '&#13;';
      else if (chance(r, st.refs)) {
        // A reference: for a quote, its predefined entity half the time; else a numeric one.
        if (ch === '"' && chance(r, 0.5)) out += '&quot;';
        else if (ch === "'" && chance(r, 0.5)) out += '&apos;';
        else out += chance(r, 0.5) ? `&#${cp};` : `&#x${cp.toString(16)};`;
      } else out += ch;
    }
    flush();
    return out;
  }

  pad(s: string): string {
    const { r, st } = this;
    const p = () => (chance(r, st.ws) ? pick(r, WS) : '');
    return p() + s + p();
  }

  value(node: Node): string {
    const { r, st } = this;
    let typed: string;
    switch (node.t) {
      case 'int': {
        let digits = String(Math.abs(node.v));
        if (chance(r, 0.1)) digits = '00' + digits;
        const sign = node.v < 0 ? '-' : chance(r, 0.1) ? (node.v === 0 ? '-' : '+') : '';
        typed = this.el(pick(r, ['int', 'i4']), this.pad(sign + digits));
        break;
      }
      case 'i8':
        typed = this.el('i8', this.pad(String(node.v)));
        break;
      case 'double': {
        const v = node.v;
        const text = Object.is(v, -0)
          ? pick(r, ['-0.0', '-0', '-.0e0'])
          : pick(r, [String(v), v.toExponential(), Number.isInteger(v) && Math.abs(v) < 1e21 ? `${v}.0` : String(v)]);
        typed = this.el('double', this.pad(text));
        break;
      }
      case 'boolean':
        typed = this.el('boolean', this.pad(node.v ? '1' : '0'));
        break;
      case 'string':
        typed = this.el('string', this.text(node.v), true);
        break;
      case 'raw':
        return `<value>${node.xml}</value>`;
      case 'untyped':
        // An untyped value is its text: no gaps around it.
        return this.el('value', this.text(node.v), true);
      case 'date': {
        const iso = node.v.toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ, or ±YYYYYY-… out of range
        if (!/^\d{4}-/.test(iso)) {
          typed = this.el('string', 'out of range');
          break;
        }
        const [date, time] = iso.slice(0, 19).split('T') as [string, string];
        const d = chance(r, 0.5) ? date.replace(/-/g, '') : date;
        const tm = chance(r, 0.7) ? time : time.replace(/:/g, '');
        const frac = chance(r, 0.3) ? iso.slice(19, 23) : '';
        typed = this.el('dateTime.iso8601', this.pad(`${d}T${tm}${frac}${pick(r, ['', '', 'Z', '+00:00', '-0000'])}`));
        break;
      }
      case 'base64': {
        let b64 = node.v.toString('base64');
        if (chance(r, 0.2)) b64 = b64.replace(/=+$/, '');
        else if (chance(r, 0.1)) b64 = nonCanonical(b64);
        if (st.python) b64 = '\n' + (b64.match(/.{1,76}/g) ?? []).join('\n') + '\n';
        else if (chance(r, st.ws)) b64 = b64.replace(/(.{1,7})/g, (m) => m + (chance(r, 0.3) ? pick(r, WS) : ''));
        typed = this.el('base64', b64, true);
        break;
      }
      case 'nil':
        typed = this.el('nil', chance(r, 0.2) ? pick(r, [' ', '&#32;', '<![CDATA[\n]]>']) : '', true);
        break;
      case 'array': {
        const items = node.v.map((v) => this.gapData(true) + this.value(v)).join('');
        const data = this.el('data', items === '' ? this.gapData(st.python) : items + this.gapData(true), true);
        typed = this.el('array', this.gapData() + data + this.gapData());
        break;
      }
      case 'struct': {
        const members = node.v
          .map(([k, v]) => {
            const name = this.el('name', this.text(k), true);
            const value = this.value(v);
            const parts = chance(r, 0.1) ? [value, name] : [name, value];
            return this.gapData(true) + this.el('member', this.gapData(true) + parts[0] + this.gapData(true) + parts[1] + this.gapData(true));
          })
          .join('');
        typed = this.el('struct', members === '' ? this.gapData() : members + this.gapData(true), true);
        break;
      }
    }
    return this.el('value', this.gapData() + typed + this.gapData());
  }

  param(node: Node): string {
    return this.gap(true) + this.el('param', this.gap(true) + this.value(node) + this.gap(true));
  }

  document(kind: 'call' | 'response' | 'fault', nodes: Node[], declaration: string): string {
    const { r } = this;
    let root: string;
    if (kind === 'call') {
      const name = this.el('methodName', this.pad(pick(r, ['m', 'system.listMethods', 'a.b_c:d/e', 'x'])));
      const params =
        nodes.length === 0 && chance(r, 0.5) ? '' : this.gap(true) + this.el('params', nodes.map((n) => this.param(n)).join('') + this.gap(true), true);
      root = this.el('methodCall', this.gap(true) + name + params + this.gap(true), false);
    } else if (kind === 'response') {
      root = this.el('methodResponse', this.gap(true) + this.el('params', this.param(nodes[0] as Node) + this.gap(true)) + this.gap(true));
    } else {
      const members: Array<[string, Node]> = [
        ['faultCode', { t: 'int', v: Math.floor(r() * 1000) - 500 }],
        ['faultString', { t: chance(r, 0.5) ? 'string' : 'untyped', v: randomString(r) }],
      ];
      if (chance(r, 0.3)) members.push(['extra', nodes[0] as Node]);
      if (chance(r, 0.5)) members.reverse();
      const struct: Node = { t: 'struct', v: members };
      root = this.el('methodResponse', this.gap(true) + this.el('fault', this.gap(true) + this.value(struct) + this.gap(true)) + this.gap(true));
    }
    return declaration + this.gap(true) + root + this.gap(true);
  }
}

/** A random valid document, as a string or as bytes in a random encoding. */
function randomDocument(r: Rand, nodes?: Node[]): Doc {
  const st = randomStyle(r);
  const w = new Writer(r, st);
  const kind = pick(r, ['call', 'call', 'response', 'fault'] as const);
  const ns = nodes ?? Array.from({ length: kind === 'call' ? Math.floor(r() * 4) : 1 }, () => randomNode(r, 0));
  const form = pick(r, ['string', 'utf-8', 'utf-8', 'utf-8 BOM', 'utf-16le BOM', 'latin1']);
  const version = pick(r, ['"1.0"', "'1.0'", '"1.1"']);
  let decl = pick(r, ['', `<?xml version=${version}?>`, `<?xml version=${version} standalone="yes" ?>`]);
  if (form === 'utf-8' || form === 'utf-8 BOM')
    decl = pick(r, [decl, `<?xml version=${version} encoding="UTF-8"?>`, `<?xml version=${version} encoding='utf8'?>`]);
  if (form === 'utf-16le BOM') decl = pick(r, [decl, `<?xml version=${version} encoding="UTF-16"?>`]);
  if (form === 'latin1') decl = `<?xml version=${version} encoding="${pick(r, ['ISO-8859-1', 'latin1'])}"?>`;
  const text = w.document(kind, ns, decl);
  switch (form) {
    case 'string':
      return chance(r, 0.1) ? '\ufeff' + text : text;
    case 'utf-8':
      return Buffer.from(text);
    case 'utf-8 BOM':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    case 'utf-16le BOM':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    default:
      // ISO-8859-1 cannot hold every character: the others become references.
      return Buffer.from(
        text.replace(/[^\x00-\xff]/gu, (c) => `&#${c.codePointAt(0)};`),
        'latin1',
      );
  }
}

function randomOptions(r: Rand): DecodeOptions | undefined {
  if (chance(r, 0.7)) return undefined;
  return pick(r, [{ wrapDoubles: true }, { maxDepth: 0 }, { maxDepth: 1 }, { maxDepth: 2 }, { maxDepth: 3 }, { maxDepth: 1, wrapDoubles: true }]);
}

// ---------------------------------------------------------------------------
// the corpus

t.test('agrees with the reference on every document of the decode corpus', async (t) => {
  const differ = new Differ(t);
  for (const [name, doc] of MALFORMED) {
    differ.check(name, doc);
    if (typeof doc === 'string') differ.check(`${name} (bytes)`, Buffer.from(doc));
  }
  for (const v of ACCEPTED_VALUES) {
    const doc = call(v);
    for (const options of [undefined, { wrapDoubles: true }, { maxDepth: 0 }]) {
      const o = differ.check(v, doc, options);
      if (options === undefined && o.kind !== 'value') t.fail(`${v} does not decode: ${describe(o)}`);
    }
    differ.check(`${v} (bytes)`, Buffer.from(doc));
  }
  for (const [name, doc, options] of ACCEPTED_DOCS) {
    const o = differ.check(name, doc, options);
    if (o.kind !== 'value' && o.kind !== 'fault') t.fail(`${name} does not decode: ${describe(o)}`);
  }
  differ.report('corpus documents');
});

t.test('agrees with the reference on every truncation of the samples', async (t) => {
  const differ = new Differ(t);
  for (const sample of SAMPLES) {
    for (let n = 0; n <= sample.length; n++) {
      differ.check(`prefix ${n}`, sample.subarray(0, n));
      differ.check(`prefix ${n} as text`, sample.subarray(0, n).toString('latin1'));
    }
  }
  differ.report('truncations');
});

t.test('agrees with the reference on 3,000 random values written in random valid styles', async (t) => {
  const r = prng(0xd1ff);
  const differ = new Differ(t);
  let refused = 0;
  for (let k = 0; k < 3000; k++) {
    const doc = randomDocument(r);
    const o = differ.check(`document ${k}`, doc, randomOptions(r));
    if (o.kind === 'decode-error' && o.code !== 'ERR_XML_TOO_DEEP') {
      refused++;
      if (refused <= 5) t.fail(`generated document ${k} is refused: ${describe(o)}: ${JSON.stringify(String(doc).slice(0, 300))}`);
    }
  }
  differ.report('random documents');
});

t.test('agrees with the reference on 4,000 seeded mutations of valid documents', async (t) => {
  const r = prng(0xbad5eed);
  const differ = new Differ(t);
  const seeds: Buffer[] = [...SAMPLES];
  for (let k = 0; k < 40; k++) {
    const doc = randomDocument(r);
    seeds.push(typeof doc === 'string' ? Buffer.from(doc) : doc);
  }
  for (let k = 0; k < 4000; k++) {
    const seed = pick(r, seeds);
    const doc = mutate(seed, r);
    differ.check(`mutation ${k}`, chance(r, 0.2) ? doc.toString('latin1') : doc, randomOptions(r));
  }
  differ.report('mutations');
});

// Long base64 is checked by re-encoding it (scalars.ts); anything not
// canonical goes the exact way. Both ways, against the reference.
const B64_EDITS = ['!', '-', '_', '&#65;', '&#x3d;', '<!---->', '<?pi?>', '<![CDATA[QUJD]]>', '=', '==', ' ', '\r\n', '\u00e9', '\u00a0', ']]>', '<x/>'];

t.test('agrees with the reference on 600 long base64 values, canonical or not', async (t) => {
  const r = prng(0xb64);
  const differ = new Differ(t);
  for (let k = 0; k < 600; k++) {
    const bytes = Buffer.from(Array.from({ length: 150 + Math.floor(r() * 1500) }, () => Math.floor(r() * 256)));
    let b64 = bytes.toString('base64');
    switch (Math.floor(r() * 6)) {
      case 0:
        break;
      case 1:
        b64 = b64.replace(/=+$/, '');
        break;
      case 2:
        b64 = nonCanonical(b64);
        break;
      case 3:
        b64 = '\n' + (b64.match(/.{1,76}/g) ?? []).join('\n') + '\n';
        break;
      case 4:
        b64 = b64.replace(/(.{1,9})/g, (m) => m + (chance(r, 0.2) ? pick(r, WS) : ''));
        break;
      default: {
        const at = Math.floor(r() * b64.length);
        b64 = b64.slice(0, at) + pick(r, B64_EDITS) + b64.slice(at + (chance(r, 0.5) ? 1 : 0));
      }
    }
    // A second param after it: the character check resumes after a verified span.
    let doc = call(`<value><base64>${b64}</base64></value></param><param><value>${pick(r, ['', 'x', '&lt;'])}</value>`);
    if (chance(r, 0.15)) {
      // A character XML forbids, before, inside or after it: the first error, whatever else.
      const at = Math.floor(r() * doc.length);
      doc = doc.slice(0, at) + pick(r, ['\u0001', '\u001f', '\ufffe', '\ud800']) + doc.slice(at);
    }
    differ.check(`base64 ${k}`, chance(r, 0.5) ? doc : Buffer.from(doc));
  }
  differ.report('long base64 values');
});

// Nested past maxDepth, with something after the deep part. The reference
// has two limits: elements nested past 3 * maxDepth + 5 (a well-formedness
// error, first in document order), and arrays/structs past maxDepth (an
// XML-RPC error, ranked by its walk), which alone applies when the container
// too deep holds no element: then whether the reference says TOO_DEEP or
// INVALID depends on what comes after it, and in which ancestor.
const TOO_DEEP_INSIDE = [
  '<struct/>',
  '<struct></struct>',
  '<struct> <!-- c --> </struct>',
  '<array/>',
  '<array></array>',
  '<array> </array>',
  '<array>x</array>',
  '<struct>&#65;</struct>',
  '<ex:struct/>',
];
// prettier-ignore
const AFTER_DEEP = [
  'x', '&#65;', '&#32;', '<![CDATA[y]]>', '<![CDATA[ ]]>', '<!-- c -->', '<int>1</int>', '<value/>', '<name>n</name>', '<name><int/></name>', '<name>n<!-- c --></name>',
  '<data/>', '<member><name>k</name><value/></member>', '<param><value/></param>', '<bogus/>', '<string>s</string>', '</x>', '&bad;', ']]>',
  '<value><array><data/></array></value>', '<struct/>', '<fault/>', '<params/>', '<methodName>n</methodName>', '<value>v</value>',
];

t.test('agrees with the reference on 1,500 documents nested past maxDepth with an error after the deep part', async (t) => {
  const r = prng(0xdee9);
  const differ = new Differ(t);
  for (let k = 0; k < 1500; k++) {
    // A chain of containers, each with a sibling or two around the path,
    // ending in a container with no element inside, marked by a comment.
    const depth = Math.floor(r() * 4);
    let node: Node = { t: 'raw', xml: `${pick(r, TOO_DEEP_INSIDE)}<!--C-->` };
    let nameless = false;
    for (let d = 0; d < depth; d++) {
      const before = chance(r, 0.3) ? [randomNode(r, 9)] : [];
      const after = chance(r, 0.3) ? [randomNode(r, 9)] : [];
      nameless ||= chance(r, 0.2);
      node = chance(r, 0.5)
        ? { t: 'array', v: [...before, node, ...after] }
        : { t: 'struct', v: [...before.map((n) => ['b', n] as [string, Node]), ['k', node], ...after.map((n) => ['a', n] as [string, Node])] };
    }
    const doc = randomDocument(r, [node]);
    if (typeof doc !== 'string' && doc[0] === 0xff) continue; // UTF-16: leave it
    let text = typeof doc === 'string' ? doc : doc.toString('latin1');
    const mark = text.indexOf('<!--C-->');
    if (mark < 0) continue; // the chain went into a fault's extra member that was not written
    // A member whose <name> comes after its <value>, or has none.
    if (nameless) text = text.replace(/<name>k<\/name>/, chance(r, 0.5) ? '' : '<!-- -->');
    const edits = Math.floor(r() * 3);
    for (let e = 0; e < edits; e++) {
      const lt = text.indexOf('<', mark + 1 + Math.floor(r() * (text.length - mark)));
      if (lt > 0) text = text.slice(0, lt) + pick(r, AFTER_DEEP) + text.slice(lt);
    }
    const maxDepth = chance(r, 0.85) ? depth : Math.max(0, depth - 1);
    differ.check(`deep ${k}`, typeof doc === 'string' ? text : Buffer.from(text, 'latin1'), { maxDepth });
  }
  differ.report('deep documents');
});

// Mutations that keep a document well formed but break its XML-RPC: delete,
// repeat, rename, empty or move an element, or put something inside one.
const TAG = /<(\/?)([A-Za-z_:][A-Za-z0-9_:.-]*)(?:[^>"']|"[^"]*"|'[^']*')*>|<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>/g;
const RENAMES = ['value', 'int', 'string', 'struct', 'array', 'data', 'member', 'name', 'param', 'params', 'fault', 'nil', 'methodName', 'bogus', 'ex:int'];

function structuralMutation(text: string, r: Rand): string {
  // Elements as [start, startEnd, endStart, end, name].
  const elements: Array<[number, number, number, number, string]> = [];
  const stack: Array<[number, number, string]> = [];
  for (const m of text.matchAll(TAG)) {
    const at = m.index as number;
    const end = at + m[0].length;
    if (m[2] === undefined) continue;
    if (m[1] === '/') {
      const open = stack.pop();
      if (open !== undefined) elements.push([open[0], open[1], at, end, open[2]]);
    } else if (m[0].endsWith('/>')) {
      elements.push([at, end, end, end, m[2]]);
    } else {
      stack.push([at, end, m[2]]);
    }
  }
  if (elements.length === 0) return text;
  const [s0, s1, e0, e1, name] = pick(r, elements);
  const whole = text.slice(s0, e1);
  switch (Math.floor(r() * 6)) {
    case 0:
      return text.slice(0, s0) + text.slice(e1);
    case 1:
      return text.slice(0, e1) + (chance(r, 0.5) ? whole : ' ' + whole) + text.slice(e1);
    case 2: {
      if (s1 === e1) return text.slice(0, s0) + text.slice(s0, s1).replace(name, pick(r, RENAMES)) + text.slice(e1);
      const to = pick(r, RENAMES);
      return text.slice(0, s0) + text.slice(s0, s1).replace(name, to) + text.slice(s1, e0) + `</${to}>` + text.slice(e1);
    }
    case 3:
      return s1 === e1 ? text : text.slice(0, s1) + text.slice(e0);
    case 4: {
      const rest = text.slice(0, s0) + text.slice(e1);
      const lt = rest.indexOf('<', Math.floor(r() * rest.length));
      return lt < 0 ? rest : rest.slice(0, lt) + whole + rest.slice(lt);
    }
    default: {
      const snippet = pick(r, AFTER_DEEP);
      return s1 === e1 ? text : chance(r, 0.5) ? text.slice(0, s1) + snippet + text.slice(s1) : text.slice(0, e0) + snippet + text.slice(e0);
    }
  }
}

t.test('agrees with the reference on 3,000 structural mutations of valid documents', async (t) => {
  const r = prng(0x57a7);
  const differ = new Differ(t);
  for (let k = 0; k < 3000; k++) {
    const doc = randomDocument(r);
    if (typeof doc !== 'string' && doc[0] === 0xff) continue; // UTF-16
    let text = typeof doc === 'string' ? doc : doc.toString('latin1');
    const edits = 1 + Math.floor(r() * r() * 4);
    for (let e = 0; e < edits; e++) text = structuralMutation(text, r);
    differ.check(`structural mutation ${k}`, typeof doc === 'string' ? text : Buffer.from(text, 'latin1'), randomOptions(r));
  }
  differ.report('structural mutations');
});

// One row per ranking rule of the reference (see ranking.ts): the expected
// code, which both decoders must give. `C` is an array/struct one level too
// deep that holds no element, so only the walk's depth check applies to it.
const RANKS: Array<[name: string, doc: string, maxDepth: number, code: string]> = (() => {
  const C = '<value><struct/></value>';
  // prettier-ignore
  const inParam = (v: string, after = '') => `<methodCall><methodName>m</methodName><params><param>${v}</param>${after}</params></methodCall>`;
  const inData = (before: string, after: string) => inParam(`<value><array><data>${before}${C}${after}</data></array></value>`);
  const member = (parts: string) => inParam(`<value><struct><member>${parts}</member></struct></value>`);
  const faultDoc = (inner: string) => `<methodResponse><fault>${inner}</fault></methodResponse>`;
  const faultStruct =
    '<struct><member><name>faultCode</name><value><int>1</int></value></member><member><name>faultString</name><value>s</value></member></struct>';
  const TD = 'ERR_XML_TOO_DEEP';
  const INV = 'ERR_XMLRPC_INVALID';
  return [
    ['too deep alone', inParam(C), 0, TD],
    ['too deep, then white space as references in the value', inParam(`<value><struct/>&#32;<![CDATA[ ]]></value>`), 0, TD],
    ['too deep, then text in the same value', inParam('<value><struct/>x</value>'), 0, INV],
    ['too deep, then a second typed element', inParam('<value><struct/><int>1</int></value>'), 0, INV],
    ['too deep, then text in the enclosing data', inData('', 'x'), 1, INV],
    ['too deep, then an empty sibling value', inData('', '<value/>'), 1, TD],
    ['too deep, then a misplaced <int> in data (checked in turn)', inData('', '<int>1</int>'), 1, TD],
    ['too deep, then an element that is not XML-RPC', inData('', '<bogus/>'), 1, INV],
    ['too deep, then an unknown element in a later value', inData('', '<value><bogus/></value>'), 1, INV],
    ['text in data before the deep value', inData('x', ''), 1, INV],
    ['too deep, then a second <data>', inParam(`<value><array><data>${C}</data><data/></array></value>`), 1, INV],
    ['too deep, then text in the array', inParam(`<value><array><data>${C}</data>x</array></value>`), 1, INV],
    ['a member with the deep value and no name', member(C), 1, INV],
    ['a member with the deep value, then its name', member(`${C}<name>k</name>`), 1, TD],
    ['a member with a name, the deep value, then a second name', member(`<name>k</name>${C}<name>k</name>`), 1, INV],
    ['a member with the deep value, then a name holding an element', member(`${C}<name><int/></name>`), 1, INV],
    ['a member with the deep value, then a second value', member(`<name>k</name>${C}<value/>`), 1, INV],
    [
      'too deep, then a later member without a name (checked in turn)',
      inParam(`<value><struct><member><name>k</name>${C}</member><member><value/></member></struct></value>`),
      1,
      TD,
    ],
    ['too deep, then text in the struct', inParam(`<value><struct><member><name>k</name>${C}</member>x</struct></value>`), 1, INV],
    ['too deep, then a value in the struct (checked in turn)', inParam(`<value><struct><member><name>k</name>${C}</member><value/></struct></value>`), 1, TD],
    ['too deep, then a second value in the param', inParam(`${C}<value/>`), 0, INV],
    ['too deep, then text in params', inParam(C, 'x'), 0, INV],
    ['too deep, then a value in params (checked in turn)', inParam(C, '<value/>'), 0, TD],
    ['too deep, then text in methodCall', `<methodCall><methodName>m</methodName><params><param>${C}</param></params>x</methodCall>`, 0, INV],
    [
      'too deep, then a second params (checked in turn)',
      `<methodCall><methodName>m</methodName><params><param>${C}</param></params><params/></methodCall>`,
      0,
      TD,
    ],
    ['too deep in a call without methodName (checked last)', `<methodCall><params><param>${C}</param></params></methodCall>`, 0, TD],
    ['an empty methodName before the deep value', `<methodCall><methodName/><params><param>${C}</param></params></methodCall>`, 0, INV],
    [
      'a response with two params, the first too deep (counted last)',
      `<methodResponse><params><param>${C}</param><param><value/></param></params></methodResponse>`,
      0,
      TD,
    ],
    ['a response with params too deep, then a fault', `<methodResponse><params><param>${C}</param></params><fault/></methodResponse>`, 0, INV],
    ['a fault with members and maxDepth 0: the element limit', faultDoc(`<value>${faultStruct}x</value>`), 0, TD],
    ['a fault with maxDepth 1', faultDoc(`<value>${faultStruct}</value>`), 1, 'Fault 1'],
    ['an empty fault struct with maxDepth 0, then text in its value', faultDoc('<value><struct/>x</value>'), 0, INV],
    ['an empty fault struct with maxDepth 0, then a second value', faultDoc('<value><struct/></value><value/>'), 0, INV],
    ['a fault with maxDepth 0 and no faultCode (checked last)', faultDoc('<value><struct/></value>'), 0, TD],
    [
      'a deep fault member with its <data>, one level short of the element limit',
      faultDoc(`<value><struct><member><name>x</name><value><array><data/></array></value></member></struct>x</value>`),
      1,
      INV,
    ],
    ['too deep with an element inside: the element limit, first in document order', inParam('<value><struct><member/></struct>x</value>'), 0, TD],
    ['too deep, then a well-formedness error', inParam('<value><struct/>x</value>', '</x>'), 0, 'ERR_XML_NOT_WELL_FORMED'],
  ];
})();

t.test('ranks a depth error against the errors after it as the reference does', async (t) => {
  for (const [name, doc, maxDepth, code] of RANKS) {
    const ours = outcome(() => loads(doc, { maxDepth }));
    const ref = outcome(() => referenceLoads(doc, { maxDepth }));
    t.equal(ref.kind === 'decode-error' ? ref.code : describe(ref), code, `${name}: the reference`);
    t.equal(ours.kind === 'decode-error' ? ours.code : describe(ours), code, `${name}: ours`);
  }
});

// The reference has its own option checks, bytes -> text, character check
// and dateTime reader (reference-decode.ts): the tables below put each of
// those checks of the decoder against the reference's, case by case.

t.test('agrees with the reference on the decode options and the size limit', async (t) => {
  const differ = new Differ(t);
  const doc = call('<value>café</value>'); // 'é' is 2 bytes in UTF-8
  const size = Buffer.byteLength(doc);
  const options: unknown[] = [
    undefined,
    {},
    { maxDepth: 0 },
    { maxDepth: 1000 },
    { maxDepth: 1001 },
    { maxDepth: -1 },
    { maxDepth: 1.5 },
    { maxDepth: NaN },
    { maxDepth: Infinity },
    { maxDepth: '3' },
    { maxDepth: null },
    { maxBytes: 0 },
    { maxBytes: size },
    { maxBytes: size - 1 },
    { maxBytes: doc.length },
    { maxBytes: -1 },
    { maxBytes: NaN },
    { maxBytes: Infinity },
    { maxBytes: null },
    { maxBytes: size, maxDepth: -1 },
  ];
  for (const o of options) {
    differ.check(`options ${String(JSON.stringify(o))}`, doc, o as DecodeOptions);
    differ.check(`options ${String(JSON.stringify(o))} (bytes)`, Buffer.from(doc), o as DecodeOptions);
  }
  for (const data of [42, null, [1, 2], new ArrayBuffer(4)]) differ.check(`data ${inspect(data)}`, data as never);
  differ.report('option checks');
  t.equal(differ.outcomes.get('ERR_XML_TOO_LARGE'), 6, 'maxBytes 0, size - 1 and the string length refuse the document, as text and as bytes');
});

t.test('agrees with the reference on every character XML forbids, wherever it is', async (t) => {
  const differ = new Differ(t);
  const base64 = Buffer.alloc(600, 7).toString('base64'); // long: read by the decoder's re-encoding path
  // prettier-ignore
  const places: Array<[where: string, doc: (c: string) => string]> = [
    ['in a string', (c) => call(`<value>a${c}b</value>`)],
    ['in a name', (c) => call(`<value><struct><member><name>k${c}</name><value/></member></struct></value>`)],
    ['in a long base64', (c) => call(`<value><base64>${base64.slice(0, 400)}${c}${base64.slice(400)}</base64></value>`)],
    ['after a long base64', (c) => call(`<value><array><data><value><base64>${base64}</base64></value><value>${c}</value></data></array></value>`)],
    ['in a comment', (c) => call(`<value><!--${c}--><int>1</int></value>`)],
    ['in a CDATA section', (c) => call(`<value><![CDATA[${c}]]></value>`)],
    ['in an attribute', (c) => call(`<value a="${c}">x</value>`)],
    ['in a processing instruction', (c) => call(`<value><?pi ${c}?>x</value>`)],
    ['before the root', (c) => `${c}${call('<value/>')}`],
    ['after the root', (c) => `${call('<value/>')}${c}`],
    ['with a well-formedness error after it', (c) => `${call(`<value>${c}</value>`)}</x>`],
    ['with an XML-RPC error after it', (c) => call(`<value>${c}</value><value/>`)],
  ];
  const forbidden = ['\x00', '\x01', '\x08', '\x0b', '\x0c', '\x0e', '\x1f', '\ufffe', '\uffff', '\ud800', '\udfff', '\udc00\ud800'];
  const allowed = ['\t', '\n', '\r', ' ', '\x7f', '\x85', '\ud7ff', '\ue000', '\ufffd', '\u{10000}', '\u{10ffff}'];
  for (const [where, doc] of places) {
    for (const c of [...forbidden, ...allowed]) {
      const label = `U+${c.codePointAt(0)?.toString(16)} ${where}`;
      differ.check(label, doc(c));
      differ.check(`${label} (UTF-8)`, Buffer.from(doc(c)));
    }
  }
  differ.report('documents with a character XML forbids or allows');
  t.ok((differ.outcomes.get('ERR_XML_NOT_WELL_FORMED') ?? 0) >= forbidden.length * places.length, 'the forbidden ones are refused');
});

t.test('agrees with the reference on bytes in every encoding the decoder reads, and on those it refuses', async (t) => {
  const differ = new Differ(t);
  const inner = '<methodCall><methodName>m</methodName><params><param><value>TEXT</value></param></params></methodCall>';
  // prettier-ignore
  const decl = (label: string, quote = '"') => `<?xml version="1.0" encoding=${quote}${label}${quote}?>`;
  const bytes: Array<[name: string, doc: Buffer]> = [];
  for (const [label, text] of [
    ['ISO-8859-1', 'caf\xe9 \x80'],
    ['latin1', '\xff'],
    ['l1', '\xa0'],
    ['windows-1252', '\x80\x81\x8d\x92\x9f\xe9'],
    ['cp1252', '\x9c'],
    ['ISO-8859-15', '\xa4'],
    ['ISO-8859-2', '\xb1'],
    ['KOI8-R', '\xc1'],
    ['US-ASCII', 'plain'],
    ['US-ASCII', 'caf\xe9'],
    ['ascii', '\x80'],
    ['UTF-8', 'caf\xc3\xa9'],
    ['utf8', '\xc3'],
    ['UTF-8', '\xed\xa0\x80'],
    ['Shift_JIS', '\x82\xa0'],
    ['EUC-JP', '\xa4\xa2'],
    ['x-klingon', 'x'],
    ['UTF-32', 'x'],
    ['UTF-16', 'x'],
    ['utf-16le', 'x'],
    ['UTF-7', 'x'],
  ] as const) {
    bytes.push([`${label}: ${JSON.stringify(text)}`, Buffer.from(decl(label) + inner.replace('TEXT', text), 'latin1')]);
    bytes.push([`${label} in single quotes`, Buffer.from(decl(label, "'") + inner.replace('TEXT', text), 'latin1')]);
  }
  const utf16 = (text: string, le: boolean, bom: boolean) => {
    const b = Buffer.from(text, 'utf16le');
    if (!le) b.swap16();
    return Buffer.concat([bom ? Buffer.from(le ? [0xff, 0xfe] : [0xfe, 0xff]) : Buffer.alloc(0), b]);
  };
  for (const le of [true, false]) {
    for (const bom of [true, false]) {
      for (const d of ['', decl('UTF-16'), decl('utf-16be'), decl('UTF-8'), decl('ISO-8859-1'), decl('x-klingon')]) {
        bytes.push([
          `UTF-16${le ? 'LE' : 'BE'}${bom ? ' BOM' : ''} ${d}`,
          utf16((d || '<?xml version="1.0"?>') + inner.replace('TEXT', 'é\u{1F600}'), le, bom),
        ]);
      }
      bytes.push([
        `UTF-16${le ? 'LE' : 'BE'}${bom ? ' BOM' : ''}, a lone surrogate`,
        utf16(`<?xml version="1.0"?>${inner.replace('TEXT', '\ud800')}`, le, bom),
      ]);
    }
  }
  for (const d of ['', decl('UTF-8'), decl('utf-8'), decl('ISO-8859-1'), decl('UTF-16'), decl('x-klingon')]) {
    bytes.push([`UTF-8 BOM ${d}`, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(d + inner.replace('TEXT', 'é'))])]);
  }
  bytes.push(['a declaration past 512 bytes', Buffer.from(`<?xml version="${'1'.repeat(600)}" encoding="x-klingon"?>${inner}`)]);
  bytes.push(['a declaration with a long version under 512 bytes', Buffer.from(`<?xml version="${'1'.repeat(400)}" encoding="x-klingon"?>${inner}`)]);
  bytes.push(['an encoding name with a bad character', Buffer.from(`<?xml version="1.0" encoding="utf 8"?>${inner}`)]);
  bytes.push(['a BOM alone', Buffer.from([0xef, 0xbb, 0xbf])]);
  bytes.push(['no bytes', Buffer.alloc(0)]);
  bytes.push(['two BOMs', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), Buffer.from(inner)])]);
  for (const [name, doc] of bytes) {
    differ.check(name, doc);
    differ.check(
      `${name} (a Uint8Array inside a larger buffer)`,
      new Uint8Array(Buffer.concat([Buffer.from('xx'), doc]).buffer).subarray(2, 2 + doc.length) as never,
    );
  }
  differ.report('documents in various encodings');
  for (const code of ['ERR_XML_UNSUPPORTED_ENCODING', 'ERR_XML_INVALID_CHARACTER', 'value']) t.ok((differ.outcomes.get(code) ?? 0) > 0, `some end in ${code}`);
});

t.test('agrees with the reference on dateTime forms, real dates and not', async (t) => {
  const differ = new Differ(t);
  // prettier-ignore
  const texts = [
    '19980717T14:08:55', '1998-07-17T14:08:55', '19980717T140855', '1998-07-17T140855', '19980717T14:08:55Z', '19980717T14:08:55.5',
    '19980717T14:08:55.123456', '19980717T14:08:55.9999', '19980717T14:08:55.1239', '19980717T14:08:55.0005', '19980717T14:08:55+01:00', '19980717T14:08:55-0130', '19980717T14:08:55+23:59',
    '19980717T14:08:55+24:00', '19980717T14:08:55+01:60', '19980717T14:08:55+1', '19980717T14:08:55z', '00000101T00:00:00', '00990101T00:00:00',
    '99991231T23:59:59', '20000229T00:00:00', '19000229T00:00:00', '20240229T00:00:00', '20230229T00:00:00', '20230431T00:00:00',
    '20231301T00:00:00', '20230001T00:00:00', '20230100T00:00:00', '20230101T24:00:00', '20230101T23:60:00', '20230101T23:59:60',
    '1998-0717T14:08:55', '199807-17T14:08:55', '19980717T14:0855', '19980717T1408:55', '19980717 14:08:55', '19980717t14:08:55',
    '19980717T14:08:55.', '+19980717T14:08:55', '1998071T14:08:55', '19980717T14:08:5', '', ' 19980717T14:08:55 ', '\t19980717T14:08:55\n',
    '19980717T14:08:55 Z', '١٩٩٨٠٧١٧T14:08:55',
  ];
  for (const text of texts) differ.check(JSON.stringify(text), call(`<value><dateTime.iso8601>${text}</dateTime.iso8601></value>`));
  differ.report('dateTime texts');
  t.ok((differ.outcomes.get('value') ?? 0) >= 15 && (differ.outcomes.get('ERR_XMLRPC_INVALID') ?? 0) >= 20, 'both kinds are in the table');
});

// The fast path of arrays of ints, the commonest large payload: a run of
// `<value><int>N</int></value>` (or `<i4>`) elements written plainly, back to
// back, read in place (over the document's bytes four at a time when it is
// pure ASCII) and gathered in one shared Int32Array, then copied out at once:
// one allocation for the array, not one per doubling.

import { holds } from './xml-chars.js';
import { numeral, scanNumeral } from './scalars.js';
import type { XmlRpcValue } from './values.js';

// prettier-ignore
const GT = 0x3e, ZERO = 0x30, NINE = 0x39, PLUS = 0x2b, MINUS = 0x2d;

/** ASCII characters as little-endian words, for `plainIntBytes`. */
function word(s: string): number {
  let w = 0;
  for (let k = s.length - 1; k >= 0; k--) w = w * 256 + s.charCodeAt(k);
  return w;
}
// prettier-ignore
const W_VAL = word('<val'), W_UE = word('ue><'), W_NT = word('nt'), W_4 = word('4>');
// prettier-ignore
const W_CLOSE_IN = word('</in'), W_T_CLOSE = word('t></'), W_VALU = word('valu'), W_E_GT = word('e>');
// prettier-ignore
const W_CLOSE_I4 = word('</i4'), W_CLOSE_V = word('></v'), W_ALUE = word('alue');

/** The ints of the run being read, shared: a run holds no other value. */
let run = new Int32Array(1024);
/** Past this many entries, `run` is dropped after use. */
const KEEP_RUN = 1 << 16;

/** What the last `readIntRun` read. */
export const intRun = {
  /** Where the run ends. */
  end: 0,
  /** Whether its last element was an `<i4>`. */
  i4: false,
  /** How many of its elements were `<i4>`s. */
  i4s: 0,
};

/** The int the last plain element held. */
let intValue = 0;

/**
 * The plain ints from `i` on: how many (0 if none, nothing read), their end
 * in `intRun.end`. `view` is the document's bytes when pure ASCII, else null.
 * `last`, when given, is where the document's last `<` is: an element is
 * read only if its `<int>` starts before it, so that no read passes the end.
 */
export function readIntRun(s: string, view: DataView | null, i: number, last = s.length): number {
  let k = 0;
  let i4s = 0;
  for (let next; (next = view !== null ? plainIntBytes(s, view, i, last) : plainInt(s, i, last)) > 0; i = next) {
    if (k === run.length) {
      const grown = new Int32Array(run.length * 2);
      grown.set(run);
      run = grown;
    }
    run[k++] = intValue;
    if (intRun.i4) i4s++;
  }
  intRun.end = i;
  intRun.i4s = i4s;
  return k;
}

/** `out` followed by the first `k` ints of the run. */
export function appendRun(out: XmlRpcValue[], k: number): XmlRpcValue[] {
  let i = out.length;
  if (i === 0) out = new Array<XmlRpcValue>(k);
  for (let j = 0; j < k; j++) out[i++] = run[j] as number;
  if (run.length > KEEP_RUN) run = new Int32Array(1024);
  return out;
}

/**
 * `<value><int>N</int></value>` (or `<i4>`) at `i` exactly: no white space,
 * no sign but `-`/`+`, an int32 in at most 10 digits. Returns where it ends,
 * or 0 for anything else, and the general path takes the element.
 */
function plainInt(s: string, i: number, last: number): number {
  if (i + 7 >= last || !holds(s, i, '<value><i')) return 0;
  i += 9;
  const c = s.charCodeAt(i);
  let i4: boolean;
  if (c === 0x6e && s.charCodeAt(i + 1) === 0x74 && s.charCodeAt(i + 2) === GT) {
    // nt>
    i4 = false;
    i += 3;
  } else if (c === 0x34 && s.charCodeAt(i + 1) === GT) {
    // 4>
    i4 = true;
    i += 2;
  } else {
    return 0;
  }
  const lt = scanNumeral(s, i, false);
  if (lt < 0 || numeral.start !== i || numeral.end !== lt || numeral.digits > 10) return 0;
  const neg = numeral.sign === MINUS;
  const v = numeral.value;
  if (v > (neg ? 2147483648 : 2147483647)) return 0;
  i = lt;
  if (i4) {
    if (!holds(s, i, '</i4></value>')) return 0;
    i += 13;
  } else {
    if (!holds(s, i, '</int></value>')) return 0;
    i += 14;
  }
  intValue = neg && v !== 0 ? -v : v; // "-0" is the integer 0
  intRun.i4 = i4;
  return i;
}

/** `plainInt` over the ASCII bytes of the document, four at a time. */
function plainIntBytes(s: string, view: DataView, i: number, last: number): number {
  // The longest element read here: <value><int>-2147483648</int></value>.
  if (i + 37 > last) return plainInt(s, i, last); // `last` is at most the length: no byteLength call
  if (view.getUint32(i, true) !== W_VAL || view.getUint32(i + 4, true) !== W_UE || view.getUint8(i + 8) !== 0x69) return 0;
  i += 9;
  let i4: boolean;
  if (view.getUint16(i, true) === W_NT && view.getUint8(i + 2) === GT) {
    // nt>
    i4 = false;
    i += 3;
  } else if (view.getUint16(i, true) === W_4) {
    // 4>
    i4 = true;
    i += 2;
  } else {
    return 0;
  }
  let c = view.getUint8(i);
  const neg = c === MINUS;
  if (neg || c === PLUS) c = view.getUint8(++i);
  const first = i;
  let v = 0;
  while (c >= ZERO && c <= NINE && i - first < 11) {
    v = v * 10 + (c - ZERO);
    c = view.getUint8(++i);
  }
  if (i === first || i - first > 10 || v > (neg ? 2147483648 : 2147483647)) return 0;
  if (i4) {
    if (
      view.getUint32(i, true) !== W_CLOSE_I4 ||
      view.getUint32(i + 4, true) !== W_CLOSE_V ||
      view.getUint32(i + 8, true) !== W_ALUE ||
      view.getUint8(i + 12) !== GT
    )
      return 0;
    i += 13;
  } else {
    if (
      view.getUint32(i, true) !== W_CLOSE_IN ||
      view.getUint32(i + 4, true) !== W_T_CLOSE ||
      view.getUint32(i + 8, true) !== W_VALU ||
      view.getUint16(i + 12, true) !== W_E_GT
    )
      return 0;
    i += 14;
  }
  intValue = neg && v !== 0 ? -v : v; // "-0" is the integer 0
  intRun.i4 = i4;
  return i;
}

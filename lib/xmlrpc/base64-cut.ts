// A large document's long base64 contents, decoded straight from its bytes,
// and the rest of the document as text without them. Made for the fast path
// (canonical.ts) of documents like a 1 MiB value echoed: their text was a
// string of the whole document (1.4 MB, which Node keeps outside V8's heap
// from about 1 MB on) and the check of the base64 re-encoded it into another
// one; both were alive across scavenges, promoted, and freed only by a full
// GC, which is what set the server's peak RSS on such calls (bench/README.md,
// "Memory (issue 16, round 4)"). Here the value is decoded and checked in
// one pass over the bytes into its own Buffer, and no string longer than the
// document's markup is made.
//
// Only canonical base64 is cut (the alphabet, `=` padding, zero trailing
// bits, no white space: what encoders write), only in a pure-ASCII document
// whose start the fast path reads as it is (no declaration, or one of the
// declarations it knows); anything else leaves the document whole, to the
// paths that read it today.

import { isAscii } from 'node:buffer';

/** Documents from this size are looked at. */
export const CUT_DOCUMENT = 256 * 1024;
/** Base64 contents from this length are cut. */
export const CUT_RUN = 64 * 1024;

// prettier-ignore
const LT = 0x3c, EQUALS = 0x3d, QUESTION = 0x3f;

/** Base64 values by byte; 0xff for anything else (bits 6 and 7 set). */
const VALUE = new Uint8Array(256).fill(0xff);
for (let i = 0; i < 64; i++) VALUE['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** Characters decoded at a time: a multiple of 4, a string V8 keeps in its young generation. */
const SLICE = 64 * 1024;
/** Buffer's own methods behind toString('latin1') and toString('base64'), without its argument handling. */
interface Slices {
  latin1Slice(start: number, end: number): string;
  base64Slice(start: number, end: number): string;
}

const OPEN = Buffer.from('<base64>');
const CLOSE = Buffer.from('</base64>');
/** The starts canonical.ts reads: its declarations; without one, the document starts with anything but `<?`. */
const DECLARATIONS = [
  '<?xml version="1.0"?>',
  "<?xml version='1.0'?>",
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<?xml version="1.0" encoding="utf-8"?>',
  "<?xml version='1.0' encoding='UTF-8'?>",
  "<?xml version='1.0' encoding='utf-8'?>",
].map((d) => Buffer.from(d));

/** A document with its long base64 contents cut out. */
export interface Cut {
  /** The bytes left, and the same as text (latin1: they are ASCII). */
  bytes: Buffer;
  text: string;
  /** Where each cut content was in `text` (between its `<base64>` and `</base64>`), in order, and its bytes. */
  at: number[];
  values: Buffer[];
}

/**
 * `data` without its long canonical base64 contents, or null when it has
 * none, or is not a document this is made for (see above).
 */
export function cutBase64(data: Uint8Array): Cut | null {
  if (data.byteLength < CUT_DOCUMENT) return null;
  const bytes = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let open = bytes.indexOf(OPEN);
  if (open < 0 || !knownStart(bytes) || !isAscii(bytes)) return null;
  const kept: Buffer[] = [];
  const at: number[] = [];
  const values: Buffer[] = [];
  let from = 0; // the first byte not yet kept
  let length = 0; // the bytes kept so far
  while (open >= 0) {
    const start = open + OPEN.length;
    const end = bytes.indexOf(LT, start);
    if (end < 0) break;
    if (end - start >= CUT_RUN && bytes.compare(CLOSE, 0, CLOSE.length, end, end + CLOSE.length) === 0) {
      const value = decodeCanonical(bytes, start, end);
      if (value === null) return null; // what the cut does not read, the whole text does
      kept.push(bytes.subarray(from, start));
      length += start - from;
      at.push(length);
      values.push(value);
      from = end;
    }
    open = bytes.indexOf(OPEN, end);
  }
  if (values.length === 0) return null;
  kept.push(bytes.subarray(from));
  const left = Buffer.concat(kept, length + bytes.length - from);
  return { bytes: left, text: left.toString('latin1'), at, values };
}

function knownStart(bytes: Buffer): boolean {
  if (bytes[1] !== QUESTION) return true;
  for (const d of DECLARATIONS) if (bytes.compare(d, 0, d.length, 0, d.length) === 0) return true;
  return false;
}

/**
 * Canonical base64 in `bytes[from, to)` decoded into a Buffer of its own, or
 * null when it is anything else: a length not a multiple of 4, a byte out of
 * the alphabet, `=` but as the last one or two, non-zero bits after the last
 * byte. Exactly the text that `Buffer.from(text, 'base64')` decodes and
 * `toString('base64')` writes back the same, which is the canonical check
 * of scalars.ts's scanBase64.
 */
export function decodeCanonical(bytes: Uint8Array, from: number, to: number): Buffer | null {
  const n = to - from;
  if (n === 0 || n % 4 !== 0) return null;
  const pad = bytes[to - 1] !== EQUALS ? 0 : bytes[to - 2] !== EQUALS ? 1 : 2;
  const out = Buffer.allocUnsafe((n / 4) * 3 - pad);
  const whole = pad === 0 ? to : to - 4; // quads with no padding
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let o = 0;
  // A slice at a time through a short string (the next scavenge takes it): checked by a regexp, decoded by Node.
  for (let i = from; i < whole; i += SLICE) {
    const text = (buf as unknown as Slices).latin1Slice(i, Math.min(i + SLICE, whole));
    const w = out.write(text, o, 'base64');
    if ((out as unknown as Slices).base64Slice(o, o + w) !== text) return null;
    o += w;
  }
  let bad = 0;
  if (pad !== 0) {
    const a = VALUE[bytes[whole] as number] as number;
    const b = VALUE[bytes[whole + 1] as number] as number;
    const c = pad === 1 ? (VALUE[bytes[whole + 2] as number] as number) : 0;
    bad |= a | b | c;
    // The bits past the last byte must be zero, as the encoder writes them.
    if (pad === 1 ? (c & 3) !== 0 : (b & 15) !== 0) return null;
    out[o] = (a << 2) | (b >>> 4);
    if (pad === 1) out[o + 1] = (b << 4) | (c >>> 2);
  }
  return (bad & 0xc0) === 0 && o + (pad === 0 ? 0 : 3 - pad) === out.length ? out : null;
}

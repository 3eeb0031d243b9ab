// The encoder's output: the document as a string (`dumps`), or as bytes in
// one growable buffer (`bufferDumps`). encode.ts walks the values and says
// what to write; this file decides where the bytes go and how they are
// copied, which is where an encoder's time goes once the walk is cheap.

/**
 * In bytes mode, text gathers in a short string, flushed into the buffer
 * once this many characters have gathered: V8 appends short strings
 * quickly, and flattens and copies a few KB at native speed, with no big
 * string ever built. A document shorter than this never reaches the buffer:
 * its string is encoded once, at the end (for `add(40, 2)`'s answer a third
 * of the instructions of writing it into the buffer and copying it out).
 * Past it, ints go in as bytes directly, with no string at all.
 */
import { Buffer } from 'node:buffer';

const FLUSH_CHARS = 8192;
/** The scratch buffer is kept between documents up to this size. */
const KEEP_SCRATCH = 4 << 20;
let scratch: Buffer | null = null;
/** A view of `scratch`, kept with it: a small document does not pay for a DataView. */
let scratchView: DataView | null = null;
/**
 * Buffers given out as documents of their own (asBuffer) that may come back
 * through reuseDocument, and the one that came back: the next large document
 * is written into it, not into a fresh buffer.
 */
const givenOut = new WeakSet<Buffer>();
let spare: Buffer | null = null;

/**
 * `doc`, a document from `bufferDumps`, is no longer used by anyone (its
 * bytes have all gone to the kernel, say): its memory may hold the next
 * large document. A buffer this file did not give out, or gave back
 * already, is ignored.
 */
export function reuseDocument(doc: Buffer): void {
  // Known by the very Buffer given out: a stale one, whose memory holds a later document now, is not taken back.
  if (!givenOut.delete(doc)) return;
  const memory = doc.buffer;
  if (memory.byteLength > KEEP_SCRATCH) return;
  if (spare === null || spare.length < memory.byteLength) spare = Buffer.from(memory);
}
/** The size of the last document given out as a Buffer, plus a margin: the next one is written into a buffer this big. */
let bufferHint = 0;
/**
 * Some text of the document being written may be non-ASCII (set by
 * escapeText, through which all text from outside passes, or by a DateTime
 * wrapper's raw value). While false, the document is ASCII and goes to bytes
 * as latin1: a copy, where UTF-8 took a pass to measure and one to encode.
 * `write` saves and restores it around a document, so a document written
 * meanwhile (by a getter) can only turn its writer's to true.
 */
let nonAscii = false;

/** Some text of the document being written is not ASCII: it goes to bytes as UTF-8. */
export function noteNonAscii(): void {
  nonAscii = true;
}

/** A document starts: returns the writer's flag, for `endDocument` to give back. */
export function beginDocument(): boolean {
  const outer = nonAscii;
  nonAscii = false;
  return outer;
}

/** A document ends: a document written inside another (by a getter) can only turn its writer's flag to true. */
export function endDocument(outer: boolean): void {
  nonAscii ||= outer;
}
/** Buffers from this size are given out as they are written, not copied. */
const OWN_BUFFER = 16384;

/** Four ASCII characters as a little-endian 32-bit word. */
function word(s: string, at: number): number {
  return (s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) | (s.charCodeAt(at + 3) << 24)) >>> 0;
}
const INT_OPEN = '<value><int>';
const INT_CLOSE = '</int></value>';
const OPEN0 = word(INT_OPEN, 0),
  OPEN1 = word(INT_OPEN, 4),
  OPEN2 = word(INT_OPEN, 8);
const CLOSE0 = word(INT_CLOSE, 0),
  CLOSE1 = word(INT_CLOSE, 4),
  CLOSE2 = word(INT_CLOSE, 8);
const CLOSE3 = INT_CLOSE.charCodeAt(12) | (INT_CLOSE.charCodeAt(13) << 8);
const EMPTY = Buffer.alloc(0);
/** Bytes encoded to base64 at a time (a multiple of 3): a 64 KiB string each. */
const BASE64_SLICE = 3 << 14;

/** `<value><int>v</int></value>` at `n` (room for 37 bytes is there); returns the end. */
function writeInt(buf: Buffer, view: DataView, n: number, v: number): number {
  view.setUint32(n, OPEN0, true);
  view.setUint32(n + 4, OPEN1, true);
  view.setUint32(n + 8, OPEN2, true);
  n += 12;
  // Unsigned 32-bit arithmetic (-INT32_MIN included) keeps V8 in integer
  // registers; `%` and `/` on a plain number went through doubles.
  let u: number;
  if (v < 0) {
    buf[n++] = 0x2d; // -
    u = -v >>> 0;
  } else {
    u = v >>> 0;
  }
  n += decimalDigits(u);
  let at = n;
  while (u >= 10) {
    const q = (u / 10) >>> 0;
    buf[--at] = 0x30 + (u - q * 10);
    u = q;
  }
  buf[at - 1] = 0x30 + u;
  view.setUint32(n, CLOSE0, true);
  view.setUint32(n + 4, CLOSE1, true);
  view.setUint32(n + 8, CLOSE2, true);
  view.setUint16(n + 12, CLOSE3, true);
  return n + 14;
}

/** The number of decimal digits of `u`, a uint32. */
function decimalDigits(u: number): number {
  if (u < 100000) return u < 100 ? (u < 10 ? 1 : 2) : u < 1000 ? 3 : u < 10000 ? 4 : 5;
  return u < 10000000 ? (u < 1000000 ? 6 : 7) : u < 100000000 ? 8 : u < 1000000000 ? 9 : 10;
}

export class Sink {
  /** Text not yet in `buf`; in string mode, the whole document. */
  private pending = '';
  /** Bytes mode: the buffer, a view of it, and how many bytes it holds. */
  private buf: Buffer = EMPTY;
  private view: DataView | null = null;
  private n = 0;
  /** `buf` is the caller's to keep (not the scratch buffer): it can be given out. */
  private owned = false;
  private givenOut = false;

  /** `bytes`: the document is wanted as a Buffer (`asBuffer`), else as a string (`asString`). */
  constructor(private readonly bytes: boolean) {}

  /** Bytes mode: the buffer, at the first flush (a short document never needs one). */
  private acquire(): void {
    let buf: Buffer;
    let view: DataView | null = null;
    if (bufferHint > OWN_BUFFER) {
      this.owned = true;
      // The hint has a margin of about 3%: a spare made for a document of the last size will do.
      if (spare !== null && spare.length >= bufferHint - (bufferHint >> 5)) {
        buf = spare;
        spare = null;
      } else {
        buf = Buffer.allocUnsafeSlow(bufferHint);
      }
    } else if (scratch !== null) {
      buf = scratch;
      view = scratchView;
      scratch = scratchView = null; // in use: an encoding run inside this one (by a getter, say) gets its own
    } else {
      buf = Buffer.allocUnsafeSlow(OWN_BUFFER);
    }
    this.buf = buf;
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  add(text: string): void {
    const pending = this.pending + text;
    if (pending.length >= FLUSH_CHARS && this.bytes) this.flush(pending);
    else this.pending = pending;
  }

  /**
   * `bytes` in base64. Past the flush size in bytes mode, encoded a slice at
   * a time straight into the buffer: no string of the whole (for a 1 MiB
   * value, a 1.4 MB string Node keeps outside the heap until a full GC), only
   * short ones the next scavenge takes. Slices are a multiple of 3 bytes, so
   * their base64 put end to end is the base64 of the whole.
   */
  base64(bytes: Buffer): void {
    const size = 4 * Math.ceil(bytes.length / 3);
    if (!this.bytes || size < FLUSH_CHARS) return this.add(bytes.toString('base64'));
    if (this.pending.length > 0) this.flush(this.pending);
    else if (this.buf === EMPTY) this.acquire();
    if (this.n + size > this.buf.length) this.grow(size);
    for (let at = 0; at < bytes.length; at += BASE64_SLICE) {
      this.n += this.buf.write(bytes.subarray(at, at + BASE64_SLICE).toString('base64'), this.n, 'latin1');
    }
  }

  /** Ints go into the buffer as bytes from now on (see `int`). */
  buffered(): boolean {
    return this.bytes && this.buf !== EMPTY;
  }

  /** `<value><int>v</int></value>`, `v` an int32. */
  int(v: number): void {
    if (!this.bytes || this.buf === EMPTY) {
      this.add('<value><int>' + v + '</int></value>');
      return;
    }
    if (this.pending.length > 0) this.flush(this.pending);
    if (this.n + 37 > this.buf.length) this.grow(37);
    this.n = writeInt(this.buf, this.view as DataView, this.n, v);
  }

  /**
   * `int()` for `items[from]`, `items[from + 1]`, … while they are int32s
   * (what `Encoder.value` writes as `<int>`), in one loop with the buffer in
   * locals; returns the index of the first item it did not write. Writes
   * nothing until the buffer is there (the document's first few KB).
   */
  intRun(items: readonly unknown[], from: number): number {
    if (this.buf === EMPTY) return from;
    if (this.pending.length > 0) this.flush(this.pending);
    let buf = this.buf;
    let view = this.view as DataView;
    let n = this.n;
    let limit = buf.length - 37;
    const end = items.length;
    let i = from;
    for (; i < end; i++) {
      const v = items[i];
      if (typeof v !== 'number' || (v | 0) !== v || (v === 0 && Object.is(v, -0))) break;
      if (n > limit) {
        this.n = n;
        this.grow(37);
        buf = this.buf;
        view = this.view as DataView;
        limit = buf.length - 37;
      }
      n = writeInt(buf, view, n, v);
    }
    this.n = n;
    return i;
  }

  private flush(text: string): void {
    this.pending = '';
    if (this.buf === EMPTY) this.acquire();
    const len = text.length;
    if (len < 64) {
      // Short: byte by byte while ASCII (no call into the runtime).
      if (this.n + len > this.buf.length) this.grow(len);
      const buf = this.buf;
      let n = this.n;
      let k = 0;
      for (; k < len; k++) {
        const c = text.charCodeAt(k);
        if (c >= 0x80) break;
        buf[n++] = c;
      }
      this.n = n;
      if (k === len) return;
      text = text.slice(k);
    }
    if (!nonAscii) {
      if (this.n + text.length > this.buf.length) this.grow(text.length);
      this.n += this.buf.write(text, this.n, text.length, 'latin1');
      return;
    }
    const size = text.length <= 65536 ? 3 * text.length : Buffer.byteLength(text, 'utf8');
    if (this.n + size > this.buf.length) this.grow(size);
    this.n += this.buf.write(text, this.n, size, 'utf8');
  }

  private grow(size: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.n + size));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** String mode: the document. */
  asString(): string {
    return this.pending;
  }

  /**
   * Bytes mode: the document as a Buffer of its own: the buffer it was
   * written into when that is not the scratch and not mostly empty, else a copy.
   */
  asBuffer(): Buffer {
    if (this.buf === EMPTY) {
      const out = Buffer.from(this.pending, nonAscii ? 'utf8' : 'latin1');
      bufferHint = out.length + (out.length >> 5) + 256;
      return out;
    }
    if (this.pending.length > 0) this.flush(this.pending);
    const n = this.n;
    bufferHint = n + (n >> 5) + 256;
    if (this.owned && n >= this.buf.length - (this.buf.length >> 2)) {
      this.givenOut = true;
      const doc = this.buf.subarray(0, n);
      givenOut.add(doc);
      return doc;
    }
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, 0, n);
    return out;
  }

  /**
   * Bytes mode: the document as text while it is ASCII and was never
   * flushed into the buffer (its characters are its bytes), else asBuffer().
   */
  asAsciiOrBuffer(): string | Buffer {
    if (this.buf !== EMPTY || nonAscii) return this.asBuffer();
    const n = this.pending.length;
    bufferHint = n + (n >> 5) + 256; // as asBuffer would have said
    return this.pending;
  }

  /** Bytes mode: keeps the buffer, unless given out, as the scratch (the sink is not used after). */
  close(): void {
    const buf = this.buf;
    if (!this.bytes || this.givenOut || buf === EMPTY || buf.length > KEEP_SCRATCH) return;
    if (!this.owned || scratch === null) {
      scratch = buf;
      scratchView = this.view;
    }
  }
}

// A request body as it arrives. Memory follows the bytes that have come,
// never the length a client declares: one byte of a body declared at 8 MiB
// costs one byte, not 8 MiB (a declared length is a claim, not a payment).
//
// The body is a list of chunks joined once, when it is complete. The
// socket's chunks are kept as they are (no copy while receiving, no buffer
// grown and thrown away); small reads are gathered into a tail buffer that
// doubles as they come, so a client that trickles its body a byte at a time
// costs a buffer per 64 KiB, not an object per byte.
//
// A large body that comes in several reads is joined into a buffer the
// server lends (BodyPool) when its handler gives the body back once its
// response is ready (Handler.lendsBody): the join is then a copy into
// memory already there, not a fresh buffer per request. Allocating and
// dropping a buffer of a few hundred KB per request is what set the peak
// RSS under load (bench/README.md, "Memory (issue 16, round 3)").

/** A read at least this large is kept as it is. */
import { Buffer } from 'node:buffer';

const KEEP = 16 * 1024;
/** The tail that gathers smaller reads grows up to this, then joins the list. */
const TAIL_MAX = 64 * 1024;
/** A body from this size, come in more than one read, is joined into a lent buffer. */
const LEND_MIN = 64 * 1024;
/** Lent buffers are made in multiples of this, so that one serves the next body of about the same size. */
const LEND_STEP = 64 * 1024;

/**
 * The server's spare body buffers: at most `count` of them, each at most
 * `maxBytes`. A buffer is in the pool or lent to one body, never both.
 */
export class BodyPool {
  private readonly spare: Buffer[] = [];
  constructor(
    private readonly count = 4,
    private readonly maxBytes = 4 << 20,
  ) {}

  /** A spare buffer of at least `n` bytes (the smallest that fits), out of the pool; null when none fits. */
  take(n: number): Buffer | null {
    const spare = this.spare;
    let best = -1;
    for (let i = 0; i < spare.length; i++) {
      if (spare[i]!.length >= n && (best < 0 || spare[i]!.length < spare[best]!.length)) best = i;
    }
    if (best < 0) return null;
    const buf = spare[best]!;
    spare[best] = spare[spare.length - 1]!;
    spare.pop();
    return buf;
  }

  /** A buffer back from its body, whose handler is done with it. The pool keeps the largest. */
  give(buf: Buffer): void {
    if (buf.length === 0 || buf.length > this.maxBytes) return;
    const spare = this.spare;
    if (spare.length < this.count) {
      spare.push(buf);
      return;
    }
    let smallest = 0;
    for (let i = 1; i < spare.length; i++) if (spare[i]!.length < spare[smallest]!.length) smallest = i;
    if (spare[smallest]!.length < buf.length) spare[smallest] = buf;
  }

  /** Bytes the pool keeps. */
  get bytes(): number {
    let n = 0;
    for (const buf of this.spare) n += buf.length;
    return n;
  }
}

export class BodyBuffer {
  /**
   * The parts so far: `first` alone while there is one (a body that comes
   * whole in one read, the common case, makes no list and grows none), the
   * list from the second on.
   */
  private first: Buffer | null = null;
  private chunks: Buffer[] | null = null;
  private tail: Buffer | null = null;
  private tailFilled = 0;
  private filled = 0;
  /** Bytes this body keeps alive: the chunks, and the tail's capacity (of a lent buffer: the bytes received). */
  held = 0;
  /** The buffer lent by the pool, or made to be given to it, that holds the body; null when none. */
  private whole: Buffer | null = null;

  /**
   * `declaredLength`: the Content-Length, or -1 for a chunked body (what the body claims; nothing is reserved for it).
   * `pool`: where a large body's joined buffer comes from and goes back to (see `lent`); null: the body is the handler's to keep.
   */
  constructor(
    readonly declaredLength: number,
    private readonly pool: BodyPool | null = null,
  ) {}

  /** Bytes received so far. */
  get length(): number {
    return this.filled;
  }

  /** The bytes `append(chunk)` will add to `held`: the same three cases, in the same order. */
  growth(chunk: Buffer): number {
    const n = chunk.length;
    // The first read costs its own size whichever way it goes; a lent buffer already exists.
    if (this.filled === 0 || this.whole !== null || this.keeps(n)) return n;
    if (this.extendsTail(n)) return this.tailCapacity(this.tailFilled + n) - this.tail!.length;
    return n; // a new tail, exactly as large as this read
  }

  append(chunk: Buffer): void {
    const n = chunk.length;
    if (this.filled === 0 && this.lends(n)) this.whole = this.pool!.take(this.declaredLength);
    if (this.whole !== null) {
      chunk.copy(this.whole, this.filled);
      this.held += n;
    } else if (this.keeps(n)) {
      this.sealTail();
      this.push(chunk);
      this.held += n;
    } else {
      if (this.extendsTail(n)) {
        this.growTail(this.tailCapacity(this.tailFilled + n));
      } else {
        this.sealTail();
        this.tail = Buffer.allocUnsafeSlow(n);
        this.held += n;
      }
      chunk.copy(this.tail!, this.tailFilled);
      this.tailFilled += n;
    }
    this.filled += n;
  }

  /** A body joined into a lent buffer: large, of a declared length, not whole in its first read. */
  private lends(first: number): boolean {
    return this.pool !== null && this.declaredLength >= LEND_MIN && first < this.declaredLength;
  }

  /** A read kept as it is: a large one, or the whole body in one read (the common case, never copied). */
  private keeps(n: number): boolean {
    return n >= KEEP || (this.filled === 0 && n === this.declaredLength);
  }

  /** A small read that fits in the current tail once it has grown (up to TAIL_MAX). */
  private extendsTail(n: number): boolean {
    return this.tail !== null && this.tailFilled + n <= TAIL_MAX;
  }

  /** The tail's capacity for `need` bytes: as it is if they fit, else doubled (at least `need`, at most TAIL_MAX). */
  private tailCapacity(need: number): number {
    const capacity = this.tail!.length;
    return need <= capacity ? capacity : Math.min(TAIL_MAX, Math.max(need, 2 * capacity));
  }

  /** The whole body; the buffer holds nothing after. */
  take(): Buffer {
    this.held = 0;
    const n = this.filled;
    if (this.whole !== null) return this.whole.subarray(0, n);
    this.sealTail();
    // The buffer is dropped after this: its list need not be emptied.
    if (this.chunks === null && this.first !== null) return this.first;
    const chunks = this.chunks ?? [];
    if (this.pool === null || !this.lends(0)) return Buffer.concat(chunks, n);
    // No spare buffer was there: this one is made to go to the pool after.
    const whole = Buffer.allocUnsafeSlow(Math.ceil(n / LEND_STEP) * LEND_STEP);
    let at = 0;
    for (const chunk of chunks) at += chunk.copy(whole, at);
    this.whole = whole;
    return whole.subarray(0, n);
  }

  /**
   * After take(): the buffer to give back to the pool once the handler is
   * done with the body (its response is ready); null when the body is the
   * handler's to keep.
   */
  get lent(): Buffer | null {
    return this.whole;
  }

  /** How many buffers hold the body now. */
  get parts(): number {
    return (this.chunks !== null ? this.chunks.length : this.first !== null ? 1 : 0) + (this.tail === null ? 0 : 1);
  }

  /** One more part, after those there are. */
  private push(part: Buffer): void {
    if (this.chunks !== null) this.chunks.push(part);
    else if (this.first === null) this.first = part;
    else {
      this.chunks = [this.first, part];
      this.first = null;
    }
  }

  private growTail(capacity: number): void {
    const tail = this.tail!;
    if (capacity === tail.length) return;
    const grown = Buffer.allocUnsafeSlow(capacity);
    tail.copy(grown, 0, 0, this.tailFilled);
    this.held += capacity - tail.length;
    this.tail = grown;
  }

  private sealTail(): void {
    if (this.tail === null) return;
    this.push(this.tail.subarray(0, this.tailFilled));
    this.tail = null;
    this.tailFilled = 0;
  }
}

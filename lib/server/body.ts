// A request body as it arrives. Memory follows the bytes that have come,
// never the length a client declares: one byte of a body declared at 8 MiB
// costs one byte, not 8 MiB (a declared length is a claim, not a payment).
//
// The body is a list of chunks joined once, when it is complete. The
// socket's chunks are kept as they are (no copy while receiving, no buffer
// grown and thrown away); small reads are gathered into a tail buffer that
// doubles as they come, so a client that trickles its body a byte at a time
// costs a buffer per 64 KiB, not an object per byte.

/** A read at least this large is kept as it is. */
const KEEP = 16 * 1024;
/** The tail that gathers smaller reads grows up to this, then joins the list. */
const TAIL_MAX = 64 * 1024;

export class BodyBuffer {
  private chunks: Buffer[] = [];
  private tail: Buffer | null = null;
  private tailFilled = 0;
  private filled = 0;
  /** Bytes this body keeps alive: the chunks, and the tail's capacity. */
  held = 0;

  /** `declaredLength`: the Content-Length, or -1 for a chunked body (what the body claims; nothing is reserved for it). */
  constructor(readonly declaredLength: number) {}

  /** Bytes received so far. */
  get length(): number {
    return this.filled;
  }

  /** The bytes `append(chunk)` will add to `held`: the same three cases, in the same order. */
  growth(chunk: Buffer): number {
    const n = chunk.length;
    if (this.keeps(n)) return n;
    if (this.extendsTail(n)) return this.tailCapacity(this.tailFilled + n) - this.tail!.length;
    return n; // a new tail, exactly as large as this read
  }

  append(chunk: Buffer): void {
    const n = chunk.length;
    if (this.keeps(n)) {
      this.sealTail();
      this.chunks.push(chunk);
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
    this.sealTail();
    this.held = 0;
    // The buffer is dropped after this: its list need not be emptied.
    return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.filled);
  }

  /** How many buffers hold the body now. */
  get parts(): number {
    return this.chunks.length + (this.tail === null ? 0 : 1);
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
    this.chunks.push(this.tail.subarray(0, this.tailFilled));
    this.tail = null;
    this.tailFilled = 0;
  }
}

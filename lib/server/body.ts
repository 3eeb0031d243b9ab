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

  /** The bytes `append(chunk)` will add to `held`. */
  growth(chunk: Buffer): number {
    const n = chunk.length;
    if (n >= KEEP || this.whole(n)) return n;
    const capacity = this.tail?.length ?? 0;
    const need = this.tailFilled + n;
    if (need <= capacity) return 0;
    if (this.tail !== null && need <= TAIL_MAX) return Math.min(TAIL_MAX, Math.max(need, 2 * capacity)) - capacity;
    return n; // a new tail, exactly as large as this read
  }

  append(chunk: Buffer): void {
    const n = chunk.length;
    const keep = n >= KEEP || this.whole(n);
    this.filled += n;
    if (keep) {
      this.sealTail();
      this.chunks.push(chunk);
      this.held += n;
      return;
    }
    const capacity = this.tail?.length ?? 0;
    const need = this.tailFilled + n;
    if (need > capacity) {
      if (this.tail !== null && need <= TAIL_MAX) {
        const grown = Buffer.allocUnsafeSlow(Math.min(TAIL_MAX, Math.max(need, 2 * capacity)));
        this.tail.copy(grown, 0, 0, this.tailFilled);
        this.held += grown.length - capacity;
        this.tail = grown;
      } else {
        this.sealTail();
        this.tail = Buffer.allocUnsafeSlow(n);
        this.held += n;
      }
    }
    chunk.copy(this.tail!, this.tailFilled);
    this.tailFilled += n;
  }

  /** The whole body; the buffer holds nothing after. */
  take(): Buffer {
    this.sealTail();
    const chunks = this.chunks;
    this.chunks = [];
    this.held = 0;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.filled);
  }

  /** How many buffers hold the body now. */
  get parts(): number {
    return this.chunks.length + (this.tail === null ? 0 : 1);
  }

  /** The whole body in one read, the common case: kept as it is, never copied. */
  private whole(n: number): boolean {
    return this.filled === 0 && n === this.declaredLength;
  }

  private sealTail(): void {
    if (this.tail === null) return;
    this.chunks.push(this.tail.subarray(0, this.tailFilled));
    this.tail = null;
    this.tailFilled = 0;
  }
}

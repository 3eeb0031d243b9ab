// A request body as it arrives. Memory follows the bytes that have come,
// never the length a client declares: one byte of a body declared at 8 MiB
// costs one byte, not 8 MiB (a declared length is a claim, not a payment).

/** Bodies declared at least this large are assembled in one growing buffer; smaller ones keep the socket's chunks. */
export const LARGE_BODY = 64 * 1024;

export class BodyBuffer {
  private chunks: Buffer[] = [];
  private buffer: Buffer | null = null;
  private filled = 0;
  /** Bytes this body keeps alive: the chunks' lengths, or the growing buffer's capacity. */
  held = 0;

  /** `declaredLength`: the Content-Length, or -1 for a chunked body. */
  constructor(readonly declaredLength: number) {}

  /** Bytes received so far. */
  get length(): number {
    return this.filled;
  }

  /** The bytes `append(chunk)` would add to `held`. */
  growth(chunk: Buffer): number {
    if (this.declaredLength < LARGE_BODY) return chunk.length;
    const need = this.filled + chunk.length;
    const capacity = this.buffer?.length ?? 0;
    return need <= capacity ? 0 : this.nextCapacity(need) - capacity;
  }

  append(chunk: Buffer): void {
    this.filled += chunk.length;
    if (this.declaredLength < LARGE_BODY) {
      // Small bodies stay zero-copy: usually one chunk, handed on as is.
      this.chunks.push(chunk);
      this.held += chunk.length;
      return;
    }
    // A large body is copied as it comes, so the socket's chunks are freed at
    // once instead of all living until one final concat (which would double
    // the peak).
    const at = this.filled - chunk.length;
    if (this.buffer === null || this.filled > this.buffer.length) {
      const grown = Buffer.allocUnsafeSlow(this.nextCapacity(this.filled));
      if (this.buffer !== null) this.buffer.copy(grown, 0, 0, at);
      this.buffer = grown;
      this.held = grown.length;
    }
    chunk.copy(this.buffer, at);
  }

  /** The whole body; the buffer holds nothing after. */
  take(): Buffer {
    const body = this.buffer !== null ? this.buffer.subarray(0, this.filled) : this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    this.buffer = null;
    this.chunks = [];
    this.held = 0;
    return body;
  }

  private nextCapacity(need: number): number {
    // Doubling keeps the copying linear in the body's length, and the buffer
    // at most twice what has arrived. The parser never passes more than the
    // declared length, so the last growth lands on exactly the size needed.
    return Math.min(Math.max(need, 2 * (this.buffer?.length ?? 0)), this.declaredLength);
  }
}

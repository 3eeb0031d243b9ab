// What the server holds for its clients, in bytes: request bodies (as they
// arrive and as they are decoded) and responses not yet taken by the kernel.
// One budget for the whole server, so that the worst case is a figure an
// operator chose, not connections x body limit x pipelined requests.

/** A small body may take room from large unfinished ones; a larger one that does not fit is refused. */
export const SMALL_REQUEST = 64 * 1024;

export class MemoryBudget {
  used = 0;
  peak = 0;

  constructor(readonly limit: number) {}

  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }

  /**
   * Work already done is never refused (a response, say): charging past the
   * limit only makes the next body wait for room.
   */
  charge(bytes: number): void {
    this.used += bytes;
    if (this.used > this.peak) this.peak = this.used;
  }

  release(bytes: number): void {
    this.used -= bytes;
  }
}

/**
 * What one connection holds, charged to the server's budget as it changes,
 * so that the connection's own budget and the server's always agree.
 */
export class Holding {
  /** Bytes held: bodies, responses, and what the socket still holds. */
  bytes = 0;
  /** The part of `bytes` that is the socket's writableLength, as last seen. */
  socketBytes = 0;

  constructor(private readonly budget: MemoryBudget) {}

  charge(bytes: number): void {
    this.bytes += bytes;
    this.budget.charge(bytes);
  }

  release(bytes: number): void {
    this.bytes -= bytes;
    this.budget.release(bytes);
  }

  /** Charges what the socket holds now instead of what it held. */
  setSocketBytes(writableLength: number): void {
    if (writableLength === this.socketBytes) return;
    this.charge(writableLength - this.socketBytes);
    this.socketBytes = writableLength;
  }

  /** The connection has closed: everything it held is released (a late write callback then finds nothing to release). */
  clear(): void {
    this.release(this.bytes);
    this.socketBytes = 0;
  }
}

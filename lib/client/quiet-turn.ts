// The quiet turn a reused client connection waits before it writes (see
// connection.ts: bytes the server sent while the connection was idle are
// read first). Two setImmediate hops: whatever phase a turn starts in, one
// poll phase passes before the second hop.
//
// The quiet turns of all connections, started in one turn of the event loop, share their two
// setImmediate hops: the same wait as a pair of hops per connection, without an Immediate, two
// closures and a context per call. A turn started after the first hop ran waits for a pair of its own.
let quietFirstHop: (() => void)[] = [];

/** Calls `passed` after this turn's two hops. */
export function startQuietTurn(passed: () => void): void {
  if (quietFirstHop.push(passed) === 1) setImmediate(quietHop);
}

function quietHop(): void {
  const batch = quietFirstHop;
  quietFirstHop = [];
  setImmediate(quietTurnsPassed, batch);
}

function quietTurnsPassed(batch: (() => void)[]): void {
  for (const passed of batch) {
    try {
      passed();
    } catch (err) {
      // Thrown where an Immediate of its own would have thrown it; the other connections still go on.
      process.nextTick(() => {
        throw err;
      });
    }
  }
}

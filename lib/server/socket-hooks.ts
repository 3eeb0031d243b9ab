// A connection's socket listeners, shared by every connection: each finds
// its connection's hooks on the socket itself, so accepting a connection
// makes no closure per event (about 900 bytes of heap for each idle one).

import type { Socket } from 'node:net';

/** What a connection's socket events call; the socket carries it, so the listeners can be shared by every connection. */
export interface SocketHooks {
  data(chunk: Buffer): void;
  end(): void;
  drain(): void;
  close(): void;
}
const HOOKS = Symbol('connection hooks');
type Served = Socket & { [HOOKS]: SocketHooks };

function onSocketData(this: Socket, chunk: Buffer): void {
  (this as Served)[HOOKS].data(chunk);
}
function onSocketEnd(this: Socket): void {
  (this as Served)[HOOKS].end();
}
function onSocketDrain(this: Socket): void {
  (this as Served)[HOOKS].drain();
}
function onSocketError(this: Socket): void {
  this.destroy();
}
function onSocketClose(this: Socket): void {
  (this as Served)[HOOKS].close();
}

/** Makes `hooks` the receiver of `socket`'s data, end, drain and close events (an error destroys the socket, whose close follows). */
export function hookSocket(socket: Socket, hooks: SocketHooks): void {
  (socket as Served)[HOOKS] = hooks;
  socket.on('data', onSocketData);
  socket.on('end', onSocketEnd);
  socket.on('drain', onSocketDrain);
  socket.on('error', onSocketError);
  socket.on('close', onSocketClose);
}

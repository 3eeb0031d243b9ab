// Buffer's latin1Slice, the method behind toString('latin1') without its
// argument handling: the bytes as a one-byte string, one copy.
//
// Called through this constant (`latin1Slice.call(buf, start, end)`), not
// loaded from each buffer: a load of `buf.latin1Slice` shares its feedback
// with every other buffer the process slices and is left a generic LoadIC
// (about 190 instructions); the call's own feedback still makes it a direct
// API call.

import { Buffer } from 'node:buffer';

export const latin1Slice = (Buffer.prototype as unknown as { latin1Slice: (this: Buffer, start: number, end: number) => string }).latin1Slice;

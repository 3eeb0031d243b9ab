// `npm run bench`: every benchmark, one table each, with the machine it ran on.

import * as os from 'node:os';
import { runCodecBench } from './codec.js';

const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
console.log(`node ${process.version}, ${os.cpus().length} x ${cpu}, ${os.platform()} ${os.release()}\n`);
console.log('Codec: calls per second, ours beside the peer, same payloads, same run\n');
console.log(runCodecBench());

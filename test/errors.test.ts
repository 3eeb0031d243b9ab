// The error catalogue, walked whole: every class lib/errors.ts exports has a
// row here (a new class without one fails the first test), and every row
// checks the class's stable code, its name, its place in the hierarchy, and
// that the code is one of the documented constants.

import t from 'tap';
import * as errors from '../lib/errors.js';
import {
  ClusterError,
  ClusterErrorCode,
  DECODE_ERROR_FAULT,
  DecodeError,
  EncodeError,
  Fault,
  FaultCode,
  GzipBodyError,
  HTTP_PARSE_ERROR_STATUS,
  HttpParseError,
  OffloadError,
  OffloadErrorCode,
  ProtocolError,
  RemoteObjectError,
  RemoteObjectErrorCode,
  ResponseError,
  SpawnError,
  SpawnErrorCode,
  TransportError,
  TransportErrorCode,
  WorkerPoolError,
  XmlRpcError,
} from '../lib/errors.js';

interface Row {
  /** Builds one instance per code the class can carry. */
  make: () => Error[];
  /** The codes those instances must carry, in order. */
  codes: readonly string[];
  /** `Fault` and `DecodeError` are application answers, not XmlRpcErrors. */
  base: typeof XmlRpcError | typeof Fault;
}

const HTTP_CODES = Object.keys(HTTP_PARSE_ERROR_STATUS) as (keyof typeof HTTP_PARSE_ERROR_STATUS)[];
const DECODE_CODES = Object.keys(DECODE_ERROR_FAULT) as (keyof typeof DECODE_ERROR_FAULT)[];
const TRANSPORT_CODES = Object.values(TransportErrorCode);
const OFFLOAD_CODES = Object.values(OffloadErrorCode);
const OBJECT_CODES = Object.values(RemoteObjectErrorCode);
const SPAWN_CODES = Object.values(SpawnErrorCode);
const CLUSTER_CODES = Object.values(ClusterErrorCode);

// prettier-ignore
const CATALOGUE: Record<string, Row> = {
  XmlRpcError: { make: () => [new XmlRpcError('ERR_SOME_CODE', 'm')], codes: ['ERR_SOME_CODE'], base: XmlRpcError },
  HttpParseError: { make: () => HTTP_CODES.map((code) => new HttpParseError(code, 'm')), codes: HTTP_CODES, base: XmlRpcError },
  EncodeError: { make: () => [new EncodeError('m')], codes: ['ERR_XMLRPC_ENCODE'], base: XmlRpcError },
  Fault: { make: () => [new Fault(4, 'Too many parameters.')], codes: [], base: Fault },
  DecodeError: { make: () => DECODE_CODES.map((code) => new DecodeError(code, 'm')), codes: DECODE_CODES, base: Fault },
  ProtocolError: { make: () => [new ProtocolError('http://h/RPC2', 500, 'Internal', [], '')], codes: ['ERR_XMLRPC_HTTP_STATUS'], base: XmlRpcError },
  ResponseError: { make: () => [new ResponseError('http://h/RPC2', 'm')], codes: ['ERR_XMLRPC_RESPONSE'], base: XmlRpcError },
  GzipBodyError: { make: () => [new GzipBodyError('m', false), new GzipBodyError('m', true)], codes: ['ERR_XMLRPC_GZIP_CORRUPT', 'ERR_XMLRPC_GZIP_TOO_LARGE'], base: XmlRpcError },
  TransportError: {
    make: () => TRANSPORT_CODES.map((code) => new TransportError(code, 'http://h/RPC2', 'm', { requestSent: false })),
    codes: TRANSPORT_CODES,
    base: XmlRpcError,
  },
  WorkerPoolError: { make: () => OFFLOAD_CODES.map((code) => new WorkerPoolError(code, 'm')), codes: OFFLOAD_CODES, base: XmlRpcError },
  OffloadError: { make: () => [new OffloadError('m'), new OffloadError('m', { nonError: true, value: 1 })], codes: ['ERR_OFFLOAD_TASK_FAILED', 'ERR_OFFLOAD_NON_ERROR'], base: XmlRpcError },
  RemoteObjectError: { make: () => OBJECT_CODES.map((code) => new RemoteObjectError(code, 'AAAAAAAAAAAAAAAAAAAAAA', 'm')), codes: OBJECT_CODES, base: XmlRpcError },
  SpawnError: { make: () => SPAWN_CODES.map((code) => new SpawnError(code, 'm', { pid: 1 })), codes: SPAWN_CODES, base: XmlRpcError },
  ClusterError: { make: () => CLUSTER_CODES.map((code) => new ClusterError(code, 'm')), codes: CLUSTER_CODES, base: XmlRpcError },
};

type ErrorClass = abstract new (...args: never[]) => Error;
const exportedClasses: [string, ErrorClass][] = [];
for (const [name, value] of Object.entries(errors) as [string, unknown][]) {
  if (typeof value === 'function' && value.prototype instanceof Error) exportedClasses.push([name, value as ErrorClass]);
}

t.test('every error class the catalogue exports has a row in this table, and every row names an exported class', async (t) => {
  t.same(exportedClasses.map(([name]) => name).sort(), Object.keys(CATALOGUE).sort());
});

for (const [name, Class] of exportedClasses) {
  const row = CATALOGUE[name];
  if (row === undefined) continue;
  t.test(`${name} carries its stable codes, its own name and its place in the hierarchy`, async (t) => {
    const made = row.make();
    t.ok(made.length > 0);
    made.forEach((err, i) => {
      t.ok(err instanceof Class, `${name} #${i} is a ${name}`);
      t.ok(err instanceof row.base, `${name} #${i} extends ${row.base.name}`);
      t.equal(err.name, name, 'the name is the class name, so a log line says which');
      t.ok(typeof err.stack === 'string' && err.stack.length > 0, 'a stack');
      if (row.base === XmlRpcError) t.equal((err as XmlRpcError).code, row.codes[i]);
    });
    if (row.base === XmlRpcError && name !== 'XmlRpcError') {
      for (const code of row.codes) t.match(code, /^(HPE_|ERR_)[A-Z0-9_]+$/, `${code} is a stable constant-style code`);
    }
  });
}

t.test('a Fault is an application answer, not an XmlRpcError; a DecodeError is both a Fault and coded', async (t) => {
  const fault = new Fault(4, 'Too many parameters.');
  t.notOk((fault as unknown) instanceof XmlRpcError);
  t.equal(fault.faultCode, 4);
  t.equal(fault.faultString, 'Too many parameters.');
  t.equal(fault.message, 'Too many parameters.');
  for (const code of DECODE_CODES) {
    const err = new DecodeError(code, 'bad');
    t.equal(err.faultCode, DECODE_ERROR_FAULT[code], `${code} answers its interop fault code`);
    t.equal(err.code, code);
  }
});

t.test('every HttpParseError code maps to the status a server answers it with', async (t) => {
  for (const code of HTTP_CODES) {
    const status = new HttpParseError(code, 'm').status;
    t.equal(status, HTTP_PARSE_ERROR_STATUS[code]);
    t.ok([400, 411, 413, 414, 417, 431, 501, 505].includes(status), `${code}: ${status}`);
  }
});

t.test('the interop fault codes are those of the xmlrpc-epi specification, in the reserved range', async (t) => {
  t.same(FaultCode, {
    PARSE_ERROR: -32700,
    UNSUPPORTED_ENCODING: -32701,
    INVALID_CHARACTER: -32702,
    INVALID_XMLRPC: -32600,
    METHOD_NOT_FOUND: -32601,
    INVALID_PARAMS: -32602,
    INTERNAL_ERROR: -32603,
    APPLICATION_ERROR: -32500,
    SYSTEM_ERROR: -32400,
    TRANSPORT_ERROR: -32300,
    SERVER_BUSY: -32001,
    TIMEOUT: -32002,
  });
  t.ok(FaultCode.SERVER_BUSY >= -32099 && FaultCode.TIMEOUT >= -32099, 'ours are in the implementation-defined range');
  for (const code of Object.values(FaultCode)) t.ok(code >= -32768 && code <= -32000);
});

t.test('client errors name the URL they were calling, and TransportError says whether the request was sent', async (t) => {
  const lost = new TransportError(TransportErrorCode.CONNECTION_LOST, 'http://h:1/RPC2', 'closed', { requestSent: true, cause: new Error('x') });
  t.equal(lost.url, 'http://h:1/RPC2');
  t.equal(lost.requestSent, true);
  t.match(lost.message, /^http:\/\/h:1\/RPC2: closed$/);
  t.type(lost.cause, Error);
  const status = new ProtocolError('http://h:1/RPC2', 502, 'Bad Gateway', ['server', 'x'], '<html>oops</html>');
  t.equal(status.status, 502);
  t.equal(status.reason, 'Bad Gateway');
  t.match(status.message, /HTTP 502 Bad Gateway: <html>oops<\/html>/);
  const response = new ResponseError('http://h:1/RPC2', 'not XML-RPC');
  t.equal(response.url, 'http://h:1/RPC2');
});

t.test('an OffloadError carries the name and code of what the task threw, and a WorkerPoolError its exit code', async (t) => {
  const wrapped = new OffloadError('over quota', { name: 'QuotaError', code: 'EQUOTA' });
  t.equal(wrapped.name, 'QuotaError');
  t.equal(wrapped.code, 'EQUOTA');
  t.ok(wrapped instanceof XmlRpcError);
  const numeric = new OffloadError('m', { code: 42 });
  t.equal((numeric as unknown as { code: unknown }).code, 42, 'a code that is not a string is carried as it was');
  const thrown = new OffloadError('m', { nonError: true, value: { a: 1 } });
  t.same(thrown.value, { a: 1 });
  const exited = new WorkerPoolError(OffloadErrorCode.WORKER_EXITED, 'm', { exitCode: 7 });
  t.equal(exited.exitCode, 7);
  for (const code of OFFLOAD_CODES) t.match(code, /^ERR_OFFLOAD_[A-Z_]+$/);
});

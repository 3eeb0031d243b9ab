// The public API, by layer.

// errors
export { XmlRpcError, HttpParseError, EncodeError, Fault, DecodeError, FaultCode, HTTP_PARSE_ERROR_STATUS } from './errors.js';
export type { HttpParseErrorCode, DecodeErrorCode } from './errors.js';

// lib/http
export { HttpParser, DEFAULT_PARSER_LIMITS } from './http/parser.js';
export type { MessageHead, ParserLimits, ParserCallbacks } from './http/parser.js';
export { getHeader, getHeaderAll, hasToken } from './http/headers.js';
export { GzipBodyError } from './errors.js';

// lib/server
export { Server } from './server/server.js';
export type { ServerOptions, ServerStats } from './server/server.js';
export { DEFAULT_SERVER_LIMITS } from './options.js';
export type { ServerLimits } from './options.js';
export { Request } from './server/request.js';
export type { Handler, Response } from './server/request.js';
// issue 13: the access log, the status page, Prometheus metrics
export { commonLine, combinedLine, jsonLine } from './server/access-log.js';
export type { AccessRecord, AccessLogOptions, AccessLogFormat } from './server/access-log.js';
export type { ConnectionState } from './server/traffic.js';
export { StatusHandler } from './server/status.js';
export type { StatusHandlerOptions, StatusSnapshot } from './server/status.js';
export { MetricsHandler, ServerMetrics } from './server/metrics.js';
export type { MetricsHandlerOptions, ServerMetricsOptions } from './server/metrics.js';

// lib/xmlrpc
export { Double, I8, DateTime } from './xmlrpc/values.js';
export type { XmlRpcValue, XmlRpcStruct, Encodable } from './xmlrpc/values.js';
export { dumps, encodeValue } from './xmlrpc/encode.js';
export type { DumpsOptions, EncodeOptions } from './xmlrpc/encode.js';
export { loads, parseMethodCall, parseMethodResponse } from './xmlrpc/decode.js';
export type { DecodeOptions } from './xmlrpc/decode.js';
export { XmlRpcHandler } from './rpc/handler.js';
export type { XmlRpcHandlerOptions } from './rpc/handler.js';
export type { CodecOffloadOptions, CodecRunner } from './rpc/codec-offload.js';
export { XmlRpcDispatcher } from './rpc/dispatcher.js';
export type { XmlRpcFunction, MethodInfo, InstanceOptions, OffloadRunner, OffloadedMethodInfo } from './rpc/dispatcher.js';
export type { XmlRpcDispatcherOptions, DocumentedClass } from './rpc/dispatcher.js';
export { DocHandler, DEFAULT_DOC_NAME } from './rpc/doc.js';
export type { DocHandlerOptions, DocumentedHandler } from './rpc/doc.js';

// lib/client
export { ProtocolError, ResponseError, TransportError, TransportErrorCode } from './errors.js';
export type { TransportErrorCodeValue } from './errors.js';
export { Transport, DEFAULT_TRANSPORT_OPTIONS, VERSION } from './client/transport.js';
export type { TransportOptions, TlsClientOptions } from './client/transport.js';
export type { RequestOptions, OutgoingRequest, HeaderList, IncomingResponse } from './client/request.js';
export type { ClientConnection } from './client/connection.js';
export type { Endpoint } from './client/endpoint.js';
export type { PoolStats } from './client/pool.js';
export { ServerProxy } from './client/proxy.js';
export type { ServerProxyOptions, RemoteMethod, TypedServerProxy } from './client/proxy.js';
export { MultiCall } from './client/multicall.js';
export type { MultiCallResult, MultiCallResults } from './client/multicall.js';
export type { TypedMethods, MethodName, ParamsOf, ResultOf } from './client/typed.js';

// lib/client: parallel calls
export type { RequestWriter } from './client/request.js';
export { Pipeline, DEFAULT_PIPELINE_OPTIONS } from './client/pipeline.js';
export type { PipelineOptions, PipelineStats } from './client/pipeline.js';
export { ParallelServerProxy, target, runJobs, DEFAULT_PARALLEL_OPTIONS } from './client/parallel.js';
export type {
  Strategy,
  Target,
  TargetOptions,
  Job,
  ParallelOptions,
  ParallelCallOptions,
  ParallelLimits,
  ParallelTransportOptions,
  RunJobsOptions,
} from './client/parallel.js';
export type { SchedulerStats as ParallelStats } from './client/scheduler.js';
export { waitFor, mapConcurrent, MORE } from './async/concurrency.js';
export type { Outcome, Settled, WaitForOptions, MapConcurrentOptions } from './async/concurrency.js';

// time: the one seam every timer goes through (Server and Transport take a `clock` option)
export { systemClock } from './clock.js';
export type { Clock, ClockTimer } from './clock.js';

// lib/offload: CPU-bound work in worker threads (piscina as the engine)
export { WorkerPool } from './offload/pool.js';
export type { WorkerPoolOptions, RunOptions, WorkerPoolStats } from './offload/pool.js';
export type { OffloadedErrorFields } from './offload/wire.js';
export { taskSignal } from './offload/task.js';
export { OffloadError, WorkerPoolError, OffloadErrorCode } from './errors.js';
export type { OffloadErrorCodeValue } from './errors.js';

// lib/objects: remote objects (issue 11), the server side
export { ObjectServer, DEFAULT_OBJECT_LIMITS } from './objects/server.js';
export type { ObjectServerOptions, ObjectClass } from './objects/server.js';
export type { TableRow as ObjectTableRow, TableStats as ObjectTableStats } from './objects/table.js';
export { ForeignRef } from './objects/values.js';
export { REF, ObjectFaultCode } from './objects/wire.js';

// lib/objects: remote objects, the client side (ObjectClient, ObjectProxy)
export { ObjectClient } from './objects/client.js';
export type { ObjectClientOptions, ObjectClientStats } from './objects/client.js';
export { isObjectProxy } from './objects/proxy.js';
export type { ObjectProxy, ObjectProxyHelpers, ProxyCallOptions, RemoteClass, RemoteMember, RemoteMethodOf, FieldNames } from './objects/proxy.js';
export { RemoteObjectError, RemoteObjectErrorCode } from './errors.js';
export type { RemoteObjectErrorCodeValue } from './errors.js';

// lib/process: child processes serving remote objects (issue 12)
export { spawnProcess, SpawnedProcess, stopAllChildren } from './process/spawn.js';
export type { SpawnOptions, SpawnObjectOptions, ChildExit } from './process/spawn.js';
export type { LogRecord, LogLevel, LogSink, LevelLogger } from './process/logs.js';
export { childLogger } from './process/child-log.js';
export type { ChildLogger } from './process/child-log.js';
export { BearerGate } from './process/bearer.js';
export { SpawnError, SpawnErrorCode } from './errors.js';
export type { SpawnErrorCodeValue } from './errors.js';
// lib/cluster: one port served by N processes (node:cluster), supervised
export { serveWorkers, workerCount } from './cluster/workers.js';
export type { ServeWorkersOptions, WorkerContext, WorkerSetupResult, WorkerFleet, WorkerSide, FleetEvent } from './cluster/workers.js';
export { Supervisor, DEFAULT_BACKOFF } from './cluster/supervisor.js';
export type { SupervisorOptions, SupervisorEvent, BackoffOptions, WorkerStats, WorkerChild, ChildEvents, Spawn } from './cluster/supervisor.js';
export { reusePortSupported } from './server/server.js';
export type { ListenOptions } from './server/server.js';
export { ClusterError, ClusterErrorCode } from './errors.js';
export type { ClusterErrorCodeValue } from './errors.js';

// Serialising response heads. Kept apart from the parser so that both the
// server and tests can build exact bytes; nothing here touches a socket.

const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  204: 'No Content',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  411: 'Length Required',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  417: 'Expectation Failed',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Unknown';
}

// RFC 9110 §6.6.1: an origin server with a clock sends Date. Formatting it
// costs more than the rest of the head, so it is cached for its second.
let cachedDate = '';
let cachedDateSecond = -1;
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}

/** A header list as handlers give it: name -> value (a value may not hold CR or LF). */
export type ResponseHeaders = Readonly<Record<string, string | number>>;

/**
 * The head of a response, CRLFCRLF included. `Content-Length` and
 * `Connection` are the server's to decide, so they are not taken from
 * `headers`. `contentLength` < 0 omits the field (only for 1xx/204/304).
 */
export function formatHead(
  status: number,
  headers: ResponseHeaders | undefined,
  contentLength: number,
  connection: 'keep-alive' | 'close' | '',
): string {
  let head = `HTTP/1.1 ${status} ${statusText(status)}\r\nDate: ${httpDate()}\r\n`;
  if (headers !== undefined) {
    for (const name in headers) {
      const lower = name.toLowerCase();
      if (lower === 'content-length' || lower === 'connection' || lower === 'transfer-encoding' || lower === 'date') continue;
      const value = String(headers[name]);
      if (!isSafeFieldValue(name) || !isSafeFieldValue(value)) {
        throw new TypeError(`response header ${JSON.stringify(name)} holds CR, LF or NUL`);
      }
      head += `${name}: ${value}\r\n`;
    }
  }
  if (contentLength >= 0) head += `Content-Length: ${contentLength}\r\n`;
  if (connection !== '') head += `Connection: ${connection}\r\n`;
  return head + '\r\n';
}

// Header injection guard: a handler's header must not end the line early.
function isSafeFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 || c === 10 || c === 0) return false;
  }
  return true;
}

export const CONTINUE_100 = 'HTTP/1.1 100 Continue\r\n\r\n';

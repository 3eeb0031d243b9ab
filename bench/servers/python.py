"""Bench peer: Python's SimpleXMLRPCServer serving add and echo on /RPC2.

usage: python3 bench/servers/python.py [port] [--single-threaded]

Configured for a fair comparison, each a documented class attribute:
- protocol_version = 'HTTP/1.1' on the handler: BaseHTTPRequestHandler speaks
  HTTP/1.0 by default and closes the connection after every response, so
  without it there is no keep-alive.
- ThreadingMixIn (a thread per connection; daemon threads): with keep-alive,
  the plain single-threaded server serves one connection until that client
  closes it, so the other 31 of a 32-connection run would wait forever.
  --single-threaded runs the plain server.
- disable_nagle_algorithm = True: the handler writes the head and the body
  in two writes; with Nagle on, the body can wait for the client's delayed ACK.
- request_queue_size = 512: the listen backlog (default 5), for 32 clients
  connecting at once.
Prints the bound port on stdout, then serves until killed.
"""
import sys
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCRequestHandler, SimpleXMLRPCServer


class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    rpc_paths = ('/RPC2',)


class ThreadedServer(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
    request_queue_size = 512  # listen backlog (default 5)


class PlainServer(SimpleXMLRPCServer):
    request_queue_size = 512


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    port = int(args[0]) if args else 0
    cls = PlainServer if '--single-threaded' in sys.argv else ThreadedServer
    server = cls(('127.0.0.1', port), requestHandler=Handler, allow_none=True, logRequests=False)
    server.register_function(lambda a, b: a + b, 'add')
    server.register_function(lambda x: x, 'echo')
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == '__main__':
    main()

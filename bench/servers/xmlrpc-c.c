/* Bench peer: an xmlrpc-c (Abyss) server serving add and echo on /RPC2.
   Built at bench time into a temp dir:
     cc -O2 -o xmlrpc-c-server xmlrpc-c.c $(xmlrpc-c-config abyss-server --cflags --libs)
   usage: xmlrpc-c-server [port]   (prints the bound port, then serves)
   Settings that differ from Abyss's defaults, for a fair run: the XML size
   limit raised from 512 KiB to 8 MiB (our default body limit), up to 64
   connections at once (default 15), unlimited requests per connection. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <xmlrpc-c/base.h>
#include <xmlrpc-c/server.h>
#include <xmlrpc-c/server_abyss.h>

static xmlrpc_value *add(xmlrpc_env *env, xmlrpc_value *params, void *s, void *c) {
  xmlrpc_int32 a, b;
  xmlrpc_decompose_value(env, params, "(ii)", &a, &b);
  return env->fault_occurred ? NULL : xmlrpc_build_value(env, "i", a + b);
}

static xmlrpc_value *echo(xmlrpc_env *env, xmlrpc_value *params, void *s, void *c) {
  xmlrpc_value *v = NULL;
  xmlrpc_array_read_item(env, params, 0, &v); /* a new reference, given to the caller */
  return env->fault_occurred ? NULL : v;
}

int main(int argc, char **argv) {
  xmlrpc_env env;
  xmlrpc_env_init(&env);
  xmlrpc_limit_set(XMLRPC_XML_SIZE_LIMIT_ID, 8 << 20);
  xmlrpc_registry *registry = xmlrpc_registry_new(&env);
  struct xmlrpc_method_info3 addInfo = {"add", &add}, echoInfo = {"echo", &echo};
  xmlrpc_registry_add_method3(&env, registry, &addInfo);
  xmlrpc_registry_add_method3(&env, registry, &echoInfo);

  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(argc > 1 ? atoi(argv[1]) : 0)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  /* Listening before the port is printed: a client may connect at once. */
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 512) != 0 ||
      getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
    perror("bind/listen");
    return 1;
  }
  printf("%d\n", ntohs(sa.sin_port));
  fflush(stdout);

  xmlrpc_server_abyss_parms parms = {0};
  parms.registryP = registry;
  parms.socket_bound = 1;
  parms.socket_handle = fd;
  parms.uri_path = "/RPC2";
  parms.keepalive_timeout = 15;
  parms.keepalive_max_conn = 1000000000;
  parms.timeout = 15;
  parms.max_conn = 64;
  parms.max_conn_backlog = 512;
  xmlrpc_server_abyss(&env, &parms, XMLRPC_APSIZE(max_conn_backlog));
  if (env.fault_occurred) fprintf(stderr, "xmlrpc_server_abyss: %s\n", env.fault_string);
  return env.fault_occurred ? 1 : 0;
}

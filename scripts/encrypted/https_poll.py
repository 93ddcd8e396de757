#!/usr/bin/env python3
"""A web service polled over TLS that is not mining: an HTTPS server (Python's http.server over
ssl) and a client on one kept-alive connection asking for the same status page every 15-60 s.

    https_poll.py server --port P --cert C --key K
    https_poll.py client --host ADDR --port P --seconds S
"""
import http.client, http.server, random
import time
import common


class Status(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b'{"status":"ok","queue":%d}' % random.randint(0, 999)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def server(a):
    ctx = common.server_context(a.cert, a.key)
    s = http.server.ThreadingHTTPServer(("0.0.0.0", a.port), Status)
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
    s.serve_forever()


def client(a):
    ctx = common.client_context()
    c = http.client.HTTPSConnection(a.host, a.port, context=ctx, timeout=30)
    end = time.time() + a.seconds
    while time.time() < end:
        c.request("GET", "/status", headers={"Host": "status.example.org", "User-Agent": "poller/1.0"})
        c.getresponse().read()
        time.sleep(random.uniform(15, 60))


if __name__ == "__main__":
    p = common.arguments(["server", "client"])
    a = p.parse_args()
    server(a) if a.role == "server" else client(a)

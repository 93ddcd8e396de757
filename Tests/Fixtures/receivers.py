#!/usr/bin/env python3
"""Webhook (HTTP POST) and syslog (UDP and TCP) receivers for the live tests.

usage: receivers.py DIR [--http PORT] [--syslog PORT] [--fail-first N] [--start-after SECONDS]
Writes DIR/webhook.jsonl (one body per line), DIR/syslog.log (one message per line), DIR/ready.
"""
import argparse, http.server, os, socket, socketserver, threading, time

a = argparse.ArgumentParser()
a.add_argument("dir")
a.add_argument("--http", type=int)
a.add_argument("--syslog", type=int)
a.add_argument("--fail-first", type=int, default=0)
a.add_argument("--start-after", type=float, default=0)
args = a.parse_args()
lock = threading.Lock()
failures = [args.fail_first]

def append(name, data):
    with lock, open(os.path.join(args.dir, name), "ab") as f:
        f.write(data.rstrip(b"\n") + b"\n")

class Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            fail = failures[0] > 0
            if fail:
                failures[0] -= 1
        if fail:
            append("webhook-refused.log", body)
            self.send_response(503)
        else:
            append("webhook.jsonl", body)
            self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass

def udp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    while True:
        data, _ = s.recvfrom(65535)
        append("syslog.log", data)

def tcp_client(conn):
    buf = b""
    while True:
        d = conn.recv(65536)
        if not d:
            return
        buf += d
        while b" " in buf:                      # RFC 6587 octet counting: "LEN SP MSG"
            n, rest = buf.split(b" ", 1)
            if not n.isdigit() or len(rest) < int(n):
                break
            append("syslog.log", rest[:int(n)])
            buf = rest[int(n):]

def tcp(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(4)
    while True:
        c, _ = s.accept()
        threading.Thread(target=tcp_client, args=(c,), daemon=True).start()

time.sleep(args.start_after)
if args.syslog:
    threading.Thread(target=udp, args=(args.syslog,), daemon=True).start()
    threading.Thread(target=tcp, args=(args.syslog,), daemon=True).start()
socketserver.TCPServer.allow_reuse_address = True
server = socketserver.ThreadingTCPServer(("127.0.0.1", args.http), Hook) if args.http else None
open(os.path.join(args.dir, "ready"), "w").close()
if server:
    server.serve_forever()
else:
    while True:
        time.sleep(3600)

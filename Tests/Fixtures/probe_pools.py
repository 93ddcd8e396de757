#!/usr/bin/env python3
"""Scripted mining pools, one dialect each, for the probe's tests: they answer logins and
subscriptions the way public pools do (job shapes and sizes as real pools send them) and
everything else with a JSON-RPC error.

usage: probe_pools.py DIALECT HOST PORT [--tls CERT KEY]
  DIALECT: cryptonote | stratum-v1 | ethereumstratum | eth-proxy | kawpow | webminer | webminerpool
  (the last two: browser-miner servers behind a WebSocket, Coinhive's protocol and webminerpool's)
"""
import base64, hashlib, json, socket, ssl, sys, threading
from stratum_pair import recv_exactly  # beside this file

H64 = "8a1f" * 16
def send(conn, obj):
    conn.sendall((json.dumps(obj) + "\n").encode())

def error(conn, mid, text="Method not found"):
    send(conn, {"id": mid, "jsonrpc": "2.0", "result": None, "error": {"code": -32601, "message": text}})

def cryptonote(conn, msg):
    if msg.get("method") != "login":
        return error(conn, msg.get("id"))
    blob = "1010" + "c5" * 37 + "00000000" + "7e" * 32 + "03"  # 76-byte hashing blob
    job = {"blob": blob, "job_id": "Y2zJnXdR", "target": "b88d0600", "algo": "rx/0", "height": 3290119,
           "seed_hash": "6b" * 32}
    send(conn, {"id": msg["id"], "jsonrpc": "2.0", "error": None,
                "result": {"id": "84a0f1c9", "job": job, "extensions": ["algo", "nicehash", "keepalive"], "status": "OK"}})

def stratum_v1(conn, msg, state):
    m, mid = msg.get("method"), msg.get("id")
    if m == "mining.subscribe":
        send(conn, {"id": mid, "result": [[["mining.set_difficulty", "deadbeef"], ["mining.notify", "deadbeef"]], "08000002", 4], "error": None})
    elif m == "mining.authorize":
        send(conn, {"id": mid, "result": True, "error": None})
        send(conn, {"id": None, "method": "mining.set_difficulty", "params": [65536]})
        send(conn, {"id": None, "method": "mining.notify", "params": [
            "4f2a", "b1c4" * 16, "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008",
            "072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",
            ["e3" * 32, "5a" * 32], "20000000", "1703a30c", "6577e1c9", True]})
    else:
        error(conn, mid)

def ethereumstratum(conn, msg):
    m, mid = msg.get("method"), msg.get("id")
    if m == "mining.subscribe":
        send(conn, {"id": mid, "result": [["mining.notify", "ae6812eb4cd7735a302a8a9dd95cf71f", "EthereumStratum/1.0.0"], "080c"], "error": None})
    elif m == "mining.authorize":
        send(conn, {"id": mid, "result": True, "error": None})
        send(conn, {"id": None, "method": "mining.set_difficulty", "params": [0.5]})
        send(conn, {"id": None, "method": "mining.notify", "params": ["bf0488aa", "ab" * 32, "cd" * 32, True]})
    else:
        error(conn, mid)

def eth_proxy(conn, msg):
    m, mid = msg.get("method"), msg.get("id")
    if m == "eth_submitLogin":
        send(conn, {"id": mid, "jsonrpc": "2.0", "result": True})
    elif m == "eth_getWork":
        send(conn, {"id": mid, "jsonrpc": "2.0", "result": ["0x" + "12" * 32, "0x" + "34" * 32, "0x00000000ffff" + "00" * 26, "0x12d687"]})
    else:
        error(conn, mid)

def kawpow(conn, msg):
    m, mid = msg.get("method"), msg.get("id")
    if m == "mining.subscribe":
        send(conn, {"id": mid, "result": [None, "a1b2"], "error": None})
    elif m == "mining.authorize":
        send(conn, {"id": mid, "result": True, "error": None})
        send(conn, {"id": None, "method": "mining.set_target", "params": ["00000000ffff" + "0" * 52]})
        send(conn, {"id": None, "method": "mining.notify", "params": ["5d1", "9f" * 32, "2e" * 32, "00000000ffff" + "0" * 52, True, 3112233, "1b00f968"]})
    else:
        error(conn, mid)

BLOB = "0e0e" + "ab" * 37 + "00000000" + "cd" * 32 + "02"

def ws_send(conn, obj):
    data = json.dumps(obj).encode()
    head = bytes([0x81, len(data)]) if len(data) < 126 else bytes([0x81, 126]) + len(data).to_bytes(2, "big")
    conn.sendall(head + data)

def serve_websocket(conn, dialect):
    """RFC 6455 by hand: the upgrade, then text frames (client frames are masked)."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = conn.recv(4096)
        if not chunk:
            return
        head += chunk
        # Like any HTTP server (node's, nginx): what is not a request line is answered 400 at once.
        if len(head) >= 3 and not head[:3].isalpha():
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
            return
    lines = head.split(b"\r\n")
    fields = {l.split(b":", 1)[0].strip().lower(): l.split(b":", 1)[1].strip() for l in lines[1:] if b":" in l}
    if fields.get(b"upgrade", b"").lower() != b"websocket" or b"sec-websocket-key" not in fields:
        conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
        return
    accept = base64.b64encode(hashlib.sha1(fields[b"sec-websocket-key"] + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    conn.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    while True:
        b0, b1 = recv_exactly(conn, 2)
        n = b1 & 0x7F
        if n == 126: n = int.from_bytes(recv_exactly(conn, 2), "big")
        elif n == 127: n = int.from_bytes(recv_exactly(conn, 8), "big")
        mask = recv_exactly(conn, 4) if b1 & 0x80 else b"\0\0\0\0"
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(recv_exactly(conn, n)))
        if b0 & 0x0F == 8:
            return
        msg = json.loads(payload)
        if dialect == "webminer" and msg.get("type") == "auth":
            ws_send(conn, {"type": "authed", "params": {"token": "", "hashes": 0}})
            ws_send(conn, {"type": "job", "params": {"job_id": "cj1", "blob": BLOB, "target": "ffffff00", "algo": "cn/r"}})
        elif dialect == "webminerpool" and msg.get("identifier") == "handshake":
            ws_send(conn, {"identifier": "job", "job_id": "wj1", "blob": BLOB, "target": "e4a63d00", "algo": "cn", "variant": 2})
        else:
            ws_send(conn, {"identifier": "error", "param": "unknown message"})

def serve(conn, dialect):
    if dialect in ("webminer", "webminerpool"):
        try:
            serve_websocket(conn, dialect)
        except (OSError, ssl.SSLError, ValueError):
            pass
        finally:
            conn.close()
        return
    state = {}
    buf = b""
    try:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    msg = json.loads(line)
                except ValueError:
                    return  # pools drop what is not JSON
                if dialect == "cryptonote": cryptonote(conn, msg)
                elif dialect == "stratum-v1": stratum_v1(conn, msg, state)
                elif dialect == "ethereumstratum": ethereumstratum(conn, msg)
                elif dialect == "eth-proxy": eth_proxy(conn, msg)
                else: kawpow(conn, msg)
    except (OSError, ssl.SSLError):
        pass
    finally:
        conn.close()

def main():
    dialect, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctx = None
    if len(sys.argv) > 4 and sys.argv[4] == "--tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[5], sys.argv[6])
    srv = socket.socket(socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(16)
    while True:
        conn, _ = srv.accept()
        def handle(c=conn):
            if ctx:
                try:
                    c.settimeout(5)
                    c = ctx.wrap_socket(c, server_side=True)
                    c.settimeout(None)
                except (OSError, ssl.SSLError):
                    c.close()
                    return
            serve(c, dialect)
        threading.Thread(target=handle, daemon=True).start()

if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A tiny CryptoNote (XMRig-style) pool and miner talking over real TCP, for live-capture tests.

usage: stratum_pair.py pool HOST PORT [--hold SECONDS]
       stratum_pair.py miner HOST PORT [--shares N] [--interval SECONDS] [--rig NAME] [--socks5|--socks4 PROXY:PORT]
         (through a proxy, HOST may be a name: the proxy resolves it, as XMRig's --proxy leaves it to)
       stratum_pair.py both HOST PORT [...]       (pool in a thread, miner in front)
"""
import argparse, json, socket, threading, time

WALLET = "48edfHu7V9Z84YzzMa6fUueoELZ9ZRXq9VetWzYGzKt52XU5xvqgzYnDK9URnRoJMk1j8nLwEVsaSWJ4fhdUyZijBGUicoD"

def job(n):
    return {"blob": "0c0cd8bbc1a706" + "%08x" % n + "a1d2e3f4051627384950617283940a1b2c3d4e5f6071829304",
            "job_id": "j%d" % n, "target": "dc460300", "algo": "rx/0", "height": 3001000 + n}

def lines(sock):
    buf = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                yield json.loads(line)

def serve_one(conn):
    with conn:
        for msg in lines(conn):
            mid = msg.get("id")
            if msg.get("method") == "login":
                reply = {"id": mid, "jsonrpc": "2.0", "error": None, "result": {"id": "sess1", "job": job(1), "status": "OK"}}
            elif msg.get("method") == "submit":
                reply = {"id": mid, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}}
            else:
                reply = {"id": mid, "jsonrpc": "2.0", "error": None, "result": {"status": "KEEPALIVED"}}
            conn.sendall((json.dumps(reply) + "\n").encode())

def pool(host, port, ready=None, hold=30):
    srv = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(8)
    srv.settimeout(hold)
    if ready:
        ready.set()
    try:
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=serve_one, args=(conn,), daemon=True).start()
    except socket.timeout:
        pass

def recv_exactly(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise OSError("proxy closed the connection")
        out += chunk
    return out

def through_proxy(version, proxy, host, port):
    """A SOCKS CONNECT as a client library makes it; the proxy is a real server (dante)."""
    phost, pport = proxy.rsplit(":", 1)
    s = socket.create_connection((phost, int(pport)))
    if version == 5:
        s.sendall(b"\x05\x01\x00")
        if recv_exactly(s, 2) != b"\x05\x00":
            raise OSError("SOCKS5 proxy refused the no-auth method")
        try:
            target = b"\x01" + socket.inet_aton(host)
        except OSError:
            target = b"\x03" + bytes([len(host)]) + host.encode()
        s.sendall(b"\x05\x01\x00" + target + port.to_bytes(2, "big"))
        reply = recv_exactly(s, 4)
        if reply[1] != 0:
            raise OSError("SOCKS5 CONNECT refused: %d" % reply[1])
        if reply[3] == 3:
            recv_exactly(s, recv_exactly(s, 1)[0] + 2)
        else:
            recv_exactly(s, (16 if reply[3] == 4 else 4) + 2)
    else:
        s.sendall(b"\x04\x01" + port.to_bytes(2, "big") + socket.inet_aton(host) + b"miner\x00")
        reply = recv_exactly(s, 8)
        if reply[1] != 0x5A:
            raise OSError("SOCKS4 CONNECT refused: %d" % reply[1])
    return s

def miner(host, port, shares, interval, rig, socks5=None, socks4=None):
    if socks5:
        s = through_proxy(5, socks5, host, port)
    elif socks4:
        s = through_proxy(4, socks4, host, port)
    else:
        s = socket.create_connection((host, port))
    login = {"id": 1, "jsonrpc": "2.0", "method": "login",
             "params": {"login": WALLET, "pass": "x", "agent": "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/11.2.0",
                        "algo": ["rx/0"], "rigid": rig}}
    f = s.makefile("rb")
    s.sendall((json.dumps(login) + "\n").encode())
    f.readline()
    for i in range(shares):
        time.sleep(interval)
        sub = {"id": 2 + i, "jsonrpc": "2.0", "method": "submit",
               "params": {"id": "sess1", "job_id": "j1", "nonce": "%08x" % (i * 2654435761 % 2**32),
                          "result": "c9be9381a68d533c059d614d961e0534d7d8785dd5c339c2f9596eb95f320100", "algo": "rx/0"}}
        s.sendall((json.dumps(sub) + "\n").encode())
        f.readline()
    s.close()

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("role", choices=["pool", "miner", "both"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--shares", type=int, default=5)
    ap.add_argument("--interval", type=float, default=0.2)
    ap.add_argument("--rig", default="live-rig")
    ap.add_argument("--hold", type=float, default=30)
    ap.add_argument("--socks5")
    ap.add_argument("--socks4")
    a = ap.parse_args()
    if a.role == "pool":
        pool(a.host, a.port, hold=a.hold)
    elif a.role == "miner":
        miner(a.host, a.port, a.shares, a.interval, a.rig, a.socks5, a.socks4)
    else:
        ready = threading.Event()
        threading.Thread(target=pool, args=(a.host, a.port, ready, a.hold), daemon=True).start()
        ready.wait()
        miner(a.host, a.port, a.shares, a.interval, a.rig)

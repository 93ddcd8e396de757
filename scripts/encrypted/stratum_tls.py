#!/usr/bin/env python3
"""A scripted Monero pool and miner speaking XMRig's Stratum dialect over a real TLS stack
(Python's ssl, i.e. OpenSSL), with a pool's and a miner's timing: a new job on every block
(exponential, mean 120 s) and a refresh every 30-60 s (or none: `--no-refresh`, as pools that
send work only on a new block); shares at random (exponential, mean SHARE s, as vardiff aims for);
a keepalive after 60 s of silence, as XMRig sends. The miner can reconnect after sessions of
MIN-MAX s (`--sessions`), and reach the pool through proxies (`--via socks5:HOST:PORT` or
`connect:HOST:PORT`, repeated for a chain; the target travels as a name, as XMRig `--proxy` does).
A relay (xmrig-proxy's shape) serves miners in the clear and mines upstream over TLS.

    stratum_tls.py pool  --port P --cert C --key K [--tls12] [--hold SECONDS] [--no-refresh]
    stratum_tls.py miner --host ADDR --port P [--sni NAME] --seconds S [--share MEAN] [--plain]
                         [--sessions MIN-MAX] [--via KIND:HOST:PORT ...]
    stratum_tls.py relay --port P --upstream HOST:UPORT [--sni NAME]
"""
import json, os, random, socket, ssl, threading, time
import common

WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


REFRESH = [True]


def job(seq):
    blob = "0707" + os.urandom(37).hex() + "00000000" + os.urandom(33).hex()
    return {"blob": blob, "job_id": "%08x" % seq, "target": "b88d0600", "algo": "rx/0",
            "height": 3100000 + seq // 4, "seed_hash": "a" * 64}


def serve(conn):
    f = conn.makefile("rwb")
    send = common.line_sender(f, compact=True)
    seq = [0]
    alive = [True]

    def pusher():
        next_block = time.time() + random.expovariate(1 / 120)
        while alive[0]:
            refresh = time.time() + (random.uniform(30, 60) if REFRESH[0] else 1e9)
            time.sleep(max(0.1, min(next_block, refresh) - time.time()))
            if time.time() >= next_block:
                next_block = time.time() + random.expovariate(1 / 120)
            seq[0] += 1
            try:
                send({"jsonrpc": "2.0", "method": "job", "params": job(seq[0])})
            except OSError:
                return

    try:
        for line in f:
            msg = json.loads(line)
            method, mid = msg.get("method"), msg.get("id")
            if method == "login":
                seq[0] += 1
                send({"id": mid, "jsonrpc": "2.0", "error": None,
                      "result": {"id": "%016x" % random.getrandbits(64), "job": job(seq[0]), "extensions": ["algo"], "status": "OK"}})
                threading.Thread(target=pusher, daemon=True).start()
            elif method == "submit":
                send({"id": mid, "jsonrpc": "2.0", "error": None, "result": {"status": "OK"}})
            elif method == "keepalived":
                send({"id": mid, "jsonrpc": "2.0", "error": None, "result": {"status": "KEEPALIVED"}})
    except (OSError, ValueError):
        pass
    finally:
        alive[0] = False
        conn.close()


def pool(a):
    REFRESH[0] = not a.no_refresh
    if a.hold:
        # A bounded life: a test runner's children may not get its SIGTERM (inherited blocked signals).
        threading.Timer(a.hold, lambda: os._exit(0)).start()
    ctx = common.server_context(a.cert, a.key)
    if a.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2   # the certificate travels in the clear
    common.serve_tls(a.port, ctx, serve)


def tunnel(s, kind, host, port):
    """One proxy hop on socket s: ask the proxy to connect to host:port (a name, left to the proxy to resolve)."""
    if kind == "socks5":
        s.sendall(b"\x05\x01\x00")
        if common.recv_exactly(s, 2) != b"\x05\x00":
            raise OSError("SOCKS5 proxy refused the no-auth method")
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host.encode() + port.to_bytes(2, "big"))
        reply = common.recv_exactly(s, 4)
        if reply[1] != 0:
            raise OSError("SOCKS5 CONNECT refused: %d" % reply[1])
        common.recv_exactly(s, (common.recv_exactly(s, 1)[0] + 2) if reply[3] == 3 else (16 if reply[3] == 4 else 4) + 2)
    else:
        s.sendall(("CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: XMRig/6.21.0\r\n\r\n" % (host, port, host, port)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += common.recv_exactly(s, 1)
        if b" 200" not in head.split(b"\r\n")[0]:
            raise OSError("CONNECT refused: %r" % head[:60])


def connect(a):
    """A socket to the pool, through every proxy of --via in order."""
    hops = [v.split(":") for v in a.via] + [["pool", a.host, str(a.port)]]
    first = hops[0]
    raw = socket.create_connection((first[1], int(first[2])))
    for (kind, _, _), (_, host, port) in zip(hops, hops[1:]):
        tunnel(raw, kind, host, int(port))
    if a.plain:
        return raw
    # server_hostname=None: no SNI, as XMRig's TLS sends by default.
    return common.client_context().wrap_socket(raw, server_hostname=a.sni)


def session(a, end):
    t = connect(a)
    f = t.makefile("rwb")
    lock = threading.Lock()
    last_send = [time.time()]
    ids = [1]
    job_id = ["00000000"]

    def send(method, params):
        with lock:
            ids[0] += 1
            f.write((json.dumps({"id": ids[0], "jsonrpc": "2.0", "method": method, "params": params}, separators=(",", ":")) + "\n").encode())
            f.flush()
            last_send[0] = time.time()

    send("login", {"login": WALLET, "pass": "x", "agent": "XMRig/6.21.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0",
                   "algo": ["rx/0", "cn/r"]})

    def reader():
        try:
            for line in f:
                msg = json.loads(line)
                p = msg.get("params") or (msg.get("result") or {}).get("job")
                if isinstance(p, dict) and "job_id" in p:
                    job_id[0] = p["job_id"]
        except (OSError, ValueError):
            pass

    threading.Thread(target=reader, daemon=True).start()
    next_share = time.time() + random.expovariate(1 / a.share)
    while time.time() < end:
        time.sleep(0.2)
        now = time.time()
        if now >= next_share:
            send("submit", {"id": "1", "job_id": job_id[0], "nonce": os.urandom(4).hex(), "result": os.urandom(32).hex()})
            next_share = now + random.expovariate(1 / a.share)
        elif now - last_send[0] >= 60:
            send("keepalived", {"id": "1"})
    # Closed for real (the file object keeps the socket open otherwise), as XMRig closes it.
    try:
        t.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    f.close()
    t.close()


def miner(a):
    end = time.time() + a.seconds
    if not a.sessions:
        return session(a, end)
    low, high = (float(x) for x in a.sessions.split("-"))
    while time.time() < end - 5:
        session(a, min(end, time.time() + random.uniform(low, high)))
        time.sleep(5)   # XMRig's retry-pause


def relay(a):
    """xmrig-proxy's shape: miners log in to it in the clear, it keeps one TLS upstream per miner and
    passes jobs down and shares up."""
    uhost, uport = a.upstream.rsplit(":", 1)
    ctx = common.client_context()
    s = socket.create_server(("0.0.0.0", a.port), reuse_port=True)

    def pipe(src, dst):
        try:
            while True:
                data = src.recv(4096)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for x in (src, dst):
            try:
                x.close()
            except OSError:
                pass

    while True:
        c, _ = s.accept()
        try:
            up = ctx.wrap_socket(socket.create_connection((uhost, int(uport))), server_hostname=a.sni)
        except OSError:
            c.close()
            continue
        threading.Thread(target=pipe, args=(c, up), daemon=True).start()
        threading.Thread(target=pipe, args=(up, c), daemon=True).start()


if __name__ == "__main__":
    p = common.arguments(["pool", "miner", "relay"])
    p.add_argument("--tls12", action="store_true")
    p.add_argument("--sni")
    p.add_argument("--share", type=float, default=15)
    p.add_argument("--hold", type=float, default=0)
    p.add_argument("--no-refresh", action="store_true")
    p.add_argument("--plain", action="store_true")
    p.add_argument("--sessions")
    p.add_argument("--via", action="append", default=[])
    p.add_argument("--upstream")
    a = p.parse_args()
    {"pool": pool, "miner": miner, "relay": relay}[a.role](a)

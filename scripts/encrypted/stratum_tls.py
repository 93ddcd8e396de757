#!/usr/bin/env python3
"""A scripted Monero pool and miner speaking XMRig's Stratum dialect over a real TLS stack
(Python's ssl, i.e. OpenSSL), with a pool's and a miner's timing: a new job on every block
(exponential, mean 120 s) and a refresh every 30-60 s; shares at random (exponential, mean
SHARE s, as vardiff aims for); a keepalive after 60 s of silence, as XMRig sends.

    stratum_tls.py pool  --port P --cert C --key K [--tls12] [--hold SECONDS]
    stratum_tls.py miner --host ADDR --port P [--sni NAME] --seconds S [--share MEAN]
"""
import json, os, random, socket, ssl, threading, time
import common

WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def job(seq):
    blob = "0707" + os.urandom(37).hex() + "00000000" + os.urandom(33).hex()
    return {"blob": blob, "job_id": "%08x" % seq, "target": "b88d0600", "algo": "rx/0",
            "height": 3100000 + seq // 4, "seed_hash": "a" * 64}


def serve(conn, addr):
    f = conn.makefile("rwb")
    lock = threading.Lock()
    seq = [0]
    alive = [True]

    def send(obj):
        with lock:
            f.write((json.dumps(obj, separators=(",", ":")) + "\n").encode())
            f.flush()

    def pusher():
        next_block = time.time() + random.expovariate(1 / 120)
        while alive[0]:
            refresh = time.time() + random.uniform(30, 60)
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
    if a.hold:
        # A bounded life: a test runner's children may not get its SIGTERM (inherited blocked signals).
        threading.Timer(a.hold, lambda: os._exit(0)).start()
    ctx = common.server_context(a.cert, a.key)
    if a.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2   # the certificate travels in the clear
    s = socket.create_server(("0.0.0.0", a.port), reuse_port=True)
    while True:
        c, addr = s.accept()
        try:
            t = ctx.wrap_socket(c, server_side=True)
        except (OSError, ssl.SSLError):
            c.close()
            continue
        threading.Thread(target=serve, args=(t, addr), daemon=True).start()


def miner(a):
    ctx = common.client_context()
    raw = socket.create_connection((a.host, a.port))
    # server_hostname=None: no SNI, as XMRig's TLS sends by default.
    t = ctx.wrap_socket(raw, server_hostname=a.sni)
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
        for line in f:
            msg = json.loads(line)
            p = msg.get("params") or (msg.get("result") or {}).get("job")
            if isinstance(p, dict) and "job_id" in p:
                job_id[0] = p["job_id"]

    threading.Thread(target=reader, daemon=True).start()
    end = time.time() + a.seconds
    next_share = time.time() + random.expovariate(1 / a.share)
    while time.time() < end:
        time.sleep(0.2)
        now = time.time()
        if now >= next_share:
            send("submit", {"id": "1", "job_id": job_id[0], "nonce": os.urandom(4).hex(), "result": os.urandom(32).hex()})
            next_share = now + random.expovariate(1 / a.share)
        elif now - last_send[0] >= 60:
            send("keepalived", {"id": "1"})
    t.close()


if __name__ == "__main__":
    p = common.arguments(["pool", "miner"])
    p.add_argument("--tls12", action="store_true")
    p.add_argument("--sni")
    p.add_argument("--share", type=float, default=15)
    p.add_argument("--hold", type=float, default=0)
    a = p.parse_args()
    pool(a) if a.role == "pool" else miner(a)

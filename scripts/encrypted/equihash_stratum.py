#!/usr/bin/env python3
"""A scripted Zcash-family (Equihash) Stratum pool over TLS and a miner in the clear, for a real
Stratum proxy to sit between (aiostratum-proxy, from PyPI): ZIP 301's mining.subscribe /
mining.authorize / mining.set_target / mining.notify / mining.submit, a new job on every block
(exponential, mean 75 s, Zcash's target spacing), shares at random (exponential, mean SHARE s), each
carrying a 1344-byte Equihash (200,9) solution.

    equihash_stratum.py pool  --port P --cert C --key K
    equihash_stratum.py miner --host H --port P --seconds S [--share MEAN]
"""
import json, os, random, socket, threading, time
import common


def notify(seq):
    return [
        "%x" % seq, "04000000", os.urandom(32).hex(), os.urandom(32).hex(), "00" * 32,
        "%08x" % int(time.time()), "1d00ffff", True,
    ]


def serve(conn):
    f = conn.makefile("rwb")
    send = common.line_sender(f)
    seq = [0]
    alive = [True]

    def pusher():
        while alive[0]:
            time.sleep(random.expovariate(1 / 75))
            seq[0] += 1
            try:
                send({"id": None, "method": "mining.notify", "params": notify(seq[0])})
            except OSError:
                return

    try:
        for line in f:
            msg = json.loads(line)
            method, mid = msg.get("method"), msg.get("id")
            if method == "mining.subscribe":
                send({"id": mid, "result": [None, os.urandom(4).hex()], "error": None})
            elif method == "mining.authorize":
                send({"id": mid, "result": True, "error": None})
                send({"id": None, "method": "mining.set_target", "params": ["0007ffff" + "f" * 56]})
                seq[0] += 1
                send({"id": None, "method": "mining.notify", "params": notify(seq[0])})
                threading.Thread(target=pusher, daemon=True).start()
            elif method == "mining.submit":
                send({"id": mid, "result": True, "error": None})
    except (OSError, ValueError):
        pass
    finally:
        alive[0] = False
        conn.close()


def pool(a):
    common.serve_tls(a.port, common.server_context(a.cert, a.key), serve)


def miner(a):
    s = socket.create_connection((a.host, a.port))
    f = s.makefile("rwb")
    ids = [0]
    job = [None]

    def send(method, params):
        ids[0] += 1
        f.write((json.dumps({"id": ids[0], "method": method, "params": params}) + "\n").encode())
        f.flush()

    def reader():
        try:
            for line in f:
                msg = json.loads(line)
                if msg.get("method") == "mining.notify":
                    job[0] = msg["params"]
        except (OSError, ValueError):
            pass

    threading.Thread(target=reader, daemon=True).start()
    send("mining.subscribe", ["nheqminer/0.5c", None, a.host, str(a.port)])
    send("mining.authorize", ["t1UJqyiNA2XHW4ZX4ZNhXvbcoYnoKJE9Jfy.rig7", "x"])
    end = time.time() + a.seconds
    next_share = time.time() + random.expovariate(1 / a.share)
    while time.time() < end:
        time.sleep(0.2)
        if time.time() >= next_share and job[0]:
            send("mining.submit", ["t1UJqyiNA2XHW4ZX4ZNhXvbcoYnoKJE9Jfy.rig7", job[0][0], job[0][5],
                                   os.urandom(28).hex(), "fd4005" + os.urandom(1344).hex()])
            next_share = time.time() + random.expovariate(1 / a.share)
    s.close()


if __name__ == "__main__":
    p = common.arguments(["pool", "miner"])
    p.add_argument("--share", type=float, default=20)
    a = p.parse_args()
    pool(a) if a.role == "pool" else miner(a)

#!/usr/bin/env python3
"""A browser miner's WebSocket over TLS (python3-websockets over Python's ssl), in the protocol of the
open-source webminerpool server that many browser-miner services run (notgiven688/webminerpool):

    client → {"identifier":"handshake","pool":"…","login":WALLET,"password":"","userid":SITE,"version":7}
    server ← {"identifier":"job","job_id":"…","blob":"…","target":"…","algo":"cn","variant":…}
    client → {"identifier":"solved","job_id":"…","nonce":"…","result":"…"}
    server ← {"identifier":"hashsolved"}

The server pushes a job every 30–60 s; the client solves at random (exponential, mean 15 s).

    webminer_wss.py server --port P --cert C --key K
    webminer_wss.py client --host ADDR --port P --sni NAME --seconds S
"""
import asyncio, json, os, random, time
import common
import websockets

WALLET = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def job(n):
    return {"identifier": "job", "job_id": "%012d" % n, "algo": "cn", "variant": 2,
            "blob": "0707" + os.urandom(37).hex() + "00000000" + os.urandom(33).hex(), "target": "e8030000"}


async def handler(ws, path=None):
    json.loads(await ws.recv())   # the handshake
    n = [1]
    await ws.send(json.dumps(job(n[0])))

    async def push():
        while True:
            await asyncio.sleep(random.uniform(30, 60))
            n[0] += 1
            await ws.send(json.dumps(job(n[0])))

    task = asyncio.create_task(push())
    try:
        async for msg in ws:
            if json.loads(msg).get("identifier") == "solved":
                await ws.send(json.dumps({"identifier": "hashsolved"}))
    finally:
        task.cancel()


async def server(a):
    ctx = common.server_context(a.cert, a.key)
    async with websockets.serve(handler, "0.0.0.0", a.port, ssl=ctx, ping_interval=None):
        await asyncio.Future()


async def client(a):
    ctx = common.client_context()
    async with websockets.connect("wss://%s:%d/" % (a.host, a.port), ssl=ctx, server_hostname=a.sni, ping_interval=None) as ws:
        await ws.send(json.dumps({"identifier": "handshake", "pool": "moneroocean.stream", "login": WALLET,
                                  "password": "web_miner", "userid": "site-8f3a21", "version": 7}))
        job_id = ["0"]

        async def read():
            async for msg in ws:
                m = json.loads(msg)
                if m.get("identifier") == "job":
                    job_id[0] = m["job_id"]

        asyncio.create_task(read())
        end = time.time() + a.seconds
        while time.time() < end:
            await asyncio.sleep(random.expovariate(1 / 15))
            await ws.send(json.dumps({"identifier": "solved", "job_id": job_id[0], "nonce": os.urandom(4).hex(),
                                      "result": os.urandom(32).hex()}))


if __name__ == "__main__":
    p = common.arguments(["server", "client"])
    p.add_argument("--sni")
    a = p.parse_args()
    asyncio.run(server(a) if a.role == "server" else client(a))

#!/usr/bin/env python3
"""WebSocket-over-TLS traffic that is not mining (python3-websockets over Python's ssl): a chat
(server notifications and client messages of every size at random times, each acknowledged; `chat`
repeats one letter, which permessage-deflate shrinks to a few bytes, `chat-text` sends random words),
or a ticker (the server pushes a fixed-size quote every 5 s; the client's heartbeat ticks every 30 s).
Both sides send WebSocket pings on their own clock, as these libraries do by default.

    wss.py server --port P --cert C --key K
    wss.py chat|ticker --host ADDR --port P --seconds S
"""
import asyncio, json, random, string, time
import common
import websockets


def words(n):
    """n characters or so of random lowercase words."""
    out = []
    while sum(len(w) + 1 for w in out) < n:
        out.append("".join(random.choice(string.ascii_lowercase) for _ in range(random.randint(2, 9))))
    return " ".join(out)


async def handler(ws, path=None):
    mode = await ws.recv()

    async def push():
        while True:
            if mode == "ticker":
                await asyncio.sleep(5)
                await ws.send(json.dumps({"sym": "ACME", "bid": round(random.uniform(99, 101), 2), "ask": round(random.uniform(101, 102), 2)}))
            else:
                await asyncio.sleep(random.uniform(5, 60))
                n = random.randint(10, 600)
                await ws.send(json.dumps({"type": "notice", "from": "user%d" % random.randint(1, 99), "text": words(n) if mode == "chat-text" else "x" * n}))

    task = asyncio.create_task(push())
    try:
        async for msg in ws:
            await ws.send(json.dumps({"type": "ack", "n": len(msg)}))
    finally:
        task.cancel()


async def server(a):
    ctx = common.server_context(a.cert, a.key)
    async with websockets.serve(handler, "0.0.0.0", a.port, ssl=ctx, ping_interval=20):
        await asyncio.Future()


async def client(a):
    ctx = common.client_context()
    async with websockets.connect("wss://%s:%d/" % (a.host, a.port), ssl=ctx, ping_interval=25,
                                  server_hostname="chat.example.org") as ws:
        await ws.send(a.mode)

        async def drain():
            async for _ in ws:
                pass

        asyncio.create_task(drain())
        end = time.time() + a.seconds
        while time.time() < end:
            if a.mode == "ticker":
                await asyncio.sleep(30)
                await ws.send(json.dumps({"type": "heartbeat"}))
            else:
                await asyncio.sleep(random.expovariate(1 / 20))
                n = random.randint(1, 400)
                await ws.send(json.dumps({"type": "say", "text": words(n) if a.mode == "chat-text" else "y" * n}))


if __name__ == "__main__":
    a = common.arguments(["server", "chat", "chat-text", "ticker"]).parse_args()
    a.mode = a.role
    asyncio.run(server(a) if a.mode == "server" else client(a))

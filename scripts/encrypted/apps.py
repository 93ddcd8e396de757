#!/usr/bin/env python3
"""The client side of the real services scripts/record-encrypted records (and two small server
sides): each drives a real server the way its users' programs do, over that program's own client
library, with activity at random times.

    apps.py redis-worker  --host H --port P --seconds S   a job-queue worker (BLPOP with a 30 s timeout) and a cache
    apps.py redis-producer --port P --seconds S           the producer, on the server's side (unix socket path in --host)
    apps.py xmpp          --host H --port P --seconds S   two users chatting over direct TLS (slixmpp), with XEP-0199 pings
    apps.py irc           --host H --port P --seconds S   two IRC users in one channel over TLS (python3-irc)
    apps.py mumble        --host H --port P --seconds S   a Mumble client (pymumble): pings, text messages in a channel
    apps.py nats          --host H --port P --seconds S   a NATS subscriber and publisher over TLS (nats-py)
    apps.py amqp          --host H --port P --seconds S   a RabbitMQ consumer and a confirming publisher over TLS (pika)
    apps.py memcached     --host H --port P --seconds S   a web application's cache over TLS (gets and sets)
    apps.py postgres      --host H --port P --seconds S   an application worker: LISTEN and random queries (psycopg2)
    apps.py pg-notifier   --host H --port P --seconds S   NOTIFY at random, on the server's side
    apps.py vnc           --host H --port P --seconds S   a VNC viewer over TLS asking for screen updates (RFB 3.8)
    apps.py sse-server    --port P --seconds S            an event stream behind nginx (plain HTTP on localhost)
"""
import asyncio, json, os, random, socket, ssl, string, struct, threading, time
import common


def words(n):
    out = []
    while sum(len(w) + 1 for w in out) < n:
        out.append("".join(random.choice(string.ascii_lowercase) for _ in range(random.randint(2, 9))))
    return " ".join(out)


def until(seconds):
    end = time.time() + seconds
    return lambda: time.time() < end


def redis_worker(a):
    import redis
    r = redis.Redis(host=a.host, port=a.port, password="secret", ssl=True, ssl_cert_reqs=None, socket_keepalive=True)
    cache = redis.Redis(host=a.host, port=a.port, password="secret", ssl=True, ssl_cert_reqs=None)
    more = until(a.seconds)
    while more():
        item = r.blpop(["jobs"], timeout=30)
        if item:
            cache.set("result:%s" % item[1].decode()[:16], words(random.randint(20, 400)))
        if random.random() < 0.5:
            cache.get("config:%d" % random.randint(1, 50))


def redis_producer(a):
    import redis
    r = redis.Redis(unix_socket_path=a.host, password="secret")
    more = until(a.seconds)
    while more():
        time.sleep(random.uniform(3, 60))
        r.rpush("jobs", json.dumps({"id": random.getrandbits(40), "task": words(random.randint(10, 200))}))


def xmpp(a):
    import slixmpp

    class User(slixmpp.ClientXMPP):
        def __init__(self, jid, peer):
            super().__init__(jid, "secret")
            self.peer = peer
            self.register_plugin("xep_0199", {"keepalive": True, "interval": 60})
            self.register_plugin("xep_0030")
            self.add_event_handler("session_start", self.start)
            self.add_event_handler("message", self.on_message)

        async def start(self, _):
            self.send_presence()
            await self.get_roster()
            while True:
                await asyncio.sleep(random.expovariate(1 / 40))
                self.send_message(mto=self.peer, mbody=words(random.randint(5, 300)), mtype="chat")

        def on_message(self, msg):
            if msg["type"] == "chat" and random.random() < 0.3:
                msg.reply(words(random.randint(2, 60))).send()

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    users = [User("alice@chat.example.org", "bob@chat.example.org"), User("bob@chat.example.org", "alice@chat.example.org")]
    for u in users:
        u.ssl_context.check_hostname = False
        u.ssl_context.verify_mode = ssl.CERT_NONE
        u.enable_direct_tls = True
        u.connect(address=(a.host, a.port), use_ssl=True, disable_starttls=True)
    loop.run_until_complete(asyncio.sleep(a.seconds))


def irc_user(a, nick, more):
    import irc.client, irc.connection
    ctx = common.client_context()
    reactor = irc.client.IRC()
    factory = irc.connection.Factory(wrapper=lambda s: ctx.wrap_socket(s, server_hostname="irc.example.org"))
    c = reactor.server().connect(a.host, a.port, nick, connect_factory=factory)
    c.add_global_handler("welcome", lambda conn, e: conn.join("#ops"))
    c.set_keepalive(90)
    next_line = time.time() + random.expovariate(1 / 45)
    while more():
        reactor.process_once(0.2)
        if time.time() >= next_line:
            c.privmsg("#ops", words(random.randint(5, 200)))
            next_line = time.time() + random.expovariate(1 / 45)


def irc_chat(a):
    more = until(a.seconds)
    threads = [threading.Thread(target=irc_user, args=(a, n, more)) for n in ("deploybot", "carol")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def mumble(a):
    import pymumble_py3
    m = pymumble_py3.Mumble(a.host, "dispatcher", port=a.port, reconnect=False)
    m.start()
    m.is_ready()
    more = until(a.seconds)
    while more():
        time.sleep(random.expovariate(1 / 50))
        try:
            m.channels[0].send_text_message(words(random.randint(5, 250)))
        except Exception:
            pass


def nats_app(a):
    import nats

    async def run():
        ctx = common.client_context()
        nc = await nats.connect("tls://%s:%d" % (a.host, a.port), tls=ctx, tls_hostname="broker.example.org", ping_interval=60)
        got = []

        async def take(msg):
            got.append(msg)
        await nc.subscribe("orders.*", cb=take)
        end = time.time() + a.seconds
        while time.time() < end:
            await asyncio.sleep(random.expovariate(1 / 20))
            await nc.publish("orders.%d" % random.randint(1, 9), json.dumps({"sku": random.getrandbits(20), "note": words(random.randint(5, 120))}).encode())
            if random.random() < 0.3:
                try:
                    await nc.request("inventory.check", b"sku=%d" % random.getrandbits(20), timeout=1)
                except Exception:
                    pass
        await nc.close()
    asyncio.run(run())


def amqp(a):
    import pika
    ctx = common.client_context()
    params = pika.ConnectionParameters(host=a.host, port=a.port, ssl_options=pika.SSLOptions(ctx, "broker.example.org"),
                                       credentials=pika.PlainCredentials("app", "secret"), heartbeat=60)
    consumer = pika.BlockingConnection(params)
    ch = consumer.channel()
    ch.queue_declare("events")
    publisher = pika.BlockingConnection(params)
    pch = publisher.channel()
    pch.confirm_delivery()
    more = until(a.seconds)
    next_pub = time.time() + random.expovariate(1 / 15)
    while more():
        consumer.process_data_events(time_limit=0.5)
        method, _, body = ch.basic_get("events")
        if method:
            ch.basic_ack(method.delivery_tag)
        if time.time() >= next_pub:
            pch.basic_publish("", "events", json.dumps({"reading": random.randint(0, 999), "site": "plant-3"}).encode())
            next_pub = time.time() + random.expovariate(1 / 15)
        publisher.process_data_events(time_limit=0)


def memcached(a):
    ctx = common.client_context()
    s = ctx.wrap_socket(socket.create_connection((a.host, a.port)), server_hostname="cache.example.org")
    f = s.makefile("rwb")
    more = until(a.seconds)
    while more():
        time.sleep(random.expovariate(1 / 8))
        key = "session:%08d" % random.randint(0, 99999999)
        if random.random() < 0.7:
            f.write(b"get %s\r\n" % key.encode())
            f.flush()
            while f.readline().strip() not in (b"END", b""):
                pass
        else:
            value = json.dumps({"user": random.getrandbits(30), "cart": random.randint(0, 9)}).encode()
            f.write(b"set %s 0 3600 %d\r\n%s\r\n" % (key.encode(), len(value), value))
            f.flush()
            f.readline()


def postgres(a):
    import psycopg2, select
    conn = psycopg2.connect(host=a.host, port=a.port, user="app", password="secret", dbname="app", sslmode="require")
    conn.autocommit = True
    cur = conn.cursor()
    cur.execute("LISTEN orders")
    more = until(a.seconds)
    next_query = time.time() + random.uniform(5, 40)
    while more():
        if select.select([conn], [], [], 1) != ([], [], []):
            conn.poll()
            while conn.notifies:
                n = conn.notifies.pop(0)
                cur.execute("SELECT %s::text, now()", (n.payload,))
                cur.fetchall()
        if time.time() >= next_query:
            cur.execute("SELECT relname, n_live_tup FROM pg_stat_user_tables ORDER BY relname LIMIT %s", (random.randint(1, 20),))
            cur.fetchall()
            next_query = time.time() + random.uniform(5, 40)


def pg_notifier(a):
    import psycopg2
    conn = psycopg2.connect(host=a.host, port=a.port, user="app", password="secret", dbname="app")
    conn.autocommit = True
    cur = conn.cursor()
    more = until(a.seconds)
    while more():
        time.sleep(random.uniform(5, 90))
        cur.execute("SELECT pg_notify('orders', %s)", (json.dumps({"order": random.getrandbits(32), "items": random.randint(1, 9)}),))


def vnc(a):
    ctx = common.client_context()
    s = ctx.wrap_socket(socket.create_connection((a.host, a.port)), server_hostname=None)

    def exactly(n):
        return common.recv_exactly(s, n)

    exactly(12)
    s.sendall(b"RFB 003.008\n")
    kinds = exactly(exactly(1)[0])
    s.sendall(b"\x01" if 1 in kinds else bytes([kinds[0]]))
    exactly(4)                                       # SecurityResult
    s.sendall(b"\x01")                               # shared
    w, h = struct.unpack(">HH", exactly(4))
    exactly(16)
    exactly(struct.unpack(">I", exactly(4))[0])
    # A viewer at 8 bits per pixel (a thin link) asking for hextile, RRE, CopyRect and raw, as viewers do.
    s.sendall(b"\x00\x00\x00\x00" + bytes([8, 8, 0, 1]) + struct.pack(">HHH", 7, 7, 3) + bytes([0, 3, 6]) + b"\x00\x00\x00")
    s.sendall(b"\x02\x00" + struct.pack(">H", 4) + struct.pack(">iiii", 5, 2, 1, 0))
    s.settimeout(0.5)
    more = until(a.seconds)
    incremental = 0
    while more():
        s.sendall(b"\x03" + bytes([incremental]) + struct.pack(">HHHH", 0, 0, w, h))
        incremental = 1
        try:
            while s.recv(65536):
                pass
        except (socket.timeout, ssl.SSLError):
            pass
        time.sleep(1)
        if random.random() < 0.05:                   # the user moves the mouse
            s.sendall(b"\x05\x00" + struct.pack(">HH", random.randint(0, w - 1), random.randint(0, h - 1)))


def sse_server(a):
    import http.server

    class Events(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            try:
                while True:
                    time.sleep(random.expovariate(1 / 12))
                    data = json.dumps({"host": "web-%d" % random.randint(1, 40), "cpu": random.random(), "msg": words(random.randint(10, 200))})
                    self.wfile.write(("event: metric\ndata: %s\n\n" % data).encode())
                    self.wfile.flush()
            except OSError:
                pass

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Events).serve_forever()


if __name__ == "__main__":
    roles = {"redis-worker": redis_worker, "redis-producer": redis_producer, "xmpp": xmpp, "irc": irc_chat,
             "mumble": mumble, "nats": nats_app, "amqp": amqp, "memcached": memcached, "postgres": postgres,
             "pg-notifier": pg_notifier, "vnc": vnc, "sse-server": sse_server}
    p = common.arguments(list(roles))
    a = p.parse_args()
    roles[a.role](a)

#!/usr/bin/env python3
"""gRPC over TLS that is not mining (python3-grpcio, HTTP/2): a server-streaming call whose server
sends an update every 15-45 s, with the client's HTTP/2 keepalive PINGs every 20 s — the shape of
a long-lived watch/subscribe RPC. Raw bytes, no generated stubs.

    grpc_stream.py server --port P --cert C --key K
    grpc_stream.py client --host ADDR --port P --cert C --seconds S
"""
import os, random, time
import common
from concurrent import futures
import grpc

METHOD = "/watch.Watcher/Watch"


def watch(request, context):
    while context.is_active():
        time.sleep(random.uniform(15, 45))
        yield os.urandom(random.randint(40, 120))


def server(a):
    handler = grpc.method_handlers_generic_handler("watch.Watcher", {
        "Watch": grpc.unary_stream_rpc_method_handler(watch)})
    s = grpc.server(futures.ThreadPoolExecutor(max_workers=4), handlers=[handler],
                    options=[("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.min_ping_interval_without_data_ms", 10000),
                             ("grpc.http2.max_ping_strikes", 0)])
    creds = grpc.ssl_server_credentials([(open(a.key, "rb").read(), open(a.cert, "rb").read())])
    s.add_secure_port("0.0.0.0:%d" % a.port, creds)
    s.start()
    s.wait_for_termination()


def client(a):
    creds = grpc.ssl_channel_credentials(root_certificates=open(a.cert, "rb").read())
    ch = grpc.secure_channel("%s:%d" % (a.host, a.port), creds, options=[
        ("grpc.ssl_target_name_override", "watch.example.org"), ("grpc.keepalive_time_ms", 20000),
        ("grpc.keepalive_permit_without_calls", 1), ("grpc.http2.max_pings_without_data", 0)])
    call = ch.unary_stream(METHOD)(b"all", timeout=a.seconds)
    try:
        for _ in call:
            pass
    except grpc.RpcError:
        pass


if __name__ == "__main__":
    p = common.arguments(["server", "client"])
    a = p.parse_args()
    server(a) if a.role == "server" else client(a)

"""What the recording helpers share: their command line and their TLS contexts."""
import argparse, json, socket, ssl, threading


def arguments(roles, description=None):
    """ROLE --host --port --cert --key --seconds; callers add their own options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("role", choices=roles)
    p.add_argument("--host")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--seconds", type=float, default=600)
    return p


def line_sender(f, compact=False):
    """A send(obj) that writes obj as one JSON line to the file f and flushes, one writer at a time
    (a pool answers requests on one thread and pushes jobs from another). compact: no spaces."""
    lock = threading.Lock()
    separators = (",", ":") if compact else None

    def send(obj):
        with lock:
            f.write((json.dumps(obj, separators=separators) + "\n").encode())
            f.flush()

    return send


def server_context(cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


def client_context():
    """No verification: the peers are this script's own throwaway servers (and XMRig pins by
    fingerprint, if at all)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def serve_tls(port, ctx, handle):
    """Accepts TLS connections on port forever, each handled by handle(tls_socket) on a thread of its
    own; a handshake that fails only closes its connection (ssl.SSLError is an OSError)."""
    s = socket.create_server(("0.0.0.0", port), reuse_port=True)
    while True:
        c, _ = s.accept()
        try:
            t = ctx.wrap_socket(c, server_side=True)
        except OSError:
            c.close()
            continue
        threading.Thread(target=handle, args=(t,), daemon=True).start()


def recv_exactly(s, n):
    """n bytes from socket s, or OSError when the peer closes first."""
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise OSError("the peer closed the connection")
        out += chunk
    return out

#!/usr/bin/env python3
"""A scripted Stratum V2 pool for the probe's tests: the responder side of SV2's
Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256 handshake (SV2 specification section 4, keys encoded
with BIP 324's ElligatorSwift, a BIP 340 certificate signed by an authority key), then the mining
protocol's SetupConnection and OpenStandardMiningChannel answered the way a pool does: the channel
with its target, a NewMiningJob and a SetNewPrevHash. Written from the specifications, with
Python's own SHA-256/HMAC and the `cryptography` package's ChaCha20-Poly1305, so that it shares no
code with the probe it tests.

usage: sv2_pool.py HOST PORT [--mode pool|template-provider|refuse-channel]
  template-provider: answers SetupConnection for the mining protocol with SetupConnection.Error
  refuse-channel:    accepts the setup, refuses the channel with OpenMiningChannel.Error
"""
import hashlib, hmac, os, secrets, socket, struct, sys, threading
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

P = 2**256 - 2**32 - 977
N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
G = (0x79BE667EF9DCBBAC55A06295CE870B07029BFCDB2DCE28D959F2815B16F81798,
     0x483ADA7726A3C4655DA4FBFC0E1108A8FD17B448A68554199C47D08FFB10D4B8)

def inv(a): return pow(a, P - 2, P)
def sqrt(a):
    r = pow(a, (P + 1) // 4, P)
    return r if r * r % P == a % P else None
def on_curve(x): return sqrt((x * x * x + 7) % P) is not None

def add(a, b):
    if a is None: return b
    if b is None: return a
    if a[0] == b[0] and (a[1] + b[1]) % P == 0: return None
    if a == b: lam = 3 * a[0] * a[0] * inv(2 * a[1]) % P
    else: lam = (b[1] - a[1]) * inv(b[0] - a[0]) % P
    x = (lam * lam - a[0] - b[0]) % P
    return (x, (lam * (a[0] - x) - a[1]) % P)

def mul(k, pt):
    out = None
    while k:
        if k & 1: out = add(out, pt)
        pt = add(pt, pt)
        k >>= 1
    return out

def lift_even(x):
    y = sqrt((x * x * x + 7) % P)
    return (x, y if y % 2 == 0 else P - y)

# ElligatorSwift (BIP 324): decoding, and encoding by inverting it for a random u.
C3 = sqrt(P - 3)  # a square root of -3

def swift_decode(u, t):
    u, t = u % P or 1, t % P or 1
    if (u ** 3 + t * t + 7) % P == 0: t = 2 * t % P
    X = (u ** 3 + 7 - t * t) * inv(2 * t) % P
    Y = (X + t) * inv(C3 * u) % P
    for x in ((u + 4 * Y * Y) % P, (-X * inv(Y) - u) * inv(2) % P, (X * inv(Y) - u) * inv(2) % P):
        if on_curve(x): return x
    raise AssertionError("no candidate on the curve")

def swift_inverse(x, u, case):
    if case & 2 == 0:
        if on_curve((-x - u) % P): return None
        v = x if case & 1 == 0 else (-x - u) % P
        s = -(u ** 3 + 7) * inv(u * u + u * v + v * v) % P
    else:
        s = (x - u) % P
        if s == 0: return None
        r = sqrt(-s * (4 * (u ** 3 + 7) + 3 * s * u * u) % P)
        if r is None: return None
        if case & 1:
            if r == 0: return None
            r = P - r
        v = (-u + r * inv(s)) * inv(2) % P
    w = sqrt(s)
    if w is None: return None
    if case & 4: w = P - w
    return w * (u * (C3 - 1) * inv(2) - v) % P

def swift_encode(x):
    while True:
        u, case = secrets.randbelow(P - 1) + 1, secrets.randbelow(8)
        t = swift_inverse(x, u, case)
        if t is not None and swift_decode(u, t) == x:
            return u.to_bytes(32, "big") + t.to_bytes(32, "big")

def keypair():
    d = secrets.randbelow(N - 1) + 1
    return d, swift_encode(mul(d, G)[0])

def xonly_ecdh(theirs, d):
    x = swift_decode(int.from_bytes(theirs[:32], "big"), int.from_bytes(theirs[32:], "big"))
    return mul(d, lift_even(x))[0].to_bytes(32, "big")

def tagged(tag, data):
    t = hashlib.sha256(tag.encode()).digest()
    return hashlib.sha256(t + t + data).digest()

def v2_ecdh_responder(d, mine, theirs):
    # The initiator's encoding first, whichever side computes it.
    return tagged("bip324_ellswift_xonly_ecdh", theirs + mine + xonly_ecdh(theirs, d))

def schnorr_sign(d, msg):  # BIP 340
    pk = mul(d, G)
    if pk[1] % 2: d = N - d
    k = int.from_bytes(tagged("BIP0340/nonce", secrets.token_bytes(32) + pk[0].to_bytes(32, "big") + msg), "big") % N
    R = mul(k, G)
    if R[1] % 2: k = N - k
    e = int.from_bytes(tagged("BIP0340/challenge", R[0].to_bytes(32, "big") + pk[0].to_bytes(32, "big") + msg), "big") % N
    return R[0].to_bytes(32, "big") + ((k + e * d) % N).to_bytes(32, "big")

# Noise's symmetric state, SV2 flavour.
def hkdf2(ck, ikm):
    temp = hmac.new(ck, ikm, hashlib.sha256).digest()
    o1 = hmac.new(temp, b"\x01", hashlib.sha256).digest()
    return o1, hmac.new(temp, o1 + b"\x02", hashlib.sha256).digest()

class Cipher:
    def __init__(self, key): self.aead, self.n = ChaCha20Poly1305(key), 0
    def _nonce(self): return b"\0\0\0\0" + self.n.to_bytes(8, "little")
    def seal(self, pt, ad=b""):
        ct = self.aead.encrypt(self._nonce(), pt, ad); self.n += 1; return ct
    def open(self, ct, ad=b""):
        pt = self.aead.decrypt(self._nonce(), ct, ad); self.n += 1; return pt

AUTHORITY, _ = keypair()
STATIC, STATIC_PUB = keypair()

def handshake(conn):
    re = recv_exactly(conn, 64)
    h = hashlib.sha256(b"Noise_NX_Secp256k1+EllSwift_ChaChaPoly_SHA256").digest()
    ck = h
    h = hashlib.sha256(h).digest()
    h = hashlib.sha256(h + re).digest()
    h = hashlib.sha256(h).digest()  # the initiator's empty payload
    e, e_pub = keypair()
    out = e_pub
    h = hashlib.sha256(h + e_pub).digest()
    ck, k = hkdf2(ck, v2_ecdh_responder(e, e_pub, re))
    sealed = Cipher(k).seal(STATIC_PUB, h)
    out += sealed
    h = hashlib.sha256(h + sealed).digest()
    ck, k = hkdf2(ck, v2_ecdh_responder(STATIC, STATIC_PUB, re))
    valid_from, not_after = 1_700_000_000, 2_000_000_000
    server_x = swift_decode(int.from_bytes(STATIC_PUB[:32], "big"), int.from_bytes(STATIC_PUB[32:], "big")).to_bytes(32, "big")
    signed = struct.pack("<HII", 0, valid_from, not_after)
    signature = schnorr_sign(AUTHORITY, hashlib.sha256(signed + server_x).digest())
    sealed = Cipher(k).seal(signed + signature, h)
    out += sealed
    conn.sendall(out)
    to_server, to_client = hkdf2(ck, b"")
    return Cipher(to_server), Cipher(to_client)

def recv_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk: raise EOFError
        data += chunk
    return data

def read_frame(conn, rx):
    header = rx.open(recv_exactly(conn, 22))
    ext, mtype, length = struct.unpack("<HB", header[:3]) + (int.from_bytes(header[3:6], "little"),)
    payload = rx.open(recv_exactly(conn, length + 16)) if length else b""
    return mtype, payload

def send_frame(conn, tx, mtype, payload, channel=False):
    header = struct.pack("<HB", 0x8000 if channel else 0, mtype) + len(payload).to_bytes(3, "little")
    conn.sendall(tx.seal(header) + (tx.seal(payload) if payload else b""))

def s0_255(text): return bytes([len(text)]) + text

def serve(conn, mode):
    try:
        rx, tx = handshake(conn)
        while True:
            mtype, payload = read_frame(conn, rx)
            if mtype == 0x00:  # SetupConnection
                if mode == "template-provider" and payload[0] == 0:
                    send_frame(conn, tx, 0x02, struct.pack("<I", 0) + s0_255(b"unsupported-protocol"))
                    return
                send_frame(conn, tx, 0x01, struct.pack("<HI", 2, 0))
            elif mtype == 0x10:  # OpenStandardMiningChannel
                request_id = payload[:4]
                if mode == "refuse-channel":
                    send_frame(conn, tx, 0x12, request_id + s0_255(b"unknown-user"))
                    continue
                target = (0xFFFF << 208) // 1024  # difficulty 1024
                send_frame(conn, tx, 0x11, request_id + struct.pack("<I", 7) + target.to_bytes(32, "little")
                           + bytes([4]) + b"\x00\x00\x00\x2a" + struct.pack("<I", 0))
                send_frame(conn, tx, 0x15, struct.pack("<II", 7, 41) + b"\x00" + struct.pack("<I", 0x20000000)
                           + hashlib.sha256(b"merkle").digest(), channel=True)
                send_frame(conn, tx, 0x20, struct.pack("<II", 7, 41) + hashlib.sha256(b"prev").digest()
                           + struct.pack("<II", 1_733_500_000, 0x17034219), channel=True)
            else:
                return
    except (EOFError, OSError, Exception):
        pass
    finally:
        conn.close()

def main():
    host, port = sys.argv[1], int(sys.argv[2])
    mode = sys.argv[sys.argv.index("--mode") + 1] if "--mode" in sys.argv else "pool"
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    server = socket.socket(family, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen(16)
    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn, mode), daemon=True).start()

if __name__ == "__main__":
    main()

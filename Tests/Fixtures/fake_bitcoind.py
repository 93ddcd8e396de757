#!/usr/bin/env python3
"""The least of a Bitcoin Core regtest node ElectrumX needs to start serving: a chain of one block
(the regtest genesis), an empty mempool, fee answers. Only ElectrumX talks to it; the Electrum
server it lets start is the real thing the probe test asks.

usage: fake_bitcoind.py HOST PORT
"""
import hashlib, json, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

COINBASE = ("01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4d04ffff001d0104455468652054696d6573"
            "2030332f4a616e2f32303039204368616e63656c6c6f72206f6e206272696e6b206f66207365636f6e64206261696c6f757420666f722062616e6b"
            "73ffffffff0100f2052a01000000434104678afdb0fe5548271967f1a67130b7105cd6a828e03909a67962e0ea1f61deb649f6bc3f4cef38c4f355"
            "04e51ec112de5c384df7ba0b8d578a4c702b6bf11d5fac00000000")
HEADER = ("01000000" + "00" * 32 + "3ba3edfd7a7b12b27ac72c3e67768f617fc81bc3888a51323a9fb8aa4b1e5e4a"
          + (1296688602).to_bytes(4, "little").hex() + "ffff7f20" + (2).to_bytes(4, "little").hex())
BLOCK = HEADER + "01" + COINBASE
HASH = hashlib.sha256(hashlib.sha256(bytes.fromhex(HEADER)).digest()).digest()[::-1].hex()

def answer(method, params):
    if method == "getblockcount": return 0
    if method == "getblockhash": return HASH
    if method == "getblock":
        if params and len(params) > 1 and params[1] in (False, 0): return BLOCK
        return {"hash": HASH, "height": 0, "tx": [], "confirmations": 1}
    if method == "getnetworkinfo": return {"version": 310000, "subversion": "/Satoshi:31.0.0/", "relayfee": 0.00001}
    if method == "getindexinfo": return {i: {"synced": True, "best_block_height": 0} for i in ("txindex", "txospenderindex", "coinstatsindex", "basic block filter index")}
    if method == "getrawmempool": return []
    if method == "estimatesmartfee": return {"feerate": 0.0001, "blocks": 2}
    if method == "getblockchaininfo": return {"chain": "regtest", "blocks": 0, "headers": 0, "bestblockhash": HASH}
    return None

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        def one(r):
            res = answer(r.get("method"), r.get("params"))
            if res is None and r.get("method") not in ("getrawmempool",):
                return {"id": r.get("id"), "result": None, "error": {"code": -32601, "message": "Method not found"}}
            return {"id": r.get("id"), "result": res, "error": None}
        out = [one(r) for r in body] if isinstance(body, list) else one(body)
        data = json.dumps(out).encode()
        self.send_response(200); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(data)))
        self.end_headers(); self.wfile.write(data)
    def log_message(self, *a): pass

if __name__ == "__main__":
    HTTPServer((sys.argv[1], int(sys.argv[2])), Handler).serve_forever()

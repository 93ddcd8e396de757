#!/usr/bin/env python3
"""A mail client in IMAP IDLE over TLS (Python's imaplib against Dovecot): it idles on INBOX, and on
every new message (the server's `* N EXISTS`) leaves IDLE, fetches the new message's headers and
idles again — as desktop mail clients do. Dovecot says `* OK Still here` every 2 minutes.

    imap_idle.py --host ADDR --port P --seconds S
"""
import argparse, imaplib, re, ssl, threading


def main(a):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    m = imaplib.IMAP4_SSL(a.host, a.port, ssl_context=ctx)
    m.login("alice", "secret")
    m.select("INBOX")
    lock = threading.Lock()
    state = {"idle": False, "stop": False}

    def done():
        with lock:
            if state["idle"]:
                m.send(b"DONE\r\n")
                state["idle"] = False

    def stop():
        state["stop"] = True
        done()

    threading.Timer(a.seconds, stop).start()
    tag = 0
    while not state["stop"]:
        tag += 1
        with lock:
            m.send(b"i%d IDLE\r\n" % tag)
            state["idle"] = True
        m.readline()                                  # + idling
        newest = None
        while True:
            line = m.readline()
            if not line or line.startswith(b"i%d " % tag):
                break
            hit = re.match(rb"\* (\d+) EXISTS", line)
            if hit:
                newest = int(hit.group(1))
                done()
        if not line:
            return
        if newest and not state["stop"]:
            m.fetch(str(newest), "(BODY.PEEK[HEADER.FIELDS (FROM SUBJECT DATE)])")
    m.logout()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--seconds", type=float, default=600)
    main(p.parse_args())

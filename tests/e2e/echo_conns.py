#!/usr/bin/python3
"""Long-lived TCP connections for the pool's membership checks (lab_pool.py).

  echo_conns.py serve ADDR PORT          an echo server (threads), until killed: a line
                                         "ping N" comes back at once, "later S N" as
                                         "ping N" S seconds later (the server speaks first)
  echo_conns.py open [SRC=]DST:PORT...   one connection to each DST (from SRC),
                                         then commands on stdin, one JSON line each:
      round      each connection sends a line and waits 3 s for its echo: [true, false, ...]
      reopen     the connections that failed the last round connect again, then a round
      later S    each connection asks for a line S seconds from now: []
      collect T  waits up to T seconds for those lines: [true, false, ...]
"""

import json
import socket
import sys
import threading
import time


def serve(addr, port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, int(port)))
    ls.listen(128)

    def later(c, seconds, line):
        time.sleep(seconds)
        try:
            c.sendall(line)
        except OSError:
            pass

    def echo(c):
        with c:
            buf = b""
            while True:
                data = c.recv(4096)
                if not data:
                    return
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    words = line.split()
                    if words[:1] == [b"later"] and len(words) == 3:
                        threading.Thread(target=later, args=(c, float(words[1]), b"ping " + words[2] + b"\n"),
                                         daemon=True).start()
                    else:
                        c.sendall(line + b"\n")
    while True:
        c, _ = ls.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def connect(target):
    src, _, dst = target.rpartition("=")
    host, port = dst.rsplit(":", 1)
    s = socket.socket()
    s.settimeout(3)
    try:
        if src:
            s.bind((src, 0))
        s.connect((host, int(port)))
        return s
    except OSError:
        s.close()
        return None


def ping(s, n, send=True, wait=3.0):
    if s is None:
        return False
    try:
        msg = ("ping %d\n" % n).encode()
        if send:
            s.sendall(msg)
        s.settimeout(wait)
        got = b""
        while len(got) < len(msg):
            part = s.recv(len(msg) - len(got))
            if not part:
                return False
            got += part
        return got == msg
    except OSError:
        return False


def main():
    if sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
        return
    targets = sys.argv[2:]
    conns = [connect(t) for t in targets]
    last = [c is not None for c in conns]
    n = 0
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "round":
            n += 1
            last = [ping(c, n) for c in conns]
            print(json.dumps(last), flush=True)
        elif cmd.startswith("later "):
            n += 1
            for c in conns:
                try:
                    c.sendall(("later %s %d\n" % (cmd.split()[1], n)).encode())
                except (OSError, AttributeError):
                    pass
            print("[]", flush=True)
        elif cmd.startswith("collect "):
            until = time.time() + float(cmd.split()[1])
            last = [ping(c, n, send=False, wait=max(0.1, until - time.time())) for c in conns]
            print(json.dumps(last), flush=True)
        elif cmd == "reopen":
            for i, ok in enumerate(last):
                if not ok:
                    if conns[i] is not None:
                        conns[i].close()
                    conns[i] = connect(targets[i])
            n += 1
            last = [ping(c, n) for c in conns]
            print(json.dumps(last), flush=True)


if __name__ == "__main__":
    main()

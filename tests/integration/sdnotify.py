"""
A test-owned NOTIFY_SOCKET: plays systemd's side for tendd (or tendd's
side for a test that sends to tendd). Collects every datagram with the
time it was read.
"""
import os
import socket
import time

from conftest import wait_for


class NotifySocket:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.msgs = []          # [(monotonic, text)]

    def poll(self):
        while True:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return self.msgs
            self.msgs.append((time.monotonic(), data.decode()))

    def fields(self):
        """[(t, {key: value})] of every message so far."""
        out = []
        for t, text in self.poll():
            d = {}
            for line in text.split("\n"):
                k, _, v = line.partition("=")
                d[k] = v
            out.append((t, d))
        return out

    def wait(self, key, value=None, timeout=10, after=0):
        """Waits for a message (the ATER-th on) setting KEY (to VALUE);
        returns (t, fields)."""
        def check():
            for i, (t, d) in enumerate(self.fields()):
                if i >= after and key in d and (value is None or
                                                d[key] == value):
                    return (t, d)
            return None
        return wait_for(check, timeout,
                        what="%s=%s from tendd (got %r)" % (
                            key, value or "*", [m for _, m in self.msgs]))

    def close(self):
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

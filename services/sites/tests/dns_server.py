"""A small DNS server for the domain tests: TXT and CNAME answers from a dict, on a free port of 127.0.0.1."""

from __future__ import annotations

import threading

from dnslib import CNAME, QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class RecordsResolver(BaseResolver):
    def __init__(self) -> None:
        # (name without trailing dot, "TXT" | "CNAME") -> values
        self.records: dict[tuple[str, str], list[str]] = {}
        self.lock = threading.Lock()
        self.silent = False

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        with self.lock:
            values = list(self.records.get((name, kind), []))
        for value in values:
            data = TXT(value) if kind == "TXT" else CNAME(value + ".")
            reply.add_answer(RR(request.q.qname, getattr(QTYPE, kind), rdata=data, ttl=60))
        return reply


class QuietLogger(DNSLogger):
    def __init__(self) -> None:
        super().__init__(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)


class FakeDns:
    """Set records with `txt()` and `cname()`; `address` is `127.0.0.1:<port>` for the resolver setting."""

    def __init__(self) -> None:
        self.resolver = RecordsResolver()
        self.server = DNSServer(self.resolver, port=0, address="127.0.0.1", logger=QuietLogger())

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server.server_address[1]}"

    def start(self) -> None:
        self.server.start_thread()

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()

    def txt(self, name: str, *values: str) -> None:
        with self.resolver.lock:
            self.resolver.records[(name, "TXT")] = list(values)

    def cname(self, name: str, target: str) -> None:
        with self.resolver.lock:
            self.resolver.records[(name, "CNAME")] = [target]

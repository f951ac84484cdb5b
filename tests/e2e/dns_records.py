"""A DNS server for tests that verify custom domains: TXT records from a dict, on the harness's UDP port."""

from __future__ import annotations

import threading

from dnslib import QTYPE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class TxtRecords(BaseResolver):
    """Answers TXT questions from `records` (name without the trailing dot -> values); nothing else."""

    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}
        self.lock = threading.Lock()

    def set(self, name: str, *values: str) -> None:
        with self.lock:
            self.records[name.rstrip(".").lower()] = list(values)

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self.lock:
            values = list(self.records.get(name, [])) if QTYPE[request.q.qtype] == "TXT" else []
        for value in values:
            reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


class DnsServer:
    """`TxtRecords` served on 127.0.0.1:`port`, the port the harness gave sites as its nameserver."""

    def __init__(self, port: int) -> None:
        self.records = TxtRecords()
        logger = DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data", prefix=False)
        self.server = DNSServer(self.records, port=port, address="127.0.0.1", logger=logger)

    def start(self) -> DnsServer:
        self.server.start_thread()
        return self

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()

"""A worker's memory stays bounded over 1,000 of the largest requests the service accepts.

One gunicorn worker serves, after a warm-up, 1,000 requests of the two largest accepted calls
(every fourth one a FindOrdersByEmail, which costs the worker 190-280 ms of CPU against 25-40 ms
for the refund; one in two would not fit 1,000 requests into two minutes on a two-CPU machine):

* IssueRefund with 100 Lines and a 1,000-character Note, answered REFUNDED (so it writes the
  refund, the line quantities, an event and an idempotency record). The 100 lines all name the one
  line of the order (quantity 1,000,000), which keeps the answer small: a 100-line order costs the
  worker ~95 ms a refund against ~20 ms, and 1,000 requests must fit in two minutes.
* FindOrdersByEmail with PageSize 100 for an email with 100 orders: the largest answer (213 KB).

The worker's VmRSS is read from /proc before, half-way and after. Run on its own to quote the
figures (optionally with another request count)::

    .venv/bin/python -m tests.security.test_worker_memory [1000]
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests import server as test_server
from tests.records import order_record, store

pytestmark = pytest.mark.slow

ENV = "http://schemas.xmlsoap.org/soap/envelope/"
TNS = "urn:soap-orders:orders:v1"
REQUESTS = 1_000
#: Warm-up requests, two in three of them Finds: the worker's RSS climbs in steps to a plateau
#: (~118 MB here) as CPython's and glibc's heaps fragment, driven mostly by Find's large transient
#: allocations. Measured cold, the climb goes on for ~1,000 requests and adds 26-37 MB, which
#: would hide a leak; after this warm-up it adds ~14 MB (see GROWTH_LIMIT_KB).
WARM_UP = 120
TIME_LIMIT = 300.0  # seconds for the 1,000 requests: a bound on the run, with room for a busy machine
#: Growth allowed over the 1,000 requests. Measured here (SQLite, gthread, 1 worker, after the
#: warm-up): +14, +15, +15 and +17 MB (e.g. 101.1 -> 118.1 -> 118.2 MB), the last steps of the
#: climb to the plateau; 3,000 requests from cold stay flat at ~118 MB from the 1,000th on, and in-process the
#: Python heap (allocated blocks, gc objects, malloc in use) is flat over 1,400 requests. A leak
#: of 40 KB per request on the common path adds ~39 MB, one in the refund path only ~29 MB, both
#: well over 24 MB; one in the Find path only (250 Finds) adds ~10 MB to the ~15 MB and sits at
#: the bound. Leaks of less than ~10 KB per request go unseen: RSS cannot tell them from the heap's
#: fragmentation in a test of two minutes.
GROWTH_LIMIT_KB = 24 * 1024

FIND_EMAIL = "many.orders@example.com"
FIND_ORDERS = 100
FIND_EVERY = 4
#: Refunds rotate over these (~3 each), so no order's refunds (each with its 1,000-character Note,
#: all in every answer and idempotency record) pile up: with 50 orders the answers grew and so
#: did RSS, ~8 KB a refund, which is data, not a leak.
REFUND_ORDERS = 250
LINES = 100  # Line elements in each refund, each taking 1 unit (0.01) of the order's one line
UNITS = 1_000_000  # the largest Quantity a line may have
NOTE = ("Customer called twice; goodwill refund agreed by the team lead. \u00e9\u00e8\u00fc\u2013 " * 20)[:1000]


@dataclass(frozen=True)
class Measurement:
    worker_pid: int
    before_kb: int
    middle_kb: int  # after half the requests: a leak grows in both halves, settling in the first
    after_kb: int
    requests: int
    seconds: float

    @property
    def growth_kb(self) -> int:
        return self.after_kb - self.before_kb

    def __str__(self) -> str:
        return (f"worker {self.worker_pid}: VmRSS before {self.before_kb / 1024:.1f} MB, "
                f"half-way {self.middle_kb / 1024:.1f} MB, after {self.after_kb / 1024:.1f} MB, "
                f"growth {self.growth_kb / 1024:+.1f} MB over {self.requests} requests in {self.seconds:.1f} s "
                f"({self.growth_kb * 1024 / self.requests:+.0f} bytes per request)")


# ---------------------------------------------------------------------- /proc


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's child processes (its workers)."""
    children: list[int] = []
    for task in Path(f"/proc/{master}/task").glob("*/children"):
        children += [int(pid) for pid in task.read_text().split()]
    if children:
        return sorted(children)
    for status in Path("/proc").glob("[0-9]*/status"):  # kernels without the children file
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        if int(fields.get("PPid", "0").strip()) == master:
            children.append(int(status.parent.name))
    return sorted(children)


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# ---------------------------------------------------------------------- the requests


def envelope(body: str) -> bytes:
    return f'<s:Envelope xmlns:s="{ENV}" xmlns:o="{TNS}"><s:Body>{body}</s:Body></s:Envelope>'.encode()


def refund_order(number: str) -> dict:
    """One line of a million bolts at 0.01: each refund takes 100 of them (1.00 of 10,000.00)."""
    total = f"{Decimal(UNITS) / 100:.2f}"
    lines = [{"LineNumber": 1, "Sku": "BOLT-M6", "Name": "Bolt M6", "Quantity": UNITS, "UnitPrice": "0.01",
              "Status": "PROCESSING"}]
    return order_record(number, email="bolts@example.com", Lines=lines, Subtotal=total, ShippingTotal="0.00", Total=total)


def refund_request(number: str, request_id: str) -> bytes:
    lines = "<o:Line><o:LineNumber>1</o:LineNumber><o:Sku>BOLT-M6</o:Sku><o:Quantity>1</o:Quantity></o:Line>" * LINES
    return envelope(f"<o:IssueRefund><o:OrderNumber>{number}</o:OrderNumber><o:RequestId>{request_id}</o:RequestId>"
                    f"<o:Reason>CUSTOMER</o:Reason><o:Lines>{lines}</o:Lines><o:Note>{NOTE}</o:Note></o:IssueRefund>")


FIND = envelope(f"<o:FindOrdersByEmail><o:Email>{FIND_EMAIL}</o:Email><o:PageSize>100</o:PageSize></o:FindOrdersByEmail>")


def arrange(database_url: str) -> None:
    from soap_orders.bootstrap import build_dependencies

    deps = build_dependencies(test_server.settings_for_tests(database_url))
    try:
        store(deps, *(order_record(f"MEM-F{i:03d}", email=FIND_EMAIL) for i in range(FIND_ORDERS)))
        store(deps, *(refund_order(f"MEM-R{i:03d}") for i in range(REFUND_ORDERS)))
    finally:
        deps.engine.dispose()


class Traffic:
    """The worst-case accepted requests, one after the other on one session; every answer is checked.
    (One client: a second one would add nothing but a second thread's malloc arena, ~12 MB, to
    the worker, which is noise here.)"""

    def __init__(self, url: str, credentials: tuple[str, str]) -> None:
        self.session = requests.Session()
        self.session.auth = credentials
        self.session.headers["Content-Type"] = "text/xml; charset=utf-8"
        self.url = url

    def send(self, index: int, *, find: bool) -> None:
        if find:
            response = self.session.post(self.url, data=FIND, timeout=30)
            assert response.status_code == 200, response.content[:1000]
            # A cheap check on every answer, a full parse now and then.
            assert response.content.count(b">MEM-F") == FIND_ORDERS, response.content[:1000]
            if index % 50 == 0:
                root = etree.fromstring(response.content)
                assert len(root.findall(f".//{{{TNS}}}Orders/{{{TNS}}}Order")) == FIND_ORDERS
        else:
            number = f"MEM-R{index % REFUND_ORDERS:03d}"
            response = self.session.post(self.url, data=refund_request(number, f"mem-{index:05d}"), timeout=30)
            assert response.status_code == 200, response.content[:1000]
            assert b">REFUNDED<" in response.content, response.content[:1000]

    def run(self, indices: range, deadline: float, is_find: Callable[[int], bool]) -> None:
        for index in indices:
            if time.monotonic() > deadline:
                raise AssertionError(f"the requests took over {TIME_LIMIT:.0f} s")
            self.send(index, find=is_find(index))

    def close(self) -> None:
        self.session.close()


def measure(directory: Path, requests_count: int = REQUESTS) -> Measurement:
    """Start a one-worker server on a fresh SQLite database, warm it up, and measure."""
    # Make sure the worker is not recycled during the run.
    from soap_orders import gunicorn_conf
    from tests.conftest import _migrated

    assert WARM_UP + requests_count < gunicorn_conf.max_requests - gunicorn_conf.max_requests_jitter

    database_url = _migrated(f"sqlite:///{directory / 'memory.sqlite3'}")
    arrange(database_url)
    server = test_server.Server(database_url, directory / "gunicorn.log", workers=1, client_name="memory")
    traffic = Traffic(server.soap_url, server.credentials)
    try:
        workers = worker_pids(server.process.pid)
        assert len(workers) == 1, workers
        (pid,) = workers
        # The warm-up's indices (and so request ids) come after the run's.
        warm_up = range(requests_count, requests_count + WARM_UP)
        traffic.run(warm_up, time.monotonic() + TIME_LIMIT, lambda index: index % 3 != 2)
        before = rss_kb(pid)
        started = time.monotonic()
        half = requests_count // 2

        def measured(index: int) -> bool:
            return index % FIND_EVERY == FIND_EVERY - 1

        traffic.run(range(half), started + TIME_LIMIT, measured)
        middle = rss_kb(pid)
        traffic.run(range(half, requests_count), started + TIME_LIMIT, measured)
        seconds = time.monotonic() - started
        after = rss_kb(pid)
        assert worker_pids(server.process.pid) == [pid], "the worker was replaced during the run"
    finally:
        traffic.close()
        server.stop()
    return Measurement(pid, before, middle, after, requests_count, seconds)


def test_worker_memory_is_bounded_over_1000_worst_case_requests(tmp_path):
    result = measure(tmp_path)
    print(f"\n{result}")
    assert result.seconds < TIME_LIMIT
    assert result.growth_kb < GROWTH_LIMIT_KB, str(result)


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else REQUESTS
    with tempfile.TemporaryDirectory(prefix="soap-orders-memory-") as scratch:
        print(measure(Path(scratch), count))

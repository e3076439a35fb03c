"""The watchdog that cuts off request bodies that take too long: one thread, many deadlines."""

from __future__ import annotations

import threading
import time

from soap_orders.http.body import Watchdog


def test_a_watched_request_expires_once_its_time_is_up() -> None:
    watchdog = Watchdog()
    fired = threading.Event()
    started = time.monotonic()
    watchdog.watch(0.2, fired.set)
    assert fired.wait(5)
    assert time.monotonic() - started >= 0.2


def test_a_cancelled_watch_never_expires_and_others_still_do() -> None:
    watchdog = Watchdog()
    cancelled, kept = threading.Event(), threading.Event()
    watch = watchdog.watch(0.1, cancelled.set)
    watchdog.watch(0.3, kept.set)
    watchdog.cancel(watch)
    assert kept.wait(5)
    assert not cancelled.is_set()


def test_a_shorter_timeout_watched_later_expires_first() -> None:
    watchdog = Watchdog()
    order: list[str] = []
    done = threading.Event()
    watchdog.watch(1.0, lambda: (order.append("long"), done.set()))
    time.sleep(0.05)  # the thread is asleep until the long deadline
    watchdog.watch(0.1, lambda: order.append("short"))
    assert done.wait(5)
    assert order == ["short", "long"]


def test_many_watches_run_on_one_thread() -> None:
    watchdog = Watchdog()
    before = threading.active_count()
    watches = [watchdog.watch(30, lambda: None) for _ in range(500)]
    assert threading.active_count() <= before + 1
    for watch in watches:
        watchdog.cancel(watch)
    assert all(not queue for queue in watchdog._pending.values())


def test_an_expiry_that_raises_does_not_stop_the_others() -> None:
    watchdog = Watchdog()
    fired = threading.Event()

    def broken() -> None:
        raise OSError("socket already closed")

    watchdog.watch(0.05, broken)
    watchdog.watch(0.1, fired.set)
    assert fired.wait(5)


def test_a_forked_process_starts_its_own_thread() -> None:
    watchdog = Watchdog()
    watchdog.watch(30, lambda: None)
    watchdog._owner = -1  # as seen from a child process after fork: the parent's thread is not there
    fired = threading.Event()
    watchdog.watch(0.05, fired.set)
    assert fired.wait(5)
    assert 30 not in watchdog._pending  # the parent's watches are not the child's

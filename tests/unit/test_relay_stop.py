"""``soap-orders relay`` stops on SIGTERM even when the signal lands inside its idle wait."""

from __future__ import annotations

import signal
import threading

from soap_orders.cli.outbox import stop_handler


def test_the_stop_signal_is_obeyed_when_it_lands_while_the_wait_holds_the_events_lock() -> None:
    # A Python signal handler runs in the main thread between two bytecodes, so it can run inside
    # stop.wait() while that thread holds the event's lock (a threading.Condition over a plain,
    # not reentrant, Lock). Calling stop.set() right there waits for that same thread forever:
    # the relay would ignore SIGTERM. Here a thread plays the interrupted main thread.
    stop = threading.Event()
    handler = stop_handler(stop)
    handler_returned = threading.Event()

    def interrupted_wait() -> None:
        with stop._cond:  # type: ignore[attr-defined]  # what Event.wait() holds
            handler(signal.SIGTERM, None)
            handler_returned.set()

    main = threading.Thread(target=interrupted_wait, daemon=True)  # daemon: stuck for good if it fails
    main.start()

    assert handler_returned.wait(timeout=60), "the handler waited for the lock its own thread holds"
    assert stop.wait(timeout=60)  # set as soon as the wait gives the lock up
    main.join(timeout=60)

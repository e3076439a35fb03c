"""Load with wrk: a generated Lua script per call, and one measured load at a time.

The script cycles through the call's request bodies (distinct orders for GetOrder), gives every
writing request an id of its own (run token, the load's number within the run, wrk thread,
counter: never one a previous load sent, which would be answered as a replay) in place of every
occurrence of the call's marker (its RequestId, and an UpsertOrders batch's order numbers), counts answers that
are not HTTP 200 or do not hold the expected text, and prints one JSON line with wrk's own request
count, duration and latency percentiles.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import procstat

WRK_THREADS = 2


@dataclass(frozen=True)
class Call:
    """One benchmarked call: where it goes and the bodies it cycles through."""

    name: str
    path: str
    content_type: str
    bodies: tuple[str, ...]
    expect: str = ""  # text every successful answer holds ("" for none)
    request_id_marker: str = ""  # replaced in each body by a fresh RequestId
    min_seconds: float = 0.0  # each load lasts at least this long
    connections: tuple[int, ...] = ()  # loaded at these connection counts only (() for all)


@dataclass(frozen=True)
class Measured:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # socket errors, timeouts, answers that are not 200, answers without the expected text
    server_cpu_s: float
    wrk_cpu_s: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.requests if self.requests else float("nan")

    @property
    def wrk_share(self) -> float:
        """wrk's CPU as a share of the whole machine's during the load."""
        return self.wrk_cpu_s / (self.seconds * (os.cpu_count() or 1)) if self.seconds else 0.0


def operation(body: bytes) -> bytes:
    """The name of the first element of a SOAP body (``b""`` for any other body)."""
    at = body.find(b"Body>")
    if at < 0:
        return b""
    start = body.find(b"<", at) + 1
    end = start
    while end < len(body) and body[end:end + 1] not in b" />":
        end += 1
    return body[start:end]


def _lua_string(value: str) -> str:
    level = "="
    while f"]{level}]" in value:
        level += "="
    return f"[{level}[{value}]{level}]"


def write_script(path: Path, call: Call, authorization: str, run_token: str) -> Path:
    bodies = ",\n".join(_lua_string(body) for body in call.bodies)
    script = f"""
local bodies = {{
{bodies}
}}
local path = {_lua_string(call.path)}
local headers = {{["Content-Type"] = {_lua_string(call.content_type)}, ["Authorization"] = {_lua_string(authorization)}}}
local marker = {_lua_string(call.request_id_marker)}
local expect = {_lua_string(call.expect)}
local run = {_lua_string(run_token)}
local threads = {{}}
local started = 0

function setup(thread)
  started = started + 1
  thread:set("tid", started)
  table.insert(threads, thread)
end

function init(args)
  -- The load's number within the run (Wrk.run passes it), so no RequestId is sent twice.
  if args[1] then
    run = run .. "-" .. args[1]
  end
end

tid = 0
sent = 0
bad = 0

function request()
  sent = sent + 1
  local body = bodies[((sent * 7 + tid * 131) % #bodies) + 1]
  if marker ~= "" then
    -- Every occurrence: an UpsertOrders batch numbers its orders from the same id.
    local id = run .. "-" .. tid .. "-" .. sent
    local parts = {{}}
    local from = 1
    while true do
      local at = body:find(marker, from, true)
      if not at then break end
      parts[#parts + 1] = body:sub(from, at - 1)
      parts[#parts + 1] = id
      from = at + #marker
    end
    parts[#parts + 1] = body:sub(from)
    body = table.concat(parts)
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, hdrs, body)
  if status ~= 200 or (expect ~= "" and not body:find(expect, 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("bad")
  end
  io.write(string.format(
    'BENCH {{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "failed": %d}}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), failed))
end
"""
    path.write_text(script)
    return path


def _settle(server_group: int, bound: float = 30.0) -> None:
    """Wait (at most ``bound`` seconds) until the server is idle: requests wrk gave up on or left in
    flight when the load ended are still served, and their CPU must not fall into the next load."""
    deadline = time.monotonic() + bound
    before = procstat.group_cpu_seconds(server_group)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = procstat.group_cpu_seconds(server_group)
        if now - before < 0.025:  # under 10% of a core
            return
        before = now


class Wrk:
    """Runs wrk; remembers the running process so that it can be stopped on the way out."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.loads = 0

    def run(self, url: str, script: Path, connections: int, seconds: float, server_group: int,
            allow_empty: bool = False) -> Measured:
        """One load; a load that completes no request is an error unless ``allow_empty`` (a warm-up
        of a call slower than the warm-up)."""
        before = procstat.group_cpu_seconds(server_group)
        self.loads += 1
        self.process = subprocess.Popen(
            ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", str(script), url, "--", f"L{self.loads}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        output = self.process.stdout.read().decode(errors="replace")
        # wait4 hands back the kernel's accounting of wrk itself.
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        self.process = None
        after = procstat.group_cpu_seconds(server_group)
        _settle(server_group)
        line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
        if line is None:
            raise RuntimeError(f"wrk did not report:\n{output}")
        data = json.loads(line[len("BENCH "):])
        if data["requests"] == 0 and not allow_empty:
            raise RuntimeError(f"wrk completed no request:\n{output}")
        return Measured(
            requests=data["requests"], seconds=data["duration_us"] / 1e6, p50_ms=data["p50_us"] / 1000,
            p99_ms=data["p99_us"] / 1000, failed=data["failed"], server_cpu_s=after - before,
            wrk_cpu_s=usage.ru_utime + usage.ru_stime,
        )

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

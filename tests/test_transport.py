"""How requests and answers travel between the judge and a sandboxed child: messages on pipes,
large bodies through a sealed shared region, deadlines on sending as well as on receiving, and
the child placed on the judge's CPU."""

from __future__ import annotations

import os
import threading
import time

import numpy as np
import pytest

from autograder.wire import decode, encode, encode_parts
from autograder.sandbox import messages, placement, shared_sandbox
from autograder.sandbox.forkserver import ForkServer, verified_handout
from autograder.sandbox.launcher import ChildCrashed, ChildProcess, ChildTimeout

HUGE = np.arange(1_500_000, dtype=np.float64).reshape(1500, 1000)  # 12 MB: goes through the shared region


def load(child, source: str) -> None:
    answer = child.request({"op": "load", "module": "m", "cells": [source], "filename": "m.py", "tolerant": False}, 20)
    assert answer["ok"], answer


def call(child, target: str, *args, timeout: float = 20):
    return child.request({"op": "batch", "requests": [
        {"op": "call", "module": "m", "target": target, "args": list(args), "kwargs": {}, "keep": "h"},
        {"op": "get", "value": {"$ref": ["h", []]}}]}, timeout)


# ---------------------------------------------------------------- the wire, in parts
@pytest.mark.parametrize("value", [
    np.arange(12.0).reshape(3, 4).T,  # not C-contiguous: copied once, in C order
    np.float32(2.5), np.array(7), np.zeros((0, 3)), np.array([True, False]), np.arange(4, dtype=">i4"),
    np.array(["ab", "c"]), {"a": [np.ones(3), (1, None)]},
])
def test_encoded_parts_are_the_encoded_message(value):
    parts = encode_parts({"value": value})
    assert b"".join(bytes(memoryview(p).cast("B")) for p in parts) == encode({"value": value})
    decoded = decode(encode({"value": value}))["value"]
    if isinstance(value, np.ndarray):
        assert decoded.dtype == value.dtype and decoded.shape == value.shape and np.array_equal(decoded, value)


def test_an_array_is_sent_from_its_own_memory():
    array = np.arange(1000, dtype=np.float64)
    data = encode_parts({"x": array})[-1]
    assert isinstance(data, memoryview) and np.shares_memory(np.frombuffer(data, dtype=np.float64), array)


# ---------------------------------------------------------------- messages on a pipe
def test_messages_cross_a_pipe_and_the_shared_region():
    region = messages.SharedRegion.create(32 << 20)
    read_fd, write_fd = os.pipe()
    try:
        inbox = messages.Inbox()
        small = encode_parts({"x": np.arange(10.0)})
        messages.send(write_fd, small, shared=region)
        assert np.array_equal(decode(inbox.receive(read_fd, 1 << 30, shared=region))["x"], np.arange(10.0))
        big = encode_parts({"x": HUGE})
        messages.send(write_fd, big, shared=region)
        os.set_blocking(read_fd, False)
        assert len(os.read(read_fd, 1 << 16)) == messages.HEADER.size  # only the flagged length crossed the pipe
        os.set_blocking(read_fd, True)
        messages.send(write_fd, big, shared=region)
        assert np.array_equal(decode(inbox.receive(read_fd, 1 << 30, shared=region))["x"], HUGE)
    finally:
        region.close()
        os.close(read_fd)
        os.close(write_fd)


def test_both_sides_decode_in_place_and_the_judge_keeps_private_copies():
    judge_side = messages.SharedRegion.create(32 << 20)
    child_side = messages.SharedRegion(os.dup(judge_side.fd))
    read_fd, write_fd = os.pipe()
    try:
        messages.send(write_fd, encode_parts({"x": HUGE}), shared=judge_side)
        request = messages.Inbox().receive(read_fd, 1 << 30, shared=child_side)
        assert request.obj is child_side.map  # no copy on the child's side
        assert np.array_equal(decode(request)["x"], HUGE)
        del request
        messages.send(write_fd, encode_parts({"x": HUGE}), shared=child_side)  # a memory copy into the mapping
        answer = messages.Inbox().receive(read_fd, 1 << 30, shared=judge_side)
        assert answer.obj is judge_side.map  # no pread into a buffer first
        value = decode(answer)["x"]
        del answer
        child_side.map[:1 << 20] = b"\xff" * (1 << 20)  # the child writes there again, too late
        assert np.array_equal(value, HUGE) and not np.shares_memory(value, np.frombuffer(judge_side.map, np.uint8))
    finally:
        for thing in (judge_side, child_side):
            thing.close()
        os.close(read_fd)
        os.close(write_fd)


def _arrays_in(value):
    if isinstance(value, np.ndarray):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _arrays_in(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _arrays_in(item)


def test_an_answer_changed_while_the_judge_decodes_it_is_a_value_or_a_wire_error():
    """A child may scribble on the region while the judge decodes its answer in place: decode reads
    each length and header once and copies the arrays out, so the result is always some value the
    child could have sent, or a WireError; never another exception, never an array over the region."""
    import threading

    from autograder.wire import WireError

    judge_side = messages.SharedRegion.create(4 << 20)
    child_side = messages.SharedRegion(os.dup(judge_side.fd))
    parts = encode_parts({"x": np.arange(300_000, dtype=np.float64), "y": [np.ones((50, 40)), "text"]})
    length = sum(memoryview(p).cast("B").nbytes for p in parts)
    stop = threading.Event()

    def scribble():
        rng = np.random.default_rng(0)
        while not stop.is_set():
            start = int(rng.integers(0, 4096)) if rng.random() < 0.7 else int(rng.integers(0, length))
            child_side.map[start:start + 8] = rng.integers(0, 256, 8, dtype=np.uint8).tobytes()

    scribbler = threading.Thread(target=scribble)
    scribbler.start()
    outcomes = {"value": 0, "wire error": 0}
    try:
        for _ in range(300):
            child_side.write([memoryview(p).cast("B") for p in parts])
            try:
                value = decode(memoryview(judge_side.map)[:length])
            except WireError:
                outcomes["wire error"] += 1
                continue
            outcomes["value"] += 1
            for array in _arrays_in(value):
                assert not np.shares_memory(array, np.frombuffer(judge_side.map, np.uint8))
    finally:
        stop.set()
        scribbler.join()
        judge_side.close()
        child_side.close()
    assert outcomes["value"] + outcomes["wire error"] == 300


def test_a_populated_region_is_allocated_and_mapped_in_advance():
    region = messages.SharedRegion(messages.sealed_memfd(32 << 20))
    try:
        assert os.fstat(region.fd).st_blocks == 0
        region.populate(12 << 20)
        assert os.fstat(region.fd).st_blocks * 512 == 12 << 20  # allocated, and no more than asked
        assert region.size == 32 << 20  # the seals still hold the size
    finally:
        region.close()


def test_an_announced_length_over_the_cap_is_refused_before_reading():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, messages.HEADER.pack(1 << 40))
    with pytest.raises(messages.TooLarge):
        messages.Inbox().receive(read_fd, 1 << 20)
    os.write(write_fd, messages.HEADER.pack(100 | messages.IN_SHARED_REGION))  # no region to read from
    with pytest.raises(messages.TooLarge):
        messages.Inbox().receive(read_fd, 1 << 20)
    os.close(read_fd)
    os.close(write_fd)


def test_the_shared_region_cannot_be_shrunk_or_grown():
    region = messages.SharedRegion.create(1 << 20)
    try:
        for size in (0, 2 << 20):
            with pytest.raises(PermissionError):
                os.ftruncate(region.fd, size)
    finally:
        region.close()


def test_a_region_made_elsewhere_is_used_only_sealed_and_of_the_agreed_size():
    unsealed = os.memfd_create("unsealed", os.MFD_ALLOW_SEALING)
    sealed = messages.sealed_memfd(1 << 20)
    try:
        os.ftruncate(unsealed, 1 << 20)
        with pytest.raises(ValueError, match="seals"):
            messages.SharedRegion.adopt(unsealed, 1 << 20)
        with pytest.raises(ValueError, match="bytes"):
            messages.SharedRegion.adopt(sealed, 2 << 20)
        assert messages.SharedRegion.adopt(sealed, 1 << 20).size == 1 << 20
    finally:
        os.close(unsealed)
        os.close(sealed)


def test_the_judge_refuses_a_handout_that_is_not_two_pipes_and_a_sealed_region(tmp_path):
    def closed(fd):
        try:
            os.fstat(fd)
        except OSError:
            return True
        return False

    read_end, write_end = os.pipe()
    region = messages.sealed_memfd()
    with pytest.raises(ValueError, match="requests end"):
        verified_handout([read_end, write_end, region])  # the ends swapped
    assert all(closed(fd) for fd in (read_end, write_end, region))

    read_end, write_end = os.pipe()
    plain = os.open(tmp_path / "plain", os.O_RDWR | os.O_CREAT)
    with pytest.raises(ValueError, match="seals|memfd"):
        verified_handout([write_end, read_end, plain])
    assert all(closed(fd) for fd in (read_end, write_end, plain))
    with pytest.raises(ValueError, match="instead of 3"):
        verified_handout([])


# ---------------------------------------------------------------- through the sandbox
@pytest.fixture(scope="module")
def sandbox():
    return shared_sandbox()


@pytest.fixture
def child(sandbox):
    child = sandbox.start_child()
    yield child
    child.kill()


def test_the_next_child_is_confined_in_advance_and_is_a_fresh_one(sandbox):
    first = sandbox.start_child()
    try:
        assert sandbox.server.settle()  # the spare is ready before anyone asks for it
        load(first, "import numpy as np\nnp.pi = 3\ndef pi():\n    return float(np.pi)\n")
        assert call(first, "pi")["value"] == 3
    finally:
        first.kill()
    second = sandbox.start_child()
    try:
        assert second.pid != first.pid
        load(second, "import numpy as np\ndef pi():\n    return float(np.pi)\n")
        assert call(second, "pi")["value"] == np.pi
    finally:
        second.kill()


WARMTH = """import ctypes, os
class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]
def warmth():
    libc = ctypes.CDLL(None)
    libc.mallinfo2.restype = Mallinfo2
    resident = 0
    with open("/proc/self/smaps") as smaps:
        inside = False
        for line in smaps:
            if "-" in line.split()[0]:
                inside = "dlgrade-messages" in line
            elif inside and line.startswith("Rss:"):
                resident += int(line.split()[1]) << 10
    return libc.mallinfo2().fordblks, resident
"""


def warmth_of_two_children(server) -> list[tuple[int, int]]:
    """(free heap, resident shared region) of the first child of a fresh server (never a spare)
    and of the spare that follows it."""
    first = server.start_child()
    assert server.settle()
    second = server.start_child()
    try:
        return [(load(child, WARMTH), call(child, "warmth"))[1]["value"] for child in (first, second)]
    finally:
        first.kill()
        second.kill()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="a spare is warmed on a CPU other than the judge's")
def test_a_spare_child_has_faulted_in_its_memory_before_it_is_handed_out():
    from autograder.sandbox.zygote import SPARE_HEAP_BYTES, SPARE_REGION_BYTES

    with ForkServer() as server, placement.pinned():
        (cold_heap, cold_region), (warm_heap, warm_region) = warmth_of_two_children(server)
    assert warm_heap >= SPARE_HEAP_BYTES > cold_heap  # free heap kept, its pages touched
    assert warm_region >= SPARE_REGION_BYTES > cold_region  # the region's first pages mapped


def test_a_spare_on_the_judges_own_cpu_is_not_warmed():
    from autograder.sandbox.zygote import SPARE_HEAP_BYTES, SPARE_REGION_BYTES

    with placement.pinned(), ForkServer() as server:  # as in a batch worker: the server shares the judge's CPU
        (_, cold_region), (heap, region) = warmth_of_two_children(server)
    assert heap < SPARE_HEAP_BYTES and region < SPARE_REGION_BYTES and cold_region == 0


def test_no_spare_is_confined_when_the_next_start_recycles_the_server():
    with ForkServer(recycle_after=1) as server:
        child = server.start_child()
        assert not server.settle()
        child.kill()
        assert server.start_child().alive  # a fresh server


def test_large_arrays_round_trip_through_a_confined_child(child):
    load(child, "def double(x):\n    return x * 2, x.sum()\n")
    for _ in range(2):
        answer = call(child, "double", HUGE)
        assert answer["ok"], answer
        doubled, total = answer["value"]
        assert np.array_equal(doubled, HUGE * 2) and total == HUGE.sum()


def test_a_child_that_truncates_the_shared_region_cannot_hurt_the_judge(child):
    load(child, "import os, numpy as np\n"
                "def attack(x):\n"
                "    errors = []\n"
                "    for fd in range(3, 64):\n"
                "        try:\n"
                "            os.ftruncate(fd, 0)\n"
                "        except OSError as error:\n"
                "            errors.append(type(error).__name__)\n"
                "    return np.ones(2_000_000), errors\n")
    answer = call(child, "attack", HUGE)
    assert answer["ok"], answer
    big, errors = answer["value"]
    assert big.shape == (2_000_000,) and "PermissionError" in errors  # the sealed memfd refused
    assert call(child, "attack", HUGE)["ok"]  # and the next large answer still arrives


def test_a_child_that_stops_reading_cannot_hold_the_judge_past_its_deadline(child):
    # The child swaps an empty pipe in for its request pipe, keeping the real one open unread.
    load(child, "import fcntl, os, stat\nkept = []\n"
                "def reads_a_pipe(fd):\n"
                "    try:\n        mode, flags = os.fstat(fd).st_mode, fcntl.fcntl(fd, fcntl.F_GETFL)\n"
                "    except OSError:\n        return False\n"
                "    return stat.S_ISFIFO(mode) and flags & os.O_ACCMODE == os.O_RDONLY\n"
                "def stop_reading():\n"
                "    for fd in [fd for fd in range(3, 64) if reads_a_pipe(fd)]:\n"
                "        kept.append(os.dup(fd))\n        empty, _ = os.pipe()\n        os.dup2(empty, fd)\n"
                "    return len(kept)\n")
    assert call(child, "stop_reading")["value"] == 1
    started = time.monotonic()
    with pytest.raises(ChildTimeout):  # 80 MB: too large for the shared region, so through the full pipe
        child.request({"op": "put", "value": [np.ones(1000) for _ in range(10_000)], "keep": "x"}, 2)
    assert time.monotonic() - started < 10
    assert not child.alive


def test_an_unconfined_child_gets_the_shared_region_too():
    child = ChildProcess()
    try:
        load(child, "def same(x):\n    return x\n")
        answer = call(child, "same", HUGE)
        assert answer["ok"] and np.array_equal(answer["value"], HUGE)
    finally:
        child.kill()
    with pytest.raises(ChildCrashed):
        call(child, "same", 1)


# ---------------------------------------------------------------- placement
@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to tell a pinned child apart")
def test_a_child_runs_on_the_cpu_of_the_judge_thread_that_asked_for_it(sandbox):
    cpu = max(os.sched_getaffinity(0))
    seen = {}

    def judge():
        with placement.pinned(cpu):
            child = sandbox.start_child()
            try:
                load(child, "import os\ndef where():\n    return sorted(os.sched_getaffinity(0))\n")
                seen["child"] = call(child, "where")["value"]
                seen["judge"] = sorted(os.sched_getaffinity(0))
            finally:
                child.kill()

    thread = threading.Thread(target=judge)
    thread.start()
    thread.join()
    assert seen == {"child": [cpu], "judge": [cpu]}
    assert len(os.sched_getaffinity(0)) >= 2  # this thread was never pinned
    child = sandbox.start_child()
    try:
        load(child, "import os\ndef where():\n    return sorted(os.sched_getaffinity(0))\n")
        assert call(child, "where")["value"] == sorted(os.sched_getaffinity(0))
    finally:
        child.kill()


def test_pinned_restores_the_affinity_it_found():
    before = os.sched_getaffinity(0)
    with placement.pinned(min(before)):
        assert os.sched_getaffinity(0) == {min(before)}
    assert os.sched_getaffinity(0) == before
    assert placement.current_cpu() in before
    assert placement.cpu_for_worker(0) == min(before)
    assert placement.cpu_for_worker(len(before)) == min(before)  # round robin past the last CPU

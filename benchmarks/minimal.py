"""Minimal, uninstrumented versions of each strategy's mechanism, written as a user would.

No stamps, no records, no work primitives: writers put ``(writer, seq, payload)`` and
readers take items until a sentinel. `bench_harness.py` runs each beside the
instrumented strategy (same writers, readers, items, payload, start method) to
measure what queuebench's instrumentation costs.

    python benchmarks/minimal.py STRATEGY WRITERS READERS ITEMS_PER_WRITER PAYLOAD START_METHOD

prints the seconds from releasing the writers to everything joined (the same window
as queuebench's ``start`` -> ``end`` stamps).
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import queue
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any


def _write(q: Any, w: int, n: int, payload: bytes) -> None:
    for s in range(n):
        q.put((w, s, payload))


def _read_until_sentinel(q: Any) -> None:
    while q.get() is not None:
        pass


def _read_one(q: Any) -> None:
    q.get()


def _consume(item: Any) -> None:
    pass


def sequential(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    t0 = time.perf_counter()
    for s in range(n):
        for wr in range(w):
            _consume((wr, s, payload))
    return time.perf_counter() - t0


def threads(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    q: queue.Queue[Any] = queue.Queue()
    with ThreadPoolExecutor(r) as pool:
        readers = [pool.submit(_read_until_sentinel, q) for _ in range(r)]
        writers = [threading.Thread(target=_write, args=(q, i, n, payload)) for i in range(w)]
        t0 = time.perf_counter()
        for t in writers:
            t.start()
        for t in writers:
            t.join()
        for _ in range(r):
            q.put(None)
        for f in readers:
            f.result()
        return time.perf_counter() - t0


def asyncio_tasks(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    async def write(q: asyncio.Queue[Any], i: int) -> None:
        for s in range(n):
            await q.put((i, s, payload))

    async def read(q: asyncio.Queue[Any]) -> None:
        while await q.get() is not None:
            pass

    async def main() -> float:
        q: asyncio.Queue[Any] = asyncio.Queue()
        readers = [asyncio.create_task(read(q)) for _ in range(r)]
        t0 = time.perf_counter()
        await asyncio.gather(*(write(q, i) for i in range(w)))
        for _ in range(r):
            await q.put(None)
        await asyncio.gather(*readers)
        return time.perf_counter() - t0

    return asyncio.run(main())


def _start_writers(ctx: Any, q: Any, w: int, n: int, payload: bytes) -> list[Any]:
    procs = [ctx.Process(target=_write, args=(q, i, n, payload)) for i in range(w)]
    for p in procs:
        p.start()
    return procs


def mp_queue(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    ctx = mp.get_context(method)
    q = ctx.Queue()
    readers = [ctx.Process(target=_read_until_sentinel, args=(q,)) for _ in range(r)]
    for p in readers:
        p.start()
    t0 = time.perf_counter()
    writers = _start_writers(ctx, q, w, n, payload)
    for p in writers:
        p.join()
    for _ in range(r):
        q.put(None)
    for p in readers:
        p.join()
    return time.perf_counter() - t0


def seed_pool(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    ctx = mp.get_context(method)
    with ctx.Manager() as manager:
        q = manager.Queue()
        pool = ctx.Pool(r)
        t0 = time.perf_counter()
        writers = _start_writers(ctx, q, w, n, payload)
        results = [pool.apply_async(_read_one, (q,)) for _ in range(w * n)]
        for res in results:
            res.get()
        pool.close()
        pool.join()
        for p in writers:
            p.join()
        return time.perf_counter() - t0


def manager_pool(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    ctx = mp.get_context(method)
    with ctx.Manager() as manager:
        q = manager.Queue()
        pool = ctx.Pool(r)
        t0 = time.perf_counter()
        writers = _start_writers(ctx, q, w, n, payload)
        results = [pool.apply_async(_read_until_sentinel, (q,)) for _ in range(r)]
        for p in writers:
            p.join()
        for _ in range(r):
            q.put(None)
        for res in results:
            res.get()
        pool.close()
        pool.join()
        return time.perf_counter() - t0


def process_pool(w: int, r: int, n: int, payload: bytes, method: str) -> float:
    ctx = mp.get_context(method)
    q = ctx.Queue()
    with ProcessPoolExecutor(max_workers=r, mp_context=ctx) as executor:
        t0 = time.perf_counter()
        writers = _start_writers(ctx, q, w, n, payload)
        futures = [executor.submit(_consume, q.get()) for _ in range(w * n)]
        for f in futures:
            f.result()
        for p in writers:
            p.join()
    return time.perf_counter() - t0


LOOPS = {
    "sequential": sequential,
    "threads": threads,
    "asyncio": asyncio_tasks,
    "mp-queue": mp_queue,
    "seed-pool": seed_pool,
    "manager-pool": manager_pool,
    "process-pool": process_pool,
}

if __name__ == "__main__":
    name, w, r, n, size, method = sys.argv[1:7]
    seconds = LOOPS[name](int(w), int(r), int(n), b"\0" * int(size), method)
    print(f"{seconds:.9f}")

"""The VM list at 10,000 VMs: its first page renders in the browser within a second."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from playwright.sync_api import expect

from one_core.client import Client
from one_core.testing.oned import OnedProcess

VMS = 10_000
BATCH = 500
LIMIT_SECONDS = 1.0


def allocate_many(oned: OnedProcess, count: int) -> None:
    """``count`` VMs through ``system.multicall`` batches on two parallel connections."""

    def batch(first: int) -> None:
        client = Client(session=oned.session, endpoint=oned.url)
        calls = [
            {
                "methodName": "one.vm.allocate",
                "params": [oned.session, f'NAME = "vm{i}"\nCPU = 1\nMEMORY = 64\n'],
            }
            for i in range(first, min(first + BATCH, count))
        ]
        results = client.call_raw("system.multicall", calls)
        client.close()
        assert all(r[0][0] is True for r in results), results[:3]

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(batch, range(0, count, BATCH)))


def test_first_page_of_10000_vms_within_a_second(
    oned_factory: Callable[..., OnedProcess], tabs, start_web
) -> None:
    oned = oned_factory()  # no scheduler: the VMs stay PENDING
    started = time.monotonic()
    allocate_many(oned, VMS)
    allocated = time.monotonic() - started
    web = start_web(oned.url)
    try:
        tab = tabs(web)
        tab.login()
        tab.goto("/vms")  # warm: the first request opens the connections
        timings = []
        for _ in range(3):
            t0 = time.monotonic()
            tab.goto("/vms")
            expect(tab.page.locator("#vm-table tbody tr")).to_have_count(50)
            timings.append(time.monotonic() - t0)
        expect(tab.page.locator("#vm-0")).to_contain_text("PENDING")
        tab.page.get_by_role("link", name="Next →").click()
        expect(tab.page.locator("#vm-50")).to_contain_text("PENDING")
        t0 = time.monotonic()
        tab.goto("/vms?page=199")
        expect(tab.page.locator("#vm-9999")).to_contain_text("PENDING")
        assert tab.page.get_by_role("link", name="Next →").count() == 0
        last_page = time.monotonic() - t0
        t0 = time.monotonic()
        tab.goto("/")
        expect(tab.page.locator("#vms-h")).to_contain_text(str(VMS))
        dashboard = time.monotonic() - t0
        best, worst = min(timings), max(timings)
        print(
            f"\n10,000 VMs: allocated in {allocated:.1f} s; first page rendered in "
            f"{best * 1000:.0f}-{worst * 1000:.0f} ms; last page {last_page * 1000:.0f} ms; "
            f"dashboard (counts every VM) {dashboard * 1000:.0f} ms"
        )
        # the best of three: the machine is shared, a busy moment is not the page's cost
        assert best <= LIMIT_SECONDS, timings
        assert last_page <= 2 * LIMIT_SECONDS, last_page
    finally:
        web.stop()

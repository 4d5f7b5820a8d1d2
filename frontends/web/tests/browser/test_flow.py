"""The operator's whole path through the dashboard, in a real browser against a real oned."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import expect

VM_TEMPLATE = 'NAME = "web1"\nCPU = 1\nMEMORY = 256\nNIC = [ NETWORK = "lan" ]\n'
NET_TEMPLATE = 'NAME = "lan"\nTYPE = FIXED\nBRIDGE = br0\nLEASES = [ IP = 10.0.0.5 ]\n'


def vm_state(tab: Any) -> str:
    return tab.page.locator("#vm-live .vm-state").inner_text().strip()


def wait_state(tab: Any, want: str, timeout: float = 60.0) -> list[str]:
    """Watch the VM page (no reload) until its state is ``want``; the states seen, in order."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = vm_state(tab)
        if not seen or seen[-1] != state:
            seen.append(state)
        if state == want:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"VM never reached {want}; seen {seen}")


def test_operator_flow(web, tabs) -> None:
    tab = tabs(web)
    tab.goto("/")
    expect(tab.page).to_have_url(re.compile(r"/login"))
    tab.shot("login")
    tab.login()
    assert tab.page.get_by_role("heading", name="Dashboard").is_visible()

    # a host, from the page
    tab.goto("/hosts")
    tab.page.get_by_label("Name", exact=True).fill("node1")
    tab.page.get_by_role("button", name="Add host").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Host 0: node1")
    expect(tab.page.locator("#host-live .badge").first).to_have_text("MONITORED", timeout=60_000)
    # disabled for now: the VM below waits PENDING until the host is enabled again
    tab.page.get_by_role("button", name="Disable").click()
    expect(tab.page.locator("#host-live .badge").first).to_have_text("DISABLED")

    # a network, from the page
    tab.goto("/vnets")
    tab.page.get_by_label("Template").fill(NET_TEMPLATE)
    tab.page.get_by_role("button", name="Create network").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Network 0: lan")

    # a second tab watches the hosts list: its usage bar must move without a reload
    watcher = tabs(web)
    watcher.login()
    watcher.goto("/hosts")
    cpu_bar = watcher.page.locator("#host-0 .cpu-alloc meter")
    assert cpu_bar.evaluate("m => m.value") == 0
    watcher.page.evaluate("window.__noReload = true")

    # a VM, from the page: PENDING while the host is disabled
    tab.goto("/vms/new")
    tab.page.get_by_label("Template").fill(VM_TEMPLATE)
    tab.page.get_by_role("button", name="Create VM").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("VM 0: web1")
    assert vm_state(tab) == "PENDING"
    tab.page.evaluate("window.__noReload = true")

    # another operator enables the host; the VM page shows it reach RUNNING, no reload
    operator = tabs(web)
    operator.login()
    operator.goto("/hosts/0")
    operator.page.get_by_role("button", name="Enable").click()
    seen = wait_state(tab, "RUNNING", timeout=60)
    assert seen[0] == "PENDING", seen
    assert tab.page.evaluate("window.__noReload") is True
    steps = tab.page.locator("#vm-live .progress li").all_inner_texts()
    assert [s.replace("→", "").strip() for s in steps] == ["PENDING", "PROLOG", "BOOT", "RUNNING"]
    expect(tab.page.locator('#vm-live .progress li[aria-current="step"]')).to_have_text(
        re.compile("RUNNING")
    )

    # the host's usage bar changed in the other tab, still without a reload
    watcher.page.wait_for_function(
        "document.querySelector('#host-0 .cpu-alloc meter').value >= 100", timeout=30_000
    )
    assert watcher.page.evaluate("window.__noReload") is True
    watcher.shot("hosts")

    # its log
    expect(tab.page.locator("#vm-log pre")).to_contain_text(
        "New VM state is ACTIVE", timeout=10_000
    )
    tab.shot("vm")

    # stop and resume
    tab.page.get_by_role("button", name="Stop").click()
    wait_state(tab, "STOPPED")
    tab.page.get_by_role("button", name="Resume").click()
    wait_state(tab, "RUNNING")

    # the network's lease: who holds which IP
    tab.goto("/vnets/0")
    row = tab.page.locator("#leases tbody tr").first
    expect(row).to_contain_text("10.0.0.5")
    expect(row).to_contain_text("web1")
    expect(row).to_contain_text("oneadmin")
    tab.shot("vnet")
    tab.goto("/vnets")
    tab.shot("vnets")

    # pages for the screenshots: dashboard (with plots), host detail, VM list, users
    tab.goto("/hosts/0")
    tab.page.wait_for_function(
        "document.querySelectorAll('figure.chart canvas').length >= 2", timeout=15_000
    )
    assert int(tab.page.locator("figure.chart").first.get_attribute("data-points") or 0) > 0
    tab.shot("host")
    tab.goto("/")
    tab.page.wait_for_function(
        "document.querySelectorAll('figure.chart canvas').length >= 2", timeout=15_000
    )
    expect(tab.page.locator("#dashboard-live")).to_contain_text("RUNNING")
    tab.shot("dashboard")
    tab.goto("/vms")
    expect(tab.page.locator("#vm-0 .vm-state")).to_have_text("RUNNING")
    tab.shot("vms")
    tab.goto("/users")
    tab.shot("users")

    # phone width: the same pages stay usable (nothing wider than the screen)
    phone = tabs(web, phone=True)
    phone.login()
    for path, name in (("/", "phone-dashboard"), ("/vms", "phone-vms"), ("/vms/0", "phone-vm")):
        phone.goto(path)
        width = phone.page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} is {width}px wide at phone width"
        phone.shot(name)

    # delete it: a destructive action asks first
    tab.goto("/vms/0")
    tab.page.get_by_role("button", name="Cancel").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text("Cancel VM 0?")
    tab.shot("confirm")
    tab.page.get_by_role("button", name="Yes, do it").click()
    wait_state(tab, "DONE")
    assert tab.dialogs == [] and watcher.dialogs == [] and operator.dialogs == []


def test_template_error_shown_at_its_line(web, tabs) -> None:
    tab = tabs(web)
    tab.login()
    tab.goto("/vms/new")
    tab.page.get_by_label("Template").fill('NAME = "x"\nCPU 1\nMEMORY = 64\n')
    tab.page.get_by_role("button", name="Create VM").click()
    alert = tab.page.get_by_role("alert")
    expect(alert).to_contain_text("syntax error")
    expect(alert).to_contain_text("at line 2")
    expect(alert.locator(".bad-line")).to_contain_text("CPU 1")
    expect(alert.locator(".bad-line")).to_contain_text("line 2")
    tab.shot("vm-new-error")
    tab.goto("/vms")
    expect(tab.page.locator("#vm-table tbody")).to_contain_text("No virtual machines.")

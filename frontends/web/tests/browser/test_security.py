"""Permissions are the API's, hostile names render as text, CSRF-less posts are refused."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from one_core.client import Client
from one_core.testing.oned import DRIVER_SECTIONS_SCHED, OnedProcess

HOSTILE = ["<script>alert(1)</script>", '"><img src=x onerror=alert(1)>']


@pytest.fixture
def strict_web(oned_factory: Callable[..., OnedProcess], start_web):
    """The dashboard on an oned in strict mode (``API_SECURITY = "strict"``)."""
    oned = oned_factory(sections=DRIVER_SECTIONS_SCHED, API_SECURITY='"strict"')
    return start_web(oned.url)


def test_a_user_sees_only_their_vms(strict_web, tabs) -> None:
    admin = tabs(strict_web)
    admin.login()
    for name in ("alice", "bob"):
        admin.goto("/users")
        admin.page.get_by_label("Name").fill(name)
        admin.page.get_by_label("Password").fill(f"{name}-pw")
        admin.page.get_by_role("button", name="Create user").click()
        expect(admin.page.get_by_role("status")).to_contain_text(f"User {name} created")

    alice = tabs(strict_web)
    alice.login("alice", "alice-pw")
    alice.goto("/vms/new")
    alice.page.get_by_label("Template").fill('NAME = "alices-vm"\nCPU = 1\nMEMORY = 64\n')
    alice.page.get_by_role("button", name="Create VM").click()
    expect(alice.page.get_by_role("heading", level=1)).to_have_text("VM 0: alices-vm")
    assert alice.page.get_by_role("link", name="Users").count() == 0  # oneadmin only

    bob = tabs(strict_web)
    bob.login("bob", "bob-pw")
    bob.goto("/vms")
    expect(bob.page.locator("#vm-table tbody")).to_contain_text("No virtual machines.")
    response = bob.page.goto(strict_web.url + "/vms/0")
    assert response is not None and response.status == 403
    assert "alices-vm" not in bob.page.content()
    response = bob.page.goto(strict_web.url + "/users")
    assert response is not None and response.status == 403
    # and bob's actions on alice's VM are refused by oned
    token = bob.page.locator('input[name="csrf"]').first.get_attribute("value")
    result = bob.page.request.post(
        strict_web.url + "/vms/0/action", form={"csrf": token, "action": "hold"}
    )
    assert "Not authorized" in result.text()

    admin.goto("/vms")
    expect(admin.page.locator("#vm-0")).to_contain_text("alices-vm")
    expect(admin.page.locator("#vm-0")).to_contain_text("alice")


def test_hostile_names_render_as_text(web, tabs) -> None:
    tab = tabs(web)
    tab.login()
    for name in HOSTILE:
        quoted = name.replace('"', '\\"')  # the template syntax escapes a quote with a backslash
        template = f'NAME = "{quoted}"\nCPU = 1\nMEMORY = 64\n'
        tab.goto("/vms/new")
        tab.page.get_by_label("Template").fill(template)
        tab.page.get_by_role("button", name="Create VM").click()
        expect(tab.page.locator(".vm-title")).to_have_text(name)
    tab.goto("/vms")
    for vid, name in enumerate(HOSTILE):
        expect(tab.page.locator(f"#vm-{vid} .vm-name")).to_have_text(name)
    assert tab.page.locator("main img").count() == 0
    assert tab.page.locator("main script").count() == 0
    tab.goto("/vms/1")
    expect(tab.page.get_by_role("heading", level=1)).to_contain_text(HOSTILE[1])
    # a network and a template value too
    quoted = HOSTILE[1].replace('"', '\\"')
    tab.goto("/vnets")
    tab.page.get_by_label("Template").fill(
        f'NAME = "{quoted}"\nTYPE = FIXED\nBRIDGE = "{HOSTILE[0]}"\nLEASES = [ IP = 10.0.0.9 ]\n'
    )
    tab.page.get_by_role("button", name="Create network").click()
    expect(tab.page.get_by_role("heading", level=1)).to_have_text(f"Network 0: {HOSTILE[1]}")
    expect(tab.page.locator(".facts")).to_contain_text(HOSTILE[0])
    assert tab.page.locator("main img").count() == 0
    assert tab.page.locator("main script").count() == 0
    tab.goto("/")
    tab.page.wait_for_timeout(500)
    assert tab.dialogs == []


def test_posts_without_csrf_token_are_refused(web, tabs, cloud) -> None:
    tab = tabs(web)
    tab.login()
    request = tab.page.request
    refused = request.post(
        web.url + "/vms", form={"template": 'NAME = "sneaky"\nCPU = 1\nMEMORY = 64\n'}
    )
    assert refused.status == 403
    refused = request.post(web.url + "/hosts", form={"csrf": "forged", "name": "h"})
    assert refused.status == 403
    foreign = request.post(
        web.url + "/hosts",
        form={
            "csrf": tab.page.locator('input[name="csrf"]').first.get_attribute("value") or "",
            "name": "h",
            "im_mad": "im_dummy",
            "vm_mad": "vmm_dummy",
        },
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status == 403
    pool = Client(session=cloud.session, endpoint=cloud.url)
    assert "<VM>" not in pool.call("one.vmpool.info", -2) and "<HOST>" not in pool.call(
        "one.hostpool.info"
    )
    pool.close()


def test_cookie_and_headers(web, tabs) -> None:
    tab = tabs(web)
    response = tab.page.goto(web.url + "/login")
    assert response is not None
    headers = response.headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    tab.login()
    (cookie,) = tab.page.context.cookies()
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "onepass" not in cookie["value"]
    # logging out revokes the oned login token: the old cookie is worth nothing
    tab.page.get_by_role("button", name="Log out").click()
    expect(tab.page.get_by_role("status")).to_have_text("Logged out.")
    tab.page.context.add_cookies([cookie])
    tab.goto("/vms")
    expect(tab.page).to_have_url(re.compile(r"/login"))
    expect(tab.page.get_by_role("status")).to_contain_text("session has ended")

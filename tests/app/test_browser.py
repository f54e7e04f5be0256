"""End-to-end tests in a real browser: Playwright driving the distribution's Chromium.

The browser is the system package (``apt-get install chromium``; ``.ci/run`` installs it), launched
through ``executable_path``; nothing is downloaded. Locally, without Chromium, these tests skip;
under CI a missing Chromium is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

from .conftest import PASSWORD, make_app  # noqa: E402

CHROMIUM = (
    os.environ.get("RHEUMETRICS_CHROMIUM")
    or shutil.which("chromium")
    or shutil.which("chromium-browser")
)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if CHROMIUM is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is not installed: .ci/run must install it for the browser tests")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    import uvicorn

    app = make_app(f"sqlite:///{tmp_path / 'e2e.sqlite'}")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
    app.state.ctx.engine.dispose()


def login(browser, base: str, user: str):
    page = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    page.goto(f"{base}/patients")
    expect(page).to_have_url(re.compile(r"/login\?next=/patients$"))
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/patients")
    return page


def create_patient(page, base: str, key: str) -> None:
    page.goto(f"{base}/patients/new")
    page.fill("input[name=patient_key]", key)
    page.select_option("select[name=diagnosis]", "ra")
    page.click("text=Create patient")
    expect(page).to_have_url(f"{base}/patients/{key}")


def tab_to(page, selector: str, limit: int = 100) -> None:
    """Press Tab until ``selector`` has the keyboard focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.locator(f"{selector}:focus").count():
            return
    raise AssertionError(f"{selector} never got the focus")


def score(page, name: str):
    return page.locator(f"#score-{name}")


def test_visit_on_the_homunculus_decision_override_and_audit(browser, base_url):
    page = login(browser, base_url, "clinician")
    create_patient(page, base_url, "E2E-1")
    page.click("text=Start or stop a drug")
    page.fill("input[name=drug]", "methotrexate")
    page.fill("input[name=dose]", "15")
    page.fill("input[name=dose_unit]", "mg/week")
    page.fill("input[name=start_date]", "2023-06-01")
    page.click("text=Add course")
    page.click("text=New visit")
    page.fill("input[name=visit_date]", "2024-01-10")
    page.fill("input[name=esr_mm_h]", "30")
    page.fill("input[name=gh_mm]", "50")
    page.fill("input[name=ptga]", "5")
    page.fill("input[name=phga]", "4")
    page.fill("input[name=crp]", "15")
    from rheumetrics.measures import das28_esr

    none = f"{das28_esr(tjc28=0, sjc28=0, esr_mm_h=30, gh_mm=50):.2f}"
    expect(score(page, "das28_esr")).to_have_text(none)  # no tender or swollen joint yet
    page.click("g.joint[data-joint=R_WRIST]")  # tender
    expect(page.locator("#tjc28")).to_have_text("1")
    expect(score(page, "das28_esr")).not_to_have_text(none)
    before = score(page, "das28_esr").inner_text()
    page.click("g.joint[data-joint=L_KNEE]")  # tender
    page.click("g.joint[data-joint=L_KNEE]")  # swollen
    expect(page.locator("#sjc28")).to_have_text("1")
    expect(score(page, "das28_esr")).not_to_have_text(before)
    expect(score(page, "das28_esr")).to_have_text(
        f"{das28_esr(tjc28=1, sjc28=1, esr_mm_h=30, gh_mm=50):.2f}"
    )
    page.click("text=Save visit")
    expect(page).to_have_url(f"{base_url}/patients/E2E-1")
    expect(page.locator("svg.chart circle.visit")).to_have_count(1)
    expect(page.locator("#decision")).to_contain_text("Treat-to-target decision")
    expect(page.locator("svg.timeline")).to_contain_text("methotrexate")
    page.check("input[name=choice][value=override]")
    page.select_option("select[name=actual_action]", "continue")
    page.fill("input[name=reason]", "patient travelling, review in 4 weeks")
    page.click("text=Record decision")
    expect(page.locator("#recorded")).to_contain_text("(override)")
    admin = login(browser, base_url, "admin")
    admin.goto(f"{base_url}/admin/audit")
    row = admin.locator("tr", has_text="decision E2E-1")
    expect(row).to_contain_text("clinician")
    expect(row).to_contain_text("patient travelling, review in 4 weeks")


def test_keyboard_only_visit_entry(browser, base_url):
    page = login(browser, base_url, "clinician")
    create_patient(page, base_url, "E2E-KB")
    page.goto(f"{base_url}/patients/E2E-KB/visits/new")
    page.fill("input[name=visit_date]", "2024-02-01")
    for _ in range(40):  # tab until the first joint of the homunculus has focus
        page.keyboard.press("Tab")
        if page.locator("g.joint:focus").count():
            break
    focused = page.locator("g.joint:focus")
    expect(focused).to_have_count(1)
    page.keyboard.press("t")  # tender
    page.keyboard.press("ArrowRight")
    page.keyboard.press("b")  # tender and swollen
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Space")  # next state: tender
    page.keyboard.press("ArrowRight")
    page.keyboard.press("p")  # prosthesis/absent: counts over the 28 joints become missing
    expect(page.locator("#tjc28")).to_have_text("–")
    expect(page.locator("#sjc28")).to_have_text("–")
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("n")  # third joint back to neither
    page.keyboard.press("ArrowRight")
    page.keyboard.press("n")  # fourth joint assessed again
    expect(page.locator("#tjc28")).to_have_text("2")
    expect(page.locator("#sjc28")).to_have_text("1")
    tab_to(page, "input[name=esr_mm_h]")
    page.keyboard.type("24")
    page.keyboard.press("Tab")
    page.keyboard.type("1.0")
    tab_to(page, "input[name=gh_mm]")
    page.keyboard.type("40")
    expect(score(page, "das28_esr")).not_to_have_text("–")
    page.keyboard.press("Enter")  # submits the form
    expect(page).to_have_url(f"{base_url}/patients/E2E-KB")
    expect(page.locator("table.list")).to_contain_text("2024-02-01")


def test_researcher_cannot_edit(browser, base_url):
    clin = login(browser, base_url, "clinician")
    create_patient(clin, base_url, "E2E-R")
    page = login(browser, base_url, "researcher")
    page.goto(f"{base_url}/patients/E2E-R")
    expect(page.locator("text=New visit")).to_have_count(0)
    expect(page.locator("text=Record decision")).to_have_count(0)
    resp = page.goto(f"{base_url}/patients/E2E-R/visits/new")
    assert resp is not None and resp.status == 403
    expect(page.locator("body")).to_contain_text("may not do this")


def test_anonymous_is_redirected_and_missing_csrf_is_refused(browser, base_url):
    page = browser.new_page()
    page.goto(f"{base_url}/dashboard")
    expect(page).to_have_url(re.compile(r"/login\?next=/dashboard$"))
    page.close()
    clin = login(browser, base_url, "clinician")
    resp = clin.request.post(
        f"{base_url}/patients/new", form={"patient_key": "NOPE", "diagnosis": "ra"}
    )
    assert resp.status == 403
    clin.goto(f"{base_url}/patients?q=NOPE")
    expect(clin.locator("table.list")).to_contain_text("No patients found")


def test_two_clinicians_editing_one_visit_get_a_conflict(browser, base_url):
    a = login(browser, base_url, "clinician")
    create_patient(a, base_url, "E2E-C")
    a.goto(f"{base_url}/patients/E2E-C/visits/new")
    a.fill("input[name=visit_date]", "2024-03-01")
    a.fill("input[name=esr_mm_h]", "20")
    a.click("text=Save visit")
    a.click("text=edit")
    edit_url = a.url
    b = login(browser, base_url, "clinician2")
    b.goto(edit_url)
    a.fill("input[name=esr_mm_h]", "25")
    b.fill("input[name=esr_mm_h]", "99")
    a.click("text=Save visit")
    expect(a).to_have_url(f"{base_url}/patients/E2E-C")
    b.click("text=Save visit")
    expect(b.locator("h1")).to_have_text("Edit conflict")
    expect(b.locator("body")).to_contain_text("changed by someone else")
    a.goto(edit_url)
    expect(a.locator("input[name=esr_mm_h]")).to_have_value("25")

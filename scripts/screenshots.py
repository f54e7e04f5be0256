"""Regenerate docs/screenshots/*.png: the main pages of the clinic app on the demo cohort.

Runs the app on 127.0.0.1 (a free port) with the bundled synthetic cohort and drives the
distribution's Chromium with Playwright (``--chromium /usr/bin/chromium`` by default; nothing is
downloaded).

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--chromium PATH]
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import expect, sync_playwright

from rheumetrics.app import Settings, create_app
from rheumetrics.app.demo import build_demo


def serve(app: object) -> tuple[uvicorn.Server, str]:
    """Start ``app`` on a free loopback port in a thread; returns the server and its base URL."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
    )
    threading.Thread(target=server.run, daemon=True).start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    engine, passwords = build_demo(Path(tempfile.mkdtemp()) / "demo.sqlite")
    server, base = serve(create_app(engine, Settings()))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{base}/login")
            page.screenshot(path=str(args.out / "login.png"))
            page.fill("input[name=username]", "admin")
            page.fill("input[name=password]", passwords["admin"])
            page.click("button[type=submit]")
            page.wait_for_url(f"{base}/patients")
            page.screenshot(path=str(args.out / "patients.png"), full_page=True)
            page.goto(f"{base}/patients/SYN-NZ-03")
            page.screenshot(path=str(args.out / "patient.png"), full_page=True)
            page.goto(f"{base}/patients/SYN-NZ-03/visits/new")
            page.fill("input[name=visit_date]", "2024-06-01")
            for joint, clicks in (
                ("R_WRIST", 3),
                ("L_MCP2", 1),
                ("L_MCP3", 1),
                ("R_PIP2", 2),
                ("L_KNEE", 2),
            ):
                for _ in range(clicks):
                    page.click(f"g.joint[data-joint={joint}]")
            page.fill("input[name=esr_mm_h]", "28")
            page.fill("input[name=gh_mm]", "45")
            page.fill("input[name=ptga]", "4.5")
            page.fill("input[name=phga]", "3")
            page.fill("input[name=crp]", "1.2")
            page.select_option("select[name=crp_unit]", "mg/dL")
            expect(page.locator("#score-das28_crp")).not_to_have_text("–")
            page.screenshot(path=str(args.out / "visit_form.png"), full_page=True)
            page.goto(f"{base}/dashboard")
            page.screenshot(path=str(args.out / "dashboard.png"), full_page=True)
            page.goto(f"{base}/admin/audit")
            page.screenshot(path=str(args.out / "audit.png"))
            browser.close()
    finally:
        server.should_exit = True
    print(f"screenshots written to {args.out}")


if __name__ == "__main__":
    main()

"""Web app fixtures: an app on SQLite and on PostgreSQL (the ``db_url`` fixture of
``tests/conftest.py``), signed-in clients per role.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from starlette.testclient import TestClient

from rheumetrics.app import Settings, create_app
from rheumetrics.app.security import add_user

PASSWORD = "correct horse battery"
USERS = {
    "admin": "admin",
    "clinician": "clinician",
    "clinician2": "clinician",
    "researcher": "researcher",
    "datamanager": "data_manager",
}


def make_app(url: str) -> FastAPI:
    app = create_app(url, Settings(secret="test-secret-" + "x" * 20))
    with app.state.ctx.engine.begin() as conn:
        for name, role in USERS.items():
            add_user(conn, name, PASSWORD, role)
    return app


@pytest.fixture
def app(db_url: str) -> Iterator[FastAPI]:
    a = make_app(db_url)
    yield a
    a.state.ctx.engine.dispose()


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "page has no CSRF token"
    return m.group(1)


class Client:
    """A signed-in test client that knows its CSRF token."""

    def __init__(self, app: FastAPI, username: str | None) -> None:
        self.http = TestClient(app, base_url="http://testserver")
        self.csrf = ""
        if username is not None:
            page = self.http.get("/login")
            r = self.http.post(
                "/login",
                data={
                    "username": username,
                    "password": PASSWORD,
                    "csrf_token": csrf_of(page.text),
                    "next": "/patients",
                },
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            self.csrf = csrf_of(self.http.get("/patients").text)

    def get(self, url: str, **kw: Any) -> Any:
        return self.http.get(url, **kw)

    def post(self, url: str, data: dict[str, str], csrf: bool = True, **kw: Any) -> Any:
        body = {**data, "csrf_token": self.csrf} if csrf else data
        kw.setdefault("follow_redirects", False)
        return self.http.post(url, data=body, **kw)


@pytest.fixture
def signed_in(app: FastAPI) -> Any:
    return lambda username: Client(app, username)


def new_patient(c: Client, key: str = "P-001", diagnosis: str = "ra") -> None:
    r = c.post(
        "/patients/new",
        {"patient_key": key, "diagnosis": diagnosis, "sex": "female", "birth_year": "1960"},
    )
    assert r.status_code == 303, r.text


def visit_form(
    date: str, tender: tuple[str, ...] = (), swollen: tuple[str, ...] = (), **values: str
) -> dict[str, str]:
    """A visit form with the 28 joints assessed and the given ones tender/swollen."""
    from rheumetrics.app.forms import JOINT_SETS
    from rheumetrics.store.jointbits import STORAGE_ORDER

    form = {"visit_date": date, "kind": "routine", "joint_set": "28", "crp_unit": "mg/L"}
    shown = set(JOINT_SETS["28"])
    for j in STORAGE_ORDER:
        t, s = j in tender, j in swollen
        form[f"j_{j}"] = (
            "b" if t and s else "t" if t else "s" if s else ("n" if j in shown else "x")
        )
    form.update(values)
    return form

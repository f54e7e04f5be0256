"""PDF output on A4: every page rendered to an image, nothing may reach the page edge, and no
laid-out box may end beyond the right edge of the content area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("weasyprint")
pdfium = pytest.importorskip("pypdfium2")

from rheumetrics.study.model import load_study  # noqa: E402
from rheumetrics.study.pdf import overflowing_boxes  # noqa: E402
from rheumetrics.study.report import render_html, run_study, write_report  # noqa: E402

A4_PT = (595.28, 841.89)  # 210 x 297 mm in points
EDGE_MM = 5.0


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("pdf")
    rep = run_study(load_study("rapport"), db_url=f"sqlite:///{folder / 'r.sqlite'}")
    written = write_report(rep, folder / "rapport.pdf")
    return written["pdf"], render_html(rep, pdf=True)


def test_pages_are_a4_and_nothing_reaches_the_edge(pdf: tuple[Path, str]) -> None:
    path, _ = pdf
    doc = pdfium.PdfDocument(str(path))
    try:
        assert len(doc) >= 2
        for k in range(len(doc)):
            page = doc[k]
            assert page.get_size() == pytest.approx(A4_PT, abs=0.5)
            scale = 2.0
            img = np.asarray(page.render(scale=scale, grayscale=True).to_pil().convert("L"))
            band = round(EDGE_MM / 25.4 * 72 * scale)
            ink = img < 200
            assert ink[band:-band, band:-band].any(), f"page {k + 1} is empty"
            for side, strip in (("top", ink[:band]), ("bottom", ink[-band:]),
                                ("left", ink[:, :band]), ("right", ink[:, -band:])):  # fmt: skip
                assert not strip.any(), f"page {k + 1}: content reaches the {side} edge"
    finally:
        doc.close()


def test_no_box_overflows_the_content_width(pdf: tuple[Path, str]) -> None:
    _, html = pdf
    assert overflowing_boxes(html) == []


def test_overflow_check_sees_a_box_that_is_too_wide() -> None:
    html = '<html><body><div style="width: 400mm">wide</div></body></html>'
    assert overflowing_boxes(html)

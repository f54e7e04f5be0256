"""A4 PDF output: the report's HTML laid out by WeasyPrint (Kozea; https://weasyprint.org), a
CSS paged-media engine, with the A4 page rules of the report template."""

from __future__ import annotations

from pathlib import Path

from rheumetrics.errors import RheumetricsError


def html_to_pdf(html: str, out: Path) -> Path:
    """Write ``html`` as an A4 PDF at ``out``; every box must fit the page width."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise RheumetricsError(
            "PDF output needs WeasyPrint and its Pango libraries: pip install 'rheumetrics[pdf]' "
            f"(https://doc.courtbouillon.org/weasyprint/stable/first_steps.html); {exc}"
        ) from exc
    document = HTML(string=html).render()
    document.write_pdf(out)
    return out


def overflowing_boxes(html: str) -> list[str]:
    """Boxes laid out beyond the right edge of the page content area (should be none)."""
    from weasyprint import HTML

    problems = []
    document = HTML(string=html).render()
    for number, page in enumerate(document.pages, start=1):
        root = page._page_box
        right = root.margin_width() - root.margin_right
        stack = list(root.descendants())
        for box in stack:
            width = getattr(box, "width", None)
            if width is None or not hasattr(box, "position_x"):
                continue
            edge = box.position_x + box.margin_width()
            if edge > right + 0.5 and box.element_tag not in (None, "html", "body"):
                problems.append(
                    f"page {number}: <{box.element_tag}> ends at {edge:.0f}px > {right:.0f}px"
                )
    return problems

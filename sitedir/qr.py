"""QR codes, drawn on the server as SVG (no script, no third party): one way for every page."""
from __future__ import annotations

import segno

STYLE = {"scale": 4, "border": 2, "dark": "#000", "light": "#fff"}


def qr_svg(text: str, **options: object) -> str:
    """A QR code for text as an SVG document (options: segno's, e.g. title=, scale=)."""
    return segno.make(text, error="m").svg_inline(**{**STYLE, **options})


def qr_svg_data_uri(text: str, **options: object) -> str:
    """A QR code for text as an SVG data URI, for an <img>."""
    return segno.make(text, error="m").svg_data_uri(**{**STYLE, **options})

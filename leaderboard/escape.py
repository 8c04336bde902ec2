"""HTML escaping for every string that reaches a page, and the one definition of an entry's display name."""

from __future__ import annotations

import html
from typing import Any


def e(value: Any) -> str:
    """HTML-escape anything for element text or a double-quoted attribute (`&`, `<`, `>`, `"`, `'`)."""
    return html.escape("" if value is None else str(value), quote=True)


def display_name(entry: dict[str, Any]) -> str:
    """The submitter's display name, else the model id (both untrusted: always pass through `e`)."""
    model = entry["submission"]["model"]
    return model.get("display_name") or model["id"]

"""The sandbox page's icons as inline SVG: drawn by the browser itself, never a font's glyph
(a fresh Debian with only the chromium package has no emoji font, and 📎 or 👤 become empty boxes)."""

from __future__ import annotations

from html import escape

_PATHS = {
    "menu": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "attach": '<path d="M21 11.5 12.4 20a5.5 5.5 0 0 1-7.8-7.8l8.9-8.9a3.7 3.7 0 0 1 5.2 5.2l-8.9 8.9'
              'a1.8 1.8 0 0 1-2.6-2.6l8.2-8.2"/>',
    "contact": '<circle cx="12" cy="8" r="4"/><path d="M4 21a8 8 0 0 1 16 0"/>',
    "send": '<path d="M21 3 10 14"/><path d="M21 3 14.5 21l-4.5-7-7-4.5z"/>',
    "document": '<path d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8z"/><path d="M14 3v5h5"/>'
                '<path d="M9 13h6M9 17h6"/>',
    "clock": '<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>',
}


def icon(name: str, *, size: int = 20, label: str | None = None) -> str:
    """An SVG icon in the current text colour; ``label`` names it for screen readers when it
    stands alone (a button names its icon with its own aria-label instead)."""
    a11y = f'role="img" aria-label="{escape(label)}"' if label else 'aria-hidden="true"'
    return (f'<svg class="icon icon-{name}" viewBox="0 0 24 24" width="{size}" height="{size}" {a11y} '
            'focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
            f'stroke-linejoin="round">{_PATHS[name]}</svg>')

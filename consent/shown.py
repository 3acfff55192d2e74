"""What a person was shown: a consent dialog as sent, made comparable across renderings.

The stored copy (consent.ShownCopy) is the dialog fragment exactly as rendered, except
the values of its hidden inputs: the CSRF token, the signed one-time form token and the
return address differ on every rendering and nobody sees them, so they are blanked.
Every visible character is kept, so equal dialogs hash equally and any visible
difference (a word, a default, a button's emphasis) gives another digest.
"""

import hashlib
import re
from dataclasses import dataclass

from config.memo import ProcessMemo

_HIDDEN_INPUT = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>")
_VALUE = re.compile(r"\bvalue=\"[^\"]*\"")

# Digests this process knows are stored. ShownCopy rows are content-addressed and never
# change or go away, so a remembered digest cannot go stale (DESIGN §7: memos may serve
# reads on hot paths); the memo only spares a rendering the insert of an existing row.
known_digests: ProcessMemo[set[str]] = ProcessMemo("shown-copy-digests", set, seconds=3600)


def shown_html(rendered: str) -> str:
    """The rendered dialog with every hidden input's value blanked, nothing else changed
    (but the blank lines around the fragment, which the template tags leave and nobody sees)."""
    return _HIDDEN_INPUT.sub(lambda tag: _VALUE.sub('value=""', tag.group(0)), rendered.strip())


def shown_digest(html: str) -> str:
    return hashlib.sha256(html.encode()).hexdigest()


@dataclass(frozen=True)
class ShownDialog:
    """A dialog as it is kept (``shown_html``) and its digest, the ShownCopy's key."""

    html: str
    digest: str

    @classmethod
    def of(cls, rendered: str) -> "ShownDialog":
        html = shown_html(rendered)
        return cls(html=html, digest=shown_digest(html))


_SUBMITTING_ATTRIBUTE = re.compile(r"\s(?:action|formaction|hx-[a-z-]+)=\"[^\"]*\"")
_CONTROL = re.compile(r"<(button|input|select|textarea)\b")


def shown_for_display(html: str) -> str:
    """A stored dialog made inert for reading it again: no form action or htmx request is
    left, and every control is disabled. The page serving it also forbids any form
    submission and any script (its Content-Security-Policy), so neither layer alone holds."""
    inert = _SUBMITTING_ATTRIBUTE.sub("", html)
    return _CONTROL.sub(r"<\1 disabled", inert)

"""The README and docs/ explain the system from inside the repository: every link resolves here."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [
    ROOT / "README.md",
    ROOT / "bench" / "README.md",
    *sorted((ROOT / "docs").glob("*.md")),
]
LINK = re.compile(r"\]\(([^)\s]+)\)|<(https?://[^>]+)>")


def _links(path: Path) -> list[str]:
    return [m.group(1) or m.group(2) for m in LINK.finditer(path.read_text())]


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_document_links_only_to_files_in_the_repository(document):
    for target in _links(document):
        assert not re.match(r"^[a-z]+:", target), f"{document.name} links outside: {target}"
        file_part = target.split("#", 1)[0]
        if not file_part:
            continue
        resolved = (document.parent / file_part).resolve()
        assert resolved.is_relative_to(ROOT), f"{document.name} links outside the repo: {target}"
        assert resolved.exists(), f"{document.name} links to a missing file: {target}"


def test_link_finder_sees_external_and_relative_links():
    sample = ROOT / "var" / "link-sample.md"
    sample.parent.mkdir(exist_ok=True)
    sample.write_text("[a](https://example.com) [b](../x.md#y) <http://h/>")
    try:
        assert _links(sample) == ["https://example.com", "../x.md#y", "http://h/"]
    finally:
        sample.unlink()

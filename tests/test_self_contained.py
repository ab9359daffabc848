"""The repository explains itself: its docs, docstrings and help texts cite only the project's own
pages (``docs/math.md`` for the mathematics) and the published papers, and every citation and
relative link resolves.

(a) No file the project ships cites a file that lives outside the repository, or speaks of the
    paper through how this project was set up ("the seed", "our copy", "the issue's choice", ...).
    The word "issue" is allowed only in the bug-report sense listed in ``ISSUE_ALLOWED``.
(b) Every ``docs/math.md §N`` citation anywhere in the repository names a section that exists,
    and a quoted heading after it (``docs/math.md §5 "Thm 4.4"``) names a heading of that
    section; every relative markdown link in ``docs/**/*.md`` and ``README.md`` points to an
    existing file, and its ``#anchor`` (if any) to a heading of that page.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MATH = ROOT / "docs" / "math.md"

#: What the project ships to its users (tests are checked by (b) only).
SHIPPED = ["docs", "README.md", "theory", "numerics", "proofs_check", "training", "bench",
           "examples", "notebooks"]
TEXT_SUFFIXES = {".md", ".py", ".txt", ".toml", ".cfg", ".ini", ".rst", ".json", ".ipynb",
                 ".yaml", ".yml", ".sh"}

#: Phrases that speak of the project's set-up instead of the project and the paper.
INSIDER = re.compile(r"seed text|lost (in|when|from) |the issue('s)?\b|(from|in|of) the seed\b"
                     r"|the seed (lost|says|gives|text)|our copy|missing from our", re.I)
#: Files outside the repository (case-sensitive: ``docs/math.md`` is the project's own page; file
#: names with their suffix: an upper-cased message in bench/mutation.json's diffs names no file).
OUTSIDE = re.compile(r"MATH\.md|EQUILATERAL\.md|\.\./shared|shared/|seeds/")
#: The word "issue" is allowed only for a bug report; ``(relative path, line text)`` pairs.
ISSUE_ALLOWED: set[tuple[str, str]] = set()
ISSUE = re.compile(r"\bissues?\b", re.I)


def _shipped_files() -> list[Path]:
    out = []
    for name in SHIPPED:
        p = ROOT / name
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out += [f for f in sorted(p.rglob("*")) if f.is_file() and f.suffix in TEXT_SUFFIXES
                    and "__pycache__" not in f.parts and ".ipynb_checkpoints" not in f.parts]
    return out


def _all_text_files() -> list[Path]:
    return _shipped_files() + sorted((ROOT / "tests").rglob("*.py"))


def _rel(p: Path) -> str:
    return str(p.relative_to(ROOT))


def test_shipped_files_cite_only_the_project_and_the_papers():
    bad = []
    for f in _shipped_files():
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), start=1):
            for rx in (INSIDER, OUTSIDE):
                m = rx.search(line)
                if m:
                    bad.append(f"{_rel(f)}:{n}: {m.group(0)!r} in {line.strip()[:100]!r}")
            if ISSUE.search(line) and (_rel(f), line.strip()) not in ISSUE_ALLOWED:
                bad.append(f"{_rel(f)}:{n}: 'issue' (only for a bug report) in "
                           f"{line.strip()[:100]!r}")
    assert not bad, "\n".join(bad)


def test_the_checks_catch_what_they_are_for():
    """The patterns above are not vacuous: each catches the phrasing it exists for."""
    for text in ("the formulas were lost when the paper was extracted", "see MATH.md §5",
                 "cannot be read from the seed", "not in our copy", "the issue's choice",
                 "EQUILATERAL.md", "../shared/MATH.md"):
        assert INSIDER.search(text) or OUTSIDE.search(text), text
    for text in ("docs/math.md §5", "the equilateral triangle", "seed 0", "Hypothesis seed",
                 "random seeds", "precision is lost."):
        assert not (INSIDER.search(text) or OUTSIDE.search(text)), text


# -- (b) citations and links ------------------------------------------------------------------
FENCE = re.compile(r"^```.*?^```", re.S | re.M)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def _slug(heading: str) -> str:
    """GitHub's anchor of a heading: markdown links reduced to their text, lower case, every
    character but letters, digits, ``_``, ``-`` and spaces dropped, spaces to ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _headings(path: Path) -> list[tuple[int, str]]:
    text = FENCE.sub("", path.read_text())
    return [(len(m.group(1)), m.group(2)) for m in HEADING.finditer(text)]


def _anchors(path: Path) -> set[str]:
    seen, out = {}, set()
    for _, h in _headings(path):
        s = _slug(h)
        k = seen.get(s, 0)
        out.add(s if k == 0 else f"{s}-{k}")
        seen[s] = k + 1
    return out


def _math_sections() -> dict[int, list[str]]:
    """``{N: [headings of section §N]}`` (the ``## §N`` heading and every sub-heading)."""
    out, current = {}, None
    for level, h in _headings(MATH):
        m = re.match(r"§(\d+)\b", h)
        if level == 2:
            current = int(m.group(1)) if m else None
            if current is not None:
                out[current] = [h]
        elif current is not None:
            out[current].append(h)
    return out


def test_math_md_has_the_fixed_sections():
    sections = _math_sections()
    assert sorted(sections) == list(range(1, 9))
    for n, words in {1: "Setting", 2: "Closed-form", 3: "Flows", 4: "Closed-form solutions",
                     5: "Statements", 6: "Experiment vocabulary", 7: "Training",
                     8: "Other score models"}.items():
        assert words in sections[n][0], (n, sections[n][0])


#: ``math.md §N`` (also ``§N-§M`` / ``§N, §M``), optionally followed by a quoted heading name
#: (quotes possibly escaped inside a Python string).
CITATION = re.compile(r"math\.md\s*§(\d+)((?:\s*[-–,]\s*§\d+)*)"
                      r"(?:'s)?(?:\s*\\?\"([^\"\\\n]+)\\?\")?")


def test_every_math_md_citation_resolves():
    sections = _math_sections()
    bad, count = [], 0
    for f in _all_text_files():
        for n, line in enumerate(f.read_text(errors="replace").splitlines(), start=1):
            for m in CITATION.finditer(line):
                count += 1
                numbers = [int(m.group(1))] + [int(x) for x in re.findall(r"\d+", m.group(2))]
                for k in numbers:
                    if k not in sections:
                        bad.append(f"{_rel(f)}:{n}: §{k} is not a section of docs/math.md")
                name, last = m.group(3), numbers[-1]  # a quoted name belongs to the last §
                if name and last in sections and not any(
                        name.lower() in h.lower() for h in sections[last]):
                    bad.append(f"{_rel(f)}:{n}: no heading {name!r} in docs/math.md §{last}")
    assert count > 100, f"only {count} citations found: is the pattern still right?"
    assert not bad, "\n".join(bad)


LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")


def _link_pages() -> list[Path]:
    return sorted((ROOT / "docs").rglob("*.md")) + [ROOT / "README.md"]


@pytest.mark.parametrize("page", _link_pages(), ids=_rel)
def test_relative_links_resolve(page):
    bad = []
    text = FENCE.sub("", page.read_text())
    text = re.sub(r"`[^`\n]*`", "", text)  # inline code is not a link
    for m in LINK.finditer(text):
        target = m.group(1) or m.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            bad.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            bad.append(f"{target}: no heading with anchor #{anchor} in {_rel(dest)}")
    assert not bad, f"{_rel(page)}:\n" + "\n".join(bad)


def test_every_registered_statement_is_stated_in_math_md():
    """docs/math.md §5 names every statement the toolkit checks, by its id."""
    from proofs_check import registry
    section = MATH.read_text().split("## §5", 1)[1].split("## §6", 1)[0]
    missing = [st.id for st in registry.statements() if f"`{st.id}`" not in section]
    assert not missing, f"statements not described in docs/math.md §5: {missing}"

"""The documentation site builds with no broken link, missing page or missing anchor, its CLI
reference names every command, and the README stays short (the details live on the site)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from perception.cli import build_parser
from tests.conftest import REPO

README_MAX_LINES = 300


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("mkdocs", reason="mkdocs is in the `dev` extra: pip install -e '.[dev]'")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner, not a build warning
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"mkdocs build --strict failed:\n{build.stdout}{build.stderr}"
    return out


def test_site_builds_strict_with_every_page(site: Path):
    pages = sorted(p.stem for p in (REPO / "docs").glob("*.md"))
    assert "cli" in pages and "speech" in pages
    for page in pages:
        html = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert html.is_file(), f"docs/{page}.md was not built"
        text = html.read_text(encoding="utf-8")
        assert "<!-- readme:" not in text and "<!-- cli-reference -->" not in text, (
            f"docs/{page}.md kept a placeholder: is docs/hooks.py under `hooks:` in mkdocs.yml?"
        )


def test_cli_reference_names_every_command(site: Path):
    html = (site / "cli" / "index.html").read_text(encoding="utf-8")
    parser = build_parser()
    (commands,) = [a for a in parser._actions if a.choices and a.dest == "command"]
    for name in commands.choices:
        assert f"perception {name}" in html, f"`perception {name}` missing from docs/cli.md"


def test_readme_is_short():
    lines = (REPO / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines, at most {README_MAX_LINES}: move the detail to a page "
        "under docs/ and link it"
    )

"""The examples of the docs run: the module's docstrings (doctest), and every Python block
of README.md and of the guide in docs/, each as a script of its own in a fresh folder."""

import doctest
import pathlib
import re
import subprocess
import sys

import pytest

import spikegrad

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def python_blocks(page):
    return re.findall(r"^```python\n(.*?)^```", page.read_text(), re.S | re.M)


def test_docstring_examples():
    failures, tried = doctest.testmod(spikegrad, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried >= 8 and failures == 0


def test_the_readme_has_one_short_python_example():
    blocks = python_blocks(ROOT / "README.md")
    assert len(blocks) == 1 and len(blocks[0].strip().splitlines()) <= 10


@pytest.mark.parametrize(
    "code",
    [
        pytest.param(code, id=f"{page.name}-{index}")
        for page in PAGES
        for index, code in enumerate(python_blocks(page))
    ],
)
def test_a_python_block_of_the_docs_runs(code, tmp_path):
    for framework in ("torch", "jax"):
        if re.search(rf"^import .*\b{framework}\b", code, re.M):
            pytest.importorskip(framework)
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-3000:]

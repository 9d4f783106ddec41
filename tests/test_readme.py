"""The README's Python examples run as written (the front door stays true)."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(len(BLOCKS)))
def test_readme_example_runs(number, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples may write model files
    exec(compile(BLOCKS[number], f"README.md example {number + 1}", "exec"), {})

"""Examples that cannot rot: the README and the first-hour tutorial run as written.

* Every Python block of ``README.md`` and ``docs/tutorial.md`` is saved as a script and
  run in a fresh interpreter (as a user would paste it), in document order, in one
  scratch directory; every ``erasurelab`` line of their shell blocks is run there too.
  When a block is followed by ``Output:`` and a ``text`` block, the printed output must
  match it line for line.
* ``make`` lines name a Makefile target, ``python scripts/...`` lines an existing file.
* Every ``erasurelab`` line in any page under ``docs/`` is parsed by the real parser,
  every Python block compiles, and a block that starts worker processes
  (``sim.collect``/``sinter.collect``) has the ``if __name__ == "__main__":`` guard.
* No file refers to anything outside the repository, and every relative link of the
  README points to a file that exists.

After an intended change of output, ``python tests/test_docs.py --update`` rewrites the
tutorial's output blocks from a fresh run.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUN_PAGES = [ROOT / "README.md", ROOT / "docs" / "tutorial.md"]
ALL_PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
FENCE = re.compile(r"^( *)```(\w*)\s*$")
#: Shell commands the examples may use besides ``erasurelab`` (not run by the tests).
NOT_RUN = ("jupyter", ".venv/bin/jupyter", "pip", "sinter", "cd", "git")


@dataclass
class Block:
    lang: str
    code: str
    line: int  # 1-based line of the opening fence
    output: str | None = None


def blocks(path: Path) -> list[Block]:
    """Fenced blocks of a Markdown file; a block followed by ``Output:`` and a ``text``
    block gets that text as its expected output."""
    lines = path.read_text().splitlines()
    out: list[Block] = []
    last_end = 0
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m.group(2):
            i += 1
            continue
        indent, lang, start = len(m.group(1)), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][indent:])
            i += 1
        i += 1
        block = Block(lang, "\n".join(body) + "\n", start + 1)
        if lang == "text" and out and out[-1].lang != "text" and \
                [x.strip() for x in lines[last_end:start] if x.strip()] == ["Output:"]:
            out[-1].output = block.code
        else:
            out.append(block)
        last_end = i
    return out


def commands(code: str) -> list[tuple[str, list[str]]]:
    """Shell lines of a block, continuations joined, comments dropped: (line, argv)."""
    joined = code.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            out.append((line, shlex.split(line)))
    return out


def _erasurelab(argv: list[str]) -> list[str] | None:
    if argv and argv[0] in ("erasurelab", ".venv/bin/erasurelab"):
        return argv[1:]
    if argv[:3] == ["python", "-m", "sim"]:
        return argv[3:]
    return None


def _check_other(line: str, argv: list[str]) -> None:
    if argv[0] == "make":
        targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
        missing = [t for t in argv[1:] if not t.startswith("-") and "=" not in t
                   and t not in targets]
        assert not missing, f"{line!r}: no Makefile target {missing}"
    elif argv[0] in ("python", ".venv/bin/python") and len(argv) > 1 and "/" in argv[1]:
        assert (ROOT / argv[1]).is_file(), f"{line!r}: {argv[1]} does not exist"
    else:
        assert argv[0] in NOT_RUN or argv[0].startswith(("python", "pytest")), \
            f"{line!r}: unknown command in a documentation example"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(MPLBACKEND="Agg", PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
               OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def _run(argv: list[str], cwd: Path, what: str) -> str:
    proc = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{what} exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    return proc.stdout


def run_page(path: Path, cwd: Path) -> list[tuple[Block, str]]:
    """Run every Python block and every ``erasurelab`` line of a page, in order."""
    results = []
    for k, b in enumerate(blocks(path)):
        where = f"{path.relative_to(ROOT)}:{b.line}"
        if b.lang == "python":
            script = cwd / f"block_{k}.py"
            script.write_text(b.code)
            results.append((b, _run([sys.executable, str(script)], cwd, where)))
        elif b.lang in ("bash", "sh", "console"):
            printed = []
            for line, argv in commands(b.code):
                args = _erasurelab(argv)
                if args is None:
                    _check_other(line, argv)
                    continue
                printed.append(_run([sys.executable, "-m", "sim", *args], cwd,
                                    f"{where}: {line}"))
            results.append((b, "".join(printed)))
    return results


def _norm(text: str) -> list[str]:
    return [line.rstrip() for line in text.strip("\n").splitlines()]


@pytest.mark.parametrize("path", RUN_PAGES, ids=[p.name for p in RUN_PAGES])
def test_examples_run_and_print_what_the_page_says(path, tmp_path):
    results = run_page(path, tmp_path)
    assert results or path.name == "README.md"
    for b, printed in results:
        if b.output is not None:
            assert _norm(printed) == _norm(b.output), \
                f"{path.relative_to(ROOT)}:{b.line}: output differs from the page"
    if path.name == "tutorial.md":
        assert sum(b.lang == "python" for b, _ in results) >= 4
        assert sum(b.output is not None for b, _ in results) >= 5
        assert (tmp_path / "out" / "tutorial" / "rep.png").is_file()


def test_readme_quickstart_names_real_targets():
    lines = [line for b in blocks(ROOT / "README.md") if b.lang == "bash"
             for line, _ in commands(b.code)]
    assert "make run" in lines and "make test" in lines
    for line in lines:
        _check_other(line, shlex.split(line))


def _parse(args: list[str]) -> None:
    from sim.cli import Parser, _parser

    parser = _parser(args[0] if args else None)
    try:
        ns, extra = parser.parse_known_args(args)
    except SystemExit as exc:  # --help, --version
        assert exc.code in (0, None), f"exit {exc.code}"
        return
    assert not extra or getattr(ns, "passthrough", False), f"unrecognized {extra}"
    assert isinstance(parser, Parser)


def test_every_cli_line_in_the_docs_parses():
    n = 0
    for path in ALL_PAGES:
        for b in blocks(path):
            if b.lang not in ("bash", "sh", "console"):
                continue
            for line, argv in commands(b.code):
                # shell plumbing around a command: redirections, pipes, placeholders
                argv = [a for a in argv if not a.startswith(">")]
                if "|" in argv or "..." in argv:
                    continue
                args = _erasurelab(argv)
                if args is None:
                    continue
                args = [re.sub(r"\$\w+|\$\{\w+\}", "1", a) for a in args]
                try:
                    _parse(args)
                except (SystemExit, Exception) as exc:  # noqa: BLE001 - report the line
                    pytest.fail(f"{path.relative_to(ROOT)}:{b.line}: {line!r} does not "
                                f"parse: {exc!r}")
                n += 1
    assert n >= 15, n


def test_a_bad_line_would_be_caught():
    from sim.cli import UsageError

    with pytest.raises((UsageError, AssertionError)):
        _parse(["fbqc", "sweep", "--network", "6ring", "--no-such-flag", "1"])
    with pytest.raises((UsageError, AssertionError)):
        _parse(["threshold", "x.csv", "--x", "p", "--size"])


def test_every_python_block_in_the_docs_compiles_and_guards_its_workers():
    for path in ALL_PAGES:
        for b in blocks(path):
            if b.lang != "python":
                continue
            where = f"{path.relative_to(ROOT)}:{b.line}"
            tree = ast.parse(b.code, filename=where)
            if re.search(r"\b(sim|sinter)\.collect\(", b.code) and "workers=1" not in b.code:
                guarded = any(isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)
                              for node in tree.body)
                assert guarded, f"{where}: starts worker processes without a main guard"


def test_blocks_parser_pairs_outputs():
    page = "a\n```python\nprint(1)\n```\n\nOutput:\n\n```text\n1\n```\n```bash\nls\n```\n"
    tmp = ROOT / "out" / "test_docs_page.md"
    tmp.parent.mkdir(exist_ok=True)
    tmp.write_text(page)
    try:
        got = blocks(tmp)
    finally:
        tmp.unlink()
    assert [(b.lang, b.output) for b in got] == [("python", "1\n"), ("bash", None)]


# written in pieces so that this file does not match itself
OUTSIDE = re.compile("|".join([r"\.\./" + "shared", "/work/" + "shared", "shared/" + "specs",
                               r"\b" + "spec" + "s/", "spec" + " §", r"fbqc_encoded\." + "md",
                               r"unlearn_bound\." + "md", r"llm_rtbf\." + "md"]))


def test_no_file_refers_outside_the_repository():
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    bad = []
    for name in files:
        path = ROOT / name
        if path.suffix not in (".py", ".md", ".toml", ".yml", ".yaml", ".txt", ".cfg") \
                or not path.is_file():
            continue
        for i, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                bad.append(f"{name}:{i}: {line.strip()[:100]}")
    assert not bad, "references outside the repository:\n" + "\n".join(bad)


def test_readme_links_point_into_the_repository():
    text = (ROOT / "README.md").read_text()
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
    local = [link for link in links if not re.match(r"https?://", link)]
    assert local, "the README should link into docs/"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def _update(path: Path) -> None:
    """Rewrite the expected-output blocks of ``path`` from a fresh run."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        results = run_page(path, Path(tmp))
    lines = path.read_text().splitlines()
    for b, printed in reversed(results):
        if b.output is None:
            continue
        start = b.line - 1
        i = start + 1
        while lines[i].strip() != "```":
            i += 1
        j = i + 1
        while not lines[j].startswith("```text"):
            j += 1
        k = j + 1
        while lines[k].strip() != "```":
            k += 1
        lines[j + 1:k] = [line.rstrip() for line in printed.rstrip("\n").splitlines()]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--update"]:
        _update(ROOT / "docs" / "tutorial.md")
    else:
        sys.exit("usage: python tests/test_docs.py --update")

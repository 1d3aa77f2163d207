"""MkDocs hooks: one API reference page per public module that exists in this checkout.

The API section of the navigation is built from the source tree, not written by hand:
every package in ``PACKAGES`` that exists gets an overview page (``::: sim``) and one
page per public module (no leading underscore, not a Numba kernel module).  A
subpackage that has not landed yet (``unlearn.t2i``, ``unlearn.llm``) simply has no
page; when it lands, its pages appear without an edit here.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
#: Top-level packages documented, in navigation order.
PACKAGES = ("sim", "fbqc", "hebbian", "unlearn")
NAV_TITLE = "API reference"


def _modules(package: str) -> list[str]:
    """Dotted names of ``package``'s public modules and subpackages, the package first."""
    base = ROOT / package.replace(".", "/")
    if not (base / "__init__.py").is_file():
        return []
    out = [package]
    for path in sorted(base.iterdir()):
        if path.name.startswith("_"):
            continue
        if path.is_dir() and (path / "__init__.py").is_file():
            out.extend(_modules(f"{package}.{path.name}"))
        elif path.suffix == ".py":
            out.append(f"{package}.{path.stem}")
    return out


def _page(module: str) -> str:
    return f"api/{module.replace('.', '/')}.md"


def _tree() -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for package in PACKAGES:
        for module in _modules(package):
            parts = module.split(".")
            # a subpackage (unlearn.t2i) gets its own navigation group
            key = module if (len(parts) > 1 and (ROOT.joinpath(*parts) / "__init__.py").is_file()) \
                else ".".join(parts[:-1]) if len(parts) > 1 else module
            groups.setdefault(key, []).append(module)
    return list(groups.items())


def on_config(config):
    nav = [entry for entry in config["nav"] if not (isinstance(entry, dict) and NAV_TITLE in entry)]
    api = []
    for group, modules in _tree():
        api.append({group: [{m if m != group else f"{m} (package)": _page(m)} for m in modules]})
    nav.append({NAV_TITLE: api})
    config["nav"] = nav
    return config


def on_files(files, config):
    for _, modules in _tree():
        for module in modules:
            content = f"# `{module}`\n\n::: {module}\n"
            if module in PACKAGES or "." in module and (ROOT / module.replace(".", "/")).is_dir():
                content = f"# `{module}`\n\n::: {module}\n    options:\n      members: false\n"
            files.append(File.generated(config, _page(module), content=content))
    return files

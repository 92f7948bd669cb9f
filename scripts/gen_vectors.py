#!/usr/bin/env python3
"""Generate the test vectors in specs/vectors/ from the modules in scripts/vectors/.

Each module in scripts/vectors/ exposes ``generate() -> dict[str, Any]`` mapping a file name under
specs/vectors/ to JSON-serialisable content, built deterministically (fixed seeds, fixed times).
``--check`` writes nothing and exits 1 when any file is missing or differs (CI runs it this way).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODULES = ROOT / "scripts" / "vectors"
OUT = ROOT / "specs" / "vectors"


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"_vectors_{path.stem}", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def render(content: Any) -> str:
    """The exact text written for a vector file (stable across runs and machines)."""
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"


def collect() -> dict[str, str]:
    files: dict[str, str] = {}
    for path in sorted(MODULES.glob("*.py")):
        if path.name.startswith("_"):
            continue
        generated = _load(path).generate()
        for name, content in generated.items():
            if name in files:
                raise SystemExit(f"{path.name}: vector file {name} is generated twice")
            if Path(name).is_absolute() or ".." in Path(name).parts:
                raise SystemExit(f"{path.name}: vector file name {name!r} must stay under specs/vectors/")
            files[name] = render(content)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if any vector file differs")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    files = collect()
    stale = []
    for name, text in files.items():
        target = OUT / name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(name)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            print(f"wrote specs/vectors/{name}")
    if stale:
        print("vectors out of date (run scripts/gen_vectors.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    if args.check:
        print(f"{len(files)} vector files up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

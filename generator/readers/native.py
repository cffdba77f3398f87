"""The compiled modules' build under its first name (it compiled only the readers then):
``generator.native`` builds and finds the compiled readers and ``generator.phrases``."""

from __future__ import annotations

import sys

from generator.native import (
    IMPORTED,
    MODULES,
    NATIVE,
    PURE_ENV,
    PURE_ENVS,
    ROOT,
    build,
    compiled_dir,
    source_key,
)

__all__ = [
    "IMPORTED",
    "MODULES",
    "NATIVE",
    "PURE_ENV",
    "PURE_ENVS",
    "ROOT",
    "build",
    "compiled_dir",
    "source_key",
]

if __name__ == "__main__":
    sys.exit(build())

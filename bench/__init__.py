"""Benchmarks: this project against the PyTorch peer and the bare-onnxruntime floor (`make bench`).

The benchmarks reuse the tests' kits (moto on loopback, the image's install, the binary-extension client)
rather than keeping second copies, so importing the package makes ``testkit`` importable.
"""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parent.parent / "tests")
if _TESTS not in sys.path:
    sys.path.insert(0, _TESTS)

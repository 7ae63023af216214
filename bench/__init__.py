"""Benchmarks: this project against the PyTorch peer and the bare-onnxruntime floor (`make bench`).

The benchmarks reuse the tests' kits (moto on loopback, the image's install, the binary-extension client) as
the package ``tests.testkit`` rather than keeping second copies; run them from the repository root
(``python -m bench``), where both packages are importable.
"""

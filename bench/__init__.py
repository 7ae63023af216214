"""Benchmarks: this project against the PyTorch peer and the bare-onnxruntime floor (`make bench`)."""

"""Helpers the test suites share: paths, event files, tiny ONNX models, in-process and real servers."""

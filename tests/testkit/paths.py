"""Where things are, relative to the repository."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
DEFAULT_MODEL = REPO / "models" / "digits-cnn.onnx"
DIGITS_TEST_SET = REPO / "models" / "digits-test.npz"

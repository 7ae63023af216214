"""The HTTP surface: a FastAPI app with the Open Inference Protocol, /predict and /health."""

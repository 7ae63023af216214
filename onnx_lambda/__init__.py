"""``onnx-lambda``: the command line for people, over the two halves of the project.

Export a model (``model_export``), look inside it, serve it locally, score files and S3 prefixes, invoke
the Lambda entry point or a deployed URL, and measure a model, with the same code that runs in Lambda.
Importing this package is light: each subcommand imports what it needs when it runs.
"""

from handler import __version__

__all__ = ["__version__"]

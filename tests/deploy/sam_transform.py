"""Expand a SAM template with the SAM translator, offline, into CloudFormation JSON: TEMPLATE OUT.

Run with the tools venv's Python (samtranslator lives there, not in the project venv). cfn-lint on a SAM
template does not check what SAM generates (an SQS event's BatchSize or FunctionResponseTypes land in a
generated event source mapping); on this output it does, and checkov sees the generated IAM roles.
"""

import json
import re
import sys
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

# sam build would fill ImageUri in after pushing the image; the translator wants one to be there.
PLACEHOLDER_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/onnx-lambda:python3.13"


class NoManagedPolicies:
    """The translator asks for AWS managed policy ARNs by name; none are looked up offline."""

    def load(self) -> dict[str, str]:
        return {}


def comment_skips(text: str) -> dict[str, list[dict[str, str]]]:
    """Resource -> checkov skips written as `# checkov:skip=ID:reason` comments inside it.

    Comments do not survive the transform, so they are carried into the generated resource's Metadata,
    where checkov reads skips in JSON templates.
    """
    skips: dict[str, list[dict[str, str]]] = {}
    resource = ""
    for line in text.splitlines():
        if heading := re.match(r"^  (\w+):\s*$", line):
            resource = heading[1]
        if skip := re.search(r"#\s*checkov:skip=(CKV\w+):(.*)$", line):
            skips.setdefault(resource, []).append({"id": skip[1], "comment": skip[2].strip()})
    return skips


def main(template_path: str, out_path: str) -> None:
    text = Path(template_path).read_text()
    template: dict[str, Any] = yaml_parse(text)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["ImageUri"] = PLACEHOLDER_IMAGE
    expanded = transform(template, {"AWS::Region": "us-east-1"}, NoManagedPolicies())
    for name, skips in comment_skips(text).items():
        expanded["Resources"][name].setdefault("Metadata", {})["checkov"] = {"skip": skips}
    # A file, not stdout: the translator prints notices of its own there.
    Path(out_path).write_text(json.dumps(expanded, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

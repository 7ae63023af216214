"""API Gateway's IAM check, played by the tests: fixed credentials, and a SigV4 signature recomputed from what
arrived (method, URL with the stage, signed headers, body), so a signer that signs something else fails."""

from __future__ import annotations

import re
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

CREDENTIALS = Credentials("AKIDSIGV4TEST", "sigv4-test-secret", "sigv4-test-session-token")
REGION = "eu-west-1"
AUTHORIZATION = re.compile(
    r"AWS4-HMAC-SHA256 Credential=([^/]+)/\d{8}/([^/]+)/execute-api/aws4_request, "
    r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})"
)


def signature_valid(method: str, url: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether the Authorization header is the SigV4 signature of exactly this request with CREDENTIALS."""
    found = AUTHORIZATION.fullmatch(headers.get("Authorization", headers.get("authorization", "")))
    if found is None or (found[1], found[2]) != (CREDENTIALS.access_key, REGION):
        return False
    lowered = {key.lower(): value for key, value in headers.items()}
    signed = {name: lowered[name] for name in found[3].split(";") if name in lowered}
    request = AWSRequest(method=method, url=url, data=body, headers=signed)
    request.context["timestamp"] = lowered.get("x-amz-date", "")
    auth = SigV4Auth(CREDENTIALS, "execute-api", REGION)
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    return expected == found[4] and lowered.get("x-amz-security-token") == CREDENTIALS.token


def aws_env(tmp_path: Path) -> dict[str, str]:
    """Only CREDENTIALS, from the environment: no profile files, no instance metadata."""
    return {
        "AWS_ACCESS_KEY_ID": CREDENTIALS.access_key,
        "AWS_SECRET_ACCESS_KEY": CREDENTIALS.secret_key,
        "AWS_SESSION_TOKEN": CREDENTIALS.token,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }

"""How a request to a deployed API is authorised: nothing, a JWT bearer token, or SigV4 (AWS_IAM).

Shared by ``onnx-lambda invoke --auth`` and the load test (bench/locustfile.py, ONNX_LAMBDA_AUTH), so
both sign exactly alike. A signer takes the method, full URL, body and headers about to be sent and
returns the headers to send; for IAM it signs those very bytes, so nothing may change them afterwards.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

Signer = Callable[[str, str, bytes, dict[str, str]], dict[str, str]]
AUTH_MODES = ("none", "iam", "jwt")


class AuthError(ValueError):
    """The chosen authorisation cannot be set up: no token, no credentials, no region."""


def signer_for(mode: str, base_url: str, token: str | None, env: Mapping[str, str]) -> Signer:
    """The signer for ``mode`` (none, iam or jwt); raises AuthError naming what is missing."""
    mode = mode.strip().lower()
    if mode == "none":
        return lambda _method, _url, _body, headers: headers
    if mode == "jwt":
        token = (token or "").strip()
        if not token:
            raise AuthError("jwt auth needs the bearer token (ONNX_LAMBDA_TOKEN)")
        return lambda _method, _url, _body, headers: {**headers, "Authorization": f"Bearer {token}"}
    if mode == "iam":
        return _sigv4_signer(env, base_url)
    raise AuthError(f"auth is {mode!r}; expected one of {', '.join(AUTH_MODES)}")


def make_signer(env: Mapping[str, str], base_url: str) -> Signer:
    """The signer ONNX_LAMBDA_AUTH (none, iam or jwt; default none) and ONNX_LAMBDA_TOKEN ask for."""
    return signer_for(env.get("ONNX_LAMBDA_AUTH", "none"), base_url, env.get("ONNX_LAMBDA_TOKEN"), env)


def _region(env: Mapping[str, str], base_url: str, configured: str | None) -> str:
    """AWS_REGION, AWS_DEFAULT_REGION, the profile's region, else the one in an execute-api host name."""
    named = re.search(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com", base_url)
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or configured
    region = region or (named.group(1) if named else None)
    if not region:
        raise AuthError("iam auth needs AWS_REGION (the host name does not say the region)")
    return region


def _sigv4_signer(env: Mapping[str, str], base_url: str) -> Signer:
    """SigV4 for API Gateway ("execute-api"); botocore is imported only here, as only IAM runs need it."""
    from botocore.auth import SigV4Auth  # type: ignore[import-untyped]  # noqa: PLC0415
    from botocore.awsrequest import AWSRequest  # type: ignore[import-untyped]  # noqa: PLC0415
    from botocore.session import get_session  # type: ignore[import-untyped]  # noqa: PLC0415

    session = get_session()
    credentials = session.get_credentials()
    if credentials is None:
        raise AuthError("iam auth found no AWS credentials in the credential chain")
    region = _region(env, base_url, session.get_config_variable("region"))

    def sign(method: str, url: str, body: bytes, headers: dict[str, str]) -> dict[str, str]:
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        # Frozen per request, so credentials that refresh (SSO, assumed roles) stay valid in a long run.
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        return dict(request.headers.items())

    return sign

"""Local bearer tokens: HS256 JWTs signed with a per-checkout secret, checked the way API Gateway's JWT
authorizer checks real ones (signature, expiry, not-before, issuer, audience, subject).

`make token SUB=<user-id> [GROUPS=admin]` prints one.
"""

import argparse
import secrets
import time
from pathlib import Path
from typing import Any

import jwt

from infra.local.blueprint import blueprint

ROOT = Path(__file__).resolve().parents[2]
SECRET_FILE = ROOT / ".local" / "jwt-secret"
GROUPS_CLAIM = "cognito:groups"
DEFAULT_TTL_SEC = 12 * 3600


class InvalidToken(Exception):
    pass


def _secret() -> str:
    if not SECRET_FILE.exists():
        SECRET_FILE.parent.mkdir(parents=True, exist_ok=True)
        SECRET_FILE.write_text(secrets.token_urlsafe(48))
        SECRET_FILE.chmod(0o600)
    return SECRET_FILE.read_text().strip()


def issue(subject: str, groups: list[str] | None = None, ttl_sec: int = DEFAULT_TTL_SEC) -> str:
    if not subject:
        raise ValueError("a token needs a subject (SUB=<user-id>)")
    plan = blueprint()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": plan.jwt_issuer,
        "aud": plan.jwt_audience[0],
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_sec,
    }
    if groups:
        claims[GROUPS_CLAIM] = groups
    return jwt.encode(claims, _secret(), algorithm="HS256")


def verify(token: str) -> dict[str, Any]:
    plan = blueprint()
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            _secret(),
            algorithms=["HS256"],
            audience=plan.jwt_audience,
            issuer=plan.jwt_issuer,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(str(error)) from error
    return claims


def main() -> None:
    parser = argparse.ArgumentParser(description="Print a bearer token the local API accepts.")
    parser.add_argument("--sub", required=True, help="the user id (JWT subject)")
    parser.add_argument("--groups", default="", help="comma-separated groups, e.g. admin")
    parser.add_argument("--ttl", type=int, default=DEFAULT_TTL_SEC, help="seconds until it expires")
    args = parser.parse_args()
    groups = [group for group in args.groups.replace(" ", ",").split(",") if group]
    print(issue(args.sub, groups, args.ttl))


if __name__ == "__main__":
    main()

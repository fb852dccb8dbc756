"""template.yaml translated by aws-sam-translator, offline: what CloudFormation will really see.

`python -m infra.translate` prints the translated template; `--lint` runs cfn-lint on it, which catches
what only shows after translation (a circular dependency between the bucket and the probe function).
"""

import argparse
import json
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"
REGION = "us-east-1"


class _NoManagedPolicies:
    """The translator only needs managed policy ARNs for `Policies: [SomeAWSManagedPolicy]`; we use none."""

    def load(self) -> dict[str, str]:
        return {}


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return dict(cfn_yaml.load(str(path)))


def _as_packaged(template: dict[str, Any]) -> dict[str, Any]:
    """Local code paths replaced by S3 (and ECR) URIs, as `sam package` leaves them for the translator."""
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties") or {}
        if properties.get("PackageType") == "Image" and "ImageUri" not in properties:
            properties["ImageUri"] = "123456789012.dkr.ecr.us-east-1.amazonaws.com/packaged-image:latest"
        for name in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(name), str) and not properties[name].startswith("s3://"):
                properties[name] = f"s3://packaged-code/{properties[name].strip('/')}"
    return template


@lru_cache(maxsize=4)
def translated(path: Path = TEMPLATE, parameters: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """The translated template; parameters override defaults where SAM resolves them (CORS, auth)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    template = _as_packaged(load_template(path))
    result: dict[str, Any] = transform(template, dict(parameters), _NoManagedPolicies())
    return json.loads(json.dumps(result))  # plain dicts and lists, detached from the cache's callers


def lint(template: dict[str, Any]) -> list[str]:
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    matches = cfn_lint(json.dumps(template), config=ManualArgs(regions=[REGION]))
    return [f"{match.rule.id} {match.message} ({'/'.join(map(str, match.path))})" for match in matches]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--lint", action="store_true", help="cfn-lint the translated template")
    args = parser.parse_args()
    template = translated()
    if not args.lint:
        print(json.dumps(template, indent=2))
        return 0
    problems = lint(template)
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"translated template: {len(problems)} cfn-lint findings")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

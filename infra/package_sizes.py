"""After `sam build`: each zip function plus its layers must fit Lambda's 250 MB unzipped limit.

`make build` runs this, so a dependency that pushes a function over the limit fails the build here rather
than the deploy.
"""

import sys
from pathlib import Path

from cfnlint.decode import cfn_yaml

LIMIT_BYTES = 250 * 1024 * 1024
BUILD = Path(".aws-sam/build")


def _size(path: Path) -> int:
    return sum(file.stat().st_size for file in path.rglob("*") if file.is_file())


def main() -> int:
    template = cfn_yaml.load(str(BUILD / "template.yaml"))
    resources = template["Resources"]
    worst = 0
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] != "AWS::Serverless::Function" or properties.get("PackageType") == "Image":
            continue
        total = _size(BUILD / properties["CodeUri"])
        for layer in properties.get("Layers", []):
            total += _size(BUILD / resources[layer["Ref"]]["Properties"]["ContentUri"])
        worst = max(worst, total)
        print(f"{name}: {total / 1024 / 1024:.0f} MB unzipped with layers")
        if total > LIMIT_BYTES:
            print(f"{name} is over Lambda's 250 MB unzipped limit", file=sys.stderr)
            return 1
    print(f"largest: {worst / 1024 / 1024:.0f} MB of 250 MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

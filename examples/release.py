"""A release script built on featurepub's library: validate, plan, publish, then read back and verify.

    python examples/release.py sample-features --registry ghcr.io --namespace my-org/features [--dry-run]

PATH is a collection (sample-features in this repository) or a feature folder. Prints one line per
feature and, at the end, the JSON report on stdout; exits with featurepub's exit codes (0 everything
in place, 1 something not published, 2 invalid input, 3 credentials, 4 registry). Credentials come
from the usual chain (DEVCONTAINERS_OCI_AUTH, docker login, ...).
"""

from __future__ import annotations

import argparse
import json
import sys

import featurepub


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path")
    parser.add_argument("--registry", default="ghcr.io")
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)

    # 1. Validate: every problem at once, nothing raised.
    check = featurepub.validate(args.path)
    if not check.ok:
        for problem in check.problems:
            print(f"invalid: {problem}", file=sys.stderr)
        return 2

    # 2. Plan: what a publish would do, read from the registry, nothing written.
    plan = featurepub.plan(args.path, registry=args.registry, namespace=args.namespace)
    for feature in plan.features:
        tags = feature.primary.tags_with(featurepub.Status.PLANNED)
        print(f"plan: {feature.id} {feature.version}: {feature.status.value} {' '.join(tags)}", file=sys.stderr)
    if args.dry_run:
        return 0

    # 3. Publish, then 4. read back what the registry now serves and check it is what was pushed.
    try:
        report = featurepub.publish(args.path, registry=args.registry, namespace=args.namespace)
    except featurepub.FeaturepubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    for feature in report.features:
        if feature.status not in (featurepub.Status.PUBLISHED, featurepub.Status.UNCHANGED):
            print(f"{feature.id}: {feature.status.value}", file=sys.stderr)
            continue
        info = featurepub.inspect(f"{args.registry}/{args.namespace}/{feature.id}:{feature.version}")
        if info.digest != feature.digest or not info.consumable:
            print(f"{feature.id}: the registry serves {info.digest}, expected {feature.digest}", file=sys.stderr)
            return 1
        print(
            f"verified: {feature.id} {feature.version} {info.digest} tags {', '.join(info.tags)}", file=sys.stderr
        )
    print(json.dumps(report.summary_json(), indent=2))
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())

"""The ``modes`` console script.

``modes components``            list registered components, by kind
``modes report [--reports-dir] [--run-id]`` re-render summary.md, index.html and figures from
                                 the JSON records of one run (default: the latest)
``modes profiles [NAME ...] [--set SECTION.KEY=VALUE ...]``
                                 the scale profiles (default: all) as JSON, resolved with the
                                 overrides (as ``--modes-set`` gives them to pytest)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import attrs

from modes import registry
from modes.scale import ProfileError, canonical_overrides, load_profile, profile_names


def _components(_: argparse.Namespace) -> int:
    for kind, entries in registry.catalogue().items():
        print(f"{kind:<13} {', '.join(entries) if entries else '(none)'}")
    return 0


def _profiles(args: argparse.Namespace) -> int:
    names = args.names or profile_names()
    try:
        resolved = {name: {**attrs.asdict(load_profile(name, args.set)),
                           "overrides": list(canonical_overrides(name, args.set))}
                    for name in names}
    except ProfileError as err:
        print(f"modes profiles: {err}", file=sys.stderr)
        return 2
    print(json.dumps(resolved, indent=2))
    return 0


def _report(args: argparse.Namespace) -> int:
    from modes.report.render import report_main

    reports = Path(args.reports_dir)
    records = reports / "records"
    if not records.is_dir() or not any(records.glob("*.json")):
        print(f"modes report: no records in {records}; run `pytest claims/` first", file=sys.stderr)
        return 2
    written = report_main(records, reports, family_alpha=args.family_alpha, run_id=args.run_id)
    for path in written:
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="modes", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("components", help="list registered components").set_defaults(run=_components)
    prof = sub.add_parser("profiles", help="show scale profiles, resolved with overrides")
    prof.add_argument("names", nargs="*", metavar="NAME",
                      help=f"profiles to show: {', '.join(profile_names())} (default: all)")
    prof.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                      help="change one knob, e.g. density.sweeps=100 (repeatable; a later one "
                           "wins)")
    prof.set_defaults(run=_profiles)
    rep = sub.add_parser("report", help="re-render the report from JSON records")
    rep.add_argument("--reports-dir", default="reports", help="directory holding records/")
    rep.add_argument("--family-alpha", type=float, default=0.01,
                     help="family-wise alpha of the Holm correction across claims")
    rep.add_argument("--run-id", default=None,
                     help="the run whose records form the report (default: the latest run; "
                          "records of other runs are listed as stale)")
    rep.set_defaults(run=_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())

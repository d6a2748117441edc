"""``ringup retention``: fit the sBG retention model to a cohort and project it.

``ringup retention --alive 1000,869,743,653 --horizon 12`` prints one JSON object:
``{"alpha": …, "beta": …, "survival": [percent alive at t = 0 … horizon]}`` (α and β to
six significant digits, percentages to two decimals); ``--discount-rate`` adds the
discounted expected residual lifetime of a customer who has just joined (``derl``, in
periods). Bad input exits with status 2 and one line on stderr.

The fit is pure computation (ringup.engine.retention), so ``ringup`` runs this module
without starting Django.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import NoReturn

from ringup.engine.retention import RetentionError, fit_sbg, project

USAGE_ERROR = 2
PROG = "ringup retention"
MAX_HORIZON = 1200


class _Parser(argparse.ArgumentParser):
    """argparse, with its errors on one line (and the status every ringup command uses)."""

    def error(self, message: str) -> NoReturn:
        print(f"{PROG}: {message}", file=sys.stderr)
        sys.exit(USAGE_ERROR)


def _counts(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"whole numbers separated by commas, not {text!r}"
        ) from None


def _parser() -> _Parser:
    parser = _Parser(
        prog=PROG,
        description="Fit the shifted-beta-geometric retention model (Fader & Hardie) to a "
        "cohort's alive counts and project its survival.",
    )
    parser.add_argument(
        "--alive",
        required=True,
        type=_counts,
        help="customers alive at t = 0, 1, …: the cohort size first, e.g. 1000,850,760",
    )
    parser.add_argument(
        "--horizon", type=int, default=12, help="project survival up to this period (12)"
    )
    parser.add_argument(
        "--discount-rate", type=float, help="per period, e.g. 0.01: also print the DERL"
    )
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not 0 <= args.horizon <= MAX_HORIZON:
        parser.error(f"--horizon must be between 0 and {MAX_HORIZON} periods")
    try:
        fit = fit_sbg(args.alive)
        survival = project(fit, args.horizon)
        result: dict[str, object] = {
            "alpha": float(f"{fit.alpha:.6g}"),
            "beta": float(f"{fit.beta:.6g}"),
            "survival": [round(100 * value, 2) for value in survival],
        }
        if args.discount_rate is not None:
            result["derl"] = round(fit.derl(args.discount_rate), 4)
    except RetentionError as error:
        print(f"{PROG}: {error}", file=sys.stderr)
        return USAGE_ERROR
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

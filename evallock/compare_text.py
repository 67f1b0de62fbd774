"""Plain-text lines for a comparison, shared by ``evallock compare`` and the UI."""

from __future__ import annotations

from evallock import compare

TESTS = {
    "mcnemar_exact": "exact McNemar test",
    "bootstrap": "paired bootstrap test",
}


def text_lines(result: compare.Comparison, max_items: int) -> list[str]:
    """Format the comparison as plain lines, verdict first."""
    lines = [f"verdict: {result.verdict}"]
    lines += [f"  - {reason}" for reason in result.reasons]
    if result.ignored:
        lines.append("ignored by [compare] ignore:")
        lines += [f"  - {compare.describe(change)}" for change in result.ignored]
    if result.verdict == compare.INVALID:
        return lines
    lines += _score_lines(result)
    lines += _item_lines(result, max_items)
    return lines


def _score_lines(result: compare.Comparison) -> list[str]:
    delta = result.delta
    if delta is None or result.score_a is None or result.score_b is None:
        return ["no items are shared, so there is no delta"]
    lines = [
        f"score: A {result.score_a:.4f}, B {result.score_b:.4f} on "
        f"{result.shared} shared items"
    ]
    test = TESTS.get(delta.test, delta.test)
    detail = ""
    if delta.discordant is not None:
        detail = (
            f", {delta.discordant[0]} items right only in A and "
            f"{delta.discordant[1]} only in B"
        )
    lines.append(
        f"delta (B - A): {delta.delta:+.4f}, {delta.confidence:.0%} interval "
        f"[{delta.low:+.4f}, {delta.high:+.4f}] (paired bootstrap, "
        f"{delta.resamples} resamples, seed {delta.seed}); p = {delta.p_value:.4g} "
        f"({test}{detail})"
    )
    if result.noise is not None:
        run = result.a if result.noise.source == "a" else result.b
        where = "within" if result.noise.within else "outside"
        lines.append(
            f"noise: the delta is {where} the noise band of {result.noise.band:.4f} "
            f"measured by the repeats of run {run}"
        )
    return lines


def _item_lines(result: compare.Comparison, max_items: int) -> list[str]:
    if not result.items:
        return ["no shared item changed its output or score"]
    lines = [f"changed items ({len(result.items)}):"]
    for item in result.items[:max_items]:
        lines.append(
            f"  {item.eval}/{item.key}  score {item.score_a:g} → {item.score_b:g}  "
            f"{item.output_a!r} → {item.output_b!r}"
        )
    hidden = len(result.items) - max_items
    if max_items and hidden > 0:
        lines.append(f"  … {hidden} more (use --items N or --format json)")
    return lines

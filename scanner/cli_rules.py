"""``doxwatch rules``: check rule files (every problem at once) and list what is loaded."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rules.problems import MISSING, Problem


@click.group()
def rules() -> None:
    """Check and list the rule files that decide how serious a finding is."""


@rules.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.pass_obj
def rules_check(ctx: object, paths: tuple[Path, ...]) -> None:
    """Validate rule files and run their examples; list every problem with file, key and fix.

    PATH is a rule file or a folder of them; without one, the folders named in
    the config's [rules] dirs are checked. The built-in rules are always
    loaded too, since a rule's examples are judged against all rules together.
    Exits 2 when there is any problem.

    \b
    Examples:
      doxwatch rules check                      # built-in rules and the config's [rules] dirs
      doxwatch rules check my-rules/            # a folder of rule files
      doxwatch rules check my-rules/mine.yaml   # one file
    """
    from rules.context import signal_problems
    from rules.schema import collect_rules

    dirs = list(paths) if paths else list(_config_dirs(ctx))
    found, problems = collect_rules(dirs)
    problems += signal_problems()
    problems += _example_problems(found)  # the valid rules' examples, even when other files have problems
    if problems:
        click.echo(f"rule files: {len(problems)} problem{'s' if len(problems) != 1 else ''}", err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)
    mine = [rule_id for rule_id, (_, path) in found.items() if not _builtin(path)]
    click.echo(f"OK: {len(found)} rules ({len(mine)} of them yours), every example behaves")


@rules.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_obj
def rules_list(ctx: object, fmt: str) -> None:
    """Show the loaded rules (built-in and from the config's [rules] dirs) and the context signal groups.

    \b
    Examples:
      doxwatch rules list
      doxwatch rules list --format json | jq '.rules[].id'
    """
    from rules.context import load_signals
    from rules.schema import RuleFileError, collect_rules

    found, problems = collect_rules(list(_config_dirs(ctx)))
    if problems:
        click.echo(str(RuleFileError(problems)), err=True)
        sys.exit(2)
    ordered = sorted(found.values(), key=lambda rp: (-rp[0].severity.rank, -rp[0].score, rp[0].id))
    groups = load_signals().groups
    if fmt == "json":
        click.echo(json.dumps({
            "rules": [{"id": r.id, "name": r.meta.name, "severity": r.severity.value, "score": r.score,
                       "min_score": r.min_score, "when": r.when.model_dump(mode="json"),
                       "source": "built-in" if _builtin(p) else str(p)} for r, p in ordered],
            "signals": {name: {"weight": g.weight, "phrases": len(g.phrases)} for name, g in groups.items()},
        }))
        return
    for rule, path in ordered:
        click.echo(f"{rule.severity.value.upper():<6} {rule.id:<20} {_summary(rule)}")
        click.echo(f"{'':<6} {'':<20} {rule.meta.name}; {'built-in' if _builtin(path) else path}")
    click.echo("\ncontext signal groups (rules/signals.yaml):")
    for name, group in groups.items():
        click.echo(f"  {name:<10} {group.weight:+.2f}  {len(group.phrases)} phrases  {group.description}")


def _summary(rule: object) -> str:
    when = rule.when  # type: ignore[attr-defined]
    parts = []
    if when.all_of:
        parts.append(" and ".join(when.all_of))
    if when.any_of:
        parts.append("(" + " or ".join(when.any_of) + ")")
    text = " and ".join(parts)
    if when.none_of:
        text += " but not " + " or ".join(when.none_of)
    if when.context.any_of:
        text += " near " + " or ".join(when.context.any_of) + " words"
    if rule.min_score:  # type: ignore[attr-defined]
        text += f", score >= {rule.min_score:.2f}"  # type: ignore[attr-defined]
    return text


def _config_dirs(ctx: object) -> tuple[Path, ...]:
    """The config's rule folders; none when there is no config file (built-in rules only)."""
    from scanner.config import ConfigError, find_config_path, load_settings

    config = getattr(ctx, "config", None)
    if not find_config_path(config).exists():
        return ()
    try:
        return load_settings(config).rule_dirs
    except ConfigError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


def _example_problems(found: dict[str, tuple[object, Path]]) -> list[Problem]:
    """Each example that does not behave, as a problem on its rule file."""
    from rules.engine import Engine
    from rules.examples import run_examples
    from rules.schema import TEST_IDENTITY

    engine = Engine([TEST_IDENTITY])
    engine.rules = tuple(rule for rule, _ in found.values())  # type: ignore[misc]
    problems: list[Problem] = []
    counters: dict[tuple[str, str], int] = {}
    for result in run_examples(engine=engine):
        index = counters.get((result.rule, result.expect), 0)
        counters[(result.rule, result.expect)] = index + 1
        if result.ok:
            continue
        got = result.reported or "nothing"
        fix = (f"this page reports {got}, not this rule; change the rule's when/score or the example"
               if result.expect == "fires" else f"this page must not report this rule; change the rule or the example")
        problems.append(Problem(f"examples.{result.expect}[{index}]", result.page if result.page else MISSING, fix,
                                found[result.rule][1]))
    return problems


def _builtin(path: Path) -> bool:
    from rules.schema import BUILTIN_DIR

    return path.resolve().parent == BUILTIN_DIR

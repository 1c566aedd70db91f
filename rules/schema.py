"""Rule files: the pydantic models, the loader, and the one error that lists every problem.

A rule is one YAML file whose ``id`` is its file stem (see ``rules/template.yaml``
for a commented example). :func:`load_rules` reads the built-in rules and any
extra directories, validates each file against :class:`Rule`, and raises a
single :class:`RuleFileError` naming, for every problem, the file, the key path,
the bad value and the fix; a user with three mistakes learns of all three at once.
"""
from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from rules.explain import template_problems
from rules.model import KINDS, Kind, Severity
from rules.problems import MISSING, Problem, allowed_keys, from_pydantic
from rules.watchlist import Identity

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
TEMPLATE_PATH = Path(__file__).resolve().parent / "template.yaml"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

#: The fictional person every rule's examples are run against.
TEST_IDENTITY = Identity(
    id="kate",
    names=("Kate Isaacs",),
    phones=("+1 312 555 0123",),
    addresses=("1723 N Halsted St, Chicago IL 60614",),
    emails=("kate.isaacs@example.org",),
    usernames=("@kateisaacs",),
    photos=("https://img.example.org/kate/profile.jpg",),
    phone_region="US",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(_Strict):
    """What a reader of an alert is told about the rule."""

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1)
    severity: Severity


class When(_Strict):
    """Which kinds of identifier of one person must be on the page.

    Every kind in ``all_of``, at least one in ``any_of`` (if given), none in
    ``none_of``.
    """

    all_of: tuple[Kind, ...] = ()
    any_of: tuple[Kind, ...] = ()
    none_of: tuple[Kind, ...] = ()

    @model_validator(mode="after")
    def _sensible(self) -> When:
        if not self.all_of and not self.any_of:
            raise ValueError(f"give all_of or any_of (or both), each a list of kinds from {', '.join(KINDS)}")
        clash = set(self.none_of) & (set(self.all_of) | set(self.any_of))
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both required and excluded; remove it from none_of")
        return self

    def holds(self, kinds: Collection[Kind]) -> bool:
        return (
            all(k in kinds for k in self.all_of)
            and (not self.any_of or any(k in kinds for k in self.any_of))
            and not any(k in kinds for k in self.none_of)
        )

    @property
    def specificity(self) -> int:
        """How many kinds the condition needs at least: more is more specific."""
        return len(set(self.all_of)) + (1 if set(self.any_of) - set(self.all_of) else 0)


class Examples(_Strict):
    """Short pages (HTML or text) that must and must not make this rule the verdict for TEST_IDENTITY."""

    fires: tuple[str, ...] = Field(min_length=1)
    quiet: tuple[str, ...] = Field(min_length=1)


class Rule(_Strict):
    """One rule file."""

    id: str
    meta: Meta
    when: When
    score: float = Field(ge=0.0, le=1.0)
    headline: str = Field(min_length=1)
    explanation: str = Field(min_length=1)
    examples: Examples

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError('use 1-64 lower-case letters, digits, "-" or "_", e.g. "name-with-contact"')
        return value

    @field_validator("headline", "explanation")
    @classmethod
    def _template(cls, value: str) -> str:
        problems = template_problems(value)
        if problems:
            raise ValueError("; ".join(problems))
        return value

    @property
    def severity(self) -> Severity:
        return self.meta.severity

    @property
    def precedence(self) -> tuple[int, float, int]:
        """Which of several firing rules is reported: highest severity, then score, then specificity."""
        return (self.meta.severity.rank, self.score, self.when.specificity)


class RuleFileError(Exception):
    """Every problem found in the rule files, each with file, key path, bad value and fix."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        lines = [f"rule files: {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


def load_rules(dirs: Sequence[Path] = ()) -> list[Rule]:
    """The built-in rules, then the rules of each of ``dirs``, in file-name order.

    A rule in a later directory replaces an earlier rule with the same id, so
    a user can retune a built-in rule by copying its file.
    """
    rules: dict[str, Rule] = {}
    problems: list[Problem] = []
    for directory in (BUILTIN_DIR, *map(Path, dirs)):
        if not directory.is_dir():
            problems.append(Problem("(directory)", MISSING, "not found; create it or remove it from the [rules] dirs setting", directory))
            continue
        for path in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
            rule = load_rule_file(path, problems)
            if rule is not None:
                rules[rule.id] = rule
    if problems:
        raise RuleFileError(problems)
    return list(rules.values())


def load_rule_file(path: Path, problems: list[Problem]) -> Rule | None:
    """One validated rule, or None with its problems appended to ``problems``."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        problems.append(Problem("(syntax)", MISSING, _yaml_message(exc), path))
        return None
    except (yaml.YAMLError, UnicodeDecodeError, OSError) as exc:
        problems.append(Problem("(file)", MISSING, f"cannot be read ({exc}); save it as UTF-8 YAML", path))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem("(top level)", MISSING if raw is None else raw, f"a rule file is one mapping of keys ({allowed_keys(Rule, ())}); see {TEMPLATE_PATH.name}", path))
        return None
    found: list[Problem] = []
    rule = None
    try:
        rule = Rule.model_validate(raw)
    except ValidationError as exc:
        found += [_problem(path, err) for err in exc.errors()]
    if isinstance(raw.get("id"), str) and raw["id"] != path.stem:
        found.append(Problem("id", raw["id"], f"must equal the file name; set id: {path.stem}, "
                                                       f"or rename the file to {raw['id']}{path.suffix}", path))
    problems += found
    return None if found else rule


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice, which plain YAML silently lets the last win."""


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    """A key given twice in one mapping; its message is already the fix."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise _DuplicateKeyError(
                None, None, f"the key {key!r} appears twice; keep one of them", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    what = exc.problem or exc.context or "invalid YAML"
    if isinstance(exc, _DuplicateKeyError):
        return f"{where}{what}"
    return (f"{where}{what}; fix the YAML syntax there (values containing ': ', '#', '{{' or a leading '@' "
            f"need quotes)")


def _problem(path: Path, err: dict[str, Any]) -> Problem:
    return from_pydantic(err, Rule, path=path, hints=_HINTS,
                         missing_fix="required; add it (see the commented rules/template.yaml)")


_HINTS = {
    "score": "write a number from 0.0 (barely matters) to 1.0 (certain and serious)",
    "examples.fires": "add at least one short page on which this rule must be reported",
    "examples.quiet": "add at least one short page on which this rule must not be reported",
    "id": "and name the file after it",
}

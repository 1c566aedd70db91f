"""Rule files: the pydantic models, the loader, and the one error that lists every problem.

A rule is one YAML file whose ``id`` is its file stem (see ``rules/template.yaml``
for a commented example). :func:`load_rules` reads the built-in rules and any
extra directories, validates each file against :class:`Rule`, and raises a
single :class:`RuleFileError` naming, for every problem, the file, the key path,
the bad value and the fix; a user with three mistakes learns of all three at once.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, ValidationError, field_validator, model_validator

from rules.context import load_signals
from rules.explain import template_problems
from rules.model import KINDS, Match, Severity
from rules.problems import MISSING, Problem, allowed_keys, from_pydantic, key_path
from rules.watchlist import Identity, Labelled

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
TEMPLATE_PATH = Path(__file__).resolve().parent / "template.yaml"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")

#: The fictional person every rule's examples are run against: a private mobile and a public office line,
#: a home address and a work address expected on her organisation's site (example.net).
TEST_IDENTITY = Identity(
    id="kate",
    names=("Kate Isaacs",),
    phones=(Labelled("+1 312 555 0123", kind="home"), Labelled("+1 312 555 0188", kind="work", public=True)),
    addresses=(
        Labelled("1723 N Halsted St, Chicago IL 60614", kind="home"),
        Labelled("400 W Superior St, Chicago IL 60654", kind="work", expected_on=("example.net",)),
    ),
    emails=("kate.isaacs@example.org",),
    usernames=("@kateisaacs",),
    photos=("https://img.example.org/kate/profile.jpg",),
    phone_region="US",
)

#: Kinds whose watched values can carry labels, and the labels a condition may ask for.
LABELLED_KINDS = ("phone", "address")
QUALIFIERS = ("home", "work", "public")
KIND_REFS: tuple[str, ...] = (*KINDS, *(f"{k}:{q}" for k in LABELLED_KINDS for q in QUALIFIERS))
KindRef = Literal[KIND_REFS]  # type: ignore[valid-type]
#: Taken off a rule's score for each kind it needs that only a weaker match (initial, partial address) gives.
WEAK_PENALTY = 0.15


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Meta(_Strict):
    """What a reader of an alert is told about the rule."""

    name: str = Field(min_length=1, max_length=80)
    description: str = Field(min_length=1)
    severity: Severity


class ContextCondition(_Strict):
    """Which signal groups (rules/signals.yaml) must, or must not, be near the person's matches."""

    any_of: tuple[str, ...] = ()
    none_of: tuple[str, ...] = ()

    def holds(self, groups: set[str]) -> bool:
        return (not self.any_of or any(g in groups for g in self.any_of)) and not any(g in groups for g in self.none_of)


class When(_Strict):
    """Which identifiers of one person must be on the page, and what context must be near them.

    Every entry of ``all_of``, at least one of ``any_of`` (if given), none of
    ``none_of``. An entry is a kind (``address``) or a kind with a label
    (``address:home``, ``phone:work``, ``phone:public``). A plain kind and the
    home/work labels count only matches that are not public on this page;
    ``:public`` counts only those that are.
    """

    all_of: tuple[KindRef, ...] = ()
    any_of: tuple[KindRef, ...] = ()
    none_of: tuple[KindRef, ...] = ()
    context: ContextCondition = ContextCondition()
    #: Whether weaker matches (initial and surname, a street without its house number) count for this rule.
    weak_matches: bool = True

    @model_validator(mode="after")
    def _sensible(self) -> When:
        if not self.all_of and not self.any_of:
            raise ValueError(f"give all_of or any_of (or both), each a list of kinds from {', '.join(KINDS)}")
        clash = set(self.none_of) & (set(self.all_of) | set(self.any_of))
        if clash:
            raise ValueError(f"{', '.join(sorted(clash))} cannot be both required and excluded; remove it from none_of")
        return self

    def matched(self, matches: Sequence[Match]) -> dict[str, list[Match]] | None:
        """The matches that satisfy each needed entry, or None when the condition does not hold."""
        if not self.weak_matches:
            matches = [m for m in matches if not m.weak]
        refs = {ref: [m for m in matches if satisfies(m, ref)] for ref in {*self.all_of, *self.any_of, *self.none_of}}
        if not all(refs[r] for r in self.all_of) or any(refs[r] for r in self.none_of):
            return None
        if self.any_of and not any(refs[r] for r in self.any_of):
            return None
        return {r: refs[r] for r in (*self.all_of, *self.any_of) if refs[r]}

    @property
    def specificity(self) -> int:
        """How many kinds the condition needs at least: more is more specific."""
        return len(set(self.all_of)) + (1 if set(self.any_of) - set(self.all_of) else 0)


def satisfies(match: Match, ref: str) -> bool:
    """Whether ``match`` counts for a condition entry such as ``address`` or ``phone:home``."""
    kind, _, label = ref.partition(":")
    if match.kind != kind:
        return False
    if label == "public":
        return match.public
    return not match.public and (not label or match.label == label)


class ExamplePage(_Strict):
    """An example page with its own address, for rules that depend on where a page is."""

    page: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://[^/\s]+")


Example = Annotated[
    Union[Annotated[str, Tag("(text)")], Annotated[ExamplePage, Tag("(page)")]],
    Discriminator(lambda v: "(page)" if isinstance(v, (dict, ExamplePage)) else "(text)"),
]


class Examples(_Strict):
    """Short pages (HTML or text) that must and must not make this rule the verdict for TEST_IDENTITY."""

    fires: tuple[Example, ...] = Field(min_length=1)
    quiet: tuple[Example, ...] = Field(min_length=1)


class Rule(_Strict):
    """One rule file."""

    id: str
    meta: Meta
    when: When
    score: float = Field(ge=0.0, le=1.0)
    min_score: float = Field(default=0.0, ge=0.0, le=1.0)
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
    found, problems = collect_rules(dirs)
    if problems:
        raise RuleFileError(problems)
    return [rule for rule, _ in found.values()]


def collect_rules(paths: Sequence[Path] = ()) -> tuple[dict[str, tuple[Rule, Path]], list[Problem]]:
    """Every valid rule by id with the file it came from, and every problem; never raises.

    ``paths`` are directories (from the ``[rules] dirs`` setting) or single rule files.
    """
    rules: dict[str, tuple[Rule, Path]] = {}
    problems: list[Problem] = []
    for directory in (BUILTIN_DIR, *map(Path, paths)):
        if directory.is_file():
            files = [directory]
        elif directory.is_dir():
            files = sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")])
        else:
            problems.append(Problem("(directory)", MISSING, "not found; create it or remove it from the [rules] dirs setting", directory))
            continue
        for path in files:
            rule = load_rule_file(path, problems)
            if rule is not None:
                rules[rule.id] = (rule, path)
    return rules, problems


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
        errors = exc.errors()
        # "at least one item" after an item failed is noise: the item's own problem says it all
        found += [_problem(path, err) for err in errors
                  if not (err["type"] == "too_short" and any(len(e["loc"]) > len(err["loc"]) and
                                                             tuple(e["loc"][:len(err["loc"])]) == tuple(err["loc"]) for e in errors))]
    found += _signal_problems(raw, path)
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


def _signal_problems(raw: dict[str, Any], path: Path) -> list[Problem]:
    """Every signal group a rule names under when.context that rules/signals.yaml does not define."""
    when = raw.get("when")
    context = when.get("context") if isinstance(when, dict) else None
    if not isinstance(context, dict):
        return []
    groups = load_signals().groups
    problems = []
    for field in ("any_of", "none_of"):
        names = context.get(field)
        for i, name in enumerate(names if isinstance(names, list) else []):
            if isinstance(name, str) and name not in groups:
                problems.append(Problem(f"when.context.{field}[{i}]", name,
                                        f"no such signal group; use one of {', '.join(groups)} (see rules/signals.yaml)", path))
    return problems


def _problem(path: Path, err: dict[str, Any]) -> Problem:
    if err["type"] == "string_pattern_mismatch" and err["loc"][-1] == "url":
        return Problem(key_path(tuple(err["loc"])), err.get("input", MISSING),
                       "give the page's full address, starting with https://", path)
    return from_pydantic(err, Rule, path=path, hints=_HINTS,
                         missing_fix="required; add it (see the commented rules/template.yaml)")


_HINTS = {
    "score": "write a number from 0.0 (barely matters) to 1.0 (certain and serious)",
    "min_score": "write a number from 0.0 to 1.0: the rule fires only when the score with context reaches it",
    "examples.fires": "add at least one short page on which this rule must be reported",
    "examples.quiet": "add at least one short page on which this rule must not be reported",
    "id": "and name the file after it",
}

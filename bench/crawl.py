"""How fast ``doxwatch scan`` crawls, against a bare Scrapy spider fetching the same pages, in one run.

A site of 2,000 generated pages (forum threads: invented people talking, some
naming watched people with their phone or street, every page linking to the
next ones) is served on 127.0.0.1 by a Twisted static file server in its own
process. Then, one after the other, each in a fresh process:

- a bare spider: a Scrapy spider that only downloads the 2,000 page addresses
  (no parsing, no link following, no storage), with doxwatch's crawl settings;
- ``doxwatch scan`` of the site (``scanner.crawl.scan``, as the command runs it,
  without sending mail): crawl by following links, extract, analyse with 100
  watched people, store every page and finding in a new SQLite database, keep
  evidence and screenshots of the serious findings;
- the same scan with the other choice of analysis pool, for comparison: one
  worker process where doxwatch starts none (two cores or fewer), none where
  it starts some (``analysis_workers``, :mod:`scanner.analysis_pool`).

Both get the same overrides, which take away the politeness meant for real
sites (AutoThrottle, download delay) and nothing else: concurrency is
doxwatch's default for both (16 requests, 4 per site). Each is run
``--rounds`` times, alternating; the best round of each counts. Pages a second
are counted over the whole process, start-up included.

Run ``make bench`` or ``python bench/crawl.py [--pages 2000] [--rounds 2]``. Exits 1 when
the target is missed. ``--latency MS`` answers each request that much later, as a real
site's server and network do; that run is for comparison, not the target's measurement.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanner.analysis_pool import pool_size  # noqa: E402

TARGET_SHARE = 0.8
PAGES = 2000
WATCHED = 100
#: What both crawls get on top of doxwatch's crawl settings: no delays meant for real sites, quiet logs.
OVERRIDES = {"AUTOTHROTTLE_ENABLED": False, "DOWNLOAD_DELAY": 0, "LOG_LEVEL": "ERROR"}
LINKS_PER_PAGE = 6


# -- the site -----------------------------------------------------------------------------------------


def generate_site(folder: Path, pages: int, seed: int = 1906) -> list[str]:
    """``pages`` thread pages under ``folder``, each linking onwards so a crawl from the index finds them all."""
    from faker import Faker

    from bench.people import generated_people

    fake = Faker("en_US")
    fake.seed_instance(seed)
    rng = random.Random(seed)
    watched = generated_people(WATCHED)  # the people the scan watches; the posts' authors are others
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "robots.txt").write_text("User-agent: *\nAllow: /\n")
    paths = [f"t/{i}.html" for i in range(pages)]
    index_links = "".join(f'<li><a href="/{p}">Thread {i}</a></li>' for i, p in enumerate(paths[:50]))
    (folder / "index.html").write_text(f"<html><head><title>Forum</title></head><body><ul>{index_links}</ul></body></html>")
    for i, path in enumerate(paths):
        posts = []
        for _ in range(rng.randint(3, 8)):
            author = fake.name()
            body = " ".join(fake.paragraph(nb_sentences=rng.randint(2, 6)) for _ in range(rng.randint(1, 3)))
            if rng.random() < 0.01:  # now and then a post names a watched person, or (rarely) gives their phone
                person = rng.choice(watched)
                body += (f" Call {person.names[0]} on {person.phones[0]} about it." if rng.random() < 0.05
                         else f" I met {person.names[0]} yesterday.")
            posts.append(f'<div class="post"><p class="author">{author}</p><p>{body}</p>'
                         f'<p class="date">{fake.date()}</p></div>')
        onward = [paths[j % pages] for j in range(i * LINKS_PER_PAGE + 1, i * LINKS_PER_PAGE + 1 + LINKS_PER_PAGE)]
        links = "".join(f'<a href="/{p}">next</a> ' for p in onward)
        html = (f"<html><head><title>Thread {i}</title></head><body><nav><a href=\"/index.html\">Forum</a></nav>"
                f"<h1>{fake.sentence()}</h1>{''.join(posts)}<footer>{links}</footer></body></html>")
        (folder / path).parent.mkdir(exist_ok=True)
        (folder / path).write_text(html)
    return ["index.html", *paths]


def serve(folder: Path, latency: float = 0.0) -> None:
    """Serve ``folder`` on a free loopback port (printed first) until killed; each answer ``latency`` seconds late."""
    from twisted.internet import reactor
    from twisted.web.server import Site
    from twisted.web.static import File

    site = Site(File(str(folder)) if not latency else _late(folder, latency))
    site.noisy = False
    port = reactor.listenTCP(0, site, interface="127.0.0.1", backlog=256)
    print(port.getHost().port, flush=True)
    reactor.run()


def _late(folder: Path, latency: float):  # type: ignore[no-untyped-def]
    """A resource answering each GET with the file under ``folder`` after ``latency`` seconds, as a real site's
    server and network would: on loopback nothing waits, so a crawl is bound by the CPU alone."""
    from twisted.internet import reactor
    from twisted.web.resource import Resource
    from twisted.web.server import NOT_DONE_YET

    class Late(Resource):
        isLeaf = True

        def render_GET(self, request):  # type: ignore[no-untyped-def]
            path = folder / request.path.decode().lstrip("/")

            def answer() -> None:
                if path.is_file():
                    request.setHeader(b"content-type", b"text/html" if path.suffix == ".html" else b"text/plain")
                    request.write(path.read_bytes())
                else:
                    request.setResponseCode(404)
                request.finish()

            reactor.callLater(latency, answer)
            return NOT_DONE_YET

    return Late()


# -- the two crawls, each in its own process ----------------------------------------------------------


def bare_spider(base: str, paths: list[str]) -> dict[str, object]:
    """Download every page with Scrapy and doxwatch's crawl settings, nothing else."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from spiders.settings import crawl_settings

    class BareSpider(scrapy.Spider):
        name = "bare"
        fetched = 0

        async def start(self):  # type: ignore[no-untyped-def]
            for path in paths:
                yield scrapy.Request(f"{base}/{path}", callback=self.done)

        def done(self, response):  # type: ignore[no-untyped-def]
            BareSpider.fetched += 1

    settings = crawl_settings({"LOG_INSTALL_ROOT_HANDLER": False, **OVERRIDES, "ITEM_PIPELINES": {}})
    process = CrawlerProcess(settings)
    process.crawl(BareSpider)
    process.start()
    return {"pages": BareSpider.fetched}


def doxwatch_scan(folder: Path, workers: int | None = None) -> dict[str, object]:
    """``doxwatch scan --no-send`` with the config in ``folder`` (100 watched people, a new database there).

    ``workers``: analysis worker processes (None: doxwatch's default, :func:`pool_size`; 0: none).
    """
    from scanner.config import load_settings
    from scanner.crawl import scan

    settings = load_settings(folder / "doxwatch.toml", environ={})
    result = scan(settings, deliver=False, overrides=dict(OVERRIDES), analysis_workers=workers)
    site = result.sites[0]
    return {"pages": site.pages, "findings": len(site.new_findings), "status": site.status, "errors": site.errors}


def write_config(base: str, folder: Path, pages: int) -> None:
    """The scan's config, written before its process starts, as the bare spider's page list is: a user's
    config file is there before ``doxwatch scan`` starts (generating the people takes Faker a quarter second)."""
    (folder / "doxwatch.toml").write_text(_config(base, folder, pages))


def _config(base: str, folder: Path, pages: int) -> str:
    from bench.people import generated_people

    people = []
    for person in generated_people(WATCHED):
        people.append(
            f'[[people]]\nid = "{person.id}"\nnames = {json.dumps(list(person.names))}\n'
            f"phones = {json.dumps(list(person.phones))}\naddresses = {json.dumps(list(person.addresses))}\n"
            f"emails = {json.dumps(list(person.emails))}\n"
        )
    return (
        "\n".join(people)
        + f'\n[[sites]]\nid = "forum"\nstart_urls = ["{base}/index.html"]\nmax_depth = 20\nmax_pages = {pages + 10}\n'
        + f'\n[storage]\nurl = "sqlite:///{folder / "doxwatch.sqlite3"}"\n'
    )


def other_workers() -> int:
    """The analysis workers doxwatch does not choose here: one where it starts none, else none."""
    return 1 if pool_size() == 0 else 0


def run_worker(*args: str) -> tuple[dict[str, object], float, float]:
    """One crawl in a fresh Python process: its JSON result, its wall time (start-up included) and the CPU
    seconds it and its own child processes used."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"crawl {args[0]} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), elapsed, _children_cpu() - cpu_before


def _children_cpu() -> float:
    """CPU seconds (user and system) of every child process this one has waited for."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def _process_cpu(pid: int) -> float | None:
    """CPU seconds a running process has used so far (Linux ``/proc``), None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=PAGES)
    parser.add_argument("--rounds", type=int, default=2, help="runs of each crawl, alternating; the best counts")
    parser.add_argument("--latency", type=float, default=0.0, metavar="MS",
                        help="answer each request this many milliseconds late, as a real site does (default: 0, "
                             "loopback at full speed: the measurement the target is about)")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.latency / 1000)
        return 0
    if args.worker:
        kind, base, folder = args.worker
        if kind == "bare":
            paths = json.loads((Path(folder).parent / "paths.json").read_text())
            result = bare_spider(base, paths)
        else:
            result = doxwatch_scan(Path(folder), other_workers() if kind == "scan-other-pool" else None)
        print(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="doxwatch-bench-") as tmp:
        root = Path(tmp)
        paths = generate_site(root / "site", args.pages)
        (root / "paths.json").write_text(json.dumps(paths))
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(root / "site"), "--latency", str(args.latency)],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
            best: dict[str, tuple[float, dict[str, object], float, float | None]] = {}
            for round_ in range(args.rounds):
                for kind in ("bare", "scan", "scan-other-pool"):
                    folder = root / f"{kind}-{round_}"
                    folder.mkdir()
                    if kind != "bare":
                        write_config(base, folder, args.pages)
                    served_before = _process_cpu(server.pid)
                    result, elapsed, cpu = run_worker(kind, base, str(folder))
                    served_after = _process_cpu(server.pid)
                    served = None if served_before is None or served_after is None else served_after - served_before
                    rate = int(result["pages"]) / elapsed  # type: ignore[arg-type]
                    print(f"  round {round_ + 1}, {kind:>15}: {result['pages']} pages in {elapsed:5.1f} s = {rate:6.1f} pages/s"
                          + (f" ({result['findings']} findings, status {result['status']})" if kind != "bare" else ""))
                    if kind not in best or rate > best[kind][0]:
                        best[kind] = (rate, result, cpu, served)
        finally:
            server.kill()
            server.wait()
    bare, scan_, other = best["bare"][0], best["scan"][0], best["scan-other-pool"][0]
    ok = scan_ >= TARGET_SHARE * bare and int(best["scan"][1]["pages"]) >= args.pages  # type: ignore[arg-type]
    late = f", each answer {args.latency:g} ms late" if args.latency else ""
    print(f"site of {args.pages} pages on loopback{late}, {os.cpu_count()} cores; best round of each:")
    print(f"  bare Scrapy spider (download only):                {bare:6.1f} pages/s")
    print(f"  doxwatch scan, {other_workers()} analysis worker(s), for comparison: {other:6.1f} pages/s = "
          f"{other / bare:.2f} of the bare spider")
    verdict = f"(target >= {TARGET_SHARE}): {'PASS' if ok else 'FAIL'}" if not args.latency else \
        "(the target is measured without --latency)"
    print(f"  doxwatch scan, {pool_size()} analysis worker(s), its default:    {scan_:6.1f} pages/s = "
          f"{scan_ / bare:.2f} of the bare spider {verdict}")
    print_cpu(best)
    if args.latency:
        return 0
    print("ALL TARGETS MET" if ok else "SOME TARGETS NOT MET")
    return 0 if ok else 1


def print_cpu(best: dict[str, tuple[float, dict[str, object], float, float | None]]) -> None:
    """Where the cores went in each best round: the crawl's processes and the site's server, a page each.

    On loopback nothing waits: a crawl finishes no sooner than its CPU and the server's, shared over the
    cores, allow. The last line is the most the bare spider's wall time leaves the scan at the target's share.
    """
    cores = os.cpu_count() or 1
    print(f"CPU time a page (user and system, the crawl's processes and the site's server, {cores} cores):")
    for kind, (rate, result, cpu, served) in best.items():
        count = int(result["pages"]) or 1  # type: ignore[arg-type]
        server_ms = "?" if served is None else f"{served * 1000 / count:.2f}"
        print(f"  {kind:>15}: crawl {cpu * 1000 / count:5.2f} ms, server {server_ms} ms; "
              f"wall {1000 / rate:5.2f} ms a page")
    rate, result, _, served = best["bare"]
    if served is not None:
        count = int(result["pages"]) or 1  # type: ignore[arg-type]
        wall = count / (TARGET_SHARE * rate)  # the longest the scan may take for the bare spider's pages
        budget = (cores * wall - served) / count  # the server answers the scan's requests too
        scan_cpu = best["scan"][2] / (int(best["scan"][1]["pages"]) or 1)  # type: ignore[arg-type]
        print(f"  at {TARGET_SHARE} of the bare spider, a scan's processes could use at most {budget * 1000:.2f} ms a "
              f"page of CPU, every core busy all the time beside the server; this scan used {scan_cpu * 1000:.2f}")


if __name__ == "__main__":
    sys.exit(main())

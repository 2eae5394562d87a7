"""Runs the benchmark suite and writes one Markdown report: benchmarks/report/README.md.

    python -m benchmarks --size smoke                     # everything, quick: a few minutes on 2 cores
    python -m benchmarks --size full                      # everything, full size: several hours on 2 cores
    python -m benchmarks --size smoke --only quality engine_latency

The suite's own benchmarks (engine_latency, quality, categorical_choice, time_to_target, parallel_workers) run
in this process; the adapter benchmarks owned by their integrations (optuna_overhead, optuna_quality,
ray_overhead, sklearn_search) run as subprocesses with ``--size`` and their Markdown reports are folded in.
A benchmark that is missing or fails is reported as such; the others still run.
"""

from __future__ import annotations

import argparse
import importlib
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._common import (
    SIZES,
    Section,
    command_line,
    describe_error,
    is_interrupt,
    machine_facts,
    md_table,
    package_versions,
    progress,
    quiet_libraries,
    render_standalone,
    report_dir,
    utc_now,
)

BENCH_DIR = Path(__file__).resolve().parent
IN_PROCESS = ("engine_latency", "quality", "categorical_choice", "time_to_target", "parallel_workers")
SUBPROCESS = ("optuna_overhead", "optuna_quality", "ray_overhead", "sklearn_search")
ALL = IN_PROCESS + SUBPROCESS
TIMEOUT = {"smoke": 20 * 60, "full": 8 * 3600}


def run_in_process(name: str, size: str, out: Path) -> Section:
    module = importlib.import_module(f"benchmarks.{name}")
    section: Section = module.run(size, out)
    # The per-benchmark file matches what the standalone script writes, so links from either place work.
    (out / f"{name}.md").write_text(render_standalone(section, command_line(), size), encoding="utf-8")
    return section


def demote_headings(markdown: str) -> str:
    """Nests a standalone report under this report's section heading (## -> ###)."""
    return re.sub(r"^(#{1,5}) ", lambda m: "#" * (len(m.group(1)) + 1) + " ", markdown, flags=re.M)


def run_subprocess(name: str, size: str, out: Path) -> Section:
    script = BENCH_DIR / f"{name}.py"
    if not script.exists():
        note = f"Not run: `benchmarks/{name}.py` does not exist in this checkout."
        return Section(name, name, note, data={"status": "missing"})
    report = out / f"{name}.md"
    cmd = [sys.executable, str(script), "--size", size]
    if "--out" in script.read_text(encoding="utf-8"):
        cmd += ["--out", str(report)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT[size], cwd=BENCH_DIR.parent)
    seconds = time.perf_counter() - start
    shown = f"python benchmarks/{name}.py --size {size}"
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        md = f"`{shown}` **failed** (exit code {proc.returncode}):\n\n```\n{tail}\n```"
        return Section(name, name, md, data={"status": "failed"}, seconds=seconds)
    if not report.exists():
        return Section(
            name, name, f"`{shown}` ran but wrote no `{report.name}`.", data={"status": "no report"}
        )
    text = report.read_text(encoding="utf-8")
    first = text.splitlines()[0] if text else ""
    title = first.lstrip("# ").strip() if first.startswith("#") else name
    body = demote_headings("\n".join(text.splitlines()[1:]))
    md = f"Run as a subprocess: `{shown}`; its own report: [{report.name}]({report.name}).\n{body}"
    return Section(name, title, md, data={"status": "ok"}, seconds=seconds)


def run_one(name: str, size: str, out: Path) -> Section:
    start = time.perf_counter()
    try:
        section = run_in_process(name, size, out) if name in IN_PROCESS else run_subprocess(name, size, out)
    except BaseException as exc:  # report the failure and keep going with the rest of the suite
        if is_interrupt(exc):
            raise
        section = Section(name, name, f"**Failed**: `{describe_error(exc)}`", data={"status": "failed"})
    section.seconds = section.seconds or time.perf_counter() - start
    return section


def render(sections: list[Section], command: str, size: str, seconds: float) -> str:
    facts = machine_facts()
    versions = package_versions()
    lines = [
        "# ArqonHPO benchmark report",
        "",
        f"Command: `{command}`  ",
        f"Size: `{size}`; run {utc_now()}; total {seconds / 60:.1f} min. Every figure below was measured in "
        "this run; peers ran in the same process as ArqonHPO (adapter benchmarks: the same subprocess).",
        "",
        "## Machine and packages",
        "",
        md_table(["fact", "value"], facts.items(), "ll"),
        "",
        md_table(["package", "version"], versions.items(), "ll"),
        "",
        "## Contents",
        "",
        *[f"- [{s.title}](#{anchor(s.title)}) ({s.seconds:.0f} s)" for s in sections],
        "",
    ]
    for s in sections:
        lines += [f"## {s.title}", "", s.markdown, ""]
    return "\n".join(lines)


def anchor(title: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", title.lower()).strip()
    return slug.replace(" ", "-")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", choices=SIZES, default="smoke")
    parser.add_argument("--only", nargs="+", choices=ALL, metavar="NAME", help=f"subset of: {', '.join(ALL)}")
    parser.add_argument("--out", type=Path, default=None, help="report directory (default: by size)")
    args = parser.parse_args(argv)
    args.out = args.out or report_dir(args.size)
    quiet_libraries()
    command = command_line()
    args.out.mkdir(parents=True, exist_ok=True)
    names = [n for n in ALL if not args.only or n in args.only]
    start = time.perf_counter()
    sections = []
    bar = progress(len(names), f"benchmarks ({args.size})")
    bar.leave = True
    for name in names:
        bar.set_postfix_str(name)
        sections.append(run_one(name, args.size, args.out))
        bar.update()
    bar.close()
    report = render(sections, command, args.size, time.perf_counter() - start)
    path = args.out / "README.md"
    path.write_text(report, encoding="utf-8")
    for s in sections:
        status = s.data.get("status", "ok") if isinstance(s.data, dict) else "ok"
        print(f"{s.name:<18} {s.seconds:7.1f} s  {status}")
    print(f"command: {command}")
    print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

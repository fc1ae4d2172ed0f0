"""Mail import benchmark: ``deskterm import mail`` on a generated maildir.

    python bench/bench_mail_import.py [--sizes 10000 100000] [--workdir DIR]

For each size it generates (once, deterministic) a support maildir with
``bench/mail_corpus.py``, then runs the real command in a subprocess against a
fresh SQLite store and reports end-to-end messages/s (process start, store
creation, parse, thread, identify, emotion cues and the other hooks, full-text index,
commit), CPU seconds (the importer, and its whole process tree) also per 10,000
messages, the peak RSS of the importer alone and of its whole tree (the parse workers
and the process they are forked from: a sum of RSS counts their shared copy-on-write
pages once per process, so the tree's peak PSS is given too), then the same import
again (every message a duplicate). If ``notmuch`` is installed, ``notmuch new``
indexes the same maildir and the ratio is printed. The load average before each run
is printed too: the machine may be shared.

Targets (issue 16): with emotion cues on (the default), >= 3,000 msgs/s at 10k and
100k and >= 8x ``notmuch new`` on the same corpus; peak RSS <= 300 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mail_corpus import write_maildir

DESKTERM = str(Path(sys.executable).with_name("deskterm"))
PAGE = os.sysconf("SC_PAGE_SIZE")
TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class Sample:
    """What one run cost: wall time, peak RSS (MB) and CPU seconds."""

    seconds: float
    rss_main: float = 0.0
    rss_total: float = 0.0
    pss_total: float = 0.0
    cpu_main: float = 0.0
    cpu_total: float = 0.0
    output: str = ""


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _stat(pid: int) -> tuple[float, float]:
    """(RSS in MB, CPU seconds) of one process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICK
    rss = int(fields[21]) * PAGE / 1e6
    return rss, cpu


def _pss(pid: int) -> float:
    """Proportional set size in MB: shared pages (the workers' copy-on-write pages from
    the process they are forked from) split between the processes sharing them."""
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1000
    return 0.0


def run(args: list[str], env: dict[str, str]) -> Sample:
    """Run a command, sampling its process tree every 50 ms (PSS every 200 ms).

    Dirty pages that earlier runs left (a store, notmuch's database) are written out
    first: their writeback would otherwise take CPU from this run."""
    os.sync()
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sample = Sample(0.0)
    cpu: dict[int, float] = {}
    ticks = 0
    while proc.poll() is None:
        total_rss = 0.0
        ticks += 1
        tree = _tree(proc.pid)
        if ticks % 4 == 0:
            with contextlib.suppress(OSError, ValueError):
                sample.pss_total = max(sample.pss_total, sum(map(_pss, tree)))
        for pid in tree:
            try:
                rss, used = _stat(pid)
            except (OSError, IndexError, ValueError):
                continue
            cpu[pid] = used
            total_rss += rss
            if pid == proc.pid:
                sample.rss_main = max(sample.rss_main, rss)
        sample.rss_total = max(sample.rss_total, total_rss)
        time.sleep(0.05)
    out, err = proc.communicate()
    sample.seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({proc.returncode}): {err.decode()[-2000:]}")
    sample.cpu_main = cpu.get(proc.pid, 0.0)
    sample.cpu_total = sum(cpu.values())
    sample.output = out.decode()
    return sample


def notmuch_new(maildir: Path, work: Path, env: dict[str, str]) -> Sample | None:
    """Time ``notmuch new`` on the maildir, with its database outside it."""
    if not shutil.which("notmuch"):
        return None
    db = work / "notmuch-db"
    shutil.rmtree(db, ignore_errors=True)
    db.mkdir(parents=True)
    config = work / "notmuch-config"
    config.write_text(
        f"[database]\npath={db}\nmail_root={maildir}\n"
        "[new]\ntags=inbox;\nignore=\n[maildir]\nsynchronize_flags=false\n"
        "[user]\nname=Bench\nprimary_email=support@example.com\n"
    )
    return run(["notmuch", "new", "--quiet"], {**env, "NOTMUCH_CONFIG": str(config)})


def warm(corpus: Path) -> None:
    """Read every message once, untimed: the first import then starts from a warm page
    cache, as ``notmuch new`` (which runs after it) does. Some of a big corpus had
    been evicted between runs, and the first import alone paid for reading it."""
    for path in corpus.rglob("*"):
        if path.is_file():
            path.read_bytes()


def bench(
    size: int, workdir: Path, *, emotion: bool = True, notmuch: bool = True
) -> dict[str, float | int | None]:
    corpus = workdir / f"corpus-{size}" / "maildir"
    if not (corpus / "cur").is_dir():
        print(f"generating {size:,} messages in {corpus} ...", file=sys.stderr)
        shutil.rmtree(corpus.parent, ignore_errors=True)
        write_maildir(corpus, size)
    home = workdir / f"home-{size}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    config = home / "config.toml"
    config.write_text(
        '[agent]\nname = "Ana Souza"\nemail = "support@example.com"\n'
        + ("" if emotion else "[emotion]\nenabled = false\n")
    )
    store = home / "store.db"
    env = {**os.environ, "DESKTERM_HOME": str(home), "DESKTERM_CONFIG": str(config)}
    env.pop("DESKTERM_DB", None)
    cmd = [DESKTERM, "--db", str(store), "import", "mail", str(corpus), "--json"]
    warm(corpus)
    load = os.getloadavg()[0]
    first = run(cmd, env)
    summary = json.loads(first.output)
    assert summary["messages_new"] + summary["messages_failed"] == size, summary
    again = run(cmd, env)
    repeat = json.loads(again.output)
    assert repeat["messages_duplicate"] == summary["messages_new"], repeat
    nm = notmuch_new(corpus, home, env) if notmuch else None
    result: dict[str, float | int | None] = {
        "messages": size,
        "emotion_cues": emotion,
        "failed": summary["messages_failed"],
        "tickets": summary["tickets_created"],
        "seconds": round(first.seconds, 2),
        "msgs_per_s": round(size / first.seconds),
        "rss_main_mb": round(first.rss_main),
        "rss_with_workers_mb": round(first.rss_total),
        "pss_with_workers_mb": round(first.pss_total),
        "cpu_main_s": round(first.cpu_main, 1),
        "cpu_all_s": round(first.cpu_total, 1),
        "cpu_main_per_10k": round(first.cpu_main * 10_000 / size, 2),
        "cpu_all_per_10k": round(first.cpu_total * 10_000 / size, 2),
        "load_before": round(load, 1),
        "reimport_seconds": round(again.seconds, 2),
        "reimport_msgs_per_s": round(size / again.seconds),
        "reimport_rss_main_mb": round(again.rss_main),
        "notmuch_seconds": round(nm.seconds, 2) if nm else None,
        "notmuch_msgs_per_s": round(size / nm.seconds) if nm else None,
        "ratio_vs_notmuch": round(nm.seconds / first.seconds, 1) if nm else None,
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/deskterm-mail-bench"))
    parser.add_argument(
        "--also-without-emotion",
        action="store_true",
        help="Import once more with [emotion] enabled = false.",
    )
    parser.add_argument("--no-notmuch", action="store_true", help="Skip notmuch new.")
    args = parser.parse_args()
    rows = []
    for size in args.sizes:
        runs = [True, False] if args.also_without_emotion else [True]
        for emotion in runs:
            row = bench(
                size, args.workdir, emotion=emotion, notmuch=emotion and not args.no_notmuch
            )
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(
        "\n| messages | emotion cues | import msg/s | peak RSS main (+workers; tree PSS) "
        "| CPU-s per 10k main (all) | re-import msg/s | notmuch new msg/s "
        "| deskterm / notmuch | load |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        nm = f"{r['notmuch_msgs_per_s']:,}" if r["notmuch_msgs_per_s"] else "n/a"
        ratio = f"{r['ratio_vs_notmuch']}x" if r["ratio_vs_notmuch"] else "n/a"
        print(
            f"| {r['messages']:,} | {'on' if r['emotion_cues'] else 'off'} "
            f"| {r['msgs_per_s']:,} | {r['rss_main_mb']} MB ({r['rss_with_workers_mb']} MB; "
            f"{r['pss_with_workers_mb']} MB) "
            f"| {r['cpu_main_per_10k']} ({r['cpu_all_per_10k']}) "
            f"| {r['reimport_msgs_per_s']:,} | {nm} | {ratio} | {r['load_before']} |"
        )


if __name__ == "__main__":
    main()

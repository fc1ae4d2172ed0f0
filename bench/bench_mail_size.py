"""Peak memory of importing one large mail, against the size of that mail.

    python bench/bench_mail_size.py [--sizes 10 40 200] [--workers 1 2] [--workdir DIR]

For each size (MB) it writes one ``.eml`` (once, deterministic) in two shapes: a short
text part plus a base64 attachment filling the rest, and one big plain-text body
(quoted-printable). Then it runs the real ``deskterm import mail`` in a child
process, against a fresh SQLite store, and samples the child's process tree (the
importer and its parser workers) every 10 ms from /proc; the importer's own peak
comes exactly from ``wait4``. The baseline is the peak of importing small mail the
same way: the interpreter, SQLAlchemy, the emotion model, and, where the big message
starts the pool of parser processes (``--workers 2`` and over ``HELD_BYTES``), that
pool too (an mbox of 400 small messages starts it; one small ``.eml`` does not).

Reported: peak RSS, peak above the baseline, and that as a multiple of the message's
size. The goal (issue 12): at most 3× the largest message read, which for a mail
over ``max_message_bytes`` (50 MB by default) is that limit: only its head is read.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from bench_mail_import import _stat, _tree
from deskterm.connectors.mailjobs import HELD_BYTES

SRC = Path(__file__).resolve().parent.parent / "src"

MB = 1 << 20


def write_mail(path: Path, size: int, shape: str) -> None:
    """One message of about ``size`` bytes (written once; sizes are deterministic)."""
    if path.exists():
        return
    rng = random.Random(size)
    head = (
        "From: Bea Costa <bea@acme.example>\nTo: support@example.com\n"
        f"Subject: Big {shape} mail\nDate: Mon, 2 Nov 2026 09:00:00 +0000\n"
        f"Message-ID: <big-{shape}-{size}@acme.example>\nMIME-Version: 1.0\n"
    )
    with path.open("wb") as f:
        if shape == "attachment":
            f.write(
                (
                    head + 'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
                    "Content-Type: text/plain; charset=utf-8\n\nThe logs are attached.\n"
                    '--b\nContent-Type: application/octet-stream; name="logs.bin"\n'
                    "Content-Transfer-Encoding: base64\n"
                    'Content-Disposition: attachment; filename="logs.bin"\n\n'
                ).encode()
            )
            raw = size * 3 // 4
            for start in range(0, raw, 57 * 1000):
                block = rng.randbytes(min(57 * 1000, raw - start))
                f.write(base64.encodebytes(block))
            f.write(b"--b--\n")
        else:
            f.write(
                (
                    head + "Content-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: quoted-printable\n\n"
                ).encode()
            )
            line = b"The export failed again at step =C3=A9 with code 42, see below.\n"
            f.write(line * (size // len(line)))


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(peak RSS of the tree in MB, peak RSS of the importer in MB, stdout)."""
    proc = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tree_peak = 0.0
    while proc.poll() is None:
        total = 0.0
        for pid in _tree(proc.pid):
            try:
                total += _stat(pid)[0]
            except (OSError, IndexError, ValueError):
                continue
        tree_peak = max(tree_peak, total)
        time.sleep(0.01)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {err.decode()[-2000:]}")
    # The importer's own exact peak (ru_maxrss of the children this process waited for).
    main_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return max(tree_peak, main_peak), main_peak, out.decode()


def run_import(mail: Path, work: Path, workers: int) -> tuple[float, float, dict[str, object]]:
    home = work / "home"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    config = home / "config.toml"
    config.write_text('[agent]\nname = "Ana Souza"\nemail = "support@example.com"\n')
    env = {**os.environ, "DESKTERM_HOME": str(home), "DESKTERM_CONFIG": str(config)}
    env["PYTHONPATH"] = str(SRC)
    env.pop("DESKTERM_DB", None)
    cmd = [sys.executable, "-c", "from deskterm.cli import app; app()"]
    cmd += ["--db", str(home / "store.db"), "import", "mail", str(mail), "--json"]
    cmd += ["--workers", str(workers)]
    # A fresh interpreter per run, so that RUSAGE_CHILDREN holds this import only.
    probe = [sys.executable, __file__, "--one", json.dumps(cmd)]
    done = subprocess.run(probe, env=env, capture_output=True, text=True, check=True)
    tree, main, out = json.loads(done.stdout)
    return tree, main, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 40, 200])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/deskterm-mail-size"))
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(json.loads(args.one), dict(os.environ))))
        return
    args.workdir.mkdir(parents=True, exist_ok=True)
    small = args.workdir / "small.eml"
    write_mail(small, 2000, "text")
    many = args.workdir / "small.mbox"
    one = b"From bea@acme.example Mon Nov  2 09:00:00 2026\n" + small.read_bytes()
    many.write_bytes(b"\n".join(one.replace(b"big-text-2000", b"s%d" % n) for n in range(400)))
    print("| shape | size | workers | peak RSS | above baseline | × size | stored |")
    print("|---|--:|--:|--:|--:|--:|---|")
    for workers in args.workers:
        inline, _, _ = run_import(small, args.workdir, workers)
        pooled, _, _ = run_import(many, args.workdir, workers) if workers > 1 else (inline, 0, {})
        for size in args.sizes:
            for shape in ("attachment", "text"):
                mail = args.workdir / f"{shape}-{size}mb.eml"
                write_mail(mail, size * MB, shape)
                real = mail.stat().st_size / MB
                peak, _, summary = run_import(mail, args.workdir, workers)
                base = pooled if mail.stat().st_size >= HELD_BYTES else inline
                stored = "whole" if not summary["messages_failed"] else "head, marked"
                read = real if stored == "whole" else min(real, 50.0)
                print(
                    f"| {shape} | {real:.0f} MB | {workers} | {peak:.0f} MB "
                    f"| {peak - base:.0f} MB | {(peak - base) / read:.1f} | {stored} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

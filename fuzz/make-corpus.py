#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target into fuzz/corpus/<target>/ (git-ignored).

The seeds come from the third-party fixtures in ../shared (the spec's example events and the
recorded sessions), which are never committed here: run this script to regenerate them.

    python3 fuzz/make-corpus.py [--shared PATH]

`--shared` (or REALTIME_SHARED_DIR) points at the shared folder; the default is the folder
beside the project root, as the tests use. Each seed is named by the SHA-1 of its bytes, as
libFuzzer names its own inputs, so running the script twice writes nothing new.

Seeds per target (the input formats are documented in realtime_proto::fuzzing):
- server_event: every server example, and every line of every `*.server.jsonl` recording.
- session: every recording (`*.all.jsonl`) as a session: a received event is a line as it is, a
  sent one a `C` line; once with the default configuration and once with small caps (a `#`
  line), and a few template-only inputs.
- client_roundtrip: every client example, and every line of every `*.client.jsonl` recording.
- session_config: the `session` object of every example and recorded event that has one.
"""

import argparse
import hashlib
import json
import os
import random
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
TARGETS = ["server_event", "session", "client_roundtrip", "session_config"]


def compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class Corpus:
    def __init__(self, root):
        self.root = root
        self.counts = {target: 0 for target in TARGETS}

    def add(self, target, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        folder = self.root / target
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / hashlib.sha1(data).hexdigest()
        if not path.exists():
            path.write_bytes(data)
            self.counts[target] += 1


def jsonl(path):
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            line = line.strip()
            if line:
                yield line


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get("REALTIME_SHARED_DIR") or str(FUZZ.parent.parent / "shared")
    parser.add_argument("--shared", default=default, help="the shared fixtures folder")
    parser.add_argument("--out", default=str(FUZZ / "corpus"), help="the corpus folder")
    args = parser.parse_args()
    shared = Path(args.shared)
    if not (shared / "spec").is_dir():
        print(f"SKIPPED: the shared fixtures folder {shared} is absent", file=sys.stderr)
        return 0
    corpus = Corpus(Path(args.out))

    for line in jsonl(shared / "spec" / "realtime-examples.jsonl"):
        row = json.loads(line)
        example = row["example"]
        if not isinstance(example, dict):
            continue
        target = "server_event" if row["direction"] == "server" else "client_roundtrip"
        corpus.add(target, compact(example))
        if isinstance(example.get("session"), dict):
            corpus.add("session_config", compact(example["session"]))

    recordings = shared / "realtime-recordings"
    for path in sorted(recordings.rglob("*.server.jsonl")):
        for line in jsonl(path):
            corpus.add("server_event", line)
            session = json.loads(line).get("session")
            if isinstance(session, dict):
                corpus.add("session_config", compact(session))
    for path in sorted(recordings.rglob("*.client.jsonl")):
        for line in jsonl(path):
            corpus.add("client_roundtrip", line)
            session = json.loads(line).get("session")
            if isinstance(session, dict):
                corpus.add("session_config", compact(session))
    # A configuration line with small caps: `#` then the bytes the target reads its settings
    # from (dialect, retention All, 2 KiB of audio, 4 items, ...).
    small_caps = "#\x00\x02\x08\x00\x04\x04\x20\x03\x02\x03\x00\x01\x01"
    for path in sorted(recordings.rglob("*.all.jsonl")):
        lines = []
        for line in jsonl(path):
            row = json.loads(line)
            event = compact(row["event"])
            lines.append(event if row["direction"] == "received" else "C" + event)
        session = "\n".join(lines)
        corpus.add("session", session)
        corpus.add("session", small_caps + "\n" + session)

    # Template-only sessions: lines of pseudo-random bytes, each one a templated event (a fixed
    # seed, so the corpus is the same every time).
    rng = random.Random(20261124)
    for _ in range(32):
        lines = [small_caps]
        for _ in range(rng.randint(4, 40)):
            first = rng.choice(b"tcttttttpf")
            body = bytes(rng.randrange(256) for _ in range(rng.randint(4, 40)))
            lines.append(bytes([first]) + body.replace(b"\n", b" "))
        corpus.add("session", b"\n".join(line.encode("latin-1") if isinstance(line, str)
                                          else line for line in lines))

    for target in TARGETS:
        print(f"{target}: {corpus.counts[target]} new seeds in {corpus.root / target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Decontamination on real data: GSM8K test questions planted in the real GSM8K train file.

The hashed numpy scan is checked against a plain set-of-word-n-grams implementation written
here, across formats (jsonl, json, csv, parquet), chunk boundaries and worker counts; the
command line is checked for its table, JSON report, clean copies and one-line errors.
"""

from __future__ import annotations

import collections
import csv
import json
import random
import re
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_cli
from tulu_eval.decontam import io as decontam_io
from tulu_eval.decontam.fields import detect_field, human_turns, row_segments
from tulu_eval.decontam.index import EvalIndex
from tulu_eval.decontam.ngrams import words
from tulu_eval.decontam.scan import Scanner, decontaminate
from tulu_eval.errors import UserError

N_EXACT, N_EDITED = 50, 50
# the word rule of decontam_ngrams, as a regex over lowercased text
WORD_RE = re.compile("[0-9a-z\u00c0-\u1fff\u2070-\u2fff\u3040-\U0010ffff]+")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.open(encoding="utf-8")]


@pytest.fixture(scope="module")
def gsm8k(data_dir):
    return _jsonl(data_dir / "gsm8k/train.jsonl"), _jsonl(data_dir / "gsm8k/test.jsonl")


@pytest.fixture(scope="module")
def index(data_dir):
    return EvalIndex.from_registry(tasks="gsm8k", data_dir=data_dir)


def _edit_one_word(question: str, rng: random.Random) -> str:
    ws = question.split(" ")
    i = rng.randrange(len(ws))
    ws[i] = "zebra" if ws[i].lower() != "zebra" else "lion"
    return " ".join(ws)


@pytest.fixture(scope="module")
def planted(gsm8k, tmp_path_factory):
    """The real train file with 50 exact and 50 one-word-edited test questions at random lines."""
    train, test = gsm8k
    rng = random.Random(7)
    picks = rng.sample(range(len(test)), N_EXACT + N_EDITED)
    rows = [dict(r) for r in train]
    plants = [("exact", i, {"question": test[i]["question"], "answer": test[i]["answer"]}) for i in picks[:N_EXACT]]
    plants += [("edited", i, {"question": _edit_one_word(test[i]["question"], rng), "answer": test[i]["answer"]})
               for i in picks[N_EXACT:]]
    for kind, i, row in plants:
        rows.insert(rng.randrange(len(rows) + 1), {**row, "_plant": f"{kind}:{i}"})
    lines = {r["_plant"]: n for n, r in enumerate(rows) if "_plant" in r}
    path = tmp_path_factory.mktemp("planted") / "train_planted.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps({k: v for k, v in r.items() if k != "_plant"}) + "\n")
    return path, rows, lines


def _reference_scores(index: EvalIndex, texts: list[str]) -> np.ndarray:
    """Best score per instance from plain Python sets of word n-gram tuples."""
    n = index.n
    grams, sizes = {}, []
    for i, text in enumerate(index.texts):
        toks = WORD_RE.findall(text)
        mine = {tuple(toks)} if 0 < len(toks) < n else set(zip(*(toks[j:] for j in range(n))))
        sizes.append(len(mine))
        for g in mine:
            grams.setdefault(g, []).append(i)
    lengths = sorted({len(g) for g in grams})
    best = np.zeros(len(sizes))
    for text in texts:
        toks = WORD_RE.findall(text.lower())
        mine = set().union(*(set(zip(*(toks[j:] for j in range(k)))) for k in lengths))
        for i, c in collections.Counter(i for g in mine for i in grams.get(g, ())).items():
            best[i] = max(best[i], c / sizes[i])
    return best


def test_words_follow_the_documented_rule(gsm8k):
    _, test = gsm8k
    samples = [d["question"] for d in test] + ["Don’t STOP—believin’ «Ünïcode» naïve_café 3.5%\u00a0x\u3000y"]
    for text in samples:
        assert words(text) == WORD_RE.findall(text.lower()), text
    assert words("Don’t stop—3.5") == ["don", "t", "stop", "3", "5"]


def test_template_is_trimmed_and_ngrams_counted(index, gsm8k):
    _, test = gsm8k
    assert index.trimmed["gsm8k"] == ("question", "answer")
    assert index.texts[0] == " ".join(words(test[0]["question"]))
    expected = len(set(zip(*(words(test[0]["question"])[j:] for j in range(8)))))
    assert index.lookup.inst_ngrams[0] == expected


def test_scores_equal_plain_python_sets(index, planted):
    path, rows, _ = planted
    texts = [r["question"] for r in rows[:3000]] + [r["question"] for r in rows if "_plant" in r]
    with Scanner(index, workers=1) as scanner:
        fast = scanner.scan_texts(texts)
    np.testing.assert_array_equal(fast.best_score, _reference_scores(index, texts))


def test_planted_gsm8k_questions_are_found(index, planted, gsm8k, tmp_path, monkeypatch):
    path, rows, lines = planted
    monkeypatch.setattr(decontam_io, "CHUNK_BYTES", 256 << 10)  # many chunks, rows cut at chunk ends
    report = decontaminate([path], index=index, workers=2)
    f = report.files[0]
    assert f.rows == len(rows) and f.field.startswith("question")
    flagged = f.contaminated_rows()
    exact = [(int(k.split(":")[1]), line) for k, line in lines.items() if k.startswith("exact")]
    edited = [(int(k.split(":")[1]), line) for k, line in lines.items() if k.startswith("edited")]
    assert all(f.best_score[i] == 1.0 and line in flagged for i, line in exact)
    found_edited = sum(f.best_score[i] >= 0.5 and line in flagged for i, line in edited)
    assert found_edited >= 0.9 * N_EDITED, found_edited
    # nothing else: the untouched train rows flag only the one known near-duplicate template
    assert flagged - set(lines.values()) <= set(_shifted([1314, 5162], lines))
    # one worker, one chunk: the same numbers
    monkeypatch.setattr(decontam_io, "CHUNK_BYTES", 2 << 20)
    single = decontaminate([path], index=index, workers=1).files[0]
    np.testing.assert_array_equal(single.best_score, f.best_score)
    assert single.contaminated_rows() == flagged


def _shifted(train_rows: list[int], lines: dict) -> list[int]:
    """Line numbers of original train rows after the planted lines were inserted."""
    planted_lines = sorted(lines.values())
    out = []
    for r in train_rows:
        line = r
        for p in planted_lines:
            if p <= line:
                line += 1
        out.append(line)
    return out


def test_untouched_gsm8k_train_has_near_zero_overlap(index, data_dir):
    report = decontaminate([data_dir / "gsm8k/train.jsonl"], index=index, workers=1)
    summary = report.summary(report.files[0])[0]
    # recorded: 1 of 1,319 test questions (0.08%), id 602 "A plane travels 1200 miles in 3 hours. At the
    # same rate, how many additional hours ...", a template shared with train rows 1314 and 5162
    assert (summary["contaminated"], summary["train_rows_matched"]) == (1, 2)
    pair = report.pairs(report.files[0], 0)[0]
    assert pair["instance_id"] == "602" and pair["train_row"] == 1314 and pair["other_train_rows"] == [5162]
    assert "how many additional hours would it take to travel an additional" in pair["overlap"]


def _write_formats(rows: list[dict], folder: Path) -> dict[str, Path]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    paths = {fmt: folder / f"train.{fmt}" for fmt in ("jsonl", "json", "csv", "parquet")}
    paths["jsonl"].write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    paths["json"].write_text(json.dumps(rows, indent=2), encoding="utf-8")
    with paths["csv"].open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["question", "answer"])
        writer.writeheader()
        writer.writerows(rows)
    pq.write_table(pa.Table.from_pylist(rows), paths["parquet"], row_group_size=700)
    return paths


def test_every_format_gives_the_same_rows_and_clean_copies(index, planted, tmp_path, monkeypatch):
    _, rows, lines = planted
    sample = [{"question": r["question"], "answer": r["answer"]} for r in rows[:2500]]
    expected_rows = {line for line in lines.values() if line < 2500}
    paths = _write_formats(sample, tmp_path)
    monkeypatch.setattr(decontam_io, "CHUNK_ROWS", 600)
    out = tmp_path / "out"
    report = decontaminate(list(paths.values()), index=index, workers=2, output_dir=out, clean=True)
    found = [f.contaminated_rows() for f in report.files]
    assert all(x == found[0] for x in found), found
    assert expected_rows <= found[0]
    for f in report.files:
        clean = Path(f.clean_file)
        assert clean.name == f"train.clean{Path(f.path).suffix}"
        fmt = decontam_io.file_format(clean)
        spec = detect_field(decontam_io.first_row(clean, fmt), clean, "question", False)
        assert sum(c.nrows for c in decontam_io.iter_chunks(clean, fmt, spec)) == len(sample) - len(found[0])
    assert json.loads((out / "decontamination.json").read_text())["files"][3]["format"] == "parquet"


def test_fields_of_the_real_training_files(data_dir):
    def spec(rel):
        path = data_dir / rel
        return detect_field(decontam_io.first_row(path, decontam_io.file_format(path)), path, "auto", False)

    assert spec("gsm8k/train.jsonl").describe() == "question, auto-detected"
    assert spec("math_train/train.jsonl").path == ("problem",)
    assert spec("codealpaca/code_alpaca_2k.json").kind == "alpaca"
    seed = spec("alpaca_seed_tasks/seed_tasks.jsonl")
    first = decontam_io.first_row(data_dir / "alpaca_seed_tasks/seed_tasks.jsonl", "jsonl")
    assert seed.kind == "alpaca" and row_segments(first, seed)[0] == first["instruction"]
    hh = spec("hh_rlhf/harmless-base/test.jsonl")
    assert (hh.kind, hh.path) == ("dialogue", ("chosen",))
    row = decontam_io.first_row(data_dir / "hh_rlhf/harmless-base/test.jsonl", "jsonl")
    turns = human_turns(row["chosen"])
    assert turns and all("Assistant:" not in t for t in turns) and turns == human_turns(row["rejected"])


def test_messages_use_user_turns_unless_all_turns(index, gsm8k, tmp_path):
    _, test = gsm8k
    path = tmp_path / "chat.jsonl"
    rows = [{"messages": [{"role": "user", "content": "Solve this."},
                          {"role": "assistant", "content": test[i]["question"]}]} for i in range(30)]
    rows += [{"messages": [{"role": "system", "content": "Be brief."},
                           {"role": "user", "content": test[100]["question"]}]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    users = decontaminate([path], index=index, workers=1).files[0]
    assert users.contaminated_rows() == {30} and users.field == "messages (user turns), auto-detected"
    every = decontaminate([path], index=index, workers=1, all_turns=True).files[0]
    assert every.contaminated_rows() == set(range(31))


def test_short_prompt_is_one_ngram():
    index = EvalIndex.from_instances({"t": [("a", "Who are you?"), ("b", "What is the boiling point of water at sea "
                                                                   "level in degrees?")]}, trim_template=False)
    with Scanner(index, workers=1) as scanner:
        res = scanner.scan_texts(["So, who are you, then?", "who is you"])
    assert res.best_score.tolist() == [1.0, 0.0] and res.contaminated_rows() == {0}


def test_cli_table_report_and_clean(planted, tmp_path):
    path, rows, lines = planted
    out = tmp_path / "out"
    done = run_cli("decontaminate", str(path), "--tasks", "gsm8k", "-o", str(out), "--write-clean", "-j", "2")
    assert done.returncode == 0, done.stderr
    assert "field question, auto-detected" in done.stderr
    line = next(ln for ln in done.stdout.splitlines() if ln.split()[:2] == ["train_planted.jsonl", "gsm8k"])
    count = int(line.split()[3])
    assert count >= N_EXACT + 0.9 * N_EDITED
    report = json.loads((out / "decontamination.json").read_text())
    pairs = report["files"][0]["tasks"][0]["pairs"]
    assert len(pairs) == count and all(p["overlap"] for p in pairs)
    clean = (out / "train_planted.clean.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(clean) == len(rows) - report["files"][0]["tasks"][0]["train_rows_matched"]
    kept = {json.loads(x)["question"] for x in clean}
    assert not any(rows[line]["question"] in kept for k, line in lines.items() if k.startswith("exact"))


@pytest.mark.parametrize("problem", ["missing", "bad_row", "unknown_field"])
def test_bad_input_is_one_line_exit_2_and_no_clean_file(problem, planted, tmp_path):
    path, _, _ = planted
    args = [str(path)]
    if problem == "missing":
        args.append(str(tmp_path / "nope.jsonl"))
    elif problem == "bad_row":
        bad = tmp_path / "bad.jsonl"
        bad.write_bytes(path.read_bytes() + b'{"question": "cut off\n')
        args.append(str(bad))
    else:
        args += ["--field", "instruction"]
    out = tmp_path / "out"
    done = run_cli("decontaminate", *args, "--tasks", "gsm8k", "-o", str(out), "--write-clean", "--no-progress")
    assert done.returncode == 2, done.stderr
    # progress notes may come first; the error is one line, the last, without a traceback
    err = [ln for ln in done.stderr.strip().splitlines() if "error" in ln.lower() or "Traceback" in ln]
    assert len(err) == 1 and done.stderr.strip().splitlines()[-1] == err[0], done.stderr
    assert err[0].startswith("tulu-eval: error: ")
    assert {"missing": "no such training file", "bad_row": f"bad.jsonl:{len(planted[1]) + 1}: malformed JSONL row",
            "unknown_field": "unknown field 'instruction'"}[problem] in err[0]
    assert not out.exists() or not any(out.iterdir())


def test_library_rejects_bad_settings(index):
    with pytest.raises(UserError, match="threshold"):
        Scanner(index, threshold=0)
    with pytest.raises(UserError, match="no training file"):
        decontaminate([], index=index)

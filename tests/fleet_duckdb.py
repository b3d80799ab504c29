#!/usr/bin/env python3
"""The fleet report and its Parquet export, checked with DuckDB.

Usage: fleet_duckdb.py BIN LOG DIR

Makes a fleet of BOARDS boards from one real bench log LOG (each copy with its own hostname,
its models' clean median latencies scaled by up to +1.4%, one board 1.8x slower on the
`powersave` governor), runs `BIN analyze ... --out DIR/report --export parquet` (BIN built with
`--features parquet`), then reads ops.parquet, models.parquet and runs.parquet with DuckDB and
checks: row counts equal the logs' op, model and header records; the median across boards per
model, recomputed by DuckDB from models.parquet, equals fleet_models.csv and the ms figure
report.md prints; the planted board is the one outlier; ops.parquet's op time per model equals
each model record's sum of op medians.
"""

import csv
import json
import subprocess
import sys
from pathlib import Path

import duckdb

BOARDS = 8
SLOW = 5
SLOW_FACTOR = 1.8


def make_fleet(log: Path, out: Path) -> tuple[list[Path], dict[str, int]]:
    lines = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
    counts = {t: sum(1 for r in lines if r.get("type") == t) for t in ("header", "model", "op")}
    paths = []
    for b in range(BOARDS):
        factor = SLOW_FACTOR if b == SLOW else 1.0 + 0.002 * b
        p = out / f"board{b}.jsonl"
        with p.open("w") as f:
            for r in lines:
                r = json.loads(json.dumps(r))
                if r["type"] == "header":
                    r["context"]["hostname"] = f"fleet-board-{b}"
                    if b == SLOW:
                        # A VM has no cpufreq: the planted board gets one CPU's entry.
                        freq = r["context"]["cpufreq"] or [
                            {"cpu": 0, "governor": None, "cur_khz": None, "min_khz": None, "max_khz": None}
                        ]
                        for c in freq:
                            c["governor"] = "powersave"
                        r["context"]["cpufreq"] = freq
                elif r["type"] == "model":
                    lat = r["latency_ns"]
                    for k in ("min", "median", "p90", "p99", "max"):
                        lat[k] = int(lat[k] * factor)
                f.write(json.dumps(r) + "\n")
        paths.append(p)
    return paths, {k: v * BOARDS for k, v in counts.items()}


def main() -> None:
    binary, log, work = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    work.mkdir(parents=True, exist_ok=True)
    paths, expected = make_fleet(log, work)
    report = work / "report"
    subprocess.run(
        [str(binary), "-q", "analyze", *map(str, paths), "--out", str(report), "--export", "parquet"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    con = duckdb.connect()
    q = lambda sql: con.execute(sql).fetchall()
    ops, models, runs = (str(report / f"{t}.parquet") for t in ("ops", "models", "runs"))

    got = {
        "op": q(f"SELECT count(*) FROM '{ops}'")[0][0],
        "model": q(f"SELECT count(*) FROM '{models}'")[0][0],
        "header": q(f"SELECT count(*) FROM '{runs}'")[0][0],
    }
    assert got == expected, f"row counts {got}, the logs have {expected}"
    print(f"row counts: {got['op']} ops, {got['model']} models, {got['header']} runs = the logs' records")

    # The report's number: median across boards of each model's clean median latency.
    medians = dict(
        ((m, c), v)
        for m, c, v in q(
            f"SELECT model, class, median(latency_median_ns) FROM '{models}' GROUP BY model, class"
        )
    )
    with (report / "fleet_models.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(medians), (rows, medians)
    md = (report / "report.md").read_text()
    fleet_md = md[md.index("## 9. Fleet"):]
    for row in rows:
        duck = medians[(row["model"], row["class"])]
        assert abs(float(row["median_ns"]) - duck) <= 1e-6 * duck, (row, duck)
        assert f"| {duck / 1e6:.3f} |" in fleet_md, f"{row['model']}: {duck / 1e6:.3f} ms not in report.md"
    print(f"median across {BOARDS} boards, DuckDB = fleet_models.csv = report.md, for {len(rows)} model(s)")

    outliers = q(f"SELECT DISTINCT board FROM '{models}' WHERE fleet_outlier")
    slow_board = q(f"SELECT board FROM '{runs}' WHERE hostname = 'fleet-board-{SLOW}'")[0][0]
    assert outliers == [(slow_board,)], f"outliers {outliers}, planted {slow_board}"
    gov = q(f"SELECT DISTINCT governor FROM '{models}' WHERE fleet_outlier")
    assert gov == [("powersave",)], gov
    print(f"the planted board {slow_board} (powersave) is the one outlier")

    mismatch = q(
        f"""SELECT m.model, m.board, m.sum_op_wall_median_ns, sum(o.wall_median_ns)
            FROM '{models}' m JOIN '{ops}' o USING (model_id)
            GROUP BY ALL HAVING sum(o.wall_median_ns) <> m.sum_op_wall_median_ns"""
    )
    assert not mismatch, mismatch[:5]
    print("ops.parquet joined to models.parquet: each model's op medians sum to its record's")


if __name__ == "__main__":
    main()

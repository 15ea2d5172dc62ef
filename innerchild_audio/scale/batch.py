"""One script for many listeners: a row per output, each with its own variables.

    run_batch(Path("letter.yaml"), Path("class.csv"), RenderOptions(), RunSettings())

ROWS is CSV with a header row, or JSON Lines (an object per line). Each column
is a script variable, except `length`, `voice` (ENGINE or ENGINE:MODEL),
`background` and `output` (the session's name; default the script's slug and a
slug of the row). Every row is checked before anything renders; the rows then
render as one graph (see `graph`), and a rerun skips the up-to-date ones.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

from innerchild_audio.errors import InnerChildError, ScriptError, UsageError
from innerchild_audio.export import manifest as manifests
from innerchild_audio.inputs import Prepared, is_unchanged, parse_voice, prepare
from innerchild_audio.model import GENERATED_SOUNDS
from innerchild_audio.options import RenderOptions, RunSettings
from innerchild_audio.render import RenderResult
from innerchild_audio.scale.graph import GraphStats, SessionOutcome, SessionTask, run_tasks
from innerchild_audio.script import load_script
from innerchild_audio.script.loader import slug_from_name
from innerchild_audio.units import parse_duration_ms

RESERVED: Final = ("length", "voice", "background", "output")
JSON_SUFFIXES: Final = (".jsonl", ".ndjson", ".json")
MAX_SLUG: Final = 80


class RowError(UsageError):
    """A row that cannot render: the file, its row (line) number and the column at fault."""

    def __init__(self, rows: Path, line: int, column: str | None, message: str):
        self.line, self.column = line, column
        self.rows, self.message = rows, message
        where = f"{rows}:{line}: " + (f"column {column}: " if column else "")
        super().__init__(where + message)

    def __reduce__(self):
        return type(self), (self.rows, self.line, self.column, self.message)


@dataclass(frozen=True)
class BatchRow:
    line: int  # where the row is in its file (1 is a CSV's header)
    values: dict[str, str]
    output: str
    prepared: Prepared  # its script's slug is `output`


@dataclass(frozen=True)
class RowOutcome:
    row: BatchRow
    status: str  # rendered | unchanged | failed
    result: RenderResult | None = None
    error: InnerChildError | None = None

    def summary(self) -> str:
        if self.result is not None:
            return self.result.summary()
        if self.error is not None:
            return f"row {self.row.line} ({self.row.output}): {self.error.cli_message()}"
        return f"unchanged: {self.row.output}"


@dataclass
class BatchResult:
    outcomes: list[RowOutcome] = field(default_factory=list)
    summary_paths: tuple[Path, ...] = ()
    stats: GraphStats | None = None

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def exit_status(self) -> int:
        return 1 if self.count("failed") else 0


def _cell(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(f"must be text or a number, got {json.dumps(value)[:40]}")
    text = str(value).strip()
    return text or None


def _csv_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        return
    names = [h.strip() for h in header]
    for index, name in enumerate(names):
        if not name:
            raise RowError(path, 1, None, f"column {index + 1} of the header has no name")
        if names.index(name) != index:
            raise RowError(path, 1, name, "named twice in the header")
    start = reader.line_num + 1
    for cells in reader:
        if any(c.strip() for c in cells):
            if len(cells) > len(names):
                raise RowError(path, start, None, f"{len(cells)} values for {len(names)} "
                                                  "columns; quote values that hold a comma")
            yield start, dict(zip(names, cells, strict=False))
        start = reader.line_num + 1


def _json_rows(path: Path, text: str) -> Iterator[tuple[int, dict[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise RowError(path, number, None, f"not JSON ({error.msg}); write one object "
                                               'per line, e.g. {"name": "Sam"}') from None
        if not isinstance(row, dict):
            raise RowError(path, number, None, 'a row is a JSON object, e.g. {"name": "Sam"}')
        yield number, row


def read_rows(path: Path) -> list[tuple[int, dict[str, str]]]:
    """(line, column -> value) for each row; empty values are left out."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read the rows file {path}: {error}") from None
    is_json = (path.suffix.lower() in JSON_SUFFIXES
               or (path.suffix.lower() != ".csv" and text.lstrip().startswith("{")))
    rows = []
    for line, raw in (_json_rows if is_json else _csv_rows)(path, text):
        values: dict[str, str] = {}
        for column, value in raw.items():
            try:
                cell = _cell(value)
            except ValueError as error:
                raise RowError(path, line, str(column), str(error)) from None
            if cell is not None:
                values[str(column).strip()] = cell
        rows.append((line, values))
    if not rows:
        raise UsageError(f"{path} has no rows; give a header row and a row per listener"
                         if not is_json else f"{path} has no rows; give a JSON object a line")
    return rows


def _background(value: str, rows: Path) -> str:
    """A generated sound's name, "none", or a file (relative to the rows file's folder)."""
    if value.lower() == "none" or value in GENERATED_SOUNDS:
        return value
    path = Path(value).expanduser()
    return str(path if path.is_absolute() else (rows.parent / path))


def _row_slug(values: dict[str, str]) -> str:
    parts = [v for k, v in values.items() if k != "output"]
    return slug_from_name("-".join(parts))[:MAX_SLUG].strip("-") or "row"


def check_rows(script_path: Path, rows_path: Path, base: RenderOptions) -> list[BatchRow]:
    """Every row as it will render, or a RowError naming the first bad row and column."""
    script = load_script(script_path, vars=dict(base.vars))
    known = set(script.vars)
    checked: list[BatchRow] = []
    outputs: dict[str, int] = {}
    for line, values in read_rows(rows_path):
        variables = dict(base.vars)
        for column, value in values.items():
            if column in RESERVED:
                continue
            if column not in known:
                listing = ", ".join(sorted(known)) or "none"
                raise RowError(rows_path, line, column,
                               f"not a variable of {script_path.name} (its variables: "
                               f"{listing}; reserved columns: {', '.join(RESERVED)})")
            variables[column] = value
        options = replace(base, vars=variables)
        if "length" in values:
            try:
                options = replace(options, length_ms=parse_duration_ms(values["length"]))
            except (ValueError, UsageError) as error:
                raise RowError(rows_path, line, "length", str(error)) from None
        if "voice" in values:
            try:
                parse_voice(values["voice"])
            except UsageError as error:
                raise RowError(rows_path, line, "voice", error.detail) from None
            options = replace(options, voice=values["voice"])
        if "background" in values:
            options = replace(options, background=_background(values["background"], rows_path))
        output = values.get("output") or f"{script.slug}-{_row_slug(values)}"
        if slug_from_name(output) != output:
            raise RowError(rows_path, line, "output",
                           f"{output!r} is not a name for files; use letters, digits and "
                           f"dashes, e.g. {slug_from_name(output)!r}")
        if output in outputs:
            raise RowError(rows_path, line, "output" if "output" in values else None,
                           f"the output {output!r} is also row {outputs[output]}'s; give each "
                           "row its own 'output'")
        outputs[output] = line
        try:
            prepared = prepare(script_path, options)
        except ScriptError as error:
            raise RowError(rows_path, line, None, f"the script does not load with this row:\n"
                                                  f"{error}") from None
        except UsageError as error:
            raise RowError(rows_path, line, error.option, error.detail) from None
        prepared = replace(prepared, script=replace(prepared.script, slug=output))
        checked.append(BatchRow(line, values, output, prepared))
    return checked


def _summary_row(outcome: RowOutcome, out_dir: Path) -> dict[str, Any]:
    row = outcome.row
    entry: dict[str, Any] = {"row": row.line, "output": row.output, "status": outcome.status,
                             "duration_s": None, "loudness_lufs": None, "true_peak_dbtp": None,
                             "files": [], "error": ""}
    if outcome.result is not None:
        result = outcome.result
        entry.update(duration_s=round(result.duration_ms / 1000, 3),
                     loudness_lufs=round(result.loudness_lufs, 2),
                     true_peak_dbtp=round(result.true_peak_dbtp, 2),
                     files=[p.name for p in result.files])
    elif outcome.status == "unchanged":
        manifest = manifests.read_manifest(out_dir / manifests.manifest_name(row.output)) or {}
        audio = manifest.get("audio", {})
        entry.update(duration_s=audio.get("duration_s"), loudness_lufs=audio.get("loudness_lufs"),
                     true_peak_dbtp=audio.get("true_peak_dbtp"),
                     files=[*manifest.get("files", {}).values(),
                            manifests.manifest_name(row.output)])
        entry["files"] = [f for f in entry["files"] if isinstance(f, str)]
    if outcome.error is not None:
        entry["error"] = outcome.error.cli_message()
    entry["values"] = dict(row.values)
    return entry


def write_summary(outcomes: list[RowOutcome], out_dir: Path, stem: str) -> tuple[Path, Path]:
    """`{stem}.csv` and `{stem}.json` in `out_dir`: a line per row, in the rows' order."""
    from innerchild_audio.atomic import atomic_write_text

    entries = [_summary_row(o, out_dir) for o in sorted(outcomes, key=lambda o: o.row.line)]
    columns = ["row", "output", "status", "duration_s", "loudness_lufs", "true_peak_dbtp",
               "files", "error"]
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for entry in entries:
        writer.writerow({**entry, "files": " ".join(entry["files"])})
    csv_path, json_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.json"
    atomic_write_text(csv_path, text.getvalue())
    atomic_write_text(json_path, json.dumps({"rows": entries}, ensure_ascii=False, indent=2)
                      + "\n")
    return csv_path, json_path


def run_batch(
    script_path: Path | str,
    rows_path: Path | str,
    options: RenderOptions | None = None,
    settings: RunSettings | None = None,
    *,
    force: bool = False,
    summary_stem: str | None = None,
    on_outcome: Callable[[RowOutcome], None] | None = None,
) -> BatchResult:
    """Render the script once per row into `settings.out_dir`, then write the summary.

    Raises RowError (nothing rendered) when a row is bad; a row that fails while
    rendering is recorded in its outcome and the others go on.
    """
    script_path, rows_path = Path(script_path), Path(rows_path)
    options = options or RenderOptions()
    settings = settings or RunSettings()
    rows = check_rows(script_path, rows_path, options)
    result = BatchResult()
    by_output = {row.output: row for row in rows}

    def record(outcome: RowOutcome) -> None:
        result.outcomes.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)

    tasks = []
    for row in rows:
        if not force and is_unchanged(row.prepared, settings.out_dir):
            record(RowOutcome(row, "unchanged"))
        else:
            tasks.append(SessionTask(script_path, row.prepared))

    def done(task: SessionTask, outcome: SessionOutcome) -> None:
        row = by_output[task.prepared.script.slug]
        if isinstance(outcome, RenderResult):
            record(RowOutcome(row, "rendered", result=outcome))
        else:
            record(RowOutcome(row, "failed", error=outcome))

    slug = load_script(script_path, vars=dict(options.vars)).slug
    result.stats = run_tasks(tasks, settings, done, label=f"{slug} batch")
    stem = summary_stem or f"{slug}-batch"
    result.summary_paths = write_summary(result.outcomes, settings.out_dir, stem)
    return result


__all__ = ["BatchResult", "BatchRow", "RESERVED", "RowError", "RowOutcome", "check_rows",
           "read_rows", "run_batch", "write_summary"]

"""The shared JSONL reader: every bad line named with its number, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from forge_export.jsonl import parse_json_lines, read_json_lines

CONTENT = (
    b'\xef\xbb\xbf{"a": 1}\n'  # 1: a UTF-8 byte order mark, then a good row
    b"\n"  # 2: blank, skipped
    b"{oops\n"  # 3
    b"[1, 2]\n"  # 4
    b"caf\xe9\n"  # 5: Latin-1
    + b"[" * 50_000
    + b"]" * 50_000
    + b"\n"  # 6: deeper than Python's parser goes
    b'  {"b": "\xc3\xa9"}  \r\n'  # 7: CRLF and spaces around a good row
)


@pytest.mark.parametrize("how", ["path", "bytes", "text"])
def test_each_problem_is_named_on_its_line(tmp_path: Path, how: str) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(CONTENT)
    if how == "path":
        lines = list(read_json_lines(path))
        name = str(path)
    elif how == "bytes":
        lines = list(parse_json_lines(CONTENT.split(b"\n"), "in.jsonl"))
        name = "in.jsonl"
    else:  # already decoded text (line 5 is then valid text, just not JSON)
        text = CONTENT.decode("utf-8", "replace")
        lines = list(parse_json_lines(text.split("\n"), "in.jsonl"))
        name = "in.jsonl"
    got = {line.number: (line.data, line.error) for line in lines}
    assert sorted(got) == [1, 3, 4, 5, 6, 7]
    assert all(line.where == f"{name}:{line.number}" for line in lines)
    assert got[1] == ({"a": 1}, None)
    assert got[7] == ({"b": "é"}, None)
    assert got[3][0] is None and got[3][1].startswith("not valid JSON (")  # type: ignore[union-attr]
    assert got[4] == (None, "expected a JSON object, got list")
    assert got[6] == (None, "JSON nested too deeply; flatten the row")
    if how == "text":
        assert got[5][1].startswith("not valid JSON")  # type: ignore[union-attr]
    else:
        assert got[5] == (
            None,
            "not valid UTF-8 (byte 0xe9 at column 4); save the file as UTF-8",
        )


def test_what_each_line_should_be_is_in_the_message() -> None:
    [line] = parse_json_lines([b'"just a string"'], "in.jsonl", what="a JSON object (a scenario)")
    assert line.error == "expected a JSON object (a scenario), got str"


def test_a_missing_file_is_an_oserror(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_json_lines(tmp_path / "missing.jsonl"))

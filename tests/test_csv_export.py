"""CSV exports neutralise formulas, so a spreadsheet shows customer text as text."""

from __future__ import annotations

import csv
import io

import pytest

from caseowner.csv_export import csv_cell, csv_response


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (
            '=HYPERLINK("http://evil.example","Click")',
            '\'=HYPERLINK("http://evil.example","Click")',
        ),
        ("+44 20 7946 0101", "'+44 20 7946 0101"),
        ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1+1", "'\t=1+1"),
        ("-3", "-3"),
        ("+1.5", "+1.5"),
        ("Ada Okafor", "Ada Okafor"),
        (None, ""),
        (42, "42"),
    ],
)
def test_a_cell_that_a_spreadsheet_would_run_is_written_as_text(value, written):
    assert csv_cell(value) == written


def test_a_response_streams_every_row_neutralised():
    response = csv_response([["name", "score"], ["=1+1", 7]], filename="x.csv")
    body = b"".join(response.streaming_content).decode()
    assert list(csv.reader(io.StringIO(body))) == [["name", "score"], ["'=1+1", "7"]]
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"

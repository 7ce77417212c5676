"""A table view as a file: the columns the table shows, written as CSV or as an Excel workbook.

Both writers take the rows in batches and are meant to run on a worker thread, never on the
event loop: `CsvRows` turns each batch into bytes to send at once; `XlsxFile` writes the
workbook with XlsxWriter in constant-memory mode (one row held at a time) into a file, sent
once it is closed. In the workbook numbers are numbers, dates are dates, and totals carry a
Rupiah number format; in the CSV (UTF-8 with a byte-order mark, so Excel reads it as UTF-8)
dates are ISO (`2026-12-02`) and amounts plain numbers (`1250000.00`), which any spreadsheet
reads whatever its language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import xlsxwriter

from purchasing.domain.statuses import Kind
from purchasing.i18n import _
from purchasing.services.listing import Row

BOM = "\ufeff"
RUPIAH_FORMAT = '"Rp" #,##0.00'
HEADS_FORMAT = "#,##0"
DATE_FORMAT = "dd/mm/yyyy"


@dataclass(frozen=True)
class Column:
    title: str
    value: Callable[[Row], Any]
    kind: str = "text"  # text, number, date, rupiah
    width: int = 16


def columns(kind: Kind) -> list[Column]:
    """The table's columns for `kind`, in its order (the status control aside), titled in the
    current language (a writer is made where the request's language is in use)."""
    shown = [
        Column(_("No"), lambda r: r.number, "number", 7),
        Column(_("Date"), lambda r: r.purchase_date, "date", 12),
        Column(_("Invoice"), lambda r: r.invoice_number, width=22),
        Column(_("Supplier"), lambda r: r.supplier, width=30),
        Column(_("Farm"), lambda r: r.farm, width=24),
    ]
    if kind is not Kind.SUPPLY:
        shown.append(Column(_("Coop"), lambda r: r.coop, width=18))
    if kind is Kind.LIVESTOCK:
        shown.append(Column(_("Heads"), lambda r: r.head_count, "number", 10))
        shown.append(Column(_("Price per head"), lambda r: r.price_per_head, "rupiah", 16))
    shown.append(Column(_("Total"), lambda r: r.grand_total, "rupiah", 18))
    shown.append(Column(_("Status"), lambda r: r.status.label, width=14))
    return shown


def file_name(kind: Kind, today: date, extension: str) -> str:
    return f"{kind.value}-purchases-{today.isoformat()}.{extension}"


class CsvRows:
    """CSV bytes, batch by batch; the first batch starts with the BOM and the header."""

    def __init__(self, kind: Kind) -> None:
        self.columns = columns(kind)

    def header(self) -> bytes:
        return self._encode([[c.title for c in self.columns]], BOM)

    def rows(self, batch: Sequence[Row]) -> bytes:
        return self._encode([[_csv_value(c.value(row)) for c in self.columns] for row in batch])

    def write(self, out: BinaryIO, batch: Sequence[Row]) -> None:
        out.write(self.rows(batch))

    @staticmethod
    def _encode(lines: list[list[Any]], prefix: str = "") -> bytes:
        buffer = io.StringIO()
        buffer.write(prefix)
        csv.writer(buffer, lineterminator="\r\n").writerows(lines)
        return buffer.getvalue().encode("utf-8")


# A cell starting with one of these is a formula to a spreadsheet: a supplier named
# "=HYPERLINK(...)" must stay text (OWASP's CSV injection), so it gets a leading apostrophe.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class XlsxFile:
    """One sheet at `path`, written a batch at a time in constant memory; `close` finishes it."""

    def __init__(self, path: Path, kind: Kind, title: str) -> None:
        self.columns = columns(kind)
        self.book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self.sheet = self.book.add_worksheet(title[:31])
        bold = self.book.add_format({"bold": True})
        self.formats = {
            "date": self.book.add_format({"num_format": DATE_FORMAT}),
            "rupiah": self.book.add_format({"num_format": RUPIAH_FORMAT}),
            "number": self.book.add_format({"num_format": HEADS_FORMAT}),
        }
        for n, column in enumerate(self.columns):
            self.sheet.set_column(n, n, column.width)
            self.sheet.write_string(0, n, column.title, bold)
        self.sheet.freeze_panes(1, 0)
        self.next_row = 1

    def rows(self, batch: Sequence[Row]) -> None:
        for row in batch:
            for n, column in enumerate(self.columns):
                self._write(n, column, column.value(row))
            self.next_row += 1

    def _write(self, n: int, column: Column, value: Any) -> None:
        at = self.next_row
        if column.kind == "date":
            self.sheet.write_datetime(at, n, value, self.formats["date"])
        elif column.kind in ("rupiah", "number"):
            self.sheet.write_number(at, n, float(value), self.formats[column.kind])
        else:
            self.sheet.write_string(at, n, str(value))

    def close(self) -> None:
        if self.next_row > 1:
            self.sheet.autofilter(0, 0, self.next_row - 1, len(self.columns) - 1)
        self.book.close()

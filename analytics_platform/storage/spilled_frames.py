"""Frames written to Parquet as they are made and read back lazily, so a step whose output is
larger than its memory (a chain's address features: 3 windows of 10M rows a day) holds one
part at a time; the IO managers write a ``LazyFrame`` day by day."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import polars as pl


class SpilledFrames:
    """Parts keyed by a sortable key (such as ``(day, window)``), one Parquet file each in
    ``folder``; :meth:`scan` reads them in key order, whatever order they were put in, so the
    rows come out as a sorted concatenation of the parts would give them."""

    def __init__(self, folder: Path, schema: pl.Schema) -> None:
        self._folder, self._schema = folder, schema
        self._files: dict[Hashable, Path] = {}

    def put(self, key: Hashable, frame: pl.DataFrame) -> None:
        """Writes ``frame`` as the part ``key`` (once per key)."""
        if key in self._files:
            raise ValueError(f"spilled part {key!r}: already written")
        if frame.schema != self._schema:
            raise ValueError(f"spilled part {key!r}: schema {frame.schema} is not {self._schema}")
        path = self._folder / f"part-{len(self._files):06d}.parquet"
        frame.write_parquet(path)
        self._files[key] = path

    def ordered_keys(self) -> list:
        """The parts' keys, sorted."""
        return sorted(self._files)

    def part(self, key: Hashable) -> pl.DataFrame:
        """One part read back whole."""
        return pl.read_parquet(self._files[key])

    def scan(self) -> pl.LazyFrame:
        """Every part's rows in key order (a frame of the schema and no rows when none)."""
        if not self._files:
            return pl.LazyFrame(schema=self._schema)
        return pl.scan_parquet([self._files[key] for key in self.ordered_keys()])

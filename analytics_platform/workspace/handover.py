"""A case handed over from the app: the folder ``case export`` writes (alerts, patterns,
transfers, features, labels and verdicts as Parquet and CSV, the evidence pictures and the
self-contained report), zipped for download. One code path with the CLI: the same
``casework.export.export_case``."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from analytics_platform.casework import case_view
from analytics_platform.casework.export import export_case


def case_archive(lake_url: str, network: str, case_id: str) -> tuple[str, bytes]:
    """(file name, zip bytes) of the export of ``case_id``; ``LookupError`` when no such case
    is stored."""
    case_view.check_case_id(case_id, "case export")
    with tempfile.TemporaryDirectory(prefix="case-export-") as tmp:
        export = export_case(lake_url, network, case_id, Path(tmp) / "case")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(export.folder.rglob("*")):
                if path.is_file():
                    archive.write(path, Path(export.case_id) / path.relative_to(export.folder))
    return f"{export.case_id}.zip", buffer.getvalue()

"""A validated batch of reports, ready for a store: columns plus what is derived once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from greyzone.model.columns import ReportColumns, is_identity


@dataclass(frozen=True, slots=True)
class ReportBatch:
    """Validated reports (``cols``) with their ids, H3 cells and keyed reporter hashes."""

    cols: ReportColumns
    ids: list[bytes]  # 16-byte UUIDs
    cells: npt.NDArray[np.int64]  # (n, 3): CELL_RESOLUTIONS order
    reporter_hash: list[bytes | None]

    def __len__(self) -> int:
        return len(self.ids)

    @staticmethod
    def concat(a: ReportBatch, b: ReportBatch) -> ReportBatch:
        return ReportBatch(
            ReportColumns.concat(a.cols, b.cols),
            [*a.ids, *b.ids],
            np.concatenate([a.cells, b.cells]),
            [*a.reporter_hash, *b.reporter_hash],
        )

    def take(self, index: npt.NDArray[np.intp]) -> ReportBatch:
        if is_identity(index, len(self)):
            return self
        return ReportBatch(
            self.cols.take(index),
            [self.ids[i] for i in index],
            self.cells[index],
            [self.reporter_hash[i] for i in index],
        )

/** Valid mouse moves counted in one grid cell (from the page activity view). */
export interface MouseCellCount {
  readonly cellX: number;
  readonly cellY: number;
  readonly moves: number;
}

/** A page's mouse-move density: the grid's cells with moves. */
export interface MouseGrid {
  /** Cell size in document pixels (rule `mouseGridPx`): cell (x, y) covers [x*g, (x+1)*g) x [y*g, (y+1)*g). */
  readonly gridPx: number;
  readonly totalMoves: number;
  /** The most moves in one cell (the density scale's top). */
  readonly maxMoves: number;
  /** Cells with moves, by (cellY, cellX); `share` = moves / totalMoves. */
  readonly cells: (MouseCellCount & { readonly share: number })[];
}

/** The mouse-move grid of a page from per-cell counts (a cell listed twice is summed; empty cells dropped). */
export function mouseGrid(counts: readonly MouseCellCount[], gridPx: number): MouseGrid {
  const byCell = new Map<string, { cellX: number; cellY: number; moves: number }>();
  for (const c of counts) {
    const key = `${c.cellX},${c.cellY}`;
    const cell = byCell.get(key);
    if (cell) cell.moves += c.moves;
    else byCell.set(key, { cellX: c.cellX, cellY: c.cellY, moves: c.moves });
  }
  const rows = [...byCell.values()].filter((c) => c.moves > 0);
  rows.sort((a, b) => a.cellY - b.cellY || a.cellX - b.cellX);
  const totalMoves = rows.reduce((sum, c) => sum + c.moves, 0);
  const maxMoves = rows.reduce((max, c) => Math.max(max, c.moves), 0);
  return { gridPx, totalMoves, maxMoves, cells: rows.map((c) => ({ ...c, share: c.moves / totalMoves })) };
}

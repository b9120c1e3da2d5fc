import fs from 'node:fs';

/** What DuckDB's JSON profile says a query read. */
export interface ProfiledReads {
  readonly rowsScanned: number;
  readonly filesRead: number;
}

interface ProfileNode {
  readonly operator_type?: string;
  readonly operator_cardinality?: number;
  readonly extra_info?: Record<string, unknown>;
  readonly children?: readonly ProfileNode[];
}

/** Sums the table scans of a profile: rows they produced, Parquet files they opened. */
export function profiledReads(profile: ProfileNode): ProfiledReads {
  let rowsScanned = 0;
  let filesRead = 0;
  const walk = (node: ProfileNode) => {
    if (node.operator_type === 'TABLE_SCAN') {
      rowsScanned += node.operator_cardinality ?? 0;
      filesRead += Number(node.extra_info?.['Total Files Read'] ?? 0) || 0;
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(profile);
  return { rowsScanned, filesRead };
}

/** The profile DuckDB wrote for the last query (zeros when there is none). */
export function readProfile(file: string): ProfiledReads {
  try {
    return profiledReads(JSON.parse(fs.readFileSync(file, 'utf8')) as ProfileNode);
  } catch {
    return { rowsScanned: 0, filesRead: 0 };
  }
}

/** Removes the last profile: the next query's starts from nothing, and no query reads another's. */
export function clearProfile(file: string): void {
  fs.rmSync(file, { force: true });
}

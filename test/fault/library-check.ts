import { execFileSync } from 'node:child_process';
import { libraryPath } from '../../main/library/db.js';

/** Python's sqlite3 on the library of `home`: its integrity check and its number of datasets. */
export function pythonLibraryCheck(home: string): { integrity: string; datasets: number } {
  const python =
    'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nprint(c.execute("pragma integrity_check").fetchone()[0], c.execute("select count(*) from datasets").fetchone()[0])';
  const [integrity, datasets] = execFileSync('python3', ['-c', python, libraryPath(home)], { encoding: 'utf8' })
    .trim()
    .split(' ');
  return { integrity, datasets: Number(datasets) };
}

import * as fs from 'node:fs';
import * as path from 'node:path';
import { PATH_PYTHON } from '../core/run/launch';

/** The folder holding the shipped `rpo_trainer` package: `<extension or repo>/trainer`. */
export function trainerRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'trainer', 'rpo_trainer', '__init__.py'))) return path.join(dir, 'trainer');
    if (path.dirname(dir) === dir) throw new Error(`the rpo_trainer package was not found above ${from}`);
  }
}

/** `--python`, else $RPO_PYTHON, else python3 on the PATH (the CLI has no VS Code settings). */
export function cliPython(option: string | undefined): string {
  return option?.trim() || process.env.RPO_PYTHON?.trim() || PATH_PYTHON;
}

/**
 * The logger the pure core receives. The extension passes a LogOutputChannel (which has exactly
 * these methods); the CLI and tests pass a console-backed one. The core never imports vscode.
 */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

/** Prefixes every message with a component tag, e.g. `[labeling]`. */
export function tagged(logger: Logger, component: string): Logger {
  const p = `[${component}] `;
  return {
    trace: (m, ...a) => logger.trace(p + m, ...a),
    debug: (m, ...a) => logger.debug(p + m, ...a),
    info: (m, ...a) => logger.info(p + m, ...a),
    warn: (m, ...a) => logger.warn(p + m, ...a),
    error: (m, ...a) => logger.error(typeof m === 'string' ? p + m : m, ...a),
  };
}

/** A logger that writes to stderr (CLI) or nowhere (level 'silent'). */
export function stderrLogger(level: 'silent' | 'info' | 'debug' = 'info'): Logger {
  const rank = { silent: 0, info: 1, debug: 2 }[level];
  const write = (min: number, tag: string) => (m: string | Error, ...a: unknown[]) => {
    if (rank >= min) process.stderr.write(`${tag} ${m instanceof Error ? m.stack ?? m.message : m}${a.length ? ' ' + a.map(String).join(' ') : ''}\n`);
  };
  return { trace: write(3, 'trace'), debug: write(2, 'debug'), info: write(1, 'info'), warn: write(1, 'warn'), error: write(0.5, 'error') };
}

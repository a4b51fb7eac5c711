import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseEventLine, tooLongMessage } from '../core/run/events';
import { FINAL_STATUSES, initialRunState, applyEvent } from '../core/run/state';
import { EVENTS_FILE, EventFileFollower, settleLiveness } from '../node/run/store';
import { ProgressPrinter } from './progress';
import { CliError, type CliCommand } from './types';

export const tailCommand: CliCommand = {
  name: 'tail',
  summary: "follow a run's events and print its progress until it ends",
  help: `rpo tail RUN_DIR [--interval MS]

Prints a run's events from the beginning, then follows its events.jsonl until the run ends
(or its process is found gone). Exit status: 0 completed, 3 stopped, 1 failed.`,
  async run(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { interval: { type: 'string', default: '250' } } });
    if (positionals.length !== 1) throw new CliError('expected one run folder');
    const runDir = path.resolve(positionals[0]);
    const file = path.join(runDir, EVENTS_FILE);
    if (!fs.existsSync(file)) throw new CliError(`${runDir}: not a run folder (no ${EVENTS_FILE})`);
    const interval = Math.max(20, Number(values.interval) || 250);
    const state = initialRunState();
    state.runDir = runDir;
    const printer = new ProgressPrinter(process.stdout, 0);
    const malformed = (error: string) => {
      state.malformedLines++;
      process.stderr.write(`rpo tail: skipped a malformed line (${error})\n`);
    };
    const follower = new EventFileFollower(file, {
      line: (line) => {
        const parsed = parseEventLine(line);
        if (parsed.kind === 'malformed') malformed(parsed.error);
        else if (parsed.kind === 'event') {
          applyEvent(state, parsed.event);
          printer.onEvent(parsed.event, state);
        }
      },
      tooLong: (length) => malformed(tooLongMessage(length)),
    }, interval);
    follower.drain();
    await new Promise<void>((resolve) => {
      const check = () => {
        follower.drain();
        if (FINAL_STATUSES.has(state.status)) return resolve();
        const { live } = settleLiveness(runDir, state);
        if (!live && FINAL_STATUSES.has(state.status)) {
          printer.line(`failed: ${state.failure?.reason ?? ''}${state.failure?.stderrTail ? `\nlast stderr lines:\n${state.failure.stderrTail}` : ''}`);
          return resolve();
        }
        setTimeout(check, interval);
      };
      check();
    });
    follower.stop();
    return state.status === 'completed' ? 0 : state.status === 'stopped' ? 3 : 1;
  },
};

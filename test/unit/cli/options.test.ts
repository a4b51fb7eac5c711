// The CLI's whole-number options (--seed, --resamples, --threads of rpo agreement and rpo winrate).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, wholeNumberOption } from '../../../src/cli/types';

test('wholeNumberOption: absent gives the default, digits give their number', () => {
  assert.equal(wholeNumberOption('seed', undefined, 7), 7);
  assert.equal(wholeNumberOption('seed', '0', 7), 0);
  assert.equal(wholeNumberOption('resamples', '1000', 0), 1000);
  assert.equal(wholeNumberOption('seed', String(Number.MAX_SAFE_INTEGER), 0), Number.MAX_SAFE_INTEGER);
});

test('wholeNumberOption: anything else is a usage error naming the option and the value', () => {
  for (const bad of ['', '-1', '1.5', '1e3', ' 3', '0x10', 'ten', '9007199254740993']) {
    assert.throws(() => wholeNumberOption('resamples', bad, 0), (err: unknown) => {
      assert.ok(err instanceof CliError);
      assert.equal(err.exitCode, 2);
      assert.equal(err.message, `--resamples must be a whole number >= 0, got '${bad}'`);
      return true;
    }, bad);
  }
});

// The Python the tests run the trainer with, in one place for every layer (unit and integration
// tests import it from TypeScript, UI tests from ESM): $RPO_TEST_PYTHON, else the project venv
// that scripts/setup.sh records in .rpo-test/python. Integration test bundles run from
// .rpo-test/<run>/tests/, so the record is looked up from `from` upwards.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

/** Existing Python executables the tests may use, best first. */
exports.testPythons = function testPythons(from) {
  const found = [];
  if (process.env.RPO_TEST_PYTHON) found.push(process.env.RPO_TEST_PYTHON);
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const record = path.join(dir, '.rpo-test', 'python');
    if (fs.existsSync(record)) {
      const p = fs.readFileSync(record, 'utf8').trim();
      if (p) found.push(p);
      break;
    }
    if (path.dirname(dir) === dir) break;
  }
  return found.filter((p, i) => fs.existsSync(p) && found.indexOf(p) === i);
};

/** The first of testPythons(from), or undefined. */
exports.testPython = function testPython(from) {
  return exports.testPythons(from)[0];
};

/** testPython(from), or an error that says how to get one. */
exports.requireTestPython = function requireTestPython(from) {
  const p = exports.testPython(from);
  if (!p) throw new Error('no Python with the trainer requirements: run `bash scripts/setup.sh` (it records the project venv in .rpo-test/python) or set RPO_TEST_PYTHON');
  return p;
};

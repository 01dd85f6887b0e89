#!/usr/bin/env node
// Prints vitest's JSON reports (one per run, named by its label) as plain closing lines: how many tests ran, then
// each failed test or file with the first line of its error. Printed after the last run, so that the tail of a CI
// log says what failed even when a later run's output follows the failing one.
// Usage: test-summary.mjs LABEL=REPORT.json [LABEL=REPORT.json ...]
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const firstLine = (text) => (text ?? '').trim().split('\n', 1)[0].slice(0, 300);

for (const arg of process.argv.slice(2)) {
  const [label, file] = arg.split(/=(.*)/s, 2);
  if (!existsSync(file)) {
    console.log(`${label}: no report (the run did not finish)`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, 'utf8'));
  const skipped = report.numPendingTests + report.numTodoTests;
  console.log(`${label}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
  for (const suite of report.testResults) {
    const path = relative(process.cwd(), suite.name);
    const failed = suite.assertionResults.filter((test) => test.status === 'failed');
    for (const test of failed) console.log(`  FAILED ${path} > ${test.fullName}: ${firstLine(test.failureMessages[0])}`);
    if (suite.status === 'failed' && failed.length === 0) console.log(`  FAILED ${path}: ${firstLine(suite.message)}`);
  }
}

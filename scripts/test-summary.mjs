#!/usr/bin/env node
// Prints vitest's JSON report as one plain closing line ("tests: N passed, N failed, N skipped"), so a CI log
// says at a glance how many tests ran.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);

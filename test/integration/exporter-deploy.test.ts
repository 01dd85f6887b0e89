// The deploy/ artefacts: the alerting rules pass promtool (syntax and their own unit tests), the PrometheusRule
// carries exactly the plain rules file, every metric the rules use is one the exporter serves, and the manifests
// use the exporter's default port.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT } from '../../src/cli/exporter.js';
import { METRICS } from '../../src/model/metric-set.js';
import { packagePath } from '../../src/sources/exec.js';

const read = (p: string) => readFileSync(packagePath(p), 'utf8');
const promtool = (args: string[]) => spawnSync('promtool', args, { cwd: packagePath('deploy/prometheus'), encoding: 'utf8' });

describe('deploy/', () => {
  it('promtool checks the rules and runs their unit tests', () => {
    const check = promtool(['check', 'rules', 'ka-top-rules.yml']);
    expect(check.status, check.stdout + check.stderr).toBe(0);
    expect(check.stdout + check.stderr).toMatch(/SUCCESS: 10 rules found/);
    const test = promtool(['test', 'rules', 'ka-top-rules.test.yml']);
    expect(test.status, test.stdout + test.stderr).toBe(0);
  });

  it('the PrometheusRule holds the plain rules file, and the rules use served metrics only', () => {
    const plain = read('deploy/prometheus/ka-top-rules.yml');
    const groups = plain.slice(plain.indexOf('groups:'));
    const crd = read('deploy/kubernetes/prometheusrule.yaml');
    const spec = crd.slice(crd.indexOf('\nspec:\n') + '\nspec:\n'.length).split('\n').map((l) => l.replace(/^ {2}/, '')).join('\n');
    expect(spec).toBe(groups);
    const served = new Set(Object.values(METRICS).map((m) => m.name));
    const used = [...groups.matchAll(/\b(katop_[a-z_]+)\b(?!\*)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(4);
    for (const name of used) expect(served, name).toContain(name);
  });

  it('the manifests and the image use the default port', () => {
    for (const f of ['deploy/kubernetes/daemonset.yaml', 'deploy/kubernetes/service.yaml', 'deploy/Dockerfile']) {
      expect(read(f), f).toContain(String(DEFAULT_PORT));
    }
    expect(read('deploy/kubernetes/daemonset.yaml')).toMatch(/hostPID: true[\s\S]*hostNetwork: true/);
  });
});

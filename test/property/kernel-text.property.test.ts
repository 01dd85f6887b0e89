// Property tests of src/parse/kernel-text.ts (it never throws: what it cannot find is null). Generated inputs per
// run of this file (numRuns below):
//   kallsymsAddress: 20k printed symbol tables + 10k mutated real excerpts = 30k
//   kernelConfig: 20k printed configs + 10k mutated real ones (this kernel's /proc/config.gz) = 30k
//   parseBpftraceVersion: 15k printed + 15k mutated/random = 30k; versionAtLeast: 10k
//   total 100k inputs.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { kallsymsAddress, kernelConfig, parseBpftraceVersion } from '../../src/parse/kernel-text.js';
import { versionAtLeast } from '../../src/domain/version.js';
import { awkwardString, fixture, hugeNumber, mutated, randomText } from './arbitraries.js';

const KALLSYMS = fixture('tracing/kallsyms-excerpt.txt');
const VERSION = fixture('tracing/bpftrace-version-0.17.txt');
// The running kernel's config where it is exposed, else a few lines in its format.
const CONFIG = existsSync('/proc/config.gz')
  ? gunzipSync(readFileSync('/proc/config.gz')).toString('utf8').split('\n').slice(0, 400).join('\n')
  : '#\n# Automatically generated file; DO NOT EDIT.\n#\nCONFIG_HZ_1000=y\nCONFIG_HZ=1000\n# CONFIG_X is not set\nCONFIG_CC_VERSION_TEXT="gcc (Debian 12.2.0-14) 12.2.0"\n';

const LETTERS = [...'abcdefghijklmnopqrstuvwxyz_'];
const symbolBase = fc
  .tuple(fc.constantFrom(...LETTERS), fc.string({ unit: fc.constantFrom(...LETTERS, ...'0123456789'), maxLength: 12 }))
  .map(([a, b]) => a + b);
const symbol = fc.oneof(
  symbolBase,
  symbolBase.map((s) => `${s}.cold`),
  symbolBase.map((s) => `__pfx_${s}`),
  fc.constantFrom('tcp_keepalive_timer', 'tcp_keepalive_timer.cold', '__pfx_tcp_keepalive_timer', 'a.b*c', '(x)', '$^'),
);

describe('kallsymsAddress', () => {
  const entry = fc.record({
    address: fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }).map((a) => a.toString(16).padStart(16, '0')), fc.constant('0000000000000000')),
    type: fc.constantFrom('t', 'T', 'd', 'D', 'b', 'r', 'W'),
    name: symbol,
    module: fc.option(fc.constantFrom('[nf_tables]', '[bpf]', '[kvm_intel]')),
  });

  it('gives the first non-zero address printed for exactly that name, leading zeros dropped', () => {
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 10 }), fc.nat(), symbol, (entries, pick, other) => {
        const text = entries.map((e) => `${e.address} ${e.type} ${e.name}${e.module === null ? '' : `\t${e.module}`}`).join('\n');
        const name = entries.length > 0 && pick % 3 !== 0 ? entries[pick % entries.length]!.name : other;
        const hit = entries.find((e) => e.name === name && !/^0+$/.test(e.address));
        expect(kallsymsAddress(text, name)).toBe(hit ? BigInt(`0x${hit.address}`).toString(16) : null);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on a mutated real excerpt', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(KALLSYMS), randomText(60)), symbol, (text, name) => {
        const a = kallsymsAddress(text, name);
        if (a !== null) expect(text).toContain(a);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('kernelConfig', () => {
  const key = symbolBase.map((s) => `CONFIG_${s.toUpperCase()}`);
  const line = fc.oneof(
    fc.tuple(key, fc.oneof(fc.constantFrom('y', 'm', '1000', '0x1', ''), awkwardString(12).map((s) => `"${s.replace(/[\n"]/g, '')}"`)))
      .map(([k, v]) => ({ key: k, text: `${k}=${v}`, value: v.replace(/^"|"$/g, '') })),
    key.map((k) => ({ key: k, text: `# ${k} is not set`, value: 'n' })),
    fc.constantFrom('#', '# General setup', '').map((t) => ({ key: null, text: t, value: null })),
  );

  it('gives the value of the first line for that key: quotes dropped, n for "is not set", null when absent', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), fc.nat(), key, (lines, pick, other) => {
        const keys = lines.flatMap((l) => (l.key === null ? [] : [l.key]));
        const k = keys.length > 0 && pick % 3 !== 0 ? keys[pick % keys.length]! : other;
        // A longer key (CONFIG_HZ_1000 for CONFIG_HZ) must not match.
        const hit = lines.find((l) => l.key === k);
        expect(kernelConfig(lines.map((l) => l.text).join('\n'), k)).toBe(hit ? hit.value : null);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on a mutated real config', () => {
    fc.assert(
      fc.property(fc.oneof(mutated(CONFIG), randomText(60)), fc.oneof(key, fc.constantFrom('CONFIG_HZ', 'CONFIG_BPF'), awkwardString(8)), (text, k) => {
        const v = kernelConfig(text, k);
        if (v !== null) expect(typeof v).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('parseBpftraceVersion, versionAtLeast', () => {
  const part = fc.oneof(fc.nat(30), fc.nat(100_000));
  it('reads every `bpftrace vX.Y[.Z][-suffix]` form', () => {
    fc.assert(
      fc.property(part, part, fc.option(part), fc.constantFrom('', '-1ubuntu1', '-dirty', '\n'), fc.boolean(), (major, minor, patch, suffix, v) => {
        const text = `bpftrace ${v ? 'v' : ''}${major}.${minor}${patch === null ? '' : `.${patch}`}${suffix}`;
        expect(parseBpftraceVersion(text)).toEqual({ major, minor, patch: patch ?? 0 });
      }),
      { numRuns: 15_000 },
    );
  });

  it('never throws on mutated or random version text; a result is three numbers', () => {
    const text = fc.oneof(mutated(VERSION), randomText(30), hugeNumber.map((n) => `bpftrace v${n}.${n}`));
    fc.assert(
      fc.property(text, (t) => {
        const v = parseBpftraceVersion(t);
        if (v) for (const n of [v.major, v.minor, v.patch]) expect(n >= 0).toBe(true);
      }),
      { numRuns: 15_000 },
    );
  });

  it('versionAtLeast orders (major, minor) lexicographically and ignores patch', () => {
    fc.assert(
      fc.property(part, part, part, part, part, (major, minor, patch, wantMajor, wantMinor) => {
        const want = major * 1e6 + minor >= wantMajor * 1e6 + wantMinor; // parts stay below 1e6
        expect(versionAtLeast({ major, minor, patch }, wantMajor, wantMinor)).toBe(want);
      }),
      { numRuns: 10_000 },
    );
  });
});

// Property tests of src/parse/procfs.ts (it never throws: what it cannot read is null). The real captures mutated
// here are this process's own /proc files and /etc/passwd, read when the test starts. Generated inputs per run of
// this file (numRuns below):
//   parseStartTime: 15k printed stat lines (odd comms) + 10k truncated + 10k mutated = 35k
//   parseStatusUid: 10k; parseCmdline: 10k; parsePasswd: 15k; parseCgroupPath: 15k; containerFromCgroup: 15k
//   total 100k inputs.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { containerFromCgroup, parseCgroupPath, parseCmdline, parsePasswd, parseStartTime, parseStatusUid } from '../../src/parse/procfs.js';
import { ALNUM, awkwardString, charsOf, hugeNumber, mutated, randomText } from './arbitraries.js';

const live = (path: string): string => readFileSync(path, 'utf8');
const STAT = [live('/proc/self/stat'), '4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 1844'];
const STATUS = live('/proc/self/status');
const CGROUP = live('/proc/self/cgroup');
const PASSWD = live('/etc/passwd');

/** A stat line as the kernel prints it (fs/proc/array.c do_task_stat): pid, (comm), state, then 49 numbers. */
const statLine = fc
  .record({
    pid: fc.integer({ min: 1, max: 4194304 }),
    // comm is 15 bytes at most, but the parser must not care: anything, `)`, spaces and newlines included.
    comm: awkwardString(20),
    state: fc.constantFrom('R', 'S', 'D', 'Z', 'T', 't', 'X', 'I'),
    numbers: fc.array(fc.oneof(fc.nat(), fc.integer({ min: -1, max: 0 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })), { minLength: 49, maxLength: 49 }),
    starttime: fc.oneof(fc.nat(), fc.maxSafeNat()),
  })
  .map((g) => {
    const fields = g.numbers.map(String);
    fields[18] = String(g.starttime); // field 22 is the 19th number after state
    const head = `${g.pid} (${g.comm}) ${g.state} `;
    return { text: `${head}${fields.join(' ')}\n`, starttime: g.starttime, field22At: head.length + fields.slice(0, 18).join(' ').length + 1 };
  });

describe('parseStartTime', () => {
  it('reads starttime whatever the process name holds', () => {
    fc.assert(
      fc.property(statLine, (s) => {
        expect(parseStartTime(s.text)).toBe(s.starttime);
      }),
      { numRuns: 15_000 },
    );
  });

  it('gives null, not a made-up time, for a stat line cut before starttime', () => {
    fc.assert(
      fc.property(statLine.chain((s) => fc.tuple(fc.constant(s), fc.nat(s.field22At))), ([s, cut]) => {
        expect(parseStartTime(s.text.slice(0, cut))).toBeNull();
      }),
      { numRuns: 10_000 },
    );
  });

  it('gives null for a stat line cut right after field 21 (found by the property above)', () => {
    expect(parseStartTime(`1 (a) S${' 0'.repeat(18)} `)).toBeNull();
  });

  it('never throws on mutated stat lines; a result is a number', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constantFrom(...STAT).chain(mutated), randomText(60)), (text) => {
        const t = parseStartTime(text);
        if (t !== null) expect(Number.isFinite(t)).toBe(true);
      }),
      { numRuns: 10_000 },
    );
  });
});

describe('parseStatusUid, parseCmdline, parsePasswd', () => {
  it('parseStatusUid reads the real uid of a status file and never throws on a mutated one', () => {
    const status = fc.tuple(fc.nat(2 ** 32 - 1), fc.array(fc.nat(2 ** 32 - 1), { minLength: 3, maxLength: 3 }), awkwardString(16))
      .map(([uid, ids, name]) => ({ text: `Name:\t${name.replace(/\n/g, '')}\nUmask:\t0022\nUid:\t${uid}\t${ids.join('\t')}\nGid:\t0\t0\t0\t0\n`, uid }));
    fc.assert(
      fc.property(fc.oneof(status, mutated(STATUS).map((text) => ({ text, uid: null }))), (s) => {
        const uid = parseStatusUid(s.text);
        if (s.uid !== null) expect(uid).toBe(s.uid);
        else if (uid !== null) expect(uid >= 0).toBe(true); // a 400-digit uid is Infinity: no real uid is that large
      }),
      { numRuns: 10_000 },
    );
  });

  it('parseCmdline joins any argv with spaces (trailing empty arguments are the NUL padding)', () => {
    const argv = fc.array(awkwardString(12).map((a) => a.replace(/\0/g, '')), { maxLength: 6 });
    fc.assert(
      fc.property(argv, fc.nat(3), randomText(30), (args, pad, noise) => {
        const kept = [...args];
        while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
        expect(parseCmdline(args.join('\0') + '\0'.repeat(pad + (args.length > 0 ? 1 : 0)))).toBe(kept.join(' '));
        expect(typeof parseCmdline(noise)).toBe('string');
      }),
      { numRuns: 10_000 },
    );
  });

  it('parsePasswd maps every uid to the last name given for it, skipping malformed lines', () => {
    const entry = fc.tuple(
      awkwardString(10, 1).map((n) => n.replace(/[:\n]/g, '')).filter((n) => n !== ''),
      fc.oneof(fc.nat(2 ** 32 - 1).map(String), hugeNumber),
    );
    const noise = fc.constantFrom('', '# comment', '+::::::', 'broken', 'x:x:-1:0::/:/bin/sh', ':x:5:5::/:/bin/sh');
    fc.assert(
      fc.property(fc.array(fc.oneof(entry, noise), { maxLength: 10 }), (lines) => {
        const text = lines.map((l) => (typeof l === 'string' ? l : `${l[0]}:x:${l[1]}:0:gecos, with: colons?:/home:/bin/sh`)).join('\n');
        const want = new Map<number, string>();
        for (const l of lines) if (typeof l !== 'string' && /^\d+$/.test(l[1])) want.set(Number(l[1]), l[0]);
        expect(parsePasswd(text)).toEqual(want);
      }),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(mutated(PASSWD), (text) => {
        // A uid beyond 2^53 comes out rounded (or Infinity): no real uid is that large.
        for (const [uid, name] of parsePasswd(text)) expect(uid >= 0 && name !== '').toBe(true);
      }),
      { numRuns: 5_000 },
    );
  });
});

describe('parseCgroupPath, containerFromCgroup', () => {
  const path = fc.oneof(fc.constant('/'), fc.array(charsOf(`${ALNUM}_.:@-`, 1, 12), { minLength: 1, maxLength: 4 }).map((p) => `/${p.join('/')}`));
  it('parseCgroupPath takes the first v2 path that says more than /, else the longest v1 path', () => {
    const line = fc.oneof(
      path.map((p) => ({ v2: true, path: p, text: `0::${p}` })),
      fc.tuple(fc.integer({ min: 1, max: 13 }), fc.constantFrom('cpu,cpuacct', 'memory', 'name=systemd', 'misc', ''), path)
        .map(([n, c, p]) => ({ v2: false, path: p, text: `${n}:${c}:${p}` })),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), fc.boolean(), (lines, nl) => {
        const v2 = lines.find((l) => l.v2 && l.path !== '/');
        let best: string | null = null;
        for (const l of lines) if (!l.v2 && l.path !== '/' && (best === null || l.path.length > best.length)) best = l.path;
        expect(parseCgroupPath(lines.map((l) => l.text).join('\n') + (nl ? '\n' : ''))).toBe(v2 ? v2.path : best);
      }),
      { numRuns: 10_000 },
    );
    fc.assert(
      fc.property(fc.oneof(mutated(CGROUP), randomText(60)), (text) => {
        const p = parseCgroupPath(text);
        if (p !== null) expect(text).toContain(p);
      }),
      { numRuns: 5_000 },
    );
  });

  it('containerFromCgroup finds the id of every runtime layout and never throws', () => {
    const hex64 = fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 });
    const name = charsOf(`${ALNUM}_.-`, 1, 20);
    const prefix = fc.array(charsOf('ghijklmnopqrstuvwxyz_.-', 1, 10), { maxLength: 3 }).map((p) => p.map((s) => `/${s}`).join(''));
    const layout = fc.oneof(
      fc.tuple(prefix, hex64).map(([p, id]) => ({ path: `${p}/docker-${id}.scope`, want: { id: id.slice(0, 12), runtime: 'docker' } })),
      fc.tuple(prefix, hex64).map(([p, id]) => ({ path: `${p}/docker/${id}`, want: { id: id.slice(0, 12), runtime: 'docker' } })),
      fc.tuple(prefix, hex64).map(([p, id]) => ({ path: `${p}/cri-containerd-${id}.scope`, want: { id: id.slice(0, 12), runtime: 'containerd' } })),
      fc.tuple(prefix, hex64).map(([p, id]) => ({ path: `${p}/crio-${id}.scope`, want: { id: id.slice(0, 12), runtime: 'cri-o' } })),
      fc.tuple(prefix, hex64).map(([p, id]) => ({ path: `${p}/libpod-${id}.scope`, want: { id: id.slice(0, 12), runtime: 'podman' } })),
      fc.tuple(prefix, hex64).map(([p, id]) => ({ path: `/kubepods${p}/${id}`, want: { id: id.slice(0, 12), runtime: 'kubernetes' } })),
      fc.tuple(prefix, name).map(([p, n]) => ({ path: `${p}/lxc.payload.${n}/init`, want: { id: n, runtime: 'lxc' } })),
      fc.tuple(prefix, name).map(([p, n]) => ({ path: `${p}/lxc/${n}`, want: { id: n, runtime: 'lxc' } })),
    );
    fc.assert(
      fc.property(layout, fc.oneof(randomText(80), fc.constant(null)), (l, noise) => {
        expect(containerFromCgroup(l.path)).toEqual(l.want);
        containerFromCgroup(noise);
      }),
      { numRuns: 15_000 },
    );
  });
});

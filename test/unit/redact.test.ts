import { describe, expect, it } from 'vitest';
import { REDACTED, redactCmdline, redactDocument, redactSecrets } from '../../src/model/redact.js';

describe('redactSecrets', () => {
  it.each([
    ['password=hunter2', `password=${REDACTED}`],
    ['DB_PASSWORD=hunter2 x', `DB_PASSWORD=${REDACTED} x`],
    ['--token abc123 --port 5', `--token ${REDACTED} --port 5`],
    ['--api-key=xyz', `--api-key=${REDACTED}`],
    ['--client-secret s3', `--client-secret ${REDACTED}`],
    ['postgres://app:s3cr3t@db:5432/x', `postgres://${REDACTED}@db:5432/x`],
    ['{"token": "abc"}', `{"token": "${REDACTED}"}`],
    ['Authorization: Bearer abcdefghijkl', `Authorization: ${REDACTED} ${REDACTED}`],
    ['key 0123456789abcdef0123456789abcdef01', `key ${REDACTED}`],
    ['aGVsbG8gd29ybGQgdGhpcyBpcyBhIGtleQ1234XYZ', REDACTED],
  ])('%s', (input, out) => {
    expect(redactSecrets(input)).toBe(out);
    expect(redactSecrets(input)).not.toMatch(/hunter2|abc123|xyz$|s3cr3t|abcdefghijkl/);
  });

  it('leaves ordinary text alone', () => {
    for (const s of [
      'ka-peer server --listen 0.0.0.0:7001 --mode hold', 'author=me', 'tcp_keepalive_time=7200s intvl=75s probes=9',
      'nginx: worker process', '198.18.0.1:7003', 'fd6b:6174:c::2', 'TCP_KEEPALIVE_TIMEOUT', '/usr/bin/ssh user@host',
    ]) expect(redactSecrets(s)).toBe(s);
  });
});

describe('redactCmdline', () => {
  it('keeps only the program base name', () => {
    expect(redactCmdline('/usr/local/bin/ka-peer checker --connect 198.18.0.2:7002 --send password=hunter2')).toBe('ka-peer');
    expect(redactCmdline('postgres: app db 198.18.0.5(5432) idle')).toBe('postgres:');
    expect(redactCmdline('')).toBe('');
  });
});

describe('redactDocument', () => {
  it('cuts every cmdline, masks secrets in every string, keeps identifiers, does not touch the input', () => {
    const doc = {
      connections: [{
        id: '4026531833:ffff88810a2b3c4d5e6f708192a3b4c5d',
        cookie: 'ffff88810a2b3c4d5e6f708192a3b4c5d',
        cgroup: '/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope',
        process: { pid: 1, comm: 'app', cmdline: '/srv/app --token hunter2', exe: '/home/alice/bin/app' },
        processes: [{ pid: 1, comm: 'app', cmdline: '/srv/app --token hunter2' }],
      }],
      events: [{ process: { cmdline: 'x password=hunter2' }, connection: '1:2' }],
      warnings: ['netns x: could not read url https://u:hunter2@h/'],
      findings: [{ connections: ['4026531833:ffff88810a2b3c4d5e6f708192a3b4c5d'], summary: 'password=hunter2' }],
    };
    const copy = structuredClone(doc);
    const r = redactDocument(doc);
    expect(JSON.stringify(r)).not.toContain('hunter2');
    expect(r.connections[0]!.process.cmdline).toBe('app');
    expect(r.connections[0]!.process.exe).toBe('app'); // the program path is cut like the command line
    expect(r.connections[0]!.processes[0]!.cmdline).toBe('app');
    expect(r.events[0]!.process.cmdline).toBe('x');
    expect(r.connections[0]!.id).toBe(doc.connections[0]!.id);
    expect(r.connections[0]!.cookie).toBe(doc.connections[0]!.cookie);
    expect(r.connections[0]!.cgroup).toBe(doc.connections[0]!.cgroup);
    expect(r.findings[0]!.connections).toEqual(doc.findings[0]!.connections);
    expect(doc).toEqual(copy);
  });
});

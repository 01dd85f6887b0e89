// Containers and pods named from real cgroups: ka-peer processes moved into a kubepods cgroup (systemd driver
// layout, containerd) and a docker cgroup made by the test, a /var/log/pods and /var/log/containers tree in a
// temp dir. The snapshot names them, and the exporter labels connections and the checker's resets by pod; a namespace
// without a name is chosen by its container's id, as ka-top labels it.
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SnapshotDocument } from '../../src/domain/snapshot.js';
import { run } from '../../src/sources/exec.js';
import { runCli } from '../helpers/cli.js';
import { eventually, sample, startExporter } from '../helpers/exporter.js';
import { startPeer, stopAllPeers, type Peer } from '../helpers/peer.js';
import { schemaValidator } from '../helpers/schema.js';

const NS = `kat-exp-${process.pid}-wl`;
const CG_ROOT = existsSync('/sys/fs/cgroup/cgroup.procs') ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified';
const TOP = join(CG_ROOT, `kat-exp-${process.pid}`);
const UID = `5e1f0c2a-7b3d-4c8e-9f10-${String(process.pid).padStart(12, '0')}`;
const APP_ID = 'a1'.repeat(32);
const PROBE_ID = 'b2'.repeat(32);
const DOCKER_ID = 'c3'.repeat(32);
/** A docker container alone in a namespace whose `ip netns` name is deleted once it runs (the namespace lives on). */
const UNNAMED_ID = 'd4'.repeat(32);
const UNNAMED_NS = `kat-exp-${process.pid}-un`;
const POD_SLICE = join(TOP, 'kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${UID.replace(/-/g, '_')}.slice`);
const CGROUPS = {
  app: join(POD_SLICE, `cri-containerd-${APP_ID}.scope`),
  probe: join(POD_SLICE, `cri-containerd-${PROBE_ID}.scope`),
  docker: join(TOP, 'system.slice', `docker-${DOCKER_ID}.scope`),
  unnamed: join(TOP, 'system.slice', `docker-${UNNAMED_ID}.scope`),
};
const logs = mkdtempSync(join(tmpdir(), 'kat-exp-logs-'));
const env = { KA_TOP_POD_LOGS: join(logs, 'pods'), KA_TOP_CONTAINER_LOGS: join(logs, 'containers'), KA_TOP_TRACER_RETRY_MS: '2000' };
let server: Peer;
let client: Peer;
let checker: Peer;
let unnamed: Peer;

async function ip(...args: string[]) {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

beforeAll(async () => {
  await ip('netns', 'add', NS);
  await ip('-n', NS, 'link', 'set', 'lo', 'up');
  for (const cg of Object.values(CGROUPS)) mkdirSync(cg, { recursive: true });
  mkdirSync(join(env.KA_TOP_POD_LOGS, `shop_web-0_${UID}`, 'app'), { recursive: true });
  mkdirSync(env.KA_TOP_CONTAINER_LOGS, { recursive: true });
  writeFileSync(join(env.KA_TOP_CONTAINER_LOGS, `web-0_shop_app-${APP_ID}.log`), '');
  writeFileSync(join(env.KA_TOP_CONTAINER_LOGS, `web-0_shop_probe-${PROBE_ID}.log`), '');
  server = await startPeer(['server', '--listen', '127.0.0.1:7301', '--mode', 'hold'], { netns: NS });
  await server.waitFor(/^LISTEN /);
  client = await startPeer(['client', '--connect', '127.0.0.1:7301', '--mode', 'hold', '--keepalive', '--keepidle', '600'], { netns: NS });
  await client.waitFor(/^CONN /);
  writeFileSync(join(CGROUPS.app, 'cgroup.procs'), String(server.pid));
  writeFileSync(join(CGROUPS.docker, 'cgroup.procs'), String(client.pid));
  checker = await startPeer(['checker', '--connect', '127.0.0.1:7301', '--every', '200'], { netns: NS });
  writeFileSync(join(CGROUPS.probe, 'cgroup.procs'), String(checker.pid));
  await ip('netns', 'add', UNNAMED_NS);
  await ip('-n', UNNAMED_NS, 'link', 'set', 'lo', 'up');
  unnamed = await startPeer(['server', '--listen', '127.0.0.1:7302', '--mode', 'hold'], { netns: UNNAMED_NS });
  await unnamed.waitFor(/^LISTEN /);
  writeFileSync(join(CGROUPS.unnamed, 'cgroup.procs'), String(unnamed.pid));
  await ip('netns', 'del', UNNAMED_NS);
});

afterAll(async () => {
  await stopAllPeers();
  await run('ip', ['netns', 'del', NS]);
  await run('ip', ['netns', 'del', UNNAMED_NS]); // gone already unless the setup failed half-way
  // Deepest first: a cgroup is removed only when empty.
  const dirs = [...Object.values(CGROUPS), POD_SLICE, join(TOP, 'kubepods.slice', 'kubepods-besteffort.slice'), join(TOP, 'kubepods.slice'), join(TOP, 'system.slice'), TOP];
  for (const d of dirs) {
    try {
      rmdirSync(d);
    } catch {
      // already gone
    }
  }
});

describe('pods and containers named from cgroups', () => {
  it('the snapshot names the pod, its namespace and containers, and the docker container', async () => {
    const r = await runCli(['snapshot', '--format', 'json', '--netns', NS], { env });
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as SnapshotDocument;
    expect((await schemaValidator('snapshot.schema.json'))(doc)).toEqual([]);
    const owned = (pid: number) => doc.connections.find((c) => c.process?.pid === pid && c.state === 'ESTAB');
    expect(owned(server.pid)?.process?.container).toEqual({
      id: APP_ID.slice(0, 12), runtime: 'containerd', name: 'app', pod: { uid: UID, namespace: 'shop', name: 'web-0' },
    });
    expect(owned(client.pid)?.process?.container).toEqual({ id: DOCKER_ID.slice(0, 12), runtime: 'docker', name: null, pod: null });
  });

  it('the exporter labels connections by pod and the checker\'s zero-linger resets by its container', async () => {
    const ex = await startExporter(['--netns', NS, '--interval', '1s'], env);
    try {
      const pod = { netns: NS, namespace: 'shop', pod: 'web-0' };
      const body = await eventually(async () => {
        const b = await ex.scrape();
        return (sample(b, 'katop_resets_sent_total', { ...pod, container: 'probe', cause: 'linger' }) ?? 0) > 0 && b;
      }, 120_000, 'linger resets of the probe container');
      expect(sample(body, 'katop_connections', { ...pod, container: 'app', state: 'ESTAB', keepalive: 'off' })).toBe(1);
      expect(sample(body, 'katop_connections', { netns: NS, namespace: '', pod: '', container: DOCKER_ID.slice(0, 12), state: 'ESTAB', keepalive: 'socket' })).toBe(1);
      expect(body).not.toMatch(/127\.0\.0\.1|7301|pid=/);
    } finally {
      expect(await ex.stop()).toBe(143);
    }
  }, 180_000);

  it('--netns takes a container id: the label of a namespace without a name, short or full, or any container in it', async () => {
    const shortId = UNNAMED_ID.slice(0, 12);
    for (const id of [shortId, UNNAMED_ID]) {
      const r = await runCli(['snapshot', '--format', 'json', '--netns', id], { env });
      expect(r.code, r.stderr).toBe(0);
      const doc = JSON.parse(r.stdout) as SnapshotDocument;
      expect(doc.namespaces.map((n) => [n.name, n.container?.id])).toEqual([[null, shortId]]);
      expect(doc.connections.map((c) => [c.state, c.local.port, c.process?.pid])).toEqual([['LISTEN', 7302, unnamed.pid]]);
      expect(doc.filters?.netns).toEqual([String(doc.namespaces[0]!.inode)]);
    }
    // Any container of a namespace names it: here the docker client's, which shares the pod's named namespace.
    const shared = await runCli(['snapshot', '--format', 'json', '--netns', DOCKER_ID.slice(0, 12)], { env });
    expect(shared.code, shared.stderr).toBe(0);
    const doc = JSON.parse(shared.stdout) as SnapshotDocument;
    expect(doc.namespaces.map((n) => n.name)).toEqual([NS]);
    expect(doc.connections.some((c) => c.process?.pid === client.pid)).toBe(true);
    const r = await runCli(['snapshot', '--format', 'json', '--netns', 'e5'.repeat(6)], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no network namespace 'e5e5e5e5e5e5' on this host .*container id/);
  });
});

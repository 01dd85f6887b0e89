// Names for a process's container and pod: the container id and runtime from its cgroup path, the Kubernetes pod
// from the kubepods cgroup (pod UID), pod namespace/name from the kubelet's /var/log/pods directories, container
// names from /var/log/containers links and, where a docker socket exists, from docker (systeminformation).
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { ContainerRef } from '../domain/connection.js';
import { parseContainerLogName, parsePodLogDir, podUidFromCgroup } from '../parse/kubernetes.js';
import { containerFromCgroup, parseCgroupPath } from '../parse/procfs.js';

export interface WorkloadPaths {
  /** The kubelet's pod log root (`KA_TOP_POD_LOGS`, default /var/log/pods). */
  podLogs: string;
  /** The kubelet's container log links (`KA_TOP_CONTAINER_LOGS`, default /var/log/containers). */
  containerLogs: string;
  /** The docker API socket; names are asked from docker only when it exists. */
  dockerSocket: string;
}

export const DEFAULT_WORKLOAD_PATHS: WorkloadPaths = {
  podLogs: process.env.KA_TOP_POD_LOGS ?? '/var/log/pods',
  containerLogs: process.env.KA_TOP_CONTAINER_LOGS ?? '/var/log/containers',
  dockerSocket: '/var/run/docker.sock',
};

/** Directory listings are re-read at most this often, and only when a lookup misses. */
const REREAD_MS = 2000;
const DOCKER_REREAD_MS = 30_000;

function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

export class WorkloadDirectory {
  private pods = new Map<string, { namespace: string; name: string }>();
  private containerNames = new Map<string, string>();
  private dockerNames = new Map<string, string>();
  private podsReadAt = -Infinity;
  private namesReadAt = -Infinity;
  private dockerReadAt = -Infinity;

  constructor(private readonly paths: WorkloadPaths = DEFAULT_WORKLOAD_PATHS) {}

  /** The container (with pod and name where known) a cgroup path belongs to, or null. */
  containerOf(cgroup: string | null): ContainerRef | null {
    const base = containerFromCgroup(cgroup);
    if (!base) return null;
    const uid = podUidFromCgroup(cgroup);
    const pod = uid ? this.podOf(uid) : null;
    return { ...base, name: this.nameOf(base.id), pod };
  }

  private podOf(uid: string): ContainerRef['pod'] {
    let hit = this.pods.get(uid);
    if (!hit && Date.now() - this.podsReadAt >= REREAD_MS) {
      this.podsReadAt = Date.now();
      this.pods = new Map();
      for (const d of listDir(this.paths.podLogs)) {
        const p = parsePodLogDir(d);
        if (p) this.pods.set(p.uid, { namespace: p.namespace, name: p.name });
      }
      hit = this.pods.get(uid);
    }
    return { uid, namespace: hit?.namespace ?? null, name: hit?.name ?? null };
  }

  /** `id` is the 12-character short id. */
  private nameOf(id: string): string | null {
    let name = this.containerNames.get(id) ?? this.dockerNames.get(id);
    if (name === undefined && Date.now() - this.namesReadAt >= REREAD_MS) {
      this.namesReadAt = Date.now();
      this.containerNames = new Map();
      for (const f of listDir(this.paths.containerLogs)) {
        const c = parseContainerLogName(f);
        if (c) this.containerNames.set(c.id.slice(0, 12), c.container);
      }
      name = this.containerNames.get(id);
    }
    if (name === undefined) this.refreshDocker();
    return name ?? null;
  }

  /** Docker names arrive asynchronously (the next read of the process's container sees them). */
  private refreshDocker(): void {
    if (Date.now() - this.dockerReadAt < DOCKER_REREAD_MS || !existsSync(this.paths.dockerSocket)) return;
    this.dockerReadAt = Date.now();
    import('systeminformation')
      .then((si) => si.dockerContainers(true))
      .then((list) => {
        this.dockerNames = new Map(list.map((c) => [c.id.slice(0, 12), c.name.replace(/^\//, '')]));
      })
      .catch(() => {}); // no docker names: ids stay
  }
}

/** The container of a process by pid, for events of sockets no inventory saw (a checker's short connections);
 *  cached per pid, the cache dropped whole when it grows past a bound. */
export function pidContainers(dir = new WorkloadDirectory(), max = 4096): (pid: number) => ContainerRef | null {
  const cache = new Map<number, ContainerRef | null>();
  return (pid) => {
    const hit = cache.get(pid);
    if (hit !== undefined) return hit;
    let text = '';
    try {
      text = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    } catch {
      return null; // gone: not cached, the pid may be reused
    }
    if (cache.size >= max) cache.clear();
    const ref = dir.containerOf(parseCgroupPath(text));
    cache.set(pid, ref);
    return ref;
  };
}

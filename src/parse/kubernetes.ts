// Kubernetes facts a node shows without its API: the pod UID in a container's cgroup path, and the pod and
// container names in the kubelet's log directories (/var/log/pods, /var/log/containers).

/**
 * The pod UID of a kubepods cgroup path. The systemd cgroup driver writes the UID with `_` for `-`
 * (`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope`),
 * the cgroupfs driver as is (`/kubepods/burstable/pod<uid>/<id>`).
 */
export function podUidFromCgroup(path: string | null): string | null {
  if (!path || !path.includes('kubepods')) return null;
  const m = /(?:^|\/|-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?(?:\/|$)/.exec(path);
  return m ? m[1]!.replace(/_/g, '-') : null;
}

/** `<namespace>_<pod>_<uid>`, a directory of /var/log/pods (neither namespaces nor pod names may hold `_`). */
export function parsePodLogDir(name: string): { namespace: string; name: string; uid: string } | null {
  const parts = name.split('_');
  if (parts.length !== 3 || parts.some((p) => p === '')) return null;
  const [namespace, pod, uid] = parts as [string, string, string];
  return /^[0-9a-f-]{36}$/.test(uid) ? { namespace, name: pod, uid } : null;
}

/** `<pod>_<namespace>_<container>-<64 hex id>.log`, a link in /var/log/containers. */
export function parseContainerLogName(name: string): { pod: string; namespace: string; container: string; id: string } | null {
  const m = /^([^_]+)_([^_]+)_(.+)-([0-9a-f]{64})\.log$/.exec(name);
  return m ? { pod: m[1]!, namespace: m[2]!, container: m[3]!, id: m[4]! } : null;
}

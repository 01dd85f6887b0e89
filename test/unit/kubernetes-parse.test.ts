// Container and pod identity from cgroup paths as each runtime and kubelet cgroup driver writes them, and the
// kubelet's log directory names.
import { describe, expect, it } from 'vitest';
import { parseContainerLogName, parsePodLogDir, podUidFromCgroup } from '../../src/parse/kubernetes.js';
import { containerFromCgroup } from '../../src/parse/procfs.js';
import { describeContainer } from '../../src/domain/workload.js';

const ID = '3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899';
const UID = '1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901';

describe('kubepods cgroups', () => {
  it.each([
    ['systemd driver, containerd', `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UID.replace(/-/g, '_')}.slice/cri-containerd-${ID}.scope`, 'containerd'],
    ['systemd driver, guaranteed, CRI-O', `/kubepods.slice/kubepods-pod${UID.replace(/-/g, '_')}.slice/crio-${ID}.scope`, 'cri-o'],
    ['cgroupfs driver', `/kubepods/besteffort/pod${UID}/${ID}`, 'kubernetes'],
  ])('%s', (_what, path, runtime) => {
    expect(podUidFromCgroup(path)).toBe(UID);
    expect(containerFromCgroup(path)).toEqual({ id: ID.slice(0, 12), runtime });
  });

  it('docker and podman outside Kubernetes: a container, no pod', () => {
    for (const [path, runtime] of [
      [`/system.slice/docker-${ID}.scope`, 'docker'],
      [`/docker/${ID}`, 'docker'],
      [`/machine.slice/libpod-${ID}.scope/container`, 'podman'],
      [`/libpod_parent/libpod-${ID}`, 'podman'],
    ] as const) {
      expect(containerFromCgroup(path)).toEqual({ id: ID.slice(0, 12), runtime });
      expect(podUidFromCgroup(path)).toBeNull();
    }
    expect(podUidFromCgroup('/user.slice/user-0.slice/session-1.scope')).toBeNull();
  });

  it('kubelet log directories and container log links', () => {
    expect(parsePodLogDir(`kube-system_coredns-5d78c9869d-abcde_${UID}`)).toEqual({ namespace: 'kube-system', name: 'coredns-5d78c9869d-abcde', uid: UID });
    expect(parsePodLogDir('not-a-pod')).toBeNull();
    expect(parsePodLogDir(`a_b_c_${UID}`)).toBeNull();
    expect(parseContainerLogName(`web-0_shop_nginx-proxy-${ID}.log`)).toEqual({ pod: 'web-0', namespace: 'shop', container: 'nginx-proxy', id: ID });
    expect(parseContainerLogName('web-0_shop_nginx.log')).toBeNull();
  });

  it('names a container and its pod for people (TUI detail view)', () => {
    expect(describeContainer({ id: ID.slice(0, 12), runtime: 'containerd', name: 'app', pod: { uid: UID, namespace: 'shop', name: 'web-0' } }))
      .toBe('containerd:3f4e5d6c7b8a "app" in pod shop/web-0');
    expect(describeContainer({ id: ID.slice(0, 12), runtime: 'docker' })).toBe('docker:3f4e5d6c7b8a');
  });
});

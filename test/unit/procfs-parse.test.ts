import { describe, expect, it } from 'vitest';
import { containerFromCgroup, parseCgroupPath, parseCmdline, parsePasswd, parseStartTime, parseStatusUid } from '../../src/parse/procfs.js';

describe('procfs parsers', () => {
  it('reads starttime even when comm holds spaces and parentheses', () => {
    const stat = '4242 (we ird) (x)) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 1844';
    expect(parseStartTime(stat)).toBe(987654);
  });
  it('reads the real uid', () => {
    expect(parseStatusUid('Name:\tx\nUid:\t1000\t1000\t1000\t1000\nGid:\t5\n')).toBe(1000);
  });
  it('joins argv', () => {
    expect(parseCmdline('redis-server\0*:6379\0')).toBe('redis-server *:6379');
  });
  it('maps uids to names', () => {
    expect(parsePasswd('root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n').get(33)).toBe('www-data');
  });
  it('prefers the v2 path, else the longest v1 path', () => {
    expect(parseCgroupPath('0::/system.slice/docker-' + 'a'.repeat(64) + '.scope\n')).toContain('docker-');
    expect(parseCgroupPath('4:memory:/process_api/8a7e\n1:cpu:/\n0::/\n')).toBe('/process_api/8a7e');
    expect(parseCgroupPath('0::/\n')).toBeNull();
  });
  it('recognises container runtimes', () => {
    const id = '0123456789ab'.repeat(5) + 'cdef';
    expect(containerFromCgroup(`/system.slice/docker-${id}.scope`)).toEqual({ id: id.slice(0, 12), runtime: 'docker' });
    expect(containerFromCgroup(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-${id}.scope`))
      .toEqual({ id: id.slice(0, 12), runtime: 'containerd' });
    expect(containerFromCgroup(`/docker/${id}`)).toEqual({ id: id.slice(0, 12), runtime: 'docker' });
    expect(containerFromCgroup('/user.slice/user-1000.slice/session-2.scope')).toBeNull();
  });
});

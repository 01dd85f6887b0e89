// How a container (and its Kubernetes pod) is named to a person.
import type { ContainerRef } from './connection.js';

/** `containerd:a1b2c3d4e5f6 "app" in pod shop/web-0`, as much as is known. */
export function describeContainer(ref: ContainerRef): string {
  const pod = ref.pod ? ` in pod ${ref.pod.namespace ?? '?'}/${ref.pod.name ?? ref.pod.uid}` : '';
  return `${ref.runtime}:${ref.id}${ref.name ? ` "${ref.name}"` : ''}${pod}`;
}

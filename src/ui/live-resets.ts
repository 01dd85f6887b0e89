// The live view's resets (header rate, resets panel): those of what the view shows, like its findings. The tracer
// sees the whole host; with `--netns X` (or --port, --pid, --comm) another namespace's health checker must not read
// as X's reset storm. Without a filter, every reset.
import type { NetnsInfo } from '../domain/connection.js';
import type { KaEvent } from '../domain/event.js';
import type { ConnectionFilter } from '../domain/filter.js';
import { eventMatchesFilter, netnsNames } from '../model/filter.js';
import { ResetStats, resetRecordOf, type ResetSummary } from '../model/reset-stats.js';

export class LiveResets {
  private readonly stats = new ResetStats();
  private readonly filtered: boolean;
  private named: ReadonlyMap<number, string> = new Map();
  private namesOf: readonly NetnsInfo[] | undefined | null = null;

  /** `namespaces`: the latest inventory's (none yet: undefined), for a `--netns NAME` filter (events carry the inode). */
  constructor(private readonly filter: ConnectionFilter, private readonly namespaces: () => readonly NetnsInfo[] | undefined) {
    this.filtered = Object.keys(filter).length > 0;
  }

  push(e: KaEvent): void {
    const r = resetRecordOf(e);
    if (r && (!this.filtered || eventMatchesFilter(e, this.filter, this.names()))) this.stats.add(r);
  }

  summary(now = Date.now()): ResetSummary {
    return this.stats.summary(now);
  }

  private names(): ReadonlyMap<number, string> {
    const ns = this.namespaces();
    if (ns !== this.namesOf) {
      this.namesOf = ns;
      this.named = netnsNames(ns ?? []);
    }
    return this.named;
  }
}

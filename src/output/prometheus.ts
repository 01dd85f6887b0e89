// The Prometheus exposition of a metric view, with prom-client: the text format by default, OpenMetrics when the
// scraper's Accept header asks for it. One registry per scrape, filled from a frozen view.
import { Counter, Gauge, Registry } from 'prom-client';
import { METRICS, OWNER_LABELS, type MetricDef } from '../model/metric-set.js';
import type { MetricView } from '../engine/exporter.js';

export function wantsOpenMetrics(accept: string | undefined): boolean {
  return /application\/openmetrics-text/i.test(accept ?? '');
}

export function labelNamesOf(m: MetricDef, processLabels: boolean): string[] {
  return m.owned ? [...OWNER_LABELS, ...(processLabels ? ['process'] : []), ...m.labels] : [...m.labels];
}

/** Renders `view`; metrics without samples are left out. */
export async function exposition(view: MetricView, openMetrics: boolean, processLabels: boolean): Promise<{ contentType: string; body: string }> {
  const contentType = openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE;
  // prom-client's typings omit the constructor's content type argument (lib/registry.js takes it).
  const registry = new (Registry as unknown as new (contentType: string) => Registry)(contentType);
  for (const m of Object.values(METRICS) as MetricDef[]) {
    const samples = view.get(m.name);
    if (!samples?.length) continue;
    const spec = { name: m.name, help: m.help, labelNames: labelNamesOf(m, processLabels), registers: [registry] };
    if (m.kind === 'counter') {
      const c = new Counter(spec);
      for (const s of samples) c.inc(s.labels, s.value);
    } else {
      const g = new Gauge(spec);
      for (const s of samples) g.set(s.labels, s.value);
    }
  }
  return { contentType, body: await registry.metrics() };
}

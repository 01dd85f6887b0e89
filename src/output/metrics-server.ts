// The exporter's HTTP side: GET /metrics (Prometheus text or OpenMetrics), GET /healthz, nothing else.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExporterState } from '../engine/exporter.js';
import { exposition, wantsOpenMetrics } from './prometheus.js';

export interface MetricsServer {
  server: Server;
  /** host:port actually bound (port 0 picks a free one). */
  address: string;
  close(): Promise<void>;
}

export async function serveMetrics(state: ExporterState, host: string, port: number, processLabels: boolean): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz') {
      // Ready once the first inventory is in; the tracer's health is a metric (katop_tracer_up), not a liveness.
      res.writeHead(state.ready ? 200 : 503, { 'content-type': 'text/plain' }).end(state.ready ? 'ok\n' : 'starting\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('ka-top exporter: /metrics, /healthz\n');
      return;
    }
    exposition(state.view(), wantsOpenMetrics(req.headers.accept), processLabels).then(
      ({ contentType, body }) => res.writeHead(200, { 'content-type': contentType }).end(req.method === 'HEAD' ? undefined : body),
      (e: Error) => {
        state.scrapeFailed();
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`scrape failed: ${e.message}\n`);
      },
    );
  });
  server.keepAliveTimeout = 65_000; // longer than Prometheus' scrape interval: scrapers reuse their connection
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    server,
    address: a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

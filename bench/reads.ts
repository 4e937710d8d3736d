/**
 * npm run bench:reads -- --url http://127.0.0.1:3000 --token T [--seconds S]: every compiled query's
 * 7-day dashboard read (bench/compiled.ts's window) against an API that is already running, at one
 * connection and at 16: p50/p99 and req/s. For a database prepared elsewhere (bench:incremental
 * --database, or npm start with DEMO_RUNS), where `npm run bench` would seed its own.
 */
import { parseArgs } from 'node:util';
import { SUPPORTED_QUERIES } from '../src/declarations/index.ts';
import { compiledTarget, dashboardWindow } from './compiled.ts';
import { measureLoad } from './load.ts';

const { values } = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' }, seconds: { type: 'string', default: '8' } } });
if (!values.url || !values.token) throw new Error('usage: npm run bench:reads -- --url URL --token TOKEN [--seconds S]');
const w = dashboardWindow(Date.now());
const out = [];
for (const q of SUPPORTED_QUERIES) {
  const target = compiledTarget(values.url, `/stats/${q.topic}/query/${q.name}`, { timestamp_start: w.start, timestamp_end: w.end }, `Bearer ${values.token}`);
  const one = await measureLoad(target, 1, 2, Number(values.seconds));
  const many = await measureLoad(target, 16, 2, Number(values.seconds));
  const row = { query: q.name, p50: one.latencyMs.p50, p99: one.latencyMs.p99, rps1: Math.round(one.requestsPerSecond), rps16: Math.round(many.requestsPerSecond), non2xx: one.non2xx + many.non2xx };
  process.stdout.write(`${JSON.stringify(row)}\n`);
  out.push(row);
}

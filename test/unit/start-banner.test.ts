import { expect } from 'chai';
import { startBanner } from '../../src/start-banner.ts';

describe("npm start's banner", () => {
  const base = 'http://localhost:3000';

  it('points at the dashboard and the API docs, and tells where the tokens come from in the all-in-one mode', () => {
    const text = startBanner({ base, devTokenButton: true, devTokenSecret: 's3cr3t', devTokenCli: true });
    expect(text).to.include(`EventStats listening on ${base}\n`);
    expect(text).to.include(`  dashboard  ${base}/dashboard/#dev-secret=s3cr3t  (its "Get a dev token" button signs one for alice)\n`);
    expect(text).to.include(`  dev token  curl -X POST -H "X-Dev-Token-Secret: s3cr3t" ${base}/dev/token  (this start's secret)\n`);
    expect(text).to.include(`  API docs   ${base}/docs/  (Authorize with the token of: npm run -s token -- alice)\n`);
    expect(text).to.include('  TOKEN=$(npm run -s token -- alice)\n');
    expect(text).to.include(`  curl -X POST -H "Authorization: Bearer $TOKEN" ${base}/stats/public.cps.za.runs/query/failed_jobs\n`);
  });

  it('offers no dev token button against DATABASE_URL, where npm run token still signs', () => {
    const text = startBanner({ base, devTokenButton: false, devTokenCli: true });
    expect(text).to.include(`  dashboard  ${base}/dashboard/  (paste a bearer token)\n`);
    expect(text).not.to.include('Get a dev token');
    expect(text).to.include('npm run -s token -- alice');
  });

  it('mentions no development token at all where the dev key pair does not verify (production)', () => {
    const text = startBanner({ base, devTokenButton: false, devTokenCli: false });
    expect(text).not.to.match(/dev token|npm run/);
    expect(text).to.include(`  API docs   ${base}/docs/  (Authorize with a bearer token)\n`);
    expect(text).to.include('  TOKEN=<a token from your identity provider>\n');
  });
});

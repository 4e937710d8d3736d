import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ConfigError, loadConfig, tokenRuleWarnings } from '../../../src/core/config.ts';

describe('loadConfig', () => {
  let confDir: string;
  before(async () => {
    confDir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-conf-'));
  });

  it('applies the documented defaults', () => {
    const c = loadConfig({ CONF_DIR: confDir });
    expect(c).to.include({ databaseUrl: undefined, port: 3000, logLevel: 'info', heapGrowingPercent: 100, production: false, dataDir: '.data', embeddedPgPort: 54329 });
    expect(c.db).to.deep.equal({ poolMax: 10, statementTimeoutMs: 5000, connectTimeoutMs: 3000, retryAfterSeconds: 5, pooler: 'auto', preparedMax: 32 });
    expect(c.partsCache).to.deep.equal({ stateTtlMs: 1000, maxBytes: 64 * 1024 * 1024, userMaxBytes: 8 * 1024 * 1024 });
    expect(c.verifiedTokensMaxBytes).to.equal(1024 * 1024);
    expect(c.admission, 'half the pool, 1 per user, refusals held 1 s').to.deep.equal({ globalMax: 5, userMax: 1, refusalHoldMs: 1_000 });
    expect(loadConfig({ CONF_DIR: confDir, ADMISSION_REFUSAL_HOLD_MS: '0' }).admission.refusalHoldMs, '0: none').to.equal(undefined);
    expect(c.inFlight, "4 of a user's requests under way, 16 waiting").to.deep.equal({ perUser: 4, queuePerUser: 16 });
    expect(loadConfig({ CONF_DIR: confDir, DB_POOL_MAX: '1' }).admission.globalMax, 'at least 1').to.equal(1);
    expect(loadConfig({ CONF_DIR: confDir, ADMISSION_USER_SHARE: '0.25' }).admission, 'a time budget only when its share is set, 5 s of it at once').to.deep.equal({
      globalMax: 5,
      userMax: 1,
      refusalHoldMs: 1_000,
      userShare: 0.25,
      burstMs: 5_000,
    });
    expect(loadConfig({ CONF_DIR: confDir, ADMISSION_MAX_LOOP_LOAD: '0.7' }).admission.maxLoopLoad).to.equal(0.7);
    expect(c.realtime).to.deep.equal({ enabled: true, off: [] });
    expect(c.token).to.deep.equal({ audience: undefined, issuer: undefined, requireExp: false });
    expect(c.http).to.deep.equal({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    expect(c.metrics, '/metrics off the public port').to.deep.equal({ enabled: true, port: 9465, workerPort: 9464 });
    expect(c.accessConfigPath).to.equal(path.join(confDir, 'access.json'));
    expect(Object.isFrozen(c)).to.equal(true);
  });

  it('says what sits between the API and PostgreSQL (DB_POOLER)', () => {
    expect(loadConfig({ CONF_DIR: confDir, DB_POOLER: 'transaction' }).db.pooler).to.equal('transaction');
    expect(loadConfig({ CONF_DIR: confDir, DB_POOLER: 'none' }).db.pooler).to.equal('none');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ CONF_DIR: confDir, DATABASE_URL: '', PORT: '' }).port).to.equal(3000);
  });

  it('turns real-time answers off globally (REALTIME=off) or per query (REALTIME_OFF)', () => {
    expect(loadConfig({ CONF_DIR: confDir, REALTIME: 'off' }).realtime).to.deep.equal({ enabled: false, off: [] });
    expect(loadConfig({ CONF_DIR: confDir, REALTIME_OFF: 'failed_jobs, job_status_trend' }).realtime).to.deep.equal({ enabled: true, off: ['failed_jobs', 'job_status_trend'] });
  });

  it('runs one API process by default, WEB_CONCURRENCY of them when set, one per CPU for auto', () => {
    expect(loadConfig({ CONF_DIR: confDir }).webConcurrency).to.equal(1);
    expect(loadConfig({ CONF_DIR: confDir, WEB_CONCURRENCY: '4' }).webConcurrency).to.equal(4);
    expect(loadConfig({ CONF_DIR: confDir, WEB_CONCURRENCY: 'auto' }).webConcurrency).to.equal(os.availableParallelism());
  });

  it('takes the defaults it is given for variables the environment leaves unset (the Lambda: DB_POOL_MAX 1)', () => {
    expect(loadConfig({ CONF_DIR: confDir }, { DB_POOL_MAX: '1' }).db.poolMax).to.equal(1);
    expect(loadConfig({ CONF_DIR: confDir, DB_POOL_MAX: '' }, { DB_POOL_MAX: '1' }).db.poolMax).to.equal(1);
    expect(loadConfig({ CONF_DIR: confDir, DB_POOL_MAX: '6' }, { DB_POOL_MAX: '1' }).db.poolMax).to.equal(6);
  });

  it("turns metrics off (METRICS=off), moves the API's /metrics to a port of its own (METRICS_PORT), and sets the worker's (WORKER_METRICS_PORT)", () => {
    expect(loadConfig({ CONF_DIR: confDir, METRICS: 'off' }).metrics.enabled).to.equal(false);
    expect(loadConfig({ CONF_DIR: confDir, METRICS_PORT: '9100', WORKER_METRICS_PORT: '0' }).metrics).to.deep.equal({ enabled: true, port: 9100, workerPort: 0 });
    expect(loadConfig({ CONF_DIR: confDir, METRICS_PORT: '' }).metrics.port, 'empty: unset, the default port').to.equal(9465);
    expect(loadConfig({ CONF_DIR: confDir, METRICS_PORT: 'public' }).metrics.port, 'public: served on PORT').to.equal(undefined);
  });

  it('reads the optional token checks: audiences and issuers as comma-separated lists, TOKEN_REQUIRE_EXP as true/false', () => {
    const c = loadConfig({ CONF_DIR: confDir, TOKEN_AUDIENCE: 'eventstats, https://stats.example ', TOKEN_ISSUER: 'https://gateway.example', TOKEN_REQUIRE_EXP: 'true' });
    expect(c.token).to.deep.equal({ audience: ['eventstats', 'https://stats.example'], issuer: ['https://gateway.example'], requireExp: true });
    expect(Object.isFrozen(c.token) && Object.isFrozen(c.token.audience)).to.equal(true);
    expect(loadConfig({ CONF_DIR: confDir, TOKEN_REQUIRE_EXP: 'false' }).token.requireExp).to.equal(false);
  });

  const bad: [Record<string, string>, RegExp][] = [
    [{ TOKEN_REQUIRE_EXP: 'yes' }, /TOKEN_REQUIRE_EXP: Invalid option: expected one of "true"\|"false"/],
    [{ TOKEN_AUDIENCE: ' , ' }, /TOKEN_AUDIENCE: must list at least one value \(comma-separated\)/],
    [{ TOKEN_ISSUER: ',' }, /TOKEN_ISSUER: must list at least one value/],
    [{ REALTIME: 'sometimes' }, /REALTIME: Invalid option/],
    [{ REALTIME_OFF: 'failed_jobs,No-Such' }, /REALTIME_OFF\.1: must be a compiled query name/],
    [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL: must be a postgres:\/\//],
    [{ PORT: 'eighty' }, /PORT:/],
    [{ PORT: '70000' }, /PORT:/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL:/],
    [{ HEAP_GROWING_PERCENT: '-1' }, /HEAP_GROWING_PERCENT:/],
    [{ HEAP_GROWING_PERCENT: 'half' }, /HEAP_GROWING_PERCENT:/],
    [{ DB_POOL_MAX: '0' }, /DB_POOL_MAX:/],
    [{ VIEW_STATE_TTL_MS: '-1' }, /VIEW_STATE_TTL_MS:/],
    [{ PARTS_CACHE_MAX_BYTES: 'lots' }, /PARTS_CACHE_MAX_BYTES:/],
    [{ PARTS_CACHE_MAX_ROWS: '200000' }, /PARTS_CACHE_MAX_ROWS: no longer read; the parts cache is bounded in bytes by PARTS_CACHE_MAX_BYTES/],
    [{ PARTS_CACHE_MAX_BYTES: '1000000', PARTS_CACHE_USER_MAX_BYTES: '2000000' }, /PARTS_CACHE_USER_MAX_BYTES: must not be larger than PARTS_CACHE_MAX_BYTES/],
    [{ VERIFIED_TOKENS_MAX_BYTES: '10' }, /VERIFIED_TOKENS_MAX_BYTES:/],
    [{ ADMISSION_USER_MAX: '0' }, /ADMISSION_USER_MAX:/],
    [{ ADMISSION_GLOBAL_MAX: 'many' }, /ADMISSION_GLOBAL_MAX:/],
    [{ ADMISSION_USER_SHARE: '0' }, /ADMISSION_USER_SHARE: must be more than 0/],
    [{ ADMISSION_USER_BURST_MS: '0' }, /ADMISSION_USER_BURST_MS:/],
    [{ ADMISSION_MAX_LOOP_LOAD: '1.5' }, /ADMISSION_MAX_LOOP_LOAD: must be at most 1/],
    [{ HTTP_REQUEST_TIMEOUT_MS: '0' }, /HTTP_REQUEST_TIMEOUT_MS:/],
    [{ HTTP_HEADERS_TIMEOUT_MS: 'soon' }, /HTTP_HEADERS_TIMEOUT_MS:/],
    [{ HTTP_HEADERS_TIMEOUT_MS: '20000', HTTP_REQUEST_TIMEOUT_MS: '10000' }, /HTTP_HEADERS_TIMEOUT_MS: must not be longer than HTTP_REQUEST_TIMEOUT_MS/],
    [{ METRICS: 'yes' }, /METRICS: Invalid option/],
    [{ DB_POOLER: 'pgbouncer' }, /DB_POOLER: Invalid option/],
    [{ METRICS_PORT: 'high' }, /METRICS_PORT:/],
    [{ METRICS_PORT: '3000' }, /METRICS_PORT: must differ from PORT \(METRICS_PORT=public serves \/metrics on PORT\)/],
    [{ PORT: '8080', METRICS_PORT: '8080' }, /METRICS_PORT: must differ from PORT/],
    [{ WORKER_METRICS_PORT: '65536' }, /WORKER_METRICS_PORT:/],
    [{ WEB_CONCURRENCY: '0' }, /WEB_CONCURRENCY: must be a whole number of processes \(1 or more\), or 'auto'/],
    [{ WEB_CONCURRENCY: 'two' }, /WEB_CONCURRENCY: must be a whole number/],
    [{ WEB_CONCURRENCY: '65' }, /WEB_CONCURRENCY: must be at most 64/],
    [{ REFRESH_SCHEDULES: '{' }, /REFRESH_SCHEDULES: must be a JSON object/],
    [{ REFRESH_SCHEDULES: '{"eventstats.mv_failed_jobs": "every minute"}' }, /REFRESH_SCHEDULES: eventstats\.mv_failed_jobs: 'every minute' has 2 field/],
    [{ REFRESH_SCHEDULES: '{"eventstats.mv_failed_jobs": "61 * * * *"}' }, /is not a cron expression/],
  ];
  for (const [env, message] of bad) {
    it(`fails fast naming the variable for ${JSON.stringify(env)}`, () => {
      expect(() => loadConfig({ CONF_DIR: confDir, ...env })).to.throw(ConfigError, message);
    });
  }

  it('reads config.json, with the environment overriding it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-conf-'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify({ token_public_keys_url: 'https://keys.invalid/k', access_config: 'conf/acl.json', other: 1 }));
    const fromFile = loadConfig({ CONF_DIR: dir });
    expect(fromFile.tokenPublicKeysUrl).to.equal('https://keys.invalid/k');
    expect(fromFile.accessConfigPath).to.equal(path.resolve('conf/acl.json'));
    const overridden = loadConfig({ CONF_DIR: dir, TOKEN_PUBLIC_KEYS_URL: '/etc/keys.json', ACCESS_CONFIG: '/etc/access.json' });
    expect(overridden).to.include({ tokenPublicKeysUrl: '/etc/keys.json', accessConfigPath: '/etc/access.json' });
  });

  it('names config.json when it is not valid JSON', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-conf-'));
    await writeFile(path.join(dir, 'config.json'), '{nope');
    expect(() => loadConfig({ CONF_DIR: dir })).to.throw(ConfigError, /config\.json is not valid JSON/);
  });

  it('warns a deployment once each for TOKEN_AUDIENCE, TOKEN_ISSUER and TOKEN_REQUIRE_EXP left off, whatever NODE_ENV says, and the all-in-one mode not at all', () => {
    const deployed = tokenRuleWarnings(loadConfig({ CONF_DIR: confDir, DATABASE_URL: 'postgres://db/x', NODE_ENV: 'staging' }));
    expect(deployed.map((w) => w.split(' ')[0])).to.deep.equal(['TOKEN_AUDIENCE', 'TOKEN_ISSUER', 'TOKEN_REQUIRE_EXP']);
    expect(tokenRuleWarnings(loadConfig({ CONF_DIR: confDir, NODE_ENV: 'production' }))).to.have.length(3);
    const strict = { CONF_DIR: confDir, NODE_ENV: 'production', TOKEN_AUDIENCE: 'eventstats', TOKEN_ISSUER: 'https://idp', TOKEN_REQUIRE_EXP: 'true' };
    expect(tokenRuleWarnings(loadConfig(strict))).to.deep.equal([]);
    expect(tokenRuleWarnings(loadConfig({ CONF_DIR: confDir }))).to.deep.equal([]);
  });
});

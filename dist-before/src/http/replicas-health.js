/**
 * With read replicas: which database a read would be answered by now, and each replica's state
 * (ok, lagging past REPLICA_MAX_LAG_MS, down, unknown) and lag. Fails (503 `degraded`) while one is
 * lagging or down, though reads still go on elsewhere. Statuses and numbers only: /health has no auth.
 */
export function replicasCheck(targets, log) {
    return async () => {
        let answeredBy = 'none';
        let lag = null;
        try {
            const session = await targets.session();
            await session.query({ text: 'SELECT 1', values: [] });
            const origin = session.origin();
            answeredBy = origin.database;
            lag = origin.lagMs;
        }
        catch (err) {
            log?.warn({ err }, 'health: no database answered the replicas check');
        }
        const { ok, replicas } = await targets.status();
        return { ok: ok && answeredBy !== 'none', detail: { answered_by: answeredBy, lag_ms: lag, replicas } };
    };
}
//# sourceMappingURL=replicas-health.js.map
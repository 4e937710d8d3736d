-- Up Migration
-- A refresh that runs a cycle is logged as 'running' before its transaction starts, and its row
-- becomes 'refreshed' in that transaction, or 'failed' after its rollback. A row still 'running'
-- when the next refresh of its view takes the view's lock belongs to a session that ended without
-- finishing (its worker was killed, its connection lost): that refresh marks it 'abandoned'. So the
-- log says what happened to every attempt, and no attempt looks as if it were running forever.
ALTER TABLE eventstats.refresh_log
    DROP CONSTRAINT refresh_log_outcome_check,
    ADD CONSTRAINT refresh_log_outcome_check CHECK (outcome IN ('running', 'refreshed', 'skipped', 'failed', 'abandoned'));

-- Down Migration
UPDATE eventstats.refresh_log SET outcome = 'failed' WHERE outcome IN ('running', 'abandoned');
ALTER TABLE eventstats.refresh_log
    DROP CONSTRAINT refresh_log_outcome_check,
    ADD CONSTRAINT refresh_log_outcome_check CHECK (outcome IN ('refreshed', 'skipped', 'failed'));

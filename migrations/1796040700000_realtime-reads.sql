-- Up Migration
-- Real-time reads (src/queries/tail.ts) add the jobs history and the views have not absorbed yet:
-- those past a view's id watermark, and the orphan jobs held back for a run that may have come
-- since. The API's role reads the latter too.
GRANT SELECT ON eventstats.orphan_jobs TO eventstats_reader;

-- Down Migration
REVOKE SELECT ON eventstats.orphan_jobs FROM eventstats_reader;

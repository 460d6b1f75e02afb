-- 0005_sweeper: the sweeper's cross-tenant read.
--
-- The sweeper finds PENDING jobs whose queue entry may be lost and
-- PROCESSING jobs whose worker stopped heartbeating, in every workspace. It
-- runs as repurpose_app like everything else, in a transaction that sets
-- app.sweeper = 'on' (transaction-local, set only by
-- postgres.JobRecovery.StaleJobs), and reads (id, workspace_id) only; every
-- change it then makes goes through a normal transaction scoped to the job's
-- workspace. SELECT only: the setting grants no write.
CREATE POLICY transformations_sweeper_select ON transformations FOR SELECT TO repurpose_app
    USING (current_setting('app.sweeper', true) = 'on');

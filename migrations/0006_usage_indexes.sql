-- 0006_usage_indexes: the monthly budgets of a plan read only this month's
-- rows.
--
-- checkBudgets counts a workspace's transformations created this month and
-- sums their AI cost, soft-deleted ones included (deleting a transformation
-- gives no quota back), so the partial list index (deleted_at IS NULL) can't
-- serve them: without these, both read every transformation the workspace
-- ever made, on every create and again in the worker.
CREATE INDEX transformations_workspace_created_idx ON transformations (workspace_id, created_at);

-- The spend sum reads only the rows that cost something (a result of the
-- offline provider costs nothing and never enters this index), from the
-- index alone.
CREATE INDEX transformations_workspace_spend_idx ON transformations (workspace_id, created_at)
    INCLUDE (ai_cost) WHERE ai_cost > 0;

-- 0004_transformations: the transformation jobs of a workspace and its
-- presets, with their row-level security (conventions of 0001, policies in
-- the style of 0002 and 0003).
--
-- Transformations are soft-deleted only (no DELETE grant), like documents.
-- Every status change is one conditional UPDATE of the stores
-- (TransformationStore), so the table itself only checks the values.
-- Presets are deleted for real; a transformation made from a deleted preset
-- keeps its parameters and loses the reference (ON DELETE SET NULL).

CREATE TABLE transformation_presets (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    workspace_id uuid        NOT NULL,
    created_by   uuid        NOT NULL,
    name         text        NOT NULL,
    description  text,
    type         text        NOT NULL,
    parameters   jsonb       NOT NULL DEFAULT '{}',
    is_shared    boolean     NOT NULL DEFAULT false,
    usage_count  integer     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT transformation_presets_pkey PRIMARY KEY (id),
    CONSTRAINT transformation_presets_parameters_object CHECK (jsonb_typeof(parameters) = 'object'),
    CONSTRAINT transformation_presets_usage_count_not_negative CHECK (usage_count >= 0),
    CONSTRAINT transformation_presets_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT transformation_presets_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)
);

-- A preset name is unique in its workspace, case-insensitively.
CREATE UNIQUE INDEX transformation_presets_workspace_name_key
    ON transformation_presets (workspace_id, lower(name));

-- PresetStore.List: newest first with a keyset cursor.
CREATE INDEX transformation_presets_workspace_created_id_idx
    ON transformation_presets (workspace_id, created_at DESC, id DESC);

-- The foreign key to users, as workspaces_created_by_idx.
CREATE INDEX transformation_presets_created_by_idx ON transformation_presets (created_by);

CREATE TABLE transformations (
    id                 uuid          NOT NULL DEFAULT gen_random_uuid(),
    workspace_id       uuid          NOT NULL,
    document_id        uuid          NOT NULL,
    created_by         uuid          NOT NULL,
    type               text          NOT NULL,
    parameters         jsonb         NOT NULL DEFAULT '{}',
    preset_id          uuid,
    requested_provider text,
    status             text          NOT NULL DEFAULT 'PENDING',
    progress           integer       NOT NULL DEFAULT 0,
    message            text,
    result             text,
    parts              jsonb         NOT NULL DEFAULT '[]',
    error_message      text,
    ai_provider        text,
    ai_model           text,
    input_tokens       integer       NOT NULL DEFAULT 0,
    output_tokens      integer       NOT NULL DEFAULT 0,
    ai_cost            numeric(12,6) NOT NULL DEFAULT 0,
    attempts           integer       NOT NULL DEFAULT 0,
    processing_time_ms bigint        NOT NULL DEFAULT 0,
    created_at         timestamptz   NOT NULL DEFAULT now(),
    updated_at         timestamptz   NOT NULL DEFAULT now(),
    started_at         timestamptz,
    completed_at       timestamptz,
    heartbeat_at       timestamptz,
    deleted_at         timestamptz,
    CONSTRAINT transformations_pkey PRIMARY KEY (id),
    CONSTRAINT transformations_status_check
        CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED', 'CANCELLED')),
    CONSTRAINT transformations_progress_range CHECK (progress BETWEEN 0 AND 100),
    CONSTRAINT transformations_parameters_object CHECK (jsonb_typeof(parameters) = 'object'),
    CONSTRAINT transformations_parts_array CHECK (jsonb_typeof(parts) = 'array'),
    CONSTRAINT transformations_counts_not_negative
        CHECK (input_tokens >= 0 AND output_tokens >= 0 AND attempts >= 0 AND processing_time_ms >= 0 AND ai_cost >= 0),
    CONSTRAINT transformations_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT transformations_document_id_fkey FOREIGN KEY (document_id) REFERENCES documents (id),
    CONSTRAINT transformations_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id),
    CONSTRAINT transformations_preset_id_fkey FOREIGN KEY (preset_id) REFERENCES transformation_presets (id) ON DELETE SET NULL
);

-- TransformationStore.List pages a workspace's live transformations newest
-- first by (created_at, id) with a keyset cursor, as documents do.
CREATE INDEX transformations_workspace_created_id_idx
    ON transformations (workspace_id, created_at DESC, id DESC)
    WHERE deleted_at IS NULL;

-- CountProcessing (per workspace concurrency limits) and status filters.
CREATE INDEX transformations_workspace_status_idx ON transformations (workspace_id, status);

-- A sweeper finds stalled PROCESSING jobs by their last heartbeat.
CREATE INDEX transformations_status_heartbeat_idx ON transformations (status, heartbeat_at);

-- The foreign keys: checked on every DELETE of a preset (SET NULL) and of a
-- user or document row.
CREATE INDEX transformations_document_id_idx ON transformations (document_id);
CREATE INDEX transformations_preset_id_idx ON transformations (preset_id) WHERE preset_id IS NOT NULL;
CREATE INDEX transformations_created_by_idx ON transformations (created_by);

-- No DELETE on transformations: they are soft-deleted. Presets are deleted.
GRANT SELECT, INSERT, UPDATE ON transformations TO repurpose_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON transformation_presets TO repurpose_app;

ALTER TABLE transformations ENABLE ROW LEVEL SECURITY;
ALTER TABLE transformations FORCE ROW LEVEL SECURITY;
ALTER TABLE transformation_presets ENABLE ROW LEVEL SECURITY;
ALTER TABLE transformation_presets FORCE ROW LEVEL SECURITY;

-- transformations: the current workspace's, live or soft-deleted (the
-- stores filter deleted_at themselves). No DELETE policy, and no grant.
CREATE POLICY transformations_select ON transformations FOR SELECT TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY transformations_insert ON transformations FOR INSERT TO repurpose_app
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY transformations_update ON transformations FOR UPDATE TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);

-- transformation_presets: the current workspace's that are shared or the
-- scope user's own. UPDATE and DELETE see what SELECT sees; a changed row
-- must stay in the workspace (and, because the stores read it back with
-- RETURNING, visible to the user).
CREATE POLICY transformation_presets_select ON transformation_presets FOR SELECT TO repurpose_app
    USING (
        workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid
        AND (is_shared OR created_by = NULLIF(current_setting('app.user_id', true), '')::uuid)
    );
CREATE POLICY transformation_presets_insert ON transformation_presets FOR INSERT TO repurpose_app
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY transformation_presets_update ON transformation_presets FOR UPDATE TO repurpose_app
    USING (
        workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid
        AND (is_shared OR created_by = NULLIF(current_setting('app.user_id', true), '')::uuid)
    )
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY transformation_presets_delete ON transformation_presets FOR DELETE TO repurpose_app
    USING (
        workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid
        AND (is_shared OR created_by = NULLIF(current_setting('app.user_id', true), '')::uuid)
    );

-- 0002_tenancy: invitations, the application role and row-level security
-- (ARCHITECTURE.md, "Tenant isolation, twice").
--
-- Every transaction of the application (adapters/postgres UnitOfWork) starts
-- with
--
--   SELECT set_config('role', 'repurpose_app', true),
--          set_config('app.user_id', '<uuid or empty>', true),
--          set_config('app.workspace_id', '<uuid or empty>', true)
--
-- so its queries run as repurpose_app, a role that owns nothing and cannot
-- bypass row-level security, and the policies below read the tenant from
-- the transaction's own settings. A transaction that sets no tenant sees and
-- writes nothing of any tenant: NULLIF(..., '')::uuid is NULL, and a
-- comparison with NULL is never true.

CREATE TABLE invitations (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    workspace_id uuid        NOT NULL,
    email        text        NOT NULL,
    role         text        NOT NULL,
    token_hash   text        NOT NULL,
    invited_by   uuid        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    accepted_by  uuid,
    revoked_at   timestamptz,
    CONSTRAINT invitations_pkey PRIMARY KEY (id),
    CONSTRAINT invitations_token_hash_key UNIQUE (token_hash),
    CONSTRAINT invitations_role_check CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    CONSTRAINT invitations_email_not_empty CHECK (email <> ''),
    CONSTRAINT invitations_token_hash_not_empty CHECK (token_hash <> ''),
    CONSTRAINT invitations_accepted_consistent CHECK ((accepted_at IS NULL) = (accepted_by IS NULL)),
    CONSTRAINT invitations_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT invitations_invited_by_fkey FOREIGN KEY (invited_by) REFERENCES users (id),
    CONSTRAINT invitations_accepted_by_fkey FOREIGN KEY (accepted_by) REFERENCES users (id)
);

-- ListPending: a workspace's invitations, newest first.
CREATE INDEX invitations_workspace_created_idx ON invitations (workspace_id, created_at DESC);

-- The workspaces SELECT policy asks "is the scope's user a member of this
-- workspace?" for every workspace it reads: an index probe on (user_id,
-- workspace_id). The (user_id, joined_at) index of 0001 serves ListForUser's
-- order but would have to scan all of a user's memberships per probe.
CREATE INDEX workspace_members_user_workspace_idx ON workspace_members (user_id, workspace_id);

-- AuditLog.List pages newest first by (created_at, id) with a keyset cursor:
-- this index serves the order, the tie-break and the cursor in one range
-- scan, and replaces the (workspace_id, created_at DESC) index of 0001.
CREATE INDEX audit_events_workspace_created_id_idx ON audit_events (workspace_id, created_at DESC, id DESC);
DROP INDEX audit_events_workspace_created_idx;

-- The application role. Roles belong to the cluster, not to the database, so
-- several databases of one server (parallel test databases, or staging next
-- to production) share it: create it only when missing, and tolerate another
-- migration creating it at the same moment (the loser of that race sees
-- duplicate_object, or unique_violation on pg_authid while the winner's
-- transaction was still open).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'repurpose_app') THEN
        CREATE ROLE repurpose_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
    END IF;
EXCEPTION
    WHEN duplicate_object OR unique_violation THEN
        NULL;
END
$$;

-- The role the application connects as (here: the one running the
-- migration, when it is also the application's, as in development with one
-- DATABASE_URL) must be allowed to switch to repurpose_app. Superusers and
-- roles already granted it are members; production grants it to a dedicated
-- login role instead.
DO $$
BEGIN
    IF NOT pg_has_role(current_user, 'repurpose_app', 'MEMBER') THEN
        EXECUTE format('GRANT repurpose_app TO %I', current_user);
    END IF;
EXCEPTION
    WHEN unique_violation THEN
        NULL;
END
$$;

-- Only what the stores need. No DELETE but on memberships (users and
-- workspaces are soft-deleted), and the audit trail is append-only.
GRANT USAGE ON SCHEMA public TO repurpose_app;
GRANT SELECT, INSERT, UPDATE ON users TO repurpose_app;
GRANT SELECT, INSERT, UPDATE ON workspaces TO repurpose_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON workspace_members TO repurpose_app;
GRANT SELECT, INSERT, UPDATE ON invitations TO repurpose_app;
GRANT SELECT, INSERT ON audit_events TO repurpose_app;

-- FORCE makes the policies bind the tables' owner too, so a connection that
-- happens to run as the owner is still scoped (superusers and BYPASSRLS
-- roles are not: the start-up check refuses them in production).
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
ALTER TABLE workspace_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_members FORCE ROW LEVEL SECURITY;
ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;

-- Policies are permissive and per command; an UPDATE must pass the table's
-- UPDATE policy on the old row (USING) and on the new row (WITH CHECK), and
-- its SELECT policy on the rows it reads.

-- users: identities are global (login by email, member lists show emails),
-- but a user writes only their own row.
CREATE POLICY users_select ON users FOR SELECT TO repurpose_app
    USING (true);
CREATE POLICY users_insert ON users FOR INSERT TO repurpose_app
    WITH CHECK (id = NULLIF(current_setting('app.user_id', true), '')::uuid);
CREATE POLICY users_update ON users FOR UPDATE TO repurpose_app
    USING (id = NULLIF(current_setting('app.user_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.user_id', true), '')::uuid);

-- workspaces: the id is the tenant. A user also sees the workspaces they are
-- a member of (the list to switch between).
CREATE POLICY workspaces_select ON workspaces FOR SELECT TO repurpose_app
    USING (
        id = NULLIF(current_setting('app.workspace_id', true), '')::uuid
        OR EXISTS (
            SELECT 1 FROM workspace_members m
            WHERE m.workspace_id = workspaces.id
              AND m.user_id = NULLIF(current_setting('app.user_id', true), '')::uuid
        )
    );
CREATE POLICY workspaces_insert ON workspaces FOR INSERT TO repurpose_app
    WITH CHECK (id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY workspaces_update ON workspaces FOR UPDATE TO repurpose_app
    USING (id = NULLIF(current_setting('app.workspace_id', true), '')::uuid)
    WITH CHECK (id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);

-- workspace_members: the current workspace's memberships, and the user's own
-- in every workspace. Only the current workspace's change.
CREATE POLICY workspace_members_select ON workspace_members FOR SELECT TO repurpose_app
    USING (
        workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid
        OR user_id = NULLIF(current_setting('app.user_id', true), '')::uuid
    );
CREATE POLICY workspace_members_insert ON workspace_members FOR INSERT TO repurpose_app
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY workspace_members_update ON workspace_members FOR UPDATE TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY workspace_members_delete ON workspace_members FOR DELETE TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);

-- invitations: the current workspace's. The token is a capability: the
-- invitee's transaction (scoped to whatever workspace they are in) may read
-- the one invitation whose token hash it has set in app.invitation_token_hash
-- for the duration of that lookup.
CREATE POLICY invitations_select ON invitations FOR SELECT TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY invitations_select_by_token ON invitations FOR SELECT TO repurpose_app
    USING (token_hash = NULLIF(current_setting('app.invitation_token_hash', true), ''));
CREATE POLICY invitations_insert ON invitations FOR INSERT TO repurpose_app
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY invitations_update ON invitations FOR UPDATE TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);

-- audit_events: the current workspace reads its trail; account-level events
-- (no workspace: register, login, ...) are written by anyone and read by
-- no tenant. No UPDATE or DELETE policy: and no grant either.
CREATE POLICY audit_events_select ON audit_events FOR SELECT TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY audit_events_insert ON audit_events FOR INSERT TO repurpose_app
    WITH CHECK (
        workspace_id IS NULL
        OR workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid
    );

-- 0001_foundation: accounts, workspaces (the tenants), memberships and the
-- audit trail.
--
-- Conventions:
--   * ids are uuid with a gen_random_uuid() default (built in since PG 13);
--   * "live" rows have deleted_at IS NULL; uniqueness only binds live rows;
--   * an optional value that is absent is NULL, never '';
--   * constraint and index names are explicit because the adapter maps them
--     to caller-safe messages (adapters/postgres/errors.go);
--   * every tenant-owned table carries workspace_id so row-level security can
--     be added later with policies on NULLIF(current_setting('app.workspace_id',
--     true), '')::uuid (see ARCHITECTURE.md, "Tenant isolation, twice").

CREATE TABLE users (
    id            uuid        NOT NULL DEFAULT gen_random_uuid(),
    email         text        NOT NULL,
    username      text,
    password_hash text        NOT NULL,
    is_active     boolean     NOT NULL DEFAULT true,
    is_verified   boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    deleted_at    timestamptz,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_email_not_empty CHECK (email <> '')
);

-- Emails are stored as given and compared case-insensitively; a soft-deleted
-- account releases its address.
CREATE UNIQUE INDEX users_email_key ON users (lower(email)) WHERE deleted_at IS NULL;

CREATE TABLE workspaces (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    name        text        NOT NULL,
    slug        text        NOT NULL,
    description text,
    plan        text        NOT NULL DEFAULT 'free',
    created_by  uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    CONSTRAINT workspaces_pkey PRIMARY KEY (id),
    CONSTRAINT workspaces_plan_check CHECK (plan IN ('free', 'starter', 'pro', 'enterprise')),
    CONSTRAINT workspaces_slug_not_empty CHECK (slug <> ''),
    CONSTRAINT workspaces_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)
);

CREATE UNIQUE INDEX workspaces_slug_key ON workspaces (slug) WHERE deleted_at IS NULL;
CREATE INDEX workspaces_created_by_idx ON workspaces (created_by);

CREATE TABLE workspace_members (
    workspace_id uuid        NOT NULL,
    user_id      uuid        NOT NULL,
    role         text        NOT NULL,
    joined_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workspace_members_pkey PRIMARY KEY (workspace_id, user_id),
    CONSTRAINT workspace_members_role_check CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    CONSTRAINT workspace_members_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT workspace_members_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
);

-- ListForUser: the workspaces of one user, oldest membership first.
CREATE INDEX workspace_members_user_id_idx ON workspace_members (user_id, joined_at);

-- The audit trail deliberately has no foreign keys: it must outlive what it
-- refers to, and recording an event (e.g. a failed login for an unknown
-- account) must never fail because of a reference.
CREATE TABLE audit_events (
    id           uuid        NOT NULL DEFAULT gen_random_uuid(),
    workspace_id uuid,
    actor_id     uuid,
    action       text        NOT NULL,
    entity_type  text,
    entity_id    uuid,
    ip_address   text,
    request_id   text,
    changes      jsonb       NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_events_pkey PRIMARY KEY (id),
    CONSTRAINT audit_events_action_not_empty CHECK (action <> ''),
    CONSTRAINT audit_events_changes_object CHECK (jsonb_typeof(changes) = 'object')
);

CREATE INDEX audit_events_workspace_created_idx ON audit_events (workspace_id, created_at DESC);

-- 0003_documents: the documents of a workspace, their full-text search and
-- their row-level security (conventions of 0001, policies in the style of
-- 0002).
--
-- Documents are soft-deleted only: the app role has no DELETE grant, and a
-- restore brings a row back. Every change increments version, which If-Match
-- compares against (DocumentStore.Update is conditional on it).

-- The text the search matches: title, description and content as the
-- 'simple' configuration sees them (lower-cased words, no stemming and no
-- stop words, so every word of a title can be searched, in any language).
--
-- A tsvector holds at most 1 MB of lexemes and positions, and to_tsvector
-- raises program_limit_exceeded beyond that: a text of a few hundred
-- thousand distinct tokens (a large log, a CSV of ids) would make its insert
-- fail. Then the content is indexed from its beginning: at most half of it
-- and at most 512 Ki characters, halving again until it fits (a failed
-- attempt costs a parse, so the first cut is deep); title and description
-- are always indexed. Natural
-- language is nowhere near the limit: positions past 16,383 all read 16,383,
-- and a language has far fewer distinct words.
--
-- The function is IMMUTABLE (it depends on its arguments and the built-in
-- 'simple' configuration only) so that it can compute a stored generated
-- column; PostgreSQL recomputes the column only when an UPDATE sets one of
-- its three source columns, so a soft delete or restore does not re-parse
-- the content. The exception block costs one subtransaction per insert or
-- content update.
CREATE FUNCTION documents_search_vector(title text, description text, content text)
RETURNS tsvector
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
    head text := coalesce(title, '') || ' ' || coalesce(description, '') || ' ';
    body text := coalesce(content, '');
BEGIN
    LOOP
        BEGIN
            RETURN to_tsvector('pg_catalog.simple'::regconfig, head || body);
        EXCEPTION
            WHEN program_limit_exceeded THEN
                IF body = '' THEN
                    RAISE;
                END IF;
                body := left(body, least(length(body) / 2, 524288));
        END;
    END LOOP;
END
$$;

CREATE TABLE documents (
    id                uuid        NOT NULL DEFAULT gen_random_uuid(),
    workspace_id      uuid        NOT NULL,
    created_by        uuid        NOT NULL,
    title             text        NOT NULL,
    description       text,
    original_filename text,
    content_type      text        NOT NULL,
    size_bytes        bigint      NOT NULL DEFAULT 0,
    word_count        integer     NOT NULL DEFAULT 0,
    sha256            text,
    version           integer     NOT NULL DEFAULT 1,
    content           text        NOT NULL DEFAULT '',
    metadata          jsonb       NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    search            tsvector    GENERATED ALWAYS AS (documents_search_vector(title, description, content)) STORED,
    CONSTRAINT documents_pkey PRIMARY KEY (id),
    CONSTRAINT documents_version_positive CHECK (version >= 1),
    CONSTRAINT documents_size_bytes_not_negative CHECK (size_bytes >= 0),
    CONSTRAINT documents_word_count_not_negative CHECK (word_count >= 0),
    CONSTRAINT documents_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
    CONSTRAINT documents_workspace_id_fkey FOREIGN KEY (workspace_id) REFERENCES workspaces (id) ON DELETE CASCADE,
    CONSTRAINT documents_created_by_fkey FOREIGN KEY (created_by) REFERENCES users (id)
);

-- DocumentStore.List pages a workspace's live documents newest first by
-- (created_at, id) with a keyset cursor: one range scan serves the filter,
-- the order, the tie-break and the cursor. size_bytes rides along so that
-- Usage (count and bytes, checked on every create and restore) is an
-- index-only scan.
CREATE INDEX documents_workspace_created_id_idx
    ON documents (workspace_id, created_at DESC, id DESC) INCLUDE (size_bytes)
    WHERE deleted_at IS NULL;

-- Search: the query's words against the generated vector of live documents.
CREATE INDEX documents_search_idx ON documents USING gin (search) WHERE deleted_at IS NULL;

-- The foreign key to users, as workspaces_created_by_idx.
CREATE INDEX documents_created_by_idx ON documents (created_by);

-- No DELETE: documents are soft-deleted.
GRANT SELECT, INSERT, UPDATE ON documents TO repurpose_app;

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;

-- documents: the current workspace's, live or soft-deleted (the stores
-- filter deleted_at themselves; restore must read deleted rows). No DELETE
-- policy: and no grant either.
CREATE POLICY documents_select ON documents FOR SELECT TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY documents_insert ON documents FOR INSERT TO repurpose_app
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);
CREATE POLICY documents_update ON documents FOR UPDATE TO repurpose_app
    USING (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid)
    WITH CHECK (workspace_id = NULLIF(current_setting('app.workspace_id', true), '')::uuid);

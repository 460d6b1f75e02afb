package postgres

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/repurpose/repurpose/core"
)

// SQLSTATE codes the adapter gives a meaning to.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	// insufficientPrivilege is both a row-level security WITH CHECK
	// violation (a write outside the transaction's tenant) and a missing
	// grant (e.g. UPDATE of the append-only audit trail).
	insufficientPrivilege = "42501"
)

// constraintMessages are the caller-safe messages of the constraints named in
// migrations/, for the violations callers can cause.
var constraintMessages = map[string]string{
	"users_email_key":                           "email already registered",
	"workspaces_slug_key":                       "slug already taken",
	"workspace_members_pkey":                    "already a member",
	"workspaces_created_by_fkey":                "user not found",
	"workspace_members_workspace_id_fkey":       "workspace not found",
	"workspace_members_user_id_fkey":            "user not found",
	"invitations_workspace_id_fkey":             "workspace not found",
	"invitations_invited_by_fkey":               "user not found",
	"invitations_accepted_by_fkey":              "user not found",
	"documents_workspace_id_fkey":               "workspace not found",
	"documents_created_by_fkey":                 "user not found",
	"transformation_presets_workspace_name_key": "a preset with this name exists",
}

// translate is the one place where driver errors become the core's coded
// errors: pgx.ErrNoRows is core.ErrNotFound with the message notFound, a
// unique violation core.ErrConflict and a foreign key violation
// core.ErrNotFound, each with the message of its constraint, and an
// insufficient privilege (row-level security refusing a write outside the
// tenant, or a command the app role has no grant for) core.ErrNotFound with
// the message notFound: another tenant's objects do not exist for the caller.
// Anything else is only wrapped, and so becomes an internal error for the
// caller. op describes the operation for logs, e.g. "get user 1f0c…".
func translate(err error, op, notFound string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%s: %w", op, &core.Error{Code: core.ENOTFOUND, Message: notFound, Err: err})
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case uniqueViolation:
			return fmt.Errorf("%s: %w", op, &core.Error{
				Code: core.ECONFLICT, Message: constraintMessage(pgErr.ConstraintName, "already exists"), Err: err,
			})
		case foreignKeyViolation:
			return fmt.Errorf("%s: %w", op, &core.Error{
				Code: core.ENOTFOUND, Message: constraintMessage(pgErr.ConstraintName, "a referenced record does not exist"), Err: err,
			})
		case insufficientPrivilege:
			return fmt.Errorf("%s: %w", op, &core.Error{Code: core.ENOTFOUND, Message: notFound, Err: err})
		}
	}
	return fmt.Errorf("%s: %w", op, err)
}

func constraintMessage(constraint, fallback string) string {
	if m, ok := constraintMessages[constraint]; ok {
		return m
	}
	return fallback
}

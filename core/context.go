package core

import (
	"context"

	"github.com/google/uuid"
)

// Identity is the authenticated caller of a request.
type Identity struct {
	UserID      uuid.UUID
	SessionID   uuid.UUID
	WorkspaceID uuid.UUID
	Role        Role
	Email       string
}

// RequestMeta describes where a request came from, for sessions and audit.
type RequestMeta struct {
	RequestID string
	IPAddress string
	UserAgent string
}

type identityKey struct{}
type requestMetaKey struct{}

// WithIdentity returns a context carrying the caller's identity.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFrom returns the caller's identity, if the request was authenticated.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

// WithRequestMeta returns a context carrying request metadata.
func WithRequestMeta(ctx context.Context, m RequestMeta) context.Context {
	return context.WithValue(ctx, requestMetaKey{}, m)
}

// RequestMetaFrom returns the request metadata, zero when absent.
func RequestMetaFrom(ctx context.Context) RequestMeta {
	m, _ := ctx.Value(requestMetaKey{}).(RequestMeta)
	return m
}

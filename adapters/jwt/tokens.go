// Package jwt implements ports.AccessTokens with golang-jwt v5: HS256
// pinned, issuer, audience, expiry and issued-at checked with a small
// leeway, a token-type claim, and a key id so signing keys can rotate.
package jwt

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

const (
	// Issuer is the iss of every token this service signs.
	Issuer = "repurpose"
	// Audience is the aud every accepted token must name.
	Audience = "repurpose-api"
	// TokenTypeAccess is the typ claim of access tokens; refresh tokens are
	// opaque and never JWTs, so any other value is refused.
	TokenTypeAccess = "access"
	// Leeway absorbs clock skew between replicas when checking exp/iat/nbf.
	Leeway = 30 * time.Second
	// MinKeyBytes is the shortest signing key accepted.
	MinKeyBytes = 32
)

// AccessTokens signs with the current key and verifies with it or any
// previous key, chosen by the kid header.
type AccessTokens struct {
	currentKID string
	keys       map[string][]byte
	ttl        time.Duration
	clock      ports.Clock
	parser     *gojwt.Parser
}

var _ ports.AccessTokens = (*AccessTokens)(nil)

type claims struct {
	gojwt.RegisteredClaims
	TokenType   string `json:"typ"`
	SessionID   string `json:"sid"`
	WorkspaceID string `json:"wid,omitempty"`
}

// KeyID derives a key's public identifier: the first 8 bytes of its SHA-256.
func KeyID(key []byte) string {
	sum := sha256.Sum256(key)
	return hex.EncodeToString(sum[:8])
}

// NewAccessTokens signs with current and also accepts tokens signed with any
// of previous. Every key must be at least MinKeyBytes long.
func NewAccessTokens(current []byte, previous [][]byte, ttl time.Duration, clock ports.Clock) (*AccessTokens, error) {
	if len(current) < MinKeyBytes {
		return nil, fmt.Errorf("signing key: at least %d bytes required", MinKeyBytes)
	}
	if ttl <= 0 {
		return nil, errors.New("access token lifetime must be positive")
	}
	t := &AccessTokens{currentKID: KeyID(current), keys: map[string][]byte{KeyID(current): current}, ttl: ttl, clock: clock}
	for _, k := range previous {
		if len(k) < MinKeyBytes {
			return nil, fmt.Errorf("previous signing key: at least %d bytes required", MinKeyBytes)
		}
		t.keys[KeyID(k)] = k
	}
	t.parser = gojwt.NewParser(
		gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg()}),
		gojwt.WithIssuer(Issuer),
		gojwt.WithAudience(Audience),
		gojwt.WithExpirationRequired(),
		gojwt.WithIssuedAt(),
		gojwt.WithLeeway(Leeway),
		gojwt.WithTimeFunc(clock.Now),
		gojwt.WithStrictDecoding(),
	)
	return t, nil
}

// TTL is the lifetime of the tokens this issuer signs.
func (t *AccessTokens) TTL() time.Duration { return t.ttl }

// Issue signs c with the current key.
func (t *AccessTokens) Issue(c ports.AccessClaims) (string, ports.AccessClaims, error) {
	now := t.clock.Now().Truncate(time.Second)
	c.IssuedAt, c.ExpiresAt = now, now.Add(t.ttl)
	cl := claims{
		RegisteredClaims: gojwt.RegisteredClaims{
			Issuer:    Issuer,
			Subject:   c.UserID.String(),
			Audience:  gojwt.ClaimStrings{Audience},
			IssuedAt:  gojwt.NewNumericDate(c.IssuedAt),
			NotBefore: gojwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: gojwt.NewNumericDate(c.ExpiresAt),
			ID:        uuid.NewString(),
		},
		TokenType: TokenTypeAccess,
		SessionID: c.SessionID.String(),
	}
	if c.WorkspaceID != uuid.Nil {
		cl.WorkspaceID = c.WorkspaceID.String()
	}
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, cl)
	tok.Header["kid"] = t.currentKID
	s, err := tok.SignedString(t.keys[t.currentKID])
	if err != nil {
		return "", ports.AccessClaims{}, fmt.Errorf("sign access token: %w", err)
	}
	return s, c, nil
}

// Verify checks signature, algorithm, key id, issuer, audience, lifetime and
// type; every failure is core.ErrUnauthorized.
func (t *AccessTokens) Verify(token string) (ports.AccessClaims, error) {
	var cl claims
	_, err := t.parser.ParseWithClaims(token, &cl, func(tok *gojwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys[kid]
		if !ok {
			return nil, errors.New("unknown key id")
		}
		return key, nil
	})
	if err != nil {
		return ports.AccessClaims{}, &core.Error{Code: core.EUNAUTHORIZED, Message: "could not validate credentials", Err: err}
	}
	if cl.TokenType != TokenTypeAccess {
		return ports.AccessClaims{}, core.Errorf(core.EUNAUTHORIZED, "could not validate credentials")
	}
	out := ports.AccessClaims{IssuedAt: cl.IssuedAt.Time, ExpiresAt: cl.ExpiresAt.Time}
	if out.UserID, err = uuid.Parse(cl.Subject); err != nil {
		return ports.AccessClaims{}, core.Errorf(core.EUNAUTHORIZED, "could not validate credentials")
	}
	if out.SessionID, err = uuid.Parse(cl.SessionID); err != nil {
		return ports.AccessClaims{}, core.Errorf(core.EUNAUTHORIZED, "could not validate credentials")
	}
	if cl.WorkspaceID != "" {
		if out.WorkspaceID, err = uuid.Parse(cl.WorkspaceID); err != nil {
			return ports.AccessClaims{}, core.Errorf(core.EUNAUTHORIZED, "could not validate credentials")
		}
	}
	return out, nil
}

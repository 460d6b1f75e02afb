package jwt_test

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/jwt"
	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
	"github.com/repurpose/repurpose/ports/porttest"
)

var (
	keyA = []byte("0123456789abcdef0123456789abcdef-key-a")
	keyB = []byte("0123456789abcdef0123456789abcdef-key-b")
)

func newTokens(t testing.TB, clock ports.Clock, current []byte, previous ...[]byte) *jwt.AccessTokens {
	t.Helper()
	tok, err := jwt.NewAccessTokens(current, previous, 15*time.Minute, clock)
	require.NoError(t, err)
	return tok
}

func sampleClaims() ports.AccessClaims {
	return ports.AccessClaims{UserID: uuid.New(), SessionID: uuid.New(), WorkspaceID: uuid.New()}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	t.Parallel()
	clock := porttest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	tokens := newTokens(t, clock, keyA)
	in := sampleClaims()
	s, issued, err := tokens.Issue(in)
	require.NoError(t, err)
	require.Equal(t, clock.Now().Add(15*time.Minute), issued.ExpiresAt)
	out, err := tokens.Verify(s)
	require.NoError(t, err)
	require.Equal(t, in.UserID, out.UserID)
	require.Equal(t, in.SessionID, out.SessionID)
	require.Equal(t, in.WorkspaceID, out.WorkspaceID)
	require.Equal(t, issued.ExpiresAt, out.ExpiresAt.UTC())
}

func TestNewAccessTokensRefusesShortKeys(t *testing.T) {
	t.Parallel()
	_, err := jwt.NewAccessTokens([]byte("short"), nil, time.Minute, ports.SystemClock{})
	require.Error(t, err)
	_, err = jwt.NewAccessTokens(keyA, [][]byte{[]byte("short")}, time.Minute, ports.SystemClock{})
	require.Error(t, err)
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	clock := porttest.NewFakeClock(time.Now())
	old := newTokens(t, clock, keyA)
	s, _, err := old.Issue(sampleClaims())
	require.NoError(t, err)

	rotated := newTokens(t, clock, keyB, keyA)
	_, err = rotated.Verify(s)
	require.NoError(t, err, "tokens signed with a previous key stay valid")

	dropped := newTokens(t, clock, keyB)
	_, err = dropped.Verify(s)
	require.ErrorIs(t, err, core.ErrUnauthorized, "a retired key is refused")
}

// sign builds a token by hand, to forge what the issuer never would.
func sign(t *testing.T, method gojwt.SigningMethod, key any, kid string, mutate func(m gojwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	m := gojwt.MapClaims{
		"iss": jwt.Issuer, "aud": []string{jwt.Audience}, "sub": uuid.NewString(),
		"sid": uuid.NewString(), "typ": jwt.TokenTypeAccess,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Minute).Unix(),
	}
	if mutate != nil {
		mutate(m)
	}
	tok := gojwt.NewWithClaims(method, m)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	require.NoError(t, err)
	return s
}

func TestVerifyRefusesBadTokens(t *testing.T) {
	t.Parallel()
	tokens := newTokens(t, ports.SystemClock{}, keyA)
	good, _, err := tokens.Issue(sampleClaims())
	require.NoError(t, err)
	kid := jwt.KeyID(keyA)

	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	tamperedPayload := strings.Replace(string(payload), `"typ":"access"`, `"typ":"access" `, 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tamperedPayload)) + "." + parts[2]

	none := sign(t, gojwt.SigningMethodNone, gojwt.UnsafeAllowNoneSignatureType, kid, nil)

	cases := map[string]string{
		"empty":            "",
		"garbage":          "not.a.jwt",
		"tampered payload": tampered,
		"alg none":         none,
		"HS512":            sign(t, gojwt.SigningMethodHS512, keyA, kid, nil),
		"forged key":       sign(t, gojwt.SigningMethodHS256, keyB, kid, nil),
		"unknown kid":      sign(t, gojwt.SigningMethodHS256, keyA, "deadbeef", nil),
		"no kid":           sign(t, gojwt.SigningMethodHS256, keyA, "", nil),
		"expired":          sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["exp"] = time.Now().Add(-time.Hour).Unix() }),
		"no exp":           sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { delete(m, "exp") }),
		"issued in future": sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["iat"] = time.Now().Add(time.Hour).Unix() }),
		"wrong issuer":     sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["iss"] = "evil" }),
		"wrong audience":   sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["aud"] = []string{"other"} }),
		"refresh type":     sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["typ"] = "refresh" }),
		"no type":          sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { delete(m, "typ") }),
		"bad subject":      sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["sub"] = "admin" }),
		"bad session":      sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["sid"] = "x" }),
		"bad workspace":    sign(t, gojwt.SigningMethodHS256, keyA, kid, func(m gojwt.MapClaims) { m["wid"] = "x" }),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			_, err := tokens.Verify(tok)
			require.ErrorIs(t, err, core.ErrUnauthorized)
		})
	}
}

func TestLeewayAbsorbsSmallSkew(t *testing.T) {
	t.Parallel()
	clock := porttest.NewFakeClock(time.Now())
	tokens := newTokens(t, clock, keyA)
	s, _, err := tokens.Issue(sampleClaims())
	require.NoError(t, err)
	clock.Advance(15*time.Minute + 10*time.Second)
	_, err = tokens.Verify(s)
	require.NoError(t, err, "10s past expiry is within the leeway")
	clock.Advance(time.Minute)
	_, err = tokens.Verify(s)
	require.ErrorIs(t, err, core.ErrUnauthorized)
}

func BenchmarkIssue(b *testing.B) {
	tokens := newTokens(b, ports.SystemClock{}, keyA)
	c := sampleClaims()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tokens.Issue(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	tokens := newTokens(b, ports.SystemClock{}, keyA)
	s, _, err := tokens.Issue(sampleClaims())
	require.NoError(b, err)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tokens.Verify(s); err != nil {
			b.Fatal(err)
		}
	}
}

package auth_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/auth"
)

func TestValidatePassword(t *testing.T) {
	t.Parallel()
	cases := []struct {
		password string
		ok       bool
		why      string
	}{
		{"a long unusual passphrase", true, ""},
		{"short", false, "at least 12"},
		{strings.Repeat("x", 73) + "yz", false, "at most 72"},
		{"qwertyuiop123", false, "too common"},
		{"Password1234!", false, "too common"},
		{"1q2w3e4r5t6y", false, "too common"},
		{"aaaaaaaaaaaaaaa", false, "single character"},
		{"my-ada.lovelace-secret", false, "email"},
		{"é" + strings.Repeat("ü", 35), true, ""}, // 71 bytes of UTF-8
	}
	for _, c := range cases {
		err := auth.ValidatePassword(c.password, "ada.lovelace@example.com", "body.password")
		if c.ok {
			require.NoError(t, err, c.password)
			continue
		}
		require.ErrorIs(t, err, core.ErrInvalid, c.password)
		fields := core.AsError(err).Fields
		require.Len(t, fields, 1)
		require.Equal(t, "body.password", fields[0].Location)
		require.Contains(t, fields[0].Message, c.why)
	}
}

func TestSlugify(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ada-s-workspace", core.Slugify("Ada's Workspace!", 40))
	require.Equal(t, "workspace", core.Slugify("日本語", 40))
	require.Equal(t, "abc", core.Slugify("  abc  ", 40))
	require.LessOrEqual(t, len(core.Slugify(strings.Repeat("ab ", 50), 10)), 11)
}

func TestRefreshTokensAreRandomAndHashed(t *testing.T) {
	t.Parallel()
	a, ha := auth.NewRefreshToken()
	b, hb := auth.NewRefreshToken()
	require.NotEqual(t, a, b)
	require.NotEqual(t, ha, hb)
	require.Len(t, ha, 64)
	require.Equal(t, ha, auth.HashRefreshToken(a))
}

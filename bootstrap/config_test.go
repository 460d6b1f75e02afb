package bootstrap_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/bootstrap"
	"github.com/repurpose/repurpose/ports"
)

func fmtType(v any) string { return fmt.Sprintf("%T", v) }

const goodKey = "0123456789abcdef0123456789abcdef"

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := bootstrap.ParseConfig(map[string]string{})
	require.NoError(t, err)
	require.Equal(t, ":8080", cfg.HTTPAddr)
	require.Equal(t, 15, cfg.AccessTokenMinutes)
	require.Equal(t, 7, cfg.RefreshTokenDays)
	require.Equal(t, 12, cfg.BcryptRounds)
	require.Equal(t, ports.RateLimit{Events: 5, Per: 15 * time.Minute}, cfg.AuthLimit)
	require.EqualValues(t, 10485760, cfg.MaxUploadSize)
	require.Equal(t, []string{"local"}, cfg.AIProviders)
	require.Equal(t, 4, cfg.WorkerConcurrency)
	require.False(t, cfg.Production())
	require.Len(t, cfg.SigningKey(), 32, "a random key when SECRET_KEY is unset in development")
	require.NotEmpty(t, cfg.Warnings())
}

func TestProductionRefusesUnsafeSettings(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		env  map[string]string
		want string
	}{
		"no secret":       {map[string]string{}, "SECRET_KEY is required"},
		"short secret":    {map[string]string{"SECRET_KEY": "short"}, "at least 32 bytes"},
		"short previous":  {map[string]string{"SECRET_KEY": goodKey, "SECRET_KEY_PREVIOUS": "short"}, "SECRET_KEY_PREVIOUS"},
		"cheap bcrypt":    {map[string]string{"SECRET_KEY": goodKey, "BCRYPT_ROUNDS": "4"}, "BCRYPT_ROUNDS"},
		"no auth limit":   {map[string]string{"SECRET_KEY": goodKey, "RATE_LIMIT_AUTH": "off"}, "RATE_LIMIT_AUTH=off"},
		"wildcard CORS":   {map[string]string{"SECRET_KEY": goodKey, "CORS_ORIGINS": "*"}, "CORS_ORIGINS"},
		"bad rate syntax": {map[string]string{"SECRET_KEY": goodKey, "RATE_LIMIT_AUTH": "5 per minute"}, "N/duration"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c.env["ENVIRONMENT"] = "production"
			_, err := bootstrap.ParseConfig(c.env)
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
		})
	}
	cfg, err := bootstrap.ParseConfig(map[string]string{"ENVIRONMENT": "production", "SECRET_KEY": goodKey})
	require.NoError(t, err)
	require.Equal(t, []byte(goodKey), cfg.SigningKey())
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]ports.RateLimit{
		"5/15m": {Events: 5, Per: 15 * time.Minute}, "100/1h": {Events: 100, Per: time.Hour}, "off": {}, "OFF": {},
	} {
		got, err := bootstrap.ParseRateLimit(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"5", "x/1m", "0/1m", "5/-1m", "5/forever"} {
		_, err := bootstrap.ParseRateLimit(bad)
		require.Error(t, err, bad)
		require.True(t, strings.Contains(err.Error(), "RATE_LIMIT_AUTH"), bad)
	}
}

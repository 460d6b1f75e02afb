package retryafter_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/repurpose/repurpose/adapters/aiproviders/retryafter"
)

func TestFromHeader(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		headers map[string]string
		want    time.Duration
	}{
		{name: "none", want: 0},
		{name: "seconds", headers: map[string]string{"Retry-After": "7"}, want: 7 * time.Second},
		{name: "fractional seconds", headers: map[string]string{"Retry-After": "1.5"}, want: 1500 * time.Millisecond},
		{name: "HTTP-date", headers: map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, want: 30 * time.Second},
		{name: "HTTP-date in the past", headers: map[string]string{"Retry-After": now.Add(-time.Minute).Format(http.TimeFormat)}, want: 0},
		{name: "milliseconds win", headers: map[string]string{"Retry-After": "2", "retry-after-ms": "250"}, want: 250 * time.Millisecond},
		{name: "bad milliseconds fall back", headers: map[string]string{"Retry-After": "2", "retry-after-ms": "soon"}, want: 2 * time.Second},
		{name: "negative", headers: map[string]string{"Retry-After": "-3"}, want: 0},
		{name: "garbage", headers: map[string]string{"Retry-After": "later"}, want: 0},
		{name: "capped", headers: map[string]string{"Retry-After": "86400"}, want: retryafter.Max},
		{name: "overflow", headers: map[string]string{"Retry-After": "1e300"}, want: retryafter.Max},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			require.Equal(t, tt.want, retryafter.FromHeader(h, now))
		})
	}
	require.Zero(t, retryafter.FromHeader(nil, now))
}

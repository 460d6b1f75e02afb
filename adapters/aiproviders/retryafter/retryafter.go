// Package retryafter reads how long a vendor API asked us to wait before
// retrying, from the headers of its 429 or 503 response. It is shared by the
// vendor AI adapters so every provider reports core.ERATELIMIT's RetryAfter
// the same way, and the router honours it.
package retryafter

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Max caps a vendor's wait: a bogus header (years, or an overflow) must not
// park a job; past it the router's own backoff and failover decide.
const Max = 10 * time.Minute

// FromHeader returns the wait in h, zero when h gives none. The
// millisecond header "retry-after-ms" (OpenAI, Anthropic) wins over
// "Retry-After", which may be seconds (possibly fractional) or an HTTP-date,
// measured from now. Negative or unparsable values count as none.
func FromHeader(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return clamp(time.Duration(ms * float64(time.Millisecond)))
		}
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return clamp(time.Duration(s * float64(time.Second)))
	}
	if at, err := http.ParseTime(v); err == nil {
		if d := at.Sub(now); d > 0 {
			return clamp(d)
		}
	}
	return 0
}

func clamp(d time.Duration) time.Duration {
	if d < 0 || d > Max {
		// A float overflow converts to a negative or huge Duration.
		return Max
	}
	return d
}

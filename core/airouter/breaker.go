package airouter

import (
	"sync"
	"time"
)

// Circuit states, as /api/providers/status shows them.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half_open"
)

// breaker is one provider's circuit breaker: Threshold consecutive
// retryable failures open it for OpenFor; then one probe request is let
// through (half-open): its success closes the circuit, its failure opens it
// again.
type breaker struct {
	threshold int
	openFor   time.Duration

	mu       sync.Mutex
	state    string
	failures int
	openedAt time.Time
	probing  bool
}

func newBreaker(threshold int, openFor time.Duration) *breaker {
	return &breaker{threshold: threshold, openFor: openFor, state: CircuitClosed}
}

// allow reports whether a call may go to the provider now; in half-open
// state only the first caller gets through, as the probe.
func (b *breaker) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch b.state {
	case CircuitOpen:
		if now.Sub(b.openedAt) < b.openFor {
			return false
		}
		b.state, b.probing = CircuitHalfOpen, true
		return true
	case CircuitHalfOpen:
		if b.probing {
			return false
		}
		b.probing = true
		return true
	default:
		return true
	}
}

// success records an answer (including a final error: the provider is up).
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.state, b.failures, b.probing = CircuitClosed, 0, false
}

// failure records a retryable failure.
func (b *breaker) failure(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.state == CircuitHalfOpen || b.failures >= b.threshold {
		b.state, b.openedAt, b.probing = CircuitOpen, now, false
	}
}

// release ends a call that said nothing about the provider's health (it
// doesn't support the request, or the caller gave up): a probe slot is
// freed for the next caller.
func (b *breaker) release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

// snapshot returns the state and, when open, until when.
func (b *breaker) snapshot(now time.Time) (state string, openUntil time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == CircuitOpen {
		if now.Sub(b.openedAt) >= b.openFor {
			return CircuitHalfOpen, time.Time{}
		}
		return CircuitOpen, b.openedAt.Add(b.openFor)
	}
	return b.state, time.Time{}
}

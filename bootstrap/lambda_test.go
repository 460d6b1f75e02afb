package bootstrap

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestStartColdGivesTheCollectorBack checks that the collector's settings
// that startCold holds off during the start are back afterwards, here
// after a start that fails: a leak would leave the function without
// garbage collection up to coldStartMemoryLimit.
func TestStartColdGivesTheCollectorBack(t *testing.T) {
	for _, key := range []string{"DATABASE_URL", "REDIS_URL", "QUEUE_URL", "SQS_QUEUE_URL"} {
		t.Setenv(key, "")
	}
	gcPercent := debug.SetGCPercent(73)
	t.Cleanup(func() { debug.SetGCPercent(gcPercent) })
	memoryLimit := debug.SetMemoryLimit(3 << 30)
	t.Cleanup(func() { debug.SetMemoryLimit(memoryLimit) })

	_, err := startCold(LambdaAPI, "test")
	require.ErrorIs(t, err, ErrLambdaNeedsServices)
	require.Equal(t, 73, debug.SetGCPercent(73))
	require.Equal(t, int64(3<<30), debug.SetMemoryLimit(3<<30))
}

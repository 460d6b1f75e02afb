package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCommandsHaveHelp(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "worker", "migrate", "version", "healthcheck"} {
		var out, errOut bytes.Buffer
		code := run([]string{cmd, "--help"}, &out, &errOut)
		require.Equal(t, 0, code, cmd)
		require.Contains(t, out.String(), "Usage: repurpose "+cmd, cmd)
	}
	var out bytes.Buffer
	require.Equal(t, 0, run([]string{"--help"}, &out, &out))
	for _, cmd := range []string{"serve", "worker", "migrate", "version"} {
		require.Contains(t, out.String(), cmd)
	}
}

func TestVersionAndUnknownCommand(t *testing.T) {
	t.Parallel()
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run([]string{"version"}, &out, &errOut))
	require.Equal(t, "repurpose dev\n", out.String())
	require.Equal(t, 2, run([]string{"frobnicate"}, &out, &errOut))
	require.Contains(t, errOut.String(), `unknown command "frobnicate"`)
	require.Equal(t, 2, run(nil, &out, &errOut))
	require.Equal(t, 2, run([]string{"serve", "--bogus"}, &out, &errOut))
}

// Command testplugin is a scripted AI provider plugin for the host's
// tests and benchmarks. It is named after its file (copies under other
// names are other providers); req.Type picks what it does:
//
//	ECHO   answers "ok" at once (the no-op provider of the benchmarks)
//	CRASH  panics mid-call: the process dies
//	PID    answers its process id
//	ENV    answers its environment, NUL-separated
//	BLOCK  writes "started" to the file named by req.Title, waits for the
//	       call's ctx, then writes ctx.Err() there (proof that
//	       cancellation crossed over)
//
// GenerateStream sends "partial " then does the same; CRASH exits after
// that first delta.
package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/plugins/sdk"
	"github.com/repurpose/repurpose/ports"
)

type provider struct{ name string }

func (p provider) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: p.name, Models: []string{p.name + "-1"}}, nil
}

func (p provider) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	res := ports.AIResult{Provider: p.name, Model: p.name + "-1"}
	switch req.Type {
	case "ECHO":
		res.Text = "ok"
	case "CRASH":
		panic("testplugin: crash mid-call")
	case "PID":
		res.Text = strconv.Itoa(os.Getpid())
	case "ENV":
		res.Text = strings.Join(os.Environ(), "\x00")
	case "BLOCK":
		_ = os.WriteFile(req.Title, []byte("started"), 0o600)
		<-ctx.Done()
		_ = os.WriteFile(req.Title, []byte(ctx.Err().Error()), 0o600)
		return ports.AIResult{}, ctx.Err()
	default:
		return ports.AIResult{}, core.AIUnsupported(p.name, req.Type)
	}
	return res, nil
}

func (p provider) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(string) error) (ports.AIResult, error) {
	if err := onDelta("partial "); err != nil {
		return ports.AIResult{}, err
	}
	if req.Type == "CRASH" {
		os.Exit(3)
	}
	res, err := p.Generate(ctx, req)
	if err != nil {
		return ports.AIResult{}, err
	}
	if err := onDelta(res.Text); err != nil {
		return ports.AIResult{}, err
	}
	res.Text = "partial " + res.Text
	return res, nil
}

func main() {
	sdk.Serve(provider{name: filepath.Base(os.Args[0])})
}

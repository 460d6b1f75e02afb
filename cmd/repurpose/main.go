// Command repurpose is the Repurpose server binary: the API (with an
// in-process worker in the default mode), queue workers, migrations.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"go.uber.org/fx"

	"github.com/repurpose/repurpose/bootstrap"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `repurpose: multi-tenant content transformation platform

Usage:
  repurpose <command> [--help]

Commands:
  serve        run the HTTP API (with an in-process worker when REDIS_URL is unset)
  worker       run a queue worker (needs DATABASE_URL and REDIS_URL)
  migrate      apply database migrations and exit
  version      print the version
  healthcheck  GET /healthz of the local server; exit 0 when it answers 200 (for containers)

Configuration comes from the environment and an optional .env file;
see the README for every variable.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	descriptions := map[string]string{
		"serve":       "Run the HTTP API on HTTP_ADDR (default :8080). Without DATABASE_URL/REDIS_URL everything runs in memory.",
		"worker":      "Run a queue worker with its health and metrics listener on WORKER_HTTP_ADDR (default :9091).",
		"migrate":     "Apply pending migrations with MIGRATE_DATABASE_URL (or DATABASE_URL) and exit.",
		"version":     "Print the version and exit.",
		"healthcheck": "Exit 0 when http://127.0.0.1:<port>/healthz answers 200 within 3s, else 1 (port of --addr, HTTP_ADDR or :8080).",
	}
	switch cmd {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	desc, ok := descriptions[cmd]
	if !ok {
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	healthAddr := fs.String("addr", "", "healthcheck: the address to probe (default HTTP_ADDR, or :8080)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: repurpose %s\n\n%s\n", cmd, desc)
		if cmd == "healthcheck" {
			fs.PrintDefaults()
		}
	}
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stdout)
			fs.Usage()
			return 0
		}
		return 2
	}
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "repurpose", version)
		return 0
	case "healthcheck":
		return healthcheck(*healthAddr, stderr)
	}
	cfg, err := bootstrap.LoadConfig()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	opts, err := bootstrap.Options(cfg, bootstrap.Entry(cmd), version)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	log := cfg.Logger()
	if cmd == "serve" {
		for _, w := range cfg.Warnings() {
			log.Warn(w)
		}
	}
	app := fx.New(opts)
	if cmd == "migrate" {
		if err := app.Err(); err != nil {
			log.Error("migrate failed", "err", err)
			return 1
		}
		return 0
	}
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	sig := <-app.Wait()
	stopCtx, cancelStop := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelStop()
	if err := app.Stop(stopCtx); err != nil {
		log.Error("stop failed", "err", err)
		return 1
	}
	return sig.ExitCode
}

func healthcheck(addr string, stderr io.Writer) int {
	if addr == "" {
		addr = os.Getenv("HTTP_ADDR")
	}
	if addr == "" {
		addr = ":8080"
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		fmt.Fprintln(stderr, "HTTP_ADDR:", err)
		return 1
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get("http://" + net.JoinHostPort("127.0.0.1", strings.TrimSpace(port)) + "/healthz")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintln(stderr, "healthz:", resp.Status)
		return 1
	}
	return 0
}

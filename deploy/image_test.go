package deploy

import (
	"bufio"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"github.com/stretchr/testify/require"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ...
	args string
}

// stage is a FROM and the instructions under it.
type stage struct {
	name  string
	from  string
	instr []instruction
}

// parseDockerfile splits a Dockerfile into its stages (what BuildKit's parser
// does for the subset this repository uses: comments, `\` continuations).
func parseDockerfile(t *testing.T, path string) (args map[string]string, stages []stage) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	args = map[string]string{}
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if l, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(l + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	require.NoError(t, sc.Err())
	for _, l := range lines {
		cmd, rest, _ := strings.Cut(l, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(rest)}
		switch {
		case in.cmd == "FROM":
			fields := strings.Fields(in.args)
			fields = slices.DeleteFunc(fields, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := stage{from: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			stages = append(stages, st)
		case len(stages) == 0 && in.cmd == "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		case len(stages) > 0:
			stages[len(stages)-1].instr = append(stages[len(stages)-1].instr, in)
		}
	}
	require.NotEmpty(t, stages, "no FROM in %s", path)
	return args, stages
}

// makeRecipe returns the recipe lines of a Makefile target.
func makeRecipe(t *testing.T, path, target string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var recipe []string
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "\t") && in:
			recipe = append(recipe, strings.TrimSpace(line))
		case strings.HasPrefix(line, target+":"):
			in = true
		case !strings.HasPrefix(line, "\t"):
			in = false
		}
	}
	require.NotEmpty(t, recipe, "%s has no recipe for %s", path, target)
	return recipe
}

// TestDockerfileBuildsWhatMakeBuilds keeps the image and `make build` from
// drifting apart: the build stage runs `make build` itself, and the runtime
// stage ships what that target writes (bin/repurpose, bin/plugins).
func TestDockerfileBuildsWhatMakeBuilds(t *testing.T) {
	t.Parallel()
	args, stages := parseDockerfile(t, filepath.Join(repoRoot, "Dockerfile"))
	require.GreaterOrEqual(t, len(stages), 2, "multi-stage")

	build := stages[0]
	require.NotEmpty(t, build.name)
	var runsMake bool
	for _, in := range build.instr {
		if in.cmd == "RUN" && regexp.MustCompile(`(^|[\s;&|])make build(\s|$)`).MatchString(in.args) {
			runsMake = true
		}
	}
	require.True(t, runsMake, "the build stage runs `make build`")

	recipe := strings.Join(makeRecipe(t, filepath.Join(repoRoot, "Makefile"), "build"), "\n")
	require.Contains(t, recipe, "-o bin/repurpose ./cmd/repurpose")
	require.Contains(t, recipe, "CGO_ENABLED=0", "the distroless/static image needs a static binary")
	// Every plugin main package is built into bin/plugins, by name or by
	// ./plugins/... (API.md: `make build` puts the plugins under bin/plugins).
	if mains := pluginMains(t); len(mains) > 0 {
		require.Contains(t, recipe, "bin/plugins")
		for _, dir := range mains {
			rel, err := filepath.Rel(repoRoot, dir)
			require.NoError(t, err)
			pkg := "./" + filepath.ToSlash(rel)
			require.Regexp(t, `(^|\s)(`+regexp.QuoteMeta(pkg)+`|\./plugins/\.\.\.)(\s|$)`, recipe,
				"make build builds the plugin %s", pkg)
		}
	}

	final := stages[len(stages)-1]
	require.True(t, strings.HasPrefix(final.from, "gcr.io/distroless/static"), final.from)
	var copies []string
	env := map[string]string{}
	var user, entrypoint string
	for _, in := range final.instr {
		switch in.cmd {
		case "COPY":
			copies = append(copies, in.args)
		case "ENV":
			k, v, _ := strings.Cut(in.args, "=")
			env[k] = v
		case "USER":
			user = in.args
		case "ENTRYPOINT":
			entrypoint = in.args
		}
	}
	from := "--from=" + build.name + " "
	require.Contains(t, copies, from+"/src/bin/repurpose /repurpose")
	require.Contains(t, copies, from+"/src/bin/plugins /plugins")
	require.Equal(t, "/plugins", env["PLUGIN_DIR"])
	require.Equal(t, `["/repurpose"]`, entrypoint)
	require.NotEmpty(t, user)
	require.NotContains(t, []string{"root", "0", "0:0", "root:root"}, user)

	// The builder's Go is the go.mod language version's minor release.
	gomod, err := os.ReadFile(filepath.Join(repoRoot, "go.mod"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(gomod)
	require.NotNil(t, m)
	require.Equal(t, string(m[1]), args["GO_VERSION"])
}

// pluginMains lists the main packages under plugins/ (none until the
// first plugin lands).
func pluginMains(t *testing.T) []string {
	t.Helper()
	var mains []string
	root := filepath.Join(repoRoot, "plugins")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.PackageClauseOnly)
		if err != nil {
			return err
		}
		if dir := filepath.Dir(path); f.Name.Name == "main" && !slices.Contains(mains, dir) {
			mains = append(mains, dir)
		}
		return nil
	})
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	return mains
}

// TestDockerignore evaluates .dockerignore with the matcher docker uses: the
// build needs the sources and the Makefile, and no secret gets in.
func TestDockerignore(t *testing.T) {
	t.Parallel()
	f, err := os.Open(filepath.Join(repoRoot, ".dockerignore"))
	require.NoError(t, err)
	defer f.Close()
	patterns, err := ignorefile.ReadAll(f)
	require.NoError(t, err)
	pm, err := patternmatcher.New(patterns)
	require.NoError(t, err)
	for _, keep := range []string{"go.mod", "go.sum", "Makefile", "cmd/repurpose/main.go", "bootstrap/config.go",
		"migrations/0001_foundation.sql", "plugins/local/main.go", "adapters/httpapi/server.go"} {
		excluded, err := pm.MatchesOrParentMatches(keep)
		require.NoError(t, err)
		require.False(t, excluded, "the build needs %s", keep)
	}
	for _, drop := range []string{".env", ".env.production", ".git/config", "bin/repurpose", "server.key", "deploy/k8s/secret.example.yaml"} {
		excluded, err := pm.MatchesOrParentMatches(drop)
		require.NoError(t, err)
		require.True(t, excluded, "%s stays out of the build context", drop)
	}
}

package deploy

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/stretchr/testify/require"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// loadCompose loads docker-compose.yml the way `docker compose` does
// (interpolation, merge keys, normalisation, consistency checks) with a
// fixed environment instead of the caller's shell and .env.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions(
		[]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot),
		cli.WithEnv([]string{"SECRET_KEY=" + "0123456789abcdef0123456789abcdef"}),
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
	)
	require.NoError(t, err)
	project, err := opts.LoadProject(context.Background())
	require.NoError(t, err)
	return project
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	require.NoError(t, err, "service %s", name)
	return s
}

// appServices run the repurpose image, with the subcommand each runs.
var appServices = map[string]string{"migrate": "migrate", "api": "serve", "worker": "worker"}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	require.ElementsMatch(t, []string{"postgres", "redis", "migrate", "api", "worker"}, p.ServiceNames())
	require.Contains(t, p.Volumes, "postgres-data")
	require.Contains(t, p.Volumes, "redis-data")
	require.True(t, slices.ContainsFunc(service(t, p, "postgres").Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Source == "postgres-data"
	}), "postgres keeps its data in the named volume")
	require.True(t, slices.ContainsFunc(service(t, p, "redis").Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Source == "redis-data"
	}), "redis keeps its data in the named volume")
}

func TestComposeAppServicesShareOneImage(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	api := service(t, p, "api")
	require.NotEmpty(t, api.Image)
	require.NotNil(t, api.Build)
	for name, cmd := range appServices {
		s := service(t, p, name)
		require.Equal(t, api.Image, s.Image, "%s runs the api's image", name)
		require.NotNil(t, s.Build, name)
		require.Equal(t, api.Build.Context, s.Build.Context, name)
		require.Equal(t, api.Build.Dockerfile, s.Build.Dockerfile, name)
		require.Equal(t, api.Build.Args, s.Build.Args, name)
		require.Equal(t, types.ShellCommand{cmd}, s.Command, "%s runs `repurpose %s`", name, cmd)
		require.Empty(t, s.Entrypoint, "%s keeps the image's /repurpose entrypoint", name)
		require.True(t, s.ReadOnly, "%s has a read-only root filesystem", name)
		require.Contains(t, s.CapDrop, "ALL", name)
	}
}

func TestComposeStartOrder(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	migrate := service(t, p, "migrate")
	require.Equal(t, "no", migrate.Restart, "migrate runs once")
	require.Equal(t, types.ServiceConditionHealthy, migrate.DependsOn["postgres"].Condition)
	for _, name := range []string{"api", "worker"} {
		s := service(t, p, name)
		require.Equal(t, types.ServiceConditionCompletedSuccessfully, s.DependsOn["migrate"].Condition, name)
		require.Equal(t, types.ServiceConditionHealthy, s.DependsOn["postgres"].Condition, name)
		require.Equal(t, types.ServiceConditionHealthy, s.DependsOn["redis"].Condition, name)
		require.Equal(t, "false", env(t, s, "AUTO_MIGRATE"), "%s leaves the schema to migrate", name)
	}
}

func TestComposeHealthchecks(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	for name, s := range p.Services {
		if name == "migrate" {
			continue // one-shot
		}
		require.NotNil(t, s.HealthCheck, "long-running service %s has a healthcheck", name)
		require.False(t, s.HealthCheck.Disable, name)
		require.NotEmpty(t, s.HealthCheck.Test, name)
	}
	// distroless has no shell: the app services probe with the binary, each
	// on the port it serves /healthz on.
	api := service(t, p, "api")
	require.Equal(t, types.HealthCheckTest{"CMD", "/repurpose", "healthcheck"}, api.HealthCheck.Test)
	require.Equal(t, port(t, env(t, api, "HTTP_ADDR")), "8080", "the healthcheck's default is HTTP_ADDR")
	require.True(t, slices.ContainsFunc(api.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == 8080 }))

	worker := service(t, p, "worker")
	test := worker.HealthCheck.Test
	require.Equal(t, types.HealthCheckTest{"CMD", "/repurpose", "healthcheck", "--addr"}, test[:len(test)-1])
	require.Equal(t, port(t, env(t, worker, "WORKER_HTTP_ADDR")), port(t, test[len(test)-1]),
		"the worker's healthcheck probes its own health listener")
}

func TestComposeWorkerScales(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	worker := service(t, p, "worker")
	require.Empty(t, worker.ContainerName, "container_name forbids --scale")
	for _, pc := range worker.Ports {
		require.Empty(t, pc.Published, "a fixed host port forbids --scale: %+v", pc)
	}
	// What `docker compose up --scale worker=3` does to the model.
	scaled, err := p.WithServicesTransform(func(name string, s types.ServiceConfig) (types.ServiceConfig, error) {
		if name == "worker" {
			s.SetScale(3)
		}
		return s, nil
	})
	require.NoError(t, err)
	w := service(t, scaled, "worker")
	require.Equal(t, 3, w.GetScale())
}

func TestComposeEnvironment(t *testing.T) {
	t.Parallel()
	p := loadCompose(t)
	known := knownEnv(t)
	for name := range appServices {
		s := service(t, p, name)
		for _, key := range []string{"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} {
			require.NotEmpty(t, env(t, s, key), "%s needs %s", name, key)
		}
		require.Equal(t, "production", env(t, s, "ENVIRONMENT"), name)
		require.Equal(t, "/plugins", env(t, s, "PLUGIN_DIR"), "%s finds the plugins where the Dockerfile puts them", name)
		for key := range s.Environment {
			require.True(t, known[key], "%s: %s is no variable the app reads", name, key)
		}
	}
	// SECRET_KEY has no default: compose refuses to start without one.
	opts, err := cli.NewProjectOptions([]string{filepath.Join(repoRoot, "docker-compose.yml")},
		cli.WithWorkingDirectory(repoRoot), cli.WithEnv(nil))
	require.NoError(t, err)
	_, err = opts.LoadProject(context.Background())
	require.ErrorContains(t, err, "SECRET_KEY")
}

func env(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	require.True(t, ok, "%s sets %s", s.Name, key)
	if v == nil {
		return ""
	}
	return *v
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err, addr)
	return p
}

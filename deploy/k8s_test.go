package deploy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

const k8sDir = "k8s"

// secretExample is the documented shape of the Secret: decoded and checked
// like the rest, but never applied from the kustomization.
const secretExample = "secret.example.yaml"

// kustomization is the subset of kustomize's Kustomization used here; decoded
// strictly, so a `namespace:` (these manifests are namespace-agnostic) or a
// misspelt field fails the test.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
	Images     []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images"`
}

// manifests is every object under deploy/k8s, decoded into its API type.
type manifests struct {
	kustomization   kustomization
	files           map[string][]metav1.Object // file -> objects
	deployments     map[string]*appsv1.Deployment
	jobs            map[string]*batchv1.Job
	services        map[string]*corev1.Service
	configMaps      map[string]*corev1.ConfigMap
	secrets         map[string]*corev1.Secret
	serviceAccounts map[string]*corev1.ServiceAccount
	hpas            map[string]*autoscalingv2.HorizontalPodAutoscaler
	pdbs            map[string]*policyv1.PodDisruptionBudget
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func loadManifests(t *testing.T) *manifests {
	t.Helper()
	m := &manifests{
		files:       map[string][]metav1.Object{},
		deployments: map[string]*appsv1.Deployment{}, jobs: map[string]*batchv1.Job{},
		services: map[string]*corev1.Service{}, configMaps: map[string]*corev1.ConfigMap{},
		secrets: map[string]*corev1.Secret{}, serviceAccounts: map[string]*corev1.ServiceAccount{},
		hpas: map[string]*autoscalingv2.HorizontalPodAutoscaler{}, pdbs: map[string]*policyv1.PodDisruptionBudget{},
	}
	b, err := os.ReadFile(filepath.Join(k8sDir, "kustomization.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(b, &m.kustomization), "kustomization.yaml")

	paths, err := filepath.Glob(filepath.Join(k8sDir, "*.yaml"))
	require.NoError(t, err)
	ymls, err := filepath.Glob(filepath.Join(k8sDir, "*.yml"))
	require.NoError(t, err)
	require.Empty(t, ymls, "name manifests *.yaml")
	for _, path := range paths {
		file := filepath.Base(path)
		if file == "kustomization.yaml" {
			continue
		}
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		for i, doc := range docSeparator.Split(string(b), -1) {
			if strings.TrimSpace(stripComments(doc)) == "" {
				continue
			}
			obj := decodeStrict(t, []byte(doc), file, i, m)
			m.files[file] = append(m.files[file], obj)
		}
	}
	return m
}

func stripComments(doc string) string {
	var out strings.Builder
	for line := range strings.Lines(doc) {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			out.WriteString(line)
		}
	}
	return out.String()
}

// decodeStrict decodes one YAML document into the API type of its kind,
// refusing unknown and duplicate fields (what `kubectl apply
// --validate=strict` refuses).
func decodeStrict(t *testing.T, doc []byte, file string, i int, m *manifests) metav1.Object {
	t.Helper()
	var tm metav1.TypeMeta
	require.NoError(t, yaml.Unmarshal(doc, &tm), "%s #%d", file, i)
	where := file + ": " + tm.APIVersion + "/" + tm.Kind
	var obj metav1.Object
	into := func(o metav1.Object) {
		require.NoError(t, yaml.UnmarshalStrict(doc, o), where)
		obj = o
	}
	switch tm.APIVersion + "/" + tm.Kind {
	case "apps/v1/Deployment":
		o := &appsv1.Deployment{}
		into(o)
		m.deployments[o.Name] = o
	case "batch/v1/Job":
		o := &batchv1.Job{}
		into(o)
		m.jobs[o.Name] = o
	case "v1/Service":
		o := &corev1.Service{}
		into(o)
		m.services[o.Name] = o
	case "v1/ConfigMap":
		o := &corev1.ConfigMap{}
		into(o)
		m.configMaps[o.Name] = o
	case "v1/Secret":
		o := &corev1.Secret{}
		into(o)
		m.secrets[o.Name] = o
	case "v1/ServiceAccount":
		o := &corev1.ServiceAccount{}
		into(o)
		m.serviceAccounts[o.Name] = o
	case "autoscaling/v2/HorizontalPodAutoscaler":
		o := &autoscalingv2.HorizontalPodAutoscaler{}
		into(o)
		m.hpas[o.Name] = o
	case "policy/v1/PodDisruptionBudget":
		o := &policyv1.PodDisruptionBudget{}
		into(o)
		m.pdbs[o.Name] = o
	default:
		t.Fatalf("%s: no decoder for this kind; add one to decodeStrict", where)
	}
	require.NotEmpty(t, obj.GetName(), where)
	return obj
}

func TestK8sKustomizationListsEveryManifest(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	k := m.kustomization
	require.Equal(t, "kustomize.config.k8s.io/v1beta1", k.APIVersion)
	require.Equal(t, "Kustomization", k.Kind)
	var want []string
	for file := range m.files {
		if file != secretExample {
			want = append(want, file)
		}
	}
	require.ElementsMatch(t, want, k.Resources, "kustomization.yaml lists every manifest but the secret example")
	require.Contains(t, m.files, secretExample)

	names := map[string]bool{}
	for file, objs := range m.files {
		for _, o := range objs {
			require.Empty(t, o.GetNamespace(), "%s: %s names a namespace", file, o.GetName())
			require.Equal(t, "repurpose", o.GetLabels()["app.kubernetes.io/name"], "%s: %s", file, o.GetName())
			key := reflect.TypeOf(o).String() + "/" + o.GetName()
			require.False(t, names[key], "%s defined twice", key)
			names[key] = true
		}
	}
	// The image transformer rewrites the one image every container runs.
	require.Len(t, k.Images, 1)
	for _, c := range m.containers(t) {
		require.Equal(t, k.Images[0].Name, c.Image, c.Name)
	}
}

// podSpecs are the pod templates of the Deployments and the Job, by name.
func (m *manifests) podSpecs() map[string]corev1.PodTemplateSpec {
	specs := map[string]corev1.PodTemplateSpec{}
	for name, d := range m.deployments {
		specs[name] = d.Spec.Template
	}
	for name, j := range m.jobs {
		specs[name] = j.Spec.Template
	}
	return specs
}

func (m *manifests) containers(t *testing.T) []corev1.Container {
	t.Helper()
	var all []corev1.Container
	for _, p := range m.podSpecs() {
		all = append(all, p.Spec.InitContainers...)
		all = append(all, p.Spec.Containers...)
	}
	require.NotEmpty(t, all)
	return all
}

// workloads is what each workload runs: `repurpose <arg>`, and the port its
// probes use (0: none, a one-shot Job).
var workloads = []struct {
	kind, name, arg string
	port            int32
	addrKey         string
}{
	{"Deployment", "repurpose-api", "serve", 8080, "HTTP_ADDR"},
	{"Deployment", "repurpose-worker", "worker", 9091, "WORKER_HTTP_ADDR"},
	{"Job", "repurpose-migrate", "migrate", 0, ""},
}

func TestK8sWorkloads(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	require.Len(t, m.deployments, 2)
	require.Len(t, m.jobs, 1)
	var image string
	for _, w := range workloads {
		t.Run(w.name, func(t *testing.T) {
			pod, ok := m.podSpecs()[w.name]
			require.True(t, ok, "%s %s is defined", w.kind, w.name)
			if w.kind == "Job" {
				require.Contains(t, m.jobs, w.name)
				require.Equal(t, corev1.RestartPolicyNever, pod.Spec.RestartPolicy)
			}
			require.Len(t, pod.Spec.Containers, 1)
			c := pod.Spec.Containers[0]
			if image == "" {
				image = c.Image
			}
			require.Equal(t, image, c.Image, "api, worker and migrate run one image")
			require.Empty(t, c.Command, "the image's /repurpose entrypoint stays")
			require.Equal(t, []string{w.arg}, c.Args)

			// No API token, non-root, read-only, no capabilities.
			sa, ok := m.serviceAccounts[pod.Spec.ServiceAccountName]
			require.True(t, ok, "service account %q is defined", pod.Spec.ServiceAccountName)
			require.NotNil(t, sa.AutomountServiceAccountToken)
			require.False(t, *sa.AutomountServiceAccountToken)
			require.NotNil(t, pod.Spec.AutomountServiceAccountToken)
			require.False(t, *pod.Spec.AutomountServiceAccountToken)
			require.NotNil(t, pod.Spec.SecurityContext)
			require.True(t, isTrue(pod.Spec.SecurityContext.RunAsNonRoot))
			sc := c.SecurityContext
			require.NotNil(t, sc)
			require.True(t, isTrue(sc.RunAsNonRoot))
			require.True(t, isTrue(sc.ReadOnlyRootFilesystem))
			require.NotNil(t, sc.AllowPrivilegeEscalation)
			require.False(t, *sc.AllowPrivilegeEscalation)
			require.NotNil(t, sc.Capabilities)
			require.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
			require.Empty(t, sc.Capabilities.Add)

			for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				req, lim := c.Resources.Requests[r], c.Resources.Limits[r]
				require.False(t, req.IsZero(), "%s request", r)
				require.False(t, lim.IsZero(), "%s limit", r)
				require.LessOrEqual(t, req.Cmp(lim), 0, "%s request <= limit", r)
			}
			// Every volume mount names a volume of the pod.
			for _, vm := range c.VolumeMounts {
				require.True(t, slices.ContainsFunc(pod.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == vm.Name }), vm.Name)
			}
			if w.kind != "Deployment" {
				return
			}

			d := m.deployments[w.name]
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			require.NoError(t, err)
			require.False(t, sel.Empty())
			require.True(t, sel.Matches(labels.Set(pod.Labels)), "the selector matches the pod labels")

			require.NotNil(t, c.ReadinessProbe)
			require.NotNil(t, c.LivenessProbe)
			for probe, path := range map[*corev1.Probe]string{c.ReadinessProbe: "/readyz", c.LivenessProbe: "/healthz"} {
				require.NotNil(t, probe.HTTPGet)
				require.Equal(t, path, probe.HTTPGet.Path)
				require.Equal(t, w.port, containerPort(t, c, probe.HTTPGet.Port.String()), path)
			}
			if c.StartupProbe != nil {
				require.Equal(t, w.port, containerPort(t, c, c.StartupProbe.HTTPGet.Port.String()))
			}
			// The port the process listens on, from the ConfigMap.
			require.Equal(t, w.port, addrPort(t, m.configValue(t, c, w.addrKey)), w.addrKey)
		})
	}
	require.NotNil(t, m.deployments["repurpose-api"].Spec.Replicas)
	require.Equal(t, int32(2), *m.deployments["repurpose-api"].Spec.Replicas)
}

func TestK8sServiceTargetsAPI(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	svc, ok := m.services["repurpose-api"]
	require.True(t, ok)
	api := m.deployments["repurpose-api"].Spec.Template
	require.NotEmpty(t, svc.Spec.Selector)
	require.True(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(api.Labels)))
	require.False(t, labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(m.deployments["repurpose-worker"].Spec.Template.Labels)),
		"the Service must not send traffic to workers")
	require.NotEmpty(t, svc.Spec.Ports)
	for _, p := range svc.Spec.Ports {
		require.Equal(t, int32(8080), containerPort(t, api.Spec.Containers[0], p.TargetPort.String()))
	}
}

func TestK8sAutoscalingAndDisruptionBudgets(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	scaled := map[string]bool{}
	for name, h := range m.hpas {
		ref := h.Spec.ScaleTargetRef
		require.Equal(t, "apps/v1", ref.APIVersion, name)
		require.Equal(t, "Deployment", ref.Kind, name)
		d, ok := m.deployments[ref.Name]
		require.True(t, ok, "HPA %s targets Deployment %s, which is defined", name, ref.Name)
		require.NotNil(t, h.Spec.MinReplicas)
		require.GreaterOrEqual(t, *h.Spec.MinReplicas, int32(2), "%s: one pod is no redundancy", name)
		require.Greater(t, h.Spec.MaxReplicas, *h.Spec.MinReplicas, name)
		if d.Spec.Replicas != nil {
			require.GreaterOrEqual(t, *d.Spec.Replicas, *h.Spec.MinReplicas, name)
		}
		require.NotEmpty(t, h.Spec.Metrics, name)
		for _, metric := range h.Spec.Metrics {
			if metric.Type == autoscalingv2.ResourceMetricSourceType && metric.Resource.Target.Type == autoscalingv2.UtilizationMetricType {
				req := d.Spec.Template.Spec.Containers[0].Resources.Requests[metric.Resource.Name]
				require.False(t, req.IsZero(), "%s: utilization of %s needs a request", name, metric.Resource.Name)
			}
		}
		scaled[ref.Name] = true
	}

	budgeted := map[string]bool{}
	for name, p := range m.pdbs {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		require.NoError(t, err)
		require.False(t, sel.Empty(), name)
		var matches []string
		for dn, d := range m.deployments {
			if sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				matches = append(matches, dn)
			}
		}
		require.Len(t, matches, 1, "PDB %s selects the pods of exactly one Deployment", name)
		require.True(t, (p.Spec.MinAvailable == nil) != (p.Spec.MaxUnavailable == nil), "%s: minAvailable or maxUnavailable", name)
		budgeted[matches[0]] = true
	}
	for name := range m.deployments {
		require.True(t, scaled[name], "Deployment %s has an HPA", name)
		require.True(t, budgeted[name], "Deployment %s has a PDB", name)
	}
}

func TestK8sConfigurationReferences(t *testing.T) {
	t.Parallel()
	m := loadManifests(t)
	known := knownEnv(t)
	for name, cm := range m.configMaps {
		for key := range cm.Data {
			require.True(t, known[key], "ConfigMap %s: %s is no variable the app reads", name, key)
		}
	}
	require.Equal(t, "/plugins", m.configMaps["repurpose-config"].Data["PLUGIN_DIR"], "where the Dockerfile puts the plugins")
	require.Equal(t, "false", m.configMaps["repurpose-config"].Data["AUTO_MIGRATE"], "the Job migrates")
	for _, s := range m.secrets {
		for key, v := range s.StringData {
			require.True(t, known[key], "Secret %s: %s is no variable the app reads", s.Name, key)
			require.NotRegexp(t, `^sk-|^sk-ant-`, v, "no real secret in an example")
		}
	}

	for wname, pod := range m.podSpecs() {
		for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
			for _, from := range c.EnvFrom {
				switch {
				case from.ConfigMapRef != nil:
					require.Contains(t, m.configMaps, from.ConfigMapRef.Name, "%s/%s envFrom", wname, c.Name)
				case from.SecretRef != nil:
					require.Contains(t, m.secrets, from.SecretRef.Name, "%s/%s envFrom", wname, c.Name)
				}
			}
			for _, e := range c.Env {
				require.True(t, known[e.Name], "%s/%s: %s is no variable the app reads", wname, c.Name, e.Name)
				if e.ValueFrom == nil {
					continue
				}
				if ref := e.ValueFrom.SecretKeyRef; ref != nil {
					s, ok := m.secrets[ref.Name]
					require.True(t, ok, "%s/%s: %s reads Secret %s, which is not defined", wname, c.Name, e.Name, ref.Name)
					_, inString := s.StringData[ref.Key]
					_, inData := s.Data[ref.Key]
					require.True(t, inString || inData, "%s/%s: Secret %s has no key %s", wname, c.Name, ref.Name, ref.Key)
				}
				if ref := e.ValueFrom.ConfigMapKeyRef; ref != nil {
					cm, ok := m.configMaps[ref.Name]
					require.True(t, ok, "%s/%s: %s reads ConfigMap %s, which is not defined", wname, c.Name, e.Name, ref.Name)
					require.Contains(t, cm.Data, ref.Key)
				}
			}
			required := []string{"DATABASE_URL", "SECRET_KEY", "ENVIRONMENT"}
			if wname != "repurpose-migrate" {
				required = append(required, "REDIS_URL", "PLUGIN_DIR")
			}
			for _, key := range required {
				require.True(t, m.provides(c, key), "%s/%s gets %s", wname, c.Name, key)
			}
			// The required secrets are not optional.
			for _, e := range c.Env {
				if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil && slices.Contains(required, e.Name) {
					require.False(t, isTrue(ref.SecretKeyRef.Optional), "%s/%s: %s", wname, c.Name, e.Name)
				}
			}
		}
	}
}

// provides reports whether the container's environment sets key, directly
// or from a referenced ConfigMap or Secret.
func (m *manifests) provides(c corev1.Container, key string) bool {
	if slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == key }) {
		return true
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil {
			if _, ok := m.configMaps[from.ConfigMapRef.Name].Data[from.Prefix+key]; ok {
				return true
			}
		}
		if from.SecretRef != nil {
			if _, ok := m.secrets[from.SecretRef.Name].StringData[from.Prefix+key]; ok {
				return true
			}
		}
	}
	return false
}

// configValue is the value of key in the container's environment (env, or
// a ConfigMap it imports).
func (m *manifests) configValue(t *testing.T, c corev1.Container, key string) string {
	t.Helper()
	for _, e := range c.Env {
		if e.Name == key && e.ValueFrom == nil {
			return e.Value
		}
	}
	for _, from := range c.EnvFrom {
		if from.ConfigMapRef != nil {
			if v, ok := m.configMaps[from.ConfigMapRef.Name].Data[key]; ok {
				return v
			}
		}
	}
	t.Fatalf("%s: no %s", c.Name, key)
	return ""
}

// containerPort resolves a probe or Service port (a number or a port name).
func containerPort(t *testing.T, c corev1.Container, port string) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == port || strconv.Itoa(int(p.ContainerPort)) == port {
			return p.ContainerPort
		}
	}
	t.Fatalf("%s: no container port %q", c.Name, port)
	return 0
}

func addrPort(t *testing.T, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	require.NoError(t, err, addr)
	n, err := strconv.ParseInt(p, 10, 32)
	require.NoError(t, err, addr)
	return int32(n)
}

func isTrue(b *bool) bool { return b != nil && *b }

// knownEnv is every variable the binary reads (the env tags of
// bootstrap.Config, read from its source so that this package does not build
// the whole application), those the provider plugins read, and the Go
// runtime's.
func knownEnv(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{"GOMEMLIMIT": true, "GOMAXPROCS": true}
	for _, p := range []string{"OPENAI", "ANTHROPIC"} {
		for _, s := range []string{"_API_KEY", "_BASE_URL", "_MODEL"} {
			known[p+s] = true
		}
	}
	f, err := parser.ParseFile(token.NewFileSet(), filepath.Join(repoRoot, "bootstrap", "config.go"), nil, parser.SkipObjectResolution)
	require.NoError(t, err)
	var found bool
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok || ts.Name.Name != "Config" {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		require.True(t, ok, "bootstrap.Config is a struct")
		for _, field := range st.Fields.List {
			if field.Tag == nil {
				continue
			}
			tag, err := strconv.Unquote(field.Tag.Value)
			require.NoError(t, err)
			name, _, _ := strings.Cut(reflect.StructTag(tag).Get("env"), ",")
			if name != "" && name != "-" {
				known[name] = true
				found = true
			}
		}
		return false
	})
	require.True(t, found, "no env tags found in bootstrap.Config")
	return known
}

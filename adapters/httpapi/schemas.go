package httpapi

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// lazySchemas is a huma.Registry that generates the schema of a struct type
// (a request or response body, the error model) when something reads it,
// not when an operation is registered. Registering an operation only needs
// the reference ("#/components/schemas/Name"); the schema itself is read
// when a request body is validated, and when the OpenAPI document is
// served. Most of NewHandler's time went to generating, by reflection, the
// schemas of responses that nothing reads during a request: the Lambda cold
// start paid for them before its first event. The generated schemas are
// those of the registry it wraps, under the same names.
//
// It is safe for concurrent use: requests validate concurrently.
type lazySchemas struct {
	mu      sync.Mutex
	inner   huma.Registry // the generated schemas
	prefix  string
	namer   func(t reflect.Type, hint string) string
	pending map[string]pendingSchema // by name, not generated yet
	known   map[string]reflect.Type  // every name handed out, generated or not
	aliases map[reflect.Type]bool    // types registered with RegisterTypeAlias
}

// pendingSchema is a schema to generate: inner.Schema(t, true, hint).
type pendingSchema struct {
	t    reflect.Type
	hint string
}

var (
	_ huma.Registry  = (*lazySchemas)(nil)
	_ json.Marshaler = (*lazySchemas)(nil)
)

// newLazySchemas returns a registry of the schemas huma.NewMapRegistry(prefix,
// namer) would generate, generated when first read.
func newLazySchemas(prefix string, namer func(reflect.Type, string) string) *lazySchemas {
	return &lazySchemas{inner: huma.NewMapRegistry(prefix, namer), prefix: prefix, namer: namer,
		pending: map[string]pendingSchema{}, known: map[string]reflect.Type{}, aliases: map[reflect.Type]bool{}}
}

var (
	timeType            = reflect.TypeFor[time.Time]()
	schemaProviderType  = reflect.TypeFor[huma.SchemaProvider]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// deferrable reports whether the schema of t is one that huma's map
// registry references by name: a struct, but time.Time, one that provides
// its own schema and one read from text.
func deferrable(t reflect.Type) bool {
	if t.Kind() != reflect.Struct || t == timeType {
		return false
	}
	p := reflect.PointerTo(t)
	return !t.Implements(schemaProviderType) && !p.Implements(schemaProviderType) &&
		!t.Implements(textUnmarshalerType) && !p.Implements(textUnmarshalerType)
}

// Schema returns a reference to t's schema, generated later, when t is a
// struct asked for by reference; it generates it now otherwise.
func (r *lazySchemas) Schema(t reflect.Type, allowRef bool, hint string) *huma.Schema {
	r.mu.Lock()
	defer r.mu.Unlock()
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	if !allowRef || r.aliases[base] || !deferrable(base) {
		// Now: what the inner registry generates for it only references
		// (by name) the schemas of struct types, pending ones included.
		return r.inner.Schema(t, allowRef, hint)
	}
	name := r.namer(t, hint)
	if prev, ok := r.known[name]; ok {
		if prev != base {
			// As the map registry does, at registration rather than later.
			panic(fmt.Errorf("duplicate name: %s, new type: %s, existing type: %s", name, base, prev))
		}
		return &huma.Schema{Ref: r.prefix + name}
	}
	r.known[name] = base
	r.pending[name] = pendingSchema{t: t, hint: hint}
	return &huma.Schema{Ref: r.prefix + name}
}

// generate generates the pending schema of name, if any. r.mu is held.
func (r *lazySchemas) generate(name string) {
	p, ok := r.pending[name]
	if !ok {
		return
	}
	delete(r.pending, name)
	r.inner.Schema(p.t, true, p.hint)
}

// generateAll generates every pending schema. r.mu is held.
func (r *lazySchemas) generateAll() {
	for name := range r.pending {
		r.generate(name)
	}
}

// name is the name of ref, "" when ref is not one of this registry's.
func (r *lazySchemas) name(ref string) string {
	name, ok := strings.CutPrefix(ref, r.prefix)
	if !ok {
		return ""
	}
	return name
}

// SchemaFromRef returns the schema of ref, generating it on first use.
func (r *lazySchemas) SchemaFromRef(ref string) *huma.Schema {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.generate(r.name(ref))
	return r.inner.SchemaFromRef(ref)
}

// TypeFromRef returns the type of ref's schema.
func (r *lazySchemas) TypeFromRef(ref string) reflect.Type {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.generate(r.name(ref))
	return r.inner.TypeFromRef(ref)
}

// Map returns every schema, generating those still pending.
func (r *lazySchemas) Map() map[string]*huma.Schema {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.generateAll()
	return r.inner.Map()
}

// RegisterTypeAlias registers alias as t's schema; t's schema is then
// generated when asked for, as the alias's.
func (r *lazySchemas) RegisterTypeAlias(t, alias reflect.Type) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aliases[t] = true
	r.inner.RegisterTypeAlias(t, alias)
}

// MarshalJSON encodes every schema, for the OpenAPI document.
func (r *lazySchemas) MarshalJSON() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.generateAll()
	return json.Marshal(r.inner)
}

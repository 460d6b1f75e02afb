// Package transform is the transformation catalog: the types a document
// can be turned into, their parameters with defaults and bounds, the
// validation that fills the defaults in, and the shape of the output.
package transform

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/repurpose/repurpose/core"
)

// Type is a transformation type, emitted UPPER_CASE.
type Type string

// The transformation types of API.md.
const (
	Summary       Type = "SUMMARY"
	SocialMedia   Type = "SOCIAL_MEDIA"
	BlogPost      Type = "BLOG_POST"
	EmailSequence Type = "EMAIL_SEQUENCE"
	Newsletter    Type = "NEWSLETTER"
	Custom        Type = "CUSTOM"
)

// ParseType parses a type case-insensitively.
func ParseType(s string) (Type, bool) {
	t := Type(strings.ToUpper(strings.TrimSpace(s)))
	_, ok := catalog[t]
	return t, ok
}

// ParamKind is the JSON type of a parameter.
type ParamKind string

// Parameter kinds.
const (
	KindString  ParamKind = "string"
	KindInteger ParamKind = "integer"
	KindBoolean ParamKind = "boolean"
	KindList    ParamKind = "array" // of strings
)

// Param describes one parameter of a type.
type Param struct {
	Name     string
	Kind     ParamKind
	Default  any
	Enum     []string // allowed values of a string (lower-case, matched case-insensitively)
	Min, Max int      // bounds of an integer, or of a string's or list's length; 0/0: none
	Required bool
}

// Spec is one entry of the catalog.
type Spec struct {
	Type        Type
	Description string
	Params      []Param
}

var catalog = map[Type]Spec{
	Summary: {Summary, "A summary of the document: short, medium or long; as a paragraph, bullet points or an outline.", []Param{
		{Name: "length", Kind: KindString, Default: "medium", Enum: []string{"short", "medium", "long"}},
		{Name: "style", Kind: KindString, Default: "bullet_points", Enum: []string{"paragraph", "bullet_points", "outline"}},
	}},
	SocialMedia: {SocialMedia, "Social media posts for one platform (twitter posts are at most 280 characters).", []Param{
		{Name: "platform", Kind: KindString, Default: "linkedin", Enum: []string{"twitter", "linkedin", "instagram", "facebook", "threads"}},
		{Name: "tone", Kind: KindString, Default: "engaging", Min: 1, Max: 50},
		{Name: "hashtags", Kind: KindBoolean, Default: true},
		{Name: "post_count", Kind: KindInteger, Default: 1, Min: 1, Max: 10},
	}},
	BlogPost: {BlogPost, "A blog post with a title, introduction, sections and conclusion, near word_count words.", []Param{
		{Name: "tone", Kind: KindString, Default: "professional", Min: 1, Max: 50},
		{Name: "target_audience", Kind: KindString, Default: "general", Min: 1, Max: 100},
		{Name: "word_count", Kind: KindInteger, Default: 800, Min: 100, Max: 5000},
	}},
	EmailSequence: {EmailSequence, "A sequence of emails, each with a subject, ending on the call to action.", []Param{
		{Name: "email_count", Kind: KindInteger, Default: 3, Min: 1, Max: 10},
		{Name: "tone", Kind: KindString, Default: "professional", Min: 1, Max: 50},
		{Name: "call_to_action", Kind: KindString, Default: "", Max: 200},
	}},
	Newsletter: {Newsletter, "A newsletter with the requested sections.", []Param{
		{Name: "sections", Kind: KindList, Default: []string{"intro", "main_content", "conclusion"}, Min: 1, Max: 10},
		{Name: "tone", Kind: KindString, Default: "informative", Min: 1, Max: 50},
		{Name: "length", Kind: KindString, Default: "medium", Enum: []string{"short", "medium", "long"}},
	}},
	Custom: {Custom, "Free-form instructions applied to the document.", []Param{
		{Name: "instructions", Kind: KindString, Required: true, Min: 1, Max: 2000},
		{Name: "format", Kind: KindString, Default: "text", Min: 1, Max: 50},
		{Name: "tone", Kind: KindString, Default: "neutral", Min: 1, Max: 50},
	}},
}

// Specs returns the catalog in a stable order.
func Specs() []Spec {
	out := make([]Spec, 0, len(catalog))
	for _, s := range catalog {
		out = append(out, s)
	}
	order := []Type{Summary, SocialMedia, BlogPost, EmailSequence, Newsletter, Custom}
	sort.Slice(out, func(i, j int) bool { return slices.Index(order, out[i].Type) < slices.Index(order, out[j].Type) })
	return out
}

// Lookup returns the spec of t.
func Lookup(t Type) (Spec, bool) {
	s, ok := catalog[t]
	return s, ok
}

// Validate checks params against t's spec and returns them with defaults
// filled in and enums lower-cased. Unknown, mistyped or out-of-range
// parameters are one EINVALID error listing each (at location+"."+name).
func Validate(t Type, params map[string]any, location string) (map[string]any, error) {
	spec, ok := catalog[t]
	if !ok {
		return nil, core.Invalid("unknown transformation type", core.FieldError{Location: "body.transformation_type", Message: "unknown type"})
	}
	var bad []core.FieldError
	known := map[string]bool{}
	out := make(map[string]any, len(spec.Params))
	for _, p := range spec.Params {
		known[p.Name] = true
		v, given := params[p.Name]
		if !given || v == nil {
			if p.Required {
				bad = append(bad, core.FieldError{Location: location + "." + p.Name, Message: "required"})
				continue
			}
			out[p.Name] = p.Default
			continue
		}
		val, msg := p.check(v)
		if msg != "" {
			bad = append(bad, core.FieldError{Location: location + "." + p.Name, Message: msg})
			continue
		}
		out[p.Name] = val
	}
	unknown := make([]string, 0)
	for name := range params {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		bad = append(bad, core.FieldError{Location: location + "." + name, Message: fmt.Sprintf("unknown parameter for %s", t)})
	}
	if len(bad) > 0 {
		return nil, core.Invalid("invalid parameters", bad...)
	}
	return out, nil
}

func (p Param) check(v any) (any, string) {
	switch p.Kind {
	case KindString:
		s, ok := v.(string)
		if !ok {
			return nil, "must be a string"
		}
		s = strings.TrimSpace(s)
		if len(p.Enum) > 0 {
			l := strings.ToLower(s)
			if !slices.Contains(p.Enum, l) {
				return nil, "must be one of " + strings.Join(p.Enum, ", ")
			}
			return l, ""
		}
		if n := len([]rune(s)); (p.Min > 0 && n < p.Min) || (p.Max > 0 && n > p.Max) {
			return nil, fmt.Sprintf("must be %d to %d characters", p.Min, p.Max)
		}
		return s, ""
	case KindInteger:
		var n float64
		switch x := v.(type) {
		case float64:
			n = x
		case int:
			n = float64(x)
		case int64:
			n = float64(x)
		default:
			return nil, "must be an integer"
		}
		if n != math.Trunc(n) {
			return nil, "must be an integer"
		}
		if n < float64(p.Min) || n > float64(p.Max) {
			return nil, fmt.Sprintf("must be between %d and %d", p.Min, p.Max)
		}
		return int(n), ""
	case KindBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, "must be true or false"
		}
		return b, ""
	case KindList:
		raw, ok := v.([]any)
		if !ok {
			if ss, ok2 := v.([]string); ok2 {
				raw = make([]any, len(ss))
				for i, s := range ss {
					raw[i] = s
				}
			} else {
				return nil, "must be a list of strings"
			}
		}
		if len(raw) < p.Min || len(raw) > p.Max {
			return nil, fmt.Sprintf("must have %d to %d items", p.Min, p.Max)
		}
		out := make([]string, 0, len(raw))
		for _, x := range raw {
			s, ok := x.(string)
			s = strings.TrimSpace(s)
			if !ok || s == "" || len([]rune(s)) > 100 {
				return nil, "items must be non-empty strings of at most 100 characters"
			}
			out = append(out, s)
		}
		return out, ""
	}
	return nil, "unsupported parameter"
}

// Part is one unit of a transformation's output: a post, an email, a
// newsletter section, or the whole text.
type Part struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// TwitterLimit is the most characters of a twitter post.
const TwitterLimit = 280

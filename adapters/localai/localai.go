// Package localai is the offline AI provider "local": an extractive engine
// in pure Go that needs no network, no key and no model file. It picks the
// document's most central sentences (TF-IDF against the document's
// centroid, with redundancy control), finds its key terms and phrases and
// its topic segments, and arranges them into each transformation type's
// shape. The same request always gives byte-identical output.
package localai

import (
	"context"
	"fmt"
	"strings"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/core/transform"
	"github.com/repurpose/repurpose/ports"
)

// Name and Model identify the provider in results and /api/providers.
const (
	Name  = "local"
	Model = "local-extractive-1"
)

// Provider is the offline provider. It holds no state, so one value serves
// any number of concurrent requests.
type Provider struct{}

var _ ports.AIProvider = (*Provider)(nil)

// New returns the offline provider.
func New() *Provider { return &Provider{} }

// Info names the provider and its single model.
func (*Provider) Info(context.Context) (ports.AIProviderInfo, error) {
	return ports.AIProviderInfo{Name: Name, Models: []string{Model}}, nil
}

// Generate runs req. CUSTOM is core.EUNSUPPORTED (free-form instructions
// need a language model; routers fail over); an unknown type is
// core.EINVALID. A cancelled ctx returns its error, wrapped.
func (p *Provider) Generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	return p.generate(ctx, req)
}

// GenerateStream is Generate, handing the text to onDelta a line or a
// sentence at a time. It checks ctx before each piece and stops at the
// first error of onDelta, returning it wrapped.
func (p *Provider) GenerateStream(ctx context.Context, req ports.AIRequest, onDelta func(delta string) error) (ports.AIResult, error) {
	res, err := p.generate(ctx, req)
	if err != nil {
		return ports.AIResult{}, err
	}
	for _, chunk := range chunks(res.Text) {
		if err := ctx.Err(); err != nil {
			return ports.AIResult{}, fmt.Errorf("local generation: %w", err)
		}
		if err := onDelta(chunk); err != nil {
			return ports.AIResult{}, fmt.Errorf("local generation: deliver text: %w", err)
		}
	}
	return res, nil
}

func (p *Provider) generate(ctx context.Context, req ports.AIRequest) (ports.AIResult, error) {
	if err := ctx.Err(); err != nil {
		return ports.AIResult{}, fmt.Errorf("local generation: %w", err)
	}
	typ, ok := transform.ParseType(req.Type)
	if !ok {
		return ports.AIResult{}, core.Errorf(core.EINVALID, "unknown transformation type %q", req.Type)
	}
	if typ == transform.Custom {
		return ports.AIResult{}, core.Errorf(core.EUNSUPPORTED, "the local provider does not support CUSTOM transformations")
	}
	d, err := analyze(ctx, req.Title, req.Text)
	if err != nil {
		return ports.AIResult{}, fmt.Errorf("local generation: %w", err)
	}
	prm := params{typ: typ, raw: req.Parameters}
	var out output
	switch typ {
	case transform.Summary:
		out = summarize(d, prm)
	case transform.SocialMedia:
		out = socialPosts(d, prm)
	case transform.BlogPost:
		out = blogPost(d, prm)
	case transform.EmailSequence:
		out = emailSequence(d, prm)
	case transform.Newsletter:
		out = newsletter(d, prm)
	}
	if err := ctx.Err(); err != nil {
		return ports.AIResult{}, fmt.Errorf("local generation: %w", err)
	}
	return ports.AIResult{
		Text:         out.text,
		Parts:        out.parts,
		Provider:     Name,
		Model:        Model,
		InputTokens:  estimateTokens(req.Title) + estimateTokens(req.Text),
		OutputTokens: estimateTokens(out.text),
	}, nil
}

// output is what a generator produces.
type output struct {
	text  string
	parts []ports.AIPart
}

// singlePart is the output of the one-part types: the part's body is the
// whole text.
func singlePart(title, text string) output {
	return output{text: text, parts: []ports.AIPart{{Title: title, Body: text}}}
}

// joinParts renders parts as Markdown, each under a "## " heading made by
// heading (nil: the part's title).
func joinParts(preamble string, parts []ports.AIPart, heading func(i int, p ports.AIPart) string) string {
	var b strings.Builder
	if preamble != "" {
		b.WriteString(preamble)
		b.WriteString("\n\n")
	}
	for i, p := range parts {
		if i > 0 {
			b.WriteString("\n\n")
		}
		h := p.Title
		if heading != nil {
			h = heading(i, p)
		}
		b.WriteString("## ")
		b.WriteString(h)
		b.WriteString("\n\n")
		b.WriteString(p.Body)
	}
	return b.String()
}

// estimateTokens approximates a tokenizer's count: about 4/3 tokens per
// English word, one per CJK character.
func estimateTokens(s string) int {
	words, cjk := 0, 0
	in := false
	for _, r := range s {
		switch {
		case isCJK(r):
			cjk++
			in = false
		case isSpace(r):
			in = false
		default:
			if !in {
				words++
			}
			in = true
		}
	}
	return (words*4+2)/3 + cjk
}

// chunks splits text into streaming pieces, a line or a sentence long,
// whose concatenation is text.
func chunks(text string) []string {
	var out []string
	start := 0
	for i := 0; i < len(text); i++ {
		c := text[i]
		end := -1
		switch {
		case c == '\n':
			end = i + 1
		case (c == '.' || c == '!' || c == '?') && i+1 < len(text) && text[i+1] == ' ':
			end = i + 2
		}
		if end > 0 && end-start >= 1 {
			out = append(out, text[start:end])
			start = end
			i = end - 1
		}
	}
	if start < len(text) {
		out = append(out, text[start:])
	}
	return out
}

// params reads validated parameters, falling back to the catalog's
// defaults (and clamping to its bounds) so a caller that skipped
// validation still gets a well-formed result.
type params struct {
	typ transform.Type
	raw map[string]any
}

func (p params) spec(name string) transform.Param {
	spec, _ := transform.Lookup(p.typ)
	for _, prm := range spec.Params {
		if prm.Name == name {
			return prm
		}
	}
	return transform.Param{Name: name}
}

func (p params) str(name string) string {
	def, _ := p.spec(name).Default.(string)
	s, ok := p.raw[name].(string)
	if !ok {
		return def
	}
	s = strings.TrimSpace(s)
	if e := p.spec(name).Enum; len(e) > 0 {
		l := strings.ToLower(s)
		for _, v := range e {
			if v == l {
				return l
			}
		}
		return def
	}
	return s
}

func (p params) integer(name string) int {
	spec := p.spec(name)
	def, _ := spec.Default.(int)
	n := def
	switch v := p.raw[name].(type) {
	case int:
		n = v
	case int64:
		n = int(max(min(v, 1<<31), -1<<31))
	case float64:
		if v == v { // not NaN
			n = int(max(min(v, 1<<31), -1<<31))
		}
	}
	if spec.Max > 0 {
		n = max(spec.Min, min(spec.Max, n))
	}
	return n
}

func (p params) boolean(name string) bool {
	def, _ := p.spec(name).Default.(bool)
	if b, ok := p.raw[name].(bool); ok {
		return b
	}
	return def
}

func (p params) list(name string) []string {
	def, _ := p.spec(name).Default.([]string)
	var out []string
	switch v := p.raw[name].(type) {
	case []string:
		out = v
	case []any:
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
	}
	clean := make([]string, 0, len(out))
	for _, s := range out {
		if s = strings.TrimSpace(s); s != "" {
			clean = append(clean, s)
		}
	}
	if len(clean) == 0 {
		return def
	}
	if mx := p.spec(name).Max; mx > 0 && len(clean) > mx {
		clean = clean[:mx]
	}
	return clean
}

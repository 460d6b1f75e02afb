package transform

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/repurpose/repurpose/core"
)

// EnforceFormat checks a provider's output against the guarantees of the
// type (API.md): SOCIAL_MEDIA has exactly post_count parts (twitter bodies
// at most 280 characters), EMAIL_SEQUENCE exactly email_count parts with
// subjects, NEWSLETTER one part per requested section, every other type a
// single part. It repairs what it safely can (extra parts dropped, long
// posts trimmed at a word, missing titles named, several parts joined) and
// otherwise returns an EINVALID error whose message is safe to show.
func EnforceFormat(t Type, params map[string]any, title, text string, parts []core.OutputPart) ([]core.OutputPart, error) {
	parts = nonEmpty(parts)
	switch t {
	case SocialMedia:
		want := intParam(params, "post_count", 1)
		out, err := exactly(parts, want, "posts", func(i int) string { return fmt.Sprintf("Post %d", i+1) })
		if err != nil {
			return nil, err
		}
		if params["platform"] == "twitter" {
			for i := range out {
				out[i].Body = TrimToRunes(out[i].Body, TwitterLimit)
			}
		}
		return out, nil
	case EmailSequence:
		return exactly(parts, intParam(params, "email_count", 3), "emails", func(i int) string { return fmt.Sprintf("Email %d", i+1) })
	case Newsletter:
		sections, _ := params["sections"].([]string)
		if len(sections) == 0 {
			sections = []string{"intro", "main_content", "conclusion"}
		}
		return exactly(parts, len(sections), "sections", func(i int) string { return humanize(sections[i]) })
	default:
		if len(parts) == 0 {
			if strings.TrimSpace(text) == "" {
				return nil, core.Errorf(core.EINVALID, "the AI provider returned an empty result")
			}
			return []core.OutputPart{{Title: title, Body: strings.TrimSpace(text)}}, nil
		}
		if len(parts) == 1 {
			if parts[0].Title == "" {
				parts[0].Title = title
			}
			return parts, nil
		}
		var b strings.Builder
		for i, p := range parts {
			if i > 0 {
				b.WriteString("\n\n")
			}
			if p.Title != "" {
				b.WriteString("## " + p.Title + "\n\n")
			}
			b.WriteString(p.Body)
		}
		return []core.OutputPart{{Title: title, Body: b.String()}}, nil
	}
}

func nonEmpty(parts []core.OutputPart) []core.OutputPart {
	out := make([]core.OutputPart, 0, len(parts))
	for _, p := range parts {
		p.Title, p.Body = strings.TrimSpace(p.Title), strings.TrimSpace(p.Body)
		if p.Body != "" {
			out = append(out, p)
		}
	}
	return out
}

func exactly(parts []core.OutputPart, want int, what string, name func(int) string) ([]core.OutputPart, error) {
	if len(parts) < want {
		return nil, core.Errorf(core.EINVALID, "the AI provider returned %d %s where %d were requested", len(parts), what, want)
	}
	parts = parts[:want]
	for i := range parts {
		if parts[i].Title == "" {
			parts[i].Title = name(i)
		}
	}
	return parts, nil
}

func intParam(params map[string]any, name string, def int) int {
	switch v := params[name].(type) {
	case int:
		return v
	case float64:
		return int(v)
	}
	return def
}

func humanize(section string) string {
	s := strings.ReplaceAll(strings.TrimSpace(section), "_", " ")
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + strings.ToLower(s[n:])
}

// TrimToRunes shortens s to at most max characters, cutting at a word
// boundary and ending with an ellipsis when it had to cut.
func TrimToRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)[:max-1]
	cut := len(r)
	for i := len(r) - 1; i > len(r)/2; i-- {
		if unicode.IsSpace(r[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), unicode.IsSpace) + "…"
}

// BuildPrompt is the instruction a model provider receives for t with its
// validated params (the document text travels separately).
func BuildPrompt(t Type, params map[string]any, title string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Transform the document %q into: %s\n", title, catalog[t].Description)
	for _, p := range catalog[t].Params {
		if v, ok := params[p.Name]; ok {
			fmt.Fprintf(&b, "- %s: %v\n", p.Name, v)
		}
	}
	switch t {
	case SocialMedia:
		fmt.Fprintf(&b, "Write exactly %d posts separated by a line with three dashes.", intParam(params, "post_count", 1))
		if params["platform"] == "twitter" {
			b.WriteString(" Each post must be at most 280 characters including hashtags.")
		}
	case EmailSequence:
		fmt.Fprintf(&b, "Write exactly %d emails, each starting with a line 'Subject: ...'.", intParam(params, "email_count", 3))
	case Newsletter:
		b.WriteString("Write one section per requested section name, each under a '## ' heading.")
	}
	b.WriteString("\nAnswer in Markdown.")
	return b.String()
}

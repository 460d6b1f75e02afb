package extract

import (
	"context"
	"errors"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/repurpose/repurpose/ports"
)

// droppedElements hold no reading text: code, styling, embedded documents,
// inert templates and vector graphics.
var droppedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Svg: true, atom.Iframe: true, atom.Object: true, atom.Embed: true,
	atom.Canvas: true, atom.Math: true, atom.Select: true,
	atom.Datalist: true, atom.Noembed: true, atom.Noframes: true,
}

// headElements may appear in <head>; any other element ends it.
var headElements = map[atom.Atom]bool{
	atom.Head: true, atom.Title: true, atom.Meta: true, atom.Link: true, atom.Base: true,
	atom.Style: true, atom.Script: true, atom.Noscript: true, atom.Template: true,
}

// blockElements end a paragraph where they start and where they end.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Aside: true,
	atom.Header: true, atom.Footer: true, atom.Nav: true, atom.Main: true, atom.Blockquote: true,
	atom.Pre: true, atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Dt: true, atom.Dd: true,
	atom.Table: true, atom.Figure: true, atom.Figcaption: true, atom.Form: true, atom.Fieldset: true,
	atom.Address: true, atom.Details: true, atom.Summary: true, atom.Hr: true, atom.Caption: true,
	atom.Body: true, atom.Html: true, atom.Center: true,
}

var headingLevel = map[atom.Atom]int{
	atom.H1: 1, atom.H2: 2, atom.H3: 3, atom.H4: 4, atom.H5: 5, atom.H6: 6,
}

// extractHTML streams the document through the tokenizer (no tree, so no
// cost per nesting level): dropped elements are skipped with their content,
// headings become Markdown "#" lines, blocks and list items are separated by
// blank lines, table cells by tabs.
func (x *Extractor) extractHTML(ctx context.Context, ext string, content []byte, b *budget) (ports.ExtractedText, error) {
	if otherFormat(content) {
		return ports.ExtractedText{}, mismatch(ext)
	}
	src, cs, err := decodeText(content, true)
	if err != nil {
		return ports.ExtractedText{}, mismatch(ext)
	}
	w := &htmlWriter{budget: b}
	z := html.NewTokenizer(strings.NewReader(src))
	z.SetMaxBuf(b.max + 1)
	var (
		skip      []atom.Atom // open dropped elements, innermost last
		inTitle   bool
		title     strings.Builder
		inHead    bool
		preDepth  int
		cellCount int
		steps     int
	)
	for {
		if steps++; steps%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return ports.ExtractedText{}, err
			}
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			if errors.Is(z.Err(), io.EOF) {
				break
			}
			if errors.Is(z.Err(), html.ErrBufferExceeded) {
				return ports.ExtractedText{}, tooLarge(b.max)
			}
			return ports.ExtractedText{}, corrupt("HTML file", z.Err())
		}
		name, _ := z.TagName()
		a := atom.Lookup(name)
		if len(skip) > 0 {
			switch tt {
			case html.StartTagToken:
				if a == skip[len(skip)-1] {
					skip = append(skip, a)
				}
			case html.EndTagToken:
				if a == skip[len(skip)-1] {
					skip = skip[:len(skip)-1]
				}
			}
			continue
		}
		switch tt {
		case html.TextToken:
			text := string(z.Text())
			switch {
			case inTitle:
				if title.Len() < 2000 {
					title.WriteString(text)
				}
			case inHead:
			default:
				if err := w.text(text, preDepth > 0); err != nil {
					return ports.ExtractedText{}, err
				}
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			if droppedElements[a] {
				if tt == html.StartTagToken {
					skip = append(skip, a)
				}
				continue
			}
			if inHead && !headElements[a] {
				// Content implies the head has ended, as in a browser.
				inHead = false
			}
			switch {
			case a == atom.Head:
				inHead = tt == html.StartTagToken
			case a == atom.Body:
				inHead = false
			case a == atom.Title:
				inTitle = tt == html.StartTagToken
			case headingLevel[a] > 0:
				w.paragraph()
				w.raw(strings.Repeat("#", headingLevel[a]) + " ")
			case a == atom.Li:
				w.paragraph()
				w.raw("- ")
			case a == atom.Br:
				w.newline()
			case a == atom.Tr:
				w.newline()
				cellCount = 0
			case a == atom.Td || a == atom.Th:
				if cellCount > 0 {
					w.raw("\t")
				}
				cellCount++
			case a == atom.Img:
				// Alternative text is what a reader of the page would get.
				for {
					k, v, more := z.TagAttr()
					if string(k) == "alt" && strings.TrimSpace(string(v)) != "" {
						if err := w.text(" "+string(v)+" ", false); err != nil {
							return ports.ExtractedText{}, err
						}
					}
					if !more {
						break
					}
				}
			case blockElements[a]:
				w.paragraph()
				if a == atom.Pre && tt == html.StartTagToken {
					preDepth++
				}
			}
		case html.EndTagToken:
			switch {
			case a == atom.Head:
				inHead = false
			case a == atom.Title:
				inTitle = false
			case headingLevel[a] > 0, a == atom.Li:
				w.paragraph()
			case a == atom.Table:
				w.paragraph()
			case blockElements[a]:
				w.paragraph()
				if a == atom.Pre && preDepth > 0 {
					preDepth--
				}
			}
		}
	}
	if w.err != nil {
		return ports.ExtractedText{}, w.err
	}
	meta := map[string]any{"charset": cs}
	if t := strings.Join(strings.Fields(title.String()), " "); t != "" {
		meta["title"] = truncateRunes(t, 500)
	}
	return ports.ExtractedText{Text: tidy(w.b.String()), ContentType: TypeHTML, Metadata: meta}, nil
}

// htmlWriter collapses whitespace the way a browser would and turns block
// boundaries into blank lines.
type htmlWriter struct {
	b      strings.Builder
	budget *budget
	// pendingSpace is a collapsed run of whitespace not yet written.
	pendingSpace bool
	err          error
}

func (w *htmlWriter) paragraph() {
	w.pendingSpace = false
	s := w.b.String()
	if s == "" || strings.HasSuffix(s, "\n\n") {
		return
	}
	if strings.HasSuffix(s, "\n") {
		w.raw("\n")
		return
	}
	w.raw("\n\n")
}

func (w *htmlWriter) newline() {
	w.pendingSpace = false
	w.raw("\n")
}

func (w *htmlWriter) raw(s string) {
	if w.err != nil {
		return
	}
	if !w.budget.take(len(s)) {
		w.err = tooLarge(w.budget.max)
		return
	}
	w.b.WriteString(s)
}

func (w *htmlWriter) text(s string, pre bool) error {
	if pre {
		w.raw(strings.ReplaceAll(s, "\r\n", "\n"))
		return w.err
	}
	// Walk the words without building a slice of them: a text node may be
	// megabytes of one-letter words.
	space := w.pendingSpace
	for i := 0; i < len(s) && w.err == nil; {
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.IsSpace(r) {
			space = true
			i += n
			continue
		}
		j := i + n
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if unicode.IsSpace(r) {
				break
			}
			j += n
		}
		if space {
			if end := w.b.String(); end != "" && !strings.HasSuffix(end, "\n") && !strings.HasSuffix(end, " ") && !strings.HasSuffix(end, "\t") {
				w.raw(" ")
			}
		}
		w.raw(s[i:j])
		space = false
		i = j
	}
	w.pendingSpace = space
	return w.err
}

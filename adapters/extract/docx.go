package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// maxCorePartBytes caps docProps/core.xml, which holds a few short fields.
const maxCorePartBytes = 1 << 20

var (
	errPartTooLarge = errors.New("extract: zip part over its size limit")
	errXMLDoctype   = errors.New("extract: XML declares a DOCTYPE or entities")
	errXMLDepth     = errors.New("extract: XML nested too deeply")
	errXMLTokens    = errors.New("extract: XML has too many tokens")
)

// extractDOCX reads word/document.xml (paragraphs and tables) and
// docProps/core.xml (title, author) straight from the archive in memory.
// Parts are decompressed through a reader that stops at the limit, so a zip
// bomb costs at most the limit, whatever its headers declare.
func (x *Extractor) extractDOCX(ctx context.Context, content []byte, b *budget) (ports.ExtractedText, error) {
	if !bytes.HasPrefix(content, []byte("PK\x03\x04")) {
		return ports.ExtractedText{}, mismatch(".docx")
	}
	zr, err := zip.NewReader(bytes.NewReader(content), int64(len(content)))
	if err != nil {
		return ports.ExtractedText{}, mismatch(".docx")
	}
	if len(zr.File) > x.opts.MaxZipEntries {
		return ports.ExtractedText{}, core.Errorf(core.ETOOLARGE, "the DOCX archive has more than %d entries", x.opts.MaxZipEntries)
	}
	var doc, props *zip.File
	for _, f := range zr.File {
		switch f.Name {
		case "word/document.xml":
			if doc == nil {
				doc = f
			}
		case "docProps/core.xml":
			if props == nil {
				props = f
			}
		}
	}
	if doc == nil {
		return ports.ExtractedText{}, mismatch(".docx")
	}
	remaining := x.opts.MaxDecompressedBytes

	w := &docxWriter{budget: b}
	if err := x.readPart(ctx, doc, x.opts.MaxPartBytes, &remaining, w.token); err != nil {
		return ports.ExtractedText{}, x.docxError(err, b)
	}
	meta := map[string]any{}
	if props != nil {
		var p docxProps
		err := x.readPart(ctx, props, maxCorePartBytes, &remaining, p.token)
		switch {
		case err == nil:
			if t := oneLine(p.title.String()); t != "" {
				meta["title"] = truncateRunes(t, 500)
			}
			if a := oneLine(p.author.String()); a != "" {
				meta["author"] = truncateRunes(a, 500)
			}
		case errors.Is(err, errXMLDoctype), errors.Is(err, errPartTooLarge), errors.Is(err, errXMLDepth),
			errors.Is(err, errXMLTokens), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return ports.ExtractedText{}, x.docxError(err, b)
		default:
			// Malformed properties cost the metadata, not the document.
		}
	}
	return ports.ExtractedText{Text: tidy(w.out.String()), ContentType: TypeDOCX, Metadata: meta}, nil
}

func (x *Extractor) docxError(err error, b *budget) error {
	switch {
	case errors.Is(err, errBudget):
		return tooLarge(b.max)
	case errors.Is(err, errPartTooLarge):
		return &core.Error{Code: core.ETOOLARGE, Message: fmt.Sprintf("the DOCX file expands past the limit of %s", humanBytes(x.opts.MaxPartBytes)), Err: err}
	case errors.Is(err, errXMLDepth), errors.Is(err, errXMLTokens):
		return &core.Error{Code: core.ETOOLARGE, Message: "the DOCX file's XML is too deeply nested or too long", Err: err}
	case errors.Is(err, errXMLDoctype):
		return &core.Error{Code: core.EINVALID, Message: "the DOCX file declares a DOCTYPE or entities, which are not allowed", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("extract docx: %w", err)
	}
	return corrupt("DOCX file", err)
}

// readPart streams one zip entry through the guarded XML reader into fn.
// The declared size is checked first (cheap refusal); the actual bytes are
// counted as they are read (the declaration may lie).
func (x *Extractor) readPart(ctx context.Context, f *zip.File, limit int64, remaining *int64, fn func(xml.Token) error) error {
	limit = min(limit, *remaining)
	if f.UncompressedSize64 > uint64(limit) {
		return errPartTooLarge
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	lr := &limitReader{r: rc, n: limit}
	err = x.walkXML(ctx, lr, fn)
	*remaining -= limit - lr.n
	return err
}

// limitReader is io.LimitReader that fails loudly: reading past the limit is
// errPartTooLarge, not a silent EOF that would truncate the document.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		// One byte more tells a part of exactly the limit from a longer one.
		var one [1]byte
		n, err := io.ReadFull(l.r, one[:])
		if n > 0 {
			return 0, errPartTooLarge
		}
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		return 0, err
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// walkXML decodes XML from r and hands each token to fn. It refuses DOCTYPE
// and entity declarations outright (encoding/xml would not expand them, but
// nothing legitimate in OOXML uses them), and caps nesting and token count.
func (x *Extractor) walkXML(ctx context.Context, r io.Reader, fn func(xml.Token) error) error {
	d := xml.NewDecoder(r)
	d.Strict = true
	depth, tokens := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			if depth != 0 {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
		if tokens++; tokens > x.opts.MaxXMLTokens {
			return errXMLTokens
		}
		if tokens%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errXMLDoctype
		case xml.StartElement:
			if depth++; depth > x.opts.MaxXMLDepth {
				return errXMLDepth
			}
		case xml.EndElement:
			depth--
		case xml.ProcInst:
			if t.Target == "xml" && bytes.Contains(bytes.ToLower(t.Inst), []byte("encoding")) &&
				!bytes.Contains(bytes.ToLower(t.Inst), []byte("utf-8")) && !bytes.Contains(bytes.ToLower(t.Inst), []byte("utf8")) {
				// encoding/xml reads only UTF-8; anything else fails below
				// with a clear error anyway.
				return errors.New("extract: XML in a charset other than UTF-8")
			}
		}
		if err := fn(tok); err != nil {
			return err
		}
	}
}

// docxWriter turns WordprocessingML tokens into text. Namespaces are matched
// by local name: math (m:t) and DrawingML (a:t) text are text too.
type docxWriter struct {
	out    strings.Builder
	budget *budget

	para     strings.Builder
	prefix   string
	inText   bool
	inPPr    bool
	skip     int // depth inside mc:Fallback, which repeats mc:Choice
	tblDepth int
	row      []string
	cell     strings.Builder
	inCell   bool
}

func (w *docxWriter) add(sb *strings.Builder, s string) error {
	if !w.budget.take(len(s)) {
		return errBudget
	}
	sb.WriteString(s)
	return nil
}

func (w *docxWriter) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		if w.skip > 0 {
			w.skip++
			return nil
		}
		switch t.Name.Local {
		case "Fallback":
			w.skip = 1
		case "p":
			w.para.Reset()
			w.prefix = ""
		case "pPr":
			w.inPPr = true
		case "pStyle":
			if w.inPPr {
				w.prefix = stylePrefix(attr(t, "val"))
			}
		case "numPr":
			if w.inPPr && w.prefix == "" {
				w.prefix = "- "
			}
		case "t":
			w.inText = true
		case "tab":
			if !w.inPPr {
				return w.add(&w.para, "\t")
			}
		case "br", "cr":
			if !w.inPPr {
				return w.add(&w.para, "\n")
			}
		case "tbl":
			if w.tblDepth == 0 {
				if err := w.add(&w.out, "\n\n"); err != nil {
					return err
				}
			}
			w.tblDepth++
		case "tr":
			if w.tblDepth == 1 {
				w.row = w.row[:0]
			}
		case "tc":
			if w.tblDepth == 1 {
				w.cell.Reset()
				w.inCell = true
			}
		}
	case xml.EndElement:
		if w.skip > 0 {
			w.skip--
			return nil
		}
		switch t.Name.Local {
		case "t":
			w.inText = false
		case "pPr":
			w.inPPr = false
		case "p":
			text := strings.TrimSpace(w.para.String())
			w.para.Reset()
			if w.inCell {
				if text != "" {
					if w.cell.Len() > 0 {
						w.cell.WriteByte(' ')
					}
					w.cell.WriteString(oneLine(text))
				}
				return nil
			}
			if text == "" {
				return nil
			}
			return w.add(&w.out, w.prefix+text+"\n\n")
		case "tc":
			if w.tblDepth == 1 {
				w.row = append(w.row, w.cell.String())
				w.inCell = false
			}
		case "tr":
			if w.tblDepth == 1 && len(w.row) > 0 {
				return w.add(&w.out, strings.Join(w.row, "\t")+"\n")
			}
		case "tbl":
			w.tblDepth--
			if w.tblDepth == 0 {
				return w.add(&w.out, "\n")
			}
		}
	case xml.CharData:
		if w.inText && w.skip == 0 {
			return w.add(&w.para, string(t))
		}
	}
	return nil
}

// stylePrefix maps Word's built-in heading styles to Markdown headings.
func stylePrefix(style string) string {
	s := strings.ToLower(strings.ReplaceAll(style, " ", ""))
	if s == "title" {
		return "# "
	}
	if lvl, ok := strings.CutPrefix(s, "heading"); ok && len(lvl) == 1 && lvl[0] >= '1' && lvl[0] <= '6' {
		return strings.Repeat("#", int(lvl[0]-'0')) + " "
	}
	return ""
}

func attr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// oneLine collapses all whitespace, newlines and tabs included, to single
// spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// docxProps collects dc:title and dc:creator from docProps/core.xml.
type docxProps struct {
	title, author strings.Builder
	in            *strings.Builder
}

func (p *docxProps) token(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.StartElement:
		switch t.Name.Local {
		case "title":
			p.in = &p.title
		case "creator":
			p.in = &p.author
		default:
			p.in = nil
		}
	case xml.EndElement:
		p.in = nil
	case xml.CharData:
		if p.in != nil && p.in.Len() < 4096 {
			p.in.Write(t)
		}
	}
	return nil
}

// Package extract turns uploaded files (.txt, .md, .html, .docx, .pdf) into
// plain text for the pipeline. Every byte it reads comes from a stranger, so
// the content is sniffed before the extension is trusted and every parser
// runs under explicit budgets: output bytes, decompressed bytes, XML depth
// and tokens, PDF pages and operators. Nothing here touches the disk.
package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// Content types reported in ports.ExtractedText.
const (
	TypePlain    = "text/plain"
	TypeMarkdown = "text/markdown"
	TypeHTML     = "text/html"
	TypePDF      = "application/pdf"
	TypeDOCX     = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
)

// acceptedExtensions is the list shown to callers who upload anything else.
const acceptedExtensions = ".txt, .md, .markdown, .html, .htm, .docx, .pdf"

// Default limits. They are generous for real documents and small enough that
// a hostile upload costs a bounded amount of memory and CPU.
const (
	DefaultMaxTextBytes         = 20 << 20
	DefaultMaxPartBytes         = 64 << 20
	DefaultMaxDecompressedBytes = 128 << 20
	DefaultMaxZipEntries        = 2000
	DefaultMaxXMLDepth          = 256
	DefaultMaxXMLTokens         = 8_000_000
	DefaultMaxPDFPages          = 2000
	DefaultMaxPDFObjects        = 500_000
	DefaultMaxPDFOperators      = 20_000_000
)

// Options bounds the work one extraction may do. Zero fields take the
// Default* values.
type Options struct {
	// MaxTextBytes caps the extracted text; more is ETOOLARGE.
	MaxTextBytes int
	// MaxPartBytes caps the uncompressed size of one DOCX part, declared or
	// actual.
	MaxPartBytes int64
	// MaxDecompressedBytes caps everything decompressed from one file: the
	// DOCX parts read, or the PDF streams decoded.
	MaxDecompressedBytes int64
	// MaxZipEntries caps the entries of a DOCX archive.
	MaxZipEntries int
	// MaxXMLDepth and MaxXMLTokens cap each DOCX XML part.
	MaxXMLDepth  int
	MaxXMLTokens int
	// MaxPDFPages caps the pages of a PDF; a longer one is ETOOLARGE.
	MaxPDFPages int
	// MaxPDFObjects caps the indirect objects parsed from a PDF.
	MaxPDFObjects int
	// MaxPDFOperators caps the content-stream operators interpreted across a
	// PDF, bounding CPU for pathological page descriptions.
	MaxPDFOperators int
}

func (o Options) withDefaults() Options {
	if o.MaxTextBytes <= 0 {
		o.MaxTextBytes = DefaultMaxTextBytes
	}
	if o.MaxPartBytes <= 0 {
		o.MaxPartBytes = DefaultMaxPartBytes
	}
	if o.MaxDecompressedBytes <= 0 {
		o.MaxDecompressedBytes = DefaultMaxDecompressedBytes
	}
	if o.MaxZipEntries <= 0 {
		o.MaxZipEntries = DefaultMaxZipEntries
	}
	if o.MaxXMLDepth <= 0 {
		o.MaxXMLDepth = DefaultMaxXMLDepth
	}
	if o.MaxXMLTokens <= 0 {
		o.MaxXMLTokens = DefaultMaxXMLTokens
	}
	if o.MaxPDFPages <= 0 {
		o.MaxPDFPages = DefaultMaxPDFPages
	}
	if o.MaxPDFObjects <= 0 {
		o.MaxPDFObjects = DefaultMaxPDFObjects
	}
	if o.MaxPDFOperators <= 0 {
		o.MaxPDFOperators = DefaultMaxPDFOperators
	}
	return o
}

// Extractor implements ports.TextExtractor. It holds only its limits and is
// safe for concurrent use.
type Extractor struct {
	opts Options
	// propagatePanics lets fuzz tests see the panics Extract would
	// otherwise turn into errors.
	propagatePanics bool
}

var _ ports.TextExtractor = (*Extractor)(nil)

// New returns an Extractor with opts, zero fields taking the defaults.
func New(opts Options) *Extractor {
	return &Extractor{opts: opts.withDefaults()}
}

// Limits returns the limits in force, defaults filled in.
func (x *Extractor) Limits() Options { return x.opts }

// Extract reads content as the type its filename's extension names. See
// ports.TextExtractor for the error contract; in addition a cancelled ctx
// returns ctx.Err() wrapped.
func (x *Extractor) Extract(ctx context.Context, filename string, content []byte) (out ports.ExtractedText, err error) {
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(strings.TrimSpace(filename), "\\", "/")))
	switch ext {
	case ".txt", ".md", ".markdown", ".html", ".htm", ".docx", ".pdf":
	default:
		if ext == "" {
			return out, unsupported("the file has no extension; accepted: %s", acceptedExtensions)
		}
		return out, unsupported("%s files are not accepted; accepted: %s", sanitizeExt(ext), acceptedExtensions)
	}
	if len(content) == 0 {
		return out, core.Invalid("the file is empty")
	}
	if kind := executableKind(content); kind != "" {
		return out, unsupported("the file is %s, not a document", kind)
	}
	if err := ctx.Err(); err != nil {
		return out, fmt.Errorf("extract: %w", err)
	}

	// The parsers are written not to panic, but they read hostile bytes: a
	// panic is turned into a corrupt-file error rather than a crashed worker.
	defer func() {
		if x.propagatePanics {
			return
		}
		if r := recover(); r != nil {
			out = ports.ExtractedText{}
			err = corrupt(kindNames[ext], fmt.Errorf("panic: %v", r))
		}
	}()

	b := &budget{max: x.opts.MaxTextBytes}
	switch ext {
	case ".txt":
		out, err = x.extractText(ctx, ext, content, TypePlain, b)
	case ".md", ".markdown":
		out, err = x.extractText(ctx, ext, content, TypeMarkdown, b)
	case ".html", ".htm":
		out, err = x.extractHTML(ctx, ext, content, b)
	case ".docx":
		out, err = x.extractDOCX(ctx, content, b)
	case ".pdf":
		out, err = x.extractPDF(ctx, content, b)
	}
	if err != nil {
		return ports.ExtractedText{}, err
	}
	if strings.TrimSpace(out.Text) == "" {
		if ext == ".pdf" {
			return ports.ExtractedText{}, core.Invalid("the PDF has no extractable text (it may contain only scanned images)")
		}
		return ports.ExtractedText{}, core.Invalid("no text could be extracted from the file")
	}
	if len(out.Text) > x.opts.MaxTextBytes {
		return ports.ExtractedText{}, tooLarge(x.opts.MaxTextBytes)
	}
	if out.Metadata == nil {
		out.Metadata = map[string]any{}
	}
	return out, nil
}

// sanitizeExt keeps an unaccepted extension printable and short in messages.
func sanitizeExt(ext string) string {
	var b strings.Builder
	for _, r := range ext {
		if b.Len() >= 16 {
			b.WriteString("…")
			break
		}
		if unicode.IsPrint(r) && !unicode.Is(unicode.Cf, r) { // no bidi overrides or invisible format characters
			b.WriteRune(r)
		}
	}
	return b.String()
}

// kindNames name each type in "the ... could not be read".
var kindNames = map[string]string{
	".txt": "text file", ".md": "Markdown file", ".markdown": "Markdown file",
	".html": "HTML file", ".htm": "HTML file", ".docx": "DOCX file", ".pdf": "PDF",
}

func unsupported(format string, args ...any) *core.Error {
	return core.Errorf(core.EUNSUPPORTED, format, args...)
}

func mismatch(ext string) *core.Error {
	return unsupported("content does not match %s", ext)
}

func tooLarge(limit int) *core.Error {
	return core.Errorf(core.ETOOLARGE, "the extracted text exceeds the limit of %s", humanBytes(int64(limit)))
}

func corrupt(kind string, cause error) *core.Error {
	return &core.Error{Code: core.EINVALID, Message: fmt.Sprintf("the %s could not be read", kind), Err: cause}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	default:
		return fmt.Sprintf("%d bytes", n)
	}
}

// errBudget is raised (as a panic value inside parsers that are easier to
// write that way, or returned) when the text budget is spent.
var errBudget = errors.New("extract: text budget exceeded")

// budget counts output bytes so no extractor builds more text than allowed,
// however much its input expands.
type budget struct {
	max  int
	used int
}

// take reserves n bytes and reports whether they fit.
func (b *budget) take(n int) bool {
	b.used += n
	return b.used <= b.max
}

// executableKind names the executable format content starts with, or "".
func executableKind(content []byte) string {
	switch {
	case bytes.HasPrefix(content, []byte("\x7fELF")):
		return "an ELF executable"
	case bytes.HasPrefix(content, []byte("MZ")) && bytes.IndexByte(content[:min(len(content), 512)], 0) >= 0:
		// Every PE or DOS executable has NULs in its header; a text file that
		// happens to begin with "MZ" does not.
		return "a Windows executable"
	case bytes.HasPrefix(content, []byte{0xFE, 0xED, 0xFA, 0xCE}), bytes.HasPrefix(content, []byte{0xFE, 0xED, 0xFA, 0xCF}),
		bytes.HasPrefix(content, []byte{0xCE, 0xFA, 0xED, 0xFE}), bytes.HasPrefix(content, []byte{0xCF, 0xFA, 0xED, 0xFE}):
		return "a Mach-O executable"
	case bytes.HasPrefix(content, []byte{0xCA, 0xFE, 0xBA, 0xBE}):
		// Both Java classes and Mach-O universal binaries.
		return "a Java class or Mach-O universal binary"
	case bytes.HasPrefix(content, []byte("\x00asm")):
		return "a WebAssembly module"
	case bytes.HasPrefix(content, []byte("#!")):
		return "a script"
	case bytes.HasPrefix(content, []byte("\xEF\xBB\xBF#!")):
		return "a script"
	}
	return ""
}

// otherFormat names a document or archive format content starts with, so a
// text upload that is really one of them is refused as a mismatch.
func otherFormat(content []byte) bool {
	for _, magic := range [][]byte{
		[]byte("%PDF-"), []byte("PK\x03\x04"), []byte("PK\x05\x06"),
		{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, // OLE2: .doc, .xls
		{0x1F, 0x8B}, // gzip
		[]byte("\x89PNG"), {0xFF, 0xD8, 0xFF}, []byte("GIF8"),
	} {
		if bytes.HasPrefix(content, magic) {
			return true
		}
	}
	return false
}

// tidy normalises extracted text: newlines to \n, no control characters but
// tab and newline, no trailing spaces, at most one blank line in a row, no
// leading or trailing blank lines.
func tidy(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	blank := 0
	started := false
	for line := range strings.Lines(s) {
		line = strings.TrimRight(line, "\n")
		line = strings.TrimRightFunc(cleanControls(line), unicode.IsSpace)
		if line == "" {
			blank++
			continue
		}
		if started {
			b.WriteByte('\n')
			if blank > 0 {
				b.WriteByte('\n')
			}
		}
		b.WriteString(line)
		started = true
		blank = 0
	}
	return b.String()
}

// cleanControls drops control and invalid characters from one line, keeping
// tabs.
func cleanControls(s string) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && n == 1) || r == '\r' || (unicode.IsControl(r) && r != '\t') || r == '\uFEFF' {
			clean = false
			break
		}
		i += n
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1, r == '\uFEFF':
		case r == '\r' || r == '\f' || r == '\v':
			b.WriteByte(' ')
		case unicode.IsControl(r) && r != '\t':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

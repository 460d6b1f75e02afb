package extract

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding/charmap"

	"github.com/repurpose/repurpose/ports"
)

var errNotText = errors.New("extract: not text")

// extractText reads .txt and Markdown: the charset is detected, newlines
// normalised, control characters dropped; the text is otherwise kept as
// written (Markdown stays Markdown).
func (x *Extractor) extractText(_ context.Context, ext string, content []byte, contentType string, b *budget) (ports.ExtractedText, error) {
	if otherFormat(content) {
		return ports.ExtractedText{}, mismatch(ext)
	}
	text, cs, err := decodeText(content, false)
	if err != nil {
		return ports.ExtractedText{}, mismatch(ext)
	}
	if !b.take(len(text)) {
		return ports.ExtractedText{}, tooLarge(b.max)
	}
	text = normalizeText(text)
	meta := map[string]any{"charset": cs}
	if contentType == TypeMarkdown {
		if title := markdownTitle(text); title != "" {
			meta["title"] = title
		}
	}
	return ports.ExtractedText{Text: text, ContentType: contentType, Metadata: meta}, nil
}

// decodeText detects the charset of content and returns it as UTF-8 with the
// charset's name. Byte order marks win; then valid UTF-8; then, for HTML, a
// <meta charset>; then windows-1252 (iso-8859-1 when no byte needs the
// difference). It fails with errNotText for NULs, malformed UTF-16 and
// content full of control characters: binary, whatever its name says.
func decodeText(content []byte, html bool) (string, string, error) {
	var text, name string
	switch {
	case bytes.HasPrefix(content, []byte{0xEF, 0xBB, 0xBF}):
		rest := content[3:]
		if !utf8.Valid(rest) {
			return "", "", errNotText
		}
		text, name = string(rest), "utf-8"
	case bytes.HasPrefix(content, []byte{0xFF, 0xFE}):
		s, ok := decodeUTF16(content[2:], false)
		if !ok {
			return "", "", errNotText
		}
		text, name = s, "utf-16le"
	case bytes.HasPrefix(content, []byte{0xFE, 0xFF}):
		s, ok := decodeUTF16(content[2:], true)
		if !ok {
			return "", "", errNotText
		}
		text, name = s, "utf-16be"
	case bytes.IndexByte(content, 0) >= 0:
		return "", "", errNotText
	case utf8.Valid(content):
		text, name = string(content), "utf-8"
	default:
		enc, encName := charmap.Windows1252, "windows-1252"
		if html {
			if e, n, _ := charset.DetermineEncoding(content, "text/html"); e != nil && n != "utf-8" {
				// A declared legacy charset (or the windows-1252 default).
				decoded, err := e.NewDecoder().Bytes(content)
				if err != nil || bytes.IndexByte(decoded, 0) >= 0 {
					return "", "", errNotText
				}
				text, name = string(decoded), n
				break
			}
		}
		if !hasC1(content) {
			encName = "iso-8859-1"
		} else if hasUndefined1252(content) {
			return "", "", errNotText
		}
		decoded, err := enc.NewDecoder().Bytes(content)
		if err != nil {
			return "", "", errNotText
		}
		text, name = string(decoded), encName
	}
	if strings.IndexByte(text, 0) >= 0 || tooManyControls(text) {
		return "", "", errNotText
	}
	return text, name, nil
}

func decodeUTF16(b []byte, bigEndian bool) (string, bool) {
	if len(b)%2 != 0 {
		return "", false
	}
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+1 >= len(units) || units[i+1] < 0xDC00 || units[i+1] >= 0xE000 {
				return "", false
			}
			i++
		case u >= 0xDC00 && u < 0xE000:
			return "", false
		}
	}
	return string(utf16.Decode(units)), true
}

func hasC1(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 && c <= 0x9F {
			return true
		}
	}
	return false
}

// hasUndefined1252 reports bytes windows-1252 leaves unassigned.
func hasUndefined1252(b []byte) bool {
	for _, c := range b {
		switch c {
		case 0x81, 0x8D, 0x8F, 0x90, 0x9D:
			return true
		}
	}
	return false
}

// tooManyControls reports text where more than 1 in 100 characters is a
// control character other than whitespace: a binary file, not prose.
func tooManyControls(s string) bool {
	n, bad := 0, 0
	for _, r := range s {
		n++
		switch r {
		case '\t', '\n', '\r', '\f', '\v':
			continue
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			bad++
		}
	}
	return bad > 0 && bad*100 > n
}

// normalizeText turns CRLF and CR into LF, drops control characters and a
// stray BOM, trims trailing space on each line and blank lines at both ends.
func normalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for line := range strings.Lines(s) {
		line = strings.TrimSuffix(line, "\n")
		b.WriteString(strings.TrimRightFunc(cleanControls(line), unicode.IsSpace))
		b.WriteByte('\n')
	}
	return strings.Trim(b.String(), "\n")
}

// markdownTitle returns the text of the first ATX heading of level 1, if it
// comes before any other heading.
func markdownTitle(s string) string {
	for line := range strings.Lines(s) {
		line = strings.TrimSpace(line)
		if t, ok := strings.CutPrefix(line, "# "); ok {
			return truncateRunes(strings.TrimSpace(strings.TrimRight(t, "#")), 500)
		}
		if strings.HasPrefix(line, "#") {
			return ""
		}
	}
	return ""
}

func truncateRunes(s string, n int) string {
	i := 0
	for pos := range s {
		if i == n {
			return s[:pos]
		}
		i++
	}
	return s
}

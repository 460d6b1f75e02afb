package core

import (
	"path"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxFilenameBytes is the common file-system limit for one name.
const maxFilenameBytes = 255

// SanitizeFilename returns a name safe to store, show and put in a
// Content-Disposition header: the last path element only (so "../" and
// "C:\" tricks go), without control characters, NULs, bidirectional
// overrides that disguise the extension, zero-width characters, characters
// Windows reserves, or leading dots; whitespace collapsed; NFC; at most 255
// bytes, the extension kept when it is cut. An empty result is "document".
func SanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, "\\", "/")
	name = path.Base("/" + name)
	if name == "/" {
		name = ""
	}
	if len(name) >= 2 && name[1] == ':' && (name[0]|0x20 >= 'a' && name[0]|0x20 <= 'z') {
		name = name[2:] // a drive letter: C:file.txt
	}
	var b strings.Builder
	b.Grow(len(name))
	space := false
	for _, r := range name {
		switch {
		case unicode.IsSpace(r):
			space = true
			continue
		case r == 0, unicode.IsControl(r), isBidiOrInvisible(r), r == utf8.RuneError:
			continue
		case strings.ContainsRune(`<>:"/\|?*`, r):
			r = '_'
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	// Normalise after filtering: a NUL or control character dropped from
	// between a letter and its accent must not leave them uncomposed.
	name = strings.TrimRight(norm.NFC.String(b.String()), ". ")
	if trimmed := strings.TrimLeft(name, ". "); trimmed != name {
		if trimmed != "" && !strings.Contains(trimmed, ".") {
			// ".pdf" keeps its extension: "document.pdf".
			trimmed = "document." + trimmed
		}
		name = trimmed
	}
	if name == "" {
		return "document"
	}
	if isWindowsDevice(name) {
		name = "_" + name
	}
	return capFilename(name)
}

// isBidiOrInvisible reports characters that reorder or hide text: the
// "invoice\u202Efdp.exe" trick shows as "invoiceexe.pdf".
func isBidiOrInvisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r == 0x200E, r == 0x200F, r == 0x061C,
		r >= 0x200B && r <= 0x200D, r == 0x2060, r == 0xFEFF, r == 0x00AD:
		return true
	}
	return unicode.Is(unicode.Cf, r)
}

func isWindowsDevice(name string) bool {
	stem := strings.ToUpper(name)
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	stem = strings.TrimSpace(stem)
	switch stem {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(stem) == 4 && (strings.HasPrefix(stem, "COM") || strings.HasPrefix(stem, "LPT")) && stem[3] >= '0' && stem[3] <= '9' {
		return true
	}
	return false
}

// capFilename cuts the stem, on a character boundary, so the name fits in
// maxFilenameBytes with its extension (when the extension is a sane one).
func capFilename(name string) string {
	if len(name) <= maxFilenameBytes {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > 16 || len(ext) == len(name) {
		ext = ""
	}
	stem := strings.TrimSuffix(name, ext)
	limit := maxFilenameBytes - len(ext)
	cut := 0
	for i := range stem {
		if i > limit {
			break
		}
		cut = i
	}
	if len(stem) <= limit {
		cut = len(stem)
	}
	stem = strings.TrimRight(stem[:cut], ". ")
	if stem == "" {
		stem = "document"
	}
	return stem + ext
}

// WordCount counts words the way a reader would: runs of letters, digits
// and the punctuation inside them ("don't", "e-mail", "3.14" are one word
// each), while each Han, Hiragana or Katakana character, written without
// spaces, counts as a word of its own. Punctuation alone is no word.
func WordCount(text string) int {
	n := 0
	inWord := false
	for _, r := range text {
		switch {
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r):
			n++
			inWord = false
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsNumber(r):
			if !inWord {
				n++
				inWord = true
			}
		case unicode.IsMark(r):
			// Combining marks belong to the letter before them.
		case inWord && (r == '\'' || r == '\u2019' || r == '-' || r == '.' || r == ',' || r == '_' || r == '\u00B7'):
			// Joins the letters around it; a trailing one is harmless, as
			// the space after it ends the word.
		default:
			inWord = false
		}
	}
	return n
}

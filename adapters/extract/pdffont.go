package extract

import (
	"reflect"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/unicode/norm"
)

// maxCMapEntries bounds the code mappings all of a document's ToUnicode
// CMaps may expand to (a bfrange line of a few bytes can name 65,536 codes).
const maxCMapEntries = 1 << 21

// pdfFont decodes the byte codes a content stream shows into text.
type pdfFont struct {
	// toUnicode, when the font has one, wins over everything else.
	toUnicode *cmap
	// composite fonts (Type0) use multi-byte codes; without a ToUnicode
	// map their codes are glyph ids and say nothing about the text, unless
	// the encoding is a Unicode one (utf16).
	composite bool
	utf16     bool
	// table maps single-byte codes for simple fonts.
	table *[256]string
}

// decode appends the text of the codes in raw to buf, stopping once buf is
// longer than limit: a CMap can map one byte to many, so the output of one
// string is bounded here, not after the fact.
func (f *pdfFont) decode(raw string, buf []byte, limit int) []byte {
	switch {
	case f.toUnicode != nil:
		defLen := 1
		if f.composite {
			defLen = 2
		}
		f.toUnicode.decode(raw, defLen, func(code uint32, n int, s string, ok bool) bool {
			switch {
			case ok:
				buf = append(buf, s...)
			case !f.composite && n == 1 && f.table != nil:
				buf = append(buf, f.table[code&0xFF]...)
			}
			return len(buf) <= limit
		})
	case f.utf16:
		buf = append(buf, utf16BE(raw[:min(len(raw), limit+2)])...)
	case f.composite:
		// Glyph ids: nothing to say.
	default:
		t := f.table
		if t == nil {
			t = &standardTable
		}
		for i := 0; i < len(raw) && len(buf) <= limit; i++ {
			buf = append(buf, t[raw[i]]...)
		}
	}
	return buf
}

// font returns the font named name in res, cached by its object (or, for a
// font dictionary written inline, by the dictionary itself) so a content
// stream switching fonts a million times builds each one once.
func (d *pdfDoc) font(res pdfDict, name pdfName) *pdfFont {
	fonts, _ := d.resolve(res["Font"]).(pdfDict)
	ref := fonts[name]
	fd, _ := d.resolve(ref).(pdfDict)
	var key any
	if r, ok := ref.(pdfRef); ok {
		key = r.num
	} else if fd != nil {
		key = reflect.ValueOf(fd).Pointer()
	}
	if f, ok := d.fonts[key]; ok && key != nil {
		return f
	}
	f := d.buildFont(fd)
	if key != nil {
		d.fonts[key] = f
	}
	return f
}

func (d *pdfDoc) buildFont(fd pdfDict) *pdfFont {
	f := &pdfFont{}
	if fd == nil {
		f.table = &standardTable
		return f
	}
	subtype, _ := d.resolve(fd["Subtype"]).(pdfName)
	f.composite = subtype == "Type0"
	if s, ok := d.resolve(fd["ToUnicode"]).(*pdfStream); ok {
		if c, cached := d.cmaps[s]; cached {
			f.toUnicode = c
		} else if data, err := d.decodeStream(s); err == nil {
			f.toUnicode = d.parseCMap(data)
			d.cmaps[s] = f.toUnicode
		}
	}
	enc := d.resolve(fd["Encoding"])
	if f.composite {
		if n, ok := enc.(pdfName); ok {
			u := strings.ToUpper(string(n))
			f.utf16 = strings.Contains(u, "UCS2") || strings.Contains(u, "UTF16")
		}
		return f
	}
	base := &standardTable
	if subtype == "TrueType" {
		base = &winAnsiTable
	}
	switch e := enc.(type) {
	case pdfName:
		base = namedEncoding(e, base)
	case pdfDict:
		if n, ok := d.resolve(e["BaseEncoding"]).(pdfName); ok {
			base = namedEncoding(n, base)
		}
		if diffs, ok := d.resolve(e["Differences"]).(pdfArray); ok {
			t := *base
			code := -1
			for _, v := range diffs {
				switch x := d.resolve(v).(type) {
				case int64:
					code = int(x)
				case pdfName:
					if code >= 0 && code < 256 {
						t[code] = glyphText(string(x))
					}
					if code >= 0 {
						code++
					}
				}
			}
			f.table = &t
			return f
		}
	}
	f.table = base
	return f
}

func namedEncoding(n pdfName, def *[256]string) *[256]string {
	switch n {
	case "WinAnsiEncoding":
		return &winAnsiTable
	case "MacRomanEncoding", "MacExpertEncoding":
		return &macRomanTable
	case "StandardEncoding":
		return &standardTable
	case "PDFDocEncoding":
		return &pdfDocTable
	}
	return def
}

// cmap is a parsed ToUnicode CMap: code space ranges and code mappings.
type cmap struct {
	spaces int
	// codeLen gives, by first byte, the length of the code it starts (0:
	// no code space covers it), so splitting a string costs O(1) a code.
	codeLen [256]uint8
	m       map[uint64]string
}

func cmapKey(code uint32, n int) uint64 { return uint64(n)<<32 | uint64(code) }

func codeOf(b string) uint32 {
	var v uint32
	for i := 0; i < len(b); i++ {
		v = v<<8 | uint32(b[i])
	}
	return v
}

// decode splits raw into codes by the code space ranges (defLen bytes when
// the CMap declares none, or none covers the byte) and maps each one.
func (c *cmap) decode(raw string, defLen int, emit func(code uint32, n int, s string, ok bool) bool) {
	for len(raw) > 0 {
		n := int(c.codeLen[raw[0]])
		if n == 0 {
			n = defLen
		}
		n = min(n, len(raw))
		code := codeOf(raw[:n])
		s, ok := c.m[cmapKey(code, n)]
		if !emit(code, n, s, ok) {
			return
		}
		raw = raw[n:]
	}
}

// parseCMap reads the bfchar and bfrange mappings of a ToUnicode CMap.
// Only the operators that carry mappings are interpreted; expansion is
// bounded per document.
func (d *pdfDoc) parseCMap(data []byte) *cmap {
	c := &cmap{m: map[uint64]string{}}
	lx := &pdfLexer{data: data}
	var stack []any
	mode := ""
	for {
		v, err := lx.parseObject(false, 0)
		if err != nil {
			if lx.pos >= len(data) {
				break
			}
			stack = stack[:0]
			continue
		}
		kw, isKW := v.(pdfKeyword)
		if !isKW {
			if len(stack) >= 16 {
				stack = stack[:0]
			}
			stack = append(stack, v)
		} else {
			switch kw {
			case "begincodespacerange", "beginbfchar", "beginbfrange":
				mode = string(kw)
			case "endcodespacerange", "endbfchar", "endbfrange":
				mode = ""
			}
			stack = stack[:0]
			continue
		}
		switch mode {
		case "begincodespacerange":
			if len(stack) == 2 {
				lo, ok1 := stack[0].(pdfString)
				hi, ok2 := stack[1].(pdfString)
				if ok1 && ok2 && len(lo) == len(hi) && len(lo) >= 1 && len(lo) <= 4 && c.spaces < 256 {
					c.spaces++
					for b := int(lo[0]); b <= int(hi[0]); b++ {
						if c.codeLen[b] == 0 {
							c.codeLen[b] = uint8(len(lo))
						}
					}
				}
				stack = stack[:0]
			}
		case "beginbfchar":
			if len(stack) == 2 {
				src, ok := stack[0].(pdfString)
				if ok && len(src) >= 1 && len(src) <= 4 {
					c.set(d, codeOf(string(src)), len(src), cmapTarget(stack[1]))
				}
				stack = stack[:0]
			}
		case "beginbfrange":
			if len(stack) == 3 {
				lo, ok1 := stack[0].(pdfString)
				hi, ok2 := stack[1].(pdfString)
				if ok1 && ok2 && len(lo) == len(hi) && len(lo) >= 1 && len(lo) <= 4 {
					d.cmapRange(c, len(lo), codeOf(string(lo)), codeOf(string(hi)), stack[2])
				}
				stack = stack[:0]
			}
		default:
			if len(stack) >= 16 {
				stack = stack[:0]
			}
		}
	}
	return c
}

func (c *cmap) set(d *pdfDoc, code uint32, n int, s string) {
	if d.cmapEntries >= maxCMapEntries {
		return
	}
	d.cmapEntries++
	c.m[cmapKey(code, n)] = s
}

func (d *pdfDoc) cmapRange(c *cmap, n int, lo, hi uint32, dst any) {
	if hi < lo || hi-lo > 0xFFFF {
		return
	}
	switch t := dst.(type) {
	case pdfString:
		units := utf16Units(string(t))
		if len(units) == 0 || len(units) > 32 {
			return
		}
		for i := uint32(0); i <= hi-lo; i++ {
			u := append([]uint16(nil), units...)
			u[len(u)-1] += uint16(i)
			c.set(d, lo+i, n, string(utf16.Decode(u)))
			if d.cmapEntries >= maxCMapEntries {
				return
			}
		}
	case pdfArray:
		for i := uint32(0); i <= hi-lo && int(i) < len(t); i++ {
			c.set(d, lo+i, n, cmapTarget(t[i]))
		}
	}
}

// cmapTarget turns a bfchar/bfrange destination (UTF-16BE, or a glyph
// name) into text, capped so no code expands into a paragraph.
func cmapTarget(v any) string {
	switch t := v.(type) {
	case pdfString:
		if len(t) > 64 {
			t = t[:64]
		}
		return utf16BE(string(t))
	case pdfName:
		return glyphText(string(t))
	}
	return ""
}

func utf16Units(s string) []uint16 {
	u := make([]uint16, 0, len(s)/2)
	for i := 0; i+1 < len(s); i += 2 {
		u = append(u, uint16(s[i])<<8|uint16(s[i+1]))
	}
	if len(s)%2 == 1 {
		// A lone byte is a code point of its own in sloppy CMaps.
		u = append(u, uint16(s[len(s)-1]))
	}
	return u
}

func utf16BE(s string) string {
	return string(utf16.Decode(utf16Units(s)))
}

// pdfText decodes a text string (document information): UTF-16BE with a
// BOM, UTF-8 with a BOM (PDF 2.0), or PDFDocEncoding.
func pdfText(s string) string {
	switch {
	case strings.HasPrefix(s, "\xFE\xFF"):
		return utf16BE(s[2:])
	case strings.HasPrefix(s, "\xEF\xBB\xBF") && utf8.ValidString(s[3:]):
		return s[3:]
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(pdfDocTable[s[i]])
	}
	return b.String()
}

// glyphText maps a glyph name to its text, after the Adobe Glyph List
// conventions: uniXXXX, uXXXX[XX], ligatures joined by "_", suffixes after
// ".", and the names of letters, digits, punctuation and accented letters.
func glyphText(name string) string {
	if i := strings.IndexByte(name, '.'); i > 0 {
		name = name[:i]
	}
	if strings.Contains(name, "_") {
		var b strings.Builder
		for part := range strings.SplitSeq(name, "_") {
			b.WriteString(glyphText(part))
		}
		return b.String()
	}
	if len(name) == 1 && (name[0] >= 'a' && name[0] <= 'z' || name[0] >= 'A' && name[0] <= 'Z') {
		return name
	}
	if s, ok := glyphNames[name]; ok {
		return s
	}
	if hex, ok := strings.CutPrefix(name, "uni"); ok && len(hex) >= 4 && len(hex)%4 == 0 {
		var b strings.Builder
		for i := 0; i < len(hex); i += 4 {
			v, err := strconv.ParseUint(hex[i:i+4], 16, 16)
			if err != nil || (v >= 0xD800 && v < 0xE000) {
				return ""
			}
			b.WriteRune(rune(v))
		}
		return b.String()
	}
	if hex, ok := strings.CutPrefix(name, "u"); ok && len(hex) >= 4 && len(hex) <= 6 {
		v, err := strconv.ParseUint(hex, 16, 32)
		if err == nil && v <= 0x10FFFF && (v < 0xD800 || v >= 0xE000) {
			return string(rune(v))
		}
	}
	for accent, mark := range accentMarks {
		if base, ok := strings.CutSuffix(name, accent); ok && len(base) == 1 {
			return norm.NFC.String(base + mark)
		}
	}
	return ""
}

var accentMarks = map[string]string{
	"grave": "\u0300", "acute": "\u0301", "circumflex": "\u0302", "tilde": "\u0303",
	"macron": "\u0304", "breve": "\u0306", "dotaccent": "\u0307", "dieresis": "\u0308",
	"ring": "\u030A", "hungarumlaut": "\u030B", "caron": "\u030C", "cedilla": "\u0327",
	"ogonek": "\u0328", "commaaccent": "\u0326",
}

var glyphNames = map[string]string{
	"space": " ", "exclam": "!", "quotedbl": "\"", "numbersign": "#", "dollar": "$",
	"percent": "%", "ampersand": "&", "quotesingle": "'", "quoteright": "\u2019",
	"parenleft": "(", "parenright": ")", "asterisk": "*", "plus": "+", "comma": ",",
	"hyphen": "-", "minus": "\u2212", "period": ".", "slash": "/", "zero": "0", "one": "1",
	"two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
	"eight": "8", "nine": "9", "colon": ":", "semicolon": ";", "less": "<", "equal": "=",
	"greater": ">", "question": "?", "at": "@", "bracketleft": "[", "backslash": "\\",
	"bracketright": "]", "asciicircum": "^", "underscore": "_", "grave": "`",
	"quoteleft": "\u2018", "braceleft": "{", "bar": "|", "braceright": "}",
	"asciitilde": "~", "exclamdown": "¡", "cent": "¢", "sterling": "£", "fraction": "\u2044",
	"yen": "¥", "florin": "ƒ", "section": "§", "currency": "¤", "quotedblleft": "\u201C",
	"guillemotleft": "«", "guilsinglleft": "\u2039", "guilsinglright": "\u203A",
	"fi": "fi", "fl": "fl", "ff": "ff", "ffi": "ffi", "ffl": "ffl", "endash": "\u2013",
	"dagger": "\u2020", "daggerdbl": "\u2021", "periodcentered": "·", "paragraph": "¶",
	"bullet": "\u2022", "quotesinglbase": "\u201A", "quotedblbase": "\u201E",
	"quotedblright": "\u201D", "guillemotright": "»", "ellipsis": "\u2026",
	"perthousand": "\u2030", "questiondown": "¿", "emdash": "\u2014", "AE": "Æ", "ae": "æ",
	"ordfeminine": "ª", "ordmasculine": "º", "Lslash": "Ł", "lslash": "ł", "Oslash": "Ø",
	"oslash": "ø", "OE": "Œ", "oe": "œ", "dotlessi": "ı", "germandbls": "ß", "Eth": "Ð",
	"eth": "ð", "Thorn": "Þ", "thorn": "þ", "trademark": "\u2122", "copyright": "©",
	"registered": "®", "degree": "°", "plusminus": "±", "multiply": "×", "divide": "÷",
	"mu": "µ", "onehalf": "½", "onequarter": "¼", "threequarters": "¾", "Euro": "€",
	"euro": "€", "nbspace": "\u00A0", "nonbreakingspace": "\u00A0", "sfthyphen": "\u00AD",
	"softhyphen": "\u00AD", "logicalnot": "¬", "brokenbar": "¦", "dieresis": "¨",
	"macron": "¯", "acute": "´", "cedilla": "¸", "onesuperior": "¹", "twosuperior": "²",
	"threesuperior": "³", "circumflex": "ˆ", "tilde": "˜", "caron": "ˇ", "breve": "˘",
	"dotaccent": "˙", "ring": "˚", "ogonek": "˛", "hungarumlaut": "˝", "notdef": "",
	"arrowright": "\u2192", "arrowleft": "\u2190", "checkmark": "\u2713",
}

var (
	winAnsiTable  = charmapTable(charmap.Windows1252)
	macRomanTable = charmapTable(charmap.Macintosh)
	standardTable = buildStandardTable()
	pdfDocTable   = buildPDFDocTable()
)

func charmapTable(cm *charmap.Charmap) [256]string {
	var t [256]string
	for i := range 256 {
		r := cm.DecodeByte(byte(i))
		if r == utf8.RuneError || (r < 0x20 && r != '\t' && r != '\n' && r != '\r') {
			continue
		}
		t[i] = string(r)
	}
	return t
}

// buildStandardTable is Adobe StandardEncoding: ASCII with curly quotes,
// and its own upper half.
func buildStandardTable() [256]string {
	var t [256]string
	for i := 0x20; i < 0x7F; i++ {
		t[i] = string(rune(i))
	}
	t['\t'], t['\n'], t['\r'] = "\t", "\n", "\r"
	t[0x27], t[0x60] = "\u2019", "\u2018"
	upper := map[byte]string{
		0xA1: "¡", 0xA2: "¢", 0xA3: "£", 0xA4: "\u2044", 0xA5: "¥", 0xA6: "ƒ", 0xA7: "§",
		0xA8: "¤", 0xA9: "'", 0xAA: "\u201C", 0xAB: "«", 0xAC: "\u2039", 0xAD: "\u203A",
		0xAE: "fi", 0xAF: "fl", 0xB1: "\u2013", 0xB2: "\u2020", 0xB3: "\u2021", 0xB4: "·",
		0xB6: "¶", 0xB7: "\u2022", 0xB8: "\u201A", 0xB9: "\u201E", 0xBA: "\u201D", 0xBB: "»",
		0xBC: "\u2026", 0xBD: "\u2030", 0xBF: "¿", 0xC1: "`", 0xC2: "´", 0xC3: "ˆ", 0xC4: "˜",
		0xC5: "¯", 0xC6: "˘", 0xC7: "˙", 0xC8: "¨", 0xCA: "˚", 0xCB: "¸", 0xCD: "˝", 0xCE: "˛",
		0xCF: "ˇ", 0xD0: "\u2014", 0xE1: "Æ", 0xE3: "ª", 0xE8: "Ł", 0xE9: "Ø", 0xEA: "Œ",
		0xEB: "º", 0xF1: "æ", 0xF5: "ı", 0xF8: "ł", 0xF9: "ø", 0xFA: "œ", 0xFB: "ß",
	}
	for k, v := range upper {
		t[k] = v
	}
	return t
}

// buildPDFDocTable is PDFDocEncoding: Latin-1 with typographic characters
// in 0x18-0x1F and 0x80-0xA0.
func buildPDFDocTable() [256]string {
	t := charmapTable(charmap.ISO8859_1)
	for i := 0x80; i < 0xA0; i++ {
		t[i] = ""
	}
	special := []string{
		0x18: "˘", 0x19: "ˇ", 0x1A: "ˆ", 0x1B: "˙", 0x1C: "˝", 0x1D: "˛", 0x1E: "˚", 0x1F: "˜",
		0x80: "\u2022", 0x81: "\u2020", 0x82: "\u2021", 0x83: "\u2026", 0x84: "\u2014",
		0x85: "\u2013", 0x86: "ƒ", 0x87: "\u2044", 0x88: "\u2039", 0x89: "\u203A", 0x8A: "\u2212",
		0x8B: "\u2030", 0x8C: "\u201E", 0x8D: "\u201C", 0x8E: "\u201D", 0x8F: "\u2018",
		0x90: "\u2019", 0x91: "\u201A", 0x92: "\u2122", 0x93: "fi", 0x94: "fl", 0x95: "Ł",
		0x96: "Œ", 0x97: "Š", 0x98: "Ÿ", 0x99: "Ž", 0x9A: "ı", 0x9B: "ł", 0x9C: "œ",
		0x9D: "š", 0x9E: "ž", 0xA0: "€",
	}
	for i, s := range special {
		if s != "" {
			t[i] = s
		}
	}
	return t
}

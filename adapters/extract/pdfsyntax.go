package extract

import (
	"errors"
	"strconv"
)

// The PDF object model, kept minimal: what text extraction needs.
type (
	pdfName    string
	pdfString  string
	pdfKeyword string
	pdfArray   []any
	pdfDict    map[pdfName]any
	pdfRef     struct{ num, gen int }
	// pdfStream is a stream object: its dictionary and its raw (still
	// encoded) bytes, a slice of the file.
	pdfStream struct {
		dict pdfDict
		raw  []byte
	}
)

const (
	// pdfMaxNesting bounds arrays and dictionaries inside one another; the
	// parser is recursive and real files stay far below.
	pdfMaxNesting = 64
	// pdfMaxElements bounds one array or dictionary.
	pdfMaxElements = 1 << 20
)

var (
	errPDFSyntax  = errors.New("extract: PDF syntax error")
	errPDFNesting = errors.New("extract: PDF objects nested too deeply")
)

type tokKind uint8

const (
	tokEOF tokKind = iota
	tokInt
	tokReal
	tokString
	tokName
	tokKeyword
	tokArrayOpen
	tokArrayClose
	tokDictOpen
	tokDictClose
	tokBad
)

type pdfToken struct {
	kind tokKind
	i    int64
	f    float64
	s    string
}

// pdfLexer tokenises PDF syntax (file bodies, content streams, CMaps) from
// memory. It never fails: unreadable bytes become tokBad and are skipped.
type pdfLexer struct {
	data []byte
	pos  int
}

func isPDFSpace(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func (lx *pdfLexer) skipSpace() {
	for lx.pos < len(lx.data) {
		c := lx.data[lx.pos]
		if isPDFSpace(c) {
			lx.pos++
			continue
		}
		if c == '%' {
			for lx.pos < len(lx.data) && lx.data[lx.pos] != '\n' && lx.data[lx.pos] != '\r' {
				lx.pos++
			}
			continue
		}
		return
	}
}

func (lx *pdfLexer) next() pdfToken {
	lx.skipSpace()
	if lx.pos >= len(lx.data) {
		return pdfToken{kind: tokEOF}
	}
	c := lx.data[lx.pos]
	switch c {
	case '[':
		lx.pos++
		return pdfToken{kind: tokArrayOpen}
	case ']':
		lx.pos++
		return pdfToken{kind: tokArrayClose}
	case '<':
		if lx.pos+1 < len(lx.data) && lx.data[lx.pos+1] == '<' {
			lx.pos += 2
			return pdfToken{kind: tokDictOpen}
		}
		return lx.hexString()
	case '>':
		if lx.pos+1 < len(lx.data) && lx.data[lx.pos+1] == '>' {
			lx.pos += 2
			return pdfToken{kind: tokDictClose}
		}
		lx.pos++
		return pdfToken{kind: tokBad}
	case '(':
		return lx.literalString()
	case '/':
		return lx.name()
	case ')', '{', '}':
		lx.pos++
		return pdfToken{kind: tokBad}
	}
	start := lx.pos
	for lx.pos < len(lx.data) && !isPDFSpace(lx.data[lx.pos]) && !isPDFDelim(lx.data[lx.pos]) {
		lx.pos++
	}
	word := lx.data[start:lx.pos]
	if t, ok := parseNumber(word); ok {
		return t
	}
	return pdfToken{kind: tokKeyword, s: string(word)}
}

func parseNumber(w []byte) (pdfToken, bool) {
	if len(w) == 0 || len(w) > 32 {
		return pdfToken{}, false
	}
	digits, dot := 0, false
	for i, c := range w {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		case (c == '+' || c == '-') && i == 0:
		default:
			return pdfToken{}, false
		}
	}
	if digits == 0 {
		return pdfToken{}, false
	}
	if !dot {
		if i, err := strconv.ParseInt(string(w), 10, 64); err == nil {
			return pdfToken{kind: tokInt, i: i}, true
		}
	}
	f, err := strconv.ParseFloat(string(w), 64)
	if err != nil {
		return pdfToken{kind: tokReal}, true
	}
	return pdfToken{kind: tokReal, f: f}, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func (lx *pdfLexer) hexString() pdfToken {
	lx.pos++ // <
	out := make([]byte, 0, 16)
	var hi byte
	half := false
	for lx.pos < len(lx.data) {
		c := lx.data[lx.pos]
		lx.pos++
		if c == '>' {
			break
		}
		v, ok := unhex(c)
		if !ok {
			continue
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return pdfToken{kind: tokString, s: string(out)}
}

func (lx *pdfLexer) literalString() pdfToken {
	lx.pos++ // (
	out := make([]byte, 0, 32)
	depth := 1
	for lx.pos < len(lx.data) {
		c := lx.data[lx.pos]
		lx.pos++
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return pdfToken{kind: tokString, s: string(out)}
			}
		case '\r':
			// An end of line in a string is a newline, whatever its bytes.
			if lx.pos < len(lx.data) && lx.data[lx.pos] == '\n' {
				lx.pos++
			}
			c = '\n'
		case '\\':
			if lx.pos >= len(lx.data) {
				continue
			}
			e := lx.data[lx.pos]
			lx.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if lx.pos < len(lx.data) && lx.data[lx.pos] == '\n' {
					lx.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && lx.pos < len(lx.data) && lx.data[lx.pos] >= '0' && lx.data[lx.pos] <= '7'; k++ {
						v = v*8 + int(lx.data[lx.pos]-'0')
						lx.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return pdfToken{kind: tokString, s: string(out)}
}

func (lx *pdfLexer) name() pdfToken {
	lx.pos++ // /
	start := lx.pos
	escaped := false
	for lx.pos < len(lx.data) && !isPDFSpace(lx.data[lx.pos]) && !isPDFDelim(lx.data[lx.pos]) {
		if lx.data[lx.pos] == '#' {
			escaped = true
		}
		lx.pos++
	}
	raw := lx.data[start:lx.pos]
	if !escaped {
		return pdfToken{kind: tokName, s: string(raw)}
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		if raw[i] == '#' && i+2 < len(raw) {
			h, ok1 := unhex(raw[i+1])
			l, ok2 := unhex(raw[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				i += 2
				continue
			}
		}
		out = append(out, raw[i])
	}
	return pdfToken{kind: tokName, s: string(out)}
}

// parseObject reads one object. refs enables "n g R" references (file
// bodies, not content streams). A keyword that is not part of an object is
// returned as a pdfKeyword for the caller to interpret; tokEOF as
// errPDFSyntax.
func (lx *pdfLexer) parseObject(refs bool, depth int) (any, error) {
	t := lx.next()
	return lx.objectFrom(t, refs, depth)
}

func (lx *pdfLexer) objectFrom(t pdfToken, refs bool, depth int) (any, error) {
	switch t.kind {
	case tokEOF:
		return nil, errPDFSyntax
	case tokInt:
		if refs {
			save := lx.pos
			t2 := lx.next()
			if t2.kind == tokInt {
				t3 := lx.next()
				if t3.kind == tokKeyword && t3.s == "R" && t.i >= 0 && t.i < 1<<31 && t2.i >= 0 && t2.i < 1<<31 {
					return pdfRef{num: int(t.i), gen: int(t2.i)}, nil
				}
			}
			lx.pos = save
		}
		return t.i, nil
	case tokReal:
		return t.f, nil
	case tokString:
		return pdfString(t.s), nil
	case tokName:
		return pdfName(t.s), nil
	case tokKeyword:
		switch t.s {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return pdfKeyword(t.s), nil
	case tokArrayOpen:
		if depth >= pdfMaxNesting {
			return nil, errPDFNesting
		}
		arr := pdfArray{}
		for {
			t := lx.next()
			switch t.kind {
			case tokArrayClose:
				return arr, nil
			case tokEOF:
				return arr, errPDFSyntax
			case tokDictClose, tokBad:
				continue
			}
			v, err := lx.objectFrom(t, refs, depth+1)
			if err != nil {
				return arr, err
			}
			if kw, ok := v.(pdfKeyword); ok && (kw == "endobj" || kw == "stream" || kw == "obj") {
				// A missing "]" must not swallow the rest of the file.
				return arr, errPDFSyntax
			}
			if len(arr) >= pdfMaxElements {
				return arr, errPDFSyntax
			}
			arr = append(arr, v)
		}
	case tokDictOpen:
		if depth >= pdfMaxNesting {
			return nil, errPDFNesting
		}
		d := pdfDict{}
		for {
			t := lx.next()
			switch t.kind {
			case tokDictClose:
				return d, nil
			case tokEOF:
				return d, errPDFSyntax
			case tokName:
			case tokKeyword:
				if t.s == "endobj" || t.s == "stream" || t.s == "obj" {
					return d, errPDFSyntax
				}
				continue
			default:
				continue
			}
			key := pdfName(t.s)
			vt := lx.next()
			if vt.kind == tokDictClose {
				return d, nil
			}
			v, err := lx.objectFrom(vt, refs, depth+1)
			if err != nil {
				return d, err
			}
			if kw, ok := v.(pdfKeyword); ok {
				if kw == "endobj" || kw == "stream" || kw == "obj" {
					return d, errPDFSyntax
				}
				continue
			}
			if len(d) >= pdfMaxElements {
				return d, errPDFSyntax
			}
			d[key] = v
		}
	}
	// Stray ">", ")", "]", ">>": nothing to build.
	return pdfKeyword(""), nil
}

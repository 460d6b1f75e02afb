package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

// The PDF reader is our own, not a library's: the pure-Go readers at hand
// loop forever on a /Prev cycle in the cross-reference chain or a cycle in
// the page tree, decompress without bounds and allocate what a stream
// declares, and a goroutine stuck in a loop cannot be recovered. This one
// reads objects by scanning the file (so broken or cyclic cross-reference
// tables do not matter), visits every object at most once, and counts every
// byte it decompresses and every operator it interprets.

var (
	errPDFEncrypted = errors.New("extract: encrypted PDF")
	errPDFNoPages   = errors.New("extract: no page tree")
	errPDFPages     = errors.New("extract: too many pages")
	errPDFObjects   = errors.New("extract: too many objects")
	errPDFOperators = errors.New("extract: too many content operators")
)

const (
	// pdfMaxFormDepth bounds form XObjects drawn inside one another.
	pdfMaxFormDepth = 12
	// pdfMaxRefHops bounds chains of references to references.
	pdfMaxRefHops = 32
	// pdfMaxTreeDepth bounds the page tree.
	pdfMaxTreeDepth = 64
)

type pdfDoc struct {
	data        []byte
	objs        map[int]any
	trailer     pdfDict
	maxObjects  int
	maxDecoded  int64
	decoded     int64
	fonts       map[any]*pdfFont
	cmaps       map[*pdfStream]*cmap
	forms       map[*pdfStream][]byte
	cmapEntries int
}

func (x *Extractor) extractPDF(ctx context.Context, content []byte, b *budget) (ports.ExtractedText, error) {
	if !bytes.HasPrefix(content, []byte("%PDF-")) {
		return ports.ExtractedText{}, mismatch(".pdf")
	}
	d := &pdfDoc{
		data:       content,
		objs:       map[int]any{},
		maxObjects: x.opts.MaxPDFObjects,
		maxDecoded: x.opts.MaxDecompressedBytes,
		fonts:      map[any]*pdfFont{},
		cmaps:      map[*pdfStream]*cmap{},
		forms:      map[*pdfStream][]byte{},
	}
	text, pages, err := x.readPDF(ctx, d, b)
	if err != nil {
		return ports.ExtractedText{}, x.pdfError(err, b)
	}
	meta := map[string]any{"pages": pages}
	if info, ok := d.resolve(d.trailer["Info"]).(pdfDict); ok {
		for key, field := range map[pdfName]string{"Title": "title", "Author": "author"} {
			if s, ok := d.resolve(info[key]).(pdfString); ok {
				if v := oneLine(cleanControls(pdfText(string(s)))); v != "" {
					meta[field] = truncateRunes(v, 500)
				}
			}
		}
	}
	return ports.ExtractedText{Text: text, ContentType: TypePDF, Metadata: meta}, nil
}

func (x *Extractor) pdfError(err error, b *budget) error {
	switch {
	case errors.Is(err, errBudget):
		return tooLarge(b.max)
	case errors.Is(err, errPDFExpands):
		return &core.Error{Code: core.ETOOLARGE, Message: fmt.Sprintf("the PDF expands past the limit of %s", humanBytes(x.opts.MaxDecompressedBytes)), Err: err}
	case errors.Is(err, errPDFPages):
		return &core.Error{Code: core.ETOOLARGE, Message: fmt.Sprintf("the PDF has more than %d pages", x.opts.MaxPDFPages), Err: err}
	case errors.Is(err, errPDFObjects), errors.Is(err, errPDFOperators):
		return &core.Error{Code: core.ETOOLARGE, Message: "the PDF is too complex to read", Err: err}
	case errors.Is(err, errPDFEncrypted):
		return &core.Error{Code: core.EINVALID, Message: "the PDF is encrypted; remove its password protection and upload it again", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("extract pdf: %w", err)
	}
	return corrupt("PDF", err)
}

func (x *Extractor) readPDF(ctx context.Context, d *pdfDoc, b *budget) (string, int, error) {
	if err := d.scan(ctx); err != nil {
		return "", 0, err
	}
	if d.trailer["Encrypt"] != nil {
		return "", 0, errPDFEncrypted
	}
	pages, err := d.pages(x.opts.MaxPDFPages)
	if err != nil {
		return "", 0, err
	}
	if len(pages) == 0 {
		return "", 0, errPDFNoPages
	}
	w := &pdfTextWriter{budget: b, ops: x.opts.MaxPDFOperators}
	w.out.Grow(min(b.max, len(d.data)))
	for i, p := range pages {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		if i > 0 {
			w.paragraph()
		}
		data, err := d.pageContent(p.dict)
		if err != nil {
			return "", 0, err
		}
		if err := d.run(ctx, data, p.resources, 0, w, map[*pdfStream]bool{}); err != nil {
			return "", 0, err
		}
	}
	return tidy(w.out.String()), len(pages), nil
}

// scan reads every "n g obj ... endobj" in file order (a later definition
// replaces an earlier one, as incremental updates intend), the trailers,
// and then the objects packed in object streams.
func (d *pdfDoc) scan(ctx context.Context) error {
	lx := &pdfLexer{data: d.data}
	var prev1, prev2 pdfToken
	var trailers []pdfDict
	var xrefDicts []pdfDict
	steps := 0
	for {
		if steps++; steps%65536 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		t := lx.next()
		if t.kind == tokEOF {
			break
		}
		if t.kind == tokKeyword {
			switch t.s {
			case "obj":
				if prev1.kind == tokInt && prev2.kind == tokInt && prev2.i >= 0 && prev2.i < 1<<31 {
					num := int(prev2.i)
					// An object that does not parse (truncated, nested too
					// deeply) is left out; the scan goes on after it.
					v, err := lx.parseObject(true, 0)
					if err == nil {
						save := lx.pos
						if nt := lx.next(); nt.kind == tokKeyword && nt.s == "stream" {
							dict, _ := v.(pdfDict)
							s := &pdfStream{dict: dict, raw: d.streamData(lx, dict)}
							v = s
							if dict != nil {
								if typ, _ := dict["Type"].(pdfName); typ == "XRef" {
									xrefDicts = append(xrefDicts, dict)
								}
							}
						} else {
							lx.pos = save
						}
						if _, seen := d.objs[num]; !seen && len(d.objs) >= d.maxObjects {
							return errPDFObjects
						}
						d.objs[num] = v
					}
				}
			case "trailer":
				v, err := lx.parseObject(true, 0)
				if dict, ok := v.(pdfDict); ok && err == nil {
					trailers = append(trailers, dict)
				}
			case "stream":
				// A stream whose object header did not parse: skip its
				// bytes rather than lex binary data.
				d.streamData(lx, nil)
			}
		}
		prev2, prev1 = prev1, t
	}
	if err := d.unpackObjectStreams(ctx); err != nil {
		return err
	}
	// The last trailer (or cross-reference stream) that names a catalog
	// describes the current revision.
	for _, list := range [][]pdfDict{trailers, xrefDicts} {
		for i := len(list) - 1; i >= 0; i-- {
			if list[i]["Root"] != nil && d.trailer == nil {
				d.trailer = list[i]
			}
		}
	}
	if d.trailer == nil {
		d.trailer = pdfDict{}
	}
	for _, list := range [][]pdfDict{trailers, xrefDicts} {
		for _, t := range list {
			if t["Encrypt"] != nil {
				d.trailer["Encrypt"] = t["Encrypt"]
			}
		}
	}
	return nil
}

// streamData returns the raw bytes of the stream whose "stream" keyword lx
// just read, and moves lx past "endstream". A direct /Length is used when
// it checks out; otherwise the next "endstream" ends the data.
func (d *pdfDoc) streamData(lx *pdfLexer, dict pdfDict) []byte {
	data := d.data
	start := lx.pos
	if start < len(data) && data[start] == '\r' {
		start++
	}
	if start < len(data) && data[start] == '\n' {
		start++
	}
	if n, ok := dict["Length"].(int64); ok && n >= 0 && n <= int64(len(data)-start) {
		end := start + int(n)
		rest := bytes.TrimLeft(data[end:min(end+64, len(data))], " \t\r\n\f\x00")
		if bytes.HasPrefix(rest, []byte("endstream")) {
			lx.pos = end
			lx.skipSpace()
			lx.pos = min(lx.pos+len("endstream"), len(data))
			return data[start:end:end]
		}
	}
	i := bytes.Index(data[start:], []byte("endstream"))
	if i < 0 {
		lx.pos = len(data)
		return data[start:len(data):len(data)]
	}
	end := start + i
	lx.pos = end + len("endstream")
	if end > start && data[end-1] == '\n' {
		end--
	}
	if end > start && data[end-1] == '\r' {
		end--
	}
	return data[start:end:end]
}

// unpackObjectStreams adds the objects packed in /Type /ObjStm streams,
// unless the file body defines them itself.
func (d *pdfDoc) unpackObjectStreams(ctx context.Context) error {
	var nums []int
	for num, v := range d.objs {
		if s, ok := v.(*pdfStream); ok {
			if typ, _ := s.dict["Type"].(pdfName); typ == "ObjStm" {
				nums = append(nums, num)
			}
		}
	}
	sort.Ints(nums)
	packed := map[int]any{}
	for _, num := range nums {
		if err := ctx.Err(); err != nil {
			return err
		}
		s := d.objs[num].(*pdfStream)
		data, err := d.decodeStream(s)
		if errors.Is(err, errPDFExpands) {
			return err
		}
		if err != nil {
			continue
		}
		n, _ := d.resolve(s.dict["N"]).(int64)
		first, _ := d.resolve(s.dict["First"]).(int64)
		if n <= 0 || first < 0 || first > int64(len(data)) {
			continue
		}
		lx := &pdfLexer{data: data[:first]}
		type entry struct{ num, off int64 }
		var entries []entry
		for i := int64(0); i < n; i++ {
			a, b := lx.next(), lx.next()
			if a.kind != tokInt || b.kind != tokInt {
				break
			}
			if a.i >= 0 && a.i < 1<<31 && b.i >= 0 && first+b.i < int64(len(data)) {
				entries = append(entries, entry{a.i, b.i})
			}
		}
		// Each object is parsed only up to the next one's offset, and a
		// shared offset only once, so overlapping entries cannot make the
		// work grow faster than the stream.
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].off < entries[j].off })
		for k, e := range entries {
			if k > 0 && entries[k-1].off == e.off {
				continue
			}
			end := int64(len(data))
			for _, later := range entries[k+1:] {
				if later.off > e.off {
					end = first + later.off
					break
				}
			}
			if _, defined := d.objs[int(e.num)]; defined {
				continue
			}
			if _, defined := packed[int(e.num)]; defined {
				continue
			}
			if len(d.objs)+len(packed) >= d.maxObjects {
				return errPDFObjects
			}
			olx := &pdfLexer{data: data[:end], pos: int(first + e.off)}
			v, err := olx.parseObject(true, 0)
			if err != nil {
				continue
			}
			packed[int(e.num)] = v
		}
	}
	for num, v := range packed {
		d.objs[num] = v
	}
	return nil
}

// resolve follows references (to a bounded depth; a cycle resolves to nil).
func (d *pdfDoc) resolve(v any) any {
	for range pdfMaxRefHops {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = d.objs[r.num]
	}
	return nil
}

type pdfPage struct {
	dict      pdfDict
	resources pdfDict
}

// pages walks the page tree depth first, in order, visiting each object
// once; a file whose tree is unusable falls back to its /Type /Page objects
// in object-number order.
func (d *pdfDoc) pages(maxPages int) ([]pdfPage, error) {
	type item struct {
		node  any
		res   pdfDict
		depth int
	}
	var pages []pdfPage
	visited := map[int]bool{}
	root, _ := d.resolve(d.trailer["Root"]).(pdfDict)
	if root == nil {
		root = d.findCatalog()
	}
	if root != nil {
		stack := []item{{node: root["Pages"]}}
		for len(stack) > 0 {
			it := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if r, ok := it.node.(pdfRef); ok {
				if visited[r.num] {
					continue
				}
				visited[r.num] = true
			}
			node, _ := d.resolve(it.node).(pdfDict)
			if node == nil {
				continue
			}
			res, _ := d.resolve(node["Resources"]).(pdfDict)
			if res == nil {
				res = it.res
			}
			typ, _ := d.resolve(node["Type"]).(pdfName)
			kids, _ := d.resolve(node["Kids"]).(pdfArray)
			if typ == "Pages" || (typ != "Page" && kids != nil) {
				if it.depth >= pdfMaxTreeDepth {
					continue
				}
				for i := len(kids) - 1; i >= 0; i-- {
					stack = append(stack, item{node: kids[i], res: res, depth: it.depth + 1})
				}
				continue
			}
			pages = append(pages, pdfPage{dict: node, resources: res})
			if len(pages) > maxPages {
				return nil, errPDFPages
			}
		}
	}
	if len(pages) > 0 {
		return pages, nil
	}
	var nums []int
	for num, v := range d.objs {
		if dict, ok := v.(pdfDict); ok {
			if typ, _ := dict["Type"].(pdfName); typ == "Page" {
				nums = append(nums, num)
			}
		}
	}
	sort.Ints(nums)
	for _, num := range nums {
		dict := d.objs[num].(pdfDict)
		res, _ := d.resolve(dict["Resources"]).(pdfDict)
		if res == nil {
			if parent, ok := d.resolve(dict["Parent"]).(pdfDict); ok {
				res, _ = d.resolve(parent["Resources"]).(pdfDict)
			}
		}
		pages = append(pages, pdfPage{dict: dict, resources: res})
		if len(pages) > maxPages {
			return nil, errPDFPages
		}
	}
	return pages, nil
}

func (d *pdfDoc) findCatalog() pdfDict {
	best := -1
	for num, v := range d.objs {
		if dict, ok := v.(pdfDict); ok {
			if typ, _ := dict["Type"].(pdfName); typ == "Catalog" && (best < 0 || num > best) {
				best = num
			}
		}
	}
	if best < 0 {
		return nil
	}
	return d.objs[best].(pdfDict)
}

// pageContent decodes the page's content streams. A stream that cannot be
// decoded is left out; running out of decompression budget is an error.
func (d *pdfDoc) pageContent(page pdfDict) ([][]byte, error) {
	var streams []*pdfStream
	switch c := d.resolve(page["Contents"]).(type) {
	case *pdfStream:
		streams = append(streams, c)
	case pdfArray:
		for _, v := range c {
			if s, ok := d.resolve(v).(*pdfStream); ok {
				streams = append(streams, s)
			}
		}
	}
	var out [][]byte
	for _, s := range streams {
		data, err := d.decodeStream(s)
		if errors.Is(err, errPDFExpands) {
			return nil, err
		}
		if err == nil {
			out = append(out, data)
		}
	}
	return out, nil
}

// pdfTextWriter accumulates a page's text. Separators are held back until
// the next visible text so runs of positioning produce one space or one
// line break.
type pdfTextWriter struct {
	out     strings.Builder
	budget  *budget
	ops     int
	pending byte // 0, ' ', '\n' or 'p' (paragraph)
}

func (w *pdfTextWriter) space() {
	if w.pending == 0 {
		w.pending = ' '
	}
}

func (w *pdfTextWriter) newline() {
	if w.pending != 'p' {
		w.pending = '\n'
	}
}

func (w *pdfTextWriter) paragraph() { w.pending = 'p' }

func (w *pdfTextWriter) write(s string) error {
	if s == "" {
		return nil
	}
	sep := ""
	if w.out.Len() > 0 {
		switch w.pending {
		case ' ':
			if !strings.HasSuffix(w.out.String(), " ") && !strings.HasPrefix(s, " ") {
				sep = " "
			}
		case '\n':
			sep = "\n"
		case 'p':
			sep = "\n\n"
		}
	}
	w.pending = 0
	if !w.budget.take(len(sep) + len(s)) {
		return errBudget
	}
	w.out.WriteString(sep)
	w.out.WriteString(s)
	return nil
}

// run interprets content streams for their text operators. Form XObjects
// are followed to a bounded depth, never into themselves.
func (d *pdfDoc) run(ctx context.Context, streams [][]byte, res pdfDict, depth int, w *pdfTextWriter, active map[*pdfStream]bool) error {
	var font *pdfFont
	var operands []any
	var lastY float64
	haveY := false
	var emitErr error
	var buf []byte
	show := func(v any) {
		s, ok := v.(pdfString)
		if !ok || emitErr != nil {
			return
		}
		if font == nil {
			font = &pdfFont{table: &standardTable}
		}
		buf = font.decode(string(s), buf[:0], w.budget.max-w.budget.used)
		emitErr = w.write(string(buf))
	}
	for _, data := range streams {
		lx := &pdfLexer{data: data}
		operands = operands[:0]
		for {
			v, err := lx.parseObject(false, 0)
			if err != nil {
				if lx.pos >= len(data) {
					break
				}
				operands = operands[:0]
				continue
			}
			op, isOp := v.(pdfKeyword)
			if !isOp {
				if len(operands) >= 32 {
					operands = operands[:0]
				}
				operands = append(operands, v)
				continue
			}
			if w.ops--; w.ops < 0 {
				return errPDFOperators
			}
			if w.ops%65536 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			switch op {
			case "BI":
				skipInlineImage(lx)
			case "Tf":
				if len(operands) >= 2 {
					if name, ok := operands[len(operands)-2].(pdfName); ok {
						font = d.font(res, name)
					}
				}
			case "Td", "TD":
				if len(operands) >= 2 {
					tx, ty := number(operands[len(operands)-2]), number(operands[len(operands)-1])
					switch {
					case math.Abs(ty) > 0.01:
						w.newline()
					case math.Abs(tx) > 0.01:
						w.space()
					}
				}
			case "Tm":
				if len(operands) >= 6 {
					y := number(operands[len(operands)-1])
					if haveY && math.Abs(y-lastY) > 0.5 {
						w.newline()
					} else if haveY {
						w.space()
					}
					lastY, haveY = y, true
				}
			case "T*":
				w.newline()
			case "Tj":
				if len(operands) >= 1 {
					show(operands[len(operands)-1])
				}
			case "'":
				w.newline()
				if len(operands) >= 1 {
					show(operands[len(operands)-1])
				}
			case "\"":
				w.newline()
				if len(operands) >= 3 {
					show(operands[len(operands)-1])
				}
			case "TJ":
				if len(operands) >= 1 {
					arr, _ := operands[len(operands)-1].(pdfArray)
					for _, item := range arr {
						switch t := item.(type) {
						case pdfString:
							show(t)
						case int64, float64:
							// Thousandths of an em; a wide move right is a
							// word gap.
							if number(t) < -180 {
								w.space()
							}
						}
					}
				}
			case "ET":
				w.space()
			case "Do":
				if len(operands) >= 1 && depth < pdfMaxFormDepth {
					if name, ok := operands[len(operands)-1].(pdfName); ok {
						if err := d.runForm(ctx, res, name, depth, w, active); err != nil {
							return err
						}
					}
				}
			}
			operands = operands[:0]
			if emitErr != nil {
				return emitErr
			}
		}
	}
	return emitErr
}

func (d *pdfDoc) runForm(ctx context.Context, res pdfDict, name pdfName, depth int, w *pdfTextWriter, active map[*pdfStream]bool) error {
	xobjs, _ := d.resolve(res["XObject"]).(pdfDict)
	s, ok := d.resolve(xobjs[name]).(*pdfStream)
	if !ok || active[s] {
		return nil
	}
	if st, _ := d.resolve(s.dict["Subtype"]).(pdfName); st != "Form" {
		return nil
	}
	data, cached := d.forms[s]
	if !cached {
		var err error
		data, err = d.decodeStream(s)
		if errors.Is(err, errPDFExpands) {
			return err
		}
		d.forms[s] = data
	}
	formRes, _ := d.resolve(s.dict["Resources"]).(pdfDict)
	if formRes == nil {
		formRes = res
	}
	active[s] = true
	defer delete(active, s)
	return d.run(ctx, [][]byte{data}, formRes, depth+1, w, active)
}

// skipInlineImage moves lx past "ID <binary data> EI".
func skipInlineImage(lx *pdfLexer) {
	for range 1024 {
		t := lx.next()
		if t.kind == tokEOF {
			return
		}
		if t.kind == tokKeyword && t.s == "ID" {
			break
		}
	}
	data := lx.data
	pos := lx.pos + 1
	for pos < len(data) {
		i := bytes.Index(data[pos:], []byte("EI"))
		if i < 0 {
			lx.pos = len(data)
			return
		}
		at := pos + i
		before := at == 0 || isPDFSpace(data[at-1])
		after := at+2 >= len(data) || isPDFSpace(data[at+2]) || isPDFDelim(data[at+2])
		if before && after {
			lx.pos = at + 2
			return
		}
		pos = at + 2
	}
	lx.pos = len(data)
}

func number(v any) float64 {
	switch n := v.(type) {
	case int64:
		return float64(n)
	case float64:
		return n
	}
	return 0
}

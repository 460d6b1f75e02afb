package extract

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"io"
)

var (
	errPDFExpands      = errors.New("extract: PDF streams expand past the limit")
	errPDFImageFilter  = errors.New("extract: image stream")
	errPDFFilter       = errors.New("extract: unsupported PDF filter")
	errPDFPredictor    = errors.New("extract: bad PDF predictor parameters")
	maxPredictorRowLen = int64(1 << 20)
)

// decodeStream applies the stream's filters under the document's
// decompression budget: every byte any filter produces is counted, so a
// compressed bomb stops at the limit, not at the end of memory.
func (d *pdfDoc) decodeStream(s *pdfStream) ([]byte, error) {
	filters := d.resolve(s.dict["Filter"])
	params := d.resolve(s.dict["DecodeParms"])
	if params == nil {
		params = d.resolve(s.dict["DP"])
	}
	if filters == nil {
		filters = d.resolve(s.dict["F"])
		if _, ok := filters.(pdfString); ok {
			// /F as a file specification: external data we do not fetch.
			return nil, errPDFFilter
		}
	}
	var names []pdfName
	var parms []pdfDict
	switch f := filters.(type) {
	case nil:
	case pdfName:
		names = []pdfName{f}
		p, _ := params.(pdfDict)
		parms = []pdfDict{p}
	case pdfArray:
		if len(f) > 8 {
			return nil, errPDFFilter
		}
		pa, _ := params.(pdfArray)
		for i, n := range f {
			name, _ := d.resolve(n).(pdfName)
			names = append(names, name)
			var p pdfDict
			if i < len(pa) {
				p, _ = d.resolve(pa[i]).(pdfDict)
			}
			parms = append(parms, p)
		}
	default:
		return nil, errPDFFilter
	}
	data := s.raw
	for i, name := range names {
		remaining := d.maxDecoded - d.decoded
		if remaining <= 0 {
			return nil, errPDFExpands
		}
		var err error
		switch name {
		case "FlateDecode", "Fl":
			data, err = inflate(data, remaining)
			if err == nil {
				data, err = d.unpredict(data, parms[i])
			}
		case "LZWDecode", "LZW":
			early := int64(1)
			if v, ok := d.resolve(parms[i]["EarlyChange"]).(int64); ok {
				early = v
			}
			data, err = lzwDecode(data, early != 0, remaining)
			if err == nil {
				data, err = d.unpredict(data, parms[i])
			}
		case "ASCIIHexDecode", "AHx":
			data = asciiHexDecode(data)
		case "ASCII85Decode", "A85":
			data, err = ascii85Decode(data)
		case "RunLengthDecode", "RL":
			data, err = runLengthDecode(data, remaining)
		case "Crypt":
			// Only the Identity crypt filter can be read without keys.
			if n, _ := d.resolve(parms[i]["Name"]).(pdfName); n != "" && n != "Identity" {
				return nil, errPDFFilter
			}
		case "DCTDecode", "DCT", "JPXDecode", "CCITTFaxDecode", "CCF", "JBIG2Decode":
			return nil, errPDFImageFilter
		default:
			return nil, errPDFFilter
		}
		if err != nil {
			return nil, err
		}
		d.decoded += int64(len(data))
		if d.decoded > d.maxDecoded {
			return nil, errPDFExpands
		}
	}
	return data, nil
}

// inflate decompresses zlib (or, from sloppy writers, raw deflate) data,
// keeping what was readable from a truncated or corrupt stream as readers do.
func inflate(data []byte, limit int64) ([]byte, error) {
	var r io.Reader
	if zr, err := zlib.NewReader(bytes.NewReader(data)); err == nil {
		r = zr
	} else {
		r = flate.NewReader(bytes.NewReader(data))
	}
	out, err := io.ReadAll(io.LimitReader(r, limit+1))
	if int64(len(out)) > limit {
		return nil, errPDFExpands
	}
	if err != nil && len(out) == 0 && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, err
	}
	return out, nil
}

// unpredict undoes a PNG or TIFF predictor. Output never exceeds input.
func (d *pdfDoc) unpredict(data []byte, p pdfDict) ([]byte, error) {
	if p == nil {
		return data, nil
	}
	pred, _ := d.resolve(p["Predictor"]).(int64)
	if pred <= 1 {
		return data, nil
	}
	colors, bpc, columns := int64(1), int64(8), int64(1)
	if v, ok := d.resolve(p["Colors"]).(int64); ok {
		colors = v
	}
	if v, ok := d.resolve(p["BitsPerComponent"]).(int64); ok {
		bpc = v
	}
	if v, ok := d.resolve(p["Columns"]).(int64); ok {
		columns = v
	}
	if colors < 1 || colors > 64 || bpc < 1 || bpc > 16 || columns < 1 || columns > maxPredictorRowLen {
		return nil, errPDFPredictor
	}
	rowLen := (columns*colors*bpc + 7) / 8
	if rowLen > maxPredictorRowLen {
		return nil, errPDFPredictor
	}
	bpp := int((colors*bpc + 7) / 8)
	n := int(rowLen)
	if pred == 2 {
		if bpc != 8 {
			return data, nil
		}
		out := bytes.Clone(data)
		for row := 0; row < len(out); row += n {
			end := min(row+n, len(out))
			for i := row + bpp; i < end; i++ {
				out[i] += out[i-bpp]
			}
		}
		return out, nil
	}
	// PNG predictors: each row starts with its filter type.
	out := make([]byte, 0, len(data))
	prev := make([]byte, n)
	cur := make([]byte, n)
	for pos := 0; pos < len(data); pos += n + 1 {
		ft := data[pos]
		row := data[pos+1 : min(pos+1+n, len(data))]
		clear(cur)
		copy(cur, row)
		for i := 0; i < n; i++ {
			var left, up, upLeft byte
			if i >= bpp {
				left = cur[i-bpp]
				upLeft = prev[i-bpp]
			}
			up = prev[i]
			switch ft {
			case 1:
				cur[i] += left
			case 2:
				cur[i] += up
			case 3:
				cur[i] += byte((int(left) + int(up)) / 2)
			case 4:
				cur[i] += paeth(left, up, upLeft)
			}
		}
		out = append(out, cur[:len(row)]...)
		prev, cur = cur, prev
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// lzwDecode reads PDF's LZW (MSB first, 9 to 12 bit codes, 256 clear, 257
// end). Table entries are (offset, length) spans of the output itself, so
// the table costs nothing whatever the strings' lengths.
func lzwDecode(in []byte, early bool, limit int64) ([]byte, error) {
	type span struct{ off, n int }
	var table [4096]span
	out := make([]byte, 0, min(int64(len(in))*3, limit))
	var bitBuf uint32
	bitCount := 0
	pos := 0
	codeLen := 9
	next := 258
	prev := -1
	var prevSpan span
	e := 0
	if early {
		e = 1
	}
	for {
		for bitCount < codeLen && pos < len(in) {
			bitBuf = bitBuf<<8 | uint32(in[pos])
			pos++
			bitCount += 8
		}
		if bitCount < codeLen {
			break
		}
		code := int(bitBuf>>(bitCount-codeLen)) & (1<<codeLen - 1)
		bitCount -= codeLen
		switch code {
		case 256:
			codeLen, next, prev = 9, 258, -1
			continue
		case 257:
			return out, nil
		}
		var cur span
		switch {
		case code < 256:
			cur = span{len(out), 1}
			out = append(out, byte(code))
		case code < next:
			t := table[code]
			cur = span{len(out), t.n}
			out = append(out, out[t.off:t.off+t.n]...)
		case code == next && prev >= 0:
			cur = span{len(out), prevSpan.n + 1}
			out = append(out, out[prevSpan.off:prevSpan.off+prevSpan.n]...)
			out = append(out, out[prevSpan.off])
		default:
			return out, nil // corrupt: keep what was read
		}
		if int64(len(out)) > limit {
			return nil, errPDFExpands
		}
		if prev >= 0 && next < 4096 {
			// The new entry is the previous string plus the first byte of
			// this one, which the output already holds right after it.
			table[next] = span{prevSpan.off, prevSpan.n + 1}
			next++
		}
		if next+e >= 1<<codeLen && codeLen < 12 {
			codeLen++
		}
		prev, prevSpan = code, cur
	}
	return out, nil
}

func asciiHexDecode(in []byte) []byte {
	out := make([]byte, 0, len(in)/2)
	var hi byte
	half := false
	for _, c := range in {
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
	return out
}

func ascii85Decode(in []byte) ([]byte, error) {
	in = bytes.TrimPrefix(bytes.TrimLeft(in, " \t\r\n\f\x00"), []byte("<~"))
	if i := bytes.Index(in, []byte("~>")); i >= 0 {
		in = in[:i]
	}
	clean := make([]byte, 0, len(in))
	for _, c := range in {
		if (c >= '!' && c <= 'u') || c == 'z' {
			clean = append(clean, c)
		}
	}
	out := make([]byte, 4*len(clean)+4)
	n, _, err := ascii85.Decode(out, clean, true)
	if err != nil {
		var ce ascii85.CorruptInputError
		if errors.As(err, &ce) {
			return out[:n], nil
		}
		return nil, err
	}
	return out[:n], nil
}

func runLengthDecode(in []byte, limit int64) ([]byte, error) {
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); {
		l := int(in[i])
		i++
		switch {
		case l < 128:
			end := min(i+l+1, len(in))
			out = append(out, in[i:end]...)
			i = end
		case l > 128:
			if i >= len(in) {
				return out, nil
			}
			for k := 0; k < 257-l; k++ {
				out = append(out, in[i])
			}
			i++
		default:
			return out, nil
		}
		if int64(len(out)) > limit {
			return nil, errPDFExpands
		}
	}
	return out, nil
}

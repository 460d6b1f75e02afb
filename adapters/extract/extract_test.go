package extract

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"fmt"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/repurpose/repurpose/core"
	"github.com/repurpose/repurpose/ports"
)

func extract(t testing.TB, x *Extractor, name string, content []byte) (string, map[string]any, string, error) {
	t.Helper()
	out, err := x.Extract(context.Background(), name, content)
	return out.Text, out.Metadata, out.ContentType, err
}

// requireCode asserts err is a coded error with code, and that its message
// contains want.
func requireCode(t testing.TB, err error, code core.Code, want string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, code, core.ErrorCode(err), "error: %v", err)
	assert.Contains(t, core.AsError(err).Message, want)
}

func TestExtractDOCX(t *testing.T) {
	t.Parallel()
	text, meta, ct, err := extract(t, New(Options{}), "Report.DOCX", sampleDOCX(t))
	require.NoError(t, err)
	assert.Equal(t, TypeDOCX, ct)
	assert.Equal(t, "# Quarterly report\n\nRevenue grew in every region.\n\nCosts & margins are below.\n\nRegion\tRevenue\nNorth\t120\nSouth\t95", text)
	assert.Equal(t, "Q3 Report", meta["title"])
	assert.Equal(t, "Ada Lovelace", meta["author"])
}

func TestExtractDOCXStructure(t *testing.T) {
	t.Parallel()
	body := `<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs><w:numPr><w:ilvl w:val="0"/></w:numPr></w:pPr>` +
		`<w:r><w:t>first</w:t></w:r><w:r><w:tab/><w:t>item</w:t></w:r></w:p>` +
		`<w:p><w:r><w:t>kept</w:t><w:delText>deleted</w:delText><w:instrText>PAGE</w:instrText></w:r></w:p>` +
		`<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"><mc:Choice Requires="wps">` +
		`<w:p><w:r><w:t>box</w:t></w:r></w:p></mc:Choice><mc:Fallback><w:p><w:r><w:t>box</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent>` +
		`<w:p><w:r><w:t>line one</w:t><w:br/><w:t>line two</w:t></w:r></w:p>`
	text, _, _, err := extract(t, New(Options{}), "a.docx", makeDOCX(t, body, "", ""))
	require.NoError(t, err)
	assert.Equal(t, "- first\titem\n\nkept\n\nbox\n\nline one\nline two", text)
}

func TestExtractPDF(t *testing.T) {
	t.Parallel()
	for _, compress := range []bool{false, true} {
		pdf := makePDF([][]string{
			{"Quarterly report", "Revenue grew in every region (all of them)."},
			{"Second page: caf\xE9 prices \x80 5"},
		}, compress, "Q3 Report", "Ada Lovelace")
		text, meta, ct, err := extract(t, New(Options{}), "report.pdf", pdf)
		require.NoError(t, err)
		assert.Equal(t, TypePDF, ct)
		assert.Equal(t, "Quarterly report\nRevenue grew in every region (all of them).\n\nSecond page: café prices € 5", text)
		assert.Equal(t, 2, meta["pages"])
		assert.Equal(t, "Q3 Report", meta["title"])
		assert.Equal(t, "Ada Lovelace", meta["author"])
	}
}

func TestExtractPDFNoText(t *testing.T) {
	t.Parallel()
	_, _, _, err := extract(t, New(Options{}), "scan.pdf", noTextPDF())
	requireCode(t, err, core.EINVALID, "no extractable text")
}

// pdfWithPage builds a one-page PDF whose page has the given content and
// resources, plus extra objects numbered from 5.
func pdfWithPage(content, resources string, extra ...pdfObject) []byte {
	objs := []pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources " + resources + " >>"},
		{dict: "<< >>", stream: []byte(content)},
	}
	return buildPDF(append(objs, extra...), "")
}

func TestExtractPDFFonts(t *testing.T) {
	t.Parallel()
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n" +
		"1 begincodespacerange <0000> <FFFF> endcodespacerange\n" +
		"3 beginbfchar <0001> <0048> <0002> <0069> <0003> <0021> endbfchar\n" +
		"1 beginbfrange <0004> <0006> <0061> endbfrange\n" +
		"1 beginbfrange <0007> <0008> [<00660069> <D83DDE00>] endbfrange\n" +
		"endcmap CMapName currentdict /CMap defineresource pop end end"
	tests := []struct {
		name, content, resources string
		extra                    []pdfObject
		want                     string
	}{
		{
			name:      "Type0 with ToUnicode",
			content:   "BT /F1 12 Tf <0001000200030004000500060007> Tj <0008> Tj ET",
			resources: "<< /Font << /F1 5 0 R >> >>",
			extra: []pdfObject{
				{dict: "<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R >>"},
				{dict: "<< >>", stream: []byte(cmap)},
			},
			want: "Hi!abcfi😀",
		},
		{
			name:      "Differences",
			content:   "BT /F1 12 Tf (ABCD) Tj ET",
			resources: "<< /Font << /F1 5 0 R >> >>",
			extra: []pdfObject{
				{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /X /Encoding << /BaseEncoding /WinAnsiEncoding /Differences [65 /eacute /uni00DF /f_i /Aring] >> >>"},
			},
			want: "éßfiÅ",
		},
		{
			name:      "TJ word gaps and line moves",
			content:   "BT /F1 12 Tf [(Hel) -20 (lo) -500 (World)] TJ 0 -14 Td (next line) Tj ET",
			resources: "<< /Font << /F1 5 0 R >> >>",
			extra:     []pdfObject{{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}},
			want:      "Hello World\nnext line",
		},
		{
			name:      "form XObject, self-referencing form, inline image",
			content:   "BI /W 4 /H 4 /BPC 8 /CS /G ID \x00)(Tj] EI\nq /Fm1 Do Q BT /F1 12 Tf (after) Tj ET",
			resources: "<< /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >>",
			extra: []pdfObject{
				{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"},
				{dict: "<< /Type /XObject /Subtype /Form /BBox [0 0 100 100] /Resources << /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >> >>", stream: []byte("BT /F1 9 Tf (in form) Tj ET /Fm1 Do")},
			},
			want: "in form after",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text, _, _, err := extract(t, New(Options{}), "f.pdf", pdfWithPage(tt.content, tt.resources, tt.extra...))
			require.NoError(t, err)
			assert.Equal(t, tt.want, text)
		})
	}
}

func TestExtractPDFObjectStreams(t *testing.T) {
	t.Parallel()
	// Catalog, page tree and page packed in an object stream, as PDF 1.5
	// writers do; no classic cross-reference table at all.
	packed := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
	}
	var header, body strings.Builder
	for i, p := range packed {
		fmt.Fprintf(&header, "%d %d ", i+1, body.Len())
		body.WriteString(p + "\n")
	}
	objStm := header.String() + body.String()
	var b bytes.Buffer
	b.WriteString("%PDF-1.5\n")
	content := deflate([]byte("BT /F1 12 Tf (packed objects) Tj ET"))
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n", len(content), content)
	b.WriteString("5 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n")
	stm := deflate([]byte(objStm))
	fmt.Fprintf(&b, "6 0 obj\n<< /Type /ObjStm /N 3 /First %d /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream\nendobj\n", len(header.String()), len(stm), stm)
	b.WriteString("7 0 obj\n<< /Type /XRef /Root 1 0 R /Size 8 /W [1 2 1] /Length 0 >>\nstream\n\nendstream\nendobj\nstartxref\n0\n%%EOF\n")
	text, meta, _, err := extract(t, New(Options{}), "packed.pdf", b.Bytes())
	require.NoError(t, err)
	assert.Equal(t, "packed objects", text)
	assert.Equal(t, 1, meta["pages"])
}

func TestExtractPDFFilters(t *testing.T) {
	t.Parallel()
	content := []byte("BT /F1 12 Tf (filtered text) Tj ET")
	hex := fmt.Sprintf("%X>", content)
	var rl []byte
	for i := 0; i < len(content); i += 100 {
		chunk := content[i:min(i+100, len(content))]
		rl = append(append(rl, byte(len(chunk)-1)), chunk...)
	}
	rl = append(rl, 128)
	for name, s := range map[string]pdfObject{
		"ASCIIHex":       {dict: "<< /Filter /ASCIIHexDecode >>", stream: []byte(hex)},
		"RunLength":      {dict: "<< /Filter /RunLengthDecode >>", stream: rl},
		"Flate+ASCIIHex": {dict: "<< /Filter [/ASCIIHexDecode /FlateDecode] >>", stream: []byte(fmt.Sprintf("%X>", deflate(content)))},
		"LZW":            {dict: "<< /Filter /LZWDecode >>", stream: lzwEncode(content)},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			objs := []pdfObject{
				{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
				{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
				{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"},
				s,
				{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"},
			}
			text, _, _, err := extract(t, New(Options{}), "f.pdf", buildPDF(objs, ""))
			require.NoError(t, err)
			assert.Equal(t, "filtered text", text)
		})
	}
}

// lzwEncode writes PDF LZW with 9-bit codes only, resetting the table
// before it would grow: enough to exercise the decoder.
func lzwEncode(data []byte) []byte {
	var out []byte
	var acc uint32
	n := 0
	put := func(code int) {
		acc = acc<<9 | uint32(code)
		n += 9
		for n >= 8 {
			out = append(out, byte(acc>>(n-8)))
			n -= 8
		}
	}
	put(256)
	for _, c := range data {
		put(int(c))
		put(256) // a clear after each code keeps every code 9 bits wide
	}
	put(257)
	if n > 0 {
		out = append(out, byte(acc<<(8-n)))
	}
	return out
}

func TestExtractHTML(t *testing.T) {
	t.Parallel()
	page := `<!DOCTYPE html><html><head><title> Launch &amp; notes </title>
<style>body { color: red }</style><script>alert("x")</script></head>
<body><noscript>enable js</noscript><template><p>hidden</p></template>
<svg><text>vector</text><svg><text>inner</text></svg></svg><iframe src="x">frame</iframe>
<h1>Big   news</h1><p>First <b>bold</b>
paragraph.</p><p>Second&nbsp;one &lt;tag&gt;</p>
<ul><li>one</li><li>two</li></ul>
<h2>Table</h2><table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>
<pre>  keep
   indent</pre><img alt="a chart"><script>document.write("<p>x</p>")</script>
</body></html>`
	text, meta, ct, err := extract(t, New(Options{}), "page.HTM", []byte(page))
	require.NoError(t, err)
	assert.Equal(t, TypeHTML, ct)
	assert.Equal(t, "Launch & notes", meta["title"])
	assert.Equal(t, "utf-8", meta["charset"])
	assert.Equal(t, "# Big news\n\nFirst bold paragraph.\n\nSecond one <tag>\n\n- one\n\n- two\n\n## Table\n\nA\tB\n1\t2\n\n  keep\n   indent\n\na chart", text)
	for _, hidden := range []string{"color", "alert", "enable js", "hidden", "vector", "inner", "frame", "document.write"} {
		assert.NotContains(t, text, hidden)
	}
}

func TestExtractHTMLCharset(t *testing.T) {
	t.Parallel()
	page := []byte("<html><head><meta charset=\"iso-8859-1\"></head><body><p>Caf\xE9 cr\xE8me</p></body></html>")
	text, meta, _, err := extract(t, New(Options{}), "p.html", page)
	require.NoError(t, err)
	assert.Equal(t, "Café crème", text)
	assert.Equal(t, "windows-1252", meta["charset"]) // WHATWG: iso-8859-1 means windows-1252
}

func utf16Bytes(s string, bigEndian bool) []byte {
	var b []byte
	if bigEndian {
		b = []byte{0xFE, 0xFF}
	} else {
		b = []byte{0xFF, 0xFE}
	}
	for _, r := range s {
		var units []uint16
		if r >= 0x10000 {
			r -= 0x10000
			units = []uint16{uint16(0xD800 + (r >> 10)), uint16(0xDC00 + (r & 0x3FF))}
		} else {
			units = []uint16{uint16(r)}
		}
		for _, u := range units {
			if bigEndian {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
	}
	return b
}

func TestExtractText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file string
		content    []byte
		want       string
		charset    string
		ct         string
	}{
		{"utf-8", "a.txt", []byte("héllo wörld\r\nsecond line\rthird  \n\n\n"), "héllo wörld\nsecond line\nthird", "utf-8", TypePlain},
		{"utf-8 BOM", "a.txt", []byte("\xEF\xBB\xBFhello"), "hello", "utf-8", TypePlain},
		{"utf-16le", "a.txt", utf16Bytes("Grüße 😀\r\nzwei", false), "Grüße 😀\nzwei", "utf-16le", TypePlain},
		{"utf-16be", "a.md", utf16Bytes("# Title\n\nbody", true), "# Title\n\nbody", "utf-16be", TypeMarkdown},
		{"latin-1", "a.txt", []byte("caf\xE9 na\xEFve \xA9 2024"), "café naïve © 2024", "iso-8859-1", TypePlain},
		{"windows-1252", "a.markdown", []byte("\x93quoted\x94 \x80 5"), "“quoted” € 5", "windows-1252", TypeMarkdown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			text, meta, ct, err := extract(t, New(Options{}), tt.file, tt.content)
			require.NoError(t, err)
			assert.Equal(t, tt.want, text)
			assert.Equal(t, tt.charset, meta["charset"])
			assert.Equal(t, tt.ct, ct)
		})
	}
	_, meta, _, err := extract(t, New(Options{}), "notes.md", []byte("# Release notes\n\ntext"))
	require.NoError(t, err)
	assert.Equal(t, "Release notes", meta["title"])
}

func TestExtractRefusesMismatchesAndExecutables(t *testing.T) {
	t.Parallel()
	elf := append([]byte("\x7fELF\x02\x01\x01\x00"), make([]byte, 64)...)
	pe := append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...)
	docx := sampleDOCX(t)
	pdf := samplePDF()
	tests := []struct {
		name, file string
		content    []byte
		code       core.Code
		msg        string
	}{
		{"ELF as .txt", "notes.txt", elf, core.EUNSUPPORTED, "ELF"},
		{"PE as .txt", "notes.txt", pe, core.EUNSUPPORTED, "Windows executable"},
		{"PE as .pdf", "notes.pdf", pe, core.EUNSUPPORTED, "Windows executable"},
		{"PE as .docx", "notes.docx", pe, core.EUNSUPPORTED, "Windows executable"},
		{"Mach-O as .md", "a.md", []byte{0xCF, 0xFA, 0xED, 0xFE, 7, 0, 0, 1}, core.EUNSUPPORTED, "Mach-O"},
		{"Java class as .html", "a.html", []byte{0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 52}, core.EUNSUPPORTED, "Java"},
		{"wasm as .txt", "a.txt", []byte("\x00asm\x01\x00\x00\x00"), core.EUNSUPPORTED, "WebAssembly"},
		{"shebang as .md", "run.md", []byte("#!/bin/sh\nrm -rf /\n"), core.EUNSUPPORTED, "script"},
		{"NUL bytes in .txt", "a.txt", []byte("hello\x00world"), core.EUNSUPPORTED, "content does not match .txt"},
		{"binary .txt", "a.txt", bytes.Repeat([]byte{1, 2, 3, 4, 0xE9}, 100), core.EUNSUPPORTED, "content does not match .txt"},
		{"bad UTF-16", "a.txt", []byte{0xFF, 0xFE, 0x00, 0xD8, 0x41, 0x00}, core.EUNSUPPORTED, "content does not match .txt"},
		{"PDF as .docx", "a.docx", pdf, core.EUNSUPPORTED, "content does not match .docx"},
		{"DOCX as .pdf", "a.pdf", docx, core.EUNSUPPORTED, "content does not match .pdf"},
		{"DOCX as .txt", "a.txt", docx, core.EUNSUPPORTED, "content does not match .txt"},
		{"PDF as .html", "a.html", pdf, core.EUNSUPPORTED, "content does not match .html"},
		{"binary .html", "a.html", []byte("<p>\x00\x01\x02</p>"), core.EUNSUPPORTED, "content does not match .html"},
		{"zip without document.xml", "a.docx", makeZip(t, zipEntry{"hello.txt", []byte("hi")}), core.EUNSUPPORTED, "content does not match .docx"},
		{"text as .docx", "a.docx", []byte("just text"), core.EUNSUPPORTED, "content does not match .docx"},
		{".exe", "setup.exe", pe, core.EUNSUPPORTED, ".txt, .md, .markdown, .html, .htm, .docx, .pdf"},
		{"no extension", "README", []byte("hello"), core.EUNSUPPORTED, "no extension"},
		{"empty .txt", "a.txt", nil, core.EINVALID, "the file is empty"},
		{"empty .pdf", "a.pdf", []byte{}, core.EINVALID, "the file is empty"},
		{"empty .docx", "a.docx", []byte{}, core.EINVALID, "the file is empty"},
		{"empty .html", "a.html", []byte{}, core.EINVALID, "the file is empty"},
		{"whitespace .txt", "a.txt", []byte(" \r\n\t \n"), core.EINVALID, "no text could be extracted"},
		{"markup-only .html", "a.html", []byte("<html><script>x()</script></html>"), core.EINVALID, "no text could be extracted"},
		{"empty .docx body", "a.docx", makeDOCX(t, "", "t", "a"), core.EINVALID, "no text could be extracted"},
		{"truncated PDF", "a.pdf", []byte("%PDF-1.7\n1 0 obj\n<< /Type /Catalog"), core.EINVALID, "the PDF could not be read"},
		{"encrypted PDF", "a.pdf", bytes.Replace(samplePDF(), []byte("/Info 4 0 R"), []byte("/Info 4 0 R /Encrypt << /Filter /Standard /V 2 >>"), 1), core.EINVALID, "encrypted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := extract(t, New(Options{}), tt.file, tt.content)
			requireCode(t, err, tt.code, tt.msg)
		})
	}
}

func TestExtractTextLimit(t *testing.T) {
	t.Parallel()
	x := New(Options{MaxTextBytes: 1000})
	long := strings.Repeat("word ", 400)
	for name, content := range map[string][]byte{
		"a.txt":  []byte(long),
		"a.html": []byte("<p>" + long + "</p>"),
		"a.docx": makeDOCX(t, docxParagraph(long, ""), "", ""),
		"a.pdf":  makePDF([][]string{{long}}, true, "", ""),
	} {
		_, _, _, err := extract(t, x, name, content)
		requireCode(t, err, core.ETOOLARGE, "exceeds the limit of 1000 bytes")
	}
}

// deflateRepeated returns a raw deflate stream of prefix, then chunk
// repeated n times, then suffix, and its CRC-32 and size: a stream of
// gigabytes built in milliseconds, since sync-flushed deflate blocks that
// only refer within themselves can be concatenated.
func deflateRepeated(t testing.TB, prefix, chunk, suffix []byte, n int) ([]byte, uint32, uint64) {
	t.Helper()
	piece := func(data []byte, final bool) []byte {
		var b bytes.Buffer
		fw, err := flate.NewWriter(&b, flate.BestCompression)
		require.NoError(t, err)
		_, err = fw.Write(data)
		require.NoError(t, err)
		if final {
			require.NoError(t, fw.Close())
		} else {
			require.NoError(t, fw.Flush())
		}
		return b.Bytes()
	}
	var out bytes.Buffer
	out.Write(piece(prefix, false))
	c := piece(chunk, false)
	for range n {
		out.Write(c)
	}
	out.Write(piece(suffix, true))
	crc := crc32.ChecksumIEEE(prefix)
	for range n {
		crc = crc32.Update(crc, crc32.IEEETable, chunk)
	}
	crc = crc32.Update(crc, crc32.IEEETable, suffix)
	return out.Bytes(), crc, uint64(len(prefix) + n*len(chunk) + len(suffix))
}

// zipBombs are .docx files whose document.xml inflates to 1 GiB from about
// a megabyte: one declaring its true size, one declaring 8 MiB.
func zipBombs(t testing.TB) (honest, lying []byte) {
	t.Helper()
	prefix := documentXML("<w:p><w:r><w:t>")
	prefix = prefix[:bytes.LastIndex(prefix, []byte("<w:p>"))+len("<w:p><w:r><w:t>")]
	data, crc, size := deflateRepeated(t, prefix, bytes.Repeat([]byte("a"), 1<<20), []byte("</w:t></w:r></w:p></w:body></w:document>"), 1024)
	return zipRaw(t, data, crc, size), zipRaw(t, data, crc, 8<<20)
}

func zipRaw(t testing.TB, data []byte, crc uint32, declaredSize uint64) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "word/document.xml", Method: zip.Deflate, CRC32: crc,
		CompressedSize64: uint64(len(data)), UncompressedSize64: declaredSize})
	require.NoError(t, err)
	_, err = w.Write(data)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// measure runs f and returns how long it took and how many bytes it
// allocated.
func measure(f func()) (time.Duration, uint64) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	f()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return elapsed, after.TotalAlloc - before.TotalAlloc
}

func TestExtractDOCXZipBomb(t *testing.T) {
	// Not parallel: it measures allocations.
	x := New(Options{})

	honest, lying := zipBombs(t)
	require.Less(t, len(honest), 2<<20, "the bomb is small on the wire")
	var err error
	elapsed, alloc := measure(func() { _, err = x.Extract(context.Background(), "bomb.docx", honest) })
	requireCode(t, err, core.ETOOLARGE, "expands past the limit")
	assert.Less(t, elapsed, 5*time.Second)
	assert.Less(t, alloc, uint64(16<<20), "refused on its declared size without inflating it")

	// A header that lies: 8 MiB declared, 1 GiB inside. Reading stops at
	// the declared size (archive/zip) or the part limit (ours), whichever
	// is smaller; either way the extractor never holds the gigabyte.
	elapsed, alloc = measure(func() { _, err = x.Extract(context.Background(), "bomb.docx", lying) })
	require.Error(t, err)
	assert.NotEqual(t, core.EINTERNAL, core.ErrorCode(err), "error: %v", err)
	assert.Less(t, elapsed, 10*time.Second)
	assert.Less(t, alloc, uint64(256<<20), "allocated %d bytes", alloc)

	// With a smaller part limit the same file is refused by the limit.
	small := New(Options{MaxPartBytes: 4 << 20})
	_, err = small.Extract(context.Background(), "bomb.docx", lying)
	requireCode(t, err, core.ETOOLARGE, "expands past the limit of 4 MiB")
	t.Logf("lying bomb: refused in %v after allocating %d MiB", elapsed, alloc>>20)
}

func TestLimitReader(t *testing.T) {
	t.Parallel()
	buf := make([]byte, 64)
	lr := &limitReader{r: bytes.NewReader(make([]byte, 100)), n: 100}
	n := 0
	for {
		m, err := lr.Read(buf)
		n += m
		if err != nil {
			require.ErrorIs(t, err, io.EOF)
			break
		}
	}
	assert.Equal(t, 100, n, "exactly the limit is fine")

	lr = &limitReader{r: bytes.NewReader(make([]byte, 101)), n: 100}
	var err error
	for err == nil {
		_, err = lr.Read(buf)
	}
	require.ErrorIs(t, err, errPartTooLarge)
}

func TestExtractDOCXHostileXML(t *testing.T) {
	t.Parallel()
	laughs := `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">` +
		`<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>` +
		`<w:document ` + wordNS + `><w:body><w:p><w:r><w:t>&lol3;</w:t></w:r></w:p></w:body></w:document>`
	external := `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` +
		`<w:document ` + wordNS + `><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>`
	deep := `<w:document ` + wordNS + `><w:body>` + strings.Repeat("<w:sdt>", 100_000) + strings.Repeat("</w:sdt>", 100_000) + `</w:body></w:document>`
	many := documentXML(strings.Repeat("<w:p/>", 20_000))
	tests := []struct {
		name string
		x    *Extractor
		zip  []byte
		code core.Code
		msg  string
	}{
		{"billion laughs", New(Options{}), makeZip(t, zipEntry{"word/document.xml", []byte(laughs)}), core.EINVALID, "DOCTYPE"},
		{"external entity", New(Options{}), makeZip(t, zipEntry{"word/document.xml", []byte(external)}), core.EINVALID, "DOCTYPE"},
		{"DOCTYPE in core.xml", New(Options{}), makeZip(t, zipEntry{"word/document.xml", documentXML(docxParagraph("hi", ""))},
			zipEntry{"docProps/core.xml", []byte(`<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`)}), core.EINVALID, "DOCTYPE"},
		{"deep nesting", New(Options{}), makeZip(t, zipEntry{"word/document.xml", []byte(deep)}), core.ETOOLARGE, "too deeply nested or too long"},
		{"too many tokens", New(Options{MaxXMLTokens: 10_000}), makeZip(t, zipEntry{"word/document.xml", many}), core.ETOOLARGE, "too deeply nested or too long"},
		{"malformed XML", New(Options{}), makeZip(t, zipEntry{"word/document.xml", []byte(`<w:document ` + wordNS + `><w:body><w:p>`)}), core.EINVALID, "could not be read"},
		{"mismatched tags", New(Options{}), makeZip(t, zipEntry{"word/document.xml", []byte(`<a><b></a></b>`)}), core.EINVALID, "could not be read"},
		{"too many entries", New(Options{MaxZipEntries: 10}), func() []byte {
			var e []zipEntry
			for i := range 11 {
				e = append(e, zipEntry{fmt.Sprintf("f%d", i), nil})
			}
			return makeZip(t, append(e, zipEntry{"word/document.xml", documentXML(docxParagraph("hi", ""))})...)
		}(), core.ETOOLARGE, "more than 10 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, _, err := extract(t, tt.x, "h.docx", tt.zip)
			requireCode(t, err, tt.code, tt.msg)
		})
	}
}

func TestExtractPDFHostile(t *testing.T) {
	t.Parallel()
	sample := samplePDF()
	bombStream, _, _ := deflateRepeated(t, []byte("BT /F1 12 Tf ("), bytes.Repeat([]byte(" "), 1<<20), []byte(") Tj ET"), 512)
	bomb := pdfWithPage("", "<< >>")
	bomb = bytes.Replace(bomb, []byte("4 0 R"), []byte("6 0 R"), 1)
	bomb = append(bomb[:len(bomb)-len("%%EOF\n")], []byte(fmt.Sprintf("6 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n\x78\x9c%s\nendstream\nendobj\n%%%%EOF\n", len(bombStream)+2, bombStream))...)

	cyclic := buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [2 0 R 3 0 R 2 0 R] /Count 99 /Resources << /Font << /F1 5 0 R >> >> >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>"},
		{dict: "<< >>", stream: []byte("BT /F1 12 Tf (only once) Tj ET")},
		{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Self 5 0 R /Loop 6 0 R >>"},
		{dict: "6 0 R"},
	}, "/Prev 0 /Info 6 0 R ")

	deepArrays := pdfWithPage("BT /F1 12 Tf (shallow) Tj ET BT "+strings.Repeat("[", 200_000)+" (deep) Tj ET", "<< >>",
		pdfObject{dict: "<< /Deep " + strings.Repeat("[", 200_000) + " >>"})

	garbageXref := bytes.Replace(sample, []byte("startxref\n"), []byte("startxref\n99999999"), 1)

	tests := []struct {
		name    string
		x       *Extractor
		pdf     []byte
		code    core.Code
		msg     string
		wantTxt string
	}{
		{"flate bomb", New(Options{}), bomb, core.ETOOLARGE, "expands past the limit", ""},
		{"page and reference cycles", New(Options{}), cyclic, "", "", "only once"},
		{"deep nesting", New(Options{}), deepArrays, "", "", "shallow"},
		{"broken xref", New(Options{}), garbageXref, "", "", "Quarterly report"},
		{"page cap", New(Options{MaxPDFPages: 1}), sample, core.ETOOLARGE, "more than 1 pages", ""},
		{"operator cap", New(Options{MaxPDFOperators: 3}), sample, core.ETOOLARGE, "too complex", ""},
		{"object cap", New(Options{MaxPDFObjects: 3}), sample, core.ETOOLARGE, "too complex", ""},
		{"not a PDF", New(Options{}), []byte("%PDX-1.4 hello"), core.EUNSUPPORTED, "content does not match .pdf", ""},
		{"header only", New(Options{}), []byte("%PDF-1.4\n%%EOF"), core.EINVALID, "the PDF could not be read", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			done := make(chan struct{})
			var text string
			var err error
			go func() {
				defer close(done)
				text, _, _, err = extract(t, tt.x, "h.pdf", tt.pdf)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("extraction did not finish")
			}
			if tt.code == "" {
				require.NoError(t, err)
				assert.Contains(t, text, tt.wantTxt)
				assert.Equal(t, 1, strings.Count(text, tt.wantTxt))
				return
			}
			requireCode(t, err, tt.code, tt.msg)
		})
	}
}

func TestExtractCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := New(Options{}).Extract(ctx, "a.pdf", samplePDF())
	require.ErrorIs(t, err, context.Canceled)
}

func TestExtractConcurrent(t *testing.T) {
	t.Parallel()
	x := New(Options{})
	files := map[string][]byte{
		"a.docx": sampleDOCX(t),
		"a.pdf":  samplePDF(),
		"a.html": []byte("<h1>Hi</h1><p>there</p>"),
		"a.txt":  utf16Bytes("hello", false),
	}
	done := make(chan error)
	for range 8 {
		for name, content := range files {
			go func() {
				_, err := x.Extract(context.Background(), name, content)
				done <- err
			}()
		}
	}
	for range 8 * len(files) {
		require.NoError(t, <-done)
	}
}

func BenchmarkExtractDOCX(b *testing.B) {
	var body strings.Builder
	for i, p := range bigText(1 << 20) {
		if i%20 == 0 {
			body.WriteString(docxParagraph(fmt.Sprintf("Section %d", i/20), "Heading2"))
		}
		body.WriteString(docxParagraph(p, ""))
		if i%50 == 0 {
			body.WriteString(docxTable([][]string{{"a", "b", "c"}, {"1", "2", "3"}}))
		}
	}
	doc := makeDOCX(b, body.String(), "Bench", "Bench")
	x := New(Options{})
	out, err := x.Extract(context.Background(), "bench.docx", doc)
	if err != nil {
		b.Fatal(err)
	}
	// Throughput in extracted text; the file itself is far smaller.
	b.SetBytes(int64(len(out.Text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Extract(context.Background(), "bench.docx", doc); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(doc)), "file-bytes")
}

func BenchmarkExtractPDF(b *testing.B) {
	paras := bigText(1 << 20)
	var pages [][]string
	for i := 0; i < len(paras); i += 6 {
		var lines []string
		for _, p := range paras[i:min(i+6, len(paras))] {
			for len(p) > 80 {
				cut := strings.LastIndexByte(p[:80], ' ')
				lines = append(lines, p[:cut])
				p = p[cut+1:]
			}
			lines = append(lines, p)
		}
		pages = append(pages, lines)
	}
	pdf := makePDF(pages, true, "Bench", "Bench")
	x := New(Options{})
	out, err := x.Extract(context.Background(), "bench.pdf", pdf)
	if err != nil {
		b.Fatal(err)
	}
	// Throughput in extracted text; the file itself is far smaller.
	b.SetBytes(int64(len(out.Text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := x.Extract(context.Background(), "bench.pdf", pdf); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(pdf)), "file-bytes")
}

func TestModule(t *testing.T) {
	t.Parallel()
	var te ports.TextExtractor
	app := fxtest.New(t, Module, fx.Populate(&te))
	app.RequireStart().RequireStop()
	require.IsType(t, &Extractor{}, te)
}

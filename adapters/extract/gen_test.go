package extract

// Generators for the files the tests and fuzz targets read. Nothing binary
// is checked in: every .docx and .pdf is built here, byte by byte.

import (
	"archive/zip"
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"testing"
)

type zipEntry struct {
	name string
	body []byte
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const wordNS = `xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"`

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func docxParagraph(text, style string) string {
	ppr := ""
	if style != "" {
		ppr = `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return `<w:p>` + ppr + `<w:r><w:t xml:space="preserve">` + xmlEscape(text) + `</w:t></w:r></w:p>`
}

func docxTable(rows [][]string) string {
	var b strings.Builder
	b.WriteString(`<w:tbl><w:tblPr/>`)
	for _, row := range rows {
		b.WriteString(`<w:tr>`)
		for _, cell := range row {
			b.WriteString(`<w:tc><w:tcPr/>` + docxParagraph(cell, "") + `</w:tc>`)
		}
		b.WriteString(`</w:tr>`)
	}
	b.WriteString(`</w:tbl>`)
	return b.String()
}

func documentXML(body string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<w:document ` + wordNS + `><w:body>` + body + `</w:body></w:document>`)
}

func coreXML(title, author string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` +
		`<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" ` +
		`xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>` + xmlEscape(title) + `</dc:title>` +
		`<dc:creator>` + xmlEscape(author) + `</dc:creator></cp:coreProperties>`)
}

// makeDOCX builds a minimal but complete WordprocessingML package.
func makeDOCX(t testing.TB, body, title, author string) []byte {
	t.Helper()
	return makeZip(t,
		zipEntry{"[Content_Types].xml", []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`)},
		zipEntry{"_rels/.rels", []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>`)},
		zipEntry{"word/document.xml", documentXML(body)},
		zipEntry{"docProps/core.xml", coreXML(title, author)},
	)
}

// sampleDOCX is a heading, two paragraphs and a table.
func sampleDOCX(t testing.TB) []byte {
	body := docxParagraph("Quarterly report", "Heading1") +
		docxParagraph("Revenue grew in every region.", "") +
		docxParagraph("Costs & margins are below.", "") +
		docxTable([][]string{{"Region", "Revenue"}, {"North", "120"}, {"South", "95"}})
	return makeDOCX(t, body, "Q3 Report", "Ada Lovelace")
}

// pdfObject is one indirect object's body; a stream's data goes in stream.
type pdfObject struct {
	dict   string
	stream []byte
}

// buildPDF lays out objects 1..n with a correct cross-reference table.
// Object 1 must be the catalog.
func buildPDF(objs []pdfObject, trailerExtra string) []byte {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n%\xE2\xE3\xCF\xD3\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i+1)
		if o.stream != nil {
			fmt.Fprintf(&b, "%s\nstream\n", strings.Replace(o.dict, "<<", fmt.Sprintf("<< /Length %d", len(o.stream)), 1))
			b.Write(o.stream)
			b.WriteString("\nendstream")
		} else {
			b.WriteString(o.dict)
		}
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, trailerExtra, xref)
	return b.Bytes()
}

func deflate(data []byte) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		panic(err) // writes to a bytes.Buffer do not fail
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// pdfEscape writes s as a PDF literal string.
func pdfEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `(`, `\(`, `)`, `\)`)
	return "(" + r.Replace(s) + ")"
}

// textPageContent sets lines of text top to bottom in Helvetica.
func textPageContent(lines []string) []byte {
	var b strings.Builder
	b.WriteString("BT\n/F1 12 Tf\n72 720 Td\n14 TL\n")
	for i, l := range lines {
		if i > 0 {
			b.WriteString("T*\n")
		}
		b.WriteString(pdfEscape(l) + " Tj\n")
	}
	b.WriteString("ET\n")
	return []byte(b.String())
}

// makePDF builds a PDF with one page per entry of pages (each a list of
// lines), Helvetica with WinAnsiEncoding, content streams optionally
// Flate-compressed, and an information dictionary.
func makePDF(pages [][]string, compress bool, title, author string) []byte {
	objs := []pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{}, // page tree, filled below
		{dict: "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"},
		{dict: fmt.Sprintf("<< /Title %s /Author %s /Producer (extract tests) >>", pdfEscape(title), pdfEscape(author))},
	}
	var kids []string
	for _, lines := range pages {
		content := textPageContent(lines)
		dict := "<< >>"
		if compress {
			content = deflate(content)
			dict = "<< /Filter /FlateDecode >>"
		}
		objs = append(objs, pdfObject{dict: dict, stream: content})
		contentNum := len(objs)
		objs = append(objs, pdfObject{dict: fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>", contentNum)})
		kids = append(kids, fmt.Sprintf("%d 0 R", len(objs)))
	}
	objs[1] = pdfObject{dict: fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /Resources << /Font << /F1 3 0 R >> >> >>", strings.Join(kids, " "), len(kids))}
	return buildPDF(objs, "/Info 4 0 R ")
}

func samplePDF() []byte {
	return makePDF([][]string{
		{"Quarterly report", "Revenue grew in every region (all of them)."},
		{"Second page: caf\xE9 prices \x80 5"},
	}, true, "Q3 Report", "Ada Lovelace")
}

// noTextPDF draws a rectangle and an image, and sets no text: what a scan
// looks like to a text extractor.
func noTextPDF() []byte {
	content := []byte("q 0.5 g 72 72 200 100 re f Q\nq 100 0 0 100 300 300 cm /Im1 Do Q\n")
	img := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	return buildPDF([]pdfObject{
		{dict: "<< /Type /Catalog /Pages 2 0 R >>"},
		{dict: "<< /Type /Pages /Kids [3 0 R] /Count 1 >>"},
		{dict: "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /XObject << /Im1 5 0 R >> >> >>"},
		{dict: "<< >>", stream: content},
		{dict: "<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode >>", stream: img},
	}, "")
}

// bigText is about n bytes of varied prose, in paragraphs of ~400 bytes.
func bigText(n int) []string {
	words := strings.Fields("the quick brown fox jumps over a lazy dog while seven wise owls debate quarterly revenue figures in distant northern regions")
	var paras []string
	var b strings.Builder
	total := 0
	for i := 0; total < n; i++ {
		b.WriteString(words[(i*7+i/13)%len(words)])
		b.WriteByte(' ')
		if b.Len() > 400 {
			paras = append(paras, strings.TrimSpace(b.String()))
			total += b.Len()
			b.Reset()
		}
	}
	return paras
}

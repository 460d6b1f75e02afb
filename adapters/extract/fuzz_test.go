package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/repurpose/repurpose/core"
)

// fuzzExtractor has small limits, so the fuzzer reaches them, and lets
// panics through, so the fuzzer sees them.
func fuzzExtractor() *Extractor {
	x := New(Options{
		MaxTextBytes:         64 << 10,
		MaxPartBytes:         1 << 20,
		MaxDecompressedBytes: 4 << 20,
		MaxXMLTokens:         100_000,
		MaxPDFPages:          50,
		MaxPDFObjects:        10_000,
		MaxPDFOperators:      200_000,
	})
	x.propagatePanics = true
	return x
}

// checkExtract is the property every extractor keeps: no panic, text or a
// coded error, never more text than the limit, and clean output.
func checkExtract(t *testing.T, x *Extractor, name string, data []byte) {
	out, err := x.Extract(context.Background(), name, data)
	if err != nil {
		if core.ErrorCode(err) == core.EINTERNAL {
			t.Fatalf("uncoded error: %v", err)
		}
		if out.Text != "" {
			t.Fatalf("text returned with an error")
		}
		return
	}
	if len(out.Text) > x.opts.MaxTextBytes {
		t.Fatalf("text of %d bytes over the limit of %d", len(out.Text), x.opts.MaxTextBytes)
	}
	if strings.TrimSpace(out.Text) == "" {
		t.Fatalf("success with no text")
	}
	if !utf8.ValidString(out.Text) {
		t.Fatalf("invalid UTF-8 in text")
	}
	if strings.ContainsRune(out.Text, 0) {
		t.Fatalf("NUL in text")
	}
	if _, err := json.Marshal(out.Metadata); err != nil {
		t.Fatalf("metadata is not JSON-safe: %v", err)
	}
}

func FuzzExtractTXT(f *testing.F) {
	for _, seed := range [][]byte{
		[]byte("hello world\r\nsecond"),
		[]byte("\xEF\xBB\xBF# Title\n\ntext"),
		utf16Bytes("Grüße 😀", false),
		utf16Bytes("# Title", true),
		[]byte("caf\xE9 \x93q\x94"),
		[]byte("\x7fELF\x02\x01"),
		[]byte("#!/bin/sh"),
		[]byte("a\x00b"),
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	x := fuzzExtractor()
	f.Fuzz(func(t *testing.T, data []byte, markdown bool) {
		name := "f.txt"
		if markdown {
			name = "f.md"
		}
		checkExtract(t, x, name, data)
	})
}

func FuzzExtractHTML(f *testing.F) {
	for _, seed := range []string{
		"<html><head><title>T</title><style>a{}</style></head><body><h1>H</h1><p>p <b>b</b></p><ul><li>x</li></ul></body></html>",
		"<table><tr><td>a</td><td>b</td></tr></table><pre> x\n y</pre>",
		"<script>if (a < b) {}</script><svg><svg></svg></svg><template><p>t</p></template>text",
		"<meta charset=\"shift_jis\"><p>\x82\xa0</p>",
		"<p>&amp;&lt;&#x1F600;&nbsp;</p><img alt=\"alt text\">",
	} {
		f.Add([]byte(seed))
	}
	x := fuzzExtractor()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, x, "f.html", data)
	})
}

// FuzzExtractDOCX fuzzes whole files and, when wrap is set, the XML of
// word/document.xml inside a valid archive (random bytes rarely survive
// zip's checksums, so this is where the XML walker gets fuzzed).
func FuzzExtractDOCX(f *testing.F) {
	f.Add(sampleDOCX(f), false)
	f.Add(makeDOCX(f, docxTable([][]string{{"a", "b"}}), "t", "a"), false)
	f.Add(documentXML(docxParagraph("Heading", "Heading1")+docxParagraph("body", "")+docxTable([][]string{{"a", "b"}, {"c", "d"}})), true)
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY a "b">]><w:document `+wordNS+`><w:body><w:p><w:r><w:t>&a;</w:t></w:r></w:p></w:body></w:document>`), true)
	f.Add([]byte(`<w:document `+wordNS+`><w:body><mc:AlternateContent><mc:Fallback><w:p><w:r><w:t>x</w:t></w:r></w:p></mc:Fallback></mc:AlternateContent></w:body></w:document>`), true)
	x := fuzzExtractor()
	f.Fuzz(func(t *testing.T, data []byte, wrap bool) {
		if wrap {
			var buf bytes.Buffer
			zw := zip.NewWriter(&buf)
			w, err := zw.CreateHeader(&zip.FileHeader{Name: "word/document.xml", Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			data = buf.Bytes()
		}
		checkExtract(t, x, "f.docx", data)
	})
}

func FuzzExtractPDF(f *testing.F) {
	f.Add(samplePDF())
	f.Add(makePDF([][]string{{"plain (text)", "line two"}, {"page two"}}, false, "T", "A"))
	f.Add(noTextPDF())
	f.Add(pdfWithPage("BT /F1 12 Tf <00010002> Tj [(a) -300 (b)] TJ 0 -14 Td (c) ' ET /Fm1 Do BI /W 1 ID x EI", "<< /Font << /F1 5 0 R >> /XObject << /Fm1 6 0 R >> >>",
		pdfObject{dict: "<< /Type /Font /Subtype /Type0 /Encoding /Identity-H /ToUnicode 7 0 R >>"},
		pdfObject{dict: "<< /Subtype /Form /Resources << /Font << /F1 5 0 R >> >> >>", stream: []byte("BT /F1 1 Tf <0001> Tj ET")},
		pdfObject{dict: "<< >>", stream: []byte("1 begincodespacerange <0000> <FFFF> endcodespacerange 1 beginbfchar <0001> <0041> endbfchar 1 beginbfrange <0002> <0005> <0061> endbfrange")},
	))
	f.Add(pdfWithPage("BT /F1 12 Tf (ABC) Tj ET", "<< /Font << /F1 5 0 R >> >>",
		pdfObject{dict: "<< /Type /Font /Subtype /TrueType /Encoding << /Differences [65 /eacute /f_i /uni00DF] >> >>"}))
	x := fuzzExtractor()
	f.Fuzz(func(t *testing.T, data []byte) {
		checkExtract(t, x, "f.pdf", data)
	})
}

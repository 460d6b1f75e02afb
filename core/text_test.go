package core

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestSanitizeFilename(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200) + ".docx"
	tests := []struct{ in, want string }{
		{"report.pdf", "report.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\ada\My Report.docx`, "My Report.docx"},
		{"C:evil.txt", "evil.txt"},
		{"/abs/path/..", "document"},
		{"..", "document"},
		{"", "document"},
		{"   ", "document"},
		{".htaccess", "document.htaccess"},
		{"...hidden.txt", "hidden.txt"},
		{".pdf", "document.pdf"},
		{"a\x00b\x07c.txt", "abc.txt"},
		{"invoice\u202Efdp.exe", "invoicefdp.exe"},
		{"zero\u200Bwidth.md", "zerowidth.md"},
		{"  lots \t of\n\nspace  .txt", "lots of space .txt"},
		{"what?<>|*:\".txt", "what_______.txt"},
		{"CON.txt", "_CON.txt"},
		{"trailing dots...", "trailing dots"},
		{"e\u0301te\u0301.txt", "été.txt"},
		{"bad\xffutf8.txt", "badutf8.txt"},
		{strings.Repeat("a", 300) + ".pdf", strings.Repeat("a", 251) + ".pdf"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, SanitizeFilename(tt.in), "input %q", tt.in)
	}
	got := SanitizeFilename(long)
	assert.LessOrEqual(t, len(got), 255)
	assert.True(t, strings.HasSuffix(got, ".docx"))
	assert.True(t, strings.HasPrefix(got, "éé"))
}

func TestWordCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"   \n\t", 0},
		{"Hello, world!", 2},
		{"don't stop — it's well-known", 4},
		{"3.14 is π", 3},
		{"naïve café", 2},
		{"e\u0301te\u0301 x", 2},
		{"日本語のテキスト", 8},
		{"Привет мир", 2},
		{"-- ... !!", 0},
		{"one\ntwo\tthree", 3},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, WordCount(tt.in), "input %q", tt.in)
	}
}

func FuzzSanitizeFilename(f *testing.F) {
	for _, seed := range []string{
		"report.pdf", "../../etc/passwd", `C:\Users\a\b.docx`, ".htaccess", "invoice\u202Efdp.exe",
		"a\x00b", "CON.txt", strings.Repeat("é", 300) + ".pdf", "  . . ", "\xff\xfe",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := SanitizeFilename(name)
		switch {
		case got == "":
			t.Fatal("empty name")
		case len(got) > maxFilenameBytes:
			t.Fatalf("%d bytes", len(got))
		case !utf8.ValidString(got):
			t.Fatalf("invalid UTF-8: %q", got)
		case strings.ContainsAny(got, "/\\\x00"):
			t.Fatalf("path characters in %q", got)
		case strings.HasPrefix(got, "."):
			t.Fatalf("leading dot in %q", got)
		case got != strings.TrimSpace(got):
			t.Fatalf("surrounding space in %q", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7F || isBidiOrInvisible(r) {
				t.Fatalf("control or invisible %U in %q", r, got)
			}
		}
		if again := SanitizeFilename(got); again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q", name, got, again)
		}
		if n := WordCount(name); n < 0 || n > len(name) {
			t.Fatalf("word count %d for %d bytes", n, len(name))
		}
	})
}
